"""What every trainer shares: the options a run is given, the registry of trainers that zoo entries' recipes
name (``Recipe.trainer``), the book's optimiser and the one way a model is fit. The trainers themselves live
with their task (``training/tasks/``): each builds its model from the entry's declaration (``entry.build``,
adding what it fits to the data), trains it and returns it with its history. Book entries use the book's
hyperparameters (DLFS_code ``07_PyTorch/Code.ipynb``); the variants are here to beat them. ``TRAINERS`` is
filled when ``training.tasks`` is imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn, optim

from zoo.catalog import Entry
from zoo.models import PyTorchModel

from .curves import Curve
from .trainer import PyTorchTrainer


@dataclass
class Options:
    epochs: int
    batch_size: int
    lr: float
    seed: int = 0
    stride: int | None = None  # text: step between training windows
    all_plays: bool = False  # text: train on every play but the validation span (``data.shakespeare_splits``)
    text: str | None = None  # text: a file to train on instead of Shakespeare
    device: str | None = None
    progress: bool = True
    train_limit: int | None = None  # digits: train on the first N images only (smoke runs, `make bench --quick`)
    on_epoch: Callable[[int, PyTorchModel], None] | None = None  # GAN: called with each epoch's model (sweeps)
    curve: Curve | None = None  # records the run's losses (training_log.json) and reports its progress
    cpu_bfloat16: bool = False  # the recipe's ``cpu_bfloat16``: bf16 autocast on a CPU where it measures faster


Trainer = Callable[[Entry, Options], tuple[PyTorchModel, list[dict[str, Any]]]]
TRAINERS: dict[str, Trainer] = {}


def register_trainer(name: str) -> Callable[[Trainer], Trainer]:
    """Register a training function under the name that recipes use (``Recipe(trainer=name, ...)``)."""

    def add(fn: Trainer) -> Trainer:
        if name in TRAINERS:
            raise ValueError(f"a trainer named {name!r} is already registered")
        TRAINERS[name] = fn
        return fn

    return add


def book_sgd(model: nn.Module, lr: float) -> optim.SGD:
    """The book's optimizer: SGD with momentum 0.9, in torch's fused kernel (one call updates every parameter,
    a tenth of a millisecond less per step; its multiply-adds round differently from the per-tensor loop's in
    the last bit, so the SGD recipes were retrained with it)."""
    return optim.SGD(model.parameters(), lr=lr, momentum=0.9, fused=True)


def trainer_for(model: nn.Module, opt: optim.Optimizer, loss, o: Options, **kw) -> PyTorchTrainer:
    return PyTorchTrainer(
        model,
        opt,
        loss,
        device=o.device,
        seed=None,
        progress=o.progress,
        curve=o.curve,
        cpu_bfloat16=o.cpu_bfloat16,
        **kw,
    )
