"""The dlfs-zoo Gradio app: the tabs of ``demos.tabs``, one module each, assembled into one ``gr.Blocks`` over one
model pool (``demos.state.Zoo``), and the wiring between them.

Public API names (for ``gradio_client``): /classify_digit, /flag_digit, /generate_text, /decode_latent,
/encode_digit, /leaderboard, /predict_price, /submit_model, /submissions, /train_model.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

from demos import quotas
from demos.i18n import I18N, LANG_JS, say, speak_per_event, speaking, t
from demos.state import LIMIT, Zoo
from demos.tabs import Tab, TabParts, digits, figures, houses, latent, leaderboard, link_to, submit, text, train
from demos.tabs import shown as shown_value
from demos.widgets import ARM_BRUSH_JS
from zoo.submissions import Worker

TABS: tuple[Tab, ...] = (digits, text, latent, leaderboard, figures, houses, submit, train)  # in the order shown
CSS = "\n".join(getattr(tab, "CSS", "") for tab in TABS)
# "Link to this": the query the server wrote, made a whole address of the page and copied where the browser allows
COPY_LINK_JS = """
(query) => {
  if (!query || !query.startsWith("?")) return query;
  const link = window.location.origin + window.location.pathname + query;
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(link).catch(() => {});
  return link;
}
"""


def opened(tab_id: str):
    """The handler that keeps which tab is open (what *Link to this* writes)."""

    def keep_open_tab() -> str:
        return tab_id

    return keep_open_tab


def build(z: Zoo, worker: Worker | None = None) -> gr.Blocks:
    """Every tab over one pool (``worker``: the submissions queue, else the pool's own), then what crosses tabs:
    the model pickers take in newly ranked models, a link (``?tab=ID&...``, each tab's ``Link``) opens a tab in a
    state, *Link to this* writes the current one, *Try it* opens a model's link, some tabs re-read on opening."""
    if worker is not None:
        z.worker = worker
    age = quotas.CACHE_MINUTES * 60  # uploads and outputs in Gradio's cache, deleted once this old
    with gr.Blocks(title="dlfs-zoo: Deep Learning from Scratch, chapter 7", delete_cache=(age // 2, age)) as demo:
        gr.Markdown(t("app_intro"))
        with gr.Row(equal_height=True):
            gr.Markdown(t("app_languages"), elem_id="app-languages")
            link_box = gr.Textbox(label=t("link_box"), buttons=["copy"], interactive=False, scale=2, elem_id="link-box")
            link_btn = gr.Button(t("link_button"), scale=0, min_width=120, elem_id="link-button")
        link_note = gr.Markdown(visible=False, elem_id="link-note")
        open_tab = gr.State(TABS[0].ID)
        built: list[tuple[Tab, gr.Tab, TabParts]] = []
        with gr.Tabs() as tabs:
            for tab in TABS:
                with gr.Tab(t(f"tab_{tab.ID}"), id=tab.ID, elem_id=f"tab-{tab.ID}") as shown:
                    built.append((tab, shown, tab.build(z, demo)))
        pickers = {tab.ID: parts.picker for tab, _, parts in built if parts.picker is not None}
        offered = {tab.ID: parts.also_offered for tab, _, parts in built if parts.picker is not None}
        links = {tab.ID: parts.link for tab, _, parts in built if parts.link is not None}
        link_outputs = [c for link in links.values() for c in link.outputs]
        link_inputs = [c for link in links.values() for c in link.inputs]

        def refresh_pickers():
            """Submitted models join their task's model picker once evaluated."""
            by_task = z.current().by_task
            return [gr.Dropdown(choices=[*offered[task], *by_task.get(task, [])]) for task in pickers]

        def open_state(query: dict[str, str]) -> list:
            """The updates a link makes: its tab selected and that tab's keys read (each tab's ``Link``); what is
            wrong in it falls back to the default, said in a note."""
            notes: list[str] = []
            tab_id = query.get("tab") or TABS[0].ID
            if tab_id not in {tab.ID for tab in TABS}:
                notes.append(
                    say("link_unknown_tab", value=shown_value(tab_id), allowed=", ".join(tb.ID for tb in TABS))
                )
                tab_id = TABS[0].ID
            updates = []
            for link_id, link in links.items():
                updates += link.opens(query, notes) if link_id == tab_id else [gr.skip()] * len(link.outputs)
            note = gr.Markdown("\n\n".join(f"⚠ {n}" for n in notes), visible=bool(notes))
            return [gr.Tabs(selected=tab_id), tab_id, note, *updates]

        def open_page_link(request: gr.Request):
            """The page's own address opens its state (``?tab=latent&model=dcgan-28&code=...``)."""
            with speaking(request):
                query = dict(request.query_params) if request is not None else {}
                return open_state({k: v for k, v in query.items() if isinstance(v, str)})

        def try_model(name: str | None, request: gr.Request | None = None):
            """Open the chosen model's link (its task's tab with the model picked), as the card's link does."""
            with speaking(request):
                task = z.task_of(name)
                return open_state({"tab": task, "model": name} if task and name else {"tab": leaderboard.ID})

        def write_link(tab_id: str, *values):
            """The open tab's state as a link (its query; the browser makes it a whole address)."""
            query, at = {}, 0
            for link_id, link in links.items():
                if link_id == tab_id:
                    query = link.writes(*values[at : at + len(link.inputs)])
                at += len(link.inputs)
            return link_to(tab_id, **query)

        opening = [tabs, open_tab, link_note, *link_outputs]
        loaded = demo.load(open_page_link, None, opening, api_visibility="private")
        for link in links.values():
            if link.then is not None:
                loaded.then(*link.then, api_visibility="private")
        link_btn.click(write_link, [open_tab, *link_inputs], link_box, api_visibility="private").then(
            None, link_box, link_box, js=COPY_LINK_JS, api_visibility="private"
        )
        tabs.select(refresh_pickers, None, list(pickers.values()), api_visibility="private")
        for tab, shown, parts in built:
            shown.select(opened(tab.ID), None, open_tab, api_visibility="private")
            if parts.on_open is not None:
                shown.select(*parts.on_open, api_visibility="private")
            if parts.try_it is not None:
                tried = parts.try_it.click(try_model, parts.chosen, opening, api_visibility="private")
                for link in links.values():
                    if link.then is not None:
                        tried.then(*link.then, api_visibility="private")
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
    return speak_per_event(demo)


def launch(demo: gr.Blocks, **kwargs: Any) -> None:
    """Serve with the app's JS, CSS and words (English and Chinese) and no extra file access (``allowed_paths``
    stays empty); an upload over MAX_UPLOAD_MB is refused by Gradio before it reaches a handler."""
    upload = f"{quotas.MAX_UPLOAD_MB}mb"
    js = f"() => {{ ({ARM_BRUSH_JS.strip()})(); ({LANG_JS.strip()})(); }}"
    demo.launch(js=js, css=CSS, i18n=I18N, allowed_paths=[], show_error=True, max_file_size=upload, **kwargs)
