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
from demos.i18n import refuse, say, speaking, t
from demos.state import LIMIT, Zoo
from demos.tabs import Handler, Link, TabParts, model_from_link
from demos.widgets import img_html, model_picker, picture_input, read_digit, sketchpad
from zoo.catalog import saw_labels

TITLE = "Latent"
ID = "latent"
LATENT_DIM = 28
SLIDER = 3  # the sliders' range, +-; a link's code lies within it


def as_code(values: tuple | list, dim: int = LATENT_DIM) -> torch.Tensor:
    """One code as a (1, dim) tensor; anything but dim finite numbers within +-10 becomes a gr.Error."""
    if len(values) != dim:
        raise refuse("latent_length", dim=dim, got=len(values))
    try:
        v = torch.tensor([float(x) for x in values], dtype=torch.float32)
    except (TypeError, ValueError):
        raise refuse("latent_numbers") from None
    if not torch.isfinite(v).all():
        raise refuse("latent_finite")
    if v.abs().max() > 10:
        raise refuse("latent_range")
    return v[None]


@torch.inference_mode()
def decoded_pixels(z: Zoo, model_name: str, values: tuple | list) -> torch.Tensor:
    """28x28 pixels in [0, 1] that a decoder makes of one code."""
    model = z.get(model_name, "latent")
    return model.to_pixels(model.decode(as_code(values)))[0, 0]


def decode_html(z: Zoo, model_name: str, values: tuple | list) -> str:
    """The decoded digit as an inline image."""
    return img_html(decoded_pixels(z, model_name, values).numpy(), 224, say("latent_decoded_alt"))


@torch.inference_mode()
def encode(z: Zoo, model_name: str, image: Any) -> list[float]:
    """The code of a drawn digit, rounded for the sliders (an encoder computes it, a GAN searches for it)."""
    model = z.get(model_name, "latent")
    digit = read_digit(image)
    if digit is None:
        raise refuse("latent_draw_first")
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
    labelled = saw_labels(model_name)  # None for a model the zoo did not train: nothing said
    labels = "" if labelled is None else say("latent_saw_labels" if labelled else "latent_no_labels", model=model_name)
    if model.has_encoder:
        return say("latent_has_encoder", model=model_name) + labels
    note = say("latent_searched", model=model_name, steps=model.config.get("search_steps", 200))
    if classes := model.config.get("classes"):
        note += say("latent_bins" if labelled is False else "latent_conditional", classes=classes)
    return note + labels


def code_from_link(text: str | None, notes: list[str]) -> list[Any]:
    """The sliders' updates for a link's ``code`` (LATENT_DIM numbers within +-SLIDER, commas between): set when
    it is one, else left at their defaults with a note."""
    if text is None:
        return [gr.skip()] * LATENT_DIM
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != LATENT_DIM or not all(abs(v) <= SLIDER for v in values):  # NaN fails the comparison too
        notes.append(say("link_bad_code", dim=LATENT_DIM))
        return [gr.skip()] * LATENT_DIM
    return values


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The decoder and its 28 sliders, the decoded digit, a pad to encode, and an interpolation row."""
    latents = pool.by_task.get("latent", [])
    with gr.Row():
        with gr.Column(scale=2):
            latent_model = model_picker(latents, t("latent_decoder"), elem_id="latent-model")
            gr.Markdown(t("latent_intro"))
            note = gr.Markdown(elem_id="latent-encoder-note")
            sliders = []
            for r in range(4):
                with gr.Row():
                    for c in range(7):
                        i = r * 7 + c
                        sliders.append(
                            gr.Slider(-SLIDER, SLIDER, 0, step=0.01, label=f"z{i}", min_width=80, elem_id=f"z{i}")
                        )
            with gr.Row():
                rand = gr.Button(t("latent_random"))
                zero = gr.Button(t("latent_zero"))
                from_test = gr.Button(t("latent_test_digit"))
                enc_btn = gr.Button(t("latent_encode"))
        with gr.Column(scale=1):
            gr.Markdown(t("latent_decoded"))
            decoded = gr.HTML(elem_id="latent-image")
            latent_pad = sketchpad(t("latent_pad"), 280, 14, "latent-pad")
            latent_upload = picture_input(t("latent_upload"), 120)
    with gr.Row():
        a_digit = gr.Dropdown([str(i) for i in range(10)], value="3", label=t("latent_from"))
        b_digit = gr.Dropdown([str(i) for i in range(10)], value="8", label=t("latent_to"))
        along = gr.Slider(0, 1, 0.5, step=0.01, label="t")
        with gr.Column():
            gr.Markdown(t("latent_interpolation"))
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
        with quotas.endpoint(request), speaking(request):
            if not isinstance(code, list):
                raise refuse("latent_list", dim=LATENT_DIM)
            return [[round(float(v), 4) for v in row] for row in decoded_pixels(pool, model, code)]

    def encode_digit(
        image: Any, model: str = latents[0] if latents else "", request: gr.Request | None = None
    ) -> list[float]:
        """The 28-number code of a drawn digit: computed by an encoder, or searched for by a GAN (slower).

        Args:
            image: a drawing or photo of one digit.
            model: a latent model of the zoo (ranked best first).
        """
        with quotas.endpoint(request), speaking(request):
            return encode(pool, model, image)

    def encode_sketch(image: Any, model: str, request: gr.Request | None = None) -> list[float]:
        """The code of the pad's drawing."""
        with speaking(request):
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

    def encoder_note(decoder: str, request: gr.Request | None = None) -> str:
        """How this decoder finds the code of a drawing."""
        with speaking(request):
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
        [demo.load, along.input, a_digit.change, b_digit.change, latent_model.change],
        interpolate,
        [latent_model, a_digit, b_digit, along],
        interp,
        api_visibility="private",
        trigger_mode="always_last",
        show_progress="hidden",
    )

    def open_link(query: dict[str, str], notes: list[str]) -> list[Any]:
        """A link's decoder and code (``?tab=latent&model=NAME&code=z0,z1,...``)."""
        model = model_from_link(query, notes, ID, pool.current().by_task.get(ID, []))
        return [model, *code_from_link(query.get("code"), notes)]

    def write_link(decoder: str, *code: float) -> dict[str, str]:
        """The decoder and the sliders' code, as a link's keys."""
        return {"model": decoder, "code": ",".join(f"{float(v):g}" for v in code)}

    link = Link(
        keys=("model", "code"),
        outputs=[latent_model, *sliders],
        opens=open_link,
        inputs=[latent_model, *sliders],
        writes=write_link,
        then=Handler(show_code, [latent_model, *sliders], [decoded]),
    )
    return TabParts(picker=latent_model, link=link)
