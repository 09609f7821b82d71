"""`python -m training misses`: the gallery of a digits model's misses on the drawn set, and the app's view of it.

The drawn set takes minutes to build, so these tests use its first items (the generator is sequential and
deterministic) with a model that always answers 0: its misses are exactly the items whose label is not 0.
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import training.__main__ as training_cli
from training import drawn, misses, robustness
from training.data import mnist_pixels
from zoo.checkpoint_io import MISSES_NAME, load_folder, save_checkpoint
from zoo.models import MNIST_NORMALIZE, MNISTMLP

from conftest import ROOT

COUNT = 60  # the drawn set's first items stand for the set
UNREAD = 5  # an item the preprocessing "found no digit in": a miss whatever the model says


@pytest.fixture(scope="module")
def small_set() -> robustness.DrawnSet:
    """The drawn set's first COUNT items, with their own sha256 (so the thumbnails made from the generator match)."""
    pixels, labels = mnist_pixels(train=False)
    images = (pixels[:, 0].numpy() * 255).round().astype(np.uint8)
    items = list(itertools.islice(drawn.drawn_items(images, labels.numpy()), COUNT))
    digest = hashlib.sha256()
    for item in items:
        drawn.hash_item(digest, *item)
    read = torch.ones(COUNT, dtype=torch.bool)
    read[UNREAD] = False
    return robustness.DrawnSet(
        pixels=torch.rand(COUNT, 28, 28, generator=torch.Generator().manual_seed(0)),
        labels=torch.tensor([label for _, label, _, _ in items]),
        read=read,
        sources=tuple(source for *_, source, _ in items),
        styles=tuple(style for *_, style in items),
        sha256=digest.hexdigest(),
    )


@pytest.fixture(scope="module")
def always_zero(tmp_path_factory):
    """A real digits checkpoint whose answer is 0 whatever it is shown (confidence e^5 / (e^5 + 9))."""
    model = MNISTMLP(hidden_size=4, normalize=dict(MNIST_NORMALIZE))
    with torch.no_grad():
        model.dense2.linear.weight.zero_()
        model.dense2.linear.bias.copy_(torch.tensor([5.0] + [0.0] * 9))
    return save_checkpoint(model, tmp_path_factory.mktemp("hub"), "always-zero", "# always zero\n")


@pytest.fixture
def small_drawn(small_set, tmp_path_factory, monkeypatch):
    """The commands see the small set, and keep its thumbnails in a folder of the test's own."""
    thumbs = tmp_path_factory.getbasetemp() / "thumbnails.npz"  # one per session: made once, then read
    monkeypatch.setattr(robustness, "drawn_test", lambda: small_set)
    monkeypatch.setattr(misses, "thumbnails_file", lambda seen: thumbs)
    return small_set


def test_the_misses_are_exactly_the_items_the_model_got_wrong_surest_first(small_set, always_zero):
    found, total = misses.find_misses(load_folder(always_zero), small_set)
    wrong = {i for i, label in enumerate(small_set.labels.tolist()) if label != 0} | {UNREAD}
    assert total == COUNT and {m.index for m in found} == wrong and len(found) == len(wrong)
    read = [m for m in found if m.index != UNREAD]
    assert all(m.predicted == 0 and m.confidence == pytest.approx(np.exp(5) / (np.exp(5) + 9)) for m in read)
    assert [m.index for m in read] == sorted(m.index for m in read)  # equal confidence: in the set's order
    assert found[-1].index == UNREAD and found[-1].predicted is None  # found no digit: last


def test_source_filter_keeps_one_source_or_style(small_set, always_zero):
    model = load_folder(always_zero)
    style = small_set.styles[0]
    found, total = misses.find_misses(model, small_set, style)
    assert total == small_set.styles.count(style) < COUNT and found
    assert all(small_set.styles[m.index] == style for m in found)
    found, total = misses.find_misses(model, small_set, small_set.sources[0])
    assert total == small_set.sources.count(small_set.sources[0])
    absent = next(s for s in drawn.SOURCES if s not in small_set.sources)
    assert misses.find_misses(model, small_set, absent) == ([], 0)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "training", "misses", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_an_unknown_source_or_model_is_one_sentence_and_nothing_is_written(always_zero, tmp_path):
    out = tmp_path / "m.png"
    p = _cli(str(always_zero), "--source", "napkin", "--out", str(out))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "napkin" in p.stderr
    assert all(s in p.stderr for s in (*drawn.SOURCES, *drawn.STYLES))
    p = _cli("no-such-model", "--out", str(out))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not list(tmp_path.iterdir())


def test_the_gallery_is_a_png_whose_tiles_show_the_surest_misses(small_drawn, always_zero, tmp_path):
    out = tmp_path / "gallery.png"
    assert training_cli.main(["misses", str(always_zero), "--max", "4", "--out", str(out)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["gallery.png"]  # no temporary file left beside it
    assert out.stat().st_mode & 0o777 == 0o644  # the app (or a wheel) can read it
    sheet = Image.open(out)
    sheet.load()
    header = 2 * misses.PAD + 2 * misses.LINE
    tile_w, tile_h = 3 * misses.PAD + 2 * misses.BOX, 2 * misses.PAD + misses.BOX + 2 * misses.LINE
    assert sheet.format == "PNG" and sheet.height == header + tile_h and sheet.width >= 4 * tile_w  # a row of 4
    first, _ = misses.find_misses(load_folder(always_zero), small_drawn)
    x, y = misses.PAD + misses.BOX + misses.PAD, 2 * misses.PAD + 2 * misses.LINE
    seen = np.asarray(sheet.convert("L").crop((x, y, x + misses.BOX, y + misses.BOX)))
    want = (small_drawn.pixels[first[0].index].numpy() * 255).round().astype(np.uint8)
    assert np.array_equal(seen, np.kron(want, np.ones((3, 3), np.uint8)))  # what the model saw, nearest x3


def test_a_failed_write_leaves_the_old_picture(small_drawn, always_zero, tmp_path, monkeypatch):
    out = tmp_path / "gallery.png"
    out.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(misses.data, "atomic_write_bytes", broken)
    assert training_cli.main(["misses", str(always_zero), "--out", str(out)]) == 2
    assert out.read_bytes() == b"old"


def test_into_checkpoint_writes_the_picture_the_app_shows(small_drawn, always_zero, monkeypatch):
    assert training_cli.main(["misses", str(always_zero), "--into-checkpoint"]) == 0
    assert Image.open(always_zero / MISSES_NAME).format == "PNG"
    assert training_cli.main(["misses", str(always_zero), "--into-checkpoint", "--source", "photo"]) == 2


def test_the_leaderboard_shows_a_digits_model_s_misses_when_its_folder_has_them(tmp_path, monkeypatch):
    from demos.state import Zoo
    from demos.tabs import leaderboard

    pool = Zoo.load("embedded")
    digits = next(r.model for r in pool.board if r.task == "digits")
    houses = next(r.model for r in pool.board if r.task == "houses")
    monkeypatch.setattr(leaderboard, "embedded_dir", lambda: tmp_path)
    assert leaderboard.misses_picture(pool, digits) is None  # no picture drawn yet: nothing shown
    for name in (digits, houses):
        (tmp_path / name).mkdir()
        Image.new("RGB", (30, 20), (255, 0, 0)).save(tmp_path / name / MISSES_NAME)
    shown = leaderboard.misses_picture(pool, digits)
    assert shown.size == (30, 20) and shown.getpixel((0, 0)) == (255, 0, 0)
    assert leaderboard.misses_picture(pool, houses) is None  # only digits models have misses on the drawn set
    assert leaderboard.misses_picture(pool, "no-such-model") is None
