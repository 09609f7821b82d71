"""The preprocessing reads digits as people send them: tight crops, thumbnails scaled up, digits on ruled and
squared paper or in a form's box, chalk on a board (issue #30). Each picture is compared with the same
digit read from a clean, loosely framed canvas."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter

from zoo.paper import _light_strokes
from zoo.printed import printed_lines
from zoo.sketch import to_mnist


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from demos.state import ASSETS

    with np.load(ASSETS / "mnist_sample.npz") as f:
        return f["images"], f["labels"]


def _crop(digit: np.ndarray, margin: float = 0.0) -> np.ndarray:
    ys, xs = np.nonzero(digit > 0)
    crop = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    return np.pad(crop, int(round(margin * max(crop.shape))))


def _sized(ink: np.ndarray, side: int, resample=Image.Resampling.BILINEAR) -> np.ndarray:
    h, w = ink.shape
    s = side / max(h, w)
    return np.asarray(Image.fromarray(ink).resize((max(1, round(w * s)), max(1, round(h * s))), resample))


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two 28x28 digits, allowing a shift of a pixel (centring rounds differently)."""
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return max(np.corrcoef(np.roll(a, s, (0, 1)).ravel(), b.ravel())[0, 1] for s in shifts)


def _loose(ink: np.ndarray) -> np.ndarray:
    """The reference: the same ink, loosely framed on a white canvas."""
    return to_mnist(Image.fromarray(255 - np.pad(ink, max(ink.shape) // 3)).convert("RGB"))


def _widened(out: np.ndarray) -> np.ndarray:
    """A 28x28 digit with its strokes widened by a pixel on each side: compares shapes, not stroke widths."""
    return F.max_pool2d(torch.from_numpy(out)[None, None], 3, 1, 1)[0, 0].numpy()


def _pieces(out: np.ndarray) -> int:
    """Connected pieces of a 28x28 digit's ink (8-connected)."""
    from zoo.morphology import components

    labels = components(torch.from_numpy(out > 0.3))
    return len(torch.unique(labels[labels >= 0]))


@pytest.mark.parametrize("label", [0, 2, 6, 8, 9])
def test_a_tight_crop_keeps_the_strokes_that_touch_its_frame(label):
    """A digit cropped to its ink (strokes on all four edges), black on white at 256 px: read as the same
    digit framed loosely. Before, the strokes along the frame were taken for the page's edge: a 0 became
    an arch or nothing at all."""
    images, labels = _digits()
    digit = images[int(np.flatnonzero(labels == label)[0])]
    ink = _sized(_crop(digit), 256)
    tight = to_mnist(Image.fromarray(255 - ink).convert("RGB"))
    assert tight is not None and _overlap(tight, _loose(ink)) > 0.85


@pytest.mark.parametrize("resample", ["NEAREST", "BILINEAR", "BICUBIC"])
def test_a_12_px_digit_scaled_up_comes_out_as_whole_strokes(resample):
    """A thumbnail (the digit 12 px tall) scaled up to 240 px: its soft or blocky strokes come out as one
    piece in the same shape as the thumbnail itself read loosely, not broken into specks or one blob."""
    images, labels = _digits()
    for label in (0, 3, 7):
        digit = images[int(np.flatnonzero(labels == label)[0])]
        small = _sized(_crop(digit, 0.1), 12, Image.Resampling.BOX)
        big = _sized(small, 240, getattr(Image.Resampling, resample))
        out = to_mnist(Image.fromarray(255 - big).convert("RGB"))
        reference = to_mnist(Image.fromarray(255 - _sized(_crop(digit, 0.1), 240)).convert("RGB"))
        assert out is not None and _pieces(out) == 1, (label, resample)
        assert _overlap(out, reference) > 0.75, (label, resample)


def _straight_digit(label: int, side: int = 400) -> np.ndarray:
    """A 1, 4 or 7 made of straight strokes (what line removal must not take), ink on a (side, side) canvas."""
    strokes = {
        1: [[(0.5, 0.22), (0.5, 0.78)]],
        4: [[(0.58, 0.22), (0.3, 0.6), (0.7, 0.6)], [(0.58, 0.4), (0.58, 0.78)]],
        7: [[(0.32, 0.24), (0.68, 0.24), (0.45, 0.78)]],
    }[label]
    img = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(img)
    for stroke in strokes:
        draw.line([(x * side, y * side) for x, y in stroke], fill=255, width=side // 25, joint="curve")
    return np.asarray(img)


def _paper_with(kind: str, side: int = 400) -> Image.Image:
    """White paper with pale blue ruled lines, a squared grid, or a dark form box around the middle."""
    paper = Image.new("RGB", (side, side), (250, 250, 245))
    draw = ImageDraw.Draw(paper)
    step = side // 12
    if kind in ("ruled", "squared"):
        for y in range(step // 2, side, step):
            draw.line([(0, y), (side, y)], fill=(150, 180, 225), width=2)
    if kind == "squared":
        for x in range(step // 2, side, step):
            draw.line([(x, 0), (x, side)], fill=(150, 180, 225), width=2)
    if kind == "box":
        draw.rectangle([side * 0.12, side * 0.12, side * 0.88, side * 0.88], outline=(30, 30, 30), width=4)
    return paper


@pytest.mark.parametrize("kind", ["ruled", "squared", "box"])
@pytest.mark.parametrize("label", [1, 4, 7])
def test_printed_lines_go_and_straight_strokes_stay(kind, label):
    """Ruled and squared paper's lines and a form's box are removed; the digit's own straight strokes (a 1's
    stem, a 4's and a 7's bars), crossing those lines, stay whole."""
    ink = _straight_digit(label)
    paper = np.asarray(_paper_with(kind), dtype=np.float32)
    picture = paper * (1 - ink[..., None] / 255) + 20 * ink[..., None] / 255
    out = to_mnist(Image.fromarray(picture.astype(np.uint8)))
    clean = to_mnist(Image.fromarray(255 - ink).convert("RGB"))
    assert out is not None and _pieces(out) == 1  # no stroke cut where a line crossed it
    assert _overlap(_widened(out), _widened(clean)) > 0.9  # the same strokes (their width may differ a little)
    near = F.max_pool2d(torch.from_numpy(clean > 0.05)[None, None].float(), 5, 1, 2)[0, 0].numpy() > 0
    assert out[~near].max() < 0.15  # nothing of the lines left away from the digit


@pytest.mark.parametrize("label", [1, 4, 7])
def test_a_digit_alone_has_no_printed_lines(label):
    """A digit's straight strokes, even in a tight crop where a 1's stem or a 7's bar runs edge to edge, are
    never taken for printed lines: those come at least three at a time, or as a box's closed four sides."""
    ink = _straight_digit(label) > 0
    ys, xs = np.nonzero(ink)
    tight = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    for mask in (ink, tight):
        assert not printed_lines(torch.from_numpy(mask)).any()


def test_chalk_on_a_dark_board_is_read_light_on_dark():
    """Light, grainy strokes on an uneven dark board (a photo of chalk): the strokes are the digit, not the
    board between them."""
    images, labels = _digits()
    digit = images[int(np.flatnonzero(labels == 2)[0])]
    ink = _sized(_crop(digit, 0.4), 360).astype(np.float32) / 255
    h, w = ink.shape
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    board = np.array([40.0, 62.0, 50.0]) * (0.8 + 0.4 * xx)[..., None]
    grain = rng.uniform(0.6, 1.0, ink.shape)[..., None]
    img = board * (1 - ink[..., None] * grain) + 225 * ink[..., None] * grain + rng.normal(0, 4, (h, w, 3))
    out = to_mnist(Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)))
    assert out is not None and _overlap(out, _loose((ink * 255).astype(np.uint8))) > 0.8


@pytest.mark.parametrize("label", [1, 4])
def test_a_narrow_box_in_a_wide_picture_is_removed(label):
    """A form's box that fills little of the picture (a tall, narrow field photographed with the page around
    it), close around the digit: the box goes, the digit stays whole. (A 7 whose bar runs beside the box's
    top keeps a faint trace of the box's sides here: a known limit, issue #30.)"""
    ink = _straight_digit(label, 300)
    ys, xs = np.nonzero(ink)
    field = ink[ys.min() - 14 : ys.max() + 15, xs.min() - 14 : xs.max() + 15]  # the box close around the digit
    h, w = field.shape
    canvas = np.zeros((h + 160, w + 500), np.uint8)
    canvas[80 : 80 + h, 120 : 120 + w] = field
    paper = np.full((*canvas.shape, 3), 245.0, np.float32)
    picture = paper * (1 - canvas[..., None] / 255) + 20 * canvas[..., None] / 255
    img = Image.fromarray(picture.astype(np.uint8))
    clean = to_mnist(img)  # the same picture without the box
    ImageDraw.Draw(img).rectangle([118, 78, 121 + w, 81 + h], outline=(40, 40, 60), width=3)
    out = to_mnist(img)
    assert out is not None and _pieces(out) == 1
    assert _overlap(_widened(out), _widened(clean)) > 0.8  # the box's corners may nudge the digit's framing
    near = F.max_pool2d(torch.from_numpy(clean > 0.05)[None, None].float(), 5, 1, 2)[0, 0].numpy() > 0
    assert out[~near].max() < 0.15  # nothing of the box left away from the digit


def test_a_square_zero_is_not_a_box():
    """Four straight sides with nothing inside them are a digit drawn square (a 0), never a form's box."""
    img = Image.new("L", (300, 300), 0)
    ImageDraw.Draw(img).rectangle([90, 60, 210, 240], outline=255, width=12)
    assert not printed_lines(torch.from_numpy(np.asarray(img) > 0)).any()


def _shadowed(picture: np.ndarray, corner_share: float) -> np.ndarray:
    """A hard-edged shadow (a phone's, a hand's) across a corner of a photo: the paper and ink under it at 55 %."""
    h, w = picture.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    shade = np.where(xx + yy < 2 * corner_share, 0.55, 1.0)
    return (picture * shade[..., None]).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("label", [2, 6, 9])
def test_a_hard_shadow_is_not_read_as_ink(label):
    """A digit photographed with a hard shadow over a third of the paper: the lit and the shaded paper are
    both ground (the shadow is not taken for a fat stroke of an even ground)."""
    images, labels = _digits()
    ink = _sized(_crop(images[int(np.flatnonzero(labels == label)[0])], 0.4), 360).astype(np.float32) / 255
    picture = 235 * (1 - 0.85 * ink[..., None]) * np.ones(3, np.float32)
    out = to_mnist(Image.fromarray(_shadowed(picture, 0.45)))
    assert out is not None and _overlap(out, _loose((ink * 255).astype(np.uint8))) > 0.8


@pytest.mark.parametrize("label", [1, 4, 7])
def test_squared_paper_partly_in_shadow_loses_its_lines(label):
    """Squared paper under a shadow: the lines fade where it falls, so no line fills its whole row, yet they
    are removed; the digit's straight strokes stay whole."""
    ink = _straight_digit(label)
    paper = np.asarray(_paper_with("squared"), dtype=np.float32)
    picture = paper * (1 - ink[..., None] / 255) + 20 * ink[..., None] / 255
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    fade = np.where(xx + yy < 0.6, 0.9, 1.0)[..., None]  # shade that also washes the pale lines out
    faded = np.where((paper < 240).any(-1, keepdims=True) & (ink[..., None] == 0) & (fade < 1), 250.0, picture)
    out = to_mnist(Image.fromarray(_shadowed(faded * fade, 0.3)))
    clean = to_mnist(Image.fromarray(255 - ink).convert("RGB"))
    assert out is not None and _pieces(out) == 1
    assert _overlap(_widened(out), _widened(clean)) > 0.9


def test_a_dim_photo_with_a_lit_patch_is_not_chalk():
    """A dim photo of paper (a shadow over most of it) with one lit patch and dark pencil: the lit patch is
    paper, not a chalk stroke, so the page is not read light on dark."""
    images, labels = _digits()
    ink = _sized(_crop(images[int(np.flatnonzero(labels == 7)[0])], 0.4), 360).astype(np.float32) / 255
    picture = 200 * (1 - 0.6 * ink[..., None]) * np.ones(3, np.float32)
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = np.where(xx - yy > 0.33, 1.0, 0.4)[..., None]  # a lit corner (15 % of it); the rest in shadow
    photo = (picture * light).clip(0, 255).astype(np.uint8)
    assert not _light_strokes(torch.from_numpy(photo.mean(-1, dtype=np.float32) / 255))  # a lit area, not strokes
    out = to_mnist(Image.fromarray(photo))
    assert out is not None and _overlap(out, _loose((ink * 255).astype(np.uint8))) > 0.8


def _on_paper(ink: np.ndarray, strength: float, paper: float = 225.0) -> np.ndarray:
    """Grey ink of the given strength (0 none, 1 black) on even paper, as an RGB array of floats."""
    return paper * (1 - strength * ink.astype(np.float32)[..., None] / 255) * np.ones(3, np.float32)


def _photographed(picture: np.ndarray, slope: float, seed: int = 0) -> Image.Image:
    """Light falling off by ``slope`` across the picture (left to right), sensor noise, 8-bit."""
    h, w = picture.shape[:2]
    light = 1 - slope * np.mgrid[0:h, 0:w][1] / w
    noisy = picture * light[..., None] + np.random.default_rng(seed).normal(0, 2.0, picture.shape)
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


@pytest.mark.parametrize("line", ["margin", "underline"])
def test_a_margin_line_or_an_underline_beside_a_digit_goes(line):
    """A single printed line across the page (a red margin line, a form's underline) with the digit clear of
    it on one side is removed; before, it was joined to the digit as one more stroke."""
    images, labels = _digits()
    ink = _sized(_crop(images[int(np.flatnonzero(labels == 7)[0])], 0.5), 300)
    picture = Image.fromarray(_on_paper(ink, 0.9).astype(np.uint8))
    h, w = ink.shape
    draw = ImageDraw.Draw(picture)
    if line == "margin":
        draw.line([(0.08 * w, 0), (0.08 * w, h)], fill=(220, 80, 90), width=3)
    else:
        draw.line([(0, 0.92 * h), (w, 0.92 * h)], fill=(40, 40, 40), width=3)
    out = to_mnist(picture)
    assert out is not None and _overlap(out, _loose(ink)) > 0.85


@pytest.mark.parametrize("label", [2, 5, 7])
def test_a_bar_that_spans_a_tight_crop_is_no_printed_line(label):
    """A 2's base, a 5's or a 7's bar that runs edge to edge of a tight crop touches the rest of the digit:
    never a lone printed line."""
    images, labels = _digits()
    for digit in images[np.flatnonzero(labels == label)[:5]]:
        mask = _sized(_crop(digit), 200) > 100
        assert not printed_lines(torch.from_numpy(mask)).any(), label


def test_a_stroke_that_runs_off_a_photo_is_kept():
    """A photo whose digit runs off one side (its stroke touches the border briefly) beside a short stray mark:
    the digit, far the larger, is read; before, a blob touching the border was taken for the page's edge
    and the stray mark was read instead."""
    images, labels = _digits()
    ink = _sized(_crop(images[int(np.flatnonzero(labels == 4)[0])], 0.3), 300)
    ink = np.pad(ink[:, 60:], ((0, 0), (0, 60)))  # the 4's left part runs off the left side
    h, w = ink.shape
    mark = Image.fromarray(ink)
    ImageDraw.Draw(mark).line([(0.82 * w, 0.2 * h), (0.9 * w, 0.2 * h)], fill=255, width=8)
    out = to_mnist(_photographed(_on_paper(np.asarray(mark), 0.8), 0.3))
    assert out is not None and _overlap(out, _loose(ink)) > 0.7


def test_a_faint_fat_digit_filling_a_tight_crop_is_read():
    """A light grey print face cropped tight (its ink fainter than a faint shade, and half of the picture):
    the paper's noise is measured on the paper, not on the ink, so the digit is read whole."""
    images, labels = _digits()
    ink = _sized(_crop(images[int(np.flatnonzero(labels == 8)[0])]), 300)
    out = to_mnist(_photographed(_on_paper(ink, 0.14), 0.1))
    assert out is not None and _overlap(out, _loose(ink)) > 0.8


def test_the_faint_band_beside_a_shadow_edge_is_no_stroke():
    """Faint pencil on paper whose light falls off by half across the page, a shadow over its top: the paper
    in the shadow darkens towards the shadow's edge, and the closing that reads the paper fills that slope, a
    faint band along the edge. The digit's blobs are found above that band (before, it was read as a long
    stroke beside the 2)."""
    images, labels = _digits()
    ink = _sized(_crop(images[int(np.flatnonzero(labels == 2)[0])], 0.5), 360)
    h, w = ink.shape
    yy = np.mgrid[0:h, 0:w][0] / h
    shade = Image.fromarray(np.where(yy < 0.3, 153, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(4))
    light = (1 - 0.5 * yy) * np.asarray(shade) / 255
    photo = _on_paper(ink, 0.15) * light[..., None] + np.random.default_rng(0).normal(0, 2.0, (h, w, 3))
    out = to_mnist(Image.fromarray(photo.clip(0, 255).astype(np.uint8)))
    assert out is not None and _overlap(out, _loose(ink)) > 0.8


@pytest.mark.parametrize("label", [2, 4, 7])
def test_a_lit_wedge_along_two_sides_of_a_dim_photo_is_not_chalk(label):
    """A dim photo of paper whose lit part is a narrow wedge in a corner (too narrow to hold a square, so it
    passes for strokes by its area): it runs along two sides of the picture, which chalk strokes never do, so
    the page is read dark on light (before, the wedge was read as chalk and the digit lost)."""
    images, labels = _digits()
    ink = _sized(_crop(images[int(np.flatnonzero(labels == label)[0])], 0.4), 360).astype(np.float32) / 255
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = np.where(xx - yy > 0.6, 1.0, 0.4)[..., None]
    photo = _photographed(200 * (1 - 0.6 * ink[..., None]) * light * np.ones(3, np.float32), 0.2)
    assert not _light_strokes(torch.from_numpy(np.asarray(photo).mean(-1, dtype=np.float32) / 255))
    out = to_mnist(photo)
    assert out is not None and _overlap(out, _loose((ink * 255).astype(np.uint8))) > 0.8


@pytest.mark.parametrize("label", [6, 9])
def test_a_small_digit_on_squared_paper_keeps_the_strokes_that_run_along_its_lines(label):
    """A digit under two squares tall, in pen darker than the grid, whose loop runs along the grid's lines:
    where the pen lies on a line, it is darker than that line elsewhere, so it stays (before, the line was
    erased with the loop on it)."""
    images, labels = _digits()
    side, step = 400, 400 // 12
    paper = np.asarray(_paper_with("squared", side), dtype=np.float32)
    for digit in images[np.flatnonzero(labels == label)[:4]]:
        ink = _sized(_crop(digit), int(step * 1.6))
        canvas = np.zeros((side, side), np.uint8)
        corner = step // 2 + 5 * step - 2  # the digit's box starts just above a line and left of another
        canvas[corner : corner + ink.shape[0], corner : corner + ink.shape[1]] = ink
        out = to_mnist(Image.fromarray((paper * (1 - 0.8 * canvas[..., None] / 255)).astype(np.uint8)))
        assert out is not None and _overlap(out, _loose(ink)) > 0.8


@pytest.mark.parametrize("slope", [0.3, 0.5])
def test_a_stroke_that_runs_off_a_photo_at_a_corner_is_kept(slope):
    """A 5 written in two strokes (its bar on its own), photographed so that its body runs off the picture at
    the bottom right corner: the body touches two sides, in the same pen as the bar inside, so it is the
    digit's and not the page's or a shadow's (before, only the bar was read)."""
    side = 300
    img = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(img)
    draw.line([(0.36 * side, 0.14 * side), (0.8 * side, 0.14 * side)], fill=255, width=16)
    body = [(0.34, 0.24), (0.32, 0.5), (0.55, 0.45), (0.75, 0.55), (0.8, 0.75), (0.65, 0.92), (0.3, 0.9)]
    draw.line([(x * side, y * side) for x, y in body], fill=255, width=16, joint="curve")
    ink = np.asarray(img)[: int(0.85 * side), : int(0.85 * side)]  # the picture cuts the body off
    out = to_mnist(_photographed(_on_paper(ink, 0.85), slope))
    whole = to_mnist(Image.fromarray(255 - ink).convert("RGB"))
    assert out is not None and _pieces(out) == 2 and _overlap(out, whole) > 0.9
