"""Drawings people say a model read wrong, kept (only when they ask) as an image dataset in the Hugging Face
``imagefolder`` layout: ``train/metadata.jsonl`` beside the PNGs, one line per drawing with the digit the
person gave. Nothing about the person is stored: no IP address, no browser data, no time finer than a day.

``DLFS_ZOO_FLAGS`` names the folder (default: ``flags/`` in the data folder). With ``DLFS_ZOO_FLAGS_REPO=ORG/NAME``
every ``DLFS_ZOO_FLAGS_BATCH`` (default 20) new drawings are committed to that dataset repo on the Hub.

What is kept is what the project uses, never the upload as sent: the 28x28 the model saw, and the original
shrunk to at most ``THUMBNAIL`` px on its longer side. The store holds at most ``DLFS_ZOO_MAX_FLAGS`` drawings
(default 10,000); past that it refuses new ones (``FlagStoreFull``) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import threading
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from . import data

MIN_FOR_A_COLUMN = 100  # `evaluate --people` reports accuracy once this many drawings are kept
THUMBNAIL = 256  # the kept original's longer side at most, in pixels


class FlagStoreFull(ValueError):
    """The store holds as many drawings as it may; the message says how many."""


def max_flags() -> int:
    """How many drawings the store may hold ($DLFS_ZOO_MAX_FLAGS, default 10,000)."""
    try:
        return max(0, int(os.environ.get("DLFS_ZOO_MAX_FLAGS", "10000")))
    except ValueError:
        return 10_000


def thumbnail(original: np.ndarray | Image.Image) -> Image.Image:
    """The original drawing or photo as kept: at most THUMBNAIL px on its longer side, its aspect kept."""
    image = original if isinstance(original, Image.Image) else Image.fromarray(np.asarray(original))
    image = image.copy()
    image.thumbnail((THUMBNAIL, THUMBNAIL))
    return image


def flags_dir() -> Path:
    return Path(os.environ.get("DLFS_ZOO_FLAGS") or data.data_dir() / "flags")


class FlagStore:
    """Append-only: each drawing's files are written whole (temp file, then rename) before its metadata line,
    so a reader never sees a line whose images are missing."""

    _lock = threading.Lock()

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder or flags_dir())
        self.split = self.folder / "train"

    def add(self, original: np.ndarray, seen: np.ndarray, label: int, predicted: int | None, model: str) -> str:
        """Keep one drawing: ``original`` as sent (any size, RGB(A) or grey; kept as a thumbnail), ``seen`` the
        28x28 in [0, 1]. Refuses (``FlagStoreFull``, nothing written) once the store holds ``max_flags()``."""
        if not isinstance(label, int) or not 0 <= label <= 9:
            raise ValueError(f"the right digit must be a whole number from 0 to 9, got {label!r}")
        key = uuid.uuid4().hex[:16]
        seen_png = (np.clip(np.asarray(seen, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8)
        line = {
            "file_name": f"{key}-seen.png",
            "original": f"{key}-original.png",
            "label": label,
            "predicted": predicted,
            "model": model,
            "day": dt.date.today().isoformat(),
        }
        with self._lock:  # the count and the write together: two visitors cannot both take the last place
            self.check_room()
            self.split.mkdir(parents=True, exist_ok=True)
            self._write(f"{key}-seen.png", Image.fromarray(seen_png, "L"))
            self._write(f"{key}-original.png", thumbnail(original))
            with open(self.split / "metadata.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(line, allow_nan=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
        self._maybe_push()
        return key

    def count(self) -> int:
        """How many drawings are kept (the metadata's lines, without parsing them)."""
        meta = self.split / "metadata.jsonl"
        if not meta.is_file():
            return 0
        with open(meta, "rb") as f:
            return sum(1 for line in f if line.strip())

    def check_room(self) -> None:
        """Refuse when the store is full, in a sentence."""
        limit = max_flags()
        if self.count() >= limit:
            raise FlagStoreFull(
                f"the collection of flagged drawings is full ({limit:,} drawings, the most this app keeps); "
                "no more can be saved until the maintainers clear it"
            )

    def _write(self, name: str, image: Image.Image) -> None:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        data.atomic_write_bytes(self.split / name, buf.getvalue())

    def records(self) -> list[dict]:
        meta = self.split / "metadata.jsonl"
        if not meta.is_file():
            return []
        return [json.loads(line) for line in meta.read_text(encoding="utf-8").splitlines() if line.strip()]

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """The 28x28 images (N, 28, 28) in [0, 1] and the labels people gave."""
        rows = self.records()
        images = [np.asarray(Image.open(self.split / r["file_name"]), dtype=np.float32) / 255 for r in rows]
        return np.stack(images) if images else np.zeros((0, 28, 28), np.float32), np.array([r["label"] for r in rows])

    # ------------------------------------------------------------------------------------------ the Hub
    def _maybe_push(self) -> None:
        repo = os.environ.get("DLFS_ZOO_FLAGS_REPO")
        if not repo:
            return
        batch = int(os.environ.get("DLFS_ZOO_FLAGS_BATCH", "20"))
        pushed_file = self.folder / ".pushed"
        pushed = int(pushed_file.read_text()) if pushed_file.is_file() else 0
        count = len(self.records())
        if count - pushed < batch:
            return
        from huggingface_hub import HfApi

        api = HfApi(token=os.environ.get("HF_TOKEN") or None)
        try:
            api.create_repo(repo, repo_type="dataset", exist_ok=True, private=True)
            api.upload_folder(
                repo_id=repo,
                repo_type="dataset",
                folder_path=self.folder,
                allow_patterns=["train/*"],
                commit_message=f"{count - pushed} drawings people flagged in the dlfs-zoo app",
            )
        except Exception as e:  # the Hub down or refusing: the drawings stay here, the next batch tries again
            print(f"flags: could not commit to {repo} ({type(e).__name__}: {e}); kept locally", file=sys.stderr)
            return
        data.atomic_write_bytes(pushed_file, str(count).encode())
