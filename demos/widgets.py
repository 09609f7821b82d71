"""The pieces several tabs use: inline images, the sketchpad, the picture upload, the model picker, the reading
of a drawing as an MNIST digit, and a training run's curves (a checkpoint's training_log.json, or a live run's)."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image

from demos.i18n import refuse
from demos.pictures import measured
from zoo.sketch import SketchError, to_mnist

# Gradio's sketchpad starts with no tool selected ("select the draw tool to start"); a person expects to
# draw at once, so the brush is picked for them whenever a sketchpad appears (tabs render lazily).
ARM_BRUSH_JS = """
() => {
  const arm = () => document.querySelectorAll('.dlfs-pad button[aria-label="Brush"]').forEach((b) => {
    if (!b.dataset.armed) { b.dataset.armed = "1"; b.click(); }
  });
  new MutationObserver(arm).observe(document.body, { childList: true, subtree: true });
  arm();
}
"""


def img_html(pixels: np.ndarray, size: int, alt: str) -> str:
    """A 28x28 image in [0, 1] as an inline PNG, scaled crisply by the browser.

    Inline, not a gr.Image: Gradio caches output images by content hash, and concurrent requests with the
    same output (every visitor's initial zero code, a load test) raced on one half-written cache file.
    """
    buf = io.BytesIO()
    Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8), "L").save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    style = "image-rendering: pixelated; background: #000"
    return f'<img alt="{alt}" src="data:image/png;base64,{data}" width="{size}" height="{size}" style="{style}">'


def sketchpad(label: str, side: int, brush: int, elem_id: str) -> gr.Sketchpad:
    """A square canvas with a fixed black brush (ARM_BRUSH_JS selects it when the pad appears); what it receives
    is measured before it is decoded (``demos.pictures``)."""
    pad = gr.Sketchpad(
        label=label,
        canvas_size=(side, side),
        type="numpy",
        brush=gr.Brush(default_size=brush, colors=["#000000"], color_mode="fixed"),
        elem_id=elem_id,
        elem_classes="dlfs-pad",
    )
    return measured(pad)


def picture_input(label: str, height: int) -> gr.Image:
    """An image upload (file or clipboard) read as RGBA pixels: what the public endpoints that read images take
    (programs and MCP clients send a file, a URL or base64), measured before it is decoded (``demos.pictures``)."""
    picture = gr.Image(label=label, type="numpy", image_mode="RGBA", sources=["upload", "clipboard"], height=height)
    return measured(picture)


def model_picker(names: list[str], label: str, **kwargs: Any) -> gr.Dropdown:
    """The zoo's models of a task, best first. Names outside the list reach the handler, which checks them
    against the current ranking: a model submitted after the app started can be used by name."""
    return gr.Dropdown(names, value=names[0] if names else None, label=label, allow_custom_value=True, **kwargs)


def read_digit(image: Any) -> np.ndarray | None:
    """The drawing as a 28x28 MNIST digit (None when blank); unreadable images become a gr.Error."""
    try:
        return to_mnist(image)
    except SketchError as e:  # said in the reader's language when zoo.sketch named the sentence
        raise (refuse(f"sketch_{e.code}", **e.values) if e.code else gr.Error(str(e))) from None


CURVE_COLUMNS = ["epoch", "loss", "run"]  # a loss curve's points: the place in epochs, the step's loss, whose run
EPOCH_COLUMNS = ["epoch", "value", "series"]  # an epoch record's numbers, one series per key
NOT_PLOTTED = ("epoch", "lr", "seconds", "samples_per_s")  # an epoch record's keys that are no loss or metric


def loss_curve(log: dict[str, Any] | None, run: str) -> pd.DataFrame:
    """A training log's per-step loss (``zoo.checkpoint_io.read_training_log``'s ``steps``) as the curve plots
    take it, every point labelled ``run``; steps without a finite loss left out; no log, no points."""
    steps = (log or {}).get("steps") or {"epoch": [], "loss": []}
    rows = [(e, v, run) for e, v in zip(steps["epoch"], steps["loss"], strict=True) if v is not None]
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def epoch_curve(log: dict[str, Any] | None) -> pd.DataFrame:
    """A training log's per-epoch records as one series per loss or metric (train_loss, test_loss, accuracy...)."""
    rows = [
        (record["epoch"], value, key)
        for record in (log or {}).get("epochs") or []
        if isinstance(record, dict) and isinstance(record.get("epoch"), int | float)
        for key, value in record.items()
        if key not in NOT_PLOTTED and isinstance(value, int | float) and not isinstance(value, bool)
    ]
    return pd.DataFrame(rows, columns=EPOCH_COLUMNS)


def runs_curve(runs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Several runs' curves (``loss_curve``'s points) in one frame, labelled by the keys of ``runs``; a run without
    points yet gets one empty point. The plot builds its colour scale once, from the first points it is given, so
    the same labels, all of them there from the first update on, keep every run drawn (a run that appeared later
    under a new label would stay undrawn)."""
    parts = [
        curve.assign(run=label) if len(curve) else pd.DataFrame([(0.0, math.nan, label)], columns=CURVE_COLUMNS)
        for label, curve in runs.items()
    ]
    return pd.concat(parts, ignore_index=True)


def curve_plot(label: str, **kwargs: Any) -> gr.LinePlot:
    """The loss curve's plot (the Train tab's live run, a model's recorded one): loss against epochs, by run."""
    return gr.LinePlot(x="epoch", y="loss", color="run", label=label, **kwargs)
