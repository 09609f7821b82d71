"""The houses task: Boston house prices, scored by mean squared and absolute error on the held-out rows."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from zoo.catalog import Entry
from zoo.models import HousesModel

from .. import data
from ..evaluate import Evaluation
from ..recipes import Options, book_sgd, register_trainer, trainer_for
from .base import Task, register


@cache
def _boston():
    return data.boston_split()


@torch.inference_mode()
def eval_houses(model: HousesModel) -> Evaluation:
    split = _boston()
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

    @torch.inference_mode()
    def answers(self, model: HousesModel) -> Tensor:
        """The predicted prices of the test split's houses."""
        return model.eval()(model.scale(_boston().X_test))[0].flatten()

    def example_input(self, model: HousesModel) -> Tensor:
        return torch.zeros(1, model.config.get("n_features", 13))


TASK = register(Houses())


# ------------------------------------------------------------------------------------- training
def _houses(e: Entry, **fitted: Any):
    """The model with its scaler fit on the training split, and the split scaled by the model's own ``scale``."""
    s = data.boston_split()
    scaler = {"mean": s.mean.tolist(), "std": s.std.tolist()}
    medians = np.median(s.X_train, axis=0).tolist()
    model = e.build(feature_names=s.feature_names, normalize=scaler, feature_medians=medians, **fitted)
    y_train, y_test = (torch.tensor(y, dtype=torch.float32).unsqueeze(1) for y in (s.y_train, s.y_test))
    return model, model.scale(s.X_train), y_train, model.scale(s.X_test), y_test


@register_trainer("houses_mlp")
def train_houses_mlp(e: Entry, o: Options):
    model, Xtr, ytr, Xte, yte = _houses(e)
    Xtr, ytr = Xtr[: o.train_limit], ytr[: o.train_limit]  # the first N rows (the scaler still sees all 354)
    opt = book_sgd(model, o.lr)
    hist = trainer_for(model, opt, nn.MSELoss(), o).fit(
        Xtr, ytr, Xte, yte, epochs=o.epochs, eval_every=10, batch_size=o.batch_size
    )
    return model, hist


@register_trainer("sklearn_linear")
def train_linear(e: Entry, o: Options):
    from sklearn.linear_model import LinearRegression

    model, Xtr, ytr, *_ = _houses(e)
    reg = LinearRegression().fit(Xtr.numpy(), ytr.numpy().ravel())
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor(reg.coef_[None, :], dtype=torch.float32))
        model.linear.bias.fill_(float(reg.intercept_))
    return model, []


@register_trainer("sklearn_forest")
def train_forest(e: Entry, o: Options):
    from sklearn.ensemble import RandomForestRegressor

    _, Xtr, ytr, *_ = _houses(e)
    forest = RandomForestRegressor(n_estimators=e.kwargs["n_trees"], random_state=o.seed, n_jobs=-1)
    forest.fit(Xtr.numpy(), ytr.numpy().ravel())
    trees = [est.tree_ for est in forest.estimators_]
    sizes = {"max_nodes": max(t.node_count for t in trees), "max_depth": max(t.max_depth for t in trees)}
    model = _houses(e, **sizes)[0]
    with torch.no_grad():
        for i, t in enumerate(trees):
            n = t.node_count
            model.feature[i, :n] = torch.from_numpy(t.feature.astype(np.int64))
            model.threshold[i, :n] = torch.from_numpy(t.threshold.astype(np.float32))
            model.left[i, :n] = torch.from_numpy(t.children_left.astype(np.int64))
            model.right[i, :n] = torch.from_numpy(t.children_right.astype(np.int64))
            model.value[i, :n] = torch.from_numpy(t.value[:, 0, 0].astype(np.float32))
    return model, []
