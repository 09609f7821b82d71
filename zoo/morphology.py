"""Grey-level morphology that costs the same however wide its window: what the sketch reader needs to find
paper under uneven light and printed lines that cross a whole picture."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def sliding_max(x: Tensor, k: int, dim: int, fill: float) -> Tensor:
    """The maximum over every window of k along ``dim``, centred, the ends padded with ``fill``: the van Herk /
    Gil-Werman scheme (running maxima within blocks of k, forwards and backwards), O(1) per pixel however
    wide the window, where a k-wide max-pool costs O(k)."""
    x = x.movedim(dim, -1)
    r = k // 2
    n = x.shape[-1] + 2 * r
    m = -(-n // k) * k
    padded = F.pad(x, (r, r + m - n), value=fill)
    blocks = padded.reshape(*padded.shape[:-1], m // k, k)
    forward = blocks.cummax(-1).values.reshape(padded.shape)
    backward = blocks.flip(-1).cummax(-1).values.flip(-1).reshape(padded.shape)
    return torch.maximum(backward[..., : n - k + 1], forward[..., k - 1 : n]).movedim(-1, dim)
