"""The digits benchmark's generators: deterministic, what they claim to be, and apart from training."""

import itertools

import numpy as np
import pytest
import torch

from training import corruptions, drawn
from training.augment import augment
from training.data import mnist_pixels


@pytest.fixture(scope="module")
def digits():
    pixels, labels = mnist_pixels(train=False)
    return pixels[:200, 0], labels[:200]


@pytest.mark.parametrize("name", list(corruptions.CORRUPTIONS))
def test_each_corruption_is_deterministic_and_changes_the_images(digits, name):
    x, _ = digits
    a, b = corruptions.corrupt(name, x), corruptions.corrupt(name, x)
    assert torch.equal(a, b) and a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert (a - x).abs().mean() > 0.005, name


def test_corruptions_follow_their_definitions(digits):
    x, _ = digits
    assert torch.allclose(corruptions.corrupt("brightness", x)[x == 0], torch.tensor(0.5))
    stripe = corruptions.corrupt("stripe", x)
    assert torch.equal(stripe[:, :, :7], 1 - x[:, :, :7]) and torch.equal(stripe[:, :, 7:21], x[:, :, 7:21])
    moved = corruptions.corrupt("translate", x)
    shifts = {
        (dy, dx)
        for img, out in zip(x[:20], moved[:20], strict=True)
        for dy in (-3, 3)
        for dx in (-3, 3)
        if torch.allclose(torch.roll(img, (dy, dx), (0, 1))[4:24, 4:24], out[4:24, 4:24], atol=1e-5)
    }
    assert shifts and shifts <= {(-3, -3), (-3, 3), (3, -3), (3, 3)}
    edges = corruptions.corrupt("canny_edges", x)
    assert set(edges.unique().tolist()) <= {0.0, 1.0}


def test_drawn_items_are_the_same_on_every_run(digits):
    pixels, labels = mnist_pixels(train=False)
    images = (pixels[:, 0].numpy() * 255).round().astype(np.uint8)
    first = list(itertools.islice(drawn.drawn_items(images, labels.numpy()), 6))
    again = list(itertools.islice(drawn.drawn_items(images, labels.numpy()), 6))
    for (a, la, sa, ta), (b, lb, sb, tb) in zip(first, again, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b)) and (la, sa, ta) == (lb, sb, tb)
    assert {t for *_, t in first} <= set(drawn.STYLES)


def test_drawn_set_has_every_source_and_style_and_is_large_enough():
    from training.robustness import drawn_test

    d = drawn_test()
    assert (
        len(d.labels) == drawn.SIZE >= 2000
        and set(d.sources) == set(drawn.SOURCES)
        and set(d.styles) == set(drawn.STYLES)
    )
    assert sorted(torch.unique(d.labels).tolist()) == list(range(10))
    assert d.read.float().mean() > 0.97  # the preprocessing finds a digit in nearly every image


def test_training_augmentation_is_seeded_and_not_the_benchmark(digits):
    x, _ = digits
    batch = x[:64, None]
    a = augment(batch, torch.Generator().manual_seed(0))
    b = augment(batch, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and not torch.equal(a, batch)
    import training.augment as training_augment

    assert not {"drawn", "corruptions", "robustness"} & set(vars(training_augment))  # shares no code with the test sets


def test_continental_digits_are_seeded_flagged_ones_and_crossed_sevens():
    from training.augment import continental_digits

    pixels, labels = mnist_pixels(train=True)
    pixels, labels = pixels[:3000], labels[:3000]
    a, la = continental_digits(pixels, labels, 40, seed=0)
    b, lb = continental_digits(pixels, labels, 40, seed=0)
    assert torch.equal(a, b) and torch.equal(la, lb) and a.shape == (80, 1, 28, 28)
    assert la.tolist() == [1] * 40 + [7] * 40 and 0 <= a.min() and a.max() <= 1

    def flagged(images: torch.Tensor) -> int:  # ink in the top third, left of where the stem starts
        count = 0
        for img in images > 0.5:
            rows = img.any(1).nonzero().flatten()
            top, third = int(rows[0]), max(2, int(rows[-1] - rows[0]) // 3)
            start = int(img[top].nonzero().flatten().float().mean())
            count += int(img[top : top + third, : start - 1].sum() > 2)
        return count

    from training.augment import _upright

    plain = pixels[labels == 1]
    plain = plain[_upright(plain[:, 0])][:40, 0]
    assert flagged(a[:40, 0]) >= 30 and flagged(plain) <= 12


def test_outline_scribble_and_inverted_band_are_what_they_say():
    """The augmentations that stand for hollow (outline) digits, scribbles across the digit and a band of the
    other polarity along an edge: seeded, and each changes the image the way it says."""
    from training.augment import _zigzag, inverted_band, outline

    bar = torch.zeros(4, 1, 28, 28)
    bar[:, :, 6:22, 10:17] = 1.0  # a thick stroke
    ring = outline(bar, torch.Generator().manual_seed(0), p=1.0)
    assert torch.equal(ring, outline(bar, torch.Generator().manual_seed(0), p=1.0))
    assert (ring[:, :, 12:16, 12:15] == 0).all()  # hollow inside
    assert (ring[:, :, 6:22, 9] > 0).all() and (ring[:, :, 6:22, 17] > 0).all()  # the rim on both sides
    assert torch.equal(outline(bar, torch.Generator().manual_seed(0), p=0.0), bar)

    wiggle = _zigzag(64, torch.Generator().manual_seed(1))
    assert torch.equal(wiggle, _zigzag(64, torch.Generator().manual_seed(1)))
    assert wiggle.shape == (64, 28, 28) and 0 <= wiggle.min() and wiggle.max() <= 1
    assert ((wiggle > 0.5).sum((1, 2)) >= 20).float().mean() > 0.9  # a line that runs across the image
    rows_hit = (wiggle > 0.5).any(2).sum(1).float()  # a line turning back and forth covers several rows
    assert rows_hit.median() >= 3

    blank = torch.zeros(16, 1, 28, 28)
    banded = inverted_band(blank, torch.Generator().manual_seed(2), p=1.0)
    lit = banded[:, 0] > 0.5
    at_edge = lit[:, :, 0].all(1) | lit[:, :, -1].all(1) | lit[:, 0, :].all(1) | lit[:, -1, :].all(1)
    assert at_edge.all() and not lit[:, 10:18, 10:18].any()  # along an edge, never across the middle
