"""What a task is to training and evaluation: one ``Task`` per task name of ``zoo.catalog.TASKS``, declared in
its own module (``houses``, ``digits``, ``text``, ``latent``) and found by name with ``get``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from torch import Tensor

from zoo.models import DigitsModel, PyTorchModel

from ..evaluate import Evaluation


class Task:
    """The hooks the CLI, the evaluator and the card template call for a model of this task."""

    name: str = ""
    needs_judge: bool = False  # scored with a digits model (the judge) reading its random samples
    reads_digits: bool = False  # a digits classifier: a judge candidate, scored on the drawings people flag
    reads_text_file: bool = False  # trains and evaluates on another text with ``--text``
    departures: tuple[str, ...] = ()  # the card's departures from the book, for every model of the task

    def evaluate(
        self,
        model: PyTorchModel,
        *,
        classifier: DigitsModel | None = None,
        text_file: str | None = None,
        robustness: bool = True,
    ) -> Evaluation:
        """Every metric of the model on the task's held-out data."""
        raise NotImplementedError

    def example_input(self, model: PyTorchModel) -> Tensor:
        """One input of the shape the model reads."""
        raise NotImplementedError

    def answers(self, model: PyTorchModel) -> Tensor:
        """The model's outputs on the task's pinned inputs, flattened: what a copy of it would answer too
        (``zoo.submissions.answers``), however its weights were rearranged."""
        raise NotImplementedError

    def latency_call(self, model: PyTorchModel) -> Callable[[], Any]:
        """What one use of the model runs, timed for the card's CPU latency: by default one forward pass."""
        return partial(model, self.example_input(model))


TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Declare a task under its name (one per module of this package)."""
    if task.name in TASKS:
        raise ValueError(f"a task named {task.name!r} is already registered")
    TASKS[task.name] = task
    return task
