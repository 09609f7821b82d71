"""The app's queue: the local ``Worker`` (evaluations in the app's own process), or, when ``$DLFS_ZOO_REQUESTS``
names a requests dataset, a ``DatasetQueue``: the app only gates and publishes requests, workers elsewhere
(``python -m zoo worker``) evaluate them, and the app's results store is fed from the datasets (every request's
state; a finished one's result and files), so that the ranking, ``zoo.load`` and the copy gate read it as before.

    DLFS_ZOO_REQUESTS=ORG/DATASET         the requests dataset (zoo.submissions.requests_dataset's layout)
    DLFS_ZOO_RESULTS_REPO=ORG/DATASET     where the workers publish results/ (default: the requests dataset)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import hub
from ..checkpoint_io import CARD_NAME, replace_dir
from ..config import strict_dumps, strict_loads
from ..models import CONFIG_NAME, WEIGHTS_NAME, sha256_file
from .gates import Checked, SubmissionError
from .requests_dataset import RequestsDataset
from .store import Store
from .worker import Worker

FOLLOW_S = 15.0  # how often the app reads the datasets again


class MirrorStore(Store):
    """The app's results store when the evaluations run elsewhere: ``admit`` also publishes the request (both or
    neither), ``sync`` feeds the store from the datasets."""

    def __init__(self, dataset: RequestsDataset, root: str | os.PathLike | None = None) -> None:
        super().__init__(root)
        self.dataset = dataset

    def admit(self, checked: Checked, folder: Path) -> str:
        """Keep the files and the pending request here, and publish the request (with the files, unless they are
        a Hub repo's at a pinned commit) to the requests dataset; on a failure, neither."""
        key = super().admit(checked, folder)
        record = self.request(key) | {"attempts": 0, "lease_owner": None, "lease_expires": None, "reason": None}
        if not record["source"].startswith("hf:"):
            record["source"] = "upload"  # a folder's path on this machine is nobody else's business
        kept = self.admitted_folder(checked.name)
        files = {} if record["source"] != "upload" else {n: kept / n for n in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME)}
        try:
            self.dataset.publish(record, files)
        except Exception as e:
            (self._dir("requests") / f"{key}.json").unlink(missing_ok=True)
            shutil.rmtree(kept, ignore_errors=True)
            raise SubmissionError(hub.hub_error(e, f"publish the request to {self.dataset.repo_id}")) from None
        self._write("requests", key, record)
        return key

    def sync(self) -> list[str]:
        """Every request's state from the requests dataset; a newly finished one's result and files too (one that
        cannot be fetched now is tried at the next sync). Returns the keys newly finished."""
        snapshot = self.dataset.read()
        finished = []
        for key, (record, why) in sorted(snapshot.requests.items()):
            if why is not None:  # a request that lies is not shown (the workers fail it)
                continue
            path = self._dir("requests") / f"{key}.json"
            with contextlib.suppress(OSError, ValueError):
                if strict_loads(path.read_text(encoding="utf-8")) == record:
                    continue
            if record["status"] == "finished":
                try:
                    self._fetch_finished(key, record, snapshot.head)
                except Exception:  # the Hub failed, or the result is not there yet: next time
                    continue
                finished.append(key)
            self._write("requests", key, record)
        for key in finished:
            record = self.request(key)
            self._index_finished(record["model"], record["architecture"])
        return finished

    def _fetch_finished(self, key: str, record: dict[str, Any], head: str) -> None:
        """A finished request's result file, and its files kept under models/NAME (unless already here)."""
        result = strict_loads(self.dataset.download(f"results/{key}.json", None, self.dataset.results_repo))
        kept = self.admitted_folder(record["model"])
        if not ((kept / WEIGHTS_NAME).is_file() and sha256_file(kept / WEIGHTS_NAME) == record["sha256"]):
            self.models_from_hub(key, record, head)
        self._write("results", key, result)

    def models_from_hub(self, key: str, record: dict[str, Any], head: str) -> None:
        """A request's files (its Hub repo at the pinned commit, or the upload in the dataset) under models/NAME."""
        from huggingface_hub import snapshot_download

        models = self._dir("models")
        models.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=models, prefix=f".{record['model']}.fetch-") as tmp:
            if record["source"] == "upload":
                patterns = [f"models/{key}/*"]
                repo = self.dataset.repo_id
                snapshot_download(repo, repo_type="dataset", revision=head, allow_patterns=patterns, local_dir=tmp)
                got = Path(tmp) / "models" / key
            else:
                got = Path(tmp) / "files"
                hub.download_pinned(record["source"].removeprefix("hf:"), record["revision"], got)
            if sha256_file(got / WEIGHTS_NAME) != record["sha256"]:
                raise SubmissionError(f"the files of {key} are not the evaluated ones")
            final = Path(tempfile.mkdtemp(dir=models, prefix=f".{record['model']}.tmp-"))
            for name in (WEIGHTS_NAME, CARD_NAME):
                shutil.copyfile(got / name, final / name)
            config = json.loads((got / CONFIG_NAME).read_text(encoding="utf-8")) | {
                "name": record["model"],
                "task": record["task"],
            }
            (final / CONFIG_NAME).write_text(strict_dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            os.chmod(final, 0o755)
            replace_dir(final, self.admitted_folder(record["model"]))


class DatasetQueue:
    """The app's queue when workers elsewhere evaluate (the local ``Worker``'s face: ``store``, ``enqueue``,
    ``position``, ``status``): a thread reads the datasets again every ``every`` seconds."""

    def __init__(
        self,
        requests_repo: str,
        results_repo: str | None = None,
        root: str | os.PathLike | None = None,
        on_done: Callable[[str], None] | None = None,
        every: float = FOLLOW_S,
    ) -> None:
        self.store = MirrorStore(RequestsDataset(requests_repo, results_repo), root)
        self.on_done, self.every = on_done, every
        self.progress: dict[str, str] = {}
        self.last_error: str | None = None
        if every:  # (0: read only when asked, as the tests do)
            threading.Thread(target=self._follow, daemon=True, name="dlfs-zoo-requests").start()

    def sync(self) -> list[str]:
        """Read the datasets now; the keys newly finished (``on_done`` is called for each)."""
        try:
            finished = self.store.sync()
        except Exception as e:  # the Hub failed: the store keeps what it had
            self.last_error = hub.hub_error(e, f"read the requests of {self.store.dataset.repo_id}")
            return []
        self.last_error = None
        for key in finished:
            if self.on_done:
                self.on_done(key)
        return finished

    def _follow(self) -> None:
        while True:
            self.sync()
            time.sleep(self.every)

    def enqueue(self, key: str) -> int:
        """The published request's position among the pending ones (1: taken next)."""
        return self.position(key) or 1

    def position(self, key: str) -> int | None:
        return self._positions(self.store.requests()).get(key)

    def _positions(self, requests: list[dict[str, Any]]) -> dict[str, int]:
        pending = [self.store.key(r["model"], r["sha256"]) for r in requests if r["status"] == "pending"]
        return {key: i + 1 for i, key in enumerate(pending)}

    def status(self) -> list[dict[str, Any]]:
        """Every request, newest first, with its queue position and, while it runs, the worker holding it."""
        requests = self.store.requests()
        positions = self._positions(requests)
        out = []
        for r in reversed(requests):
            key = self.store.key(r["model"], r["sha256"])
            running = f"on worker {r['lease_owner']}" if r["status"] == "running" and r.get("lease_owner") else None
            out.append(r | {"position": positions.get(key), "progress": running})
        return out


def app_queue(on_done: Callable[[str], None] | None = None, every: float = FOLLOW_S) -> Worker | DatasetQueue:
    """The queue the app's configuration names: a requests dataset (``$DLFS_ZOO_REQUESTS``, read again every
    ``every`` seconds), else the local worker."""
    requests = os.environ.get("DLFS_ZOO_REQUESTS")
    if not requests:
        return Worker(on_done=on_done)
    return DatasetQueue(requests, os.environ.get("DLFS_ZOO_RESULTS_REPO") or None, on_done=on_done, every=every)
