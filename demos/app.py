"""The dlfs-zoo Gradio app: one ``gr.Blocks`` over models loaded once through ``zoo``.

Public API names (for ``gradio_client``): /classify_digit, /generate_text, /decode_latent, /encode_digit,
/leaderboard, /predict_price.
"""

from __future__ import annotations

import base64
import io
import math
import os
from dataclasses import dataclass, field
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
    """Every model, loaded once and shared by all sessions, grouped by task in leaderboard order."""

    models: dict[str, zoo.PyTorchModel] = field(default_factory=dict)
    by_task: dict[str, list[str]] = field(default_factory=dict)
    board: list[dict[str, Any]] = field(default_factory=list)
    samples: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def load(cls, source: str = "embedded") -> Zoo:
        board = zoo.leaderboard(source="embedded") if source == "embedded" else zoo.leaderboard(source="hf")
        z = cls(board=board)
        for row in board:
            z.models[row["model"]] = zoo.load(row["model"], source=source)
            z.by_task.setdefault(row["task"], []).append(row["model"])
        sample = ASSETS / "mnist_sample.npz"
        if sample.is_file():
            with np.load(sample) as f:
                z.samples = (f["images"], f["labels"])
        return z

    def mnist_sample(self) -> tuple[np.ndarray, np.ndarray]:
        if self.samples is None:
            raise gr.Error("no MNIST sample is shipped with this app")
        return self.samples

    def get(self, name: str, task: str) -> zoo.PyTorchModel:
        names = self.by_task.get(task, [])
        if name not in names:
            raise gr.Error(f"unknown {task} model {name!r}; choose one of: {', '.join(names)}")
        return self.models[name]


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


def digits_tab(z: Zoo) -> None:
    digits = z.by_task.get("digits", [])
    with gr.Row():
        with gr.Column():
            pad = sketchpad("Draw a digit", 400, 18, "digit-pad")
            upload = gr.Image(
                label="…or upload a picture of a digit",
                type="numpy",
                image_mode="RGBA",
                sources=["upload", "clipboard"],
                height=160,
            )
            digit_model = gr.Dropdown(digits, value=digits[0] if digits else None, label="Model (ranked best first)")
            gr.Markdown(default_digits_note(z), elem_id="digit-default")
        with gr.Column():
            label = gr.Label(num_top_classes=3, label="Prediction", elem_id="digit-label")
            gr.Markdown("**What the model saw** (28x28, as MNIST was made)")
            seen = gr.HTML(elem_id="digit-seen")
            hint = gr.Markdown("Draw a digit (0-9) on the canvas; it is read as you draw.")

    def classify_digit(image: Any, model_name: str):
        """Read a drawing or photo of one digit; returns the top 3 classes, the 28x28 the model saw, a note."""
        return classify(z, image, model_name)

    gr.on(
        [pad.change, digit_model.change],
        classify_digit,
        [pad, digit_model],
        [label, seen, hint],
        api_name="classify_digit",
        trigger_mode="always_last",
        show_progress="hidden",
        concurrency_limit=LIMIT,
    )
    upload.upload(classify_digit, [upload, digit_model], [label, seen, hint], api_visibility="private")


# -------------------------------------------------------------------------------------------- text
def generate(z: Zoo, model_name: str, prompt: str, length: float, temperature: float, top_k: float, seed: float):
    model = z.get(model_name, "text")
    prompt = prompt or ""
    if len(prompt) > MAX_PROMPT:
        raise gr.Error(f"the prompt has {len(prompt):,} characters; at most {MAX_PROMPT:,} are allowed")
    for name, value, lo, hi in (("length", length, 1, MAX_LENGTH), ("temperature", temperature, 0, 2)):
        if value is None or not math.isfinite(value) or not lo <= value <= hi:
            raise gr.Error(f"{name} must be between {lo} and {hi}, got {value}")
    if top_k is None or not math.isfinite(top_k) or top_k < 0:
        raise gr.Error(f"top-k must be 0 (off) or a positive whole number, got {top_k}")
    if seed is None or not math.isfinite(seed):
        raise gr.Error(f"seed must be a whole number, got {seed}")
    _, skipped = model.encode(prompt)
    note = f"Skipped characters outside the vocabulary: {skipped!r}" if skipped else ""
    out = "".join(c for c in prompt if c in model.vocab)
    stream = model.generate(prompt[-1000:], int(length), float(temperature), int(top_k) or None, int(seed))
    for i, ch in enumerate(stream, 1):
        out += ch
        if i % 25 == 0:
            yield out, note
    yield out, note


def text_tab(z: Zoo) -> None:
    texts = z.by_task.get("text", [])
    with gr.Row():
        with gr.Column():
            text_model = gr.Dropdown(texts, value=texts[0] if texts else None, label="Model")
            prompt = gr.Textbox("ROMEO:\n", label="Prompt", lines=3, elem_id="text-prompt")
            length = gr.Slider(1, MAX_LENGTH, 300, step=1, label="Length (characters)", elem_id="text-length")
            temperature = gr.Slider(0, 2, 0.8, step=0.05, label="Temperature (0 = greedy)")
            top_k = gr.Slider(0, 100, 0, step=1, label="Top-k (0 = off)")
            seed = gr.Number(0, precision=0, label="Seed")
            go = gr.Button("Generate", variant="primary", elem_id="text-go")
        with gr.Column():
            generated = gr.Textbox(label="Generated text", lines=18, elem_id="text-out")
            text_note = gr.Markdown()

    def generate_text(model_name: str, prompt: str, length: float, temperature: float, top_k: float, seed: float):
        """Continue a prompt character by character (streamed); returns the text and a note on skipped characters."""
        yield from generate(z, model_name, prompt, length, temperature, top_k, seed)

    go.click(
        generate_text,
        [text_model, prompt, length, temperature, top_k, seed],
        [generated, text_note],
        api_name="generate_text",
        concurrency_limit=LIMIT,
    )


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


def latent_tab(z: Zoo, demo: gr.Blocks) -> None:
    latents = z.by_task.get("latent", [])
    with gr.Row():
        with gr.Column(scale=2):
            latent_model = gr.Dropdown(latents, value=latents[0] if latents else None, label="Decoder")
            gr.Markdown(
                "The book autoencoder's codes lie in [-1, 1] (Tanh outputs), so most of the cube "
                "decodes to noise; the VAE's codes follow N(0, 1) and decode to digits."
            )
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
    with gr.Row():
        a_digit = gr.Dropdown([str(i) for i in range(10)], value="3", label="Interpolate from digit")
        b_digit = gr.Dropdown([str(i) for i in range(10)], value="8", label="to digit")
        t = gr.Slider(0, 1, 0.5, step=0.01, label="t")
        with gr.Column():
            gr.Markdown("**Interpolation**")
            interp = gr.HTML(elem_id="latent-interp")

    def show_code(decoder: str, *code: float) -> str:
        return decode_html(z, decoder, code)

    def decode_latent(decoder: str, code: list[float]) -> list[list[float]]:
        """Decode one latent vector (28 numbers) with a zoo decoder; returns 28x28 pixels in [0, 1]."""
        if not isinstance(code, list):
            raise gr.Error(f"code must be a list of {LATENT_DIM} numbers")
        return [[round(float(v), 4) for v in row] for row in decoded_pixels(z, decoder, code)]

    def encode_digit(decoder: str, image: Any) -> list[float]:
        """The 28-number code of a drawn digit (the VAE's mean)."""
        return encode(z, decoder, image)

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
        images, labels = z.mnist_sample()
        za = torch.tensor(encode(z, decoder, images[np.flatnonzero(labels == int(a))[0]]))
        zb = torch.tensor(encode(z, decoder, images[np.flatnonzero(labels == int(b))[0]]))
        return decode_html(z, decoder, ((1 - t_) * za + t_ * zb).tolist())

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
    gr.api(decode_latent, api_name="decode_latent", concurrency_limit=LIMIT)
    enc_btn.click(encode_digit, [latent_model, latent_pad], sliders, api_name="encode_digit").then(
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


# ------------------------------------------------------------------------------------- leaderboard
def board_table(z: Zoo, task: str) -> dict[str, Any]:
    if task not in zoo.TASKS:
        raise gr.Error(f"unknown task {task!r}; tasks: {', '.join(zoo.TASKS)}")
    metrics = list(zoo.TASKS[task].metrics)
    rows = [
        [r["rank"], r["model"], *[r["metrics"].get(m) for m in metrics], r["params"], r["latency_ms"]]
        + ["yes" if r["verified"] else "no"]
        for r in z.board
        if r["task"] == task
    ]
    return {"headers": ["rank", "model", *metrics, "params", "CPU ms", "verified"], "data": rows}


def leaderboard_tab(z: Zoo, demo: gr.Blocks) -> None:
    gr.Markdown(
        "Ranked per task by metrics the project recomputes on the real test sets "
        "(`python -m training evaluate --verify`)."
    )
    task_pick = gr.Dropdown(list(zoo.TASKS), value="digits", label="Task")
    table = gr.Dataframe(label="Ranking", elem_id="leaderboard-table")

    def leaderboard(task: str) -> dict[str, Any]:
        """The ranked models of one task (digits, text, latent, houses) with their recomputed metrics."""
        return board_table(z, task)

    task_pick.change(leaderboard, task_pick, table, api_name="leaderboard")
    demo.load(leaderboard, task_pick, table, api_visibility="private")


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
@torch.inference_mode()
def predict_prices(z: Zoo, names: list[str], values: tuple) -> list[list[Any]]:
    if len(values) != len(names):
        raise gr.Error(f"{len(names)} features are needed ({', '.join(names)}), got {len(values)}")
    if any(v is None or not math.isfinite(v) for v in values):
        raise gr.Error("every feature must be a finite number")
    out = []
    for name in z.by_task.get("houses", []):
        model = z.models[name]
        out.append([name, round(float(model(model.scale(values))[0]), 2)])
    return out


def houses_tab(z: Zoo, demo: gr.Blocks) -> None:
    houses = z.by_task.get("houses", [])
    ref = z.models[houses[0]].config if houses else {}
    names = ref.get("feature_names", [])
    medians = ref.get("feature_medians") or [0.0] * len(names)
    with gr.Row():
        feats = [gr.Number(m, label=n, min_width=100) for n, m in zip(names, medians, strict=True)]
    price_btn = gr.Button("Predict", variant="primary")
    prices = gr.Dataframe(headers=["model", "predicted MEDV ($1000s)"], label="Predictions")

    def predict_price(*features: float) -> list[list[Any]]:
        """Every houses model's price (in $1000s) for 13 raw Boston features, in the order of the inputs."""
        return predict_prices(z, names, features)

    price_btn.click(predict_price, feats, prices, api_name="predict_price")
    demo.load(predict_price, feats, prices, api_visibility="private")


# -------------------------------------------------------------------------------------------- build
def build(z: Zoo) -> gr.Blocks:
    with gr.Blocks(title="dlfs-zoo: Deep Learning from Scratch, chapter 7") as demo:
        gr.Markdown(
            "# dlfs-zoo\nThe models of *Deep Learning from Scratch* (Weidman, 2019), chapter 7, "
            "trained, verified and ranked. Every model here is loaded from its zoo checkpoint."
        )
        with gr.Tab("Digits"):
            digits_tab(z)
        with gr.Tab("Text"):
            text_tab(z)
        with gr.Tab("Latent"):
            latent_tab(z, demo)
        with gr.Tab("Leaderboard"):
            leaderboard_tab(z, demo)
        with gr.Tab("Chapter figures"):
            figures_tab(z)
        with gr.Tab("Houses"):
            houses_tab(z, demo)
    return demo


def create_app(source: str | None = None) -> gr.Blocks:
    source = source or os.environ.get("DLFS_ZOO_SOURCE", "embedded")
    if source not in ("embedded", "hf"):
        raise ValueError(f"DLFS_ZOO_SOURCE must be 'embedded' or 'hf', got {source!r}")
    demo = build(Zoo.load(source))
    demo.queue(default_concurrency_limit=LIMIT, max_size=256)
    return demo


def launch(demo: gr.Blocks, **kwargs: Any) -> None:
    """Serve with the app's JS and no extra file access (``allowed_paths`` stays empty)."""
    demo.launch(js=ARM_BRUSH_JS, allowed_paths=[], show_error=True, **kwargs)
