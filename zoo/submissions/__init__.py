"""Anyone's checkpoint, checked at the door, evaluated by the project's own code, ranked beside the zoo's.

    python -m zoo submit ./my-model                  # a folder: config.json, model.safetensors, README.md
    python -m zoo submit hf:ORG/NAME@REVISION        # or a Hub model repo
    python -m zoo submit ./my-model --push ORG/DATA  # also commit the result file to a Hub dataset repo

One module per idea: ``gates`` (the checks at the door, each with its verdict and one message), ``copies`` (the
weights of an existing row, within a small distance, named), ``store`` (the results store and the evaluation it
runs), ``worker`` (the app's queue), ``moderation`` (flags, the do-not-submit list, withdrawals, the quota per
user); evaluation workers on other machines, through a Hub dataset, are ``requests_dataset`` (the queue),
``remote_worker`` (``python -m zoo worker``) and ``app_queue`` (the app's side), imported by their own names.
Here: ``fetch`` (a folder, or a Hub repo at one commit), ``check`` (every gate, cheapest first) and ``submit``
(fetch, check, admit, evaluate, push).
The leaderboard's rows of finished submissions are ``zoo.leaderboard.submitted_rows``.

Reading the store (``Store``, ``moderation``) imports no torch: ``check`` imports the architectures and ``copies``
when it runs, and ``zoo.submissions.copies`` is imported on first use.
"""

from __future__ import annotations

import importlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import hub
from ..basics import CONFIG_NAME, WEIGHTS_NAME, sha256_file
from . import moderation
from .gates import (
    CARD_NAME,
    DTYPES,
    MAX_BYTES,
    MAX_CONFIG_INT,
    MAX_PARAMS,
    MIN_CARD_TEXT,
    Checked,
    SubmissionError,
    build_on_meta,
    check_card,
    check_card_numbers,
    check_config,
    check_files,
    check_finite,
    check_name,
    check_sha256,
    check_tensors,
    check_training_log,
    load_strictly,
    parse_config,
    read_header,
    require,
)
from .store import TIMEOUT_S, Store, results_dir
from .worker import Worker

__all__ = [
    "CARD_NAME",
    "DTYPES",
    "MAX_BYTES",
    "MAX_CONFIG_INT",
    "MAX_PARAMS",
    "MIN_CARD_TEXT",
    "TIMEOUT_S",
    "Checked",
    "Store",
    "SubmissionError",
    "Worker",
    "check",
    "copies",
    "moderation",
    "fetch",
    "read_header",
    "results_dir",
    "submit",
]


def __getattr__(name: str) -> Any:
    """``zoo.submissions.copies`` (numpy, torch) imported the first time it is asked for."""
    if name == "copies":  # import_module, not ``from . import``: that asks this hook again and would recurse
        return importlib.import_module(f"{__name__}.copies")
    raise AttributeError(f"module 'zoo.submissions' has no attribute {name!r}")


def check(
    folder: str | os.PathLike,
    name: str | None = None,
    store: Store | None = None,
    source: str | None = None,
    **where: Any,
) -> Checked:
    """Every gate, cheapest first; raises ``SubmissionError`` with one sentence at the first that fails."""
    from ..models import ARCHITECTURES  # torch, numpy: imported by the checks, not by the store's readers
    from . import copies

    folder = Path(folder)
    require(check_files(folder))
    require(check_training_log(folder))
    config = parse_config(folder / CONFIG_NAME)
    require(check_config(config))
    cls = ARCHITECTURES[config["architecture"]]
    name = name or config.get("name")
    require(check_name(name))
    header = read_header(folder / WEIGHTS_NAME)
    actual = sha256_file(folder / WEIGHTS_NAME)
    require(check_sha256(config.get("weights_sha256"), actual))
    store = store or Store()
    require(moderation.check_allowed(store.root, name, actual, source))  # the do-not-submit list
    skeleton = build_on_meta(cls, config, header)
    require(check_tensors(skeleton, header))
    params = sum(t.numel() for t in skeleton.state_dict().values())
    model = load_strictly(folder)
    require(check_finite(model))
    require(check_card(folder / CARD_NAME))
    require(check_card_numbers(folder / CARD_NAME))
    store.refuse_duplicate(name, actual)
    require(copies.check_copy(cls.__name__, model.state_dict(), store.copy_indexes()))
    return Checked(name, cls.task, cls.__name__, actual, params, source or f"folder:{folder.resolve()}", **where)


def fetch(source: str, into: Path) -> tuple[Path, dict[str, Any]]:
    """A local folder as it is, or ``hf:ORG/NAME[@REVISION]`` downloaded (plain files, three of them) into ``into``."""
    if not source.startswith("hf:"):
        return Path(source), {}
    repo, _, revision = source[3:].partition("@")
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}", repo):
        raise SubmissionError(f"{source!r}: a Hub source is hf:ORG/NAME or hf:ORG/NAME@REVISION")
    try:
        sha = hub.download_pinned(repo, revision, into)
    except Exception as e:
        raise SubmissionError(hub.hub_error(e, f"fetch {repo}")) from None
    return into, {"source": f"hf:{repo}", "revision": sha, "source_url": f"{hub.endpoint().rstrip('/')}/{repo}"}


def submit(
    source: str,
    name: str | None = None,
    *,
    push: str | None = None,
    timeout: float = TIMEOUT_S,
    progress: Callable[[str], None] | None = None,
    store: Store | None = None,
) -> dict[str, Any]:
    """Gates, admission, evaluation (and ``push``) of one submission; returns its request record."""
    store = store or Store()
    require(moderation.check_allowed(store.root, "", "", source))  # a blocked Hub repo: refused before its download
    with tempfile.TemporaryDirectory(prefix="dlfs-submit-") as tmp:
        folder, where = fetch(source, Path(tmp))
        checked = check(folder, name, store, **where)
        key = store.admit(checked, folder)
    if progress:
        progress(f"{checked.name}: passed the gates ({checked.params:,} parameters, {checked.task}); evaluating")
    record = store.evaluate(key, timeout, progress)
    if push and record["status"] == "finished":
        record = record | {"pushed": store.push(key, push)}
    return record
