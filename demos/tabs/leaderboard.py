"""The Leaderboard tab: each task's ranking as people read it, the metric-against-latency plot, model cards, a
digits model's misses on the drawn set, and *Try it*. The app's display of a leaderboard row (``zoo.leaderboard``'s
rows) lives here, and only here.

Public endpoint: /leaderboard.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from PIL import Image

import zoo
from demos.i18n import refuse, say, speaking, summary, t
from demos.state import Zoo
from demos.tabs import Handler, Link, TabParts, link_to, shown
from zoo.checkpoint_io import MISSES_NAME, embedded_dir
from zoo.leaderboard import format_book, format_cell, format_labels, labels_column
from zoo.sources import submitted_folder
from zoo.submissions import cards, moderation

TITLE = "Leaderboard"
ID = "leaderboard"


def score(z: Zoo, name: str | None, metric: str) -> float | None:
    """One model's value of one metric (None for a model not ranked or a metric not measured)."""
    row = z.row(name)
    return None if row is None else row.metrics.get(metric)


def known_task(task: str) -> None:
    """Refuse a task the zoo does not have, naming the ones it has."""
    if task not in zoo.TASKS:
        raise refuse("board_unknown_task", task=repr(task), tasks=", ".join(zoo.TASKS))


def board_table(z: Zoo, task: str) -> dict[str, Any]:
    """A task's ranking as numbers, for programs: the /leaderboard endpoint."""
    known_task(task)
    metrics = list(zoo.TASKS[task].metrics)
    labels = labels_column(task)
    rows = [
        [r.rank, r.model, *[r.metrics.get(m) for m in metrics], *[format_labels(r) for _ in labels], r.params]
        + [r.latency_ms, "yes" if r.verified else "no", r.origin, r.source_url or r.source]
        + [r.note, r.link]  # moderation: a flagged row's note and link
        for r in z.board
        if r.task == task
    ]
    headers = ["rank", "model", *metrics, *labels, "params", "CPU ms", "verified", "from", "source", "note", "link"]
    return {"headers": headers, "data": rows}


def readable_board(z: Zoo, task: str, query: str = "") -> list[list[str]]:
    """The ranking as people read it: '=' on shared ranks, percentages and intervals, the book's number,
    thousands separators; ``query`` keeps the models whose name contains it."""
    known_task(task)
    needle = (query or "").strip().lower()
    rows = []
    for r in z.board:
        if r.task != task or needle not in r.model.lower():
            continue
        rank = f"={r.rank}" if r.tied else str(r.rank)
        metrics = [format_cell(r, m) for m in zoo.TASKS[task].metrics]
        size = f"{r.params:,}" if r.params else ""
        latency = f"{r.latency_ms:.2f}" if r.latency_ms else ""
        origin = "zoo" if r.origin == "zoo" else f"submitted ({r.source})"
        labels = [format_labels(r) for _ in labels_column(task)]  # which latent models saw the digits' labels
        rows.append([rank, r.model, *metrics, *labels, format_book(r), size, latency, "yes" if r.verified else "no"])
        rows[-1].append(origin + (f" {moderation.flag_text(r.note, r.link, markdown=False)}" if r.note else ""))
    return rows


def board_headers(task: str) -> list[str]:
    """The columns of readable_board."""
    return [
        "rank",
        "model",
        *zoo.TASKS[task].metrics,
        *labels_column(task),
        "book",
        "params",
        "CPU ms",
        "verified",
        "from",
    ]


def board_plot(z: Zoo, task: str) -> pd.DataFrame:
    """One point per model: the task's primary metric against CPU latency, book entries marked."""
    primary = zoo.TASKS[task].primary
    points = [
        {"model": r.model, "CPU ms": r.latency_ms, primary: r.metrics.get(primary), "params": r.params}
        | {"entry": "submitted" if r.origin == "submitted" else "book" if r.book else "variant"}
        for r in z.board
        if r.task == task and r.latency_ms and r.metrics.get(primary) is not None
    ]
    return pd.DataFrame(points, columns=["model", "CPU ms", primary, "params", "entry"])


def model_card(z: Zoo, name: str) -> str:
    """A model's card (its README.md without the YAML header). A submitted card is someone else's words: shown as
    the HTML that the gate's allow-list keeps (``zoo.submissions.cards``), the same rendering the gate compared."""
    row = z.row(name)
    if row is None:
        raise refuse("board_unknown_model", name=repr(name))
    submitted = row.origin == "submitted"
    path = (submitted_folder(name) or Path()) / "README.md" if submitted else embedded_dir() / name / "README.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else f"# {name}\n\n{say('board_no_card_shipped')}"
    if submitted:
        link = row.source_url if (row.source_url or "").startswith("https://") else None
        where = f'<a href="{html.escape(link)}">{html.escape(row.source)}</a>' if link else html.escape(row.source)
        note = f"<p><em>{say('board_submitted_note', where=where)}</em></p>\n"
        return as_markdown_block(cards.sanitise(note) + cards.card_html(text))
    if text.startswith("---"):
        text = text.split("---", 2)[-1]
    return text.strip()


def misses_picture(z: Zoo, name: str | None) -> Image.Image | None:
    """A digits model's misses on the drawn set, as ``python -m training misses NAME --into-checkpoint`` drew them
    into its checkpoint folder; None for a model without that picture. Read when its row is clicked, never at
    start-up: the app neither builds the drawn set nor runs the model over it."""
    row = z.row(name)
    if row is None or row.task != "digits":
        return None
    folder = submitted_folder(row.model) if row.origin == "submitted" else embedded_dir() / row.model
    path = (folder or Path()) / MISSES_NAME
    if not path.is_file():
        return None
    with Image.open(path) as picture:
        return picture.convert("RGB")


def as_markdown_block(html_text: str) -> str:
    """Sanitised HTML handed to a ``gr.Markdown`` as one raw HTML block, so that its markdown parser passes it
    through untouched: no blank line (one would end the block), newlines inside ``pre`` written as ``&#10;``."""
    parts = re.split(r"(<pre>.*?</pre>)", html_text, flags=re.S)
    kept = [p.replace("\n", "&#10;") if p.startswith("<pre>") else re.sub(r"\n\s*\n", "\n", p) for p in parts]
    return "<div>\n" + "".join(kept).strip() + "\n</div>"


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The task and filter above the ranking and its plot; a clicked row shows its card and a *Try it* button."""
    gr.Markdown(t("board_intro"))
    with gr.Row():
        task_pick = gr.Dropdown(list(zoo.TASKS), value="digits", label=t("board_task"), scale=1, elem_id="board-task")
        search = gr.Textbox(
            label=t("board_filter"), placeholder=t("board_filter_example"), scale=2, elem_id="board-filter"
        )
    table = gr.Dataframe(
        headers=board_headers("digits"),
        value=readable_board(pool, "digits"),
        label=t("board_ranking"),
        elem_id="leaderboard-table",
        interactive=False,
        wrap=True,
    )
    plot = gr.ScatterPlot(
        board_plot(pool, "digits"),
        x="CPU ms",
        y=zoo.TASKS["digits"].primary,
        color="entry",
        tooltip=["model", "params"],
        label=t("board_plot"),
        elem_id="leaderboard-plot",
    )
    chosen = gr.State(None)
    with gr.Row():
        card_title = gr.Markdown(t("board_no_card"), elem_id="board-card-title")
        try_it = gr.Button(t("board_try"), visible=False, elem_id="board-try-it")
    misses = gr.Image(
        label=t("board_misses"),
        type="pil",
        interactive=False,
        visible=False,
        elem_id="board-misses",
    )
    card = gr.Markdown(elem_id="board-card")

    def leaderboard(task: str = "digits") -> dict[str, Any]:
        """The ranked models of one task with the metrics the project recomputes on the real test sets: the zoo's
        own and the evaluated submissions (columns from and source say which).

        Args:
            task: digits, text, latent or houses.
        """
        return board_table(pool.current(), task)

    def show_board(task: str, query: str):
        """The ranking and plot of the task picked, filtered by the query."""
        primary = zoo.TASKS[task].primary if task in zoo.TASKS else None
        shown = gr.Dataframe(value=readable_board(pool.current(), task, query), headers=board_headers(task))
        return shown, gr.ScatterPlot(board_plot(pool, task), x="CPU ms", y=primary, color="entry")

    def pick_row(evt: gr.SelectData, request: gr.Request | None = None):
        """The clicked row's model: its summary (a zoo entry's), a link that opens it, its misses (a digits model
        with the picture), its card and a button to try it (which opens the same link)."""
        row = evt.row_value or []  # the clicked row as shown (sorted or filtered in the browser)
        name = row[1] if len(row) > 1 else None
        with speaking(request):
            found = pool.row(name)
            if found is None:
                return None, say("board_no_card"), gr.Button(visible=False), gr.Image(None, visible=False), ""
            entry = zoo.ENTRIES.get(name)
            about = f"\n\n{summary(name, entry.summary)}" if entry is not None and found.origin == "zoo" else ""
            title = f"### `{name}`{about}\n\n[{say('board_try_model', model=name)}]({link_to(found.task, model=name)})"
            picture = misses_picture(pool, name)
            gallery = gr.Image(picture, visible=picture is not None)
            button = gr.Button(say("board_try_model", model=name), visible=True)
            return name, title, button, gallery, model_card(pool, name)

    def open_link(query: dict[str, str], notes: list[str]) -> list[Any]:
        """A link's task (``?tab=leaderboard&task=TASK``)."""
        task = query.get("task")
        if task is None or task in zoo.TASKS:
            return [gr.skip() if task is None else task]
        notes.append(say("link_unknown_task", value=shown(task), allowed=", ".join(zoo.TASKS)))
        return [gr.skip()]

    def write_link(task: str) -> dict[str, str]:
        """The task shown, as a link's key."""
        return {"task": task}

    gr.api(leaderboard, api_name="leaderboard")
    gr.on([task_pick.change, search.change], show_board, [task_pick, search], [table, plot], api_visibility="private")
    table.select(pick_row, None, [chosen, card_title, try_it, misses, card], api_visibility="private")
    link = Link(keys=("task",), outputs=[task_pick], opens=open_link, inputs=[task_pick], writes=write_link)
    opened = Handler(show_board, [task_pick, search], [table, plot])
    return TabParts(on_open=opened, try_it=try_it, chosen=chosen, link=link)
