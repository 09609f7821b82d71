"""Anyone's checkpoint, checked at the door, evaluated by the project's own code, ranked beside the zoo's.

    python -m zoo submit ./my-model                  # a folder: config.json, model.safetensors, README.md
    python -m zoo submit hf:ORG/NAME@REVISION        # or a Hub model repo
    python -m zoo submit ./my-model --push ORG/DATA  # also commit the result file to a Hub dataset repo

``check`` is the door. It reads JSON, a safetensors header, the tensors themselves and markdown, nothing
else: no code of a submission ever runs (no pickle, no ``trust_remote_code``, no hubconf of theirs), and the
model the config describes is built on the meta device, so its size is known before anything is allocated.

The store (``$DLFS_ZOO_RESULTS``, a local folder by default) keeps what public leaderboards keep:
``requests/`` (each submission's lifecycle: pending, running, finished, or failed with the reason),
``results/`` (one file per model and weights sha256) and ``models/`` (the admitted files, so that
``zoo.load(name)`` and the app find a submitted model by its name).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import queue
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from .catalog import ALIASES, ENTRIES, validate_name
from .hub import (
    CONFIG_NAME,
    HUB_FILES,
    META_KEYS,
    ConfigError,
    atomic_write_text,
    embedded_dir,
    hub_error,
    load_folder,
    replace_dir,
    validate_config,
)
from .leaderboard import new_row
from .models import WEIGHTS_NAME, sha256_file

CARD_NAME = "README.md"
MAX_BYTES = {WEIGHTS_NAME: 100 * 2**20, CONFIG_NAME: 2**20, CARD_NAME: 2**20}
MAX_PARAMS = 50_000_000  # 100 MB of bf16 weights
MAX_CONFIG_INT = 2**20  # no zoo architecture has a size anywhere near this
MIN_CARD_TEXT = 200  # characters on how the model was trained
TIMEOUT_S = 900  # one evaluation
DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
ACTIVE_HTML = re.compile(r"<\s*(script|iframe|object|embed|style|form|meta|link)\b|javascript:|\son[a-z]+\s*=", re.I)


class SubmissionError(ValueError):
    """A submission refused at the door; the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Checked:
    """What passed the gates: enough to admit, evaluate and rank it."""

    name: str
    task: str
    architecture: str
    sha256: str
    params: int
    source: str  # "folder:/abs/path", "hf:org/name" or "upload"
    revision: str | None = None
    source_url: str | None = None


def results_dir() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(os.environ.get("DLFS_ZOO_RESULTS") or Path(data) / "dlfs-zoo" / "results")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -------------------------------------------------------------------------------------------- gates
def _files(folder: Path) -> dict[str, Path]:
    """The three files, plain and inside the folder, within their size caps."""
    if folder.is_symlink() or not folder.is_dir():
        raise SubmissionError(f"{folder} is not a folder; submit a folder with {', '.join(HUB_FILES)}")
    out = {}
    for name in HUB_FILES:
        path = folder / name
        if path.is_symlink():
            raise SubmissionError(f"{name} is a symbolic link; submit plain files (a link can point out of the folder)")
        if not path.is_file():
            raise SubmissionError(f"the submission has no {name}; a submission is {', '.join(HUB_FILES)}")
        if path.resolve().parent != folder.resolve():
            raise SubmissionError(f"{name} resolves outside the submitted folder")
        size = path.stat().st_size
        if size > MAX_BYTES[name]:
            raise SubmissionError(f"{name} is {size:,} bytes; the cap is {MAX_BYTES[name]:,}")
        out[name] = path
    return out


def _config(path: Path, name: str | None) -> tuple[dict[str, Any], type, str]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SubmissionError(f"config.json is not valid JSON: {e}") from None
    try:
        cls = validate_config(config)
    except ConfigError as e:
        raise SubmissionError(str(e)) from None
    for key, value in config.items():
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_CONFIG_INT:
            raise SubmissionError(
                f"config.json: {key} = {value:,} is beyond any zoo model's size (at most {MAX_CONFIG_INT:,})"
            )
    if config.get("task", cls.task) != cls.task:
        raise SubmissionError(f"config.json: task {config['task']!r} does not match {cls.__name__}, a {cls.task} model")
    name = name or config.get("name")
    if not name:
        raise SubmissionError("the submission has no name: give one with --name or as config.json's 'name'")
    try:
        validate_name(name)
    except ValueError:
        raise SubmissionError(f"invalid name {name!r}: lowercase letters, digits and '-', 1-64 characters") from None
    if name in ENTRIES or name in ALIASES or (embedded_dir() / name).exists():
        raise SubmissionError(f"{name!r} is a dlfs-zoo entry's name; a submission needs a name of its own")
    return config, cls, name


def read_header(path: Path) -> dict[str, dict[str, Any]]:
    """The tensors a safetensors file declares (dtype, shape, byte range), checked against the file's size."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        (n,) = struct.unpack("<Q", head) if len(head) == 8 else (0,)
        body = f.read(n) if 2 <= n <= min(size - 8, 100 * 2**20) else b""
    pickled = (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")) or head[:2] == b"PK"
    if not body.startswith(b"{"):
        what = "a pickle (or torch.save zip) renamed" if pickled else "not a safetensors file"
        raise SubmissionError(f"model.safetensors is {what}; only safetensors weights are read (pickles can run code)")
    try:
        header = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SubmissionError("model.safetensors is not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise SubmissionError("model.safetensors is not a safetensors file (its header is not a JSON object)")
    header.pop("__metadata__", None)
    data = size - 8 - n
    for key, t in header.items():
        ok = isinstance(t, dict) and t.get("dtype") in DTYPES and isinstance(t.get("shape"), list)
        ok = ok and all(isinstance(d, int) and d >= 0 for d in t["shape"]) and isinstance(t.get("data_offsets"), list)
        if ok:
            begin, end = t["data_offsets"]
            ok = 0 <= begin <= end <= data and end - begin == math.prod(t["shape"]) * DTYPES[t["dtype"]]
        if not ok:
            raise SubmissionError(f"model.safetensors: the header's entry for {key!r} does not match the file's bytes")
    return header


def _shapes(cls: type, config: dict[str, Any], header: dict[str, dict[str, Any]]) -> int:
    """Build the config's model on the meta device (no memory) and compare its tensors with the header."""
    kwargs = {k: v for k, v in config.items() if k not in META_KEYS}
    try:
        with torch.device("meta"), _budget(modules=4 * len(header) + 64):
            model = cls(**kwargs)
    except _TooBig as e:
        raise SubmissionError(f"config.json asks for {e}") from None
    except Exception as e:
        raise SubmissionError(f"config.json does not build a {cls.__name__}: {e}") from None
    wanted = model.state_dict()
    params = sum(t.numel() for t in wanted.values())
    missing, extra = sorted(wanted.keys() - header.keys()), sorted(header.keys() - wanted.keys())
    if missing or extra:
        raise SubmissionError(
            f"model.safetensors does not hold the tensors config.json builds: "
            f"missing {missing[:5]}, unexpected {extra[:5]}"
        )
    for key, t in wanted.items():
        if list(t.shape) != header[key]["shape"]:
            raise SubmissionError(
                f"tensor {key}: the file says shape {header[key]['shape']}, the config builds {list(t.shape)}"
            )
        if t.is_floating_point() != (header[key]["dtype"] in ("F64", "F32", "F16", "BF16")):
            raise SubmissionError(f"tensor {key}: stored as {header[key]['dtype']}, the model holds {t.dtype}")
    return params


class _TooBig(Exception):
    pass


_counting = threading.local()


def _count(kind: str, numel: int = 0) -> None:
    budget = getattr(_counting, "budget", None)
    if budget is None:
        return
    budget["modules"] -= kind == "module"
    budget["params"] -= numel
    if budget["modules"] < 0:
        raise _TooBig(f"more modules than the weights file has tensors ({budget['cap']:,} at most)")
    if budget["params"] < 0:
        raise _TooBig(f"more than {MAX_PARAMS:,} parameters (the cap)")


@contextlib.contextmanager
def _budget(modules: int) -> Iterator[None]:
    """Stop building a model (even on the meta device) as soon as it outgrows the caps: a config asking for
    a million layers fails in milliseconds instead of building them. Counts in this thread only."""
    from torch.nn.modules import module as nn_module

    _counting.budget = {"modules": modules, "params": MAX_PARAMS, "cap": modules}
    hooks = [
        nn_module.register_module_module_registration_hook(lambda m, n, sub: _count("module")),
        nn_module.register_module_parameter_registration_hook(
            lambda m, n, p: _count("param", p.numel() if p is not None else 0)
        ),
        nn_module.register_module_buffer_registration_hook(
            lambda m, n, b: _count("buffer", b.numel() if b is not None else 0)
        ),
    ]
    try:
        yield
    finally:
        _counting.budget = None
        for h in hooks:
            h.remove()


def _finite(model: torch.nn.Module) -> None:
    for key, t in model.state_dict().items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise SubmissionError(f"tensor {key} holds NaN or infinite values; weights must be finite numbers")


def _card(path: Path) -> None:
    from huggingface_hub import ModelCard

    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise SubmissionError(
            f"README.md is empty: a card needs a license and >= {MIN_CARD_TEXT} characters on how it was trained"
        )
    if m := ACTIVE_HTML.search(text):
        raise SubmissionError(
            f"README.md holds active HTML ({m.group(0).strip()!r}); cards are shown as text: use markdown"
        )
    try:
        card = ModelCard(text, ignore_metadata_errors=False)
    except Exception as e:
        where = " ".join(str(e).split())[:200]
        raise SubmissionError(f"README.md's metadata block is not valid YAML: {where}") from None
    if not card.data.license:
        raise SubmissionError("README.md declares no license; add `license:` (e.g. mit, apache-2.0) to its metadata")
    words = len(" ".join(card.text.split()))
    if words < MIN_CARD_TEXT:
        raise SubmissionError(
            f"README.md says {words} characters about the model; at least {MIN_CARD_TEXT} on how it was trained"
        )


def check(
    folder: str | os.PathLike,
    name: str | None = None,
    store: Store | None = None,
    source: str | None = None,
    **where: Any,
) -> Checked:
    """Every gate, cheapest first; raises ``SubmissionError`` with one sentence at the first that fails."""
    folder = Path(folder)
    files = _files(folder)
    config, cls, name = _config(files[CONFIG_NAME], name)
    header = read_header(files[WEIGHTS_NAME])
    declared, actual = config.get("weights_sha256"), sha256_file(files[WEIGHTS_NAME])
    if not declared:
        raise SubmissionError("config.json declares no weights_sha256; add the sha256 of model.safetensors")
    if declared != actual:
        raise SubmissionError(f"model.safetensors has sha256 {actual[:16]}..., config.json declares {declared[:16]}...")
    params = _shapes(cls, config, header)
    try:
        model = load_folder(folder)  # the strict load the zoo does for its own checkpoints
    except Exception as e:
        raise SubmissionError(f"the checkpoint does not load strictly: {e}") from None
    _finite(model)
    _card(files[CARD_NAME])
    (store or Store()).refuse_duplicate(name, actual)
    return Checked(name, cls.task, cls.__name__, actual, params, source or f"folder:{folder.resolve()}", **where)


# -------------------------------------------------------------------------------------------- fetch
def fetch(source: str, into: Path) -> tuple[Path, dict[str, Any]]:
    """A local folder as it is, or ``hf:ORG/NAME[@REVISION]`` downloaded (plain files, three of them) into ``into``."""
    if not source.startswith("hf:"):
        return Path(source), {}
    repo, _, revision = source[3:].partition("@")
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}", repo):
        raise SubmissionError(f"{source!r}: a Hub source is hf:ORG/NAME or hf:ORG/NAME@REVISION")
    from huggingface_hub import HfApi, snapshot_download

    try:
        sha = HfApi().model_info(repo, revision=revision or None).sha
        snapshot_download(repo, revision=sha or revision or None, allow_patterns=HUB_FILES, local_dir=into)
    except Exception as e:
        raise SubmissionError(hub_error(e, f"fetch {repo}")) from None
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    return into, {"source": f"hf:{repo}", "revision": sha, "source_url": f"{endpoint}/{repo}"}


# -------------------------------------------------------------------------------------------- store
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

    def requests(self) -> list[dict[str, Any]]:
        folder = self._dir("requests")
        out = []
        for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            with contextlib.suppress(OSError, json.JSONDecodeError):
                out.append(json.loads(p.read_text(encoding="utf-8")))
        return sorted(out, key=lambda r: r.get("submitted_at", ""))

    def request(self, key: str) -> dict[str, Any]:
        return json.loads((self._dir("requests") / f"{key}.json").read_text(encoding="utf-8"))

    def _write(self, kind: str, key: str, record: dict[str, Any]) -> Path:
        folder = self._dir(kind)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}.json"
        atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
        return path

    def update(self, key: str, **changes: Any) -> dict[str, Any]:
        record = self.request(key) | changes | {"updated_at": _now()}
        self._write("requests", key, record)
        return record

    def refuse_duplicate(self, name: str, sha256: str) -> None:
        for r in self.requests():
            if r["status"] == "failed":
                continue  # a failed evaluation may be submitted again
            if r["sha256"] == sha256:
                raise SubmissionError(
                    f"these weights (sha256 {sha256[:12]}...) were already submitted as {r['model']!r} "
                    f"({r['status']}); one evaluation per set of weights"
                )
            if r["model"] == name:
                raise SubmissionError(f"the name {name!r} is taken by another submission; choose another with --name")

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
                config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))  # ranked under its new name
                config |= {"name": checked.name, "task": checked.task}
                (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
                os.chmod(tmp, 0o755)
                replace_dir(tmp, models / checked.name)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            record = asdict(checked) | {"model": checked.name, "status": "pending", "submitted_at": _now()}
            record.pop("name")
            self._write("requests", key, record | {"updated_at": record["submitted_at"]})
        return key

    def model_folder(self, name: str) -> Path | None:
        """A finished submission's files, by name (None when there is no such finished submission)."""
        for r in self.requests():
            if r["model"] == name and r["status"] == "finished":
                return self._dir("models") / name
        return None

    def results(self) -> list[dict[str, Any]]:
        finished = {self.key(r["model"], r["sha256"]) for r in self.requests() if r["status"] == "finished"}
        out = []
        for key in sorted(finished):
            path = self._dir("results") / f"{key}.json"
            with contextlib.suppress(OSError, json.JSONDecodeError):
                out.append(json.loads(path.read_text(encoding="utf-8")))
        return out

    def queue(self) -> list[str]:
        """Keys waiting for an evaluation, oldest first (a 'running' left by a killed process runs again)."""
        return [self.key(r["model"], r["sha256"]) for r in self.requests() if r["status"] in ("pending", "running")]

    def evaluate(self, key: str, timeout: float = TIMEOUT_S, progress: Callable[[str], None] | None = None) -> dict:
        """Run ``python -m training evaluate --folder`` (the code that scores the zoo's own entries) on the
        admitted files, in a child process with a time limit; write the result file or the failure."""
        with self.lock("evaluate"):
            request = self.request(key)
            if request["status"] not in ("pending", "running"):
                return request
            folder = self._dir("models") / request["model"]
            command = [sys.executable, "-m", "training", "evaluate", "--folder", str(folder)]
            self.update(key, status="running", started_at=_now(), reason=None)
            start = time.perf_counter()
            try:
                row = _run(command, timeout, progress)
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
            return self.update(key, status="finished", finished_at=result["evaluated_at"])

    def push(self, key: str, repo_id: str) -> str:
        """Commit the request and result files to a Hub dataset repo (``requests/``, ``results/``); its URL."""
        from huggingface_hub import CommitOperationAdd, HfApi

        ops = [
            CommitOperationAdd(f"{kind}/{key}.json", str(self._dir(kind) / f"{key}.json"))
            for kind in ("requests", "results")
            if (self._dir(kind) / f"{key}.json").is_file()
        ]
        api = HfApi()
        try:
            api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
            info = api.create_commit(repo_id, ops, commit_message=f"Result of {key}", repo_type="dataset")
        except Exception as e:
            raise SubmissionError(hub_error(e, f"push the result to {repo_id}")) from None
        return info.commit_url


def _run(command: list[str], timeout: float, progress: Callable[[str], None] | None) -> dict[str, Any]:
    """The evaluation child process: its stderr lines go to ``progress``, its stdout is one JSON row."""
    here = str(Path(__file__).resolve().parent.parent)  # the checkout (or site-packages) that holds training/
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
        last = (errors.strip().splitlines() or ["no message"])[-1]
        raise SubmissionError(f"the evaluation failed (exit {proc.returncode}): {last[-300:]}")
    try:
        return json.loads(text.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise SubmissionError("the evaluation printed no result") from None


def _version() -> str:
    from . import __version__

    return __version__


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


class Worker:
    """A store's evaluations in one background thread, one at a time, the rest waiting in order (the app's
    queue). Submissions left pending or running by a stopped process are taken up again at start."""

    def __init__(
        self, store: Store | None = None, timeout: float = TIMEOUT_S, on_done: Callable[[str], None] | None = None
    ) -> None:
        self.store, self.timeout, self.on_done = store or Store(), timeout, on_done
        self.progress: dict[str, str] = {}
        self._queue: queue.Queue[str] = queue.Queue()
        self._waiting: list[str] = []
        self._lock = threading.Lock()
        for key in self.store.queue():
            self.enqueue(key)
        threading.Thread(target=self._run, daemon=True, name="dlfs-zoo-submissions").start()

    def enqueue(self, key: str) -> int:
        """Queue an admitted submission; its position (1: evaluated next)."""
        with self._lock:
            self._waiting.append(key)
            self._queue.put(key)
            return len(self._waiting)

    def position(self, key: str) -> int | None:
        with self._lock:
            return self._waiting.index(key) + 1 if key in self._waiting else None

    def _run(self) -> None:
        while True:
            key = self._queue.get()
            with self._lock:
                self._waiting.remove(key)
            try:
                self.store.evaluate(key, self.timeout, progress=lambda line, key=key: self.progress.update({key: line}))
            except Exception as e:  # the store, not the submission, failed: say so in its record
                with contextlib.suppress(Exception):
                    self.store.update(key, status="failed", reason=f"the evaluation could not run: {e}")
            if self.on_done:
                self.on_done(key)

    def status(self) -> list[dict[str, Any]]:
        """Every request, newest first, with its queue position and the evaluation's last progress line."""
        out = []
        for r in reversed(self.store.requests()):
            key = self.store.key(r["model"], r["sha256"])
            out.append(r | {"position": self.position(key), "progress": self.progress.get(key)})
        return out


# ------------------------------------------------------------------------------------------ rows
def submitted_rows(store: Store | None = None) -> list[dict[str, Any]]:
    """Leaderboard rows of the finished submissions; ``verified`` when the stored weights are the evaluated ones."""
    store = store or Store()
    rows = []
    for r in store.results():
        weights = store._dir("models") / r["model"] / WEIGHTS_NAME
        verified = weights.is_file() and sha256_file(weights) == r["sha256"]
        rows.append(
            new_row(
                r["task"],
                r["model"],
                r["metrics"],
                verified,
                params=r.get("num_params"),
                size_bytes=r.get("file_size"),
                latency_ms=r.get("cpu_latency_ms"),
                command=r.get("command"),
                intervals=r.get("intervals") or {},
                origin="submitted",
                source=r.get("source"),
                source_url=r.get("source_url"),
            )
        )
    return rows
