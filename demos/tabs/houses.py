"""The Houses tab: the 13 features of one Boston tract (the training medians to start) and each houses model's
predicted price.

Public endpoint: /predict_price.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import gradio as gr
import torch

from demos import quotas
from demos.i18n import refuse, speaking, t
from demos.state import Zoo
from demos.tabs import TabParts
from demos.widgets import model_picker

TITLE = "Houses"
ID = "houses"
FEATURE_DOCS = {  # the Boston data set's own descriptions
    "CRIM": "per-capita crime rate by town",
    "ZN": "share of residential land zoned for lots over 25,000 sq. ft. (%)",
    "INDUS": "share of non-retail business acres per town (%)",
    "CHAS": "1 if the tract bounds the Charles River, else 0",
    "NOX": "nitric oxides concentration (parts per 10 million)",
    "RM": "average number of rooms per dwelling",
    "AGE": "share of owner-occupied units built before 1940 (%)",
    "DIS": "weighted distance to five Boston employment centres",
    "RAD": "index of accessibility to radial highways",
    "TAX": "full-value property-tax rate per $10,000",
    "PTRATIO": "pupil-teacher ratio by town",
    "B": "1000 (Bk - 0.63)^2; encodes a racist assumption, kept for the book's sake only (see the cards)",
    "LSTAT": "lower-status share of the population (%)",
}
SPREAD = 10  # a feature further than this many training standard deviations from the mean is refused


def feature_ranges(config: dict) -> list[tuple[float, float]]:
    """Allowed values per feature: the training mean +- SPREAD standard deviations (the model's own scaler)."""
    norm = config.get("normalize") or {}
    return [(m - SPREAD * s, m + SPREAD * s) for m, s in zip(norm.get("mean", []), norm.get("std", []), strict=True)]


@torch.inference_mode()
def predict_prices(z: Zoo, names: list[str], values: tuple, model_name: str = "all") -> list[list[Any]]:
    """[model, price] per model asked for; a missing, non-finite or far-off feature becomes a gr.Error."""
    if len(values) != len(names):
        raise refuse("houses_count", count=len(names), names=", ".join(names), got=len(values))
    houses = z.by_task.get("houses", [])
    chosen = houses if model_name == "all" else [z.get(model_name, "houses").config["name"]]
    for name, v, (lo, hi) in zip(names, values, feature_ranges(z.get(houses[0], "houses").config), strict=True):
        if v is None or not math.isfinite(v):
            raise refuse("houses_finite", name=name, value=v)
        if not lo <= v <= hi:
            raise refuse("houses_range", name=name, lo=lo, hi=hi, spread=SPREAD, value=v)
    out = []
    for name in chosen:
        model = z.get(name, "houses")
        out.append([name, round(float(model(model.scale(values))[0]), 2)])
    return out


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """One number per feature, the model (or all), and the predictions, computed once as the page opens."""
    houses = pool.by_task.get("houses", [])
    ref = pool.get(houses[0], "houses").config if houses else {}
    names = ref.get("feature_names", [])
    medians = ref.get("feature_medians") or [0.0] * len(names)
    with gr.Row():
        feats = [
            gr.Number(m, label=n, info=t(f"houses_{n}") if n in FEATURE_DOCS else None, min_width=100)
            for n, m in zip(names, medians, strict=True)
        ]
    with gr.Row():
        house_model = model_picker(["all", *houses], t("houses_model"))
        price_btn = gr.Button(t("houses_predict"), variant="primary")
    prices = gr.Dataframe(headers=["model", "predicted MEDV ($1000s)"], label=t("houses_predictions"))

    def predict_price(*values: Any) -> list[list[Any]]:
        """The 13 features, the model and the request, as the inputs list them (the signature the API shows is set
        below; Gradio adds the request where the signature names it)."""
        *features, model, request = values
        with quotas.endpoint(request), speaking(request):
            return predict_prices(pool, names, tuple(features), model)

    # named API parameters, one per feature (crim=..., lstat=...), defaults the training medians, model last
    ranges = feature_ranges(ref)
    params = [
        inspect.Parameter(n.lower(), inspect.Parameter.POSITIONAL_OR_KEYWORD, default=float(m), annotation=float)
        for n, m in zip(names, medians, strict=True)
    ]
    params.append(inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="all", annotation=str))
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
    predict_price.__signature__ = inspect.Signature([*params, request], return_annotation=list)
    predict_price.__annotations__ = {"request": gr.Request | None}  # how Gradio finds where to put the request
    lines = [
        f"    {n.lower()}: {FEATURE_DOCS.get(n, n)} ({lo:.4g} to {hi:.4g})."
        for n, (lo, hi) in zip(names, ranges, strict=True)
    ]
    predict_price.__doc__ = "\n".join(
        ["The price (median value, $1000s) each houses model predicts for one Boston tract's 13 features.", "", "Args:"]
        + lines
        + ["    model: one houses model of the zoo, or all (the default) for every one."]
    )
    inputs = [*feats, house_model]
    price_btn.click(predict_price, inputs, prices, api_name="predict_price")
    demo.load(predict_price, inputs, prices, api_visibility="private")
    return TabParts(picker=house_model, also_offered=("all",))
