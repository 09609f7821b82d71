"""Digits drawn the way people draw them, made from MNIST digits by code (tests, benchmarks)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def human_drawing(digit: np.ndarray, rng: np.random.Generator, size: int | None = None) -> Image.Image:
    """An MNIST digit as a person might draw it: any canvas size, any place and scale, slightly tilted,
    black ink on a transparent canvas (what the sketchpad sends) or on white."""
    size = size or int(rng.integers(300, 801))
    img = Image.fromarray(digit).convert("L")
    box = img.getbbox() or (0, 0, 28, 28)
    img = img.crop(box)
    target = int(size * rng.uniform(0.3, 0.8))
    w, h = img.size
    scale = target / max(w, h)
    img = img.resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.Resampling.BILINEAR)
    img = img.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BILINEAR, expand=True)
    canvas = Image.new("L", (size, size), 0)
    x = int(rng.integers(0, max(1, size - img.size[0])))
    y = int(rng.integers(0, max(1, size - img.size[1])))
    canvas.paste(img, (x, y))
    ink = np.asarray(canvas)
    if rng.random() < 0.5:  # transparent canvas, black strokes
        rgba = np.zeros((size, size, 4), dtype=np.uint8)
        rgba[..., 3] = ink
        return Image.fromarray(rgba, "RGBA")
    return Image.fromarray(255 - ink, "L").convert("RGB")  # black on white
