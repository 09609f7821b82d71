"""The Digits tab: draw or upload a digit and read what a digits model makes of it; flag a wrong reading.

Public endpoints: /classify_digit, /flag_digit.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
import torch

from demos import quotas
from demos.i18n import refuse, say, speaking, t
from demos.state import LIMIT, Zoo
from demos.tabs import Link, TabParts, model_from_link
from demos.tabs.leaderboard import score
from demos.widgets import img_html, model_picker, picture_input, read_digit, sketchpad
from training.flags import FlagStore, FlagStoreFull

TITLE = "Digits"
ID = "digits"
# on a phone the columns stack: the pad first, the answer right under it, the upload and pickers after; a finger
# on the pad draws and does not scroll the page (touch-action: none)
CSS = """
.dlfs-pad canvas, .dlfs-pad .pixi-target { touch-action: none; }
@media (max-width: 720px) {
  #digits-main { flex-direction: column; }
  #digits-main > .dlfs-digits-input { display: contents; }
  #digits-main > .dlfs-digits-input > * { order: 2; }
  #digits-main > .dlfs-digits-input > #digit-pad,
  #digits-main > .dlfs-digits-input > *:has(#digit-pad) { order: 0; }
  #digits-main > #digits-answer { order: 1; }
}
"""


@torch.inference_mode()
def classify(z: Zoo, image: Any, model_name: str) -> tuple[dict[str, float] | None, str | None, str]:
    """The top 3 classes, the 28x28 the model saw and a note (a hint when the image is blank)."""
    model = z.get(model_name, "digits")
    digit = read_digit(image)
    if digit is None:
        return None, None, say("digits_hint")
    probs = torch.softmax(model(model.preprocess(digit))[0][0].float(), -1)
    top = torch.topk(probs, 3)
    label = {str(int(i)): float(p) for p, i in zip(top.values, top.indices, strict=True)}
    seen = img_html(digit, 168, say("digits_seen_alt"))
    return label, seen, say("digits_read_as", digit=int(top.indices[0]), model=model_name)


def flag(z: Zoo, image: Any, right_digit: str | None, model_name: str, client: str) -> str:
    """Keep a drawing the person says was read wrong, with the digit they give (training.flags): the 28x28 and a
    thumbnail of the original, within the client's flags per hour; a refusal writes nothing and is not counted."""
    if right_digit is None or str(right_digit) not in [str(d) for d in range(10)]:
        raise refuse("digits_flag_pick")
    digit = read_digit(image)
    if digit is None:
        raise refuse("digits_flag_nothing")
    model = z.get(model_name, "digits")
    with torch.inference_mode():
        predicted = int(model(model.preprocess(digit))[0].argmax())
    original = image.get("composite") if isinstance(image, dict) else image
    with quotas.FLAGS.slot(client):
        try:
            FlagStore().add(np.asarray(original), digit, int(right_digit), predicted, model_name)
        except FlagStoreFull as e:
            raise gr.Error(str(e)) from None
    return say("digits_flag_saved", right=right_digit, model=model_name, predicted=predicted)


def default_digits_note(z: Zoo) -> str | gr.i18n.I18nData:
    """Why the first model is the default: the leaderboard ranks digits by the drawn column."""
    top = next(iter(z.by_task.get("digits", [])), None)
    drawn = score(z, top, "drawn")
    if top is None or drawn is None:
        return ""
    return t("digits_default", top=top, drawn=100 * drawn)


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The sketchpad and upload beside the prediction (under the pad on a phone: ``CSS``), a second model to compare
    with, and the flag form."""
    digits = pool.by_task.get("digits", [])
    with gr.Row(elem_id="digits-main"):
        with gr.Column(elem_classes="dlfs-digits-input"):
            pad = sketchpad(t("digits_pad"), 400, 18, "digit-pad")
            upload = picture_input(t("digits_upload"), 160)
            digit_model = model_picker(digits, t("model_ranked"), elem_id="digits-model")
            gr.Markdown(default_digits_note(pool), elem_id="digit-default")
        with gr.Column(elem_id="digits-answer"):
            with gr.Row():
                label = gr.Label(num_top_classes=3, label=t("digits_prediction"), elem_id="digit-label")
                label_b = gr.Label(num_top_classes=3, label=t("digits_second"), elem_id="digit-label-b", visible=False)
            gr.Markdown(t("digits_seen"))
            seen = gr.HTML(elem_id="digit-seen")
            hint = gr.Markdown(t("digits_hint"), elem_id="digit-hint")
            compare = model_picker(["none", *digits], t("digits_compare"), elem_id="digit-compare")
            with gr.Accordion(t("digits_flag_title"), open=False, elem_id="digit-flag"):
                gr.Markdown(t("digits_flag_text"))
                quotas.login_button()  # where flagging needs a signed-in user (on a Space), else nothing
                right = gr.Dropdown([str(d) for d in range(10)], value=None, label=t("digits_right_digit"))
                flag_btn = gr.Button(t("digits_flag_save"), elem_id="digit-flag-save")
                flag_note = gr.Markdown(elem_id="digit-flag-note")

    def classify_digit(image: Any, model: str = digits[0] if digits else "", request: gr.Request | None = None):
        """Read a drawing or photo of one digit: the top 3 classes, the 28x28 image the model saw, a note.

        Args:
            image: a drawing or photo of one digit (any size; dark ink on light paper or light on dark).
            model: a digits model of the zoo; the default reads drawn and photographed digits best.
        """
        with quotas.endpoint(request), speaking(request):
            return classify(pool, image, model)

    def read_sketch(image: Any, model: str, request: gr.Request | None = None):
        """Read the pad as it is drawn on (or when another model is picked)."""
        with speaking(request):
            if image is None:  # an empty pad (the page just opened, or a model picked first): a hint, not an error
                return None, None, say("digits_hint")
            return classify(pool, image, model)

    def compare_digit(image: Any, other: str, request: gr.Request | None = None):
        """The second model's top 3, shown only while one is picked."""
        if other == "none" or image is None:
            return gr.Label(value=None, visible=False)
        with speaking(request):
            top, _, _ = classify(pool, image, other)
            return gr.Label(value=top, visible=True, label=say("digits_compared", model=other))

    def flag_digit(
        image: Any,
        right_digit: str | None = None,
        model: str = digits[0] if digits else "",
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> str:
        """Keep a drawing a model read wrong, with the right digit, in the project's dataset of people's drawings.

        Args:
            image: the drawing (as sent to classify_digit).
            right_digit: the digit it really is, "0" to "9".
            model: the digits model that read it wrong.
        """
        with quotas.endpoint(request), speaking(request):
            user = quotas.signed_in(profile, "flag")  # on a Space, a signed-in user (the name is not stored)
            return flag(pool, image, right_digit, model, quotas.client_id(request, user))

    def flag_drawing(
        drawing: Any,
        picture: Any,
        right_digit: str | None,
        model: str,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> str:
        """Flag what the person gave: the drawing, or else the uploaded picture."""
        given = drawing if drawing is not None else picture
        with quotas.endpoint(request), speaking(request):
            user = quotas.signed_in(profile, "flag")
            return flag(pool, given, right_digit, model, quotas.client_id(request, user))

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
    gr.on(
        [pad.change, compare.change],
        compare_digit,
        [pad, compare],
        label_b,
        api_visibility="private",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    flag_btn.click(flag_drawing, [pad, upload, right, digit_model], flag_note, api_visibility="private")
    # programs and MCP clients send a plain image: the public endpoint lives on a trigger people do not see
    flag_api = gr.Button(visible=False)
    flag_api.click(flag_digit, [upload, right, digit_model], flag_note, api_name="flag_digit")

    def open_link(query: dict[str, str], notes: list[str]) -> list[Any]:
        """A link's model picked (``?tab=digits&model=NAME``)."""
        return [model_from_link(query, notes, ID, pool.current().by_task.get(ID, []))]

    def write_link(model: str) -> dict[str, str]:
        """The model picked, as a link's keys."""
        return {"model": model}

    link = Link(keys=("model",), outputs=[digit_model], opens=open_link, inputs=[digit_model], writes=write_link)
    return TabParts(picker=digit_model, link=link)
