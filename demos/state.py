"""The model pool every session of the app shares: the zoo's models loaded once, submitted ones on first use, the
ranking they are picked from, and the one queue that evaluates submissions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

import zoo
from demos.i18n import refuse
from zoo.leaderboard import Row
from zoo.submissions import Store, Worker
from zoo.submissions.app_queue import DatasetQueue, app_queue

ASSETS = Path(__file__).resolve().parent / "assets"
LIMIT = 4  # concurrent runs per event
KEEP_SUBMITTED = 4  # submitted models kept loaded (least recently used first out)


@dataclass
class Zoo:
    """Every model, grouped by task in leaderboard order: the zoo's own loaded once and shared by all sessions,
    submitted ones (``python -m zoo submit``, the Submit tab) loaded on first use, the last few kept."""

    source: str = "embedded"
    models: dict[str, zoo.PyTorchModel] = field(default_factory=dict)
    board: list[Row] = field(default_factory=list)
    samples: tuple[np.ndarray, np.ndarray] | None = None
    sample_codes: dict[tuple[str, int], list[float]] = field(default_factory=dict)  # searched codes are slow
    submitted: OrderedDict[str, zoo.PyTorchModel] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    by_task: dict[str, list[str]] = field(init=False, default_factory=dict)  # task -> its models, best first
    rows: dict[str, Row] = field(init=False, default_factory=dict)  # model -> its row of the ranking
    origins: dict[str, str] = field(init=False, default_factory=dict)  # model -> "zoo" or "submitted"
    seen: tuple[str, int, int] | None = field(init=False, default=None)  # the store's version the ranking was read at

    def __post_init__(self) -> None:
        self.rank(self.board)

    @classmethod
    def load(cls, source: str = "embedded") -> Zoo:
        z = cls(source=source)
        z.refresh()
        for name, origin in z.origins.items():
            if origin == "zoo":
                z.models[name] = zoo.load(name, source=source)
        sample = ASSETS / "mnist_sample.npz"
        if sample.is_file():
            with np.load(sample) as f:
                z.samples = (f["images"], f["labels"])
        return z

    def rank(self, board: list[Row]) -> None:
        """Take a ranking (``zoo.leaderboard``'s rows): the one place the pool reads a row (model, task, origin);
        the Leaderboard tab reads the rest."""
        by_task: dict[str, list[str]] = {}
        for row in board:
            by_task.setdefault(row.task, []).append(row.model)
        rows = {row.model: row for row in board}
        origins = {name: row.origin for name, row in rows.items()}
        self.board, self.by_task, self.rows, self.origins = board, by_task, rows, origins

    def mnist_sample(self) -> tuple[np.ndarray, np.ndarray]:
        if self.samples is None:
            raise refuse("no_sample")
        return self.samples

    def refresh(self) -> None:
        """Re-read the ranking (a submission finished); only the store's files changed since are read again."""
        seen = Store().version()  # before the ranking: a change made while it is read is read again next time
        self.rank(zoo.leaderboard(source=self.source))
        self.seen = seen

    def finished(self, key: str) -> None:
        """A submission's evaluation ended (the worker's ``on_done``): re-read the ranking."""
        self.refresh()

    def current(self) -> Zoo:
        """The ranking as the results store has it now: re-read when a request or result file changed since (in any
        process), so that a row shows the moment its evaluation says finished. Cheap when nothing changed: one
        look at each file's size and time (``Store.version``), nothing parsed."""
        if Store().version() != self.seen:
            self.refresh()
        return self

    def row(self, name: str | None) -> Row | None:
        """A model's row of the ranking (None for a name it does not hold)."""
        return self.rows.get(name or "")

    def task_of(self, name: str | None) -> str | None:
        """The task of a ranked model (None for a name the ranking does not hold)."""
        return next((task for task, names in self.by_task.items() if name in names), None)

    def get(self, name: str, task: str) -> zoo.PyTorchModel:
        names = self.by_task.get(task, []) if name in self.models else self.current().by_task.get(task, [])
        if name not in names:
            # a name shaped like a path is not echoed: the answer would read as if it named a file of the server
            said = f" {name!r}" if isinstance(name, str) and "/" not in name and "\\" not in name else ""
            raise refuse("unknown_model", task=task, said=said, names=", ".join(names))
        if name in self.models:
            return self.models[name]
        with self.lock:
            if name not in self.submitted:
                self.submitted[name] = zoo.load(name)
                while len(self.submitted) > KEEP_SUBMITTED:
                    self.submitted.popitem(last=False)
            self.submitted.move_to_end(name)
            return self.submitted[name]

    @cached_property
    def worker(self) -> Worker | DatasetQueue:
        """The one evaluation queue, started when first asked for (the Submit tab builds): the local
        ``zoo.submissions.Worker``, or the requests dataset that ``$DLFS_ZOO_REQUESTS`` names (workers elsewhere);
        the ranking is re-read when a submission finishes."""
        return app_queue(on_done=self.finished)
