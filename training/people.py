"""Training digits as people send them, read the way the app reads them.

The app's preprocessing (``zoo.sketch.to_mnist``) turns a tight crop, a thumbnail scaled up, a digit on ruled
or squared paper or in a form's box, chalk on a board into a 28x28 digit, and what comes out is not quite
MNIST: a crop's strokes run into its edge, a thumbnail's are soft and blocky, a removed line leaves a nick.
So a model learns from training digits that took the same road: each is drawn as a picture in a random way
(framing from tight to loose, resolution lost and scaled back up by nearest, bilinear or bicubic, printed
lines and boxes under the ink, light ink on a dark board, uneven light, noise and JPEG) and read through
``to_mnist``. The shapes are MNIST *training* digits and the print faces of ``augment.printed_digits``; the
drawing code, its seeds and its shapes are the training run's own, shared with no benchmark
(``training.drawn``, ``training.scenes``, ``training.corruptions``).

The pictures take a few milliseconds each to read, so a run makes them once, in worker processes, and keeps
them on disk keyed by this module, the preprocessing's source and the seed.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import math
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from torch import Tensor

from zoo import sketch

from . import data

RESAMPLING = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)


def _frame(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit's ink cropped to its box with a margin from none (a tight crop) to a third of its size."""
    ys, xs = np.nonzero(digit > 20)
    if len(ys) == 0:
        return digit
    crop = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    margin = 0.0 if rng.random() < 0.35 else rng.uniform(0, 0.35)
    pad = int(round(margin * max(crop.shape)))
    extra = rng.integers(0, pad + 1, 2) if pad else (0, 0)  # off centre
    return np.pad(crop, ((pad - extra[0], pad + extra[0]), (pad - extra[1], pad + extra[1])))


def _sized(ink: np.ndarray, side: int, resample) -> np.ndarray:
    h, w = ink.shape
    s = side / max(h, w)
    return np.asarray(Image.fromarray(ink).resize((max(1, round(w * s)), max(1, round(h * s))), resample))


def _ink_picture(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The framed digit as an ink map (uint8) at picture size, sometimes through a low resolution first."""
    framed = _frame(digit, rng)
    side = int(rng.integers(96, 480))
    if rng.random() < 0.35:  # a thumbnail or a distant digit: 7-20 px tall, then scaled up
        small = _sized(framed, int(rng.integers(7, 21)), Image.Resampling.BOX)
        return _sized(small, side, RESAMPLING[int(rng.integers(3))])
    return _sized(framed, side, Image.Resampling.BILINEAR)


def _printed(paper: Image.Image, rng: np.random.Generator) -> None:
    """Ruled or squared paper's lines, a margin line, or a form's box, drawn on the paper."""
    w, h = paper.size
    draw = ImageDraw.Draw(paper)
    colour = tuple(int(c) for c in rng.integers(40, 220, 3))
    width = max(1, round(rng.uniform(0.002, 0.01) * max(w, h)))
    kind = int(rng.integers(3))
    if kind < 2:
        step = rng.uniform(0.05, 0.15) * h
        y = rng.uniform(0, step)
        while y < h:
            draw.line([(0, y), (w, y)], fill=colour, width=width)
            y += step
        if kind == 1:
            x = rng.uniform(0, step)
            while x < w:
                draw.line([(x, 0), (x, h)], fill=colour, width=width)
                x += step
        elif rng.random() < 0.4:
            x = rng.uniform(0.05, 0.2) * w
            draw.line([(x, 0), (x, h)], fill=(220, 80, 90), width=width)
    else:
        inset = rng.uniform(0.0, 0.1, 4) * np.array([w, h, w, h])
        draw.rectangle([inset[0], inset[1], w - 1 - inset[2], h - 1 - inset[3]], outline=colour, width=width + 1)


def picture(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """One training digit (28x28 uint8, white on black) as a picture a person might send."""
    ink = _ink_picture(digit, rng).astype(np.float32) / 255
    h, w = ink.shape
    structured = rng.random() < 0.3  # printed lines or a box around and under the digit: room for it first
    if structured:
        pad = int(rng.uniform(0.05, 0.3) * max(h, w))
        ink = np.pad(ink, pad)
        h, w = ink.shape
    board = rng.random() < 0.12
    if board:  # chalk or a light pen on a dark board
        ground = rng.uniform(15, 90, 3)
        pen = rng.uniform(170, 250, 3)
    else:
        ground = rng.uniform(150, 255) * rng.uniform(0.9, 1.0, 3)
        pen = rng.uniform(0, 110, 3)
    paper = Image.new("RGB", (w, h), tuple(int(c) for c in ground))
    if structured:
        _printed(paper, rng)
    base = np.asarray(paper, dtype=np.float32)
    cover = np.clip(ink * rng.uniform(0.5, 1.0) * (rng.uniform(0.7, 1.0, ink.shape) if board else 1.0), 0, 1)
    img = base * (1 - cover[..., None]) + pen * cover[..., None]
    if rng.random() < 0.4:  # uneven light and a noisy, compressed photo
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        a = rng.uniform(0, 2 * math.pi)
        img = (
            img
            * (1 - rng.uniform(0, 0.35) * (np.cos(a) * xx + np.sin(a) * yy - 0.5 * (np.cos(a) + np.sin(a)) + 0.5))[
                ..., None
            ]
        )
        img = img + rng.normal(0, rng.uniform(1, 6), img.shape)
        out = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=int(rng.integers(40, 95)))
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def _read(args: tuple[np.ndarray, int, int]) -> np.ndarray | None:
    """One shape drawn as a picture and read by the app's preprocessing; None when the app would answer with
    no digit (a blank read, or a refusal such as a picture that is almost all ink)."""
    digit, seed, index = args
    torch.set_num_threads(1)
    try:
        return sketch.to_mnist(picture(digit, np.random.default_rng([seed, 7, index])))
    except sketch.SketchError:
        return None


def _fingerprint(seed: int, count: int) -> str:
    h = hashlib.sha256(f"{seed} {count}\n".encode())
    for module in (sys.modules[__name__], *sketch.source_modules()):
        h.update(inspect.getsource(module).encode())
    return h.hexdigest()[:16]


def people_digits(shapes: Tensor, labels: Tensor, count: int, seed: int) -> tuple[Tensor, Tensor]:
    """``count`` of the shapes (N, 1, 28, 28) in [0, 1], chosen with the seed, as the app reads them when
    people send them: (n, 1, 28, 28) pixels and their labels, n <= count (pictures the app reads as no digit
    are left out). Cached on disk."""
    pick = torch.randperm(len(shapes), generator=torch.Generator().manual_seed(seed))[:count]
    chosen, chosen_labels = shapes[pick], labels[pick]
    cache = data.data_dir() / "people" / f"people-{_fingerprint(seed, count)}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return torch.from_numpy(z["pixels"]), torch.from_numpy(z["labels"])
    digits = (chosen[:, 0].numpy() * 255).round().astype(np.uint8)
    jobs = [(digits[i], seed, i) for i in range(count)]
    start, out = time.perf_counter(), []
    with multiprocessing.get_context("fork").Pool(max(1, min(4, os.cpu_count() or 1))) as pool:
        for i, seen in enumerate(pool.imap(_read, jobs, chunksize=64), 1):
            out.append(seen)
            if i % 2000 == 0 or i == count:
                rate = i / (time.perf_counter() - start)
                print(f"people's digits: {i:,}/{count:,} drawn and read ({rate:.0f} images/s)", file=sys.stderr)
    read = [i for i, seen in enumerate(out) if seen is not None]  # what the app reads as no digit teaches nothing
    pixels = torch.from_numpy(np.stack([out[i] for i in read])[:, None])
    kept = chosen_labels[torch.tensor(read, dtype=torch.long)]
    _save(cache, pixels.numpy(), kept.numpy())
    return pixels, kept


def _save(path: Path, pixels: np.ndarray, labels: np.ndarray) -> None:
    """Written whole or not at all: a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, pixels=pixels, labels=labels)
    os.replace(tmp, path)
