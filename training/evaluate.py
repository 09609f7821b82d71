"""What every task's evaluation shares: the ``Evaluation`` (metrics, per-item values, bootstrap intervals),
the MNIST test split (read by the digits and the latent tasks) and the CPU latency timer. Each task's own
metrics are computed in its module of ``training.tasks``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import torch
from torch import Tensor

from . import data


@cache
def mnist_test() -> tuple[Tensor, Tensor]:
    return data.mnist_pixels(train=False)


@dataclass
class Evaluation:
    """Metrics, and for each one that is a mean over test items the per-item values (for its interval)."""

    metrics: dict[str, float]
    items: dict[str, Tensor] = field(default_factory=dict)
    fixed_intervals: dict[str, list[float]] = field(default_factory=dict)  # computed by the metric's own bootstrap
    benchmarks: dict[str, dict[str, str]] = field(default_factory=dict)  # generated set -> version, items' sha256

    def intervals(self, resamples: int = 1000, seed: int = 0) -> dict[str, list[float]]:
        """95 % percentile-bootstrap intervals over test items, from a fixed seed (so they verify too)."""
        out, draws = {}, {}
        for name, values in self.items.items():
            values = values.double().flatten()
            n = len(values)
            if n not in draws:  # every metric over the same items is resampled alike (one seed): drawn once
                draws[n] = torch.randint(n, (resamples, n), generator=torch.Generator().manual_seed(seed))
            means = values.take(draws[n]).mean(1)
            lo, hi = torch.quantile(means, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
            out[name] = [lo, hi]
        return out | self.fixed_intervals


@torch.inference_mode()
def latency_ms(run: Callable[[], Any], repeats: int = 50) -> float:
    """Median wall time of ``run()`` (one use of a model, ``Task.latency_call``) after 5 warm-up calls, in ms."""
    for _ in range(5):
        run()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)
