"""An evaluation worker on any machine: ``python -m zoo worker --requests ORG/DATASET [--results ORG/DATASET]``.

It claims the oldest request of the requests dataset (``zoo.submissions.requests_dataset``), fetches the model's
files at their pinned commit, checks them again (the sha256 the request names, every gate), evaluates them with the
project's own evaluation (``Store.evaluate``: ``python -m training evaluate`` in a child process with a time limit)
in a results store of its own that lives as long as the request, and publishes the result with the request's new
state. One line per step, with the throughput so far.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import hub
from ..basics import WEIGHTS_NAME, sha256_file
from . import check, fetch
from .gates import SubmissionError
from .requests_dataset import LEASE_S, Claim, RequestsDataset
from .store import TIMEOUT_S, Store

Outcome = tuple[str, str | None, dict[str, Any] | None]  # (status, reason, result)


def fetch_files(queue: RequestsDataset, claim: Claim, into: Path) -> Path:
    """The request's three files: a Hub model's repo at its pinned commit, or the upload kept in the dataset at
    the commit the claim read."""
    record = claim.record
    if record["source"] != "upload":
        folder, _ = fetch(f"{record['source']}@{record['revision']}", into)
        return folder
    from huggingface_hub import snapshot_download

    pattern = f"models/{claim.key}/*"
    snapshot_download(
        queue.repo_id, repo_type="dataset", revision=claim.revision, allow_patterns=[pattern], local_dir=into
    )
    return into / "models" / claim.key


def evaluate(queue: RequestsDataset, claim: Claim, timeout: float, progress: Callable[[str], None]) -> Outcome:
    """Fetch, check again, evaluate: ("finished", None, result), ("failed", why, None), or ("pending", why, None)
    when the files could not be fetched (the Hub failed: another attempt may succeed)."""
    record = claim.record
    with tempfile.TemporaryDirectory(prefix="dlfs-worker-") as tmp:
        try:
            folder = fetch_files(queue, claim, Path(tmp) / "files")
        except SubmissionError as e:
            return "pending", str(e), None
        except Exception as e:
            return "pending", hub.hub_error(e, f"fetch the files of {claim.key}"), None
        weights = folder / WEIGHTS_NAME
        actual = sha256_file(weights) if weights.is_file() and not weights.is_symlink() else None
        if actual != record["sha256"]:
            found = f"a model.safetensors of sha256 {actual}" if actual else "no model.safetensors"
            return "failed", f"the fetched files hold {found}, not the request's sha256 {record['sha256']}", None
        store = Store(Path(tmp) / "store")
        try:
            where = {k: record.get(k) for k in ("revision", "source_url")}
            checked = check(folder, record["model"], store, record["source"], **where)
        except SubmissionError as e:
            return "failed", str(e), None
        if (checked.task, checked.architecture) != (record["task"], record["architecture"]):
            return "failed", f"the files are a {checked.architecture} ({checked.task}), not the request's", None
        progress(f"{claim.key}: passed the gates ({checked.params:,} parameters); evaluating")
        try:
            done = store.evaluate(store.admit(checked, folder), timeout, progress)
        except (OSError, RuntimeError) as e:  # this machine, not the submission, failed: another may succeed
            progress(f"{claim.key}: the evaluation could not run here: {e}")  # the worker's own log, paths and all
            return "pending", "the evaluation could not run on the worker that took it; another may take it", None
        if done["status"] != "finished":
            return "failed", done.get("reason") or "the evaluation failed", None
        (result,) = store.results()
        result["command"] = f"python -m training evaluate --folder models/{record['model']}"  # no worker's path
        return "finished", None, result


def run(
    requests: str,
    results: str | None = None,
    *,
    once: bool = False,
    lease: float = LEASE_S,
    poll: float = 30.0,
    say: Callable[[str], None] = print,
) -> int:
    """Claim, evaluate, publish, until stopped (``once``: one request, or none when the queue is empty)."""
    queue = RequestsDataset(requests, results)
    owner = f"{socket.gethostname()}-{os.getpid()}"
    timeout = min(TIMEOUT_S, 0.75 * lease)  # a live worker settles its request before its lease runs out
    evaluated, first = 0, None
    if queue.results_repo != requests:
        try:
            queue.api.create_repo(queue.results_repo, repo_type="dataset", exist_ok=True)
        except Exception as e:
            raise ValueError(hub.hub_error(e, f"make the results dataset {queue.results_repo}")) from None
    say(f"worker {owner}: requests from {requests}, results to {queue.results_repo}, lease {lease:g} s")
    while True:
        try:
            claim = queue.claim(owner, lease)
        except Exception as e:  # the Hub failed: said in one sentence, tried again after a pause
            if once:
                raise ValueError(hub.hub_error(e, f"read the requests of {requests}")) from None
            say(hub.hub_error(e, f"read the requests of {requests}"))
            time.sleep(poll)
            continue
        if claim is None:
            if once:
                say("no request waits")
                return 0
            time.sleep(poll)
            continue
        first = first or time.monotonic()
        start = time.monotonic()
        until = datetime.fromtimestamp(claim.record["lease_expires"], UTC).isoformat(timespec="seconds")
        say(f"{claim.key}: claimed (attempt {claim.record['attempts']}, lease until {until})")
        try:
            status, reason, result = evaluate(queue, claim, timeout, lambda line: say(f"  {line}"))
        except KeyboardInterrupt:  # stopped by hand: the request waits for the next worker, not for the lease
            queue.settle(claim, "pending", "its worker was stopped during the evaluation", None)
            say(f"{claim.key}: given back (the worker was stopped)")
            raise
        try:
            kept = queue.settle(claim, status, reason, result)
        except Exception as e:  # the Hub failed: the request is taken again when its lease runs out
            if once:
                raise ValueError(hub.hub_error(e, f"publish the outcome of {claim.key}")) from None
            say(hub.hub_error(e, f"publish the outcome of {claim.key}"))
            continue
        evaluated += status == "finished" and kept
        rate = evaluated / max(time.monotonic() - first, 1e-9) * 60
        why = f": {reason}" if reason else ""
        said = status if kept else f"{status}, but its lease was lost to another worker: nothing published"
        say(f"{claim.key}: {said} in {time.monotonic() - start:.1f} s{why}; {evaluated} evaluated, {rate:.2f}/min")
        if once:
            return 0
