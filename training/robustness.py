"""The digits task's two robustness test sets, made once per process (the drawn one also cached on disk).

- **corrupted**: MNIST-C's 15 corruptions of the 10,000 MNIST test images (``training.corruptions``).
- **drawn**: ``training.drawn.SIZE`` digits as people send them (``training.drawn``), read through the app's own
  preprocessing (``zoo.sketch.to_mnist``), so the column measures what the Digits tab does.

The drawn set's 28x28 inputs take about a minute to make; they are cached under the data folder, keyed by
the sha256 of everything they depend on (the generator's and the preprocessing's source, Pillow's
version and the shipped fonts' manifest), so a change to any of them makes a fresh set. While it is made,
the items' own sha256 is taken: it says whether this machine built the set ``drawn.SHA256`` pins.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from . import corruptions, data, drawn, glyphs


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


def _fingerprint() -> str:
    import PIL

    from zoo import sketch

    digest = hashlib.sha256()
    for module in (drawn, sketch):
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
        )


@cache
def drawn_test() -> DrawnSet:
    from zoo.sketch import to_mnist

    cache_file = data.data_dir() / "drawn" / f"drawn-{_fingerprint()}.npz"
    if cache_file.is_file():
        return _load(cache_file)
    pixels, labels = data.mnist_pixels(train=False)
    images = (pixels[:, 0].numpy() * 255).round().astype(np.uint8)
    rows, start, items = [], time.perf_counter(), hashlib.sha256()
    for i, (image, label, source, style) in enumerate(drawn.drawn_items(images, labels.numpy()), 1):
        drawn.hash_item(items, image, label, source, style)
        digit = to_mnist(image)
        rows.append(
            (np.zeros((28, 28), np.float32) if digit is None else digit, label, digit is not None, source, style)
        )
        if i % 500 == 0:
            rate = i / (time.perf_counter() - start)
            print(f"drawn digits: {i:,} made and read ({rate:.0f} images/s)", file=sys.stderr)
    arrays = {
        "pixels": np.stack([r[0] for r in rows]),
        "labels": np.array([r[1] for r in rows], dtype=np.int64),
        "read": np.array([r[2] for r in rows]),
        "sources": np.array([r[3] for r in rows]),
        "styles": np.array([r[4] for r in rows]),
        "sha256": np.array(items.hexdigest()),
    }
    if items.hexdigest() != drawn.SHA256:
        print(
            f"warning: this machine built drawn v{drawn.VERSION} with sha256 {items.hexdigest()[:16]}..., not the "
            f"pinned {drawn.SHA256[:16]}...: its drawn scores do not compare with the zoo's",
            file=sys.stderr,
        )
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(f".tmp-{os.getpid()}.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(cache_file)
    return _load(cache_file)
