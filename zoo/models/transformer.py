"""A small GPT over characters, and its cache: generating a character costs one new position, not a window.

``CharTransformer._next`` is ``_logits`` for one position written out with functional ops; generating is bound
by per-op overhead on a CPU, and the tests hold the two to the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import assert_dim
from .registry import architecture
from .text import TextModel


class KVCache:
    """What a transformer keeps between calls of ``run``: every layer's keys and values and the characters
    of the positions seen so far, in buffers allocated once for the whole window (no copy per character)."""

    def __init__(self, n_layer: int, batch: int, n_head: int, block_size: int, head_dim: int, like: Tensor) -> None:
        shape = (n_layer, batch, n_head, block_size, head_dim)
        self.keys = torch.zeros(shape, dtype=like.dtype, device=like.device)
        self.values = torch.zeros(shape, dtype=like.dtype, device=like.device)
        self.tokens = torch.zeros(batch, block_size, dtype=torch.long, device=like.device)
        self.length = 0
        self.plan: list[tuple[Tensor, ...]] | None = None  # the model's tensors, gathered once for generation
        self.slots: list[list[tuple[Tensor, ...]]] = []  # per position, per block: the cache views it uses


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where a position sees only itself and earlier ones. With a ``KVCache`` the
    new positions' keys and values are written after the cached ones and the queries attend to all of them."""

    def __init__(self, n_embd: int, n_head: int, drop_prob: float) -> None:
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
        self.n_head, self.drop_prob = n_head, drop_prob
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in self.qkv(x).split(C, 2))
        mask, causal = None, True
        if cache is not None and cache.length:
            start, end = cache.length, cache.length + T
            cache.keys[layer, :, :, start:end], cache.values[layer, :, :, start:end] = k, v
            k, v = cache.keys[layer, :, :, :end], cache.values[layer, :, :, :end]
            causal = False  # the queries are the last T of the keys: an offset causal mask, none for one query
            if T > 1:
                mask = torch.arange(end, device=x.device) <= torch.arange(start, end, device=x.device)[:, None]
        elif cache is not None:
            cache.keys[layer, :, :, :T], cache.values[layer, :, :, :T] = k, v
        p = self.drop_prob if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class TransformerBlock(nn.Module):
    """Pre-norm: x + attention(norm(x)), then x + MLP(norm(x)) (GPT-2's layout and its tanh GELU)."""

    def __init__(self, n_embd: int, n_head: int, drop_prob: float) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, drop_prob)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.GELU(approximate="tanh"),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(drop_prob),
        )
        self.drop = nn.Dropout(drop_prob)

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        x = x + self.drop(self.attn(self.ln1(x), cache, layer))
        return x + self.mlp(self.ln2(x))


@architecture
class CharTransformer(TextModel):
    """A decoder-only transformer over characters (nanoGPT's ``shakespeare_char`` kind): learned positions,
    pre-norm blocks of causal self-attention, optionally the embedding reused as the output layer.

    ``run`` carries a ``KVCache`` as its state, so generating a character costs one position, not a whole
    window. Positions are learned up to ``block_size``: when the cache is full it keeps the last half window,
    recomputed at positions 0.., and goes on (every prediction sees >= ``block_size // 2`` characters of
    context once that many exist)."""

    task = "text"

    def __init__(
        self,
        vocab_size: int,
        n_layer: int = 4,
        n_head: int = 4,
        n_embd: int = 256,
        block_size: int = 256,
        drop_prob: float = 0.0,
        tie_weights: bool = True,
        vocab: str = "",
    ) -> None:
        super().__init__()
        self._set_vocab(vocab, vocab_size)
        self.block_size = block_size
        self.n_layer, self.n_head, self.n_embd = n_layer, n_head, n_embd
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(drop_prob)
        self.blocks = nn.ModuleList(TransformerBlock(n_embd, n_head, drop_prob) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = None if tie_weights else nn.Linear(n_embd, vocab_size, bias=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: residual projections scaled down with depth
            if name.endswith(("attn.proj.weight", "mlp.2.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def _logits(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        start = cache.length if cache is not None else 0
        end = start + idx.shape[1]
        if end > self.block_size:
            raise ValueError(f"{end} positions; this model has {self.block_size}")
        x = self.drop(self.tok(idx) + self.pos.weight[start:end])
        for layer, block in enumerate(self.blocks):
            x = block(x, cache, layer)
        if cache is not None:
            cache.tokens[:, start:end] = idx
            cache.length = end
        x = self.ln_f(x)
        return F.linear(x, self.tok.weight) if self.head is None else self.head(x)

    def _plan(self, cache: KVCache) -> tuple[list[tuple[Tensor, ...]], list[list[tuple[Tensor, ...]]]]:
        """What ``_next`` reads, gathered once per cache instead of for every character: each block's tensors,
        weights transposed (x @ W^T as one row-major product, 2-3x faster for one row than the transposed
        view) and the queries' part pre-scaled by 1/sqrt(head size); and, for every position p, the views of the
        cache that position writes and reads in each block (its key and value slots, keys^T and values up to p):
        on a CPU each view costs 1-2 us, about half a small product."""
        N, H, B, D = cache.keys.shape[1:]
        scale = torch.ones(3 * self.n_embd)
        scale[: self.n_embd] = 1 / math.sqrt(D)
        plan = []
        for b in self.blocks:
            fc, out = b.mlp[0], b.mlp[2]
            qkv_w = b.attn.qkv.weight.t().contiguous().mul_(scale)
            proj_w, fc_w, out_w = (w.t().contiguous() for w in (b.attn.proj.weight, fc.weight, out.weight))
            plan.append(
                (b.ln1.weight, b.ln1.bias, qkv_w, b.attn.qkv.bias * scale, proj_w, b.attn.proj.bias)
                + (b.ln2.weight, b.ln2.bias, fc_w, fc.bias, out_w, out.bias)
            )
        keys, values = cache.keys.view(-1, N * H, B, D), cache.values.view(-1, N * H, B, D)
        slots = [
            [
                (k.select(1, p), v.select(1, p), k[:, : p + 1].transpose(1, 2), v[:, : p + 1])
                for k, v in zip(keys, values, strict=True)
            ]
            for p in range(B)
        ]
        return plan, slots

    def _next(self, idx: Tensor, cache: KVCache) -> Tensor:
        """The logits (N, V) for one new position (``idx`` (N, 1)): ``_logits`` written out with functional ops
        on the tensors and views ``_plan`` gathered. Generating is bound by per-op overhead, and this does in ~15
        ops per block what the modules do in ~60 (the same model; the tests compare the two)."""
        if cache.plan is None:
            cache.plan, cache.slots = self._plan(cache)
        N, C, H, pos = len(idx), self.n_embd, self.n_head, cache.length
        x = self.tok.weight.index_select(0, idx.view(N)).add_(self.pos.weight[pos])
        for weights, slots in zip(cache.plan, cache.slots[pos], strict=True):
            w1, b1, qkv_w, qkv_b, proj_w, proj_b, w2, b2, fc_w, fc_b, out_w, out_b = weights
            k_slot, v_slot, keys_t, values = slots
            q, k, v = torch.addmm(qkv_b, F.layer_norm(x, (C,), w1, b1), qkv_w).view(N, 3, H, C // H).unbind(1)
            k_slot.copy_(k.reshape(N * H, -1))
            v_slot.copy_(v.reshape(N * H, -1))
            attention = torch.bmm(q.reshape(N * H, 1, -1), keys_t).softmax(-1)  # (N * H, 1, pos + 1)
            x = torch.addmm(x, torch.bmm(attention, values).view(N, C), proj_w).add_(proj_b)
            h = F.gelu(torch.addmm(fc_b, F.layer_norm(x, (C,), w2, b2), fc_w), approximate="tanh")
            x = torch.addmm(x, h, out_w).add_(out_b)
        cache.tokens.narrow(1, pos, 1).copy_(idx)
        cache.length = pos + 1
        x = F.layer_norm(x, (C,), self.ln_f.weight, self.ln_f.bias)
        return F.linear(x, self.tok.weight) if self.head is None else self.head(x)

    def _one_more(self, idx: Tensor, cache: KVCache | None) -> bool:
        """Can ``_next`` take ``idx``: one position per row, a cache with room, no gradients wanted."""
        return (
            idx.shape[1] == 1
            and cache is not None
            and 0 < cache.length < self.block_size
            and not torch.is_grad_enabled()
        )

    def step(self, idx: Tensor, state: Any) -> tuple[Tensor, Any]:
        if self._one_more(idx, state):
            return self._next(idx, state), state
        return super().step(idx, state)

    def forward(self, idx: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Logits shaped (N, V, T) for ``CrossEntropyLoss`` (like the recurrent models), and the state."""
        assert_dim(idx, 2, name="character indices")
        if state is None and idx.shape[1] <= self.block_size:  # training: one window, nothing to keep
            return self._logits(idx).permute(0, 2, 1), None
        logits, state = self.run(idx, state)
        return logits.permute(0, 2, 1), state

    def run(self, idx: Tensor, state: KVCache | None = None) -> tuple[Tensor, KVCache]:
        cache = state
        if cache is None:
            head_dim = self.n_embd // self.n_head
            cache = KVCache(self.n_layer, len(idx), self.n_head, self.block_size, head_dim, self.pos.weight)
        if self._one_more(idx, cache):
            return self._next(idx, cache)[:, None], cache
        out = []
        while idx.shape[1]:
            if cache.length >= self.block_size:  # full: keep the last half window, at positions from 0
                kept = cache.tokens[:, -(self.block_size // 2) :].clone()
                cache.length = 0
                self._logits(kept, cache)
            room = self.block_size - cache.length
            out.append(self._logits(idx[:, :room], cache))
            idx = idx[:, room:]
        return (out[0] if len(out) == 1 else torch.cat(out, 1)), cache
