"""The app's training jobs (its Train tab, ``/train_model``): a recipe of the zoo that trains in minutes on a CPU,
with the hyperparameters a visitor may change and the range each is held to, run as ``python -m training train``
in a child process (the CLI's own trainer and evaluator), one at a time per app, the rest queued in order, each
within a CPU-time cap. A job is a folder under ``jobs_dir()``: ``request.json``, the child's ``progress.jsonl``
(``training.curves``), its checkpoint under ``out/`` and, once over, ``result.json``; an app that restarts finds
every finished job there."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zoo.basics import atomic_write_text
from zoo.catalog import ENTRIES
from zoo.checkpoint_io import CHECKPOINT_FILES, CURVE_IMAGE_NAME, TRAINING_LOG_NAME

from .data import data_dir

ROOT = Path(__file__).resolve().parent.parent  # what the child imports ``training`` from, in a checkout
CPU_CAP_S = int(os.environ.get("DLFS_ZOO_TRAIN_CPU_S") or 600)  # CPU seconds per job (all its threads together)
STOP_GRACE_S = 5  # a stopped child that has not ended in this time is killed
FINISHED = ("done", "failed", "stopped")
KEPT_FILES = (*CHECKPOINT_FILES, TRAINING_LOG_NAME, CURVE_IMAGE_NAME)
# the child: `python -m training ARGS` under a CPU-time limit (SIGXCPU ends it at the cap), set by the child itself
# (a limit set between fork and exec, preexec_fn, is not safe in a server with threads)
CAPPED = (
    "import resource, runpy, sys; cap = int(sys.argv.pop(1)); "
    "resource.setrlimit(resource.RLIMIT_CPU, (cap, cap + 5)); "
    "runpy.run_module('training', run_name='__main__', alter_sys=True)"
)


def jobs_dir() -> Path:
    """``$DLFS_ZOO_TRAIN_JOBS``, else ``train-jobs`` in the data folder (``training.data.data_dir``)."""
    return Path(os.environ.get("DLFS_ZOO_TRAIN_JOBS") or data_dir() / "train-jobs")


@dataclass(frozen=True)
class Knob:
    """One hyperparameter a visitor may change: its allowed range and the recipe's own value."""

    lo: float
    hi: float
    default: float
    whole: bool = True  # a whole number (epochs, batch size, width, seed, subset size)
    arch: tuple[str, ...] = ()  # the architecture's numbers it sets (``train --arch``); width: the first, the
    # rest half of it (the ConvNet's second convolution)


SEED = Knob(0, 2**31 - 1, 0)


def _knobs(entry: str, epochs: int, batch: int, limit: int, width: tuple[str, ...] = (), keep: bool = True):
    e = ENTRIES[entry]
    out = {
        "epochs": Knob(1, epochs, e.recipe.epochs),
        "lr": Knob(1e-5, 1.0, e.recipe.lr, whole=False),
        "batch_size": Knob(1, batch, e.recipe.batch_size),
        "seed": SEED,
        "train_limit": Knob(10, limit, limit),  # the whole training set unless made smaller
    }
    if width:
        out["width"] = Knob(1, 4 * e.kwargs[width[0]], e.kwargs[width[0]], arch=width)
    if keep:
        out["keep_prob"] = Knob(0.1, 1.0, e.kwargs["keep_prob"], whole=False, arch=("keep_prob",))
    return out


# the recipes a job may train: each trains in seconds to a few minutes on a 2-core CPU at its defaults
RECIPES: dict[str, dict[str, Knob]] = {
    "house-prices-book": _knobs("house-prices-book", 300, 354, 354, ("hidden_size",)),
    "mnist-mlp": _knobs("mnist-mlp", 5, 1000, 60000, ("hidden_size",)),
    "mnist-convnet-book": _knobs("mnist-convnet-book", 3, 1000, 60000, ("conv1_channels", "conv2_channels")),
    "char-lstm-book": _knobs("char-lstm-book", 2, 512, 200000, keep=False),
    "autoencoder-book": _knobs("autoencoder-book", 3, 1000, 60000, ("hidden_dim",), keep=False),
}
KNOBS = ("epochs", "lr", "batch_size", "width", "keep_prob", "seed", "train_limit")  # the order shown


class JobError(ValueError):
    """A request a job cannot take: ``code`` names the sentence (the app says it in the page's language), ``fields``
    fill it; ``str()`` is the English one."""

    TEXT = {
        "train_unknown_recipe": "{value} is not a recipe the Train tab runs; choose one of: {allowed}.",
        "train_not_a_number": "{knob} must be a number between {lo:g} and {hi:g}, got {value}.",
        "train_range": "{knob} must be between {lo:g} and {hi:g} for {recipe}, got {value:g}.",
        "train_whole": "{knob} must be a whole number between {lo:g} and {hi:g}, got {value:g}.",
        "train_no_knob": "{recipe} has no {knob} to change; leave it empty.",
    }

    def __init__(self, code: str, **fields: Any) -> None:
        self.code, self.fields = code, fields
        super().__init__(self.TEXT[code].format(**fields))


def check(recipe: str, values: dict[str, Any]) -> dict[str, int | float]:
    """The values a job runs with: each given one within its range (None: the recipe's own), a JobError else."""
    if recipe not in RECIPES:
        raise JobError("train_unknown_recipe", value=str(recipe)[:40], allowed=", ".join(RECIPES))
    knobs, out = RECIPES[recipe], {}
    for name in KNOBS:
        value = values.get(name)
        if value is None or value == "":
            if name in knobs:
                out[name] = knobs[name].default
            continue
        if name not in knobs:
            raise JobError("train_no_knob", recipe=recipe, knob=name)
        k = knobs[name]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise JobError("train_not_a_number", knob=name, lo=k.lo, hi=k.hi, value=str(value)[:40]) from None
        if not k.lo <= number <= k.hi:  # NaN fails this too
            raise JobError("train_range", knob=name, lo=k.lo, hi=k.hi, recipe=recipe, value=number)
        if k.whole and number != int(number):
            raise JobError("train_whole", knob=name, lo=k.lo, hi=k.hi, value=number)
        out[name] = int(number) if k.whole else number
    return out


def child_args(recipe: str, name: str, values: dict[str, int | float]) -> list[str]:
    """``python -m training train``'s arguments for a job (run in the job's folder: ``--out out``)."""
    knobs = RECIPES[recipe]
    args = ["train", recipe, "--name", name, "--epochs", str(values["epochs"]), "--lr", f"{values['lr']:g}"]
    args += ["--batch-size", str(values["batch_size"]), "--seed", str(values["seed"])]
    if values["train_limit"] < knobs["train_limit"].hi:
        args += ["--train-limit", str(values["train_limit"])]
    for knob in ("width", "keep_prob"):
        if knob in knobs and values[knob] != knobs[knob].default:
            first, *rest = knobs[knob].arch
            args += ["--arch", f"{first}={values[knob]}"]
            args += [f"--arch={key}={max(1, int(values[knob]) // 2)}" for key in rest]
    return [*args, "--out", "out", "--quiet", "--skip-robustness", "--progress-file", "progress.jsonl"]


@dataclass
class Job:
    """One training job: its folder holds everything about it."""

    id: str
    folder: Path
    _read_to: int = field(default=0, repr=False, compare=False)  # progress.jsonl's bytes read (whole lines only)
    _events: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)  # the events they hold
    _reading: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)  # one reader at once

    @property
    def request(self) -> dict[str, Any]:
        return json.loads((self.folder / "request.json").read_text(encoding="utf-8"))

    @property
    def result(self) -> dict[str, Any] | None:
        path = self.folder / "result.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def events(self, start: int = 0) -> list[dict[str, Any]]:
        """The child's progress events from the ``start``-th on (a line being written is left for later). Each call
        reads only the bytes written since the last one (the complete lines are kept, from a byte offset)."""
        with self._reading:  # the queue's thread and the page's follower may share one Job
            try:
                with (self.folder / "progress.jsonl").open("rb") as f:
                    f.seek(self._read_to)
                    new = f.read()
            except OSError:
                new = b""
            end = new.rfind(b"\n") + 1  # only complete lines; the rest is read again once its newline is written
            for line in new[:end].splitlines(keepends=True):
                try:
                    self._events.append(json.loads(line))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    break  # not one event: read again next time, and nothing after it
                self._read_to += len(line)
            return self._events[start:]

    def files(self) -> list[Path]:
        """The finished checkpoint's files (weights, config, card, training log, its picture); none until done."""
        folder = self.folder / "out" / self.request["name"]
        return [folder / f for f in KEPT_FILES if (folder / f).is_file()]


class Jobs:
    """The queue of one app: jobs start in the order they came, one at a time, in a thread of their own."""

    def __init__(self, root: Path | None = None, cpu_cap_s: int = CPU_CAP_S) -> None:
        self.root = root or jobs_dir()
        self.cpu_cap_s = cpu_cap_s
        self.lock = threading.Condition()
        self.waiting: list[Job] = []
        self.running: Job | None = None
        self.proc: subprocess.Popen | None = None
        self.stopping: set[str] = set()
        self._left_over()
        threading.Thread(target=self._serve, name="train-jobs", daemon=True).start()

    def _left_over(self) -> None:
        """Jobs a previous app left unfinished (it stopped meanwhile): recorded as stopped, their output removed."""
        for folder in self.root.glob("*/request.json") if self.root.is_dir() else []:
            job = Job(folder.parent.name, folder.parent)
            if job.result is None:
                shutil.rmtree(job.folder / "out", ignore_errors=True)
                self._finish(job, "stopped", reason="restart")

    def submit(self, recipe: str, values: dict[str, Any]) -> Job:
        """A checked job, queued; JobError when a value is out of its range."""
        checked = check(recipe, values)
        job_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        name = f"{recipe}-try-{job_id[-6:]}"
        folder = self.root / job_id
        folder.mkdir(parents=True)
        args = child_args(recipe, name, checked)
        request = {"recipe": recipe, "name": name, "values": checked, "args": args, "submitted": time.time()}
        atomic_write_text(folder / "request.json", json.dumps(request, indent=1))
        job = Job(job_id, folder)
        with self.lock:
            self.waiting.append(job)
            self.lock.notify_all()
        return job

    def get(self, job_id: str) -> Job | None:
        """A job of this app's folder by its id (an id is letters, digits and dashes only)."""
        if not job_id or not all(c.isalnum() or c == "-" for c in job_id):
            return None
        folder = self.root / job_id
        return Job(job_id, folder) if (folder / "request.json").is_file() else None

    def position(self, job: Job) -> int:
        """How many jobs are ahead of this one (the running one and those queued before it): 0 once it is next or
        running, -1 once it is over."""
        with self.lock:
            if self.running is not None and self.running.id == job.id:
                return 0
            for i, waiting in enumerate(self.waiting):
                if waiting.id == job.id:
                    return i + (self.running is not None)
        return -1

    def current(self) -> Job | None:
        """The job running now, else the first one waiting; None when there is neither."""
        with self.lock:
            return self.running or (self.waiting[0] if self.waiting else None)

    def finished(self) -> list[Job]:
        """Every finished job of the folder, newest first."""
        found = [Job(p.parent.name, p.parent) for p in self.root.glob("*/result.json")] if self.root.is_dir() else []
        return sorted(found, key=lambda j: j.id, reverse=True)

    def stop(self, job_id: str) -> bool:
        """Take a waiting job out of the queue, or end the running one (its output removed, nothing half-written
        is left: the checkpoint is only ever renamed into place whole). False when it is no longer either."""
        with self.lock:
            for job in self.waiting:
                if job.id == job_id:
                    self.waiting.remove(job)
                    self._finish(job, "stopped")
                    return True
            if self.running is None or self.running.id != job_id or self.proc is None:
                return False
            self.stopping.add(job_id)
            proc = self.proc
        _signal_group(proc, signal.SIGTERM)
        return True

    def _serve(self) -> None:
        while True:
            with self.lock:
                while not self.waiting:
                    self.lock.wait()
                job = self.running = self.waiting.pop(0)
                try:
                    self.proc = self._start(job)
                except OSError:
                    self.proc = None
            if self.proc is None:
                self._finish(job, "failed", reason="error")
            else:
                self._watch(job, self.proc)
            with self.lock:
                self.running = self.proc = None
                self.lock.notify_all()

    def _start(self, job: Job) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with (job.folder / "log.txt").open("w") as log:
            return subprocess.Popen(
                [sys.executable, "-c", CAPPED, str(self.cpu_cap_s), *job.request["args"]],
                cwd=job.folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: a stop reaches whatever it started
            )

    def _watch(self, job: Job, proc: subprocess.Popen) -> None:
        """Wait for the child; a stopped one that lingers is killed; then the job's result is written."""
        stopped_at = None
        while proc.poll() is None:
            time.sleep(0.2)
            if job.id in self.stopping and stopped_at is None:
                stopped_at = time.monotonic()
            if stopped_at is not None and time.monotonic() - stopped_at > STOP_GRACE_S:
                _signal_group(proc, signal.SIGKILL)
        done = [e for e in job.events() if e.get("event") == "done"]
        if job.id in self.stopping:
            self.stopping.discard(job.id)
            shutil.rmtree(job.folder / "out", ignore_errors=True)
            self._finish(job, "stopped")
        elif proc.returncode == 0 and done:
            self._finish(job, "done", metrics=done[-1]["metrics"], command=done[-1]["command"])
        else:
            shutil.rmtree(job.folder / "out", ignore_errors=True)
            capped = proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL)
            self._finish(job, "failed", reason="cpu_cap" if capped else "error", status=proc.returncode)

    def _finish(self, job: Job, state: str, **fields: Any) -> None:
        result = {"state": state, "finished": time.time(), **fields}
        atomic_write_text(job.folder / "result.json", json.dumps(result, indent=1))


_APP_JOBS: dict[Path, Jobs] = {}
_APP_JOBS_LOCK = threading.Lock()


def app_jobs() -> Jobs:
    """The one queue of this process over ``jobs_dir()`` (an app built twice in one process shares it)."""
    root = jobs_dir()
    with _APP_JOBS_LOCK:
        if root not in _APP_JOBS:
            _APP_JOBS[root] = Jobs(root)
        return _APP_JOBS[root]


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
