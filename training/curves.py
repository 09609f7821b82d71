"""A run's curve: every step's training loss and every epoch's record, kept as it trains and written beside the
checkpoint as ``training_log.json`` (``zoo.checkpoint_io.read_training_log`` reads it back). A listener hears the
run as it goes: ``python -m training train --progress-file F`` appends each event to F as one JSON line (the app's
Train tab reads them from its child process)."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 1  # training_log.json's layout version
MAX_POINTS = 1000  # the per-step series is averaged over runs of steps down to at most this many points
PROGRESS_EVERY_S = 0.5  # a listener hears a step at most this often (reading the loss waits for the step)

Listener = Callable[[dict[str, Any]], None]


def finite(value: Any, digits: int = 6) -> Any:
    """A number rounded, None where it is not finite (JSON has no NaN); other values as they are, nested too."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v, digits) for v in value]
    return value


class Curve:
    """What a run records as it trains: each step's loss with its place in epochs, each epoch's record."""

    def __init__(self, listener: Listener | None = None, every_s: float = PROGRESS_EVERY_S) -> None:
        self.listener = listener
        self.every_s = every_s
        self.losses: list[float] = []  # every optimizer step's mean loss over its batch, in order
        self.places: list[float] = []  # each step's place in epochs: 1.5 is half through the second epoch
        self.epochs: list[dict[str, Any]] = []  # the trainer's record of each epoch (loss, lr, samples/s, ...)
        self.source: str | None = None  # what the steps are, when they are not optimizer steps (a forest's trees)
        self.started = time.monotonic()
        self._heard = -math.inf

    def tell(self, event: str, **fields: Any) -> None:
        """An event for the listener (none: nothing happens), with the seconds since the run started."""
        if self.listener is not None:
            self.listener(finite({"event": event, "elapsed": time.monotonic() - self.started, **fields}, 4))

    def wants_progress(self) -> bool:
        """True when a listener has not heard of a step for ``every_s`` seconds (the trainer then reports one)."""
        if self.listener is None or time.monotonic() - self._heard < self.every_s:
            return False
        self._heard = time.monotonic()
        return True

    def progress(self, epoch: int, epochs: int, step: int, steps: int, loss: float, samples_per_s: float) -> None:
        """Step ``step`` of ``steps`` in epoch ``epoch`` of ``epochs``; ``loss`` is the epoch's running mean."""
        done = (epoch - 1 + step / max(steps, 1)) / max(epochs, 1)
        self.tell(
            "step",
            epoch=epoch,
            epochs=epochs,
            step=len(self.losses) + step,
            fraction=done,
            place=len(self.epochs) + step / max(steps, 1),
            loss=loss,
            samples_per_s=samples_per_s,
        )

    def add_epoch(self, epoch: int, losses: list[float], record: dict[str, Any]) -> None:
        """An epoch's step losses and the trainer's record of it (``epoch`` counts within one ``fit``; the places
        count on across several)."""
        before = len(self.epochs)
        self.losses += losses
        self.places += [before + i / len(losses) for i in range(1, len(losses) + 1)]
        self.epochs.append(finite(dict(record)))
        self.tell("epoch", **record)

    def thinned(self, max_points: int = MAX_POINTS) -> dict[str, Any]:
        """The step series in columns, averaged over ``every`` consecutive steps so that at most ``max_points``
        remain: ``step`` is the last step of each run of steps, ``epoch`` its place in epochs."""
        n = len(self.losses)
        every = max(1, math.ceil(n / max_points))
        steps, places, losses = [], [], []
        for a in range(0, n, every):
            b = min(a + every, n)
            kept = [v for v in self.losses[a:b] if math.isfinite(v)]
            steps.append(b)
            places.append(round(self.places[b - 1], 4))
            losses.append(round(statistics.fmean(kept), 6) if kept else None)
        return {"every": every, "step": steps, "epoch": places, "loss": losses}

    def log(self, **about: Any) -> dict[str, Any]:
        """training_log.json's document: what the run was (``about``: name, command, seed, metrics, ...), its
        step series, its epochs, and its mean throughput."""
        rates = [r["samples_per_s"] for r in self.epochs if isinstance(r.get("samples_per_s"), float)]
        throughput = statistics.fmean(rates) if rates else None
        return finite(
            {
                "format": FORMAT,
                **about,
                **({"source": self.source} if self.source else {}),
                "samples_per_s": throughput,
                "steps": self.thinned(),
                "epochs": self.epochs,
            }
        )


def log_from_history(history: list[dict[str, Any]], **about: Any) -> dict[str, Any] | None:
    """A training log for a checkpoint trained before runs kept one, from the per-epoch records its card holds:
    the step series is each epoch's mean training loss (a run of that epoch's steps averaged, as ``thinned``
    averages), the epochs are the records; ``about`` is what the run was (its ``batch_size`` among it). None when
    the card holds fewer than two epochs, or an epoch without a training loss."""
    epochs = [r for r in history if isinstance(r.get("train_loss"), float)]
    if len(epochs) < 2 or len(epochs) != len(history):
        return None
    per_epoch = {math.ceil(round(r["samples_per_s"] * r["seconds"]) / (about.get("batch_size") or 1)) for r in epochs}
    every = per_epoch.pop() if len(per_epoch) == 1 else None  # steps per epoch, when every epoch had as many
    source = (
        "Recorded from the run's own per-epoch records (kept in its card); the run predates per-step logs, so "
        "each point is one epoch's mean training loss."
    )
    return finite(
        {
            "format": FORMAT,
            **about,
            "source": source,
            "samples_per_s": statistics.fmean(r["samples_per_s"] for r in epochs),
            "steps": {
                "every": every,
                "step": [r["epoch"] * every for r in epochs] if every else [r["epoch"] for r in epochs],
                "epoch": [float(r["epoch"]) for r in epochs],
                "loss": [r["train_loss"] for r in epochs],
            },
            "epochs": epochs,
        }
    )


class ProgressFile:
    """A listener that appends each event to a file as one JSON line, flushed at once (another process reads it
    while the run goes on)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __call__(self, event: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(event, allow_nan=False) + "\n")
