"""The evaluation requests kept in a Hub dataset repo: the app publishes them, evaluation workers on any machine
(``python -m zoo worker``, ``zoo.submissions.remote_worker``) claim them and publish the results, all through
``huggingface_hub``'s own client.

The requests dataset (``$DLFS_ZOO_REQUESTS`` in the app, ``--requests ORG/DATASET`` for a worker)::

    requests/KEY.json      one per submission; KEY is NAME--SHA256[:12] (``Store.key``)
    models/KEY/            config.json, model.safetensors, README.md of a submission sent as files
                           (a Hub model is fetched from its own repo at the request's ``revision``)
    results/KEY.json       the result file, the local store's format (unless a results dataset is named:
                           ``$DLFS_ZOO_RESULTS_REPO``, ``--results ORG/DATASET``, which holds results/KEY.json)

A request holds ``model``, ``task``, ``architecture``, ``sha256`` (of model.safetensors), ``source`` ("upload", or
"hf:ORG/NAME" with its 40-hex commit ``revision``), ``submitted_at``, and the queue's fields: ``status`` (pending,
running, finished, failed), ``attempts`` (claims so far), ``lease_owner`` and ``lease_expires`` (UNIX seconds) while
it runs, ``reason`` (why it failed, one sentence), ``finished_at``.

Every change of a request is a commit on the head its writer read (``create_commit(parent_commit=...)``); the Hub
refuses it (412) when anything was committed since, and the writer reads again. So two workers never both claim a
request: the loser's commit is refused, it reads the new state and takes the next request.

The rules: a worker takes the oldest pending request, or the oldest running one whose lease ran out (its worker
stopped). A claim counts an attempt and holds a lease (``$DLFS_ZOO_LEASE_S``, 20 minutes); an evaluation's time limit
is three quarters of the lease, so a live worker settles its request before anyone may take it again. A request
claimed ``$DLFS_ZOO_ATTEMPTS`` (3) times without being settled is failed with that reason. A request that lies (a
field missing or invalid, weights whose sha256 is not the request's) and weights refused by the gates or by the
evaluation are failed at once with the reason; a result and its request's "finished" are one commit.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..catalog import TASKS
from ..config import strict_dumps, strict_loads
from .gates import check_name


def _setting(name: str, default: int) -> int:
    """A whole number of the environment, the default when it is unset or not a whole number above 0."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


LEASE_S = _setting("DLFS_ZOO_LEASE_S", 1200)
MAX_ATTEMPTS = _setting("DLFS_ZOO_ATTEMPTS", 3)
MAX_LEASE_S = 7 * 24 * 3600  # a lease further ahead than this is a lie: no worker holds a request that long
STATUSES = ("pending", "running", "finished", "failed")
SHA256 = re.compile(r"[0-9a-f]{64}")
COMMIT = re.compile(r"[0-9a-f]{40}")
HUB_REPO = re.compile(r"hf:[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}--[0-9a-f]{12}")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Conflict(Exception):
    """Something was committed on the dataset since its head was read (the Hub answered 412 or 409)."""


def check_request(key: str, text: str | bytes) -> tuple[dict[str, Any], str | None]:
    """A request file read as the queue trusts it: (its fields, None), or (what could be read, the one sentence
    that says what is wrong with it)."""
    from ..models import ARCHITECTURES  # torch: only where a request is read (``python -m zoo --help`` needs none)

    where = f"requests/{key}.json"
    try:
        record = strict_loads(text)
    except ValueError:
        return {}, f"{where} is not strict JSON (a syntax error, NaN or Infinity); a request is a JSON object"
    if not isinstance(record, dict):
        return {}, f"{where} is not a JSON object; a request is one"
    for name in ("model", "task", "architecture", "sha256", "source", "status", "submitted_at"):
        if not isinstance(record.get(name), str) or not record[name]:
            return record, f"{where} has no {name!r}; a request names its model, task, weights and source"
    passed, why = check_name(record["model"])
    if not passed:
        return record, f"{where}: {why}"
    if not SHA256.fullmatch(record["sha256"]):
        return record, f"{where}: sha256 {record['sha256'][:80]!r} is not 64 lowercase hex digits"
    if key != f"{record['model']}--{record['sha256'][:12]}":
        return record, f"{where} describes another submission; its name is the model's name, '--', its sha256[:12]"
    cls = ARCHITECTURES.get(record["architecture"])
    if record["task"] not in TASKS or cls is None or cls.task != record["task"]:
        return record, f"{where}: task {record['task']!r} and architecture {record['architecture']!r} do not match"
    if record["status"] not in STATUSES:
        return record, f"{where}: status {record['status'][:40]!r} is none of {', '.join(STATUSES)}"
    if record["source"] != "upload":
        if not HUB_REPO.fullmatch(record["source"]) or not COMMIT.fullmatch(str(record.get("revision"))):
            return record, f"{where}: a source is 'upload' or hf:ORG/NAME with its 40-hex commit as 'revision'"
    attempts = record.get("attempts")
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        return record, f"{where}: attempts must be a whole number of claims, 0 or more"
    expires = record.get("lease_expires")
    if expires is not None and (not isinstance(expires, int | float) or isinstance(expires, bool)):
        return record, f"{where}: lease_expires must be a number of UNIX seconds or null"
    return record, None


@dataclass
class Snapshot:
    """The requests at one commit of the dataset (``head``): key -> (fields, None or why it is refused)."""

    head: str
    requests: dict[str, tuple[dict[str, Any], str | None]] = field(default_factory=dict)

    def waiting(self, now: float) -> list[str]:
        """Keys a worker may take, oldest first: pending, running with a lapsed lease, and the unsettled ones that
        lie (so that they are failed with their reason)."""
        out = []
        for key, (record, why) in self.requests.items():
            status = record.get("status")
            if status in ("finished", "failed"):
                continue
            expires = record.get("lease_expires") or 0
            lapsed = status == "running" and not now < expires <= now + MAX_LEASE_S  # ran out, or a lie
            if why is not None or status == "pending" or lapsed:
                out.append(key)
        return sorted(out, key=lambda k: (self.requests[k][1] is None, str(self.requests[k][0].get("submitted_at"))))


@dataclass
class Claim:
    """One worker's hold on one request: the fields it committed, and the commit the claim was made on."""

    key: str
    record: dict[str, Any]
    revision: str  # the head the claim was read at (an upload's files are fetched at this commit)

    def holds(self, record: dict[str, Any]) -> bool:
        """The request is still this claim's: running, by the same owner, at the same attempt."""
        return all(record.get(k) == self.record[k] for k in ("status", "lease_owner", "attempts"))


class RequestsDataset:
    """The queue in a Hub dataset: read at one commit, every change an optimistic commit on that commit."""

    def __init__(self, repo_id: str, results_repo: str | None = None) -> None:
        from huggingface_hub import HfApi

        self.repo_id, self.results_repo = repo_id, results_repo or repo_id
        self.api = HfApi()
        self._parsed: dict[tuple[str, str], tuple[dict[str, Any], str | None]] = {}  # (path, blob id) -> parsed

    # ------------------------------------------------------------------------------------------ reading
    def head(self) -> str:
        return self.api.dataset_info(self.repo_id).sha

    def download(self, path: str, revision: str | None, repo_id: str | None = None) -> bytes:
        from huggingface_hub import hf_hub_download

        local = hf_hub_download(repo_id or self.repo_id, path, repo_type="dataset", revision=revision)
        return Path(local).read_bytes()

    def read(self) -> Snapshot:
        """Every request at the dataset's head (a file is downloaded only when its blob changed)."""
        from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

        head = self.head()
        snapshot = Snapshot(head)
        try:
            entries = list(self.api.list_repo_tree(self.repo_id, "requests", revision=head, repo_type="dataset"))
        except (EntryNotFoundError, HfHubHTTPError) as e:  # no requests/ folder yet: an empty queue
            if getattr(getattr(e, "response", None), "status_code", 404) != 404:
                raise
            entries = []
        for entry in entries:
            path = entry.path
            blob = getattr(entry, "blob_id", None)
            if blob is None or not path.startswith("requests/") or not path.endswith(".json"):
                continue
            key = path.removeprefix("requests/").removesuffix(".json")
            if "/" in key:
                continue
            if (path, blob) not in self._parsed:
                if KEY.fullmatch(key):
                    self._parsed[(path, blob)] = check_request(key, self.download(path, head))
                else:
                    self._parsed[(path, blob)] = ({}, f"{path}: a request's file is named NAME--SHA256[:12].json")
            snapshot.requests[key] = self._parsed[(path, blob)]
        return snapshot

    # ------------------------------------------------------------------------------------------ writing
    def commit(
        self, parent: str, files: dict[str, bytes], message: str, repo_id: str | None = None, optimistic: bool = True
    ) -> str:
        """One commit of whole files on ``parent`` (raises ``Conflict`` when the head moved since); its sha."""
        from huggingface_hub import CommitOperationAdd
        from huggingface_hub.errors import HfHubHTTPError

        ops = [CommitOperationAdd(path, data) for path, data in files.items()]
        try:
            info = self.api.create_commit(
                repo_id or self.repo_id,
                ops,
                commit_message=message,
                repo_type="dataset",
                parent_commit=parent if optimistic else None,
            )
        except HfHubHTTPError as e:
            if e.response is not None and e.response.status_code in (409, 412):
                raise Conflict(message) from None
            raise
        return info.oid

    def change(
        self,
        key: str,
        decide: Callable[[dict[str, Any], str | None], dict[str, Any] | None],
        message: str,
        extra: dict[str, bytes] | None = None,
    ) -> dict[str, Any] | None:
        """Read, let ``decide`` give the request's new fields (None: leave it), commit on what was read; again on
        a conflict. Returns the fields committed, or None."""
        while True:
            snapshot = self.read()
            record, why = snapshot.requests.get(key, ({}, "gone"))
            new = decide(record, why)
            if new is None:
                return None
            new = new | {"updated_at": now_iso()}
            try:
                self.commit(snapshot.head, {f"requests/{key}.json": encode(new), **(extra or {})}, message)
                return new
            except Conflict:
                backoff()

    def claim(self, owner: str, lease: float = LEASE_S, attempts: int = MAX_ATTEMPTS) -> Claim | None:
        """Take the oldest request a worker may take (failing on the way the ones that lie or ran out of
        attempts); None when there is none."""
        while True:
            snapshot = self.read()
            now = time.time()
            for key in snapshot.waiting(now):
                record, why = snapshot.requests[key]
                if why is None and (record.get("lease_expires") or 0) > now + MAX_LEASE_S:
                    days = MAX_LEASE_S // 86400
                    why = f"requests/{key}.json holds a lease of more than {days} days; no worker holds one that long"
                elif why is None and record["attempts"] >= attempts:
                    why = (
                        f"its evaluation was started {record['attempts']} times and never finished "
                        "(each worker stopped or ran past its lease)"
                    )
                if why is not None:
                    new = {**record, "status": "failed", "reason": why, "lease_owner": None, "lease_expires": None}
                    message = f"Refuse {key}"
                else:
                    new = record | {
                        "status": "running",
                        "attempts": record["attempts"] + 1,
                        "lease_owner": owner,
                        "lease_expires": round(now + lease, 3),
                        "started_at": now_iso(),
                        "reason": None,
                    }
                    message = f"Claim {key} for {owner}"
                new["updated_at"] = now_iso()
                try:
                    self.commit(snapshot.head, {f"requests/{key}.json": encode(new)}, message)
                except Conflict:
                    backoff()
                    break  # read again: someone else moved first
                if new["status"] == "running":
                    return Claim(key, new, snapshot.head)
                break  # a request failed: read again (the head moved)
            else:
                return None

    def settle(self, claim: Claim, status: str, reason: str | None, result: dict[str, Any] | None) -> bool:
        """Publish a claim's outcome: finished (with its result file, in the same commit when the results live in
        this dataset), failed, or back to pending (``status`` "pending": try again later). False when the claim
        was lost (its lease ran out and another worker took the request)."""
        extra = {}
        if result is not None:
            data = encode(result)
            if self.results_repo == self.repo_id:
                extra[f"results/{claim.key}.json"] = data
            else:  # another dataset: the result first, so that a finished request always has its result
                self.commit("", {f"results/{claim.key}.json": data}, f"Result of {claim.key}", self.results_repo, False)

        def decide(record: dict[str, Any], why: str | None) -> dict[str, Any] | None:
            if not claim.holds(record):
                return None
            new = record | {"status": status, "reason": reason, "lease_owner": None, "lease_expires": None}
            if status == "finished":
                new["finished_at"] = result["evaluated_at"] if result else now_iso()
            if status == "pending" and record["attempts"] >= MAX_ATTEMPTS:
                new["status"] = "failed"
            return new

        return self.change(claim.key, decide, f"{status.capitalize()} {claim.key}", extra) is not None

    def publish(self, record: dict[str, Any], files: dict[str, Path]) -> str:
        """Add a new request (and its uploaded files under models/KEY/) to the dataset, made if missing; its key."""
        key = f"{record['model']}--{record['sha256'][:12]}"
        self.api.create_repo(self.repo_id, repo_type="dataset", exist_ok=True)
        data = {f"models/{key}/{name}": path.read_bytes() for name, path in files.items()}
        data[f"requests/{key}.json"] = encode(record)
        self.commit("", data, f"Request {key}", optimistic=False)
        return key


def encode(record: dict[str, Any]) -> bytes:
    return (strict_dumps(record, indent=2, sort_keys=True) + "\n").encode()


def backoff() -> None:
    """A short random wait after a lost race, so that the writers who lost do not collide again at once."""
    time.sleep(random.uniform(0.05, 0.4))
