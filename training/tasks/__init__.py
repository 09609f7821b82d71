"""The tasks, by name: ``get(model.task)`` gives the hooks (evaluation, judge, latency input, card notes) that
the CLI, the evaluator and the card template call instead of asking which task a model has. Each task's module
also registers its trainers (``TRAINERS``, by the name a recipe gives)."""

from __future__ import annotations

import torch

from zoo.models import DigitsModel, PyTorchModel

from ..evaluate import Evaluation, latency_ms
from ..recipes import TRAINERS, Options
from . import digits, houses, latent, text
from .base import TASKS, Task, register

__all__ = [
    "TASKS",
    "TRAINERS",
    "Options",
    "Task",
    "cpu_latency_ms",
    "digits",
    "evaluate_model",
    "get",
    "houses",
    "latent",
    "register",
    "text",
]


def get(name: str) -> Task:
    """The task declared under ``name``."""
    if name not in TASKS:
        raise ValueError(f"no task named {name!r}; declared: {', '.join(TASKS)}")
    return TASKS[name]


def evaluate_model(
    model: PyTorchModel,
    *,
    classifier: DigitsModel | None = None,
    text_file: str | None = None,
    robustness: bool = True,
) -> Evaluation:
    """Every metric of the model, by its task's own evaluation."""
    return get(model.task).evaluate(model, classifier=classifier, text_file=text_file, robustness=robustness)


@torch.inference_mode()
def cpu_latency_ms(model: PyTorchModel, repeats: int = 50) -> float:
    """Median wall time of one use of the model on the CPU, in ms: one single-input forward pass, or what its
    task times instead (``Task.latency_call``)."""
    model = model.cpu().eval()
    return latency_ms(get(model.task).latency_call(model), repeats)
