"""The results store (``$DLFS_ZOO_RESULTS``, a local folder by default) keeps what public leaderboards keep:
``requests/`` (each submission's lifecycle: pending, running, finished, or failed with the reason),
``results/`` (one file per model and weights sha256), ``models/`` (the admitted files, so that
``zoo.load(name)`` and the app find a submitted model by its name) and ``copies.npz`` (the finished submissions'
fingerprints, ``zoo.submissions.copies``). Every JSON file it writes is strict: no NaN, no Infinity.

``Store.evaluate`` runs the project's own evaluation on admitted files, in a child process with a time limit.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import hub
from ..basics import CONFIG_NAME, WEIGHTS_NAME, atomic_write_text, sha256_file
from ..checkpoint_io import CARD_NAME, TRAINING_LOG_NAME, embedded_dir, replace_dir
from ..config import first_non_finite, show_number, strict_dumps
from . import filecache
from .gates import Checked, SubmissionError, check_unique, require

if TYPE_CHECKING:  # the copy checks (numpy, torch) are imported where a submission is evaluated, not where it is read
    from . import answers, copies

TIMEOUT_S = 900  # one evaluation


def results_dir() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(os.environ.get("DLFS_ZOO_RESULTS") or Path(data) / "dlfs-zoo" / "results")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """The results store: requests (lifecycle), results (one per model and sha256), models (admitted files)."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root or results_dir())

    def _dir(self, kind: str) -> Path:
        return self.root / kind

    @staticmethod
    def key(name: str, sha256: str) -> str:
        return f"{name}--{sha256[:12]}"

    @contextlib.contextmanager
    def lock(self, which: str) -> Iterator[None]:
        """One admission / one evaluation at a time, across processes (the CLI and the app share a store)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{which}.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @functools.cached_property
    def cache(self) -> filecache.FileCache:
        """What this process (and the last one) read of this store: files are read again only when they changed."""
        return filecache.for_store(self.root)

    def requests(self) -> list[dict[str, Any]]:
        """Every request record, oldest first (read incrementally: only the files changed since the last call)."""
        records = self.cache.folder(self._dir("requests"), _read_json)
        out = [dict(records[name]) for name in sorted(records) if isinstance(records[name], dict)]
        return sorted(out, key=_submitted_at)

    def request(self, key: str) -> dict[str, Any]:
        return json.loads((self._dir("requests") / f"{key}.json").read_text(encoding="utf-8"))

    def _write(self, kind: str, key: str, record: dict[str, Any]) -> Path:
        folder = self._dir(kind)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.json"
        atomic_write_text(path, strict_dumps(record, indent=2, sort_keys=True) + "\n")
        return path

    def update(self, key: str, **changes: Any) -> dict[str, Any]:
        record = self.request(key) | changes | {"updated_at": _now()}
        self._write("requests", key, record)
        return record

    def refuse_duplicate(self, name: str, sha256: str) -> None:
        """Raise ``SubmissionError`` when these weights or this name were submitted before (and did not fail)."""
        require(check_unique(self.requests(), name, sha256))

    def admit(self, checked: Checked, folder: Path) -> str:
        """Copy the checked files into ``models/NAME`` and write the pending request; returns its key."""
        key = self.key(checked.name, checked.sha256)
        with self.lock("admit"):
            self.refuse_duplicate(checked.name, checked.sha256)  # again, under the lock
            models = self._dir("models")
            models.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(dir=models, prefix=f".{checked.name}.tmp-"))
            try:
                for name in (WEIGHTS_NAME, CARD_NAME):
                    shutil.copyfile(folder / name, tmp / name)
                if (folder / TRAINING_LOG_NAME).is_file():  # the curve the Leaderboard draws (checked by the gates)
                    shutil.copyfile(folder / TRAINING_LOG_NAME, tmp / TRAINING_LOG_NAME)
                config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))  # ranked under its new name
                config |= {"name": checked.name, "task": checked.task}
                (tmp / CONFIG_NAME).write_text(strict_dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
                os.chmod(tmp, 0o755)
                replace_dir(tmp, models / checked.name)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            record = asdict(checked) | {"model": checked.name, "status": "pending", "submitted_at": _now()}
            record.pop("name")
            self._write("requests", key, record | {"updated_at": record["submitted_at"]})
        return key

    def copy_indexes(self) -> list[copies.Index]:
        """What a new submission may not be a copy of: the zoo's shipped checkpoints, the finished submissions."""
        from . import copies

        return [copies.shipped(), copies.load(self.root / copies.INDEX_NAME, self._dir("models"))]

    def _index_finished(self, name: str, architecture: str) -> None:
        """Add a finished submission to the store's copy index (every finished one, when the index is new)."""
        from . import copies

        rows = [(name, architecture)]
        if not (self.root / copies.INDEX_NAME).is_file():
            rows += [(r["model"], r["architecture"]) for r in self.requests() if r["status"] == "finished"]
        copies.add(self.root / copies.INDEX_NAME, self._dir("models"), rows)

    def admitted_folder(self, name: str) -> Path:
        """Where a submission's admitted files are kept (``models/NAME``), whatever its state; it may be gone."""
        return self._dir("models") / name

    def model_folder(self, name: str) -> Path | None:
        """A finished submission's files, by name (None when there is no such finished submission)."""
        for r in self.requests():
            if r["model"] == name and r["status"] == "finished":
                return self.admitted_folder(name)
        return None

    def results(self) -> list[dict[str, Any]]:
        """The result files of the finished submissions, by key (read incrementally, as ``requests``)."""
        with self.cache.batch() as cache:
            records = cache.folder(self._dir("requests"), _read_json)
            found = cache.folder(self._dir("results"), _read_json)
        return [dict(found[n]) for n in sorted(found) if finished(records.get(n), n) and isinstance(found[n], dict)]

    def version(self) -> tuple[str, int, int]:
        """Changes when a request or result file is added, changed or removed (by any process), or the store is
        another one; reads what changed."""
        with self.cache.batch() as cache:
            cache.folder(self._dir("requests"), _read_json)
            cache.folder(self._dir("results"), _read_json)
            requests, results = cache.generation(self._dir("requests")), cache.generation(self._dir("results"))
        return str(self.root), requests, results

    def weights_sha256(self, name: str) -> str | None:
        """The sha256 of a submission's admitted weights (None when they are gone), hashed again only when the file
        changed: the leaderboard checks every row's weights against its result each time it is read."""
        path = os.path.join(os.fspath(self.root), "models", name, WEIGHTS_NAME)  # a str: pathlib is slow at 10,000
        return self.cache.file(path, sha256_file)

    def queue(self) -> list[str]:
        """Keys waiting for an evaluation, oldest first (a 'running' left by a killed process runs again)."""
        return [self.key(r["model"], r["sha256"]) for r in self.requests() if r["status"] in ("pending", "running")]

    def evaluate(self, key: str, timeout: float = TIMEOUT_S, progress: Callable[[str], None] | None = None) -> dict:
        """Run ``python -m training evaluate --folder`` (the code that scores the zoo's own entries) on the
        admitted files, in a child process with a time limit; write the result file or the failure."""
        import torch
        from safetensors.torch import load_file

        from . import answers, copies

        with self.lock("evaluate"):
            request = self.request(key)
            if request["status"] not in ("pending", "running"):
                return request
            folder = self.admitted_folder(request["model"])
            command = [sys.executable, "-m", "training", "evaluate", "--folder", str(folder)]
            self.update(key, status="running", started_at=_now(), reason=None)
            start = time.perf_counter()
            try:
                # a near copy admitted while its original was still pending is caught here, before it is ranked
                require(
                    copies.check_copy(request["architecture"], load_file(folder / WEIGHTS_NAME), self.copy_indexes())
                )
                row = _run(command, timeout, progress)
                if bad := first_non_finite({k: row.get(k) for k in ("metrics", "intervals", "cpu_latency_ms")}):
                    where, value = bad
                    raise SubmissionError(
                        f"the evaluation gave {where} = {show_number(value)}; only finite metrics are ranked"
                    )
                mine = self._check_answers(request, row, timeout, progress)
            except SubmissionError as e:
                shutil.rmtree(folder, ignore_errors=True)
                return self.update(key, status="failed", reason=str(e))
            if row.get("sha256") != request["sha256"]:
                return self.update(key, status="failed", reason="the evaluated weights are not the admitted ones")
            result = {
                "model": request["model"],
                "source": request["source"],
                "source_url": request.get("source_url"),
                "revision": request.get("revision"),
                "sha256": request["sha256"],
                "task": row["task"],
                "architecture": request["architecture"],
                "metrics": row["metrics"],
                "intervals": row["intervals"],
                "num_params": row["num_params"],
                "file_size": row["file_size"],
                "cpu_latency_ms": row["cpu_latency_ms"],
                "evaluated_at": _now(),
                "evaluation_seconds": round(time.perf_counter() - start, 1),
                "dlfs_zoo": _version(),
                "torch": str(torch.__version__),
                "command": f"python -m training evaluate --folder {folder}",
            }
            for optional in ("benchmarks", "sample_classifier"):  # the generated sets' versions; a GAN's judge
                if optional in row:
                    result[optional] = row[optional]
            self._write("results", key, result)
            self._index_finished(request["model"], request["architecture"])
            index = answers.load(self.root / answers.INDEX_NAME)
            answers.save(self.root / answers.INDEX_NAME, index.add({request["model"]: (request["sha256"], mine)}))
            return self.update(key, status="finished", finished_at=result["evaluated_at"])

    def _check_answers(
        self, request: dict[str, Any], row: dict[str, Any], timeout: float, progress: Callable[[str], None] | None
    ) -> answers.Answers:
        """Refuse a copy by its answers on the benchmark (``zoo.submissions.answers``), which its evaluation
        printed; returns them. The shipped checkpoints of its task that this machine has not sketched yet (the
        cache of ``answers.zoo_index_path``) are sketched first, in one child process."""
        from . import answers

        try:
            mine = answers.from_row(row["answers"])
        except (KeyError, TypeError, ValueError):
            raise SubmissionError("the evaluation printed no answers for the copy check") from None
        zoo_path = answers.zoo_index_path()
        zoo_index = answers.load(zoo_path)
        known = dict(zip(zoo_index.names.tolist(), zoo_index.keys.tolist(), strict=True))
        shipped = []
        for config in sorted(embedded_dir().glob(f"*/{CONFIG_NAME}")):
            meta = json.loads(config.read_text(encoding="utf-8"))
            if meta.get("task") == request["task"] and known.get(config.parent.name) != meta.get("weights_sha256"):
                shipped.append(str(config.parent))
        if shipped:
            rows = _rows([sys.executable, "-m", "training", "answers", *shipped], timeout, progress)
            zoo_index = zoo_index.add({r["name"]: (r["sha256"], answers.from_row(r)) for r in rows})
            answers.save(zoo_path, zoo_index)
        stored = answers.load(self.root / answers.INDEX_NAME)
        require(answers.check_answers(mine, [zoo_index, stored], own_name=request["model"]))
        return mine

    def push(self, key: str, repo_id: str) -> str:
        """Commit the request and result files to a Hub dataset repo (``requests/``, ``results/``); its URL."""
        files = {
            f"{kind}/{key}.json": self._dir(kind) / f"{key}.json"
            for kind in ("requests", "results")
            if (self._dir(kind) / f"{key}.json").is_file()
        }
        try:
            return hub.commit_files(repo_id, files, f"Result of {key}", repo_type="dataset")
        except Exception as e:
            raise SubmissionError(hub.hub_error(e, f"push the result to {repo_id}")) from None


def finished(request: Any, file_name: str) -> bool:
    """A request file (``file_name``, its content ``request``) of a finished evaluation, named by its own key: its
    result file of the same name is ranked."""
    if not (isinstance(request, dict) and request.get("status") == "finished"):
        return False
    model, sha256 = request.get("model"), request.get("sha256")
    return isinstance(model, str) and isinstance(sha256, str) and f"{Store.key(model, sha256)}.json" == file_name


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _submitted_at(record: dict[str, Any]) -> str:
    return str(record.get("submitted_at", ""))


def _run(command: list[str], timeout: float, progress: Callable[[str], None] | None) -> dict[str, Any]:
    """The evaluation child process: its stderr lines go to ``progress``, its stdout's last line is the row."""
    return _rows(command, timeout, progress)[-1]


def _rows(command: list[str], timeout: float, progress: Callable[[str], None] | None) -> list[dict[str, Any]]:
    """A child process of ``python -m training``: its stderr lines go to ``progress``, its stdout is JSON lines."""
    here = str(Path(__file__).resolve().parents[2])  # the checkout (or site-packages) that holds training/
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        deadline = time.monotonic() + timeout
        seen = 0
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise SubmissionError(f"the evaluation ran past its time limit of {timeout:g} s")
            time.sleep(0.5)
            err.seek(seen)
            for line in err.read().splitlines():
                if progress and line.strip():
                    progress(line.strip()[-200:])
            seen = err.tell()
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0:
        last = (errors.strip().splitlines() or ["no message"])[-1].removeprefix("error: ")
        raise SubmissionError(f"the evaluation failed (exit {proc.returncode}): {last[-300:]}")
    try:
        rows = [json.loads(line) for line in text.strip().splitlines() if line.startswith("{")]
    except json.JSONDecodeError:
        rows = []
    if not rows:
        raise SubmissionError("the evaluation printed no result")
    return rows


def _version() -> str:
    from .. import __version__  # the package's own version (zoo/__init__.py is initialised before any submodule)

    return __version__
