"""The dlfs-zoo Gradio app: the tabs of ``demos.tabs``, one module each, assembled into one ``gr.Blocks`` over one
model pool (``demos.state.Zoo``), and the wiring between them.

Public API names (for ``gradio_client``): /classify_digit, /flag_digit, /generate_text, /decode_latent,
/encode_digit, /leaderboard, /predict_price, /submit_model, /submissions.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

from demos import quotas
from demos.state import LIMIT, Zoo
from demos.tabs import Tab, TabParts, digits, figures, houses, latent, leaderboard, submit, text
from demos.widgets import ARM_BRUSH_JS
from zoo.submissions import Worker

TABS: tuple[Tab, ...] = (digits, text, latent, leaderboard, figures, houses, submit)  # in the order shown


def build(z: Zoo, worker: Worker | None = None) -> gr.Blocks:
    """Every tab over one pool (``worker``: the submissions queue, else the pool's own), then what crosses tabs:
    the model pickers take in newly ranked models, *Try it* opens a model's tab, some tabs re-read on opening."""
    if worker is not None:
        z.worker = worker
    age = quotas.CACHE_MINUTES * 60  # uploads and outputs in Gradio's cache, deleted once this old
    with gr.Blocks(title="dlfs-zoo: Deep Learning from Scratch, chapter 7", delete_cache=(age // 2, age)) as demo:
        gr.Markdown(
            "# dlfs-zoo\nThe models of *Deep Learning from Scratch* (Weidman, 2019), chapter 7, "
            "trained, verified and ranked. Every model here is loaded from its zoo checkpoint."
        )
        built: list[tuple[Tab, gr.Tab, TabParts]] = []
        with gr.Tabs() as tabs:
            for tab in TABS:
                with gr.Tab(tab.TITLE, id=tab.ID) as shown:
                    built.append((tab, shown, tab.build(z, demo)))
        pickers = {tab.ID: parts.picker for tab, _, parts in built if parts.picker is not None}
        offered = {tab.ID: parts.also_offered for tab, _, parts in built if parts.picker is not None}

        def refresh_pickers():
            """Submitted models join their task's model picker once evaluated."""
            by_task = z.current().by_task
            return [gr.Dropdown(choices=[*offered[task], *by_task.get(task, [])]) for task in pickers]

        def try_model(name: str | None):
            """Open the chosen model's task tab with the model picked."""
            task = z.task_of(name)
            updates = [gr.Dropdown(value=name) if t == task else gr.Dropdown() for t in pickers]
            return gr.Tabs(selected=task or leaderboard.ID), *updates

        tabs.select(refresh_pickers, None, list(pickers.values()), api_visibility="private")
        for _, shown, parts in built:
            if parts.on_open is not None:
                shown.select(*parts.on_open, api_visibility="private")
            if parts.try_it is not None:
                parts.try_it.click(try_model, parts.chosen, [tabs, *pickers.values()], api_visibility="private")
    return demo


def create_app(source: str | None = None) -> gr.Blocks:
    """The app over the zoo's models from ``source`` (default: $DLFS_ZOO_SOURCE, else the embedded checkpoints)."""
    source = source or os.environ.get("DLFS_ZOO_SOURCE", "embedded")
    if source not in ("embedded", "hf"):
        raise ValueError(f"DLFS_ZOO_SOURCE must be 'embedded' or 'hf', got {source!r}")
    demo = build(Zoo.load(source))
    # Gradio's queue is first come, first served, per event, with no notion of a client: at most LIMIT runs of an
    # event at once, QUEUE_SIZE waiting in all; one client's share is capped in the handlers (demos.quotas)
    demo.queue(default_concurrency_limit=LIMIT, max_size=quotas.QUEUE_SIZE)
    return demo


def launch(demo: gr.Blocks, **kwargs: Any) -> None:
    """Serve with the app's JS and no extra file access (``allowed_paths`` stays empty); an upload over
    MAX_UPLOAD_MB is refused by Gradio before it reaches a handler."""
    upload = f"{quotas.MAX_UPLOAD_MB}mb"
    demo.launch(js=ARM_BRUSH_JS, allowed_paths=[], show_error=True, max_file_size=upload, **kwargs)
