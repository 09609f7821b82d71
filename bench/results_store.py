"""A results store with N finished submissions, for measuring the leaderboard at scale (``make bench``) and for
tests/test_scale.py: ``python -m bench.results_store --rows 10000 --into DIR``.

Each submission is what ``Store.evaluate`` leaves: a finished request (``requests/KEY.json``), a result with plausible
metrics for its task, every number finite, intervals around them (``results/KEY.json``), and a weights file whose
sha256 the result records (``models/NAME/model.safetensors``), so that the rows are verified as real ones are. A houses
submission is a real checkpoint (the zoo's ``house-prices-linear-regression`` under its new name: the app loads the
best-ranked houses model when it starts); the other tasks' weights are 256 placeholder bytes, which the leaderboard
only hashes (trying such a model fails; the ranges keep the zoo's best digits and latent models first, which the app
loads when a page opens). Seeded: the same arguments write the same store.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from zoo.catalog import ENTRIES, TASKS
from zoo.checkpoint_io import CARD_NAME, embedded_dir
from zoo.models import CONFIG_NAME, WEIGHTS_NAME
from zoo.submissions.store import Store

SHARE = {"digits": 0.4, "text": 0.2, "latent": 0.2, "houses": 0.2}  # how the rows fall on the tasks
# metric -> (low, high) of a plausible value; what is missing from a task's metrics is left out of its rows
RANGES = {
    "drawn": (0.55, 0.96),
    "tight": (0.55, 0.96),
    "corrupted": (0.70, 0.97),
    "accuracy": (0.95, 0.996),
    "loss": (0.02, 0.25),
    "bits_per_char": (1.6, 2.6),
    "frechet": (5.0, 150.0),  # above the zoo's best (dcgan-28, 2.07): the Latent tab decodes with the best at start
    "sample_confident": (0.5, 0.98),
    "sample_diversity": (1.0, 2.3),
    "sample_score": (1.0, 9.5),
    "mse": (8.0, 40.0),
    "mae": (2.0, 5.0),
}
LATENT_MSE = (0.01, 0.06)  # latent's mse is a pixel error, houses' a price error
START = datetime(2026, 1, 1, tzinfo=UTC)
HOUSES = "house-prices-linear-regression"  # the checkpoint every generated houses submission is (200 bytes of weights)


def _sig(x: float) -> float:
    return float(f"{x:.6g}")


def _metrics(task: str, rng: np.random.Generator) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Plausible finite metrics of one task and a 95 % interval around each."""
    metrics, intervals = {}, {}
    for k in TASKS[task].metrics:
        lo, hi = LATENT_MSE if (task, k) == ("latent", "mse") else RANGES[k]
        v = float(rng.uniform(lo, hi))
        if task == "text" and k == "loss":
            v = metrics["bits_per_char"] * float(np.log(2))
        half = (0.006 if k in TASKS[task].percent else 0.02 * v) * float(rng.uniform(0.5, 1.5))
        metrics[k] = _sig(v)
        intervals[k] = [_sig(v - half), _sig(v + half)]
    return metrics, intervals


def _architectures() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for e in ENTRIES.values():
        if e.architecture not in found.setdefault(e.task, []):
            found[e.task].append(e.architecture)
    return found


def write_store(into: Path, rows: int, seed: int = 0, prefix: str = "gen") -> list[str]:
    """Write ``rows`` finished submissions into the results store at ``into``; their keys."""
    rng = np.random.default_rng(seed)
    store, archs = Store(into), _architectures()
    for kind in ("requests", "results", "models"):
        (into / kind).mkdir(parents=True, exist_ok=True)
    tasks = list(SHARE)
    picks = rng.choice(len(tasks), size=rows, p=list(SHARE.values()))
    template = embedded_dir() / HOUSES
    houses = json.loads((template / CONFIG_NAME).read_text(encoding="utf-8"))
    keys = []
    for i in range(rows):
        task = tasks[int(picks[i])]
        name = f"{prefix}-{task}-{i:05d}"
        weights = (template / WEIGHTS_NAME).read_bytes() if task == "houses" else rng.bytes(256)
        sha = hashlib.sha256(weights).hexdigest()
        folder = into / "models" / name
        folder.mkdir(exist_ok=True)
        (folder / WEIGHTS_NAME).write_bytes(weights)
        architecture = archs[task][i % len(archs[task])]
        if task == "houses":  # a checkpoint zoo.load takes: its config (renamed) and card beside the weights
            architecture = houses["architecture"]
            config = json.dumps(houses | {"name": name}, allow_nan=False, indent=2, sort_keys=True)
            (folder / CONFIG_NAME).write_text(config + "\n", encoding="utf-8")
            (folder / CARD_NAME).write_bytes((template / CARD_NAME).read_bytes())
        metrics, intervals = _metrics(task, rng)
        when = (START + timedelta(minutes=i)).isoformat(timespec="seconds")
        params = int(rng.integers(1_000, 5_000_000))
        source = f"hf:someone-{i % 997}/{name}"
        key = store.key(name, sha)
        request = {
            "model": name,
            "task": task,
            "architecture": architecture,
            "sha256": sha,
            "params": params,
            "source": source,
            "revision": None,
            "source_url": f"https://huggingface.co/someone-{i % 997}/{name}",
            "status": "finished",
            "submitted_at": when,
            "updated_at": when,
            "started_at": when,
            "finished_at": when,
            "reason": None,
        }
        result = {
            "model": name,
            "source": source,
            "source_url": request["source_url"],
            "revision": None,
            "sha256": sha,
            "task": task,
            "architecture": architecture,
            "metrics": metrics,
            "intervals": intervals,
            "num_params": params,
            "file_size": 4 * params,
            "cpu_latency_ms": _sig(float(rng.uniform(0.02, 40.0))),
            "evaluated_at": when,
            "evaluation_seconds": _sig(float(rng.uniform(5, 120))),
            "dlfs_zoo": "0.1.0",
            "torch": "generated",
            "command": f"python -m training evaluate --folder {folder}",
        }
        for kind, record in (("requests", request), ("results", result)):
            text = json.dumps(record, allow_nan=False, indent=2, sort_keys=True) + "\n"
            (into / kind / f"{key}.json").write_text(text, encoding="utf-8")
        keys.append(key)
    return keys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.results_store", description=__doc__)
    p.add_argument("--rows", type=int, default=10_000, help="finished submissions to write")
    p.add_argument("--into", required=True, help="the results store's folder (made if missing)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    into = Path(args.into)
    os.makedirs(into, exist_ok=True)
    keys = write_store(into, args.rows, args.seed)
    print(f"wrote {len(keys)} finished submissions to {into}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
