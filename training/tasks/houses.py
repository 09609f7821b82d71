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

    model, Xtr, ytr, Xte, yte = _houses(e)
    X, y = Xtr.numpy(), ytr.numpy().ravel()
    reg = LinearRegression().fit(X, y)
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor(reg.coef_[None, :], dtype=torch.float32))
        model.linear.bias.fill_(float(reg.intercept_))
    if o.curve is not None:  # a closed form has no steps: its learning curve stands in, fit on growing prefixes
        sizes = [*range(LEARNING_CURVE_FROM, len(y), LEARNING_CURVE_STEP), len(y)]
        losses = [_mse(LinearRegression().fit(X[:n], y[:n]).predict(X[:n]), y[:n]) for n in sizes]
        o.curve.source = (
            f"A least-squares fit has no training steps; the points are its learning curve: the training loss of "
            f"the fit on the first {LEARNING_CURVE_FROM}, {LEARNING_CURVE_FROM + LEARNING_CURVE_STEP}, ... and "
            f"then all {len(y)} training rows, spread evenly over one epoch."
        )
        _one_epoch(o, losses, reg.predict(X), y, reg.predict(Xte.numpy()), yte)
    return model, []


LEARNING_CURVE_FROM, LEARNING_CURVE_STEP = 20, 10  # rows of the linear fit's learning curve (13 features + 1)


def _mse(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((pred.astype(np.float64) - y) ** 2))


def _one_epoch(o: Options, losses: list[float], train_pred: np.ndarray, y: np.ndarray, test_pred, yte) -> None:
    """A fit without optimizer steps recorded as one epoch: its points, then its training and test loss."""
    record = {"epoch": 1, "train_loss": _mse(train_pred, y), "test_loss": _mse(test_pred, yte.numpy().ravel())}
    o.curve.add_epoch(1, losses, record)


@register_trainer("sklearn_forest")
def train_forest(e: Entry, o: Options):
    from sklearn.ensemble import RandomForestRegressor

    _, Xtr, ytr, Xte, yte = _houses(e)
    forest = RandomForestRegressor(n_estimators=e.kwargs["n_trees"], random_state=o.seed, n_jobs=-1)
    X, y = Xtr.numpy(), ytr.numpy().ravel()
    forest.fit(X, y)
    trees = [est.tree_ for est in forest.estimators_]
    if o.curve is not None:  # each point: the training loss of the forest's first k trees
        each = np.stack([est.predict(X) for est in forest.estimators_])
        staged = np.cumsum(each, axis=0) / np.arange(1, len(each) + 1)[:, None]
        o.curve.source = "A forest has no training steps; each point is the training loss of its first k trees."
        _one_epoch(o, [_mse(p, y) for p in staged], forest.predict(X), y, forest.predict(Xte.numpy()), yte)
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
