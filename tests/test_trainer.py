"""The trainer on tiny generated data."""

import math
import warnings

import pytest
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from training.trainer import PyTorchTrainer, pick_device
from zoo.models import HousePricesModel


def _data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 13, generator=g)
    y = X[:, :3].sum(1, keepdim=True) * 2 + 1
    return X, y


def test_fit_lowers_loss_and_returns_history():
    X, y = _data()
    model = HousePricesModel(16, "tanh")
    trainer = PyTorchTrainer(
        model, optim.SGD(model.parameters(), lr=0.01, momentum=0.9), nn.MSELoss(), seed=0, progress=False
    )
    before = trainer.evaluate_loss(X, y)
    hist = trainer.fit(X, y, X, y, epochs=20, eval_every=5, batch_size=32)
    assert len(hist) == 20 and [h["epoch"] for h in hist] == list(range(1, 21))
    assert [h["epoch"] for h in hist if "test_loss" in h] == [5, 10, 15, 20]
    assert hist[-1]["test_loss"] < before / 5
    assert all(h["samples_per_s"] > 0 for h in hist)


def test_same_seed_same_weights():
    X, y = _data()
    runs = []
    for _ in range(2):
        torch.manual_seed(123)
        model = HousePricesModel(8, "sigmoid", 0.8)
        t = PyTorchTrainer(model, optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(), seed=7, progress=False)
        t.fit(X, y, epochs=3, batch_size=16)
        runs.append(model.dense1.linear.weight.detach().clone())
    assert torch.equal(*runs)


def test_optimizer_must_hold_this_models_parameters():
    model, other = HousePricesModel(), HousePricesModel()
    with pytest.raises(ValueError, match="optimizer and model are not aligned"):
        PyTorchTrainer(model, optim.SGD(other.parameters(), lr=0.1), nn.MSELoss())


def test_lr_decays_to_final_lr_and_scheduler_steps_after_optimizer():
    X, y = _data(64)
    model = HousePricesModel()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when the scheduler steps before the optimizer
        hist = PyTorchTrainer(model, opt, nn.MSELoss(), progress=False).fit(X, y, epochs=5, final_lr=0.001)
    lrs = [h["lr"] for h in hist]
    assert lrs[0] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.001)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))


def test_fit_on_dataloaders():
    X, y = _data(128)
    model = HousePricesModel()
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    t = PyTorchTrainer(model, optim.Adam(model.parameters(), lr=0.01), nn.MSELoss(), progress=False)
    hist = t.fit(loader, None, loader, None, epochs=2, eval_every=1)
    assert "test_loss" in hist[-1] and hist[-1]["train_loss"] > 0


def test_model_is_left_in_train_mode_during_training_and_eval_after_evaluate():
    X, y = _data(32)
    model = HousePricesModel(8, "tanh", 0.5)
    seen = []
    model.register_forward_hook(lambda m, i, o: seen.append(m.training))
    t = PyTorchTrainer(model, optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(), progress=False)
    t.fit(X, y, X, y, epochs=2, eval_every=1, batch_size=32)
    assert seen == [True, False, True, False]


def test_device_picks_cuda_only_when_present(monkeypatch):
    monkeypatch.delenv("DLFS_ZOO_DEVICE", raising=False)
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("DLFS_ZOO_DEVICE", "cpu")
    assert pick_device().type == "cpu"


def test_bad_epochs():
    model = HousePricesModel()
    t = PyTorchTrainer(model, optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(), progress=False)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        t.fit(*_data(8), epochs=0)


def test_conv_model_is_saveable_after_fit_and_evaluate(tmp_path):
    from zoo.models import MNISTConvNet

    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g)
    model = MNISTConvNet(4, 2, 8)
    t = PyTorchTrainer(model, optim.SGD(model.parameters(), lr=0.01), nn.CrossEntropyLoss(), progress=False)
    t.fit(X, y, epochs=1, batch_size=16)
    t.evaluate_loss(X, y)  # trains and evaluates channels-last, but hands the model back contiguous
    assert all(p.is_contiguous() for p in model.parameters())
    model.save_pretrained(tmp_path)


_FAULTS_SCRIPT = """
import resource, sys, torch
from training.trainer import keep_freed_memory

def faults_per_step():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        torch.ones(1 << 20)  # 4 MiB: allocated and freed, like a step's activations
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20

default = faults_per_step()
kept = keep_freed_memory()
print(default, kept, faults_per_step())
"""


def test_keep_freed_memory_stops_page_faults_on_every_step():
    """A fresh process (the heap state of this one is unknown): glibc hands a freed 4 MiB block back to the
    kernel, so the next one faults its pages in again; after keep_freed_memory() the block is reused."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], capture_output=True, text=True, check=True)
    default, kept, after = out.stdout.split()
    assert kept == "True"
    # a 4 MiB block is 1,024 pages; kernels with large folios map several pages a fault (100-150 measured on
    # one 2-core Xeon, 1,024 on others): the block is faulted in anew on every step either way
    assert float(default) > 20
    assert float(after) < float(default) / 20


def test_a_curve_records_every_step_and_does_not_change_the_weights():
    """Recording the steps (training_log.json) reads the losses at each epoch's end only: same weights as without;
    the listener hears steps and epochs as they happen."""
    from training.curves import Curve

    heard = []
    weights = []
    for curve in (None, Curve(heard.append, every_s=0.0)):
        X, y = _data()
        torch.manual_seed(0)
        model = HousePricesModel(16, "tanh")
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        PyTorchTrainer(model, opt, nn.MSELoss(), seed=0, progress=False, curve=curve).fit(X, y, epochs=3, batch_size=32)
        weights.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*weights, strict=True))
    assert len(curve.losses) == 3 * 8 and curve.places[7] == 1.0 and curve.places[-1] == 3.0
    assert curve.losses[-1] < curve.losses[0] and len(curve.epochs) == 3
    steps = [e for e in heard if e["event"] == "step"]
    assert len(steps) == 3 * 8 and steps[-1]["fraction"] == 1.0 and steps[-1]["step"] == 24
    assert [e["epoch"] for e in heard if e["event"] == "epoch"] == [1, 2, 3]


def test_a_long_curve_is_thinned_to_at_most_a_thousand_means():
    """A run of 4,500 steps keeps 900 points, each the mean of 5 steps (a NaN step is left out of its mean)."""
    from training.curves import Curve

    curve = Curve()
    curve.add_epoch(1, [float(i) for i in range(4500)], {"epoch": 1, "train_loss": float("nan")})
    curve.losses[7] = float("nan")
    thin = curve.thinned()
    assert thin["every"] == 5 and len(thin["loss"]) == 900 and thin["step"][:2] == [5, 10]
    assert thin["loss"][0] == 2.0 and thin["loss"][1] == pytest.approx((5 + 6 + 8 + 9) / 4)
    assert curve.log(name="x")["epochs"][0]["train_loss"] is None  # JSON has no NaN


@pytest.mark.parametrize("faster", [True, False])
def test_a_bf16_recipe_trains_in_bf16_on_the_cpu_only_where_it_measured_faster(monkeypatch, faster):
    """``cpu_bfloat16`` (the robust recipe): the forward pass runs in bf16 on a CPU where bf16 measured faster
    (AMX), in float32 on one where it did not; weights and the loss stay float32 either way, and a recipe that
    does not ask trains in float32 everywhere."""
    import training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "bf16_faster_on_this_cpu", lambda: faster)
    X, y = _data()
    for asks in (False, True):
        seen = []
        model = HousePricesModel(16, "tanh")
        hook = model.dense1.linear.register_forward_hook(lambda m, i, out, seen=seen: seen.append(out.dtype))
        t = PyTorchTrainer(
            model, optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(), seed=0, progress=False, cpu_bfloat16=asks
        )
        hist = t.fit(X, y, X, y, epochs=3, batch_size=32)
        hook.remove()
        expected = torch.bfloat16 if asks and faster else torch.float32
        assert t.autocast is (asks and faster) and set(seen) == {expected}
        assert all(p.dtype == torch.float32 for p in model.parameters()) and math.isfinite(hist[-1]["test_loss"])
    from zoo.catalog import entry

    assert entry("mnist-cnn-robust").recipe.cpu_bfloat16 and not entry("mnist-cnn-modern").recipe.cpu_bfloat16


def test_the_bf16_measurement_is_quick_and_kept():
    import time

    from training.trainer import bf16_faster_on_this_cpu

    bf16_faster_on_this_cpu.cache_clear()
    start = time.perf_counter()
    answer = bf16_faster_on_this_cpu()
    assert isinstance(answer, bool) and time.perf_counter() - start < 5
    assert bf16_faster_on_this_cpu() is answer and bf16_faster_on_this_cpu.cache_info().hits == 1


def test_the_card_names_the_precision_each_recipe_trained_in_on_the_cpu(monkeypatch):
    """A card's ``precision`` says bf16 for the GANs (their own loop's unconditional ``extra["autocast"]``), for a
    ``cpu_bfloat16`` recipe where bf16 measured faster, and float32 otherwise."""
    import training.trainer as trainer_module
    from training.__main__ import _in_bf16
    from training.recipes import Options
    from zoo.catalog import entry

    cpu = torch.device("cpu")
    for faster in (True, False):
        monkeypatch.setattr(trainer_module, "bf16_faster_on_this_cpu", lambda faster=faster: faster)
        answers = {}
        for name in ("dcgan-28", "mnist-cnn-modern", "mnist-cnn-robust"):
            recipe = entry(name).recipe
            o = Options(epochs=1, batch_size=1, lr=0.1, cpu_bfloat16=recipe.cpu_bfloat16)
            answers[name] = _in_bf16(recipe, cpu, o)
        assert answers == {"dcgan-28": True, "mnist-cnn-modern": False, "mnist-cnn-robust": faster}
