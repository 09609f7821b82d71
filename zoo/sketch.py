"""Turn a drawing or a photo of one digit (any size, any background, with or without alpha) into a 28x28
MNIST-style digit.

MNIST was made this way: the digit's bounding box scaled so its longer side is 20 px (aspect kept), placed in
a 28x28 field with its centre of mass at the centre. Its strokes are saturated white on black, about a ninth
of the box wide. People send other things: a phone photo of pencil on grey paper with a shadow across it,
a 2 px line on an 800 px canvas, a fat marker, specks and the paper's edge. So, before MNIST's own steps:

1. **Ink, not background** (``zoo.paper``). A transparent canvas's ink is its alpha. Otherwise the paper's
   brightness is estimated locally (a morphological closing wider than any stroke, which keeps a shadow's
   edge in place) and ink is how much darker a pixel is than the paper there (a ratio, so a shadow darkens
   paper and ink alike and cancels out). Light ink on an even dark ground is turned around first. A picture
   whose ground is one even level (a drawing or a scan cropped tight) is read against that level, unless a
   shade of it holds an area no stroke fills (a hard shadow over part of a photo); a dark picture is read as
   chalk only when its light extremes are strokes, not a lit patch of paper.
2. **Only the digit.** Printed lines (``zoo.printed``) go. Whatever stands above the noise (a few robust
   standard deviations) and above the faint bands a closing leaves beside a shadow's edge is split into
   connected blobs on a coarse grid: blobs along the image border (page edges, the table, a shadow's edge)
   and small specks far from the main strokes are dropped; a stroke that runs off one side of the picture
   is kept.
3. **Contrast.** The kept strokes are stretched so that their cores are fully saturated (faint pencil
   comes out as dark as a marker).
4. **Stroke width.** The crop is measured at a 64 px scale (MNIST's strokes are about 7 px there) and thin
   lines are thickened, fat ones thinned, before the 20 px box and centre-of-mass steps.
"""

from __future__ import annotations

import sys
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from . import morphology, paper, printed
from .morphology import components, pool
from .paper import darkness, shade_floor, widest_closing
from .printed import without_printed_lines

MAX_SIDE = 4096  # larger images are refused
WORK_SIDE = 320  # images are analysed at about this size (area-averaged down, never up)
GRID_SIDE = 80  # connected blobs are found on a grid of about this size
MEASURE_SIDE = 64  # stroke width is measured with the digit's longer side at this size
MNIST_WIDTH = 7.0  # MNIST's median stroke width at MEASURE_SIDE (measured on its training digits)
_LUMA = (0.299, 0.587, 0.114)


def source_modules() -> tuple[ModuleType, ...]:
    """The modules whose code decides what ``to_mnist`` reads: a cache of pictures read through it is keyed by
    their source."""
    return (sys.modules[__name__], paper, printed, morphology)


class SketchError(ValueError):
    """The image cannot be read as a digit; the message says why and what is allowed. ``code`` and ``values``
    name the sentence, so that an app can say it in its reader's language."""

    def __init__(self, message: str, code: str = "", **values: object) -> None:
        super().__init__(message)
        self.code, self.values = code, values


def _as_array(image) -> np.ndarray:
    if isinstance(image, dict):  # a gr.ImageEditor / Sketchpad value
        image = image.get("composite") if image.get("composite") is not None else image.get("background")
    if image is None:
        raise SketchError("no image: draw a digit or upload a picture of one", "no_image")
    if hasattr(image, "convert") and hasattr(image, "mode"):  # PIL
        image = np.asarray(image.convert("RGBA") if image.mode in ("P", "LA", "PA") else image)
    try:
        arr = np.asarray(image)
    except Exception as e:  # noqa: BLE001
        raise SketchError(f"not an image: {type(image).__name__}", "not_image") from e
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise SketchError(f"not an image: an array of {arr.dtype}", "not_image")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise SketchError(
            f"an image must be H x W, H x W x 3 or H x W x 4; got shape {arr.shape}", "shape", shape=arr.shape
        )
    h, w = arr.shape[:2]
    if h < 8 or w < 8:
        raise SketchError(f"the image is {w}x{h}; draw on a canvas of at least 8x8 pixels", "too_small", w=w, h=h)
    if max(h, w) > MAX_SIDE:
        raise SketchError(
            f"the image is {w}x{h}; the largest side allowed is {MAX_SIDE} pixels", "too_large", w=w, h=h, most=MAX_SIDE
        )
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8) * np.uint8(255)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise SketchError("the image has NaN or infinite pixels", "non_finite")
        return arr.astype(np.float32) * np.float32(255.0 if arr.max() <= 1.0 else 1.0)  # [0, 1] or [0, 255]
    return arr if arr.dtype == np.uint8 else arr.astype(np.float32)


def _area(plane: np.ndarray, factor: int) -> Tensor:
    """A (h, w) plane in [0, 255] averaged over factor x factor blocks (edges repeated), as floats in [0, 1].

    Summed in small integers, rows first, then columns (the last block's missing rows and columns repeat the
    edge): an 800 px canvas takes well under a millisecond, a float conversion of every pixel several."""
    h, w = plane.shape
    H, W = -(-h // factor) * factor, -(-w // factor) * factor
    ints = plane.dtype == np.uint8
    acc_type = (np.uint16 if factor * factor * 255 < 2**16 else np.uint32) if ints else np.float32
    rows = plane[np.minimum(np.arange(0, H, factor), h - 1)].astype(acc_type)
    for i in range(1, factor):
        rows += plane[np.minimum(np.arange(i, H, factor), h - 1)]
    acc = rows[:, np.minimum(np.arange(0, W, factor), w - 1)]  # a copy: fancy indexing
    for j in range(1, factor):
        acc += rows[:, np.minimum(np.arange(j, W, factor), w - 1)]
    return torch.from_numpy(acc.astype(np.float32) / np.float32(255 * factor * factor)).clamp_(0, 1)


def _analysis_plane(arr: np.ndarray) -> tuple[Tensor, bool]:
    """The plane ink is read from, at about WORK_SIDE: a transparent canvas's alpha (and True), else luminance."""
    factor = -(-max(arr.shape[:2]) // WORK_SIDE)
    if arr.ndim == 3 and arr.shape[2] == 4 and _min_alpha(arr) < 250:
        return _area(arr[:, :, 3], factor), True
    if arr.ndim == 2:
        return _area(arr, factor), False
    return sum(w * _area(arr[:, :, c], factor) for c, w in enumerate(_LUMA)), False


def _min_alpha(rgba: np.ndarray) -> float:
    """The least opacity of an H x W x 4 image. Read as one 32-bit word per pixel when the bytes allow it: the
    alpha byte is the word's top byte, so the least word holds the least alpha, and a contiguous scan of words
    takes a third of a strided scan of every fourth byte."""
    if rgba.dtype == np.uint8 and rgba.flags.c_contiguous and np.little_endian:
        return float(rgba.view(np.uint32).min() >> 24)
    return float(rgba[:, :, 3].min())


def _heaviest(mass: Tensor, among: Tensor) -> int:
    """The index of the blob with the most ink among those marked (the first of equals)."""
    return int(torch.where(among, mass, torch.full_like(mass, -1)).argmax())


def _digit_mask(
    ink: Tensor, share: float, edge_share: float | None, min_side: float = 0.0, runs_off: bool = False
) -> Tensor:
    """1 where the digit's blobs are, 0 on specks far from them and (photos, ``edge_share`` given) on blobs
    with at least that share of their ink along the border: the page's edge, the table, a shadow's edge; with
    ``runs_off``, not on a blob that only runs off one side of the picture and outweighs the rest. All 0
    when the digit's box is shorter than ``min_side`` of the image (what is left on blank paper is grain, not a
    digit). A grid cell is ink when at least ``share`` of its pixels are: a one-pixel line still lights its
    cells, scattered noise does not."""
    h, w = ink.shape
    factor = -(-max(h, w) // GRID_SIDE)
    coarse = F.avg_pool2d(ink[None, None], factor, ceil_mode=True)[0, 0] if factor > 1 else ink
    lit = F.avg_pool2d((ink > 0)[None, None].float(), factor, ceil_mode=True)[0, 0] if factor > 1 else ink > 0
    labels = components(lit >= share if factor > 1 else lit)
    found = labels[labels >= 0]
    if found.numel() == 0:
        return torch.ones_like(ink)
    ids, inverse, cells = torch.unique(found, return_inverse=True, return_counts=True)
    mass = torch.zeros(len(ids)).index_add_(0, inverse, coarse[labels >= 0])
    ys, xs = torch.nonzero(labels >= 0, as_tuple=True)
    top = torch.full((len(ids),), h).scatter_reduce(0, inverse, ys, "amin")
    bottom = torch.zeros(len(ids), dtype=torch.long).scatter_reduce(0, inverse, ys, "amax")
    left = torch.full((len(ids),), w).scatter_reduce(0, inverse, xs, "amin")
    right = torch.zeros(len(ids), dtype=torch.long).scatter_reduce(0, inverse, xs, "amax")
    ch, cw = coarse.shape
    # a blob is the page's edge, the table or a shadow when a real share of it lies along the border; a digit
    # that faint grain or a shadow's line joins to the border has almost none of its ink there
    ring = torch.ones_like(coarse, dtype=torch.bool)
    ring[2:-2, 2:-2] = False
    on_ring = ring[labels >= 0]  # per found cell, in the order of ``inverse``
    border_mass = torch.zeros(len(ids)).index_add_(0, inverse[on_ring], coarse[labels >= 0][on_ring])
    edge = border_mass >= (edge_share or 0.0) * mass
    digit_sized = (torch.maximum(bottom - top, right - left) + 1) >= 0.08 * max(ch, cw)
    candidates = pieces = torch.ones(len(ids), dtype=torch.bool)
    if edge_share is not None and edge.any() and (digit_sized & ~edge).any():
        # a digit inside the photo: the border blobs are page, table and shadow, except (``runs_off``) a stroke
        # that runs off the picture: it touches one side of it briefly (a page's or a table's edge runs along
        # a side, a shadow's crosses the picture), or two at a corner in the same pen as the digit inside (as
        # much ink per cell: a tight crop's stroke, where a shadow or a table is solid), or several when it
        # outweighs the rest tenfold (a tight crop), and is a piece of the digit, or the digit when it is the
        # picture's largest blob by far
        at_top, at_bottom = top <= 1, bottom >= ch - 2
        sides = at_top.int() + at_bottom.int() + (left <= 1).int() + (right >= cw - 2).int()
        corner = (sides == 2) & (at_top ^ at_bottom)  # two sides, one of them the top or the bottom: adjacent
        inner = _heaviest(mass, digit_sized & ~edge)
        inside, level = mass[inner], mass / cells
        same_pen = (level - level[inner]).abs() <= 0.25 * level[inner]
        runs_out = (sides <= 1) | (corner & same_pen) | (mass >= 10 * inside)
        off_side = (border_mass < 0.1 * mass) & runs_out & runs_off
        candidates = ~edge | (off_side & (mass >= 2 * inside))
        pieces = ~edge | off_side
    main = _heaviest(mass, candidates)
    keep = torch.zeros(len(ids), dtype=torch.bool)
    keep[main] = True
    box = [int(top[main]), int(bottom[main]), int(left[main]), int(right[main])]
    for _ in range(3):  # grow the digit's box by the pieces near it (a 5's bar, a broken pencil line)
        gap = 0.35 * max(box[1] - box[0], box[3] - box[2], 2)
        near = (top <= box[1] + gap) & (bottom >= box[0] - gap) & (left <= box[3] + gap) & (right >= box[2] - gap)
        add = pieces & ~keep & near & (mass >= 0.02 * mass[main])
        if not add.any():
            break
        keep |= add
        box = [int(top[keep].min()), int(bottom[keep].max()), int(left[keep].min()), int(right[keep].max())]
    if max(box[1] - box[0], box[3] - box[2]) + 1 < min_side * max(ch, cw):
        return torch.zeros_like(ink)
    kept_ids = set(ids[keep].tolist())
    kept = (labels >= 0) & torch.isin(labels, torch.tensor(sorted(kept_ids)))
    kept = F.max_pool2d(kept[None, None].float(), 3, 1, 1)  # a cell's neighbours carry its faint edges
    if factor > 1:
        kept = F.interpolate(kept, scale_factor=factor, mode="nearest")
    return kept[0, 0, :h, :w]


def ink_map(image) -> np.ndarray:
    """Ink in [0, 1] per pixel at the analysis size (longer side <= about WORK_SIDE): strokes saturated,
    paper, shadows, specks and page edges at 0."""
    plane, transparent = _analysis_plane(_as_array(image))
    if transparent:  # a canvas: the strokes are what is opaque (whatever their colour)
        ink = plane / plane.max() if float(plane.max()) > 0.2 else torch.zeros_like(plane)
        return (ink * _digit_mask(ink * (ink > 0.3), 0.1, edge_share=None)).numpy()
    lum = plane
    if float(lum.max() - lum.min()) < 0.2 and float(lum.mean()) < 0.25:
        # one dark colour edge to edge: a canvas filled with ink (blank canvases are transparent or light)
        raise SketchError("the canvas is almost all ink; clear it and draw one digit", "all_ink")
    dark, floor, uneven = darkness(lum)
    ink = _strokes(dark, floor, uneven)
    if uneven:
        k = _closing_for(ink)
        if k < widest_closing(lum):
            # a closing as wide as a quarter of the photo also fills the paper's own valleys (where a shadow's
            # edge meets a gradient of light) and makes them ink, and a faint thin line drowns among them: read
            # again with one sized to the strokes (the narrowest when nothing was read)
            narrow = _strokes(*darkness(lum, k))
            ink = narrow if float(narrow.max()) > 0 else ink
    if (ink > 0.5).float().mean() > 0.85:
        raise SketchError("the canvas is almost all ink; clear it and draw one digit", "all_ink")
    return ink.numpy()


def _closing_for(ink: Tensor) -> int:
    """A closing wide enough for these strokes and their junctions: about four stroke widths."""
    return max(7, int(4 * _ridge_width(pool(ink, 3, "mean") > 0.5) + 5) | 1)  # grain's holes filled


def _ridge_width(solid: Tensor) -> float:
    """The typical stroke width of a boolean mask: the median over its ridge (the pixels deepest across their
    stroke) of twice the depth. Weighted by length, not by area: a wide shadow band that the first reading took
    for ink moves it far less than it moves area / edge."""
    rows, cols = torch.nonzero(solid.any(1)).flatten(), torch.nonzero(solid.any(0)).flatten()
    if rows.numel() == 0:
        return 0.0
    # the mask's box and a pixel of paper around it (where the picture has one): the same depths, fewer pixels
    solid = solid[max(0, int(rows[0]) - 1) : int(rows[-1]) + 2, max(0, int(cols[0]) - 1) : int(cols[-1]) + 2]
    depth, cur = torch.zeros_like(solid, dtype=torch.float32), solid.float()
    for _ in range(max(solid.shape)):
        if not cur.any():
            break
        depth += cur
        cur = pool(cur, 3, "min")
    ridge = (depth > 0) & (depth >= pool(depth, 3, "max"))
    return float(2 * depth[ridge].median() - 1) if ridge.any() else 0.0


def _stroke_width(solid: Tensor) -> float:
    """The mean width of the strokes of a boolean mask: twice its area over its edge pixels (0 when empty)."""
    edge = int((solid & (pool(solid.float(), 3, "min") < 0.5)).sum())
    return 2 * int(solid.sum()) / max(edge, 1)


def _strokes(dark: Tensor, floor: Tensor, uneven: bool) -> Tensor:
    """The digit's strokes from a darkness map: printed lines removed, its blobs kept, stroke cores stretched
    to 1."""
    dark = without_printed_lines(dark, floor)
    above = (dark - floor).clamp(min=0)
    if float(above.max()) <= 0:
        return torch.zeros_like(dark)
    # under uneven light (a photo), blobs with a fiftieth of their ink along the border are page, table and
    # shadow, unless one runs off a side of the picture and outweighs the rest (a digit's stroke); if what is
    # left is no more than a faint shade, that one is a shadow, and then the digit itself may run into the
    # border (a tight crop): every blob counts. On an even ground there is no page edge or shadow to drop.
    # the blobs are found above the shade's floor too (a closing's faint bands along a shadow are no blobs)
    seen = (dark - torch.maximum(floor, shade_floor(dark, floor))).clamp(min=0) if uneven else above
    for edge_share, runs_off in ((0.02, True), (0.02, False), (None, False)) if uneven else ((None, False),):
        keep = _digit_mask(seen, 0.12, edge_share, min_side=0.06, runs_off=runs_off)  # faint pencil counts too
        inked = (keep > 0) & (dark > floor)
        strokes = dark[inked]
        core = float(torch.quantile(strokes, 0.9)) if strokes.numel() >= 3 else 0.0
        base = float(floor[inked].median()) if strokes.numel() >= 3 else 1.0
        if core >= max(0.06, base + 0.03):
            break
    else:
        return torch.zeros_like(dark)  # nothing darker than the paper by more than a faint shade
    # stroke cores to 1: faint pencil comes out as saturated as a marker
    return ((dark - floor) / max(core - base, 0.05)).clamp_(0, 1) * keep


def _even_strokes(crop: Tensor) -> Tensor:
    """The crop at MEASURE_SIDE with MNIST's stroke width (thin lines thickened, fat ones thinned), cropped
    again to its ink."""
    h, w = crop.shape
    scale = MEASURE_SIDE / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    x = F.interpolate(crop[None, None], size=size, mode="bilinear", antialias=True, align_corners=False)[0, 0]
    lit = x[x > 0.05]
    if lit.numel():
        x = (x / torch.quantile(lit, 0.9).clamp_min(0.05)).clamp_(0, 1)  # a thinned-out line back to full ink
    x = F.pad(x, (8, 8, 8, 8))  # room to grow, and the crop's own edge counts as the strokes' edge
    width = _stroke_width(x > 0.5)
    if 0 < width < 3.0:  # thinner than (nearly) every MNIST digit: MNIST's own thin ones stay as they are
        x = pool(x, 2 * round((MNIST_WIDTH - width) / 2) + 1, "max")
    elif width > MNIST_WIDTH * 1.7:
        thinner = pool(x, 2 * round((width - MNIST_WIDTH) / 2) + 1, "min")
        if float(thinner.sum()) > 0.25 * float(x.sum()):  # never erase a digit to thin it
            x = thinner
    rows = torch.nonzero((x > 0.05).any(1)).flatten()
    cols = torch.nonzero((x > 0.05).any(0)).flatten()
    if rows.numel() == 0:
        return x
    return x[int(rows[0]) : int(rows[-1]) + 1, int(cols[0]) : int(cols[-1]) + 1]


def to_mnist(image) -> np.ndarray | None:
    """A 28x28 float32 array in [0, 1] (white ink on black, as MNIST), or ``None`` for a blank canvas."""
    ink = torch.from_numpy(ink_map(image))
    if float(ink.max()) < 0.2 or int((ink > 0.2).sum()) < 3:
        return None
    rows = torch.nonzero((ink > 0.2).any(1)).flatten()
    cols = torch.nonzero((ink > 0.2).any(0)).flatten()
    crop = _even_strokes(ink[int(rows[0]) : int(rows[-1]) + 1, int(cols[0]) : int(cols[-1]) + 1])
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    patch = F.interpolate(crop[None, None], size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
    patch = patch[0, 0].clamp(0, 1).numpy()
    total = patch.sum()
    cy = (patch.sum(1) * np.arange(nh)).sum() / total
    cx = (patch.sum(0) * np.arange(nw)).sum() / total
    top = int(np.clip(round(13.5 - cy), 0, 28 - nh))
    left = int(np.clip(round(13.5 - cx), 0, 28 - nw))
    out = np.zeros((28, 28), dtype=np.float32)
    out[top : top + nh, left : left + nw] = patch
    return out
