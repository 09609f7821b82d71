"""Digits as people send them to the app: the **drawn** benchmark, and person-like drawings for tests.

Shapes come from three sources, so that the set is not MNIST again:

- MNIST *test* digits thinned to their skeleton and drawn again with a pen from 2 px to marker-fat;
- handwriting-style fonts shipped in ``training/fonts/`` (``FONTS``), digits no MNIST writer made;
- stroke templates of the ways people write 1 (flag, base), 4 (open, closed), 7 (crossed, plain) and 9
  (straight or curved stem), jittered.

Each shape is rendered the way it reaches the app (``training.scenes``). Version 1's items: strokes on the
sketchpad's transparent canvas, on a white canvas, or a phone photo of paper (grey or tinted paper, pencil or
pen, uneven light and a shadow, sometimes the page edge, blur, sensor noise, JPEG). Version 2 keeps every one
of them, byte for byte, as its first ``V1_SIZE`` items, and adds ``PER_SOURCE`` items of each of
``NEW_SOURCES``, each source drawing its shapes from all three shape sources in turn and from its own seeded
stream: digits cropped tight to their ink, thumbnails scaled back up, lined and squared paper, a printed form
box, a whiteboard and a chalkboard. Everything is drawn from fixed seeds.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import glyphs, scenes
from .scenes import STYLES, as_canvas, as_photo

SEED = 20261127  # the benchmark's seed, fixed before any model was scored on it
VERSION = "2"  # bumped whenever the items change: scores on two versions do not compare
SHA256 = "7492556e0c7e86f9dba777b621d09997909fc33026332a570debcf05e4b86146"  # every item of VERSION (hash_item)
V1_SHA256 = "815c8c355b441c65fafaf114899fb2ccd8660e719dce96589a424a86b6a36d45"  # the first V1_SIZE items
NEW_SOURCES = tuple(scenes.SCENES)  # version 2's: tight, lowres, ruled, squared, boxed, whiteboard, chalk
SOURCES = ("mnist-restroked", "fonts", "templates", *NEW_SOURCES)

# handwriting-like faces (``family/file`` in training/fonts/) whose digits differ from MNIST's writers
FONTS = [
    "dkg-handwriting/dkg.ttf",
    "dkg-handwriting/dkgIt.ttf",
    "breip/Breip.ttf",
    "humor-sans/Humor-Sans.ttf",
    "comic-neue/ComicNeue-Light.otf",
    "comic-neue/ComicNeue-Regular.otf",
    "comic-neue/ComicNeue-BoldItalic.otf",
    "bwht/BecauseWeBuild-Regular.otf",
    "bwht/BecauseWeConnect-Regular.otf",
    "bwht/BecauseWeCreate-Regular.otf",
    "bwht/BecauseWeLearn-Regular.otf",
    "bwht/BecauseWeMentor-Regular.otf",
    "bwht/BecauseWeOrganize-Regular.otf",
    "dancingscript/DancingScript-Regular.otf",
    "kaushanscript/KaushanScript-Regular.otf",
]

# strokes in a unit box (x right, y down), several ways of writing the digits MNIST writers mostly wrote one way
_CIRCLE = [(0.5 + 0.24 * math.cos(t), 0.3 + 0.2 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 24)]
TEMPLATES: dict[int, list[list[list[tuple[float, float]]]]] = {
    1: [
        [[(0.5, 0.08), (0.5, 0.92)]],
        [[(0.3, 0.28), (0.55, 0.08), (0.55, 0.92)]],
        [[(0.3, 0.28), (0.55, 0.08), (0.55, 0.92)], [(0.3, 0.92), (0.8, 0.92)]],
    ],
    4: [
        [[(0.62, 0.08), (0.15, 0.62), (0.85, 0.62)], [(0.62, 0.35), (0.62, 0.95)]],
        [[(0.62, 0.95), (0.62, 0.08), (0.15, 0.62), (0.85, 0.62)]],
        [[(0.22, 0.08), (0.22, 0.55), (0.8, 0.55)], [(0.7, 0.08), (0.7, 0.95)]],
    ],
    7: [
        [[(0.15, 0.12), (0.85, 0.12), (0.4, 0.92)]],
        [[(0.15, 0.12), (0.85, 0.12), (0.4, 0.92)], [(0.35, 0.52), (0.78, 0.52)]],
        [[(0.15, 0.26), (0.15, 0.12), (0.85, 0.12), (0.45, 0.92)]],
    ],
    9: [
        [_CIRCLE, [(0.74, 0.3), (0.72, 0.92)]],
        [_CIRCLE, [(0.74, 0.3), (0.7, 0.65), (0.58, 0.85), (0.4, 0.93)]],
        [_CIRCLE[6:] + _CIRCLE[:7], [(0.74, 0.32), (0.74, 0.92)]],
    ],
}


# ------------------------------------------------------------------------------------------ shapes
def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean image to one-pixel-wide lines."""
    img = np.pad(mask.astype(bool), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = [np.roll(np.roll(img, -dy, 0), -dx, 1) for dy, dx in _RING]  # P2..P9 clockwise from north
            neighbours = sum(q.astype(np.int8) for q in p)
            transitions = sum((~p[i] & p[(i + 1) % 8]).astype(np.int8) for i in range(8))
            if step == 0:
                gate = ~(p[0] & p[2] & p[4]) & ~(p[2] & p[4] & p[6])
            else:
                gate = ~(p[0] & p[2] & p[6]) & ~(p[0] & p[4] & p[6])
            remove = img & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & gate
            if remove.any():
                img &= ~remove
                changed = True
        if not changed:
            return img[1:-1, 1:-1]


_RING = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


def mnist_strokes(digit: np.ndarray) -> list[list[tuple[float, float]]]:
    """An MNIST digit's skeleton as two-point strokes in a unit box (its 4x upsampled thinning)."""
    big = np.asarray(Image.fromarray(digit).resize((112, 112), Image.Resampling.BILINEAR)) > 110
    bone = skeleton(big)
    ys, xs = np.nonzero(bone)
    if len(ys) == 0:
        return []
    top, left = ys.min(), xs.min()
    side = max(ys.max() - top, xs.max() - left, 1)
    on = set(zip(ys.tolist(), xs.tolist(), strict=True))
    strokes = []
    for y, x in on:
        for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each 8-neighbour pair once
            if (y + dy, x + dx) in on:
                a = ((x - left) / side, (y - top) / side)
                b = ((x + dx - left) / side, (y + dy - top) / side)
                strokes.append([a, b])
        if not any((y + dy, x + dx) in on for dy, dx in _RING):
            strokes.append([((x - left) / side, (y - top) / side)] * 2)  # an isolated dot
    return strokes


def _affine(strokes, rng: np.random.Generator, jitter: float = 0.0):
    """Jitter points, then rotate (+-10 deg), shear (+-0.2) and stretch (0.75-1.2) about the middle."""
    a = math.radians(rng.uniform(-10, 10))
    sh, stretch = rng.uniform(-0.2, 0.2), rng.uniform(0.75, 1.2)
    out = []
    for stroke in strokes:
        pts = np.array(stroke, dtype=float) - 0.5
        if jitter:
            pts = pts + rng.normal(0, jitter, pts.shape)
        pts[:, 0] = (pts[:, 0] + sh * pts[:, 1]) * stretch
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        out.append(pts @ rot.T)
    return out


def draw_strokes(strokes, size: int, height: float, width: float, rng: np.random.Generator) -> np.ndarray:
    """Strokes (centred unit-box coordinates) drawn with a round pen: (size, size) ink in [0, 1]."""
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    pts = np.concatenate(strokes)
    span = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]), 1e-3)
    scale = height / span
    margin = width / 2 + 2
    lo, hi = pts.min(0) * scale, pts.max(0) * scale
    free = np.maximum(size - (hi - lo) - 2 * margin, 0)
    offset = margin - lo + rng.uniform(0, 1, 2) * free
    r = width / 2
    for stroke in strokes:
        xy = [tuple(p) for p in (stroke * scale + offset)]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=max(1, round(width)), joint="curve")
        for x, y in (xy[0], xy[-1]) if width > 2 else ():
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(img, dtype=np.float32) / 255


def draw_font_digit(font_file: str, digit: int, size: int, height: float, width: float, rng) -> np.ndarray:
    """One glyph, rotated slightly, outline-thickened to roughly ``width``: (size, size) ink in [0, 1]."""
    font = ImageFont.truetype(font_file, max(8, round(height * 1.35)))
    box = font.getbbox(str(digit), stroke_width=0)
    glyph = Image.new("L", (box[2] - box[0] + 8 * int(width) + 8, box[3] - box[1] + 8 * int(width) + 8), 0)
    thick = max(0, round(width / 6))
    ImageDraw.Draw(glyph).text(
        (4 * int(width) + 4 - box[0], 4 * int(width) + 4 - box[1]),
        str(digit),
        font=font,
        fill=255,
        stroke_width=thick,
        stroke_fill=255,
    )
    glyph = glyph.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR, expand=True)
    glyph = glyph.crop(glyph.getbbox() or (0, 0, 1, 1))
    s = height / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * s)), max(1, round(glyph.height * s))), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (size, size), 0)
    x = int(rng.integers(0, max(1, size - glyph.width)))
    y = int(rng.integers(0, max(1, size - glyph.height)))
    canvas.paste(glyph, (x, y))
    return np.asarray(canvas, dtype=np.float32) / 255


def render(ink: np.ndarray, style: str, rng: np.random.Generator) -> Image.Image:
    return as_photo(ink, rng) if style == "photo" else as_canvas(ink, transparent=style == "transparent")


# ------------------------------------------------------------------------------------------ the set
MNIST_DIGITS = 1200  # re-stroked MNIST test digits
PER_GLYPH = 3  # renderings of each digit in each font
PER_TEMPLATE = 30  # jittered renderings of each template
V1_SIZE = MNIST_DIGITS + len(FONTS) * 10 * PER_GLYPH + sum(map(len, TEMPLATES.values())) * PER_TEMPLATE
PER_SOURCE = 282  # items of each new source: a multiple of 3 shape sources (94 of each) and near 10 per label
SIZE = V1_SIZE + len(NEW_SOURCES) * PER_SOURCE


def hash_item(digest, image: Image.Image, label: int, source: str, style: str) -> None:
    """Feed one item into a running sha256 (its mode, size, label, source, style, then its pixels): the
    digest of the whole set says whether two machines built the same benchmark."""
    digest.update(f"{image.mode} {image.size[0]}x{image.size[1]} {label} {source} {style}\n".encode())
    digest.update(image.tobytes())


def drawn_items(mnist_images: np.ndarray, mnist_labels: np.ndarray, seed: int = SEED):
    """Yield the benchmark's ``SIZE`` (image, label, source, style): version 1's items, then ``PER_SOURCE`` of
    each new source. ``mnist_images`` is the MNIST *test* split (N, 28, 28) uint8."""
    yield from v1_items(mnist_images, mnist_labels, seed)
    for source in NEW_SOURCES:
        yield from source_items(source, mnist_images, mnist_labels, seed)


def v1_items(mnist_images: np.ndarray, mnist_labels: np.ndarray, seed: int = SEED):
    """Version 1's ``V1_SIZE`` items: re-stroked MNIST test digits, every digit in every font, jittered
    templates, each on a transparent or white canvas or in a phone photo."""
    font_files = [str(glyphs.font_file(name)) for name in FONTS]  # checked against the manifest before any drawing
    rng = np.random.default_rng(seed)

    def pen(size: int) -> tuple[float, float]:
        height = size * rng.uniform(0.35, 0.8)
        return height, float(np.exp(rng.uniform(np.log(2), np.log(max(3, 0.18 * height)))))

    for i in rng.choice(len(mnist_images), MNIST_DIGITS, replace=False):
        size = int(rng.integers(280, 900))
        height, width = pen(size)
        strokes = _affine(mnist_strokes(mnist_images[i]), rng)
        style = STYLES[int(rng.integers(3))]
        yield (
            render(draw_strokes(strokes, size, height, width, rng), style, rng),
            int(mnist_labels[i]),
            SOURCES[0],
            style,
        )
    for path in font_files:
        for digit in range(10):
            for _ in range(PER_GLYPH):
                size = int(rng.integers(280, 900))
                height, width = pen(size)
                style = STYLES[int(rng.integers(3))]
                ink = draw_font_digit(path, digit, size, height, width, rng)
                yield render(ink, style, rng), digit, SOURCES[1], style
    for digit, forms in TEMPLATES.items():
        for form in forms:
            for _ in range(PER_TEMPLATE):
                size = int(rng.integers(280, 900))
                height, width = pen(size)
                style = STYLES[int(rng.integers(3))]
                strokes = _affine(form, rng, jitter=0.025)
                ink = draw_strokes(strokes, size, height, width, rng)
                yield render(ink, style, rng), digit, SOURCES[2], style


TEMPLATE_FORMS = [(digit, form) for digit, forms in TEMPLATES.items() for form in forms]


def unused_mnist(mnist_images: np.ndarray, seed: int = SEED) -> np.ndarray:
    """The MNIST test digits version 1 did not re-stroke, in an order fixed by ``[seed, 2]``: each new source
    re-strokes its own run of them, so no digit appears twice in the set."""
    used = np.random.default_rng(seed).choice(len(mnist_images), MNIST_DIGITS, replace=False)  # v1's first draw
    return np.random.default_rng([seed, 2]).permutation(np.setdiff1d(np.arange(len(mnist_images)), used))


def source_items(source: str, mnist_images: np.ndarray, mnist_labels: np.ndarray, seed: int = SEED, count=None):
    """Yield the first ``count`` (default ``PER_SOURCE``) items (image, label, source, style) of one of
    ``NEW_SOURCES``, from its own generator ``[seed, 2, index of the source]``. Shapes come in turn from a
    re-stroked MNIST test digit, a font's glyph (digits 0-9 in turn) and a stroke template (each in turn)."""
    index = NEW_SOURCES.index(source)
    scene = scenes.SCENES[source]
    font_files = [str(glyphs.font_file(name)) for name in FONTS]
    mnist = unused_mnist(mnist_images, seed)[index * PER_SOURCE // 3 :]
    rng = np.random.default_rng([seed, 2, index])
    for k in range(PER_SOURCE if count is None else count):
        kind, turn = k % 3, k // 3
        if kind == 0:
            i = mnist[turn]
            label, shape = int(mnist_labels[i]), _affine(mnist_strokes(mnist_images[i]), rng)
        elif kind == 1:
            label = turn % 10
            shape = font_files[int(rng.integers(len(font_files)))]
        else:
            label, form = TEMPLATE_FORMS[turn % len(TEMPLATE_FORMS)]
            shape = _affine(form, rng, jitter=0.025)
        image, style = scene(partial(_glyph, shape, label, rng), rng, k)
        yield image, label, source, style


def _glyph(shape, label: int, rng: np.random.Generator, height: float, width: float) -> np.ndarray:
    """A shape's ink (strokes, or a font file's glyph for ``label``) ``height`` px on its longer side with a
    ``width`` px pen, cropped to its strokes."""
    size = int(height * 1.2 + width + 12)
    if isinstance(shape, str):
        ink = draw_font_digit(shape, label, size, height, width, rng)
    else:
        ink = draw_strokes(shape, size, height, width, rng)
    rows, cols = np.nonzero(ink > 0.02)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


# --------------------------------------------------------------------------------- person-like tests
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
