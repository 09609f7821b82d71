"""Digits as people send them to the app: the **drawn** benchmark, and person-like drawings for tests.

Shapes come from three sources, so that the set is not MNIST again:

- MNIST *test* digits thinned to their skeleton and drawn again with a pen from 2 px to marker-fat;
- handwriting-style fonts shipped in ``training/fonts/`` (``FONTS``), digits no MNIST writer made;
- stroke templates of the ways people write 1 (flag, base), 4 (open, closed), 7 (crossed, plain) and 9
  (straight or curved stem), jittered.

Each shape is rendered the way it reaches the app: strokes on the sketchpad's transparent canvas, on a
white canvas, or a phone photo of paper (grey or tinted paper, pencil or pen, uneven light and a shadow,
sometimes the page edge, blur, sensor noise, JPEG). Everything is drawn from fixed seeds.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from . import glyphs

SEED = 20261127  # the benchmark's seed, fixed before any model was scored on it
VERSION = "1"  # bumped whenever the items change: scores on two versions do not compare
SHA256 = "815c8c355b441c65fafaf114899fb2ccd8660e719dce96589a424a86b6a36d45"  # every item of VERSION (hash_item)
SOURCES = ("mnist-restroked", "fonts", "templates")
STYLES = ("transparent", "white", "photo")

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


# --------------------------------------------------------------------------------------- renderings
def as_canvas(ink: np.ndarray, transparent: bool) -> Image.Image:
    """What the sketchpad sends (black strokes, alpha) or a drawing on a white canvas."""
    a = (np.clip(ink, 0, 1) * 255).astype(np.uint8)
    if transparent:
        rgba = np.zeros((*a.shape, 4), dtype=np.uint8)
        rgba[..., 3] = a
        return Image.fromarray(rgba, "RGBA")
    return Image.fromarray(255 - a, "L").convert("RGB")


def as_photo(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A phone photo of the digit on paper: tinted grey paper, pencil or pen, uneven light with a shadow,
    sometimes the page edge and the table, blur, sensor noise and JPEG."""
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
    if rng.random() < 0.3:  # the page ends before the photo does: a dark table along a side clear of ink
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


def render(ink: np.ndarray, style: str, rng: np.random.Generator) -> Image.Image:
    return as_photo(ink, rng) if style == "photo" else as_canvas(ink, transparent=style == "transparent")


# ------------------------------------------------------------------------------------------ the set
MNIST_DIGITS = 1200  # re-stroked MNIST test digits
PER_GLYPH = 3  # renderings of each digit in each font
PER_TEMPLATE = 30  # jittered renderings of each template
SIZE = MNIST_DIGITS + len(FONTS) * 10 * PER_GLYPH + sum(map(len, TEMPLATES.values())) * PER_TEMPLATE


def hash_item(digest, image: Image.Image, label: int, source: str, style: str) -> None:
    """Feed one item into a running sha256 (its mode, size, label, source, style, then its pixels): the
    digest of the whole set says whether two machines built the same benchmark."""
    digest.update(f"{image.mode} {image.size[0]}x{image.size[1]} {label} {source} {style}\n".encode())
    digest.update(image.tobytes())


def drawn_items(mnist_images: np.ndarray, mnist_labels: np.ndarray, seed: int = SEED):
    """Yield the benchmark's ``SIZE`` (image, label, source, style): re-stroked MNIST test digits, every digit
    in every font, jittered templates. ``mnist_images`` is the MNIST *test* split (N, 28, 28) uint8."""
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
