"""The Latent tab: 28 sliders decoded into a digit, codes of drawings and test digits, and an interpolation
between two digits.

Public endpoints: /decode_latent, /encode_digit.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
import torch

from demos import quotas
from demos.state import LIMIT, Zoo
from demos.tabs import TabParts
from demos.widgets import img_html, model_picker, picture_input, read_digit, sketchpad

TITLE = "Latent"
ID = "latent"
LATENT_DIM = 28


def as_code(values: tuple | list, dim: int = LATENT_DIM) -> torch.Tensor:
    """One code as a (1, dim) tensor; anything but dim finite numbers within +-10 becomes a gr.Error."""
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
    """The decoded digit as an inline image."""
    return img_html(decoded_pixels(z, model_name, values).numpy(), 224, "decoded digit")


@torch.inference_mode()
def encode(z: Zoo, model_name: str, image: Any) -> list[float]:
    """The code of a drawn digit, rounded for the sliders (an encoder computes it, a GAN searches for it)."""
    model = z.get(model_name, "latent")
    digit = read_digit(image)
    if digit is None:
        raise gr.Error("draw a digit to encode first")
    return [round(float(v), 3) for v in model.encode(model.to_input(digit))[0]]


def sample_code(z: Zoo, model_name: str, digit: int) -> list[float]:
    """The code of the shipped sample's first test image of ``digit``, kept once found (a GAN searches)."""
    key = (model_name, digit)
    if key not in z.sample_codes:
        images, labels = z.mnist_sample()
        z.sample_codes[key] = encode(z, model_name, images[np.flatnonzero(labels == digit)[0]])
    return z.sample_codes[key]


def encode_note(z: Zoo, model_name: str) -> str:
    """How *Encode my drawing* finds a code with this model: computed by its encoder, or searched for."""
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


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The decoder and its 28 sliders, the decoded digit, a pad to encode, and an interpolation row."""
    latents = pool.by_task.get("latent", [])
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
        """The sliders' code decoded."""
        return decode_html(pool, decoder, code)

    def decode_latent(
        code: list[float], model: str = latents[0] if latents else "", request: gr.Request | None = None
    ) -> list[list[float]]:
        """Decode one latent code into a 28x28 image with pixels in [0, 1].

        Args:
            code: 28 numbers between -10 and 10 (the VAE and the GAN draw theirs from N(0, 1)).
            model: a latent model of the zoo (ranked best first).
        """
        if not isinstance(code, list):
            raise gr.Error(f"code must be a list of {LATENT_DIM} numbers")
        with quotas.endpoint(request):
            return [[round(float(v), 4) for v in row] for row in decoded_pixels(pool, model, code)]

    def encode_digit(
        image: Any, model: str = latents[0] if latents else "", request: gr.Request | None = None
    ) -> list[float]:
        """The 28-number code of a drawn digit: computed by an encoder, or searched for by a GAN (slower).

        Args:
            image: a drawing or photo of one digit.
            model: a latent model of the zoo (ranked best first).
        """
        with quotas.endpoint(request):
            return encode(pool, model, image)

    def encode_sketch(image: Any, model: str) -> list[float]:
        """The code of the pad's drawing."""
        return encode(pool, model, image)

    @torch.inference_mode()
    def random_code(decoder: str) -> list[float]:
        """A code drawn as the decoder's training drew them, kept within the sliders' +-3."""
        model = pool.get(decoder, "latent")
        return [round(float(v), 3) for v in model.sample_codes(1)[0].clamp(-3, 3)]

    def zero_code(decoder: str) -> list[float]:
        """The origin of the latent space."""
        return [0.0] * LATENT_DIM

    def mnist_code(decoder: str) -> list[float]:
        """The code of a random digit of the shipped MNIST test sample."""
        images, _ = pool.mnist_sample()
        return encode(pool, decoder, images[np.random.randint(len(images))])

    def interpolate(decoder: str, a: str, b: str, t_: float) -> str:
        """The decoding of the point a fraction t_ of the way from digit a's code to digit b's."""
        za, zb = (torch.tensor(sample_code(pool, decoder, int(d))) for d in (a, b))
        return decode_html(pool, decoder, ((1 - t_) * za + t_ * zb).tolist())

    def encoder_note(decoder: str) -> str:
        """How this decoder finds the code of a drawing."""
        return encode_note(pool, decoder)

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
    return TabParts(picker=latent_model)
