"""The pieces several tabs use: inline images, the sketchpad, the picture upload, the model picker, and the reading
of a drawing as an MNIST digit."""

from __future__ import annotations

import base64
import io
from typing import Any

import gradio as gr
import numpy as np
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
