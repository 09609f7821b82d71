"""The app's evaluation queue: one background thread evaluating a store's submissions one at a time."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

from .store import TIMEOUT_S, Store


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
