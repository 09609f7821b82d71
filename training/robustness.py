"""The digits task's robustness test sets, made once per process (drawn and tight also cached on disk).

- **corrupted**: MNIST-C's 15 corruptions of the 10,000 MNIST test images (``training.corruptions``).
- **drawn**: ``training.drawn.SIZE`` digits as people send them (``training.drawn``), read through the app's own
  preprocessing (``zoo.sketch.to_mnist``), so the column measures what the Digits tab does.
- **tight**: the 10,000 MNIST test digits cropped to their ink and scaled up (``tight_crop``), as people crop a
  photo to the digit, read through ``to_mnist`` too.

The drawn set's 28x28 inputs take a few minutes to make; they (and tight's) are cached under the data folder, keyed by
the sha256 of everything they depend on (the generator's and the preprocessing's source, Pillow's
version and the shipped fonts' manifest), so a change to any of them makes a fresh set. While it is made,
the items' own sha256 is taken: it says whether this machine built the set ``drawn.SHA256`` pins.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from zoo.sketch import to_mnist

from . import corruptions, data, drawn, glyphs, scenes


@cache
def corrupted_test() -> dict[str, Tensor]:
    """Each corruption's 10,000 images (N, 28, 28) in [0, 1], in the test split's order."""
    pixels = data.mnist_pixels(train=False)[0][:, 0]
    out = {}
    start = time.perf_counter()
    for name in corruptions.CORRUPTIONS:
        out[name] = corruptions.corrupt(name, pixels)
    print(
        f"corrupted MNIST: {len(out)} x {len(pixels):,} images in {time.perf_counter() - start:.0f} s", file=sys.stderr
    )
    return out


@dataclass(frozen=True)
class DrawnSet:
    pixels: Tensor  # (N, 28, 28) what to_mnist made of each image (zeros where it found no digit)
    labels: Tensor
    read: Tensor  # bool: to_mnist found a digit (an image it calls blank counts as misread)
    sources: tuple[str, ...]
    styles: tuple[str, ...]
    sha256: str  # of the items themselves (drawn.hash_item), before preprocessing
    prefix_sha256: str = ""  # of the first drawn.V1_SIZE items alone: version 1's digest when v1 is the whole prefix


def _fingerprint(*modules) -> str:
    """Of the modules that make a set and read it (zoo.sketch and what it calls), Pillow's version and the
    fonts' manifest."""
    import PIL

    from zoo import sketch

    digest = hashlib.sha256()
    for module in (*modules, *sketch.source_modules()):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(PIL.__version__.encode())
    digest.update(glyphs.fonts_digest().encode())
    return digest.hexdigest()[:16]


def _load(path: Path) -> DrawnSet:
    with np.load(path) as f:
        return DrawnSet(
            torch.from_numpy(f["pixels"]),
            torch.from_numpy(f["labels"]),
            torch.from_numpy(f["read"]),
            tuple(f["sources"].tolist()),
            tuple(f["styles"].tolist()),
            str(f["sha256"]),
            str(f["prefix_sha256"]) if "prefix_sha256" in f.files else "",
        )


def _read(image: Image.Image) -> np.ndarray | None:
    """One picture through the app's preprocessing, in a worker (one torch thread: the workers share the cores)."""
    torch.set_num_threads(1)
    return to_mnist(image)


def workers() -> int:
    """Processes that read the sets' pictures: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


def read_all(images, count: int, what: str) -> list[np.ndarray | None]:
    """Every picture of an iterable read by ``to_mnist`` in worker processes, in order, with progress."""
    out, start = [], time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers()) as pool:
        for i, seen in enumerate(pool.imap(_read, images, chunksize=8), 1):
            out.append(seen)
            if i % 1000 == 0 or i == count:
                rate = i / (time.perf_counter() - start)
                print(f"{what}: {i:,}/{count:,} made and read ({rate:.0f} images/s)", file=sys.stderr)
    return out


@cache
def drawn_test() -> DrawnSet:
    cache_file = data.data_dir() / "drawn" / f"drawn-{_fingerprint(drawn, scenes)}.npz"
    cached = _load(cache_file) if cache_file.is_file() else None
    if cached is not None and cached.prefix_sha256:  # a file from before the prefix was kept is made again
        return cached
    pixels, labels = data.mnist_pixels(train=False)
    images = (pixels[:, 0].numpy() * 255).round().astype(np.uint8)
    meta, items, prefix = [], hashlib.sha256(), hashlib.sha256()

    def pictures():  # made here in order (one generator), read in the workers
        for i, (image, label, source, style) in enumerate(drawn.drawn_items(images, labels.numpy())):
            drawn.hash_item(items, image, label, source, style)
            if i < drawn.V1_SIZE:
                drawn.hash_item(prefix, image, label, source, style)
            meta.append((label, source, style))
            yield image

    seen = read_all(pictures(), drawn.SIZE, "drawn digits")
    rows = [
        (np.zeros((28, 28), np.float32) if digit is None else digit, label, digit is not None, source, style)
        for digit, (label, source, style) in zip(seen, meta, strict=True)
    ]
    arrays = {
        "pixels": np.stack([r[0] for r in rows]),
        "labels": np.array([r[1] for r in rows], dtype=np.int64),
        "read": np.array([r[2] for r in rows]),
        "sources": np.array([r[3] for r in rows]),
        "styles": np.array([r[4] for r in rows]),
        "sha256": np.array(items.hexdigest()),
        "prefix_sha256": np.array(prefix.hexdigest()),
    }
    if items.hexdigest() != drawn.SHA256:
        print(
            f"warning: this machine built drawn v{drawn.VERSION} with sha256 {items.hexdigest()[:16]}..., not the "
            f"pinned {drawn.SHA256[:16]}...: its drawn scores do not compare with the zoo's",
            file=sys.stderr,
        )
    _save(cache_file, arrays)
    return _load(cache_file)


def _save(cache_file: Path, arrays: dict[str, np.ndarray]) -> None:
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(f".tmp-{os.getpid()}.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(cache_file)


TIGHT_VERSION = "1"  # bumped whenever tight_crop changes: scores on two versions do not compare
TIGHT_SIDE = 256  # the crop's longer side after scaling up


def tight_crop(digit: np.ndarray) -> Image.Image:
    """An MNIST digit (28x28 uint8, white on black) cropped to its ink's bounding box (pixels > 0), scaled up
    bilinearly to ``TIGHT_SIDE`` px on its longer side (aspect kept) and turned black on white: a photo
    cropped to the digit, strokes touching the frame."""
    rows, cols = np.nonzero(digit > 0)
    crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = TIGHT_SIDE / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    return Image.fromarray(255 - crop, "L").resize(size, Image.Resampling.BILINEAR)


def tight_file() -> Path:
    """Where ``tight_test`` keeps the set: under the data folder, named by its version and its code's fingerprint."""
    return data.data_dir() / "tight" / f"tight-{TIGHT_VERSION}-{_fingerprint(sys.modules[__name__])}.npz"


@cache
def tight_test() -> DrawnSet:
    """The MNIST test split as ``tight_crop`` makes it, read through ``to_mnist`` (in the test split's order);
    one source and style, "tight"."""
    cache_file = tight_file()
    if cache_file.is_file():
        return _load(cache_file)
    pixels, labels = data.mnist_pixels(train=False)
    images = (pixels[:, 0].numpy() * 255).round().astype(np.uint8)
    items = hashlib.sha256()

    def pictures():
        for digit, label in zip(images, labels.tolist(), strict=True):
            image = tight_crop(digit)
            drawn.hash_item(items, image, label, "tight", "white")
            yield image

    seen = read_all(pictures(), len(images), "tight MNIST")
    read = [digit is not None for digit in seen]
    out = np.stack([np.zeros((28, 28), np.float32) if digit is None else digit for digit in seen])
    _save(
        cache_file,
        {
            "pixels": out,
            "labels": labels.numpy().astype(np.int64),
            "read": np.array(read),
            "sources": np.array(["tight"] * len(images)),
            "styles": np.array(["white"] * len(images)),
            "sha256": np.array(items.hexdigest()),
        },
    )
    return _load(cache_file)
