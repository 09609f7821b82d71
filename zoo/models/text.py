"""Character-level text models: what they share (the vocabulary kept in ``config.json``, one-character-at-a-time
generation and its sampler), the book's LSTM and a recurrent network built from torch's own cells.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import PyTorchModel
from .layers import LSTMLayer, assert_dim
from .registry import architecture


class TextModel(PyTorchModel):
    """Shared text helpers: the vocabulary (sorted, saved in config.json) and sampling."""

    vocab: str
    vocab_size: int

    def _set_vocab(self, vocab: str, vocab_size: int) -> None:
        """Keep the vocabulary (its characters in index order), refusing one that disagrees with the size."""
        if vocab and len(vocab) != vocab_size:
            raise ValueError(f"vocab has {len(vocab)} characters but vocab_size is {vocab_size}")
        self.vocab, self.vocab_size = vocab, vocab_size

    def encode(self, text: str) -> tuple[Tensor, str]:
        """Characters -> indices; returns the indices and the characters skipped as out-of-vocabulary."""
        index = {ch: i for i, ch in enumerate(self.vocab)}
        known = [index[c] for c in text if c in index]
        skipped = "".join(sorted({c for c in text if c not in index}))
        return torch.tensor(known, dtype=torch.long), skipped

    def decode(self, indices: list[int] | Tensor) -> str:
        return "".join(self.vocab[int(i)] for i in indices)

    def run(self, idx: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Logits (N, T, V) for character indices (N, T), continuing from ``state``; and the new state."""
        raise NotImplementedError

    def step(self, idx: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Logits (N, V) for the last position of ``idx`` (N, T), and the recurrent state after it."""
        logits, state = self.run(idx, state)
        return logits[:, -1], state

    @torch.inference_mode()
    def generate(
        self,
        prompt: str = "",
        length: int = 200,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ):
        """Yield generated characters one by one; temperature 0 is greedy decoding."""
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        pick = CharSampler(self.vocab_size, temperature, top_k, seed)
        device = next(self.parameters()).device
        idx, _ = self.encode(prompt)
        if idx.numel() == 0:
            # no usable prompt: start after a line break, the corpus' natural boundary
            idx = torch.tensor([self.vocab.index("\n") if "\n" in self.vocab else 0])
        logits, state = self.step(idx.view(1, -1).to(device), None)
        nxt_idx = torch.zeros(1, 1, dtype=torch.long, device=device)
        for _ in range(length):
            nxt = pick(logits[0])
            yield self.vocab[nxt]
            logits, state = self.step(nxt_idx.fill_(nxt), state)


class CharSampler:
    """The next character from a row of logits: the likeliest at temperature 0, else a draw from
    softmax(logits / temperature), among the ``top_k`` likeliest when given.

    The draw is the Gumbel-max trick: argmax(logits / T + g) with g = -log E, E ~ Exp(1), is distributed as
    softmax(logits / T). The noise comes 256 characters at a time, so a character costs three small ops where
    ``multinomial`` takes ten: generating one character at a time is bound by per-op overhead."""

    CHUNK = 256

    def __init__(self, vocab_size: int, temperature: float = 1.0, top_k: int | None = None, seed: int | None = None):
        if not (0 <= temperature <= 10) or math.isnan(temperature):
            raise ValueError(f"temperature must be between 0 and 10, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        self.vocab_size, self.temperature = vocab_size, temperature
        self.top_k = top_k if top_k is not None and top_k < vocab_size else None
        self.gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.noise, self.used = torch.empty(0, vocab_size), 0

    def __call__(self, logits: Tensor) -> int:
        """``logits`` (vocab_size,) -> the chosen index."""
        if logits.dtype != torch.float32 or logits.device.type != "cpu":
            logits = logits.float().cpu()
        if self.temperature == 0:
            return int(logits.argmax())
        if self.used == len(self.noise):
            exp = torch.empty(self.CHUNK, self.vocab_size).exponential_(generator=self.gen)
            self.noise = exp.clamp_min_(torch.finfo(torch.float32).tiny).log_().neg_()  # E = 0 would pick blindly
            self.used = 0
        scores = torch.add(self.noise[self.used], logits, alpha=1 / self.temperature)
        self.used += 1
        if self.top_k is not None:
            scores.masked_fill_(logits < torch.topk(logits, self.top_k).values[-1], float("-inf"))
        return int(scores.argmax())


@architecture
class NextCharacterModel(TextModel):
    """The book's character model: one-hot input (N, T, V) -> ``LSTMLayer`` -> logits (N, V, T),
    shaped for ``CrossEntropyLoss``. The book uses hidden size = vocabulary size."""

    task = "text"

    def __init__(self, vocab_size: int, hidden_size: int = 256, sequence_length: int = 25, vocab: str = "") -> None:
        super().__init__()
        self._set_vocab(vocab, vocab_size)
        self.sequence_length = sequence_length
        self.lstm = LSTMLayer(sequence_length, vocab_size, hidden_size, vocab_size)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 3, shape=(None, None, self.vocab_size))
        return (self.lstm(x).permute(0, 2, 1),)

    def run(self, idx: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        out, state = self.lstm.lstm(F.one_hot(idx, self.vocab_size).float(), state)
        return self.lstm.fc(out), state


@architecture
class CharRNN(TextModel):
    """Embedding -> multi-layer LSTM or GRU -> logits (N, V, T); the state is explicit, not carried."""

    task = "text"

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 256,
        num_layers: int = 1,
        cell: str = "lstm",
        embedding_dim: int = 64,
        drop_prob: float = 0.0,  # dropout between recurrent layers (PyTorch's convention: probability of zeroing)
        vocab: str = "",
    ) -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        self._set_vocab(vocab, vocab_size)
        self.embed = nn.Embedding(vocab_size, embedding_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        between = drop_prob if num_layers > 1 else 0.0
        self.rnn = rnn(embedding_dim, hidden_size, num_layers, batch_first=True, dropout=between)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        assert_dim(idx, 2, name="character indices")
        out, state = self.rnn(self.embed(idx), state)
        return self.fc(out).permute(0, 2, 1), state

    def run(self, idx: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        out, state = self.rnn(self.embed(idx), state)
        return self.fc(out), state
