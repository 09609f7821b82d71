"""The dlfs-zoo Gradio app: one ``gr.Blocks`` over models loaded once through ``zoo``.

Public API names (for ``gradio_client``): /classify_digit, /generate_text, /decode_latent, /encode_digit,
/leaderboard, /predict_price.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import math
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import torch

import zoo
from zoo.sketch import SketchError, to_mnist

ASSETS = Path(__file__).resolve().parent / "assets"
LATENT_DIM = 28
MAX_LENGTH = 2000
MAX_PROMPT = 10_000
LIMIT = 4  # concurrent runs per event
KEEP_SUBMITTED = 4  # submitted models kept loaded (least recently used first out)

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


@dataclass
class Zoo:
    """Every model, grouped by task in leaderboard order: the zoo's own loaded once and shared by all sessions,
    submitted ones (``python -m zoo submit``, the Submit tab) loaded on first use, the last few kept."""

    source: str = "embedded"
    models: dict[str, zoo.PyTorchModel] = field(default_factory=dict)
    by_task: dict[str, list[str]] = field(default_factory=dict)
    board: list[dict[str, Any]] = field(default_factory=list)
    samples: tuple[np.ndarray, np.ndarray] | None = None
    sample_codes: dict[tuple[str, int], list[float]] = field(default_factory=dict)  # searched codes are slow
    submitted: OrderedDict[str, zoo.PyTorchModel] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, source: str = "embedded") -> Zoo:
        z = cls(source=source)
        z.refresh()
        for row in z.board:
            if row["origin"] == "zoo":
                z.models[row["model"]] = zoo.load(row["model"], source=source)
        sample = ASSETS / "mnist_sample.npz"
        if sample.is_file():
            with np.load(sample) as f:
                z.samples = (f["images"], f["labels"])
        return z

    def mnist_sample(self) -> tuple[np.ndarray, np.ndarray]:
        if self.samples is None:
            raise gr.Error("no MNIST sample is shipped with this app")
        return self.samples

    def refresh(self) -> None:
        """Re-read the ranking (a submission finished)."""
        board = zoo.leaderboard(source=self.source)
        by_task: dict[str, list[str]] = {}
        for row in board:
            by_task.setdefault(row["task"], []).append(row["model"])
        self.board, self.by_task = board, by_task

    def current(self) -> Zoo:
        """The ranking as the results store has it now: re-read when a submission finished since (in any
        process), so that a row shows the moment its evaluation says finished."""
        from zoo.submissions import Store

        finished = {r["model"] for r in Store().requests() if r["status"] == "finished"}
        if finished != {r["model"] for r in self.board if r["origin"] == "submitted"}:
            self.refresh()
        return self

    def row(self, name: str | None) -> dict[str, Any] | None:
        return next((r for r in self.board if r["model"] == name), None)

    def get(self, name: str, task: str) -> zoo.PyTorchModel:
        names = self.by_task.get(task, []) if name in self.models else self.current().by_task.get(task, [])
        if name not in names:
            raise gr.Error(f"unknown {task} model {name!r}; choose one of: {', '.join(names)}")
        if name in self.models:
            return self.models[name]
        with self.lock:
            if name not in self.submitted:
                self.submitted[name] = zoo.load(name)
                while len(self.submitted) > KEEP_SUBMITTED:
                    self.submitted.popitem(last=False)
            self.submitted.move_to_end(name)
            return self.submitted[name]


# ------------------------------------------------------------------------------------------ images
def img_html(pixels: np.ndarray, size: int, alt: str) -> str:
    """A 28x28 image in [0, 1] as an inline PNG, scaled crisply by the browser.

    Inline, not a gr.Image: Gradio caches output images by content hash, and concurrent requests with the
    same output (every visitor's initial zero code, a load test) raced on one half-written cache file.
    """
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8), "L").save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    style = "image-rendering: pixelated; background: #000"
    return f'<img alt="{alt}" src="data:image/png;base64,{data}" width="{size}" height="{size}" style="{style}">'


# ------------------------------------------------------------------------------------------ digits
def sketchpad(label: str, side: int, brush: int, elem_id: str) -> gr.Sketchpad:
    """A square canvas with a fixed black brush (ARM_BRUSH_JS selects it when the pad appears)."""
    return gr.Sketchpad(
        label=label,
        canvas_size=(side, side),
        type="numpy",
        brush=gr.Brush(default_size=brush, colors=["#000000"], color_mode="fixed"),
        elem_id=elem_id,
        elem_classes="dlfs-pad",
    )


def picture_input(label: str, height: int) -> gr.Image:
    """An image upload (file or clipboard) read as RGBA pixels: what the public endpoints that read images take
    (programs and MCP clients send a file, a URL or base64)."""
    return gr.Image(label=label, type="numpy", image_mode="RGBA", sources=["upload", "clipboard"], height=height)


def model_picker(names: list[str], label: str, **kwargs: Any) -> gr.Dropdown:
    """The zoo's models of a task, best first. Names outside the list reach the handler, which checks them
    against the current ranking: a model submitted after the app started can be used by name."""
    return gr.Dropdown(names, value=names[0] if names else None, label=label, allow_custom_value=True, **kwargs)


def read_digit(image: Any) -> np.ndarray | None:
    """The drawing as a 28x28 MNIST digit (None when blank); unreadable images become a gr.Error."""
    try:
        return to_mnist(image)
    except SketchError as e:
        raise gr.Error(str(e)) from None


@torch.inference_mode()
def classify(z: Zoo, image: Any, model_name: str) -> tuple[dict[str, float] | None, str | None, str]:
    model = z.get(model_name, "digits")
    digit = read_digit(image)
    if digit is None:
        return None, None, "Draw a digit (0-9) on the canvas; it is read as you draw."
    probs = torch.softmax(model(model.preprocess(digit))[0][0].float(), -1)
    top = torch.topk(probs, 3)
    label = {str(int(i)): float(p) for p, i in zip(top.values, top.indices, strict=True)}
    seen = img_html(digit, 168, "the 28x28 digit the model read")
    return label, seen, f"Read as **{int(top.indices[0])}** by `{model_name}`."


def flag(z: Zoo, image: Any, right_digit: str | None, model_name: str) -> str:
    """Keep a drawing the person says was read wrong, with the digit they give (training.flags)."""
    from training.flags import FlagStore

    if right_digit is None or str(right_digit) not in [str(d) for d in range(10)]:
        raise gr.Error("choose the right digit (0-9) before saving the drawing")
    digit = read_digit(image)
    if digit is None:
        raise gr.Error("draw a digit first: there is nothing to save")
    model = z.get(model_name, "digits")
    with torch.inference_mode():
        predicted = int(model(model.preprocess(digit))[0].argmax())
    original = image.get("composite") if isinstance(image, dict) else image
    FlagStore().add(np.asarray(original), digit, int(right_digit), predicted, model_name)
    return f"Saved, thank you: a {right_digit} that `{model_name}` read as {predicted}."


def default_digits_note(z: Zoo) -> str:
    """Why the first model is the default: the leaderboard ranks digits by the drawn column."""
    top = next((r for r in z.board if r["task"] == "digits"), None)
    if top is None or "drawn" not in top["metrics"]:
        return ""
    share = 100 * top["metrics"]["drawn"]
    return (
        f"The default, `{top['model']}`, reads drawn and photographed digits best: {share:.1f} % of the "
        "benchmark's sketches and phone photos (the Leaderboard tab has every model's score)."
    )


def digits_tab(z: Zoo) -> gr.Dropdown:
    digits = z.by_task.get("digits", [])
    with gr.Row():
        with gr.Column():
            pad = sketchpad("Draw a digit", 400, 18, "digit-pad")
            upload = picture_input("…or upload a picture of a digit", 160)
            digit_model = model_picker(digits, "Model (ranked best first)", elem_id="digits-model")
            gr.Markdown(default_digits_note(z), elem_id="digit-default")
        with gr.Column():
            with gr.Row():
                label = gr.Label(num_top_classes=3, label="Prediction", elem_id="digit-label")
                label_b = gr.Label(num_top_classes=3, label="Second model", elem_id="digit-label-b", visible=False)
            gr.Markdown("**What the model saw** (28x28, as MNIST was made)")
            seen = gr.HTML(elem_id="digit-seen")
            hint = gr.Markdown("Draw a digit (0-9) on the canvas; it is read as you draw.")
            compare = model_picker(["none", *digits], "Compare with", elem_id="digit-compare")
            with gr.Accordion("The model got it wrong?", open=False, elem_id="digit-flag"):
                gr.Markdown(
                    "Only if you choose to: your drawing, the 28x28 the model saw and the digit you give are saved "
                    "to the project's dataset of people's drawings, to measure the models on them. Nothing "
                    "about you is stored (no IP address, no browser data)."
                )
                right = gr.Dropdown([str(d) for d in range(10)], value=None, label="The right digit")
                flag_btn = gr.Button("Save my drawing with this digit", elem_id="digit-flag-save")
                flag_note = gr.Markdown(elem_id="digit-flag-note")

    def classify_digit(image: Any, model: str = digits[0] if digits else ""):
        """Read a drawing or photo of one digit: the top 3 classes, the 28x28 image the model saw, a note.

        Args:
            image: a drawing or photo of one digit (any size; dark ink on light paper or light on dark).
            model: a digits model of the zoo; the default reads drawn and photographed digits best.
        """
        return classify(z, image, model)

    def read_sketch(image: Any, model: str):
        if image is None:  # an empty pad (the page just opened, or a model picked first): a hint, not an error
            return None, None, "Draw a digit (0-9) on the canvas; it is read as you draw."
        return classify(z, image, model)

    gr.on(
        [pad.change, digit_model.change],
        read_sketch,
        [pad, digit_model],
        [label, seen, hint],
        api_visibility="private",
        trigger_mode="always_last",
        show_progress="hidden",
        concurrency_limit=LIMIT,
    )
    # the public endpoint takes a plain image (a file or URL: what programs and MCP clients send)
    upload.upload(classify_digit, [upload, digit_model], [label, seen, hint], api_name="classify_digit")

    def compare_digit(image: Any, other: str):
        if other == "none" or image is None:
            return gr.Label(value=None, visible=False)
        top, _, _ = classify(z, image, other)
        return gr.Label(value=top, visible=True, label=f"Compared: {other}")

    gr.on(
        [pad.change, compare.change],
        compare_digit,
        [pad, compare],
        label_b,
        api_visibility="private",
        trigger_mode="always_last",
        show_progress="hidden",
    )

    def flag_digit(image: Any, right_digit: str | None = None, model: str = digits[0] if digits else "") -> str:
        """Keep a drawing a model read wrong, with the right digit, in the project's dataset of people's drawings.

        Args:
            image: the drawing (as sent to classify_digit).
            right_digit: the digit it really is, "0" to "9".
            model: the digits model that read it wrong.
        """
        return flag(z, image, right_digit, model)

    def flag_drawing(drawing: Any, picture: Any, right_digit: str | None, model: str) -> str:
        return flag(z, drawing if drawing is not None else picture, right_digit, model)

    flag_btn.click(flag_drawing, [pad, upload, right, digit_model], flag_note, api_visibility="private")
    # programs and MCP clients send a plain image: the public endpoint lives on a trigger people do not see
    flag_api = gr.Button(visible=False)
    flag_api.click(flag_digit, [upload, right, digit_model], flag_note, api_name="flag_digit")
    return digit_model


# -------------------------------------------------------------------------------------------- text
MAX_SEED = 2**32 - 1


def generate(z: Zoo, model_name: str, prompt: str, length: float, temperature: float, top_k: float, seed: float):
    model = z.get(model_name, "text")
    prompt = prompt or ""
    if len(prompt) > MAX_PROMPT:
        raise gr.Error(f"the prompt has {len(prompt):,} characters; at most {MAX_PROMPT:,} are allowed")
    for name, value, lo, hi in (("length", length, 1, MAX_LENGTH), ("temperature", temperature, 0, 2)):
        if value is None or not math.isfinite(value) or not lo <= value <= hi:
            raise gr.Error(f"{name} must be between {lo} and {hi}, got {value}")
    if top_k is None or not math.isfinite(top_k) or not 0 <= top_k <= 100:
        raise gr.Error(f"top_k must be 0 (off) or a whole number up to 100, got {top_k}")
    if seed is None or not math.isfinite(seed) or not 0 <= seed <= MAX_SEED:
        raise gr.Error(f"seed must be a whole number from 0 to {MAX_SEED:,}, got {seed}")
    _, skipped = model.encode(prompt)
    note = f"Skipped characters outside the vocabulary: {skipped!r}" if skipped else ""
    out = "".join(c for c in prompt if c in model.vocab)
    stream = model.generate(prompt[-1000:], int(length), float(temperature), int(top_k) or None, int(seed))
    for i, ch in enumerate(stream, 1):
        out += ch
        if i % 25 == 0:
            yield out, note
    yield out, note


def text_tab(z: Zoo) -> gr.Dropdown:
    texts = z.by_task.get("text", [])
    with gr.Row():
        with gr.Column():
            text_model = model_picker(texts, "Model (ranked best first)")
            prompt = gr.Textbox("ROMEO:\n", label="Prompt (the text to continue)", lines=3, elem_id="text-prompt")
            length = gr.Slider(
                1, MAX_LENGTH, 300, step=1, label="Length (1 to 2,000 characters)", elem_id="text-length"
            )
            temperature = gr.Slider(0, 2, 0.8, step=0.05, label="Temperature (0 = greedy, up to 2)")
            top_k = gr.Slider(0, 100, 0, step=1, label="Top-k (0 = off, up to 100)")
            seed = gr.Number(0, precision=0, minimum=0, maximum=MAX_SEED, label="Seed (0 to 4,294,967,295)")
            go = gr.Button("Generate", variant="primary", elem_id="text-go")
        with gr.Column():
            generated = gr.Textbox(label="Generated text", lines=18, elem_id="text-out")
            text_note = gr.Markdown()

    def generate_text(
        prompt: str = "ROMEO:\n",
        length: float = 300,
        temperature: float = 0.8,
        top_k: float = 0,
        seed: float = 0,
        model: str = texts[0] if texts else "",
    ):
        """Continue a prompt character by character, streamed: the text so far and a note on skipped characters.

        Args:
            prompt: the text to continue (characters outside the model's vocabulary are skipped and named).
            length: how many characters to generate, 1 to 2,000.
            temperature: 0 picks the likeliest character every time; higher is more adventurous (up to 2).
            top_k: sample only among the k likeliest characters (0 = all), up to 100.
            seed: the random seed, 0 to 4,294,967,295: the same seed gives the same text.
            model: a text model of the zoo (ranked best first).
        """
        yield from generate(z, model, prompt, length, temperature, top_k, seed)

    go.click(
        generate_text,
        [prompt, length, temperature, top_k, seed, text_model],
        [generated, text_note],
        api_name="generate_text",
        concurrency_limit=LIMIT,
    )
    return text_model


# ------------------------------------------------------------------------------------------ latent
def as_code(values: tuple | list, dim: int = LATENT_DIM) -> torch.Tensor:
    if len(values) != dim:
        raise gr.Error(f"a latent vector has {dim} values, got {len(values)}")
    try:
        v = torch.tensor([float(x) for x in values], dtype=torch.float32)
    except (TypeError, ValueError):
        raise gr.Error("latent values must be numbers") from None
    if not torch.isfinite(v).all():
        raise gr.Error("latent values must be finite numbers (no NaN or infinity)")
    if v.abs().max() > 10:
        raise gr.Error("latent values must lie between -10 and 10")
    return v[None]


@torch.inference_mode()
def decoded_pixels(z: Zoo, model_name: str, values: tuple | list) -> torch.Tensor:
    """28x28 pixels in [0, 1] that a decoder makes of one code."""
    model = z.get(model_name, "latent")
    return model.to_pixels(model.decode(as_code(values)))[0, 0]


def decode_html(z: Zoo, model_name: str, values: tuple | list) -> str:
    return img_html(decoded_pixels(z, model_name, values).numpy(), 224, "decoded digit")


@torch.inference_mode()
def encode(z: Zoo, model_name: str, image: Any) -> list[float]:
    model = z.get(model_name, "latent")
    digit = read_digit(image)
    if digit is None:
        raise gr.Error("draw a digit to encode first")
    return [round(float(v), 3) for v in model.encode(model.to_input(digit))[0]]


def latent_tab(z: Zoo, demo: gr.Blocks) -> gr.Dropdown:
    latents = z.by_task.get("latent", [])
    with gr.Row():
        with gr.Column(scale=2):
            latent_model = model_picker(latents, "Decoder")
            gr.Markdown(
                "The book autoencoder's codes lie in [-1, 1] (Tanh outputs), so most of the cube "
                "decodes to noise; the VAE's codes follow N(0, 1) and decode to digits, blurred; the DCGAN "
                "(the book's named fix) was trained against a discriminator so that any N(0, 1) code decodes "
                "to a sharp digit."
            )
            note = gr.Markdown(elem_id="latent-encoder-note")
            sliders = []
            for r in range(4):
                with gr.Row():
                    for c in range(7):
                        i = r * 7 + c
                        sliders.append(gr.Slider(-3, 3, 0, step=0.01, label=f"z{i}", min_width=80, elem_id=f"z{i}"))
            with gr.Row():
                rand = gr.Button("Random code")
                zero = gr.Button("Zero")
                from_test = gr.Button("Random MNIST test digit")
                enc_btn = gr.Button("Encode my drawing")
        with gr.Column(scale=1):
            gr.Markdown("**Decoded**")
            decoded = gr.HTML(elem_id="latent-image")
            latent_pad = sketchpad("Draw a digit to encode", 280, 14, "latent-pad")
            latent_upload = picture_input("…or upload a picture to encode", 120)
    with gr.Row():
        a_digit = gr.Dropdown([str(i) for i in range(10)], value="3", label="Interpolate from digit")
        b_digit = gr.Dropdown([str(i) for i in range(10)], value="8", label="to digit")
        t = gr.Slider(0, 1, 0.5, step=0.01, label="t")
        with gr.Column():
            gr.Markdown("**Interpolation**")
            interp = gr.HTML(elem_id="latent-interp")

    def show_code(decoder: str, *code: float) -> str:
        return decode_html(z, decoder, code)

    def decode_latent(code: list[float], model: str = latents[0] if latents else "") -> list[list[float]]:
        """Decode one latent code into a 28x28 image with pixels in [0, 1].

        Args:
            code: 28 numbers between -10 and 10 (the VAE and the GAN draw theirs from N(0, 1)).
            model: a latent model of the zoo (ranked best first).
        """
        if not isinstance(code, list):
            raise gr.Error(f"code must be a list of {LATENT_DIM} numbers")
        return [[round(float(v), 4) for v in row] for row in decoded_pixels(z, model, code)]

    def encode_digit(image: Any, model: str = latents[0] if latents else "") -> list[float]:
        """The 28-number code of a drawn digit: computed by an encoder, or searched for by a GAN (slower).

        Args:
            image: a drawing or photo of one digit.
            model: a latent model of the zoo (ranked best first).
        """
        return encode(z, model, image)

    @torch.inference_mode()
    def random_code(decoder: str) -> list[float]:
        model = z.get(decoder, "latent")
        return [round(float(v), 3) for v in model.sample_codes(1)[0].clamp(-3, 3)]

    def zero_code(decoder: str) -> list[float]:
        return [0.0] * LATENT_DIM

    def mnist_code(decoder: str) -> list[float]:
        images, _ = z.mnist_sample()
        return encode(z, decoder, images[np.random.randint(len(images))])

    def interpolate(decoder: str, a: str, b: str, t_: float) -> str:
        za, zb = (torch.tensor(sample_code(z, decoder, int(d))) for d in (a, b))
        return decode_html(z, decoder, ((1 - t_) * za + t_ * zb).tolist())

    def encoder_note(decoder: str) -> str:
        return encode_note(z, decoder)

    gr.on(
        [demo.load, *[s.input for s in sliders], latent_model.change],
        show_code,
        [latent_model, *sliders],
        decoded,
        api_visibility="private",
        trigger_mode="always_last",
        show_progress="hidden",
        concurrency_limit=LIMIT,
    )
    gr.on([demo.load, latent_model.change], encoder_note, latent_model, note, api_visibility="private")
    gr.api(decode_latent, api_name="decode_latent", concurrency_limit=LIMIT)

    def encode_sketch(image: Any, model: str) -> list[float]:
        return encode(z, model, image)

    # the public endpoint takes a plain image (what programs and MCP clients send); the pad's button is the UI's
    latent_upload.upload(encode_digit, [latent_upload, latent_model], sliders, api_name="encode_digit").then(
        show_code, [latent_model, *sliders], decoded, api_visibility="private"
    )
    enc_btn.click(encode_sketch, [latent_pad, latent_model], sliders, api_visibility="private").then(
        show_code, [latent_model, *sliders], decoded, api_visibility="private"
    )
    for button, pick in ((rand, random_code), (zero, zero_code), (from_test, mnist_code)):
        button.click(pick, latent_model, sliders, api_visibility="private").then(
            show_code, [latent_model, *sliders], decoded, api_visibility="private"
        )
    gr.on(
        [demo.load, t.input, a_digit.change, b_digit.change, latent_model.change],
        interpolate,
        [latent_model, a_digit, b_digit, t],
        interp,
        api_visibility="private",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    return latent_model


def sample_code(z: Zoo, model_name: str, digit: int) -> list[float]:
    """The code of the shipped sample's first test image of ``digit``, kept once found (a GAN searches)."""
    key = (model_name, digit)
    if key not in z.sample_codes:
        images, labels = z.mnist_sample()
        z.sample_codes[key] = encode(z, model_name, images[np.flatnonzero(labels == digit)[0]])
    return z.sample_codes[key]


def encode_note(z: Zoo, model_name: str) -> str:
    model = z.get(model_name, "latent")
    if model.has_encoder:
        return f"`{model_name}` has an encoder: *Encode my drawing* computes the code in one pass."
    note = (
        f"`{model_name}` is a GAN and has no encoder: *Encode my drawing* **searches** for the code whose "
        f"decoding looks most like your drawing ({model.config.get('search_steps', 200)} gradient steps), "
        "so it takes a moment and finds the nearest digit the generator can make, not your exact strokes."
    )
    if classes := model.config.get("classes"):
        note += (
            f" It is class-conditional: **z0 picks the digit** ({classes} equally likely bins of N(0, 1), "
            "0 at the bottom, 9 at the top) and the other values its style, so an interpolation walks through "
            "the digits in between."
        )
    return note


# ------------------------------------------------------------------------------------- leaderboard
def board_table(z: Zoo, task: str) -> dict[str, Any]:
    if task not in zoo.TASKS:
        raise gr.Error(f"unknown task {task!r}; tasks: {', '.join(zoo.TASKS)}")
    metrics = list(zoo.TASKS[task].metrics)
    rows = [
        [r["rank"], r["model"], *[r["metrics"].get(m) for m in metrics], r["params"], r["latency_ms"]]
        + ["yes" if r["verified"] else "no", r["origin"], r["source_url"] or r["source"]]
        for r in z.board
        if r["task"] == task
    ]
    headers = ["rank", "model", *metrics, "params", "CPU ms", "verified", "from", "source"]
    return {"headers": headers, "data": rows}


def readable_board(z: Zoo, task: str, query: str = "") -> list[list[str]]:
    """The ranking as people read it: '=' on shared ranks, percentages and intervals, the book's number,
    thousands separators; ``query`` keeps the models whose name contains it."""
    from zoo.leaderboard import format_book, format_cell

    if task not in zoo.TASKS:
        raise gr.Error(f"unknown task {task!r}; tasks: {', '.join(zoo.TASKS)}")
    needle = (query or "").strip().lower()
    rows = []
    for r in z.board:
        if r["task"] != task or needle not in r["model"].lower():
            continue
        rank = f"={r['rank']}" if r.get("tied") else str(r["rank"])
        metrics = [format_cell(r, m) for m in zoo.TASKS[task].metrics]
        size = f"{r['params']:,}" if r["params"] else ""
        latency = f"{r['latency_ms']:.2f}" if r["latency_ms"] else ""
        origin = "zoo" if r["origin"] == "zoo" else f"submitted ({r['source']})"
        rows.append(
            [rank, r["model"], *metrics, format_book(r), size, latency, "yes" if r["verified"] else "no", origin]
        )
    return rows


def board_headers(task: str) -> list[str]:
    return ["rank", "model", *zoo.TASKS[task].metrics, "book", "params", "CPU ms", "verified", "from"]


def board_plot(z: Zoo, task: str) -> Any:
    """One point per model: the task's primary metric against CPU latency, book entries marked."""
    import pandas as pd

    primary = zoo.TASKS[task].primary
    points = [
        {"model": r["model"], "CPU ms": r["latency_ms"], primary: r["metrics"].get(primary), "params": r["params"]}
        | {"entry": "submitted" if r["origin"] == "submitted" else "book" if r["book"] else "variant"}
        for r in z.board
        if r["task"] == task and r["latency_ms"] and r["metrics"].get(primary) is not None
    ]
    return pd.DataFrame(points, columns=["model", "CPU ms", primary, "params", "entry"])


def model_card(z: Zoo, name: str) -> str:
    """A model's card (its README.md without the YAML header), shown as markdown with HTML sanitised."""
    from zoo.hub import embedded_dir

    row = z.row(name)
    if row is None:
        raise gr.Error(f"unknown model {name!r}")
    submitted = row["origin"] == "submitted"
    path = (
        (zoo.hub.submitted_folder(name) or Path()) / "README.md" if submitted else embedded_dir() / name / "README.md"
    )
    text = path.read_text(encoding="utf-8") if path.is_file() else f"# {name}\n\nNo card shipped with this model."
    if text.startswith("---"):
        text = text.split("---", 2)[-1]
    if submitted:  # someone else's words: shown as text, never as HTML
        where = f"[{row['source']}]({row['source_url']})" if row.get("source_url") else row["source"]
        return f"*Submitted ({where}); evaluated by this project's code.*\n\n" + html.escape(text.strip())
    return text.strip()


def leaderboard_tab(z: Zoo, demo: gr.Blocks) -> tuple[gr.Button, gr.State, Any]:
    gr.Markdown(
        "Ranked per task by metrics the project recomputes on the real test sets "
        "(`python -m training evaluate --verify`); '=' marks a rank shared with the row above (their 95 % "
        "intervals overlap). Submitted models (the Submit tab) are ranked beside the zoo's: the *from* column "
        "says which. Click a column to sort, a row to read its model card."
    )
    with gr.Row():
        task_pick = gr.Dropdown(list(zoo.TASKS), value="digits", label="Task", scale=1, elem_id="board-task")
        search = gr.Textbox(label="Filter models", placeholder="e.g. cnn, book, char", scale=2, elem_id="board-filter")
    table = gr.Dataframe(
        headers=board_headers("digits"),
        value=readable_board(z, "digits"),
        label="Ranking",
        elem_id="leaderboard-table",
        interactive=False,
        wrap=True,
    )
    plot = gr.ScatterPlot(
        board_plot(z, "digits"),
        x="CPU ms",
        y=zoo.TASKS["digits"].primary,
        color="entry",
        tooltip=["model", "params"],
        label="The trade-off: primary metric against CPU latency per input",
        elem_id="leaderboard-plot",
    )
    chosen = gr.State(None)
    with gr.Row():
        card_title = gr.Markdown("Select a row to read its model card.", elem_id="board-card-title")
        try_it = gr.Button("Try it", visible=False, elem_id="board-try-it")
    card = gr.Markdown(elem_id="board-card")

    def leaderboard(task: str = "digits") -> dict[str, Any]:
        """The ranked models of one task with the metrics the project recomputes on the real test sets: the zoo's
        own and the evaluated submissions (columns from and source say which).

        Args:
            task: digits, text, latent or houses.
        """
        return board_table(z.current(), task)

    def show_board(task: str, query: str):
        primary = zoo.TASKS[task].primary if task in zoo.TASKS else None
        shown = gr.Dataframe(value=readable_board(z.current(), task, query), headers=board_headers(task))
        return shown, gr.ScatterPlot(board_plot(z, task), x="CPU ms", y=primary, color="entry")

    def pick_row(evt: gr.SelectData):
        row = evt.row_value or []  # the clicked row as shown (sorted or filtered in the browser)
        name = row[1] if len(row) > 1 else None
        if z.row(name) is None:
            return None, "Select a row to read its model card.", gr.Button(visible=False), ""
        return name, f"### `{name}`", gr.Button(f"Try {name}", visible=True), model_card(z, name)

    gr.api(leaderboard, api_name="leaderboard")
    gr.on([task_pick.change, search.change], show_board, [task_pick, search], [table, plot], api_visibility="private")
    table.select(pick_row, None, [chosen, card_title, try_it, card], api_visibility="private")
    return try_it, chosen, (show_board, [task_pick, search], [table, plot])


# ----------------------------------------------------------------------------------------- figures
FIGURES = {
    "fig7-3": "Figure 7-3: test digits and their reconstructions",
    "fig7-4": "Figure 7-4: t-SNE of the 10,000 test codes, coloured by label",
    "fig7-5": "Figure 7-5: random codes through the decoder",
}


def figures_tab(z: Zoo) -> None:
    for stem, title in FIGURES.items():
        gr.Markdown(f"### {title}")
        with gr.Row():
            for name in z.by_task.get("latent", []):
                path = ASSETS / "figures" / f"{stem}-{name}.png"
                if path.is_file():
                    gr.Image(str(path), label=name, interactive=False, buttons=["download"])


# ------------------------------------------------------------------------------------------ houses
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
    if len(values) != len(names):
        raise gr.Error(f"{len(names)} features are needed ({', '.join(names)}), got {len(values)}")
    houses = z.by_task.get("houses", [])
    chosen = houses if model_name == "all" else [z.get(model_name, "houses").config["name"]]
    for name, v, (lo, hi) in zip(names, values, feature_ranges(z.get(houses[0], "houses").config), strict=True):
        if v is None or not math.isfinite(v):
            raise gr.Error(f"{name} must be a finite number, got {v}")
        if not lo <= v <= hi:
            raise gr.Error(
                f"{name} must lie between {lo:.4g} and {hi:.4g} (within {SPREAD} standard deviations of the "
                f"training data), got {v:g}"
            )
    out = []
    for name in chosen:
        model = z.get(name, "houses")
        out.append([name, round(float(model(model.scale(values))[0]), 2)])
    return out


def houses_tab(z: Zoo, demo: gr.Blocks) -> gr.Dropdown:
    houses = z.by_task.get("houses", [])
    ref = z.get(houses[0], "houses").config if houses else {}
    names = ref.get("feature_names", [])
    medians = ref.get("feature_medians") or [0.0] * len(names)
    with gr.Row():
        feats = [
            gr.Number(m, label=n, info=FEATURE_DOCS.get(n), min_width=100) for n, m in zip(names, medians, strict=True)
        ]
    with gr.Row():
        house_model = model_picker(["all", *houses], "Model (or all)")
        price_btn = gr.Button("Predict", variant="primary")
    prices = gr.Dataframe(headers=["model", "predicted MEDV ($1000s)"], label="Predictions")

    def predict_price(*values: Any) -> list[list[Any]]:
        *features, model = values
        return predict_prices(z, names, tuple(features), model)

    # named API parameters, one per feature (crim=..., lstat=...), defaults the training medians, model last
    ranges = feature_ranges(ref)
    params = [
        inspect.Parameter(n.lower(), inspect.Parameter.POSITIONAL_OR_KEYWORD, default=float(m), annotation=float)
        for n, m in zip(names, medians, strict=True)
    ]
    params.append(inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="all", annotation=str))
    predict_price.__signature__ = inspect.Signature(params, return_annotation=list)
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
    return house_model


# -------------------------------------------------------------------------------------------- build
# ------------------------------------------------------------------------------------------ submit
SUBMIT_INTRO = """Rank your own model beside the book's. Give a Hub model (`ORG/NAME`, optionally `@REVISION`) or
upload its three files. The gates answer at once, reading only JSON, the weights' safetensors header and the card
(no code of yours runs): a zoo architecture with its constructor arguments in `config.json`; `model.safetensors`
with the sha256 the config declares and the shapes the config builds (at most 100 MB, finite numbers); a
`README.md` with a license and at least 200 characters on how it was trained; a name of your own. Then the
project's own evaluation runs (the test splits and metrics of the zoo's entries), one submission at a time, and the
row appears in the Leaderboard tab. Variants of the zoo's recipes:
`python -m training train RECIPE --name NEW-NAME`."""
SUBMISSION_HEADERS = ["model", "task", "status", "detail", "source", "submitted"]


def uploaded(files: list[str], into: Path) -> Path:
    """The three uploaded files, by their own names, in a folder of their own."""
    names = {Path(f).name: f for f in files}
    wanted = set(zoo.hub.HUB_FILES)
    if set(names) != wanted or len(files) != len(wanted):
        got = ", ".join(sorted(names)) or "nothing"
        raise gr.Error(f"upload exactly {', '.join(sorted(wanted))} (got {got})")
    for name, path in names.items():
        shutil.copyfile(path, into / name)
    return into


def admit(worker: Any, hub_source: str, files: list[str] | None, name: str) -> str:
    """The gates' verdict at once; a submission that passes waits in the evaluation queue."""
    from zoo.submissions import SubmissionError, check, fetch

    hub_source, name = (hub_source or "").strip(), (name or "").strip() or None
    if bool(hub_source) == bool(files):
        raise gr.Error("give a Hub model (ORG/NAME) or upload the three files: one of the two")
    with tempfile.TemporaryDirectory(prefix="dlfs-submit-") as tmp:
        try:
            if hub_source:
                source = hub_source if hub_source.startswith("hf:") else f"hf:{hub_source}"
                folder, where = fetch(source, Path(tmp))
            else:
                folder, where = uploaded(files or [], Path(tmp)), {"source": "upload"}
            checked = check(folder, name, worker.store, **where)
            key = worker.store.admit(checked, folder)
        except SubmissionError as e:
            raise gr.Error(str(e)) from None
    position = worker.enqueue(key)
    return (
        f"**{checked.name}** passed the gates ({checked.params:,} parameters, a {checked.task} model). "
        f"Queued for evaluation at position {position}; the table below follows it."
    )


def submission_rows(worker: Any) -> list[list[str]]:
    rows = []
    for r in worker.status():
        status = r["status"]
        if status == "pending":
            detail = f"position {r['position']} in the queue" if r["position"] else "waiting"
        elif status == "running":
            started = datetime.fromisoformat(r.get("started_at") or r["submitted_at"])
            detail = f"evaluating for {(datetime.now(UTC) - started).total_seconds():.0f} s"
            detail += f": {r['progress']}" if r.get("progress") else ""
        elif status == "failed":
            detail = r.get("reason") or ""
        else:
            detail = "ranked: see the Leaderboard tab"
        rows.append([r["model"], r["task"], status, detail, r["source"], r["submitted_at"]])
    return rows


def submit_tab(worker: Any) -> tuple[Any, list, list]:
    gr.Markdown(SUBMIT_INTRO)
    with gr.Row():
        hub_source = gr.Textbox("", label="A Hub model: ORG/NAME or ORG/NAME@REVISION", elem_id="submit-hub")
        files = gr.File(
            label="…or upload config.json, model.safetensors and README.md",
            file_count="multiple",
            type="filepath",
            elem_id="submit-files",
        )
    name = gr.Textbox("", label="Name on the leaderboard (optional: config.json's name)", elem_id="submit-name")
    button = gr.Button("Submit", variant="primary", elem_id="submit-button")
    verdict = gr.Markdown(elem_id="submit-verdict")
    table = gr.Dataframe(
        headers=SUBMISSION_HEADERS,
        value=submission_rows(worker),
        label="Submissions, newest first",
        interactive=False,
        wrap=True,
        elem_id="submissions-table",
    )
    timer = gr.Timer(2.0, active=False)

    def submit_model(hub_source: str = "", files: list[str] | None = None, name: str = "") -> str:
        """Submit a checkpoint to be checked, evaluated by the project's code and ranked beside the zoo's models.

        Args:
            hub_source: a Hugging Face model repo, ORG/NAME or ORG/NAME@REVISION (or leave empty and upload files).
            files: config.json, model.safetensors and README.md of the checkpoint (or leave empty and give hub_source).
            name: the name to rank it under (default: config.json's name); lowercase letters, digits and '-'.
        """
        return admit(worker, hub_source, files, name)

    def submissions() -> list[dict[str, Any]]:
        """Every submission, newest first, with its status (pending, running, finished or failed with the reason)
        and its position in the evaluation queue."""
        return worker.status()

    def show_queue():
        rows = submission_rows(worker)
        return rows, gr.Timer(active=any(r[2] in ("pending", "running") for r in rows))

    button.click(submit_model, [hub_source, files, name], verdict, api_name="submit_model").then(
        show_queue, None, [table, timer], api_visibility="private"
    )
    timer.tick(show_queue, None, [table, timer], api_visibility="private")
    gr.api(submissions, api_name="submissions")
    return show_queue, [], [table, timer]


def picker_choices(z: Zoo, task: str) -> list[str]:
    return ["all", *z.by_task.get(task, [])] if task == "houses" else z.by_task.get(task, [])


def build(z: Zoo, worker: Any = None) -> gr.Blocks:
    with gr.Blocks(title="dlfs-zoo: Deep Learning from Scratch, chapter 7") as demo:
        gr.Markdown(
            "# dlfs-zoo\nThe models of *Deep Learning from Scratch* (Weidman, 2019), chapter 7, "
            "trained, verified and ranked. Every model here is loaded from its zoo checkpoint."
        )
        with gr.Tabs() as tabs:
            with gr.Tab("Digits", id="digits"):
                pickers = {"digits": digits_tab(z)}
            with gr.Tab("Text", id="text"):
                pickers["text"] = text_tab(z)
            with gr.Tab("Latent", id="latent"):
                pickers["latent"] = latent_tab(z, demo)
            with gr.Tab("Leaderboard", id="leaderboard") as board_tab:
                try_it, chosen, show_board = leaderboard_tab(z, demo)
            with gr.Tab("Chapter figures", id="figures"):
                figures_tab(z)
            with gr.Tab("Houses", id="houses"):
                pickers["houses"] = houses_tab(z, demo)
            with gr.Tab("Submit", id="submit") as queue_tab:
                show_queue = submit_tab(worker or submission_worker(z))

        def refresh_pickers():
            """Submitted models join their task's model picker once evaluated."""
            return [gr.Dropdown(choices=picker_choices(z.current(), task)) for task in pickers]

        tabs.select(refresh_pickers, None, list(pickers.values()), api_visibility="private")
        board_tab.select(*show_board, api_visibility="private")
        queue_tab.select(*show_queue, api_visibility="private")

        def try_model(name: str | None):
            """Open the chosen model's task tab with the model picked."""
            task = next((r["task"] for r in z.board if r["model"] == name), None)
            updates = [gr.Dropdown(value=name) if t == task else gr.Dropdown() for t in pickers]
            return gr.Tabs(selected=task or "leaderboard"), *updates

        try_it.click(try_model, chosen, [tabs, *pickers.values()], api_visibility="private")
    return demo


def submission_worker(z: Zoo) -> Any:
    """The one evaluation queue (``zoo.submissions.Worker``); the ranking is re-read when one finishes."""
    from zoo.submissions import Worker

    return Worker(on_done=lambda key: z.refresh())


def create_app(source: str | None = None) -> gr.Blocks:
    source = source or os.environ.get("DLFS_ZOO_SOURCE", "embedded")
    if source not in ("embedded", "hf"):
        raise ValueError(f"DLFS_ZOO_SOURCE must be 'embedded' or 'hf', got {source!r}")
    z = Zoo.load(source)
    demo = build(z, submission_worker(z))
    demo.queue(default_concurrency_limit=LIMIT, max_size=256)
    return demo


def launch(demo: gr.Blocks, **kwargs: Any) -> None:
    """Serve with the app's JS and no extra file access (``allowed_paths`` stays empty)."""
    demo.launch(js=ARM_BRUSH_JS, allowed_paths=[], show_error=True, max_file_size="110mb", **kwargs)
