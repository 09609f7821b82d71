"""The houses task: Boston house prices, scored by mean squared and absolute error on the held-out rows."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import Tensor

from zoo.models import HousesModel

from .. import data
from ..evaluate import Evaluation
from .base import Task, register


@cache
def _houses():
    return data.boston_split()


@torch.inference_mode()
def eval_houses(model: HousesModel) -> Evaluation:
    split = _houses()
    pred = model.eval()(model.scale(split.X_test))[0].squeeze(1).double().numpy()
    err = pred - split.y_test
    items = {"mse": torch.from_numpy(err**2), "mae": torch.from_numpy(np.abs(err))}
    return Evaluation({"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err)))}, items)


class Houses(Task):
    name = "houses"
    departures = (
        "The StandardScaler is fit on the 354 training rows only; the notebook fit it on all 506 rows, "
        "leaking the test set into the features.",
        "Feature B encodes the proportion of Black residents through a parabola that assumes racial "
        "self-segregation raises prices; the dataset is kept for the book's sake and should not be used "
        "for real decisions (scikit-learn removed it for this reason).",
    )

    def evaluate(self, model: HousesModel, **_) -> Evaluation:
        return eval_houses(model)

    def example_input(self, model: HousesModel) -> Tensor:
        return torch.zeros(1, model.config.get("n_features", 13))


TASK = register(Houses())
