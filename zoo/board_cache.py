"""``python -m zoo leaderboard --json`` at 10,000 rows (BENCHMARKS.md, section 12): what it prints is kept between
processes, whole and row by row, under the stamps (inode, mtime, size) of the files each row comes from.

- No file changed: the kept text is printed; nothing is read, hashed or ranked.
- Some did: only their rows are built again (a submission's result, request and weights; a checkpoint's config,
  card and weights); every row is ranked again from its kept sort key, and the text is put together from the rows'
  kept JSON (``Row.json_parts``), so an unchanged row is neither parsed nor encoded again.
- The ranking's code or the moderation state changed, or nothing is kept: every row is built again.

Both files sit beside the read cache (``filecache.cache_dir()``); deleting them is always safe. Every stamp is
taken once, before its file is read, so a file replaced meanwhile is read again next time; a file younger than
``filecache.RACY_NS`` is not trusted: its row is built again next time, and the whole text is not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import catalog
from .basics import CONFIG_NAME, WEIGHTS_NAME, atomic_write_bytes, atomic_write_text, sha256_file
from .catalog import TASKS
from .checkpoint_io import CARD_NAME, embedded_dir
from .leaderboard import (
    Row,
    checkpoint_row,
    finite_rows,
    json_array,
    json_line,
    leaderboard,
    ranks,
    read_card,
    read_json,
    sort_key,
    submitted_row,
    to_json,
)
from .submissions import filecache, moderation
from .submissions import store as results_store
from .submissions.store import Store

FORMAT = 1  # the kept files' layout (part of every key: another layout never matches)
MISSING: list = []  # the stamp of a file that is not there
UNSURE = filecache.UNSURE  # the stamp of a file too young to trust: it matches no file, so its row is built again

# the modules whose code shapes the rows: what was kept is stale when one of them changed
_CODE = (__file__, sys.modules[Row.__module__].__file__, catalog.__file__, moderation.__file__, results_store.__file__)


def leaderboard_json(
    task: str | None = None, source: str = "embedded", ns: str | None = None, submissions: bool = True
) -> str:
    """``to_json(leaderboard(...))``, the same text, built again only where files changed."""
    if source == "hf" or (source != "embedded" and not os.path.isdir(source)) or (task and task not in TASKS):
        return to_json(leaderboard(task, source=source, ns=ns, submissions=submissions))
    folder = embedded_dir() if source == "embedded" else Path(source)
    root = Store().root if submissions else None
    where = repr((str(folder.resolve()), str(root.resolve()) if root else None, task))
    base = filecache.cache_dir() / hashlib.sha256(where.encode()).hexdigest()[:16]
    stamps = Stamps(folder, root)  # every stamp, taken before anything is read
    key = stamps.key()
    if key is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError), open(f"{base}.board.json", encoding="utf-8") as f:
            if f.readline() == key + "\n":
                return f.read()
    kept = _load(Path(f"{base}.rows"), stamps)
    units = {**_checkpoints(folder, stamps, kept), **(_submissions(root, stamps, kept) if root else {})}
    text = _assemble(units, root, task)
    with contextlib.suppress(OSError):
        base.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(Path(f"{base}.rows"), marshal.dumps({"general": stamps.general, "units": units}))
        if key is not None:
            atomic_write_text(Path(f"{base}.board.json"), f"{key}\n{text}")
    return text


class Stamps:
    """The stamps of every file the rows of ``folder`` (and of the store at ``root``) can come from, taken at once."""

    def __init__(self, folder: Path, root: Path | None) -> None:
        self.young = time.time_ns() - filecache.RACY_NS
        self.general = [FORMAT, *map(_stamp, _CODE)]  # what every kept row depends on
        self.checkpoints = _inside(str(folder), (CONFIG_NAME, CARD_NAME, WEIGHTS_NAME))
        self.moderation = MISSING  # read whole each time: a flag changes no row's kept entry
        self.results = self.requests = self.weights = {}
        if root is not None:
            base = os.fspath(root)
            self.moderation = _stamp(os.path.join(base, moderation.STATE_NAME))
            self.results = _files(os.path.join(base, "results"))
            self.requests = _files(os.path.join(base, "requests"))
            self.weights = {k: v[0] for k, v in _inside(os.path.join(base, "models"), (WEIGHTS_NAME,)).items()}

    def trusted(self, stamp: list) -> list:
        """``stamp``, or ``UNSURE`` for a file modified too recently to be sure of."""
        return UNSURE if stamp and stamp[1] > self.young else stamp

    def key(self) -> str | None:
        """A digest of every stamp; None when a file is too young to trust."""
        every = [*self.general[1:], self.moderation, *self.results.values(), *self.requests.values()]
        every += [*self.weights.values(), *(s for files in self.checkpoints.values() for s in files)]
        if any(self.trusted(s) is UNSURE for s in every):
            return None
        groups = [self.checkpoints, self.results, self.requests, self.weights]
        stamps = [self.general, self.moderation, *(sorted(group.items()) for group in groups)]
        return hashlib.sha256(marshal.dumps(stamps, 2)).hexdigest()  # version 2: no references, the same bytes


def _stamp(path: str) -> list:
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return [st.st_ino, st.st_mtime_ns, st.st_size]


def _files(folder: str) -> dict[str, list]:
    """Each ``*.json`` file of ``folder`` (hidden ones left out) by name, with its stamp."""
    out = {}
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for e in entries:
            if e.name.endswith(".json") and not e.name.startswith("."):
                with contextlib.suppress(OSError):  # gone since it was listed
                    st = e.stat()
                    out[e.name] = [st.st_ino, st.st_mtime_ns, st.st_size]
    return out


def _inside(folder: str, names: tuple[str, ...]) -> dict[str, list]:
    """Each entry of ``folder`` by name, with the stamps of the files ``names`` in it."""
    out = {}
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for e in entries:
            out[e.name] = [_stamp(os.path.join(e.path, n)) for n in names]
    return out


def _load(path: Path, stamps: Stamps) -> dict[str, Any]:
    """The rows kept by the last process, by unit; none when the code that shapes them changed since (or changes
    now: a module too young to trust)."""
    general = stamps.general
    if any(stamps.trusted(s) is UNSURE for s in general[1:]):
        return {}
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        kept = marshal.loads(path.read_bytes())
        if isinstance(kept, dict) and kept.get("general") == general and isinstance(kept.get("units"), dict):
            return kept["units"]
    return {}


# ------------------------------------------------------------------------------------------- units
# A unit is what one row comes from: [its files' stamps, what else it needs to find them, its rows]. Each row is
# [task, sort key, model, primary interval, origin, JSON parts].
def _entry(row: Row) -> list:
    here = row.intervals.get(TASKS[row.task].primary) if row.task in TASKS else None
    return [row.task, sort_key(row), row.model, here, row.origin, row.json_parts()]


def _rows(rows: list[Row]) -> list[list]:
    """The entries of the rows that can be ranked: known tasks, every number finite (``finite_rows``)."""
    return [_entry(r) for r in finite_rows(rows) if r.task in TASKS]


def _checkpoints(folder: Path, stamps: Stamps, kept: dict[str, Any]) -> dict[str, list]:
    """The units of the checkpoints in ``folder``, by ``c:NAME``; a checkpoint's files read again only if changed."""
    units = {}
    for name in sorted(stamps.checkpoints):
        deps = [stamps.trusted(s) for s in stamps.checkpoints[name]]
        unit = kept.get(f"c:{name}")
        if unit is None or unit[0] != deps or UNSURE in deps:
            sub = folder / name
            rows = []
            if deps[0] and deps[1]:  # a config and a card: a checkpoint
                config, card = read_json(sub / CONFIG_NAME), read_card(sub / CARD_NAME)
                sha = sha256_file(sub / WEIGHTS_NAME) if deps[2] else ""
                rows = _rows([checkpoint_row(name, config, card, sha)])
            unit = [deps, None, rows]
        units[f"c:{name}"] = unit
    return units


def _submissions(root: Path, stamps: Stamps, kept: dict[str, Any]) -> dict[str, list]:
    """The units of the store's result files, by ``r:FILE``: a result, its request (same file name, finished) and
    the weights it names; each read again only when one of the three changed."""
    units = {}
    for name in sorted(stamps.results):
        unit = kept.get(f"r:{name}")
        result_stamp = stamps.trusted(stamps.results[name])
        if unit is not None and unit[0][0] == result_stamp != UNSURE:  # the same result names the same model
            deps = [result_stamp, stamps.trusted(stamps.requests.get(name, MISSING)), _weights(stamps, unit[1])]
            if unit[0] == deps and UNSURE not in deps:
                units[f"r:{name}"] = unit
                continue
        units[f"r:{name}"] = _submission(root, name, result_stamp, stamps)
    return units


def _weights(stamps: Stamps, model: Any) -> list:
    return stamps.trusted(stamps.weights.get(model, MISSING)) if isinstance(model, str) else MISSING


def _submission(root: Path, name: str, result_stamp: list, stamps: Stamps) -> list:
    """One result file's unit, read now (a file that cannot be read gives no row, and is read again next time)."""
    base = os.fspath(root)  # strings, not pathlib: 10,000 of these are read when nothing is kept
    unsure = [[UNSURE, UNSURE, UNSURE], None, []]
    try:
        result = read_json(os.path.join(base, "results", name))
        model = result.get("model") if isinstance(result, dict) else None
        deps = [result_stamp, stamps.trusted(stamps.requests.get(name, MISSING)), _weights(stamps, model)]
        request = read_json(os.path.join(base, "requests", name)) if deps[1] else None
        if not (isinstance(result, dict) and results_store.finished(request, name)):
            return [deps, model, []]
        sha = sha256_file(os.path.join(base, "models", model, WEIGHTS_NAME)) if deps[2] else None
    except (OSError, ValueError):
        return unsure
    row = submitted_row(result, sha)
    return [deps, model, _rows([row]) if row is not None else []]


def _assemble(units: dict[str, list], root: Path | None, task: str | None) -> str:
    """The ranked rows' JSON array, from the units' kept entries and the moderation state (withdrawn submissions
    left out, flagged rows given their note and link: ``moderation.apply``)."""
    state = moderation.load(root) if root is not None else {"flags": {}, "withdrawn": {}}
    flags, withdrawn = state["flags"], state["withdrawn"]
    entries = [
        e
        for unit in units.values()
        for e in unit[2]
        if not (e[4] == "submitted" and e[2] in withdrawn)  # [task, key, model, interval, origin, parts]
    ]
    lines = []
    for n, rank, tied in ranks([(e[0], e[1], e[2], e[3]) for e in entries]):
        e = entries[n]
        if task is None or e[0] == task:
            flag = flags.get(e[2])
            lines.append(json_line(e[5], rank, tied, *((flag["note"], flag.get("link")) if flag else ())))
    return json_array(lines)
