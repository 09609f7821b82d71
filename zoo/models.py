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
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        if self.rescale_input:
            lo, hi = x.amin(dim=(2, 3), keepdim=True), x.amax(dim=(2, 3), keepdim=True)
            x = (x - lo) / (hi - lo).clamp_min(1e-3) * 3 - 0.5  # about the range MNIST's normalisation gives
        return (self.head(self.features(x)),)


# ----------------------------------------------------------------------------------------------- text
class TextModel(PyTorchModel):
    """Shared text helpers: the vocabulary (sorted, saved in config.json) and sampling."""

    vocab: str

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
        if not (0 <= temperature <= 10) or math.isnan(temperature):
            raise ValueError(f"temperature must be between 0 and 10, got {temperature}")
        if length < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        device = next(self.parameters()).device
        idx, _ = self.encode(prompt)
        if idx.numel() == 0:
            # no usable prompt: start after a line break, the corpus' natural boundary
            idx = torch.tensor([self.vocab.index("\n") if "\n" in self.vocab else 0])
        logits, state = self.step(idx.view(1, -1).to(device), None)
        for _ in range(length):
            logits = logits[0].float().cpu()
            if temperature == 0:
                nxt = int(logits.argmax())
            else:
                logits = logits / temperature
                if top_k is not None and top_k < logits.numel():
                    kth = torch.topk(logits, top_k).values[-1]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                nxt = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen))
            yield self.vocab[nxt]
            logits, state = self.step(torch.tensor([[nxt]], device=device), state)


class NextCharacterModel(TextModel):
    """The book's character model: one-hot input (N, T, V) -> ``LSTMLayer`` -> logits (N, V, T),
    shaped for ``CrossEntropyLoss``. The book uses hidden size = vocabulary size."""

    task = "text"

    def __init__(self, vocab_size: int, hidden_size: int = 256, sequence_length: int = 25, vocab: str = "") -> None:
        super().__init__()
        if vocab and len(vocab) != vocab_size:
            raise ValueError(f"vocab has {len(vocab)} characters but vocab_size is {vocab_size}")
        self.vocab = vocab
        self.vocab_size = vocab_size
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
        if vocab and len(vocab) != vocab_size:
            raise ValueError(f"vocab has {len(vocab)} characters but vocab_size is {vocab_size}")
        self.vocab = vocab
        self.vocab_size = vocab_size
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


ARCHITECTURES: dict[str, type[PyTorchModel]] = {
    cls.__name__: cls
    for cls in (HousePricesModel, LinearRegressor, TreeEnsembleRegressor)
    + (MNISTConvNet, MNISTMLP, MNISTModernCNN)
    + (NextCharacterModel, CharRNN)
    + (Autoencoder, VAE)
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
