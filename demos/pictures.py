"""Every picture a visitor sends is measured here before a pixel of it is decoded.

A 20 KB PNG can declare 13000 x 13000 pixels; decoded, it is 676 MB. Gradio's image components decode what
they receive before a handler runs, so the app's components check each file's byte size and its header's
width x height first (``check``), and refuse with a sentence that gives the picture's size and the limit.
Pillow's own guard is set to the same limit for every other path (flags, figures): beyond it Pillow warns,
beyond twice it refuses.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image, UnidentifiedImageError

from demos.i18n import refuse, say

MAX_PIXELS = int(os.environ.get("DLFS_ZOO_MAX_PIXELS", 4096 * 4096))  # width x height of one picture
MAX_PICTURE_MB = float(os.environ.get("DLFS_ZOO_MAX_PICTURE_MB", 20))  # the file itself
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
READABLE = "PNG, JPEG, GIF, WebP or BMP"


def _opened(data: bytes | Path) -> tuple[int, int]:
    """Width and height from the header alone (Pillow opens lazily: no pixel is decoded here)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
                return im.size
    except Image.DecompressionBombError as e:  # Pillow's own refusal, past twice its limit: its count, in words
        found = re.search(r"\((\d+) pixels\)", str(e))
        if found:
            raise refuse("picture_megapixels", size=int(found[1]) / 1e6, allowed=_allowed()) from None
        raise refuse("picture_over", size=2 * MAX_PIXELS / 1e6, allowed=_allowed()) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise refuse("picture_unreadable", readable=READABLE) from None


def _allowed() -> str:
    return say("picture_allowed", pixels=MAX_PIXELS / 1e6, side=int(MAX_PIXELS**0.5), mb=MAX_PICTURE_MB)


def check(data: bytes | Path) -> None:
    """Refuse a picture that is too large in bytes or in pixels, before it is decoded."""
    size = len(data) if isinstance(data, bytes) else data.stat().st_size
    if size > MAX_PICTURE_MB * 2**20:
        raise refuse("picture_bytes", mb=size / 2**20, allowed=_allowed())
    w, h = _opened(data)
    if w * h > MAX_PIXELS:
        raise refuse("picture_pixels", w=w, h=h, size=w * h / 1e6, allowed=_allowed())


def _check_payload(file: Any) -> None:
    """A component's payload: a cached upload (``FileData``, ``ImageData``: a path or a base64 data URL) or raw
    bytes."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        return check(bytes(file))
    url, path = getattr(file, "url", None), getattr(file, "path", None)
    if url and url.startswith("data:"):
        try:
            return check(base64.b64decode(url.split(",", 1)[-1], validate=False))
        except binascii.Error:
            raise refuse("picture_data_url", readable=READABLE) from None
    if path:
        check(Path(path))


def measured(component: gr.Image | gr.ImageEditor) -> gr.Image | gr.ImageEditor:
    """The component, with every file it receives measured before Gradio decodes it: ``gr.Image``'s upload,
    and each layer of a ``gr.ImageEditor`` / ``gr.Sketchpad`` (an API client can send any file as one).
    Wrapped on the instance rather than subclassed: a subclass of a Gradio component writes a ``.pyi`` stub
    beside its module at import."""
    if isinstance(component, gr.ImageEditor):
        convert = component.convert_and_format_image

        def convert_measured(file, flatten_on_white: bool = False):
            if file is not None:
                _check_payload(file)
            return convert(file, flatten_on_white)

        component.convert_and_format_image = convert_measured
    else:
        preprocess = component.preprocess

        def preprocess_measured(payload):
            if payload is not None:
                _check_payload(payload)
            return preprocess(payload)

        component.preprocess = preprocess_measured
    return component
