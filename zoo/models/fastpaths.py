"""Which of the equivalent ways of training a ConvNet is fastest on this CPU: measured once per machine, cached.

Two choices compute the same function and differ only in speed, by CPU vendor and instruction set:
- a convolution with fewer output than input channels (the book's conv2, 16 -> 8) trains either directly or as the
  transposed convolution of its flipped kernel (oneDNN's weight gradient of that form is about twice as fast on an
  Intel AVX-512 CPU; on other CPUs it can be slower);
- the images and weights in channels-last or in the standard (NCHW) layout.

``chosen()`` answers with the fastest pair: a few forward and backward steps of the book ConvNet's convolutions at
its recipe's shapes (batch 60, 28x28, 1 -> 16 -> 8 channels, 5x5), each candidate timed in turn, well under a
second. The answer is kept in ``fast_paths.json`` under ``$DLFS_ZOO_CACHE`` (else ``~/.cache/dlfs-zoo``), one per
CPU model, torch version and thread count, written atomically; a file that cannot be read is measured again and
rewritten. ``DLFS_ZOO_TRAIN_PATH=NAME`` (a name of ``PATHS``) forces a path without measuring.

Not candidates, measured on an Intel Xeon (AVX-512) and found slower: conv1 (1 -> 16) as a transposed
convolution (about 1.5x the time).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F

from ..basics import atomic_write_text, cpu_model

ENV = "DLFS_ZOO_TRAIN_PATH"
CACHE_NAME = "fast_paths.json"
BUDGET_S = 0.5  # measuring stops after this many seconds once every candidate has had MIN_ROUNDS rounds
MIN_ROUNDS, MAX_ROUNDS, STEPS_PER_ROUND = 3, 10, 1


class FastPath(NamedTuple):
    transposed: bool  # a convolution with fewer outputs than inputs trains as the transposed convolution
    channels_last: bool  # images and weights channels-last while training


PATHS = {
    "channels-last-transposed": FastPath(transposed=True, channels_last=True),
    "channels-last-direct": FastPath(transposed=False, channels_last=True),
    "nchw-transposed": FastPath(transposed=True, channels_last=False),
    "nchw-direct": FastPath(transposed=False, channels_last=False),
}

_memo: dict[str, FastPath] = {}  # cache key -> the path, for this process


def chosen() -> FastPath:
    """The path to train with on this CPU: ``$DLFS_ZOO_TRAIN_PATH``, else the cached measurement, else a new one."""
    forced = os.environ.get(ENV)
    if forced:
        if forced not in PATHS:
            raise ValueError(f"{ENV} must be one of {', '.join(PATHS)}; got {forced!r}")
        return PATHS[forced]
    key = cache_key()
    if key not in _memo:
        _memo[key] = PATHS[_cached_or_measured(key)]
    return _memo[key]


def cache_key() -> str:
    """What the fastest path depends on: the CPU model, torch's version, the number of threads (and the rule that
    picks it, so a changed rule measures again)."""
    return f"{cpu_model()} | torch {torch.__version__} | {torch.get_num_threads()} threads | margin {MARGIN}"


def cache_file() -> Path:
    root = os.environ.get("DLFS_ZOO_CACHE")
    return Path(root) / CACHE_NAME if root else Path.home() / ".cache" / "dlfs-zoo" / CACHE_NAME


def read_cache() -> dict[str, dict]:
    """The cache's entries (key -> {"path", "ms"}); empty when the file is missing or not what this module writes."""
    try:
        data = json.loads(cache_file().read_text())
        entries = data["entries"]
        if not all(isinstance(e, dict) and e.get("path") in PATHS for e in entries.values()):
            return {}
        return entries
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _cached_or_measured(key: str) -> str:
    entries = read_cache()
    if key in entries:
        return entries[key]["path"]
    ms = calibrate()
    best = pick(ms)
    entries[key] = {"path": best, "ms": {name: round(v, 3) for name, v in ms.items()}}
    with contextlib.suppress(OSError):  # a cache that cannot be written only means measuring again next time
        cache_file().parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache_file(), json.dumps({"entries": entries}, indent=1, sort_keys=True))
    return best


MARGIN = 0.15  # another path replaces the reference only when it measured at least this much faster


def reference() -> str:
    """The path the shipped ConvNets were trained with on this kind of CPU (the transposed form on AVX-512)."""
    avx512 = torch.backends.cpu.get_cpu_capability().startswith("AVX512")
    return "channels-last-transposed" if avx512 else "channels-last-direct"


def pick(ms: dict[str, float]) -> str:
    """The fastest path, unless the reference is within ``MARGIN`` of it: a retrain then takes the path (and the
    rounding) its checkpoint was trained with, and a noisy measurement cannot flip the choice back and forth."""
    best, ref = min(ms, key=ms.__getitem__), reference()
    return ref if ref in ms and ms[ref] <= ms[best] * (1 + MARGIN) else best


def _conv(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, transposed: bool) -> torch.Tensor:
    """``F.conv2d(x, w, b)`` with same padding, or the same function as the transposed convolution (as ConvLayer)."""
    k = w.shape[-1]
    if not transposed:
        return F.conv2d(x, w, b, padding=k // 2)
    return F.conv_transpose2d(x, w.flip(-1, -2).transpose(0, 1), b, padding=k - 1 - k // 2)


def calibrate() -> dict[str, float]:
    """Milliseconds per forward and backward step of the book ConvNet's convolutions, for each of ``PATHS``: the
    candidates take turns (a load that comes and goes hits all alike) and each keeps its fastest round. Uses its own
    random generator: the training's random stream is untouched."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 1, 28, 28, generator=g)
    w1, b1 = torch.randn(16, 1, 5, 5, generator=g) * 0.2, torch.zeros(16)
    w2, b2 = torch.randn(8, 16, 5, 5, generator=g) * 0.05, torch.zeros(8)
    tensors = {}
    for name, path in PATHS.items():
        fmt = torch.channels_last if path.channels_last else torch.contiguous_format
        tensors[name] = [x.contiguous(memory_format=fmt)] + [
            t.contiguous(memory_format=fmt if t.dim() == 4 else torch.contiguous_format).requires_grad_()
            for t in (w1, b1, w2, b2)
        ]

    def step(name: str) -> None:
        x, w1, b1, w2, b2 = tensors[name]
        h = torch.tanh(_conv(x, w1, b1, transposed=False))
        out = torch.tanh(_conv(h, w2, b2, transposed=PATHS[name].transposed))
        w1.grad = b1.grad = w2.grad = b2.grad = None
        out.sum().backward()

    best = dict.fromkeys(PATHS, float("inf"))
    with torch.enable_grad():
        for name in PATHS:
            step(name)  # oneDNN builds its kernels on the first call
        start = time.perf_counter()
        for rounds in range(1, MAX_ROUNDS + 1):
            for name in PATHS:
                t = time.perf_counter()
                for _ in range(STEPS_PER_ROUND):
                    step(name)
                best[name] = min(best[name], (time.perf_counter() - t) / STEPS_PER_ROUND * 1000)
            if rounds >= MIN_ROUNDS and time.perf_counter() - start > BUDGET_S:
                break
    return best
