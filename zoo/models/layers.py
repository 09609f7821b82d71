"""The chapter's building blocks: layers written the way *Deep Learning from Scratch* writes them.

Departures from the book, on purpose:
- Dropout follows ``model.train()`` / ``model.eval()``. The book's ``inference=True`` flag switched
  layers to eval mode and never back, so training after one evaluation ran without dropout.
- ``assert_dim`` raises ``ValueError``: a bare ``assert`` vanishes under ``python -O``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo.models import fastpaths

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
}


def assert_dim(t: Tensor, dim: int, name: str = "input", shape: tuple[int | None, ...] | None = None) -> None:
    """Check a tensor's rank (and optionally sizes; ``None`` matches any) with an error that names both."""
    if not isinstance(t, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dim() != dim:
        raise ValueError(
            f"{name} must have {dim} dimensions, got {t.dim()} (shape {tuple(t.shape)})"
            + (f"; expected shape {_fmt_shape(shape)}" if shape else "")
        )
    if shape is not None:
        for expected, actual in zip(shape, t.shape, strict=True):
            if expected is not None and expected != actual:
                raise ValueError(f"{name} must have shape {_fmt_shape(shape)}, got {tuple(t.shape)}")


def _fmt_shape(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"


def make_activation(name: str | None) -> nn.Module | None:
    if name is None:
        return None
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; allowed: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


_INT64_MIN = torch.iinfo(torch.int64).min


class Dropout(nn.Module):
    """Inverted dropout that draws 8 random bits per element instead of a float.

    ``nn.Dropout`` on the CPU spends most of a small ConvNet's training step in ``bernoulli_`` (one
    generator call per element). Here one 64-bit draw feeds eight elements: the same semantics (zero with
    probability ``p``, scale the rest to keep the mean, identity in eval mode), ``p`` rounded to 1/256
    (0.2 -> 0.1992), about 8x cheaper. Where that rounding is off by more than 1 % of ``p`` (0.1 -> 0.1016),
    16 bits per element are drawn instead (``p`` rounded to 1/65536). Like ``nn.Dropout`` it follows
    ``torch.manual_seed``.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"drop probability must be in [0, 1), got {p}")
        self.p = p
        bits = 8 if abs(round(p * 256) / 256 - p) <= 0.01 * p else 16
        levels = 2**bits
        dropped = min(round(p * levels), levels - 1)  # draws below this many levels are dropped
        self._dtype = torch.uint8 if bits == 8 else torch.int16
        self._threshold = dropped if bits == 8 else dropped - 2**15  # int16 draws start at -32768
        self._scale = levels / (levels - dropped)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        n, per_draw = x.numel(), 8 // self._dtype.itemsize  # elements fed by one 64-bit draw
        bits = torch.empty(-(-n // per_draw), dtype=torch.int64, device=x.device).random_(_INT64_MIN, None)
        draws = bits.view(self._dtype)[:n]
        if x.dim() == 4:  # drawn in channels-last order whatever the layout (the order the shipped ConvNets trained
            b, c, h, w = x.shape  # with): the same mask for the same seed on every fast path
            draws = draws.view(b, h, w, c).permute(0, 3, 1, 2)
        else:
            draws = draws.view(x.shape)
        # converted into the input's layout, so the output keeps it
        layout = torch.channels_last if _channels_last(x) else torch.contiguous_format
        # compared as float32 in place: a bool mask's conversion to float costs 3x an integer's (and int16 draws
        # are exact in float32, not in bf16)
        keep = draws.to(torch.float32, memory_format=layout).ge_(self._threshold).mul_(self._scale)
        return x * keep.to(x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _channels_last(x: Tensor) -> bool:
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def _dropout(keep_prob: float) -> nn.Module | None:
    """The book passes the *keep* probability; the layer takes the drop probability."""
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob is the keep probability of a unit and must be in (0, 1], got {keep_prob}")
    return Dropout(1.0 - keep_prob) if keep_prob < 1.0 else None


class PyTorchLayer(nn.Module):
    """Base class of the book's layers (a plain ``nn.Module``)."""


class DenseLayer(PyTorchLayer):
    def __init__(
        self, input_size: int, neurons: int, keep_prob: float = 1.0, activation: nn.Module | str | None = None
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(input_size, neurons)
        self.activation = make_activation(activation) if isinstance(activation, str) else activation
        self.dropout = _dropout(keep_prob)

    def forward(self, x: Tensor) -> Tensor:
        x = self.linear(x)
        if self.activation is not None:
            x = self.activation(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return x


class ConvLayer(PyTorchLayer):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filter_size: int,
        activation: nn.Module | str | None = None,
        flatten: bool = False,
        keep_prob: float = 1.0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, filter_size, padding=filter_size // 2)
        self.activation = make_activation(activation) if isinstance(activation, str) else activation
        self.flatten = flatten
        self.dropout = _dropout(keep_prob)

    def forward(self, x: Tensor) -> Tensor:
        x = self._convolve(x)
        if self.activation is not None:
            x = self.activation(x)
        if self.flatten:
            x = x.reshape(x.shape[0], -1)
        if self.dropout is not None:
            x = self.dropout(x)
        return x

    def _convolve(self, x: Tensor) -> Tensor:
        """``self.conv(x)``; while training on a CPU with fewer output than input channels (the book's 16 -> 8), and
        where ``fastpaths.chosen()`` measured it faster, computed as the transposed convolution of the flipped kernel:
        the same function, whose weight gradient oneDNN computes about twice as fast on an Intel AVX-512 CPU (its
        kernels vectorise over output channels, 16 to a register; the transposed form's outputs are the 16)."""
        c = self.conv
        if not (self.training and torch.is_grad_enabled() and c.out_channels < c.in_channels and _transposed(x)):
            return c(x)
        padding = tuple(k - 1 - p for k, p in zip(c.kernel_size, c.padding, strict=True))
        return F.conv_transpose2d(x, c.weight.flip(-1, -2).transpose(0, 1), c.bias, padding=padding)


def _transposed(x: Tensor) -> bool:
    """``x`` is on a CPU where the transposed form trains faster (measured once per machine, or forced)."""
    return x.device.type == "cpu" and fastpaths.chosen().transposed


class LSTMLayer(PyTorchLayer):
    """The book's LSTM layer: ``nn.LSTM`` + a dense output, hidden/cell state carried between batches.

    The carried state is the batch mean of the last hidden and cell states (the book's
    ``_transform_hidden_batch``). It is a non-persistent buffer: it follows ``.to(device)`` but is not
    saved with the weights, and ``reset_state()`` clears it so evaluation does not depend on history.
    """

    def __init__(self, sequence_length: int, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.sequence_length = sequence_length
        self.hidden_size = hidden_size
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = DenseLayer(hidden_size, output_size)
        self.register_buffer("h_init", torch.zeros(1, hidden_size), persistent=False)
        self.register_buffer("c_init", torch.zeros(1, hidden_size), persistent=False)

    def reset_state(self) -> None:
        self.h_init.zero_()
        self.c_init.zero_()

    def _transform_hidden_batch(self, hidden: Tensor, batch_size: int, before_layer: bool) -> Tensor:
        if before_layer:
            # (1, hidden) -> (num_layers=1, batch, hidden)
            return hidden.repeat(batch_size, 1).view(batch_size, 1, self.hidden_size).permute(1, 0, 2)
        # (1, batch, hidden) -> (1, hidden): the mean over the batch seeds the next batch
        return hidden.permute(1, 0, 2).mean(dim=0)

    def forward(self, x: Tensor) -> Tensor:
        batch_size = x.shape[0]
        h = self._transform_hidden_batch(self.h_init, batch_size, before_layer=True).contiguous()
        c = self._transform_hidden_batch(self.c_init, batch_size, before_layer=True).contiguous()
        x, (h_out, c_out) = self.lstm(x, (h, c))
        with torch.no_grad():
            self.h_init.copy_(self._transform_hidden_batch(h_out, batch_size, before_layer=False))
            self.c_init.copy_(self._transform_hidden_batch(c_out, batch_size, before_layer=False))
        return self.fc(x)
