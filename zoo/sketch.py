"""Turn a drawing (any size, any background, with or without alpha) into a 28x28 MNIST-style digit.

MNIST was made this way: the digit's bounding box scaled so its longer side is 20 px (aspect kept),
placed in a 28x28 field with its centre of mass at the centre. Doing the same to a sketch is what makes
a model trained on MNIST read it.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

MAX_SIDE = 4096  # larger images are refused


class SketchError(ValueError):
    """The image cannot be read as a digit; the message says why and what is allowed."""


def _as_array(image) -> np.ndarray:
    if isinstance(image, dict):  # a gr.ImageEditor / Sketchpad value
        image = image.get("composite") if image.get("composite") is not None else image.get("background")
    if image is None:
        raise SketchError("no image: draw a digit or upload a picture of one")
    if hasattr(image, "convert") and hasattr(image, "mode"):  # PIL
        image = np.asarray(image.convert("RGBA") if image.mode in ("P", "LA", "PA") else image)
    try:
        arr = np.asarray(image)
    except Exception as e:  # noqa: BLE001
        raise SketchError(f"not an image: {type(image).__name__}") from e
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise SketchError(f"not an image: an array of {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise SketchError(f"an image must be H x W, H x W x 3 or H x W x 4; got shape {arr.shape}")
    h, w = arr.shape[:2]
    if h < 8 or w < 8:
        raise SketchError(f"the image is {w}x{h}; draw on a canvas of at least 8x8 pixels")
    if max(h, w) > MAX_SIDE:
        raise SketchError(f"the image is {w}x{h}; the largest side allowed is {MAX_SIDE} pixels")
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8) * np.uint8(255)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise SketchError("the image has NaN or infinite pixels")
        return arr.astype(np.float32) * np.float32(255.0 if arr.max() <= 1.0 else 1.0)  # [0, 1] or [0, 255]
    return arr if arr.dtype == np.uint8 else arr.astype(np.float32)


_LUMA = (np.float32(0.299), np.float32(0.587), np.float32(0.114))


def ink_map(image) -> np.ndarray:
    """Ink in [0, 1] per pixel: strokes against whatever the background is (alpha or contrast)."""
    arr = _as_array(image)
    if arr.ndim == 3 and arr.shape[2] == 4 and arr[:, :, 3].min() < 250:
        # transparent canvas: the strokes are what is opaque (whatever their colour)
        return np.clip(arr[:, :, 3].astype(np.float32) * np.float32(1 / 255), 0.0, 1.0)
    if arr.ndim == 2:
        lum = arr.astype(np.float32)
    else:
        lum = arr[:, :, 0] * _LUMA[0] + arr[:, :, 1] * _LUMA[1] + arr[:, :, 2] * _LUMA[2]
    border = np.concatenate([lum[0], lum[-1], lum[:, 0], lum[:, -1]])
    bg = float(np.median(border))
    if float(lum.max() - lum.min()) < 0.2 * 255 and bg < 64:
        # one dark colour edge to edge: a canvas filled with ink (blank canvases are transparent or light)
        raise SketchError("the canvas is almost all ink; clear it and draw one digit")
    span = max(bg, 255.0 - bg, 1.0)
    return np.clip(np.abs(lum - bg) / span, 0.0, 1.0)


def to_mnist(image) -> np.ndarray | None:
    """A 28x28 float32 array in [0, 1] (white ink on black, as MNIST), or ``None`` for a blank canvas."""
    ink = ink_map(image)
    if ink.max() < 0.2 or (ink > 0.2).sum() < 3:
        return None
    if (ink > 0.5).mean() > 0.85:
        raise SketchError("the canvas is almost all ink; clear it and draw one digit")
    rows = np.flatnonzero((ink > 0.2).any(1))
    cols = np.flatnonzero((ink > 0.2).any(0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    t = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
    patch = F.interpolate(t, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0, 0].numpy()
    patch = np.clip(patch, 0.0, 1.0)
    total = patch.sum()
    cy = (patch.sum(1) * np.arange(nh)).sum() / total
    cx = (patch.sum(0) * np.arange(nw)).sum() / total
    top = int(np.clip(round(13.5 - cy), 0, 28 - nh))
    left = int(np.clip(round(13.5 - cx), 0, 28 - nw))
    out = np.zeros((28, 28), dtype=np.float32)
    out[top : top + nh, left : left + nw] = patch
    return out
