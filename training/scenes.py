"""How a digit's ink reaches the app, for the **drawn** benchmark (``training.drawn``): a sketchpad canvas, a
white canvas, a phone photo of paper (version 1), and since version 2 the scenes people send besides: a digit
cropped tight to its ink, a thumbnail scaled back up, lined and squared paper, a printed form box, a
whiteboard and a chalkboard.

A scene takes ``glyph(height, width)`` (the digit's ink, cropped to its strokes, that tall with a pen that
wide), the generator and the item's index in its source, and returns the picture and its style. Every random
choice is drawn from the generator passed in.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

STYLES = ("transparent", "white", "photo", "scan")  # a scan: a flat, evenly lit picture (a scanner, a thumbnail)
RESAMPLINGS = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)


# ----------------------------------------------------------------------------------- version 1's
def as_canvas(ink: np.ndarray, transparent: bool) -> Image.Image:
    """What the sketchpad sends (black strokes, alpha) or a drawing on a white canvas."""
    a = (np.clip(ink, 0, 1) * 255).astype(np.uint8)
    if transparent:
        rgba = np.zeros((*a.shape, 4), dtype=np.uint8)
        rgba[..., 3] = a
        return Image.fromarray(rgba, "RGBA")
    return Image.fromarray(255 - a, "L").convert("RGB")


def as_photo(ink: np.ndarray, rng: np.random.Generator, page_edge: bool = True) -> Image.Image:
    """A phone photo of the digit on paper: tinted grey paper, pencil or pen, uneven light with a shadow,
    sometimes the page edge and the table (never with ``page_edge=False``: a digit cropped tight), blur, sensor
    noise and JPEG."""
    h, w = ink.shape
    paper = rng.uniform(150, 240) * rng.uniform(0.9, 1.08, 3)  # grey or slightly tinted paper, per channel
    pencil = rng.random() < 0.5
    strength = rng.uniform(0.25, 0.6) if pencil else rng.uniform(0.7, 0.92)
    colour = np.array([0.35, 0.35, 0.38]) if pencil else rng.choice([[0.1, 0.1, 0.15], [0.1, 0.15, 0.45]])
    grain = rng.uniform(0.75, 1.0, ink.shape) if pencil else 1.0
    cover = np.clip(ink * strength * grain, 0, 1)[..., None]
    img = paper * (1 - cover) + paper * colour * cover
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    a = rng.uniform(0, 2 * math.pi)
    light = 1 - rng.uniform(0.1, 0.45) * ((np.cos(a) * xx + np.sin(a) * yy) - (np.cos(a) + np.sin(a)) / 2 + 0.5)
    if rng.random() < 0.6:  # a hard-edged shadow (a phone, a hand) across part of the page
        b = rng.uniform(0, 2 * math.pi)
        side = np.cos(b) * (xx - rng.uniform(0.2, 0.8)) + np.sin(b) * (yy - rng.uniform(0.2, 0.8))
        shade = np.where(side > 0, rng.uniform(0.45, 0.8), 1.0)
        penumbra = ImageFilter.GaussianBlur(rng.uniform(0.005, 0.03) * max(h, w))
        light = light * np.asarray(Image.fromarray((shade * 255).astype(np.uint8)).filter(penumbra)) / 255
    img = img * np.clip(light, 0.2, 1.2)[..., None]
    if rng.random() < 0.3 and page_edge:  # the page ends before the photo does: a dark table along a side clear of ink
        rows, cols = np.nonzero(ink > 0.05)
        room = {0: cols.min(), 1: w - 1 - cols.max(), 2: rows.min(), 3: h - 1 - rows.max()} if len(rows) else {}
        side = int(rng.integers(4))
        edge = int(min(rng.uniform(0.03, 0.12) * w, room.get(side, 0) - 0.04 * w))
        if edge > 2:
            table = rng.uniform(30, 90) * np.array([1.0, 0.85, 0.7])
            region = {0: np.s_[:, :edge], 1: np.s_[:, w - edge :], 2: np.s_[:edge, :], 3: np.s_[h - edge :, :]}
            img[region[side]] = table
    photo = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5) * max(h, w) / 500))
    noisy = np.asarray(photo, dtype=np.float32) + rng.normal(0, rng.uniform(2, 8), (h, w, 3))
    buf = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB").save(buf, "JPEG", quality=int(rng.integers(40, 91)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


# ----------------------------------------------------------------------------------------- helpers
def pen_width(height: float, rng: np.random.Generator, low: float = 0.06, high: float = 0.16) -> float:
    """A pen from ``low`` to ``high`` of the digit's height (log-uniform), never under 1.5 px."""
    return max(1.5, float(np.exp(rng.uniform(np.log(low), np.log(high)))) * height)


def _smooth(h: int, w: int, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a cells x cells random grid stretched smoothly over (h, w)."""
    grid = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    return np.asarray(grid.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32) / 255


def _lay(page: np.ndarray, ink: np.ndarray, colour, top: int, left: int) -> None:
    """Ink (coverage in [0, 1]) laid over the page in ``colour`` at (top, left), in place."""
    h, w = ink.shape
    region = page[top : top + h, left : left + w]
    region[:] = region * (1 - ink[..., None]) + np.asarray(colour, dtype=np.float32) * ink[..., None]


def _paper(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """White or slightly tinted paper, (h, w, 3) floats in [0, 255]."""
    return np.ones((h, w, 3), np.float32) * rng.uniform(228, 252) * rng.uniform(0.96, 1.0, 3)


def _writing(ink: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A pen (black or blue, nearly opaque) or a pencil (grey, grainy): the coverage and the colour."""
    if rng.random() < 0.7:
        colour = np.array([[25, 25, 30], [25, 40, 120]][int(rng.integers(2))], np.float32)
        return ink * rng.uniform(0.8, 0.97), colour
    return ink * rng.uniform(0.45, 0.7) * rng.uniform(0.75, 1.0, ink.shape), np.array([80, 80, 88], np.float32)


def _place(room_h: int, room_w: int, ink: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """Where ink goes so that all of it is inside a room_h x room_w area."""
    return int(rng.integers(0, max(1, room_h - ink.shape[0]))), int(rng.integers(0, max(1, room_w - ink.shape[1])))


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _finish(page: np.ndarray, rng: np.random.Generator, blur: float, noise: float, quality: int) -> Image.Image:
    """Blur (pixels at 500 px), sensor noise and JPEG: the end of every photo and scan."""
    h, w = page.shape[:2]
    img = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8), "RGB")
    img = img.filter(ImageFilter.GaussianBlur(blur * max(h, w) / 500))
    noisy = np.asarray(img, dtype=np.float32) + rng.normal(0, noise, (h, w, 3))
    return _jpeg(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB"), quality)


def scan(page: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A flatbed scan of the page: even light, a little blur and noise, mild JPEG."""
    return _finish(page, rng, rng.uniform(0.2, 0.7), rng.uniform(0.5, 2.5), int(rng.integers(70, 96)))


def photograph(page: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A phone photo of the page: as_photo's uneven light and hard shadow, blur, sensor noise and JPEG."""
    h, w = page.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    a = rng.uniform(0, 2 * math.pi)
    light = 1 - rng.uniform(0.1, 0.45) * ((np.cos(a) * xx + np.sin(a) * yy) - (np.cos(a) + np.sin(a)) / 2 + 0.5)
    if rng.random() < 0.6:
        b = rng.uniform(0, 2 * math.pi)
        side = np.cos(b) * (xx - rng.uniform(0.2, 0.8)) + np.sin(b) * (yy - rng.uniform(0.2, 0.8))
        shade = np.where(side > 0, rng.uniform(0.45, 0.8), 1.0)
        penumbra = ImageFilter.GaussianBlur(rng.uniform(0.005, 0.03) * max(h, w))
        light = light * np.asarray(Image.fromarray((shade * 255).astype(np.uint8)).filter(penumbra)) / 255
    lit = page * np.clip(light, 0.2, 1.2)[..., None]
    return _finish(lit, rng, rng.uniform(0.3, 1.5), rng.uniform(2, 8), int(rng.integers(40, 91)))


def _scan_or_photo(page: np.ndarray, rng: np.random.Generator) -> tuple[Image.Image, str]:
    return (photograph(page, rng), "photo") if rng.random() < 0.5 else (scan(page, rng), "scan")


def rule(page: np.ndarray, at: np.ndarray, thickness: float, colour, axis: int) -> None:
    """Printed lines across the whole page (axis 0: horizontal rows at ``at``; 1: vertical), in place."""
    t = max(1, round(thickness))
    for p in at.astype(int):
        if axis == 0:
            page[p : p + t, :] = colour
        else:
            page[:, p : p + t] = colour


# ------------------------------------------------------------------------------------ version 2's
def tight(glyph, rng: np.random.Generator, k: int) -> tuple[Image.Image, str]:
    """The digit cropped to its ink: two to four sides cut right at the strokes, the others 0-5 % away."""
    side = int(rng.integers(200, 601))
    ink = glyph(side * 0.95, pen_width(side, rng, 0.04, 0.12))
    rows, cols = np.nonzero(ink > 0.3)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    touching = rng.permutation(4)[: int(rng.integers(2, 5))]
    left, right, top, bottom = (0 if s in touching else round(rng.uniform(0, 0.05) * max(ink.shape)) for s in range(4))
    canvas = np.zeros((ink.shape[0] + top + bottom, ink.shape[1] + left + right), np.float32)
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    if rng.random() < 0.5:
        return as_photo(canvas, rng, page_edge=False), "photo"
    return as_canvas(canvas, transparent=False), "white"


def thumbnail(glyph, rng: np.random.Generator) -> Image.Image:
    """The digit 8-20 px tall on a small canvas (0-30 % margins), anti-aliased: drawn 8x larger, then each 8x8
    block averaged. Black on white, mode L."""
    factor, digit = 8, rng.uniform(8, 20)
    ink = glyph(digit * factor, pen_width(digit * factor, rng, 0.08, 0.2))
    top, bottom, left, right = (round(rng.uniform(0, 0.3) * digit) * factor for _ in range(4))
    h = -(-(ink.shape[0] + top + bottom) // factor) * factor  # whole blocks
    w = -(-(ink.shape[1] + left + right) // factor) * factor
    canvas = np.zeros((h, w), np.float32)
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    small = Image.fromarray((canvas * 255).astype(np.uint8), "L").reduce(factor)
    return Image.fromarray(255 - np.asarray(small), "L")


def lowres(glyph, rng: np.random.Generator, k: int) -> tuple[Image.Image, str]:
    """A thumbnail scaled up to 150-600 px by nearest, bilinear or bicubic (in turn), sent as it is or as a
    light JPEG."""
    small = thumbnail(glyph, rng)
    target = int(rng.integers(150, 601))
    scale = target / max(small.size)
    size = (max(1, round(small.width * scale)), max(1, round(small.height * scale)))
    big = small.resize(size, RESAMPLINGS[k % 3]).convert("RGB")
    if rng.random() < 0.5:
        return big, "white"
    return _jpeg(big, int(rng.integers(60, 92))), "scan"


def _lined(glyph, rng: np.random.Generator, both_ways: bool) -> tuple[Image.Image, str]:
    h = int(rng.integers(300, 701))
    w = int(h * rng.uniform(0.8, 1.25))
    page = _paper(h, w, rng)
    spacing = rng.uniform(0.05, 0.12) * h if both_ways else rng.uniform(0.06, 0.14) * h
    thickness = rng.uniform(1, 3) * h / 500
    blue = rng.random() < 0.7
    colour = rng.uniform([150, 185, 220], [190, 215, 245]) if blue else np.full(3, rng.uniform(165, 205))
    rule(page, np.arange(rng.uniform(0, spacing), h, spacing), thickness, colour, axis=0)
    if both_ways:
        rule(page, np.arange(rng.uniform(0, spacing), w, spacing), thickness, colour, axis=1)
    start = 0
    if rng.random() < 0.4:  # a red or pink margin line; people write to its right
        x = int(rng.uniform(0.05, 0.15) * w)
        rule(page, np.array([x]), thickness * rng.uniform(1, 1.5), rng.uniform([200, 60, 80], [235, 130, 160]), 1)
        start = x + int(thickness * 1.5) + int(0.02 * w)
    height = min(rng.uniform(2, 5) * spacing, 0.8 * min(h, w - start))
    ink = glyph(height, pen_width(height, rng))
    cover, colour = _writing(ink, rng)
    top, left = _place(h, w - start, ink, rng)
    _lay(page, cover, colour, top, start + left)
    return _scan_or_photo(page, rng)


def ruled(glyph, rng: np.random.Generator, k: int) -> tuple[Image.Image, str]:
    """Lined paper: pale blue or grey lines every 6-14 % of the height through the digit, sometimes a margin."""
    return _lined(glyph, rng, both_ways=False)


def squared(glyph, rng: np.random.Generator, k: int) -> tuple[Image.Image, str]:
    """Squared paper: lines both ways every 5-12 % of the height, the digit across several squares."""
    return _lined(glyph, rng, both_ways=True)


def boxed(glyph, rng: np.random.Generator, k: int) -> tuple[Image.Image, str]:
    """A form field: a printed box 3-20 % around the digit (sometimes touching it), the picture cropped from
    just outside the box to well outside it."""
    height = rng.uniform(120, 330)
    ink = glyph(height, pen_width(height, rng))
    inner = [round(rng.uniform(0.03, 0.2) * height) for _ in range(4)]  # top, bottom, left, right
    if rng.random() < 0.3:  # written up to the line
        inner[int(rng.integers(4))] = 0
    box_h, box_w = ink.shape[0] + inner[0] + inner[1], ink.shape[1] + inner[2] + inner[3]
    t = max(1, round(rng.uniform(1, 5) * max(box_h, box_w) / 400))
    outer = [round(rng.uniform(0.01, 0.4) * max(box_h, box_w)) + 1 for _ in range(4)]
    h, w = box_h + 2 * t + outer[0] + outer[1], box_w + 2 * t + outer[2] + outer[3]
    page = _paper(h, w, rng)
    grey, black, blue = rng.uniform(50, 100), rng.uniform(10, 35), rng.uniform([20, 40, 110], [50, 70, 170])
    colour = [np.full(3, grey), np.full(3, black), blue]
    img = Image.fromarray(np.zeros((h, w), np.uint8))
    ImageDraw.Draw(img).rectangle((outer[2], outer[0], w - outer[3] - 1, h - outer[1] - 1), outline=255, width=t)
    frame = np.asarray(img, dtype=np.float32)[..., None] / 255
    page = page * (1 - frame) + colour[int(rng.integers(3))] * frame
    cover, pen = _writing(ink, rng)
    _lay(page, cover, pen, outer[0] + t + inner[0], outer[2] + t + inner[2])
    return _scan_or_photo(page, rng)


MARKERS = ([30, 30, 35], [30, 60, 170], [190, 40, 45], [30, 130, 65])  # black, blue, red, green


def whiteboard(glyph, rng: np.random.Generator, k: int) -> tuple[Image.Image, str]:
    """A phone photo of a whiteboard: glossy bright board, a glare gradient and hot spot, a fat marker."""
    h = int(rng.integers(300, 701))
    w = int(h * rng.uniform(0.8, 1.3))
    page = np.ones((h, w, 3), np.float32) * rng.uniform(215, 245) * rng.uniform([0.96, 0.97, 0.99], [0.99, 1.0, 1.0])
    height = rng.uniform(0.35, 0.75) * min(h, w)
    ink = glyph(height, pen_width(height, rng, 0.1, 0.2))
    streaks = 0.75 + 0.25 * _smooth(*ink.shape, 6, rng)  # a drying marker leaves some strokes paler
    top, left = _place(h, w, ink, rng)
    _lay(page, ink * rng.uniform(0.8, 0.97) * streaks, MARKERS[int(rng.integers(4))], top, left)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    a = rng.uniform(0, 2 * math.pi)
    page *= (1 - rng.uniform(0.05, 0.3) * ((np.cos(a) * xx + np.sin(a) * yy + 1.5) / 3))[..., None]
    cy, cx, r = rng.uniform(0, h / max(h, w)), rng.uniform(0, w / max(h, w)), rng.uniform(0.1, 0.35)
    glare = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)) * rng.uniform(0.4, 0.9)
    page += glare[..., None] * (255 - page)  # the hot spot washes out board and ink alike
    return _finish(page, rng, rng.uniform(0.5, 1.8), rng.uniform(2, 7), int(rng.integers(45, 91))), "photo"


def chalk(glyph, rng: np.random.Generator, k: int) -> tuple[Image.Image, str]:
    """A phone photo of a chalkboard: an uneven dark green-grey or black board, old erased chalk in faint
    large smudges, a digit in grainy, broken light chalk."""
    h = int(rng.integers(300, 701))
    w = int(h * rng.uniform(0.8, 1.3))
    base = rng.uniform([40, 60, 50], [65, 85, 70]) if rng.random() < 0.6 else np.full(3, rng.uniform(22, 42))
    page = np.ones((h, w, 3), np.float32) * base * (0.85 + 0.3 * _smooth(h, w, 5, rng))[..., None]
    smudges = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(smudges)
    for _ in range(int(rng.integers(2, 6))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx, ry = rng.uniform(0.1, 0.35) * w, rng.uniform(0.05, 0.2) * h
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=int(rng.integers(20, 60)))
    haze = np.asarray(smudges.filter(ImageFilter.GaussianBlur(0.05 * max(h, w))), dtype=np.float32) / 255
    page += haze[..., None] * (200 - page)
    height = rng.uniform(0.35, 0.75) * min(h, w)
    ink = glyph(height, pen_width(height, rng, 0.06, 0.14))
    grain = rng.random(ink.shape) < rng.uniform(0.5, 0.85)  # chalk catches the board's texture
    broken = np.clip(_smooth(*ink.shape, 10, rng) * 2.2, 0.15, 1)  # pressure comes and goes along a stroke
    cover = ink * grain * broken * rng.uniform(0.7, 0.95)
    cover = np.asarray(Image.fromarray((cover * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))) / 255
    top, left = _place(h, w, ink, rng)
    _lay(page, cover.astype(np.float32), rng.uniform([220, 220, 205], [245, 245, 240]), top, left)
    return _finish(page, rng, rng.uniform(0.4, 1.4), rng.uniform(3, 9), int(rng.integers(45, 91))), "photo"


SCENES = {
    "tight": tight,
    "lowres": lowres,
    "ruled": ruled,
    "squared": squared,
    "boxed": boxed,
    "whiteboard": whiteboard,
    "chalk": chalk,
}
