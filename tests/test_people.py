"""Training digits as people send them (training.people): drawn from fixed seeds, read through the app's
own preprocessing, cached whole, and sharing nothing with the drawn benchmark."""

import inspect

import numpy as np
import torch

from training import people


def _shapes(n: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    from demos.state import ASSETS

    with np.load(ASSETS / "mnist_sample.npz") as f:
        images, labels = f["images"][:n], f["labels"][:n]
    return torch.from_numpy(images[:, None].astype(np.float32) / 255), torch.from_numpy(labels.astype(np.int64))


def test_pictures_are_drawn_from_their_seed_alone():
    """The same digit and seed give the same picture, byte for byte; another seed gives another picture."""
    digit = (_shapes()[0][3, 0].numpy() * 255).astype(np.uint8)
    a = people.picture(digit, np.random.default_rng([0, 7, 5])).tobytes()
    b = people.picture(digit, np.random.default_rng([0, 7, 5])).tobytes()
    c = people.picture(digit, np.random.default_rng([0, 7, 6])).tobytes()
    assert a == b and a != c


def test_the_pictures_vary_as_people_send_them():
    """Across seeds the pictures come tight and loose, small and large, light and dark: the shifts the model is
    meant to learn are all drawn."""
    digit = (_shapes()[0][3, 0].numpy() * 255).astype(np.uint8)
    sizes, dark_grounds = set(), 0
    for i in range(60):
        pic = np.asarray(people.picture(digit, np.random.default_rng([0, 7, i])).convert("L"), dtype=np.float32)
        sizes.add(max(pic.shape) // 100)
        dark_grounds += float(np.median(pic)) < 100
    assert len(sizes) >= 3 and 1 <= dark_grounds <= 20


def test_people_digits_are_read_by_the_app_and_cached(tmp_path, monkeypatch):
    """``people_digits`` returns what ``zoo.sketch.to_mnist`` makes of each picture, with its label; a second
    call reads the cache file instead of drawing again (the same tensors)."""
    monkeypatch.setenv("DLFS_ZOO_DATA", str(tmp_path))
    shapes, labels = _shapes()
    pixels, got = people.people_digits(shapes, labels, 6, seed=3)
    assert 5 <= len(pixels) <= 6 and pixels.shape[1:] == (1, 28, 28) and got.shape == (len(pixels),)
    assert set(got.tolist()) <= set(labels.tolist())
    assert (pixels.amax((1, 2, 3)) > 0.5).all()  # every one kept was read as a digit
    (cache,) = (tmp_path / "people").glob("people-*.npz")
    again, got_again = people.people_digits(shapes, labels, 6, seed=3)
    assert torch.equal(again, pixels) and torch.equal(got_again, got)
    assert not list((tmp_path / "people").glob("*.tmp*"))  # written whole
    assert cache.exists()


def test_nothing_is_shared_with_the_benchmark():
    """The training pictures use none of the benchmark's generators, fonts or seeds."""
    source = inspect.getsource(people)
    for name in ("drawn", "scenes", "corruptions", "SEED", "FONTS"):
        assert f"import {name}" not in source and f"{name}." not in source
