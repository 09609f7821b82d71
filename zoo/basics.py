"""What every layer shares and nothing needs torch for: a checkpoint's file names, the book's preprocessing constants,
a file's sha256, a file written whole. The standard library only, so the catalog, the results store and the
leaderboard (``python -m zoo leaderboard``) load without importing torch; ``zoo.models`` re-exports them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import tempfile
from pathlib import Path

MNIST_NORMALIZE = {"mean": 0.1305, "std": 0.3081}  # the book's constants (Normalize((0.1305,), (0.3081,)))
AUTOENCODER_SCALE = {"min": -1.0, "max": 1.0}  # pixels in [0, 1] mapped linearly to [min, max]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file through a temporary file renamed into place: readers see the old text or the new."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``atomic_write_text`` for bytes."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it owner-only; a checkpoint's files are for every reader
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@functools.cache
def cpu_model() -> str:
    """The CPU's model name, as every benchmark figure names it (and the fast paths' cache is keyed by)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"
