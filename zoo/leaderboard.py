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


def new_row(task: str, model: str, metrics: dict[str, float], verified: bool, **known: Any) -> dict[str, Any]:
    """One leaderboard row; what its source does not know stays empty. ``origin``: the zoo's own entry, or
    "submitted" (``zoo.submissions``) with its ``source`` and ``source_url``."""
    return {
        "task": task,
        "rank": 0,
        "model": model,
        "metrics": metrics,
        "verified": verified,
        "params": None,
        "size_bytes": None,
        "latency_ms": None,
        "train_seconds": None,
        "book": {},
        "command": None,
        "intervals": {},
        "seeds": [],
        "seed_summary": {},
        "tied": False,
        "origin": "zoo",
        "source": None,
        "source_url": None,
    } | known


def _row(name: str, config: dict, card_text: str, weights_sha: str | None) -> dict[str, Any]:
    metrics, info = _card(card_text)
    evaluated = info.get("evaluated_sha256")
    verified = bool(evaluated) and evaluated == config.get("weights_sha256")
    if weights_sha is not None:
        verified = verified and weights_sha == evaluated
    task = config.get("task") or (ENTRIES[name].task if name in ENTRIES else "")
    return new_row(
        task,
        name,
        metrics,
        verified,
        params=info.get("num_params"),
        size_bytes=info.get("file_size"),
        latency_ms=info.get("cpu_latency_ms"),
        train_seconds=info.get("train_seconds"),
        book=info.get("book") or (ENTRIES[name].book if name in ENTRIES else {}),
        command=info.get("command"),
        intervals=info.get("intervals") or {},  # 95 % bootstrap interval per metric, over test items
        seeds=[r["seed"] for r in info.get("seed_runs") or []],
        seed_summary=info.get("seed_summary") or {},  # metric -> mean and std over the seeds
    )


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


def ranked_value(row: dict[str, Any], metric: str) -> float | None:
    """What a row is ranked by: the mean over its seeds where it was trained with several, else its value."""
    summary = row.get("seed_summary", {}).get(metric)
    return summary["mean"] if summary else row["metrics"].get(metric)


def _overlap(a: list[float] | None, b: list[float] | None) -> bool:
    return bool(a and b) and a[0] <= b[1] and b[0] <= a[1]


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort each task by its metrics in order (primary first), best first, and number the ranks. A row whose
    primary metric's interval overlaps the row above's is ``tied`` with it and shares its rank."""
    out = []
    for task_name, task in TASKS.items():
        mine = [r for r in rows if r["task"] == task_name]

        def key(r: dict[str, Any], task=task) -> tuple:
            values = [ranked_value(r, k) for k in task.metrics]
            return tuple(
                float("inf") if v is None else (v if k in task.lower_is_better else -v)
                for k, v in zip(task.metrics, values, strict=True)
            )

        previous = None
        for i, r in enumerate(sorted(mine, key=key), 1):
            here = r.get("intervals", {}).get(task.primary)
            tied = previous is not None and _overlap(here, previous.get("intervals", {}).get(task.primary))
            row = {**r, "rank": previous["rank"] if tied else i, "tied": tied}
            out.append(row)
            previous = row
    return out


def leaderboard(
    task: str | None = None, source: str = "embedded", ns: str | None = None, submissions: bool = True
) -> list[dict[str, Any]]:
    """Ranked rows (task, rank, model, metrics, params, size, latency, verified, book reference, origin).

    ``source``: ``"embedded"`` (the repository's hub/), ``"hf"`` (the namespace's models on the Hub),
    or a folder of checkpoints. ``submissions``: also rank the finished submissions of the results store
    (``origin`` "submitted", with their ``source`` and ``source_url``) beside the zoo's entries.
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
    if submissions:
        from .submissions import submitted_rows

        rows += submitted_rows()
    ranked = rank(rows)
    return [r for r in ranked if task is None or r["task"] == task]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """timm-style results: one row per model, sorted by task then rank; each metric with its interval and,
    for recipes trained with several seeds, their mean and standard deviation."""
    metric_cols = list(dict.fromkeys(k for t in TASKS.values() for k in t.metrics))
    cols = ["task", "rank", "tied", "model"]
    for k in metric_cols:
        cols += [k, f"{k}_lo", f"{k}_hi", f"{k}_seed_mean", f"{k}_seed_std"]
    cols += ["seeds", "params", "size_bytes", "latency_ms", "verified", "origin", "source"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        cells = [r["task"], r["rank"], r.get("tied", False), r["model"]]
        for k in metric_cols:
            lo_hi = r.get("intervals", {}).get(k) or [None, None]
            summary = r.get("seed_summary", {}).get(k) or {}
            cells += [
                _g(r["metrics"].get(k)),
                _g(lo_hi[0]),
                _g(lo_hi[1]),
                _g(summary.get("mean")),
                _g(summary.get("std")),
            ]
        cells += [" ".join(map(str, r.get("seeds", []))), r["params"], r["size_bytes"], r["latency_ms"], r["verified"]]
        cells += [r.get("origin", "zoo"), r.get("source_url") or r.get("source") or ""]
        w.writerow(cells)
    return buf.getvalue()


def _g(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


PERCENT = {"accuracy", "sample_confident", "drawn", "corrupted"}


def format_value(k: str, v: float | None) -> str:
    if v is None:
        return ""
    return f"{100 * v:.2f} %" if k in PERCENT else f"{v:.4g}"


def format_cell(r: dict[str, Any], k: str) -> str:
    """A metric as the markdown table shows it: value (interval); and the seeds' mean +- std."""
    v = r["metrics"].get(k)
    if v is None:
        return ""
    text = format_value(k, v)
    if pair := r.get("intervals", {}).get(k):
        lo, hi = (f"{100 * x:.2f}" if k in PERCENT else f"{x:.4g}" for x in pair)
        text += f" ({lo}–{hi})"
    if summary := r.get("seed_summary", {}).get(k):
        scale, unit = (100, " %") if k in PERCENT else (1, "")
        text += f"; {len(r['seeds'])} seeds {summary['mean'] * scale:.4g} ± {summary['std'] * scale:.2g}{unit}"
    return text


def format_book(r: dict[str, Any]) -> str:
    """The book's reference numbers for an entry (empty for the variants)."""
    return ", ".join(f"{k} {format_value(k, v)}" for k, v in (r["book"] or {}).items())


def format_origin(r: dict[str, Any]) -> str:
    """Where a row came from: the zoo's own entries, or a submission with its source linked."""
    if r.get("origin") != "submitted":
        return "zoo"
    url = r.get("source_url")
    return f"submitted ([{r['source']}]({url}))" if url else "submitted"


def to_markdown(rows: list[dict[str, Any]]) -> str:
    """One table per task; the README's model table is generated from this. '=' marks a rank shared with the
    row above (their intervals overlap)."""
    parts = []
    for task_name, task in TASKS.items():
        mine = [r for r in rows if r["task"] == task_name]
        if not mine:
            continue
        head = ["rank", "model", *task.metrics, "book", "params", "CPU ms", "verified", "from"]
        lines = [
            f"**{task_name}** ({task.dataset_name}, {task.split} split; ranked by {task.primary})",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        for r in mine:
            book = format_book(r)
            cells = [f"={r['rank']}" if r.get("tied") else str(r["rank"]), f"`{r['model']}`"]
            cells += [format_cell(r, k) for k in task.metrics]
            cells += [
                book,
                f"{r['params']:,}" if r["params"] else "",
                f"{r['latency_ms']:.2f}" if r["latency_ms"] else "",
            ]
            cells += ["yes" if r["verified"] else "no", format_origin(r)]
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
