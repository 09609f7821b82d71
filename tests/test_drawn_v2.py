"""The drawn benchmark's version 2: version 1's items kept byte for byte, seven new sources of digits as people
send them (each deterministic and showing what it claims), the tight column, and cards that say which version
a number was measured on."""

import hashlib
import itertools
from functools import partial

import numpy as np
import pytest

from training import card as cards
from training import drawn, robustness, scenes
from training.__main__ import _other_sets
from training.data import mnist_pixels
from training.robustness import TIGHT_SIDE, tight_crop

# the first 40 items' hash_item digest, computed with main's code before version 2 existed
V1_FIRST_40 = "9ef5ee272db82ea19057356c7fe97835591402d1ee47e6e97477a94116b2db73"


@pytest.fixture(scope="module")
def mnist():
    pixels, labels = mnist_pixels(train=False)
    return (pixels[:, 0].numpy() * 255).round().astype(np.uint8), labels.numpy()


def _hash(items) -> str:
    digest = hashlib.sha256()
    for item in items:
        drawn.hash_item(digest, *item)
    return digest.hexdigest()


def test_version_1_items_come_first_unchanged(mnist):
    """Scores on v1 stay reproducible: v2 begins with v1's items, same seed, same order, same bytes."""
    assert _hash(itertools.islice(drawn.drawn_items(*mnist), 40)) == V1_FIRST_40
    assert drawn.VERSION == "2" and drawn.SIZE == drawn.V1_SIZE + 7 * drawn.PER_SOURCE
    assert drawn.SOURCES[:3] == ("mnist-restroked", "fonts", "templates") and set(scenes.SCENES) <= set(drawn.SOURCES)


@pytest.mark.slow
def test_version_1_is_the_whole_prefix():
    """The set's first V1_SIZE items hash to version 1's pinned digest. The digest is taken while the set is made
    (``robustness.drawn_test``, cached under a fingerprint of the generator's code), so checking it costs nothing
    beyond the one build the evaluations need."""
    made = robustness.drawn_test()
    assert made.prefix_sha256 == drawn.V1_SHA256 and made.sha256 == drawn.SHA256


@pytest.fixture(scope="module")
def firsts(mnist):
    """The first six items of each new source (a third from each shape source: MNIST, fonts, templates)."""
    return {s: list(drawn.source_items(s, *mnist, count=6)) for s in drawn.NEW_SOURCES}


@pytest.mark.parametrize("source", drawn.NEW_SOURCES)
def test_each_new_source_is_deterministic_and_visible(mnist, firsts, source):
    again = list(drawn.source_items(source, *mnist, count=6))
    for (a, la, sa, ta), (b, lb, sb, tb) in zip(firsts[source], again, strict=True):
        assert a.tobytes() == b.tobytes() and (la, sa, ta) == (lb, sb, tb) == (la, source, ta)
        assert ta in drawn.STYLES
        lum = np.asarray(a.convert("L"), dtype=np.float32)
        ground = np.percentile(lum, 5 if source == "chalk" else 95)  # the board or the paper
        ink = np.abs(lum - ground) > 40  # the digit stands out from its ground (dark or, on chalk, light)
        assert 0.002 < ink.mean() < (0.99 if source == "tight" else 0.6), (source, la, ink.mean())  # a tight 1: a bar
        assert max(a.size) >= 120
    assert len({label for _, label, *_ in firsts[source]}) >= 3  # not one digit over and over


def _seven(height: float, width: float) -> np.ndarray:
    """A fixed shape for the scene tests: a crossed 7's template, drawn without randomness in the shape."""
    strokes = drawn._affine(drawn.TEMPLATES[7][1], np.random.default_rng(0))
    size = int(height * 1.2 + width + 12)
    ink = drawn.draw_strokes(strokes, size, height, width, np.random.default_rng(0))
    rows, cols = np.nonzero(ink > 0.02)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _scene(source: str, style: str, k: int = 0, count: int = 2):
    """Scene pictures of the fixed shape in ``style`` from the first seeds that give it, with those seeds."""
    out = []
    for seed in range(60):
        image, got = scenes.SCENES[source](_seven, np.random.default_rng(seed), k)
        if got == style:
            out.append((seed, np.asarray(image.convert("L"), dtype=np.float32)))
        if len(out) == count:
            return out
    raise AssertionError(f"no {style} picture from {source}")


def test_tight_strokes_touch_at_least_two_sides_of_the_frame(firsts):
    whites = [np.asarray(im.convert("L")) for im, _, _, style in firsts["tight"] if style == "white"]
    whites += [lum for _, lum in _scene("tight", "white", count=3)]
    assert len(whites) >= 4
    for lum in whites:
        sides = [lum[0], lum[-1], lum[:, 0], lum[:, -1]]
        assert sum(bool((side < 180).any()) for side in sides) >= 2  # ink over 0.3 on the frame


def test_lowres_is_a_small_digit_scaled_up_by_each_resampling():
    shown = {}
    for k in range(3):  # nearest, bilinear, bicubic in turn
        seed, lum = _scene("lowres", "white", k, count=1)[0]
        small = np.asarray(scenes.thumbnail(_seven, np.random.default_rng(seed)), dtype=np.float32)
        rows, cols = np.nonzero(small < 250)
        assert 8 <= max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # the digit itself is 8-20 px
        changes = int((np.abs(np.diff(lum, axis=0)) > 0).any(1).sum())  # rows that differ from the one above
        shown[k] = (changes, small.shape[0], max(lum.shape) / max(small.shape))
    changes, small_h, scale = shown[0]
    assert changes < small_h and scale >= 5  # nearest: blocks, one row change per small row at most
    for k in (1, 2):
        changes, small_h, _ = shown[k]
        assert changes > 3 * small_h  # bilinear / bicubic: smooth ramps, nearly every row differs


@pytest.mark.parametrize("source", ["ruled", "squared"])
def test_printed_lines_cross_the_whole_page(source):
    for _, lum in _scene(source, "scan"):
        paper = np.percentile(lum, 90)
        printed = (lum < paper - 6).mean(1) > 0.97  # a row darker than the paper all the way across
        assert printed.sum() >= 5
        crossing = (lum < paper - 6).mean(0) > 0.97
        assert (crossing.sum() >= 5) == (source == "squared") or crossing.sum() <= 6  # squared: columns too


def test_boxed_digit_sits_in_a_printed_box():
    for _, lum in _scene("boxed", "scan", count=3):
        dark = lum < 140
        rows, cols = np.nonzero(dark.mean(1) > 0.5)[0], np.nonzero(dark.mean(0) > 0.5)[0]
        assert len(rows) and len(cols)  # the box's long sides
        assert rows.max() - rows.min() > 0.3 * lum.shape[0] and cols.max() - cols.min() > 0.3 * lum.shape[1]
        inside = dark[rows.min() + 6 : rows.max() - 5, cols.min() + 6 : cols.max() - 5]
        assert inside.mean() > 0.01  # and the digit inside it


def test_boards_are_photos_of_marker_and_of_light_chalk_on_dark():
    for _, lum in _scene("whiteboard", "photo"):
        assert np.median(lum) > 150 and (lum < np.median(lum) - 50).mean() > 0.005
    for _, lum in _scene("chalk", "photo"):
        assert np.median(lum) < 110 and (lum > np.median(lum) + 50).mean() > 0.002


def test_tight_column_crops_each_digit_to_its_ink(mnist):
    images, _ = mnist
    for digit in images[:50]:
        crop = np.asarray(tight_crop(digit))
        assert max(crop.shape) == TIGHT_SIDE and crop.min() < 64  # black on white, scaled up
        assert all((side < 255).any() for side in (crop[0], crop[-1], crop[:, 0], crop[:, -1]))


def test_departures_name_every_source_and_the_version():
    from training.tasks.digits import Digits

    text = " ".join(Digits.departures)
    assert f"`drawn` (v{drawn.VERSION})" in text and "`tight`" in text
    assert all(f"`{s}`" in text for s in drawn.SOURCES)


def test_cards_state_the_set_version_beside_each_of_its_numbers():
    info = {"benchmarks": {"drawn": {"version": "2", "sha256": "ab" * 32}, "tight": {"version": "1", "sha256": "c"}}}
    metrics = {"drawn": 0.9, "drawn_chalk": 0.8, "tight": 0.7, "accuracy": 0.99}
    text = cards.render("mnist-mlp", metrics, info)
    assert "| drawn | 0.9000 (drawn v2) |" in text and "| drawn_chalk | 0.8000 (drawn v2) |" in text
    assert "| tight | 0.7000 (tight v1) |" in text and "| accuracy | 0.9900 |" in text


def test_verify_says_an_old_card_was_scored_on_another_version():
    """A v1 card is not compared number for number with v2's; a card without the tight column says so."""
    old = {"drawn": {"version": "1", "sha256": drawn.V1_SHA256}}
    built = {"drawn": {"version": "2", "sha256": "f" * 64}, "tight": {"version": "1", "sha256": "e" * 64}}
    said = _other_sets(old, built, {"drawn": 0.98})
    assert said[0].startswith(
        f"the card was measured on drawn v1 ({drawn.V1_SHA256[:12]}), this machine built drawn v2 "
    )
    assert said[1] == "the card has no tight column (this machine built tight v1): re-evaluate with --write"
    assert _other_sets(built, built, {}) == []


def test_glyphs_of_every_shape_source_fit_their_height(mnist):
    """Each shape source gives ink of the asked height (its longer side) for the scenes to place."""
    images, labels = mnist
    shapes = [
        drawn._affine(drawn.mnist_strokes(images[0]), np.random.default_rng(1)),
        str(drawn.glyphs.font_file(drawn.FONTS[0])),
        drawn._affine(drawn.TEMPLATES[4][0], np.random.default_rng(1)),
    ]
    for shape in shapes:
        ink = partial(drawn._glyph, shape, 4, np.random.default_rng(2))(100.0, 8.0)
        assert 95 <= max(ink.shape) <= 112 and ink.max() > 0.9


def test_verify_compares_the_new_columns_when_a_card_has_them():
    """Every recomputed metric is checked: a card lacking tight or off on one drawn source does not verify."""
    from training.__main__ import _disagreements

    recomputed = {"drawn": 0.9, "drawn_chalk": 0.8, "drawn_lowres": 0.95, "tight": 0.7}
    assert _disagreements(dict(recomputed), recomputed) == []
    said = _disagreements({**recomputed, "drawn_chalk": 0.85}, recomputed)
    assert said == ["drawn_chalk card 0.85 != recomputed 0.8"]
    assert _disagreements({k: v for k, v in recomputed.items() if k != "tight"}, recomputed) == [
        "tight card None != recomputed 0.7"
    ]
    assert _disagreements({"tight": [0.6, 0.7]}, {"tight": [0.6, 0.75]})  # its interval too
