"""Grey-level morphology that costs the same however wide its window, and the small filters of one 2-D map:
what the sketch reader needs to find paper under uneven light and printed lines that cross a whole picture,
and the connected blobs of a mask."""

from __future__ import annotations

import numpy as np
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


def components(mask: Tensor) -> Tensor:
    """Labels of 8-connected blobs of a boolean (h, w) mask: -1 off the mask, else the blob's smallest index.

    Runs of each row are joined to the runs they touch in the next row (union-find over runs, the earlier run
    the root): a digit's grid has a few hundred runs, where propagating labels pixel by pixel takes a pass per
    pixel of the longest stroke."""
    m = mask.numpy()
    h, w = m.shape
    edges = np.diff(np.pad(m, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)  # row-major: runs in reading order
    ends = np.nonzero(edges == -1)[1]  # one past each run's last pixel
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first = np.searchsorted(rows, np.arange(h + 1))  # the runs of row r are first[r]:first[r + 1]
    for r in range(h - 1):
        a, b = int(first[r]), int(first[r + 1])
        c, d = b, int(first[r + 2])
        while a < b and c < d:  # runs of rows r and r + 1 touch where their spans overlap or meet at a corner
            if starts[a] <= ends[c] and starts[c] <= ends[a]:
                x, y = root(a), root(c)
                parent[max(x, y)] = min(x, y)
            if ends[a] < ends[c]:
                a += 1
            else:
                c += 1
    roots = np.array([root(i) for i in range(len(rows))], dtype=np.int64)
    labels = np.full(h * w, -1, dtype=np.int64)
    lengths = ends - starts
    flat_starts = rows * w + starts
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    labels[np.repeat(flat_starts, lengths) + offsets] = np.repeat(flat_starts[roots], lengths)
    return torch.from_numpy(labels.reshape(h, w))
