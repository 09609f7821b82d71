"""Every model of the zoo: the chapter's four (as the book writes them) and the variants that compete with them.

Each model is a ``PyTorchModelHubMixin``: ``save_pretrained`` writes ``model.safetensors`` + ``config.json``,
``from_pretrained`` reads them back and loads *strictly*. The preprocessing a model needs (MNIST mean/std,
the autoencoder's input scale, the text vocabulary, the houses' scaler) is an ``__init__`` argument, so it
lands in ``config.json`` — the one place training, evaluation and the app read it from.

As in the book, ``forward`` returns a tuple whose first item is the prediction (the trainer uses
``model(X)[0]``); the autoencoders return ``(reconstruction, encoding)``.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn

from .layers import ConvLayer, DenseLayer, LSTMLayer, assert_dim

MNIST_NORMALIZE = {"mean": 0.1305, "std": 0.3081}  # the book's constants (Normalize((0.1305,), (0.3081,)))
AUTOENCODER_SCALE = {"min": -1.0, "max": 1.0}  # pixels in [0, 1] mapped linearly to [min, max]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


class WeightsIntegrityError(ValueError):
    """``model.safetensors`` does not match the sha256 recorded in ``config.json``."""


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PyTorchModel(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="dlfs-zoo",
    license="mit",
    repo_url="https://github.com/dlfs-zoo/dlfs-zoo",
    tags=["dlfs-zoo", "deep-learning-from-scratch"],
):
    """Base of every zoo model: hub save/load with strict, hash-checked, pickle-free loading."""

    task: str = ""

    @property
    def config(self) -> dict[str, Any]:
        """The model's ``config.json``: architecture, ``__init__`` arguments and preprocessing."""
        cfg = dict(self._hub_mixin_config or {})
        cfg.setdefault("architecture", type(self).__name__)
        return cfg

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self._hub_mixin_config = dict(value)

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str = "cpu",
        strict: bool = True,
        config: dict | None = None,
        **model_kwargs: Any,
    ) -> PyTorchModel:
        """Strict safetensors loading; the weights' sha256 is checked when the config records one."""
        from huggingface_hub import hf_hub_download
        from safetensors.torch import load_model

        if not strict:
            raise ValueError("dlfs-zoo loads weights strictly; strict=False is not supported")
        if config is not None:  # an older config: its renamed keys reach __init__ under their new names
            migrated = migrate_config(config)
            for key in migrated.keys() - config.keys():
                model_kwargs.setdefault(key, migrated[key])
            config = migrated
        model = cls(**model_kwargs)
        if os.path.isdir(model_id):
            model_file = os.path.join(model_id, WEIGHTS_NAME)
            if not os.path.isfile(model_file):
                raise FileNotFoundError(f"{model_id} has no {WEIGHTS_NAME}")
        else:
            model_file = hf_hub_download(
                repo_id=model_id,
                filename=WEIGHTS_NAME,
                revision=revision,
                cache_dir=cache_dir,
                force_download=force_download,
                token=token,
                local_files_only=local_files_only,
            )
        expected = (config or {}).get("weights_sha256")
        if expected:
            actual = sha256_file(model_file)
            if actual != expected:
                raise WeightsIntegrityError(
                    f"{model_file} is corrupt or was tampered with: its sha256 is {actual}, "
                    f"config.json records {expected}"
                )
        try:
            load_model(model, model_file, strict=True, device=map_location)
        except RuntimeError as e:  # missing / unexpected / wrongly shaped tensors
            raise ValueError(f"weights in {model_file} do not fit {cls.__name__}: {e}") from e
        except Exception as e:  # truncated or otherwise unreadable files
            raise WeightsIntegrityError(f"{model_file} is not a readable safetensors file: {e}") from e
        if config is not None:
            model.config = config
        model.eval()
        return model

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


# --------------------------------------------------------------------------------------------- houses
class HousesModel(PyTorchModel):
    """A Boston house-price regressor. Its config carries ``feature_names``, the scaler (``normalize``: per-feature
    mean and std of the training split) and ``feature_medians`` (the training medians, the app's defaults)."""

    task = "houses"

    def scale(self, features: Any) -> Tensor:
        """Raw features (13 numbers, or N rows of 13) -> the standardised float32 input the model reads.

        The arithmetic is float64, like scikit-learn's ``StandardScaler``, and the result is cast once."""
        norm = self.config.get("normalize")
        if not norm:
            raise ValueError(f"{self.config.get('name', type(self).__name__)} has no scaler in its config")
        x = torch.as_tensor(features, dtype=torch.float64)
        x = x[None] if x.ndim == 1 else x
        mean, std = (torch.tensor(norm[k], dtype=torch.float64) for k in ("mean", "std"))
        return ((x - mean) / std).float()


class HousePricesModel(HousesModel):
    """13 standardised Boston features -> hidden layer -> price (in $1000s).

    Book text: Sigmoid hidden layer, no dropout. The notebook's variant: Tanh, hidden keep-prob 0.8.
    """

    def __init__(
        self,
        hidden_size: int = 13,
        activation: str = "sigmoid",
        keep_prob: float = 1.0,  # probability of keeping a hidden unit (the book's convention)
        n_features: int = 13,
        feature_names: list[str] | None = None,
        normalize: dict | None = None,
        feature_medians: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.dense1 = DenseLayer(n_features, hidden_size, activation=activation, keep_prob=keep_prob)
        self.dense2 = DenseLayer(hidden_size, 1)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 2, shape=(None, self.n_features))
        return (self.dense2(self.dense1(x)),)


class LinearRegressor(HousesModel):
    """A scikit-learn ``LinearRegression`` baseline, its coefficients stored as safetensors (no pickle)."""

    def __init__(
        self,
        n_features: int = 13,
        feature_names: list[str] | None = None,
        normalize: dict | None = None,
        feature_medians: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 2, shape=(None, self.n_features))
        return (self.linear(x),)


class TreeEnsembleRegressor(HousesModel):
    """A scikit-learn tree ensemble (random forest) as flat node arrays; prediction = mean over trees.

    Trees are stored padded to ``max_nodes``; a leaf has ``left == -1``. Evaluated with tensor gathers,
    ``max_depth`` steps, so it needs neither sklearn nor pickle at inference time.
    """

    def __init__(
        self,
        n_trees: int = 1,
        max_nodes: int = 1,
        max_depth: int = 1,
        n_features: int = 13,
        feature_names: list[str] | None = None,
        normalize: dict | None = None,
        feature_medians: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.max_depth = max_depth
        self.register_buffer("feature", torch.zeros(n_trees, max_nodes, dtype=torch.int64))
        self.register_buffer("threshold", torch.zeros(n_trees, max_nodes))
        self.register_buffer("left", torch.full((n_trees, max_nodes), -1, dtype=torch.int64))
        self.register_buffer("right", torch.full((n_trees, max_nodes), -1, dtype=torch.int64))
        self.register_buffer("value", torch.zeros(n_trees, max_nodes))

    def num_params(self) -> int:
        """Its stored numbers (node features, thresholds, children, values): trees have no parameters."""
        return sum(b.numel() for b in self.buffers())

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 2, shape=(None, self.n_features))
        n_trees = self.feature.shape[0]
        node = torch.zeros(x.shape[0], n_trees, dtype=torch.int64, device=x.device)
        trees = torch.arange(n_trees, device=x.device).expand_as(node)
        for _ in range(self.max_depth):
            left = self.left[trees, node]
            is_leaf = left < 0
            feat = self.feature[trees, node].clamp(min=0)
            go_left = x.gather(1, feat) <= self.threshold[trees, node]
            nxt = torch.where(go_left, left, self.right[trees, node])
            node = torch.where(is_leaf, node, nxt)
        return (self.value[trees, node].mean(dim=1, keepdim=True),)


# --------------------------------------------------------------------------------------------- digits
class DigitsModel(PyTorchModel):
    """A digit classifier: (N, 1, 28, 28) pixels normalised with ``config["normalize"]`` -> 10 logits.

    ``preprocess`` is the one place that normalisation is written (torchvision's ``weights.transforms()``)."""

    task = "digits"

    def preprocess(self, pixels: Any) -> Tensor:
        """MNIST-style pixels in [0, 1], white ink on black ((28, 28), (N, 28, 28) or (N, 1, 28, 28)) -> input."""
        norm = self.config.get("normalize")
        if not norm:
            raise ValueError(f"{self.config.get('name', type(self).__name__)} has no 'normalize' in its config")
        x = torch.as_tensor(pixels, dtype=torch.float32)
        x = x[None, None] if x.ndim == 2 else x[:, None] if x.ndim == 3 else x
        return (x - norm["mean"]) / norm["std"]


class MNISTConvNet(DigitsModel):
    """The book's ConvNet: two 5x5 Tanh conv layers (book 16/8 channels, notebook 14/7), keep-prob 0.8,
    a 32-unit dense layer, 10 logits."""

    def __init__(
        self,
        conv1_channels: int = 16,
        conv2_channels: int = 8,
        dense_size: int = 32,
        keep_prob: float = 0.8,  # probability of keeping a unit after each hidden layer (the book's convention)
        normalize: dict | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = ConvLayer(1, conv1_channels, 5, activation="tanh", keep_prob=keep_prob)
        self.conv2 = ConvLayer(conv1_channels, conv2_channels, 5, activation="tanh", flatten=True, keep_prob=keep_prob)
        self.dense1 = DenseLayer(28 * 28 * conv2_channels, dense_size, activation="tanh", keep_prob=keep_prob)
        self.dense2 = DenseLayer(dense_size, 10)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        return (self.dense2(self.dense1(self.conv2(self.conv1(x)))),)


class MNISTMLP(DigitsModel):
    """Chapter 4's network in PyTorch: 784 -> 89 Tanh -> 10."""

    def __init__(self, hidden_size: int = 89, keep_prob: float = 1.0, normalize: dict | None = None) -> None:
        super().__init__()
        self.dense1 = DenseLayer(784, hidden_size, activation="tanh", keep_prob=keep_prob)
        self.dense2 = DenseLayer(hidden_size, 10)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        return (self.dense2(self.dense1(x.reshape(x.shape[0], -1))),)


class MNISTModernCNN(DigitsModel):
    """A modern small CNN: (conv-BN-ReLU x2, max-pool) x2, dropout, a 128-unit head. ~99.4 % in a few epochs."""

    def __init__(
        self,
        width: int = 32,
        drop_prob: float = 0.25,  # probability of zeroing a unit in the head (PyTorch's convention)
        normalize: dict | None = None,
        rescale_input: bool = False,  # stretch each input to its own min..max: a lifted background looks clean
    ) -> None:
        super().__init__()
        self.rescale_input = rescale_input

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        w = width
        stage1 = [*block(1, w), *block(w, w), nn.MaxPool2d(2)]
        stage2 = [*block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*stage1, *stage2)
        hidden = [nn.Flatten(), nn.Dropout(drop_prob), nn.Linear(2 * w * 7 * 7, 128), nn.ReLU(inplace=True)]
        self.head = nn.Sequential(*hidden, nn.Dropout(drop_prob), nn.Linear(128, 10))

    def forward(self, x: Tensor) -> tuple[Tensor]:
        return (self.head[-1](self.penultimate(x)),)

    def penultimate(self, x: Tensor) -> Tensor:
        """The 128 activations the last layer reads (the feature space of ``frechet``, as Inception's pool
        layer is FID's). Dropout is off in eval mode, so these are exactly what the logits come from."""
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        if self.rescale_input:
            lo, hi = x.amin(dim=(2, 3), keepdim=True), x.amax(dim=(2, 3), keepdim=True)
            x = (x - lo) / (hi - lo).clamp_min(1e-3) * 3 - 0.5  # about the range MNIST's normalisation gives
        return self.head[:-1](self.features(x))


# ----------------------------------------------------------------------------------------------- text
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


# ---------------------------------------------------------------------------------------------- latent
class Encoder(PyTorchModel):
    """(N, 1, 28, 28) in [-1, 1] -> (N, hidden_dim) in [-1, 1]: conv 14, conv 7, dense, all Tanh."""

    def __init__(self, hidden_dim: int = 28, out_dim: int | None = None, out_activation: str | None = "tanh"):
        super().__init__()
        self.conv1 = ConvLayer(1, 14, 5, activation="tanh")
        self.conv2 = ConvLayer(14, 7, 5, activation="tanh", flatten=True)
        self.dense1 = DenseLayer(7 * 28 * 28, out_dim or hidden_dim, activation=out_activation)

    def forward(self, x: Tensor) -> Tensor:
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        return self.dense1(self.conv2(self.conv1(x)))


class Decoder(PyTorchModel):
    """(N, hidden_dim) -> (N, 1, 28, 28) in [-1, 1]: dense to 7x28x28, conv 14, conv 1, all Tanh."""

    def __init__(self, hidden_dim: int = 28) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.dense1 = DenseLayer(hidden_dim, 7 * 28 * 28, activation="tanh")
        self.conv1 = ConvLayer(7, 14, 5, activation="tanh")
        self.conv2 = ConvLayer(14, 1, 5, activation="tanh")

    def forward(self, x: Tensor) -> Tensor:
        assert_dim(x, 2, name="latent codes", shape=(None, self.hidden_dim))
        return self.conv2(self.conv1(self.dense1(x).view(-1, 7, 28, 28)))


class LatentModel(PyTorchModel):
    """An image model with a 28-d code. It reads and writes images on the scale ``config["input_scale"]``
    gives; ``to_input`` and ``to_pixels`` are the one place that conversion is written."""

    task = "latent"
    has_encoder = True  # False: ``encode`` searches for a code instead of computing it
    encoder: Encoder
    decoder: Decoder
    hidden_dim: int

    def _scale(self) -> tuple[float, float]:
        s = self.config.get("input_scale")
        if not s:
            raise ValueError(f"{self.config.get('name', type(self).__name__)} has no 'input_scale' in its config")
        return s["min"], s["max"]

    def to_input(self, pixels: Any) -> Tensor:
        """Pixels in [0, 1] ((28, 28), (N, 28, 28) or (N, 1, 28, 28)) -> (N, 1, 28, 28) on the model's scale."""
        lo, hi = self._scale()
        x = torch.as_tensor(pixels, dtype=torch.float32)
        x = x[None, None] if x.ndim == 2 else x[:, None] if x.ndim == 3 else x
        return x * (hi - lo) + lo

    def to_pixels(self, output: Tensor) -> Tensor:
        """The decoder's output (N, 1, 28, 28) on the model's scale -> pixels in [0, 1], same shape."""
        lo, hi = self._scale()
        return ((output.float() - lo) / (hi - lo)).clamp(0, 1)

    def encode(self, x: Tensor) -> Tensor:
        """The code a digit maps to (the VAE's mean)."""
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Random codes from the model's prior (what its decoder should turn into digits)."""
        raise NotImplementedError


class Autoencoder(LatentModel):
    """The book's convolutional autoencoder; ``forward`` returns ``(reconstruction, encoding)``.

    Its codes are Tanh outputs in [-1, 1]; random codes from that cube are the book's Figure 7-5 test."""

    def __init__(self, hidden_dim: int = 28, input_scale: dict | None = None) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.encoder = Encoder(hidden_dim)
        self.decoder = Decoder(hidden_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        encoding = self.encoder(x)
        return self.decoder(encoding), encoding

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.rand(n, self.hidden_dim, generator=generator) * 2 - 1


class VAE(LatentModel):
    """A variational autoencoder with the book autoencoder's layers; prior N(0, I) over a 28-d latent.

    ``forward`` returns ``(reconstruction, mu, logvar)``; in eval mode the reconstruction uses ``mu``."""

    def __init__(self, hidden_dim: int = 28, beta: float = 1.0, input_scale: dict | None = None) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.beta = beta
        self.encoder = Encoder(hidden_dim, out_dim=2 * hidden_dim, out_activation=None)
        self.decoder = Decoder(hidden_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        logvar = logvar.clamp(-10, 10)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x).chunk(2, dim=1)[0]

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randn(n, self.hidden_dim, generator=generator)


class DCGANGenerator(nn.Module):
    """(N, hidden_dim) -> (N, 1, 28, 28) in [-1, 1]: a linear projection to 2w x 7 x 7, then two stride-2
    transposed convolutions (7 -> 14 -> 28) with batch norm and ReLU, Tanh out (Radford et al. 2015).

    With ``classes`` it is class-conditional (Mirza & Osindero 2014) and still reads one N(0, I) code: the
    code's first coordinate picks the class by its quantile (``classes`` equally likely bins of N(0, 1)) and
    the class goes in one-hot beside the other coordinates. Ten digits are ten separate shapes, and a
    continuous map from one Gaussian must pass through non-digits between them; the bins let it jump."""

    def __init__(self, hidden_dim: int, width: int, classes: int = 0) -> None:
        super().__init__()
        self.hidden_dim, self.classes = hidden_dim, classes
        inputs = hidden_dim - 1 + classes if classes else hidden_dim
        # bin edges: the standard normal's 1/classes, 2/classes, ... quantiles (computed, not saved)
        edges = torch.special.ndtri(torch.arange(1, max(classes, 1), dtype=torch.float64) / max(classes, 1)).float()
        self.register_buffer("edges", edges, persistent=False)
        self.project = nn.Sequential(
            nn.Linear(inputs, 2 * width * 7 * 7, bias=False), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU()
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),
            nn.Tanh(),
        )

    def class_of(self, z: Tensor) -> Tensor:
        """The class (N,) each code's first coordinate picks; all zeros for an unconditional generator."""
        return torch.bucketize(z[:, 0].contiguous(), self.edges.to(z.device, z.dtype), right=True)

    def class_codes(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """(classes,): the first coordinate's value at the middle (median) of each class's bin."""
        return torch.special.ndtri((torch.arange(self.classes, dtype=torch.float64) + 0.5) / self.classes).to(dtype)

    def forward(self, z: Tensor) -> Tensor:
        assert_dim(z, 2, name="latent codes", shape=(None, self.hidden_dim))
        if self.classes:
            z = torch.cat([z[:, 1:], F.one_hot(self.class_of(z), self.classes).to(z.dtype)], 1)
        return self.up(self.project(z).view(len(z), -1, 7, 7))


MAX_SEARCH_STEPS = 2000


class DCGAN(LatentModel):
    """The fix chapter 7 names for random codes that decode to noise: a generator trained against a
    discriminator, so that every N(0, I) code decodes to a digit. Only the generator is kept.

    A GAN has no encoder: ``encode`` *searches* for the code whose decoding is closest to the image (gradient
    descent from several starts, ``search_steps`` Adam steps), and ``forward`` returns
    ``(reconstruction, code)`` through that search like the autoencoders do. With ``classes`` the generator is
    class-conditional, the class read from the code's first coordinate (``DCGANGenerator``)."""

    has_encoder = False

    def __init__(
        self,
        hidden_dim: int = 28,
        width: int = 64,
        search_steps: int = 200,
        classes: int = 0,
        input_scale: dict | None = None,
    ) -> None:
        super().__init__()
        if not 1 <= search_steps <= MAX_SEARCH_STEPS:  # every "Encode my drawing" runs this many steps
            raise ValueError(f"search_steps must lie between 1 and {MAX_SEARCH_STEPS}, got {search_steps}")
        if not (classes == 0 or 2 <= classes <= 100):
            raise ValueError(f"classes must be 0 (unconditional) or between 2 and 100, got {classes}")
        self.hidden_dim, self.search_steps, self.classes = hidden_dim, search_steps, classes
        self.decoder = DCGANGenerator(hidden_dim, width, classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        code = self.encode(x)
        return self.decoder(code), code

    @property
    def search_starts(self) -> int:
        """How many searches ``encode`` starts per image: one per class, or 4 (the prior's mode and 3 random)."""
        return self.classes or 4

    def encode(self, x: Tensor) -> Tensor:
        """The code (N, hidden_dim) whose decoding has the least squared error to ``x`` (N, 1, 28, 28).

        Successive halving: every start gets a quarter of ``search_steps``, the best two per image the rest. A
        class-conditional generator starts once per class: the first coordinate is held at the middle of that
        class's bin (no gradient crosses a bin edge) and the rest start at the prior's mode."""
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        starts = self.search_starts
        was_training, grads = self.training, [p.requires_grad for p in self.parameters()]
        self.eval()  # batch norm with its running statistics: one image's search must not depend on another's
        self.requires_grad_(False)  # gradients for the code only, none for the weights
        with torch.inference_mode(False), torch.enable_grad():
            target = x.detach().clone().float()
            z = torch.randn(len(target) * starts, self.hidden_dim, generator=torch.Generator().manual_seed(0))
            z[::starts] = 0  # one start at the prior's mode
            free = torch.ones(self.hidden_dim)
            if self.classes:
                z.zero_()
                z[:, 0] = self.decoder.class_codes().repeat(len(x))
                free[0] = 0  # the class stays the one this start was given
            z, free = z.to(target.device), free.to(target.device)
            first = max(1, self.search_steps // 4)
            z, err = self._descend(z, target.repeat_interleave(starts, 0), free, first)
            keep = min(2, starts)
            best = err.view(-1, starts).topk(keep, 1, largest=False).indices
            z = z[(best + torch.arange(len(x), device=z.device)[:, None] * starts).flatten()]
            if self.search_steps > first:
                z, err = self._descend(z, target.repeat_interleave(keep, 0), free, self.search_steps - first)
            code = z[err.view(-1, keep).argmin(1) + torch.arange(len(x), device=z.device) * keep]
        self.train(was_training)
        for p, g in zip(self.parameters(), grads, strict=True):
            p.requires_grad_(g)
        return code.clone()

    def _descend(self, z: Tensor, target: Tensor, free: Tensor, steps: int) -> tuple[Tensor, Tensor]:
        """``steps`` Adam steps (cosine-annealed) on codes ``z`` towards ``target``, moving only the ``free``
        coordinates; the codes and each one's mean squared error."""
        z = z.clone().requires_grad_(True)
        z.register_hook(lambda grad: grad * free)
        opt = torch.optim.Adam([z], lr=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        for _ in range(steps):
            sse = ((self.decoder(z) - target) ** 2).sum()
            loss = sse + 1e-2 * (z**2).sum()  # a weak pull towards the prior keeps codes in range
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                z.clamp_(-4, 4)
        with torch.no_grad():
            return z.detach(), ((self.decoder(z) - target) ** 2).flatten(1).mean(1)

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randn(n, self.hidden_dim, generator=generator)


ARCHITECTURES: dict[str, type[PyTorchModel]] = {
    cls.__name__: cls
    for cls in (HousePricesModel, LinearRegressor, TreeEnsembleRegressor)
    + (MNISTConvNet, MNISTMLP, MNISTModernCNN)
    + (NextCharacterModel, CharRNN, CharTransformer)
    + (Autoencoder, VAE, DCGAN)
}

# config keys renamed since checkpoints were first published (``dropout`` meant a keep probability in some
# models and a drop probability in others): old configs load through this explicit map
RENAMED_KEYS: dict[str, dict[str, str]] = {
    "HousePricesModel": {"hidden_dropout": "keep_prob"},
    "MNISTConvNet": {"dropout": "keep_prob"},
    "MNISTMLP": {"dropout": "keep_prob"},
    "MNISTModernCNN": {"dropout": "drop_prob"},
    "CharRNN": {"dropout": "drop_prob"},
}


def migrate_config(config: Any) -> Any:
    """``config`` with the keys ``RENAMED_KEYS`` lists for its architecture under their new names."""
    if not isinstance(config, dict):
        return config
    renames = RENAMED_KEYS.get(config.get("architecture"), {})
    if any(new in config for old, new in renames.items() if old in config):
        return config  # both names present: leave it for validation to refuse the unknown key
    return {renames.get(k, k): v for k, v in config.items()}


__all__ = [*ARCHITECTURES, "Encoder", "Decoder", "PyTorchModel", "DigitsModel", "HousesModel", "LatentModel"]
