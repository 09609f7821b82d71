"""A training log drawn as the PNG beside its model card (``training_curve.png``): the per-step training loss as a
line and each epoch's other losses (test loss, a GAN's two losses, ...) as points, against epochs.

Drawn with Pillow alone (no matplotlib import in the training process: the card is written at the end of every
run), so the same log always gives the same pixels."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from zoo.basics import atomic_write_bytes
from zoo.checkpoint_io import CURVE_IMAGE_NAME

SIZE = (720, 400)
PLOT = (70, 40, 700, 340)  # left, top, right, bottom of the plotting area
STEP_COLOUR = (31, 119, 180)
EPOCH_COLOURS = [(255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]
LOG_SPAN = 30  # losses whose largest is over this many times their smallest are drawn on a log axis
NOT_DRAWN = ("epoch", "lr", "seconds", "samples_per_s", "train_loss")  # train_loss is the step line's epoch mean


def epoch_series(log: dict[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """Each per-epoch loss the log records besides the training loss, as (epoch, value) points."""
    series: dict[str, list[tuple[float, float]]] = {}
    for record in log.get("epochs") or []:
        for key, value in record.items():
            if key not in NOT_DRAWN and isinstance(value, int | float) and not isinstance(value, bool):
                series.setdefault(key, []).append((float(record["epoch"]), float(value)))
    return series


def on_log_scale(values: list[float]) -> bool:
    """Losses spanning more than ``LOG_SPAN`` times are drawn on a log scale (the picture and the card's line)."""
    return min(values) > 0 and max(values) / min(values) > LOG_SPAN


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round numbers (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    span = (high - low) or abs(high) or 1.0
    raw = span / count
    step = min((m * 10 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int(math.ceil((high - first) / step)) + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2 and 5 times the powers of ten from below ``low`` to above ``high`` (a log axis; only 1s past 3
    decades)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    marks = (1,) if last - first > 3 else (1, 2, 5)
    ticks = [m * 10.0**k for k in range(first, last + 1) for m in marks]
    below = [t for t in ticks if t <= low][-1:]
    above = [t for t in ticks if t >= high][:1]
    return below + [t for t in ticks if low < t < high] + above


def step_label(log: dict[str, Any]) -> str:
    """What the line's points are: steps, runs of steps, or what the log's ``source`` says they are."""
    every = log["steps"].get("every") or 1
    if log.get("source"):
        return "training loss"
    return "training loss, per step" if every == 1 else f"training loss, mean of {every} steps"


def curve_png(log: dict[str, Any], title: str) -> bytes:
    """The PNG of ``log`` (``zoo.checkpoint_io.read_training_log``'s document) titled ``title``; losses spanning
    more than ``LOG_SPAN`` times are drawn on a log axis."""
    steps = log["steps"]
    line = [(float(e), float(v)) for e, v in zip(steps["epoch"], steps["loss"], strict=True) if v is not None]
    others = epoch_series(log)
    points = line + [p for s in others.values() for p in s]
    xs, ys = [p[0] for p in points] or [0.0, 1.0], [p[1] for p in points] or [0.0, 1.0]
    logscale = on_log_scale(ys)
    xticks = nice_ticks(0.0, max(xs))
    yticks = log_ticks(min(ys), max(ys)) if logscale else nice_ticks(min(ys), max(ys))
    scale = math.log10 if logscale else float
    x0, x1, y0, y1 = xticks[0], xticks[-1], scale(yticks[0]), scale(yticks[-1])
    left, top, right, bottom = PLOT

    def at(x: float, y: float) -> tuple[float, float]:
        fx, fy = (x - x0) / ((x1 - x0) or 1), (scale(y) - y0) / ((y1 - y0) or 1)
        return left + fx * (right - left), bottom - fy * (bottom - top)

    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    for x in xticks:
        px = at(x, yticks[0])[0]
        draw.line([(px, top), (px, bottom)], fill=(230, 230, 230))
        draw.text((px, bottom + 6), f"{x:g}", fill="black", font=font, anchor="mt")
    for y in yticks:
        py = at(x0, y)[1]
        draw.line([(left, py), (right, py)], fill=(230, 230, 230))
        draw.text((left - 6, py), f"{y:.4g}", fill="black", font=font, anchor="rm")
    draw.rectangle(PLOT, outline="black")
    draw.text(
        ((left + right) / 2, bottom + 26),
        "epochs" + (", loss on a log scale" if logscale else ""),
        fill="black",
        font=font,
        anchor="mt",
    )
    draw.text((left, 12), title, fill="black", font=font)
    legend = [(step_label(log), STEP_COLOUR)] if line else []
    if len(line) > 1:
        draw.line([at(*p) for p in line], fill=STEP_COLOUR, width=2)
    elif line:
        cx, cy = at(*line[0])
        draw.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], fill=STEP_COLOUR)
    for (key, series), colour in zip(others.items(), EPOCH_COLOURS, strict=False):
        legend.append((f"{key.replace('_', ' ')}, per epoch", colour))
        if len(series) > 1:
            draw.line([at(*p) for p in series], fill=colour, width=1)
        for p in series:
            cx, cy = at(*p)
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
    for i, (label, colour) in enumerate(legend):
        y = top + 10 + 18 * i
        draw.line([(right - 190, y), (right - 170, y)], fill=colour, width=3)
        draw.text((right - 164, y), label, fill="black", font=font, anchor="lm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def title(name: str) -> str:
    return f"{name}: training curve"


def write_curve_image(folder: Path, log: dict[str, Any]) -> bool:
    """Draw ``log`` into ``folder/training_curve.png`` (atomically); False when the file already held it."""
    png, path = curve_png(log, title(folder.name)), folder / CURVE_IMAGE_NAME
    if path.is_file() and path.read_bytes() == png:
        return False
    atomic_write_bytes(path, png)
    return True
