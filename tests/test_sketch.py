"""Sketch -> MNIST preprocessing on generated drawings."""

import numpy as np
import pytest

from zoo.sketch import SketchError, to_mnist


def _bar(h=400, w=300, top=50, left=120, height=250, width=30):
    ink = np.zeros((h, w), dtype=np.uint8)
    ink[top : top + height, left : left + width] = 255
    return ink


@pytest.mark.parametrize(
    "make",
    [
        lambda ink: np.dstack([np.zeros_like(ink)] * 3 + [ink]),  # black strokes, transparent canvas
        lambda ink: np.dstack([np.full_like(ink, 255)] * 3 + [ink]),  # white strokes, transparent canvas
        lambda ink: 255 - ink,  # black on white, one channel
        lambda ink: ink,  # white on black (MNIST's own look)
        lambda ink: np.dstack([255 - ink] * 3),  # RGB
        lambda ink: ink > 0,  # boolean mask
        lambda ink: ink.astype(np.float32) / 255,  # floats in [0, 1]
        lambda ink: {"background": None, "layers": [], "composite": np.dstack([np.zeros_like(ink)] * 3 + [ink])},
    ],
    ids=["rgba-black", "rgba-white", "gray-on-white", "white-on-black", "rgb", "bool", "float", "editor-dict"],
)
def test_any_background_gives_an_mnist_style_digit(make):
    out = to_mnist(make(_bar()))
    assert out.shape == (28, 28) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    rows = np.flatnonzero(out.max(1) > 0.2)
    assert rows[-1] - rows[0] + 1 == 20  # the longer side scaled to 20 px
    cy = (out.sum(1) * np.arange(28)).sum() / out.sum()
    cx = (out.sum(0) * np.arange(28)).sum() / out.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centre of mass at the centre


def test_position_and_size_do_not_matter():
    small = to_mnist(_bar(800, 800, top=10, left=10, height=80, width=10))
    big = to_mnist(_bar(800, 800, top=300, left=500, height=480, width=60))
    assert np.abs(small - big).mean() < 0.05


def test_blank_canvases_give_none():
    assert to_mnist(np.zeros((300, 300, 4), dtype=np.uint8)) is None
    assert to_mnist(np.full((300, 300), 255, dtype=np.uint8)) is None
    assert to_mnist(np.full((300, 300, 3), 250, dtype=np.uint8)) is None


@pytest.mark.parametrize(
    "image, message",
    [
        (None, "no image"),
        (np.zeros((1, 1, 4), np.uint8), "at least 8x8"),
        (np.zeros((5000, 10), np.uint8), "largest side allowed is 4096"),
        (np.zeros((30, 30, 2), np.uint8), "H x W, H x W x 3 or H x W x 4"),
        (np.full((30, 30), np.nan, np.float32), "NaN or infinite"),
        (np.array([["a"] * 10] * 10), "not an image"),
        (np.full((300, 300, 4), (0, 0, 0, 255), np.uint8), "almost all ink"),
        (np.zeros((300, 300), np.uint8), "almost all ink"),
    ],
)
def test_bad_images_say_what_is_wrong(image, message):
    with pytest.raises(SketchError, match=message):
        to_mnist(image)


# ----------------------------------------------------------------------------- photos, pencil, stroke width
def _mnist_digit(label: int) -> np.ndarray:
    from demos.state import ASSETS

    with np.load(ASSETS / "mnist_sample.npz") as f:
        return f["images"][int(np.flatnonzero(f["labels"] == label)[0])]


def _photo(ink: np.ndarray, *, paper=200.0, strength=0.35, shadow=0.55, noise=6.0, quality=60, seed=0):
    """Pencil (``strength`` of the paper's brightness) on grey paper, a linear light gradient, a hard shadow
    over the right third, sensor noise and JPEG: the case the old preprocessing read about half right."""
    import io

    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = ink.shape
    xx = np.linspace(0, 1, w)[None, :].repeat(h, 0)
    light = (1 - 0.35 * xx) * np.where(xx > 0.7, shadow, 1.0)
    img = paper * (1 - strength * ink) * light + rng.normal(0, noise, ink.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def _strokes(label: int, size: int, width: float) -> np.ndarray:
    """An MNIST digit thinned to its skeleton and drawn again with a round pen ``width`` px wide."""
    from training.drawn import _affine, draw_strokes, mnist_strokes

    rng = np.random.default_rng(label)
    strokes = _affine(mnist_strokes(_mnist_digit(label)), rng)
    return draw_strokes(strokes, size, size * 0.6, width, rng)


def _best_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two 28x28 digits, allowing a shift of one pixel (centring rounds differently)."""
    return max(
        np.corrcoef(np.roll(a, (dy, dx), (0, 1)).ravel(), b.ravel())[0, 1] for dy in (-1, 0, 1) for dx in (-1, 0, 1)
    )


def _mnist_like(out: np.ndarray, reference: np.ndarray) -> None:
    """Saturated strokes, a clean background, and the same shape as the digit read from a clean canvas."""
    import torch
    import torch.nn.functional as F

    assert out is not None and out.max() > 0.95  # ink saturated, like MNIST's strokes
    near = F.max_pool2d(torch.from_numpy(reference > 0.05)[None, None].float(), 5, 1, 2)[0, 0].numpy() > 0
    assert out[~near].max() < 0.1  # no grey box, gradient or speck away from the digit's strokes
    assert (out > 0.5).mean() < 0.35  # strokes, not a filled blob
    assert _best_overlap(out, reference) > 0.6


@pytest.mark.parametrize("label", [2, 4, 7])
def test_pencil_photo_with_shadow_noise_and_jpeg_comes_out_like_a_clean_drawing(label):
    ink = _strokes(label, 600, 6)
    clean = to_mnist(np.dstack([np.zeros_like(ink, dtype=np.uint8)] * 3 + [(ink * 255).astype(np.uint8)]))
    _mnist_like(to_mnist(_photo(ink)), clean)


@pytest.mark.parametrize("width", [2, 3, 12, 60])
def test_thin_and_fat_strokes_come_out_with_mnist_like_width(width):
    """A 2 px line and a 60 px marker on an 800 px canvas end up about as wide as MNIST's strokes."""
    import torch

    from zoo.morphology import pool

    ink = _strokes(3, 800, width)
    out = to_mnist(np.dstack([np.zeros_like(ink, dtype=np.uint8)] * 3 + [(ink * 255).astype(np.uint8)]))
    solid = torch.from_numpy(out > 0.5)
    edge = int((solid & (pool(solid.float(), 3, "min") < 0.5)).sum())
    width_28 = 2 * int(solid.sum()) / max(edge, 1)  # at 28 px, MNIST's ~7 px at 64 px is about 2-3 px
    assert 1.4 <= width_28 <= 4.0, width_28
    assert out.max() > 0.95


def test_page_edge_and_specks_are_not_part_of_the_digit():
    ink = _strokes(7, 600, 8)
    photo = np.asarray(_photo(ink, shadow=1.0)).copy()
    photo[:, :40] = (40, 35, 30)  # the table beyond the page's left edge
    photo[500:506, 520:526] = 0  # a speck far from the digit
    clean = to_mnist(np.dstack([np.zeros_like(ink, dtype=np.uint8)] * 3 + [(ink * 255).astype(np.uint8)]))
    _mnist_like(to_mnist(photo), clean)


def test_photo_of_blank_paper_is_blank():
    assert to_mnist(_photo(np.zeros((500, 500), np.float32))) is None


def test_mnist_digits_pass_through_almost_unchanged():
    """MNIST's own 28x28 arrays are already what the models read: preprocessing must not damage them."""
    for label in range(10):
        digit = _mnist_digit(label)
        assert _best_overlap(to_mnist(digit), digit) > 0.9


def test_a_shadow_edge_where_the_light_falls_towards_it_is_not_ink():
    """Light falling towards a shadow's edge from inside the shadow leaves a valley in the paper's brightness
    along the edge; a closing as wide as a quarter of the photo fills it and used to call it ink (and take
    the strokes that cross it for part of the page's edge)."""
    import io

    from PIL import Image

    ink = _strokes(5, 600, 4)
    h, w = ink.shape
    xx = np.linspace(0, 1, w)[None, :].repeat(h, 0)
    yy = np.linspace(0, 1, h)[:, None].repeat(w, 1)
    edge = np.clip((xx + 0.3 * yy - 0.6) / 0.02, 0, 1)  # a soft-edged shadow over the upper left
    light = (1 - 0.4 * (xx + yy) / 2) * (0.6 + 0.4 * edge)
    img = 210 * (1 - 0.3 * ink) * light + np.random.default_rng(0).normal(0, 4, ink.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=70)
    clean = to_mnist(np.dstack([np.zeros_like(ink, dtype=np.uint8)] * 3 + [(ink * 255).astype(np.uint8)]))
    _mnist_like(to_mnist(Image.open(io.BytesIO(buf.getvalue()))), clean)


def test_a_digit_that_faint_marks_join_to_the_border_is_still_the_digit():
    """A faint line from the digit to the photo's edge (a crease, grain) does not make the digit part of the
    page's edge, and a stray mark elsewhere is not read instead."""
    ink = _strokes(4, 600, 6)
    rows, cols = np.nonzero(ink > 0.5)
    top, col = rows.min(), int(cols[rows == rows.min()][0])
    ink[: top + 1, col : col + 3] = np.maximum(ink[: top + 1, col : col + 3], 0.25)  # up to the top edge
    ink[520:526, 40:110] = 1.0  # a stray pencil mark near a corner
    clean_ink = _strokes(4, 600, 6)
    clean = to_mnist(np.dstack([np.zeros_like(clean_ink, dtype=np.uint8)] * 3 + [(clean_ink * 255).astype(np.uint8)]))
    out = to_mnist(_photo(ink, shadow=1.0))
    assert out is not None and _best_overlap(out, clean) > 0.6


def test_a_digit_cropped_against_the_photos_edge_is_read_beside_a_faint_crease():
    """A tight crop leaves the digit running into the border; a faint crease elsewhere must not be read in
    its place as "the digit that does not touch the border" (it is too faint to be one)."""
    ink = _strokes(0, 600, 8)
    cols = np.nonzero((ink > 0.5).any(0))[0]
    ink = np.pad(ink[:, : cols.max() + 1], ((0, 0), (600 - cols.max() - 1, 0)))  # the 0 ends at the right edge
    ink[150:450, 40:43] = np.maximum(ink[150:450, 40:43], 0.2)  # a faint crease, away from every edge
    clean_ink = _strokes(0, 600, 8)
    clean = to_mnist(np.dstack([np.zeros_like(clean_ink, dtype=np.uint8)] * 3 + [(clean_ink * 255).astype(np.uint8)]))
    out = to_mnist(_photo(ink, shadow=1.0))
    assert out is not None and _best_overlap(out, clean) > 0.6


def test_a_gentle_gradient_of_light_is_paper_not_ink():
    """Light falling off by an eighth towards the corner the digit is drawn in is uneven light, not an even
    ground: read as one brightness, the darker corner came out as a grey box joined to the digit."""
    import io

    from PIL import Image

    ink = _strokes(9, 600, 5)
    rows, cols = np.nonzero(ink > 0.5)
    ink = np.roll(ink, (60 - rows.min(), 60 - cols.min()), (0, 1))  # the digit near the top left corner
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w] / h
    falloff = np.clip(1 - np.hypot(xx, yy) / 0.4, 0, 1)  # 1 in the corner, 0 from 0.4 of the side on
    img = 200 * (1 - 0.4 * ink) * (1 - 0.12 * falloff) + np.random.default_rng(0).normal(0, 3, ink.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=80)
    clean = to_mnist(np.dstack([np.zeros_like(ink, dtype=np.uint8)] * 3 + [(ink * 255).astype(np.uint8)]))
    _mnist_like(to_mnist(Image.open(io.BytesIO(buf.getvalue()))), clean)


def _faint_pencil_photo(label: int, seed: int = 0):
    """A thin (2 px), faint pencil digit photographed on an 800 px page under light that falls off across it."""
    import io

    from PIL import Image

    ink = _strokes(label, 800, 2.2)
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w] / h
    light = 1 - 0.35 * (0.6 * xx + 0.4 * yy)
    img = 200 * (1 - 0.18 * ink) * light + np.random.default_rng(seed).normal(0, 3, ink.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=85)
    clean = to_mnist(np.dstack([np.zeros_like(ink, dtype=np.uint8)] * 3 + [(ink * 255).astype(np.uint8)]))
    return Image.open(io.BytesIO(buf.getvalue())), clean


@pytest.mark.parametrize("label", [0, 7, 8])
def test_a_faint_thin_pencil_line_is_read_whole(label):
    """Shrunk to the analysis size a 2 px pencil line is a few hundredths darker than the paper: it must stand
    above the noise floor where the noise is that low (a fixed floor of 0.05 kept only pieces of such digits)."""
    photo, clean = _faint_pencil_photo(label)
    out = to_mnist(photo)
    assert out is not None and _best_overlap(out, clean) > 0.75


def test_the_closing_is_sized_by_the_strokes_not_by_a_shadow_band_read_as_ink():
    """The second reading's closing is about four stroke widths: a wide shadow band that the first reading took
    for ink, joined to thin strokes, must not widen it (it would then keep the band as ink)."""
    import torch

    from zoo.sketch import _closing_for, _ridge_width

    mask = torch.zeros(250, 250, dtype=torch.bool)
    for top in (20, 70, 120, 170, 220):
        mask[top : top + 2, 10:200] = True  # thin strokes, 2 px, 190 px long each
    mask[:, 200:230] = True  # a shadow band 30 px wide, joined to them
    assert 1 <= _ridge_width(mask) <= 3
    assert _closing_for(mask.float()) <= 17


def test_blob_labels_are_each_blobs_smallest_index_with_diagonals_joined():
    """`morphology.components` (union-find over row runs) against a plain flood fill, on masks of every density."""
    import torch

    from zoo.morphology import components

    rng = np.random.default_rng(0)
    for _ in range(60):
        h, w = rng.integers(1, 40, 2)
        mask = rng.random((h, w)) < rng.random()
        expected = np.full((h, w), -1)
        for start in zip(*np.nonzero(mask), strict=True):  # reading order: the first unlabelled pixel is the smallest
            if expected[start] >= 0:
                continue
            stack, label = [start], start[0] * w + start[1]
            expected[start] = label
            while stack:
                y, x = stack.pop()
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = y + dy, x + dx
                        if 0 <= ny < h and 0 <= nx < w and mask[ny, nx] and expected[ny, nx] < 0:
                            expected[ny, nx] = label
                            stack.append((ny, nx))
        assert np.array_equal(components(torch.from_numpy(mask)).numpy(), expected)


def test_box_mean_is_avg_pool_bit_for_bit_and_min_alpha_is_the_least_opacity():
    """`box_mean` sums in the pooling kernel's order (drawn scores depend on it staying the same); `_min_alpha`
    reads words where it can and bytes where it cannot (a crop, a non-byte array)."""
    import torch
    import torch.nn.functional as F

    from zoo.morphology import box_mean
    from zoo.sketch import _min_alpha

    gen = torch.Generator().manual_seed(0)
    for _ in range(40):
        h, w = torch.randint(5, 120, (2,), generator=gen).tolist()
        x = torch.rand(h, w, generator=gen) * 10.0 ** int(torch.randint(-3, 2, (1,), generator=gen))
        for k in (3, 5):
            assert torch.equal(box_mean(x, k), F.avg_pool2d(x[None, None], k, 1)[0, 0])
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (50, 40, 4), dtype=np.uint8)
    rgba[..., 3] = rng.integers(30, 256, (50, 40))
    for image in (rgba, rgba[5:, 3:], rgba[::-1], rgba.astype(np.float32)):
        assert _min_alpha(image) == float(image[:, :, 3].min())
