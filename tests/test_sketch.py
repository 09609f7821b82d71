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
