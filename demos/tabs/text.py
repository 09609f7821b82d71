"""The Text tab: a character-level model continues a prompt, streamed as it writes.

Public endpoint: /generate_text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import gradio as gr

from demos import quotas
from demos.state import LIMIT, Zoo
from demos.tabs import TabParts
from demos.widgets import model_picker

TITLE = "Text"
ID = "text"
MAX_LENGTH = 2000
MAX_PROMPT = 10_000
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
        raise gr.Error(f"the prompt has {len(prompt):,} characters; at most {MAX_PROMPT:,} are allowed")
    for name, value, lo, hi in (("length", length, 1, MAX_LENGTH), ("temperature", temperature, 0, 2)):
        if value is None or not math.isfinite(value) or not lo <= value <= hi:
            raise gr.Error(f"{name} must be between {lo} and {hi}, got {value}")
    if 0 < temperature < MIN_TEMPERATURE:
        raise gr.Error(f"temperature must be 0 (greedy) or between {MIN_TEMPERATURE} and 2, got {temperature:g}")
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


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The prompt and sampling settings beside the generated text."""
    texts = pool.by_task.get("text", [])
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
        with quotas.endpoint(request):
            yield from generate(pool, model, prompt, length, temperature, top_k, seed)

    go.click(
        generate_text,
        [prompt, length, temperature, top_k, seed, text_model],
        [generated, text_note],
        api_name="generate_text",
        concurrency_limit=LIMIT,
    )
    return TabParts(picker=text_model)
