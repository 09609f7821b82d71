"""The fast path is measured once per machine, cached, and can be forced (zoo.models.fastpaths)."""

import json
import time

import pytest
import torch

from zoo.models import fastpaths


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache folder, no forced path, nothing remembered in this process."""
    monkeypatch.setenv("DLFS_ZOO_CACHE", str(tmp_path))
    monkeypatch.delenv(fastpaths.ENV, raising=False)
    monkeypatch.setattr(fastpaths, "_memo", {})
    return tmp_path / fastpaths.CACHE_NAME


def _no_measuring():
    raise AssertionError("measured again")


def test_calibration_picks_the_fastest_path_and_caches_it(cache, monkeypatch):
    """A real calibration, short, that leaves the training's random stream alone; the next process reads its answer."""
    rng = torch.get_rng_state()
    start = time.perf_counter()
    path = fastpaths.chosen()
    assert time.perf_counter() - start < 10  # well under a second on a quiet CPU; this machine is shared
    assert torch.equal(torch.get_rng_state(), rng)
    entry = json.loads(cache.read_text())["entries"][fastpaths.cache_key()]
    assert set(entry["ms"]) == set(fastpaths.PATHS)
    assert entry["path"] == fastpaths.pick(entry["ms"])
    assert fastpaths.PATHS[entry["path"]] == path
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temporary file left beside it
    monkeypatch.setattr(fastpaths, "_memo", {})  # as a new process
    monkeypatch.setattr(fastpaths, "calibrate", _no_measuring)
    assert fastpaths.chosen() == path


def test_the_cache_is_per_cpu_torch_and_thread_count():
    key = fastpaths.cache_key()
    assert fastpaths.cpu_model() in key and torch.__version__ in key and f"{torch.get_num_threads()} threads" in key


@pytest.mark.parametrize(
    "text",
    [
        '{"entries": {"',  # half written
        "[]",
        '{"entries": []}',
        json.dumps({"entries": {fastpaths.cache_key(): {"path": "warp-speed"}}}),
        json.dumps({"entries": {fastpaths.cache_key(): "nchw-direct"}}),
    ],
)
def test_a_corrupt_cache_is_measured_again_and_rewritten(cache, monkeypatch, text):
    cache.write_text(text)
    ms = dict.fromkeys(fastpaths.PATHS, 5.0) | {"nchw-transposed": 1.0}
    monkeypatch.setattr(fastpaths, "calibrate", lambda: ms)
    assert fastpaths.chosen() == fastpaths.PATHS["nchw-transposed"]
    assert json.loads(cache.read_text())["entries"][fastpaths.cache_key()]["path"] == "nchw-transposed"


def test_an_unwritable_cache_only_means_measuring(cache, monkeypatch):
    """Training goes on with the measured path when the cache folder cannot be made."""
    monkeypatch.setenv("DLFS_ZOO_CACHE", str(cache.parent / "file" / "sub"))
    (cache.parent / "file").write_text("a file, not a folder")
    monkeypatch.setattr(fastpaths, "calibrate", lambda: dict.fromkeys(fastpaths.PATHS, 1.0) | {"nchw-direct": 0.5})
    assert fastpaths.chosen() == fastpaths.PATHS["nchw-direct"]


@pytest.mark.parametrize("name", list(fastpaths.PATHS))
def test_the_environment_forces_a_path_over_the_cache(cache, monkeypatch, name):
    other = next(n for n in fastpaths.PATHS if n != name)
    cache.write_text(json.dumps({"entries": {fastpaths.cache_key(): {"path": other, "ms": {}}}}))
    monkeypatch.setattr(fastpaths, "calibrate", _no_measuring)
    assert fastpaths.chosen() == fastpaths.PATHS[other]
    monkeypatch.setenv(fastpaths.ENV, name)
    assert fastpaths.chosen() == fastpaths.PATHS[name]


def test_an_unknown_forced_path_is_one_sentence_naming_the_allowed(cache, monkeypatch):
    monkeypatch.setenv(fastpaths.ENV, "fastest")
    with pytest.raises(ValueError, match="must be one of channels-last-transposed, .*got 'fastest'"):
        fastpaths.chosen()


@pytest.mark.parametrize("name", list(fastpaths.PATHS))
def test_the_trainer_lays_out_and_convolves_as_the_path_says(name, monkeypatch):
    """The path reaches both places that read it: the trainer's layout and conv2's form."""
    from unittest import mock

    from torch import nn, optim

    from training.trainer import PyTorchTrainer
    from zoo.models import MNISTConvNet, layers

    monkeypatch.setenv(fastpaths.ENV, name)
    path = fastpaths.PATHS[name]
    model = MNISTConvNet(4, 2, 8)
    t = PyTorchTrainer(model, optim.SGD(model.parameters(), lr=0.01), nn.CrossEntropyLoss(), progress=False)
    channels_last = []  # conv1's output (4 channels; its input, one channel, is both layouts at once)
    model.conv1.conv.register_forward_hook(
        lambda m, args, out: channels_last.append(out.is_contiguous(memory_format=torch.channels_last))
    )
    with mock.patch.object(layers.F, "conv_transpose2d", wraps=layers.F.conv_transpose2d) as spy:
        t.fit(torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,)), epochs=1, batch_size=8)
    assert spy.called == path.transposed
    assert channels_last[0] == path.channels_last


def test_the_reference_path_stays_unless_another_is_clearly_faster(monkeypatch):
    """A retrain keeps the path its checkpoint was trained with while the measurement cannot tell the paths apart;
    a path more than MARGIN faster wins."""
    ref = fastpaths.reference()
    other = next(name for name in fastpaths.PATHS if name != ref)
    assert fastpaths.pick({ref: 10.0, other: 9.0}) == ref  # 10 % apart: noise on a shared machine
    assert fastpaths.pick({ref: 10.0, other: 8.0}) == other  # 20 % apart: a real difference
    assert fastpaths.pick({other: 8.0}) == other
