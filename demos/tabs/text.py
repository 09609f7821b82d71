"""The Text tab: a character-level model continues a prompt, streamed as it writes.

Public endpoint: /generate_text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import gradio as gr

from demos import quotas
from demos.i18n import refuse, say, speaking, t
from demos.state import LIMIT, Zoo
from demos.tabs import Link, TabParts, model_from_link
from demos.widgets import model_picker

TITLE = "Text"
ID = "text"
MAX_LENGTH = 2000
MAX_PROMPT = 10_000
MAX_LINK_PROMPT = 1000  # a link's prompt (links longer than a few thousand characters break in browsers and chats)
DEFAULT_PROMPT = "ROMEO:\n"
MAX_SEED = 2**32 - 1
MIN_TEMPERATURE = 0.01  # below it (but above 0) logits / temperature overflow to infinity: no distribution to draw


def generate(
    z: Zoo, model_name: str, prompt: str, length: float, temperature: float, top_k: float, seed: float
) -> Iterator[tuple[str, str]]:
    """The prompt's known characters and the continuation so far (every 25 characters), with a note on the
    characters skipped; out-of-range settings become a gr.Error."""
    model = z.get(model_name, "text")
    prompt = prompt or ""
    if len(prompt) > MAX_PROMPT:
        raise refuse("text_prompt_long", length=len(prompt), most=MAX_PROMPT)
    for name, value, lo, hi in (("length", length, 1, MAX_LENGTH), ("temperature", temperature, 0, 2)):
        if value is None or not math.isfinite(value) or not lo <= value <= hi:
            raise refuse("text_out_of_range", name=name, lo=lo, hi=hi, value=value)
    if 0 < temperature < MIN_TEMPERATURE:
        raise refuse("text_temperature_small", least=MIN_TEMPERATURE, value=temperature)
    if top_k is None or not math.isfinite(top_k) or not 0 <= top_k <= 100:
        raise refuse("text_top_k_range", value=top_k)
    if seed is None or not math.isfinite(seed) or not 0 <= seed <= MAX_SEED:
        raise refuse("text_seed_range", most=MAX_SEED, value=seed)
    _, skipped = model.encode(prompt)
    note = say("text_skipped", skipped=repr(skipped)) if skipped else ""
    out = "".join(c for c in prompt if c in model.vocab)
    stream = model.generate(prompt[-1000:], int(length), float(temperature), int(top_k) or None, int(seed))
    for i, ch in enumerate(stream, 1):
        out += ch
        if i % 25 == 0:
            yield out, note
    yield out, note


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The prompt and sampling settings beside the generated text."""
    texts = pool.by_task.get("text", [])
    with gr.Row():
        with gr.Column():
            text_model = model_picker(texts, t("model_ranked"), elem_id="text-model")
            prompt = gr.Textbox(DEFAULT_PROMPT, label=t("text_prompt"), lines=3, elem_id="text-prompt")
            length = gr.Slider(1, MAX_LENGTH, 300, step=1, label=t("text_length"), elem_id="text-length")
            temperature = gr.Slider(0, 2, 0.8, step=0.05, label=t("text_temperature"))
            top_k = gr.Slider(0, 100, 0, step=1, label=t("text_top_k"))
            seed = gr.Number(0, precision=0, minimum=0, maximum=MAX_SEED, label=t("text_seed"))
            go = gr.Button(t("text_go"), variant="primary", elem_id="text-go")
        with gr.Column():
            generated = gr.Textbox(label=t("text_out"), lines=18, elem_id="text-out")
            text_note = gr.Markdown()

    def generate_text(
        prompt: str = DEFAULT_PROMPT,
        length: float = 300,
        temperature: float = 0.8,
        top_k: float = 0,
        seed: float = 0,
        model: str = texts[0] if texts else "",
        request: gr.Request | None = None,
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
        with quotas.endpoint(request), speaking(request):
            yield from generate(pool, model, prompt, length, temperature, top_k, seed)

    go.click(
        generate_text,
        [prompt, length, temperature, top_k, seed, text_model],
        [generated, text_note],
        api_name="generate_text",
        concurrency_limit=LIMIT,
    )

    def open_link(query: dict[str, str], notes: list[str]) -> list[Any]:
        """A link's model and prompt (``?tab=text&model=NAME&prompt=TEXT``); a prompt over MAX_LINK_PROMPT is not
        taken."""
        model = model_from_link(query, notes, ID, pool.current().by_task.get(ID, []))
        given = query.get("prompt")
        if given is not None and len(given) > MAX_LINK_PROMPT:
            notes.append(say("link_long_prompt", length=len(given), most=MAX_LINK_PROMPT))
            given = None
        return [model, gr.skip() if given is None else given]

    def write_link(model: str, text: str) -> dict[str, str]:
        """The model and the prompt (cut to what a link carries), as a link's keys."""
        return {"model": model, "prompt": (text or "")[:MAX_LINK_PROMPT]}

    link = Link(
        keys=("model", "prompt"),
        outputs=[text_model, prompt],
        opens=open_link,
        inputs=[text_model, prompt],
        writes=write_link,
    )
    return TabParts(picker=text_model, link=link)
