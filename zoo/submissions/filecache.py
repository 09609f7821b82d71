"""Files read once: what a file gave is kept with the file's (inode, mtime_ns, size) and read again only when that
changed; a file gone is dropped. Kept in memory (one cache per results store and process) and in a cache file
(``$DLFS_ZOO_CACHE``, else ``$XDG_CACHE_HOME/dlfs-zoo/reads``), so that a new process (``python -m zoo leaderboard``)
starts where the last one ended. Deleting the cache file is always safe: everything is read again.

Correct while other processes write (the CLI, the app's worker, remote workers): a file's stat is taken *before*
it is read, so a file replaced in between is read again next time, never kept stale. The store writes files whole
(``atomic_write_text``: a new inode each time); a file edited in place changes its mtime or size, except when the
edit keeps the size and lands within the clock tick of the file's last write: so a file younger than ``RACY_NS``
when read is not trusted, it is read again next time (git's "racily clean" entries).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..basics import atomic_write_text

FORMAT = 1  # the cache file's layout; a file of another format is ignored (and replaced)
Stamp = list[int]  # inode, mtime_ns, size (a list, as JSON gives it back: loading converts nothing)
UNSURE: Stamp = [-1, -1, -1]  # the stamp of a file read while it was young: it matches no file, so it is read again
RACY_NS = 2_000_000_000  # a file modified this recently may change again without its stamp changing


def cache_dir() -> Path:
    """Where the cache files go: ``$DLFS_ZOO_CACHE``, else ``$XDG_CACHE_HOME/dlfs-zoo/reads``."""
    if os.environ.get("DLFS_ZOO_CACHE"):
        return Path(os.environ["DLFS_ZOO_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlfs-zoo" / "reads"


def _stamp(st: os.stat_result) -> Stamp:
    return [st.st_ino, st.st_mtime_ns, st.st_size]


def _trusted(st: os.stat_result) -> Stamp:
    """The stamp to keep for a file read now: UNSURE when it was modified too recently to be sure of it."""
    return UNSURE if time.time_ns() - st.st_mtime_ns < RACY_NS else _stamp(st)


class FileCache:
    """What the files under one results store gave when last read, and the other files its readers hash or parse
    (weights, cards). ``folder`` reads a folder of JSON files, ``file`` one file; ``batch`` saves once at its end."""

    def __init__(self, path: Path) -> None:
        self.path = path  # the cache file
        self.folders: dict[str, dict[str, list]] = {}  # folder -> file name -> [stamp, value]
        self.files: dict[str, list] = {}  # path -> [stamp, value]
        self.generations: dict[str, int] = {}  # folder -> how many times its files were seen changed (this process)
        self.changed = False
        self.depth = 0
        self.lock = threading.RLock()  # the app's handlers and its worker thread share one cache
        self.reads = 0  # files read (not taken from the cache) since this cache was made: what the tests count
        self._load()

    def _load(self) -> None:
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            folders, files = saved["folders"], saved["files"]
            if saved.get("format") == FORMAT and isinstance(folders, dict) and isinstance(files, dict):
                self.folders, self.files = folders, files

    @contextlib.contextmanager
    def batch(self) -> Iterator[FileCache]:
        """Hold the cache for a whole reading (one thread at a time) and save it once, at the end, if it changed."""
        with self.lock:
            self.depth += 1
            try:
                yield self
            finally:
                self.depth -= 1
                if self.depth == 0 and self.changed:
                    self.save()

    def save(self) -> None:
        """Write the cache file whole (a temporary file renamed into place); a cache that cannot be written is only
        slower next time. Values that JSON cannot hold strictly (a NaN someone wrote) stay in memory only."""
        self.changed = False
        payload = {"format": FORMAT, "folders": self.folders, "files": self.files}
        try:
            text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError):
            payload["folders"] = {
                f: {n: e for n, e in files.items() if _strict(e)} for f, files in self.folders.items()
            }
            payload["files"] = {p: e for p, e in self.files.items() if _strict(e)}
            text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, text)

    def folder(self, folder: Path, read: Callable[[Path], Any]) -> dict[str, Any]:
        """File name -> ``read(file)`` for each ``*.json`` file of ``folder`` (hidden ones left out), reading only the
        files new or changed since the last call; a file that cannot be read is left out this time, tried again next."""
        with self.batch():
            before = self.folders.get(str(folder), {})
            now: dict[str, list] = {}
            different = False  # a file's content changed (not only its stamp)
            with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith(".") or not entry.name.endswith(".json"):
                        continue
                    with contextlib.suppress(OSError, ValueError):
                        st = entry.stat()  # before the read: a file replaced meanwhile is read again next time
                        kept = before.get(entry.name)
                        if kept is not None and kept[0] == _stamp(st):
                            now[entry.name] = kept
                            continue
                        self.reads += 1
                        value = read(Path(entry.path))
                        same = kept is not None and kept[1] == value
                        now[entry.name] = [_trusted(st), kept[1] if same else value]
                        different = different or not same
            if different or now.keys() != before.keys():
                self.generations[str(folder)] = self.generations.get(str(folder), 0) + 1
            if now != before:
                self.folders[str(folder)] = now
                self.changed = True
            return {name: value for name, (_, value) in now.items()}

    def generation(self, folder: Path) -> int:
        """How many times ``folder`` was seen changed by this process (as of its last ``folder`` call)."""
        return self.generations.get(str(folder), 0)

    def file(self, path: str | Path, read: Callable[[Any], Any]) -> Any:
        """``read(path)``, or what it gave last time when the file has not changed since; None for a missing file."""
        with self.batch():
            key = str(path)
            try:
                st = os.stat(path)
            except OSError:
                if self.files.pop(key, None) is not None:
                    self.changed = True
                return None
            kept = self.files.get(key)
            if kept is not None and kept[0] == _stamp(st):
                return kept[1]
            self.reads += 1
            value = read(path)
            if kept != [_trusted(st), value]:
                self.files[key] = [_trusted(st), value]
                self.changed = True
            return value


def _strict(entry: list) -> bool:
    try:
        json.dumps(entry, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


_CACHES: dict[str, FileCache] = {}
_CACHES_LOCK = threading.Lock()


def for_store(root: Path) -> FileCache:
    """The one cache of this process for the results store at ``root`` (its cache file named by the store's path)."""
    where = str(Path(root).resolve())
    path = cache_dir() / f"{hashlib.sha256(where.encode()).hexdigest()[:16]}.json"
    with _CACHES_LOCK:
        if str(path) not in _CACHES:
            _CACHES[str(path)] = FileCache(path)
        return _CACHES[str(path)]
