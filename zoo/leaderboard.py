"""Rank the zoo per task from the model cards' ``model-index`` metadata.

A row is *verified* when the card's metrics were computed on exactly these weights: the sha256 the
evaluation recorded equals the one in ``config.json`` (and, for local copies, the file's own hash).
``python -m training evaluate --verify`` is what recomputes the numbers themselves.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from .catalog import ENTRIES, TASKS
from .hub import CONFIG_NAME, embedded_dir, resolve_namespace
from .models import WEIGHTS_NAME, sha256_file


def _card(text: str) -> tuple[dict[str, float], dict[str, Any]]:
    from huggingface_hub import ModelCard

    card = ModelCard(text)
    metrics = {r.metric_type: r.metric_value for r in card.data.eval_results or []}
    return metrics, dict(card.data.to_dict().get("dlfs_zoo") or {})


def _row(name: str, config: dict, card_text: str, weights_sha: str | None) -> dict[str, Any]:
    metrics, info = _card(card_text)
    evaluated = info.get("evaluated_sha256")
    verified = bool(evaluated) and evaluated == config.get("weights_sha256")
    if weights_sha is not None:
        verified = verified and weights_sha == evaluated
    task = config.get("task") or (ENTRIES[name].task if name in ENTRIES else "")
    return {
        "task": task,
        "rank": 0,
        "model": name,
        "metrics": metrics,
        "verified": verified,
        "params": info.get("num_params"),
        "size_bytes": info.get("file_size"),
        "latency_ms": info.get("cpu_latency_ms"),
        "train_seconds": info.get("train_seconds"),
        "book": info.get("book") or (ENTRIES[name].book if name in ENTRIES else {}),
        "command": info.get("command"),
    }


def _local_rows(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for sub in sorted(folder.iterdir()) if folder.is_dir() else []:
        if (sub / CONFIG_NAME).is_file() and (sub / "README.md").is_file():
            config = json.loads((sub / CONFIG_NAME).read_text())
            weights = sub / WEIGHTS_NAME
            sha = sha256_file(weights) if weights.is_file() else ""
            rows.append(_row(sub.name, config, (sub / "README.md").read_text(), sha))
    return rows


def _hf_rows(ns: str) -> list[dict[str, Any]]:
    from huggingface_hub import HfApi, hf_hub_download

    rows = []
    for m in HfApi().list_models(author=ns):
        name = m.id.split("/", 1)[1]
        config = json.loads(Path(hf_hub_download(m.id, CONFIG_NAME)).read_text())
        card = Path(hf_hub_download(m.id, "README.md")).read_text()
        rows.append(_row(name, config, card, None))
    return rows


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort each task by its metrics in order (primary first), best first; number the ranks."""
    out = []
    for task_name, task in TASKS.items():
        mine = [r for r in rows if r["task"] == task_name]

        def key(r: dict[str, Any], task=task) -> tuple:
            return tuple(
                (v if k in task.lower_is_better else -v) if (v := r["metrics"].get(k)) is not None else float("inf")
                for k in task.metrics
            )

        for i, r in enumerate(sorted(mine, key=key), 1):
            out.append({**r, "rank": i})
    return out


def leaderboard(task: str | None = None, source: str = "embedded", ns: str | None = None) -> list[dict[str, Any]]:
    """Ranked rows (task, rank, model, metrics, params, size, latency, verified, book reference).

    ``source``: ``"embedded"`` (the repository's hub/), ``"hf"`` (the namespace's models on the Hub),
    or a folder of checkpoints.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    if source == "embedded":
        rows = _local_rows(embedded_dir())
    elif source == "hf":
        rows = _hf_rows(resolve_namespace(ns))
    elif os.path.isdir(source):
        rows = _local_rows(Path(source))
    else:
        raise ValueError(f"source must be 'embedded', 'hf' or an existing folder, got {source!r}")
    ranked = rank(rows)
    return [r for r in ranked if task is None or r["task"] == task]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """timm-style results: one row per model, sorted by task then rank, metrics as columns."""
    metric_cols = list(dict.fromkeys(k for t in TASKS.values() for k in t.metrics))
    cols = ["task", "rank", "model", *metric_cols, "params", "size_bytes", "latency_ms", "verified"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(
            [
                r["task"],
                r["rank"],
                r["model"],
                *(("" if (v := r["metrics"].get(k)) is None else f"{v:.6g}") for k in metric_cols),
                r["params"],
                r["size_bytes"],
                r["latency_ms"],
                r["verified"],
            ]
        )
    return buf.getvalue()


def _fmt(k: str, v: float | None) -> str:
    if v is None:
        return ""
    return f"{100 * v:.2f} %" if k in ("accuracy", "sample_confident") else f"{v:.4g}"


def to_markdown(rows: list[dict[str, Any]]) -> str:
    """One table per task; the README's model table is generated from this."""
    parts = []
    for task_name, task in TASKS.items():
        mine = [r for r in rows if r["task"] == task_name]
        if not mine:
            continue
        head = ["rank", "model", *task.metrics, "book", "params", "CPU ms", "verified"]
        lines = [
            f"**{task_name}** ({task.dataset_name}, {task.split} split)",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        for r in mine:
            book = ", ".join(f"{k} {_fmt(k, v)}" for k, v in (r["book"] or {}).items())
            lines.append(
                "| "
                + " | ".join(
                    [
                        str(r["rank"]),
                        f"`{r['model']}`",
                        *(_fmt(k, r["metrics"].get(k)) for k in task.metrics),
                        book,
                        f"{r['params']:,}" if r["params"] else "",
                        f"{r['latency_ms']:.2f}" if r["latency_ms"] else "",
                        "yes" if r["verified"] else "no",
                    ]
                )
                + " |"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
