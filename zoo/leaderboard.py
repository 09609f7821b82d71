"""Rank the zoo per task from the model cards' ``model-index`` metadata, beside the finished submissions.

A row is *verified* when the card's metrics were computed on exactly these weights: the sha256 the
evaluation recorded equals the one in ``config.json`` (and, for local copies, the file's own hash).
``python -m training evaluate --verify`` is what recomputes the numbers themselves.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import hub
from .basics import CONFIG_NAME, WEIGHTS_NAME, sha256_file
from .catalog import ENTRIES, TASKS, saw_labels
from .checkpoint_io import CARD_NAME, embedded_dir
from .submissions import moderation
from .submissions.filecache import FileCache
from .submissions.store import Store


@dataclass(frozen=True, kw_only=True)
class Row:
    """One model's line of the leaderboard; what its source does not know stays empty. ``origin``: the zoo's own
    entry, or "submitted" (``zoo.submissions``) with its ``source`` and ``source_url``."""

    task: str
    rank: int = 0  # 1 is best; set by ``rank``
    model: str
    metrics: dict[str, float]
    verified: bool  # the metrics were computed on exactly these weights
    params: int | None = None
    size_bytes: int | None = None
    latency_ms: float | None = None  # one CPU forward pass
    train_seconds: float | None = None
    book: dict[str, float] = field(default_factory=dict)  # the book's reference numbers (its own entries only)
    command: str | None = None  # what trained or evaluated it
    intervals: dict[str, list[float]] = field(default_factory=dict)  # 95 % bootstrap interval per metric
    seeds: list[int] = field(default_factory=list)
    seed_summary: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> mean and std over seeds
    tied: bool = False  # shares its rank with another row (their ranked values read the same as shown; ``rank``)
    saw_labels: bool | None = None  # trained on the dataset's labels (None: not known, a submission)
    origin: str = "zoo"
    source: str | None = None
    source_url: str | None = None
    note: str | None = None  # moderation: why the row is flagged (``zoo.submissions.moderation``)
    link: str | None = None  # moderation: where to read more

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON takes it (``python -m zoo leaderboard --json``): ``dataclasses.asdict``'s answer, made
        without its deep copy of every number."""
        return {name: _plain(getattr(self, name)) for name in _FIELDS}

    def to_json(self) -> str:
        """The row as one line of strict JSON (what ``to_dict`` holds, without copying it first)."""
        return _ENCODE({name: getattr(self, name) for name in _FIELDS})

    def json_parts(self) -> list[str]:
        """``to_json`` in three pieces around the rank and ``tied``, which ``json_line`` puts back: a row kept
        between processes is ranked again without being encoded again (``zoo.board_cache``)."""
        head, middle, tail = (_ENCODE({name: getattr(self, name) for name in part}) for part in _PARTS)
        return [f'{head[:-1]}, "rank": ', f', {middle[1:-1]}, "tied": ', f", {tail[1:]}"]

    def numbers(self) -> list[Any]:
        """Every field of the row that holds numbers."""
        numbers = [self.metrics, self.intervals, self.seed_summary, self.book, self.latency_ms, self.train_seconds]
        return [*numbers, self.params, self.size_bytes]

    def finite(self) -> bool:
        """Every number of the row is finite (only such rows are ranked, and the JSON stays strict)."""
        return _finite(self.numbers())


def _finite(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)  # the C encoder refuses NaN and infinities: one pass, fast
    except ValueError:
        return False
    return True


def _total(r: Row) -> float:
    """The sum of a row's numbers (of the usual shapes): finite only when every one of them is."""
    total = sum(r.metrics.values()) + sum(map(sum, r.intervals.values())) + sum(r.book.values())
    total += sum(sum(s.values()) for s in r.seed_summary.values())
    return total + (r.latency_ms or 0.0) + (r.train_seconds or 0.0) + float(r.params or 0) + float(r.size_bytes or 0)


def finite_rows(rows: list[Row]) -> list[Row]:
    """The rows whose every number is finite. Fast way first: a sum of finite numbers that stays finite means each
    was (NaN and infinities carry into any sum); a sum that is not, or a value of another shape, and each row's
    numbers are checked one by one."""
    try:
        if math.isfinite(math.fsum(_total(r) for r in rows)):
            return rows
    except (TypeError, ValueError, OverflowError):
        pass
    return [r for r in rows if r.finite()]


_FIELDS = tuple(f.name for f in dataclasses.fields(Row))
_PARTS = (_FIELDS[: _FIELDS.index("rank")], _FIELDS[2 : _FIELDS.index("tied")], _FIELDS[_FIELDS.index("tied") + 1 :])
_ENCODE = json.JSONEncoder(allow_nan=False).encode  # one encoder for every row (``json.dumps`` makes one a call)


def _plain(value: Any) -> Any:
    """A copy of a row's value: dicts and lists copied all the way down, everything else as it is."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------------------------------- the rows
def _card(text: str) -> tuple[dict[str, float], dict[str, Any]]:
    from huggingface_hub import ModelCard

    card = ModelCard(text)
    metrics = {r.metric_type: r.metric_value for r in card.data.eval_results or []}
    return metrics, dict(card.data.to_dict().get("dlfs_zoo") or {})


def checkpoint_row(name: str, config: dict, card: list[Any], weights_sha: str | None) -> Row:
    """A checkpoint's row from its config, its card (``read_card``) and its weights' sha256 (None: not checked)."""
    metrics, info = card
    evaluated = info.get("evaluated_sha256")
    verified = bool(evaluated) and evaluated == config.get("weights_sha256")
    if weights_sha is not None:
        verified = verified and weights_sha == evaluated
    return Row(
        task=config.get("task") or (ENTRIES[name].task if name in ENTRIES else ""),
        model=name,
        metrics=dict(metrics),
        verified=verified,
        params=info.get("num_params"),
        size_bytes=info.get("file_size"),
        latency_ms=info.get("cpu_latency_ms"),
        train_seconds=info.get("train_seconds"),
        book=info.get("book") or (ENTRIES[name].book if name in ENTRIES else {}),
        command=info.get("command"),
        intervals=info.get("intervals") or {},  # 95 % bootstrap interval per metric, over test items
        seeds=[r["seed"] for r in info.get("seed_runs") or []],
        seed_summary=info.get("seed_summary") or {},  # metric -> mean and std over the seeds
        saw_labels=saw_labels(name),
    )


def _local_rows(folder: Path, cache: FileCache) -> list[Row]:
    """A folder of checkpoints' rows; each file parsed or hashed again only when it changed (``cache``)."""
    rows = []
    for sub in sorted(folder.iterdir()) if folder.is_dir() else []:
        config = cache.file(sub / CONFIG_NAME, read_json)
        card = cache.file(sub / CARD_NAME, read_card)
        if config is not None and card is not None:
            sha = cache.file(sub / WEIGHTS_NAME, sha256_file) or ""
            rows.append(checkpoint_row(sub.name, config, card, sha))
    return rows


def read_json(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as f:  # not pathlib: 20,000 files are read when nothing is kept
        return json.loads(f.read())


def read_card(path: str | Path) -> list[Any]:
    """A card's metrics and ``dlfs_zoo`` metadata, as JSON holds them (the cache keeps them)."""
    metrics, info = _card(Path(path).read_text(encoding="utf-8"))
    return json.loads(json.dumps([metrics, info], default=str))


def _hf_rows(ns: str) -> list[Row]:
    rows = []
    for repo_id in hub.model_repos(ns):
        config = json.loads(hub.read_text(repo_id, CONFIG_NAME))
        card = list(_card(hub.read_text(repo_id, CARD_NAME)))
        rows.append(checkpoint_row(repo_id.split("/", 1)[1], config, card, None))
    return rows


def submitted_rows(store: Store | None = None) -> list[Row]:
    """Rows of the finished submissions; ``verified`` when the stored weights are the evaluated ones."""
    store = store or Store()
    rows = []
    for result in store.results():
        model = result.get("model")
        row = submitted_row(result, store.weights_sha256(model) if isinstance(model, str) else None)
        rows += [row] if row is not None else []
    return rows


def submitted_row(result: dict[str, Any], weights_sha: str | None) -> Row | None:
    """A finished submission's row from its result file; ``verified`` when its admitted weights (``weights_sha``;
    None: gone) are the evaluated ones. None for a result that lacks what a row needs."""
    try:
        return Row(
            task=result["task"],
            model=result["model"],
            metrics=dict(result["metrics"]),
            verified=weights_sha is not None and weights_sha == result["sha256"],
            params=result.get("num_params"),
            size_bytes=result.get("file_size"),
            latency_ms=result.get("cpu_latency_ms"),
            command=result.get("command"),
            intervals=result.get("intervals") or {},
            origin="submitted",
            source=result.get("source"),
            source_url=result.get("source_url"),
        )
    except (KeyError, TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------ the ranking
def ranked_value(row: Row, metric: str) -> float | None:
    """What a row is ranked by: the mean over its seeds where it was trained with several, else its value."""
    summary = row.seed_summary.get(metric)
    return summary["mean"] if summary else row.metrics.get(metric)


def _ranked(row: Row, rank: int, tied: bool) -> Row:
    """``dataclasses.replace(row, rank=rank, tied=tied)`` without running the frozen ``__init__`` again (it sets
    every field through ``object.__setattr__``), which counts at 10,000 rows."""
    new = object.__new__(type(row))
    new.__dict__.update(row.__dict__, rank=rank, tied=tied)
    return new


def shown_value(task: str, metric: str, value: float) -> float:
    """A value at the precision the tables show it: a percentage's two decimals, else four significant digits."""
    return float(f"{100 * value:.2f}") if _percent(task, metric) else float(f"{value:.4g}")


def _overlap(a: list[float] | None, b: list[float] | None) -> bool:
    return bool(a and b) and a[0] <= b[1] and b[0] <= a[1]


def sort_key(row: Row) -> list[float]:
    """What ``rank`` sorts a row of its task by: each metric in order, the better value smaller (a missing one last)."""
    task = TASKS[row.task]
    values = [ranked_value(row, k) for k in task.metrics]
    signs = [1.0 if k in task.lower_is_better else -1.0 for k in task.metrics]
    return [math.inf if v is None else sign * v for v, sign in zip(values, signs, strict=True)]


def ranks(items: list[tuple[str, list[float], str, list[float] | None]]) -> list[tuple[int, int, bool]]:
    """``(index, rank, tied)`` for ``items`` (task, ``sort_key``, model, primary metric's interval), task by task,
    best first: what ``rank`` numbers rows by, and ``zoo.board_cache`` rows kept between processes.

    A row whose primary metric's interval overlaps the interval of its group's first row (the best row it could be
    tied with) is ``tied``: it shares that row's rank, and the next untied row's rank counts them all (1, =1, 3).
    Comparing with the group's first row, not with the row just above, keeps a long run of close rows from
    chaining into one rank. Rows without intervals tie when their primary values read the same as shown."""
    out = []
    for task_name, task in TASKS.items():
        keyed = sorted((key, model, n, here) for n, (t, key, model, here) in enumerate(items) if t == task_name)
        first = first_here = first_shown = None  # the group's first row: its rank, interval and value as shown
        for i, (values, _, n, here) in enumerate(keyed, 1):  # n: two rows alike never compare their intervals
            shown = None if math.isinf(values[0]) else shown_value(task_name, task.primary, abs(values[0]))
            if first is None:
                tied = False
            elif here and first_here:
                tied = _overlap(here, first_here)
            else:
                tied = shown is not None and shown == first_shown
            if not tied:
                first, first_here, first_shown = i, here, shown
            out.append((n, first, tied))
    return out


def rank(rows: list[Row]) -> list[Row]:
    """The rows of every known task sorted best first and numbered (``ranks``: 1, =1, 3, ...)."""
    known = [r for r in rows if r.task in TASKS]
    items = [(r.task, sort_key(r), r.model, r.intervals.get(TASKS[r.task].primary)) for r in known]
    return [_ranked(known[n], rank, tied) for n, rank, tied in ranks(items)]


def leaderboard(
    task: str | None = None, source: str = "embedded", ns: str | None = None, submissions: bool = True
) -> list[Row]:
    """Ranked rows (task, rank, model, metrics, params, size, latency, verified, book reference, origin).

    ``source``: ``"embedded"`` (the repository's hub/), ``"hf"`` (the namespace's models on the Hub),
    or a folder of checkpoints. ``submissions``: also rank the finished submissions of the results store
    (``origin`` "submitted", with their ``source`` and ``source_url``) beside the zoo's entries.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    store = Store()
    with store.cache.batch() as cache:  # what was read is saved once, at the end
        if source == "embedded":
            rows = _local_rows(embedded_dir(), cache)
        elif source == "hf":
            rows = _hf_rows(hub.resolve_namespace(ns))
        elif os.path.isdir(source):
            rows = _local_rows(Path(source), cache)
        else:
            raise ValueError(f"source must be 'embedded', 'hf' or an existing folder, got {source!r}")
        if submissions:
            rows += submitted_rows(store)
            rows = moderation.apply(rows, store.root)  # withdrawn submissions dropped, flagged rows noted
    rows = finite_rows(rows)  # the others are never ranked, and the JSON stays strict
    ranked = rank(rows)
    return [r for r in ranked if task is None or r.task == task]


# ------------------------------------------------------------------------------------ the JSON
def to_json(rows: list[Row]) -> str:
    """The rows as one JSON array, one row a line (the C encoder: ``indent`` would take the slow pure-Python one)."""
    return json_array([r.to_json() for r in rows])


def json_array(lines: list[str]) -> str:
    """Rows' JSON lines as the array ``to_json`` prints."""
    return "[\n" + ",\n".join(lines) + "\n]" if lines else "[]"


def json_line(parts: list[str], rank: int, tied: bool, note: str | None = None, link: str | None = None) -> str:
    """A row's ``to_json`` from its ``json_parts``, ranked; with a moderation ``note`` (and ``link``) set in it."""
    line = f"{parts[0]}{rank}{parts[1]}{'true' if tied else 'false'}{parts[2]}"
    return _ENCODE(json.loads(line) | {"note": note, "link": link}) if note else line


# ------------------------------------------------------------------------------------ the tables
def to_csv(rows: list[Row]) -> str:
    """timm-style results: one row per model, sorted by task then rank; each metric with its interval and,
    for recipes trained with several seeds, their mean and standard deviation."""
    metric_cols = list(dict.fromkeys(k for t in TASKS.values() for k in t.metrics))
    cols = ["task", "rank", "tied", "model"]
    for k in metric_cols:
        cols += [k, f"{k}_lo", f"{k}_hi", f"{k}_seed_mean", f"{k}_seed_std"]
    cols += ["seeds", "params", "size_bytes", "latency_ms", "verified", "saw_labels", "origin", "source"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        cells = [r.task, r.rank, r.tied, r.model]
        for k in metric_cols:
            lo_hi = r.intervals.get(k) or [None, None]
            summary = r.seed_summary.get(k) or {}
            cells += [
                _g(r.metrics.get(k)),
                _g(lo_hi[0]),
                _g(lo_hi[1]),
                _g(summary.get("mean")),
                _g(summary.get("std")),
            ]
        cells += [" ".join(map(str, r.seeds)), r.params, r.size_bytes, r.latency_ms, r.verified, format_labels(r)]
        cells += [r.origin, r.source_url or r.source or ""]
        w.writerow(cells)
    return buf.getvalue()


def _g(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


PERCENT = frozenset().union(*(t.percent for t in TASKS.values()))  # every task's metrics shown as percentages


def _percent(task: str | None, k: str) -> bool:
    """Whether a metric is shown as a percentage: as its task declares (``Task.percent``)."""
    return k in (TASKS[task].percent if task in TASKS else PERCENT)


def format_value(k: str, v: float | None, task: str | None = None) -> str:
    """A metric's value as the tables show it: a percentage for shares, else four significant digits."""
    if v is None:
        return ""
    return f"{100 * v:.2f} %" if _percent(task, k) else f"{v:.4g}"


def format_cell(r: Row, k: str) -> str:
    """A metric as the markdown table shows it: value (interval); and the seeds' mean +- std."""
    v = r.metrics.get(k)
    if v is None:
        return ""
    percent = _percent(r.task, k)
    text = format_value(k, v, r.task)
    if pair := r.intervals.get(k):
        lo, hi = (f"{100 * x:.2f}" if percent else f"{x:.4g}" for x in pair)
        text += f" ({lo}–{hi})"
    if summary := r.seed_summary.get(k):
        scale, unit = (100, " %") if percent else (1, "")
        text += f"; {len(r.seeds)} seeds {summary['mean'] * scale:.4g} ± {summary['std'] * scale:.2g}{unit}"
    return text


def format_book(r: Row) -> str:
    """The book's reference numbers for an entry (empty for the variants)."""
    return ", ".join(f"{k} {format_value(k, v, r.task)}" for k, v in (r.book or {}).items())


def format_labels(r: Row) -> str:
    """Whether a model saw the dataset's labels in training: "yes", "no", or "" where that is not known."""
    return "" if r.saw_labels is None else "yes" if r.saw_labels else "no"


def labels_column(task: str | None) -> list[str]:
    """The "saw labels" column's header, for a task whose models may learn without labels (``Task.labels_column``)."""
    return ["saw labels"] if task in TASKS and TASKS[task].labels_column else []


def format_origin(r: Row) -> str:
    """Where a row came from: the zoo's own entries, or a submission with its source linked."""
    if r.origin != "submitted":
        return "zoo"
    return f"submitted ([{r.source}]({r.source_url}))" if r.source_url else "submitted"


def to_markdown(rows: list[Row]) -> str:
    """One table per task; the README's model table is generated from this. '=' marks a shared rank (``rank``:
    1, 2, =3, =3, 5)."""
    parts = []
    for task_name, task in TASKS.items():
        mine = [r for r in rows if r.task == task_name]
        if not mine:
            continue
        head = ["rank", "model", *task.metrics, *labels_column(task_name), "book", "params", "CPU ms", "verified"]
        head.append("from")
        lines = [
            f"**{task_name}** ({task.dataset_name}, {task.split} split; ranked by {task.primary})",
            "",
            "| " + " | ".join(head) + " |",
            "|" + "---|" * len(head),
        ]
        for r in mine:
            cells = [f"={r.rank}" if r.tied else str(r.rank), f"`{r.model}`"]
            cells += [format_cell(r, k) for k in task.metrics]
            cells += [format_labels(r) for _ in labels_column(task_name)]
            cells += [format_book(r), f"{r.params:,}" if r.params else ""]
            cells += [f"{r.latency_ms:.2f}" if r.latency_ms else ""]
            cells += ["yes" if r.verified else "no", format_origin(r)]
            cells[-1] += f" {moderation.flag_text(r.note, r.link)}" if r.note else ""  # a flagged row's note
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
