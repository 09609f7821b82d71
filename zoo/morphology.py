"""Grey-level morphology that costs the same however wide its window, and the small filters of one 2-D map:
what the sketch reader needs to find paper under uneven light and printed lines that cross a whole picture."""

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


def pool(x: Tensor, k: int, op: str) -> Tensor:
    """A k x k max / min / mean filter of a 2-D map (same size; the mean repeats the edges)."""
    x4, pad = x[None, None], k // 2
    if op == "max":
        return F.max_pool2d(x4, k, 1, pad)[0, 0]
    if op == "min":
        return -F.max_pool2d(-x4, k, 1, pad)[0, 0]
    return box_mean(F.pad(x4, (pad, pad, pad, pad), mode="replicate")[0, 0], k)


def box_mean(padded: Tensor, k: int) -> Tensor:
    """``avg_pool2d(padded, k, 1)`` of one 2-D map as k * k shifted sums: the pooling kernel's own order (row by
    row, then one division), so the same values bit for bit, in a third of its time on a single channel."""
    h, w = padded.shape[0] - k + 1, padded.shape[1] - k + 1
    total = padded[:h, :w].clone()
    for i in range(k):
        for j in range(k):
            if i or j:
                total += padded[i : i + h, j : j + w]
    return total.div_(k * k)
