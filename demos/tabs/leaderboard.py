"""The Leaderboard tab: each task's ranking as people read it, the metric-against-latency plot, model cards, a
digits model's misses on the drawn set, and *Try it*. The app's display of a leaderboard row (``zoo.leaderboard``'s
rows) lives here, and only here.

A clicked row's model shows the curve its training_log.json recorded (the Train tab's plot), per step and per epoch.

Ten thousand rows are paged, never sent whole: the filter, the sort and the page pick rows (``board_rows``) and only
the page's ``PAGE_ROWS`` are formatted and sent; the plot shows the zoo's models and the best-ranked submissions.

Public endpoint: /leaderboard.
"""

from __future__ import annotations

import html
import math
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
from demos.widgets import EPOCH_COLUMNS, curve_plot, epoch_curve, loss_curve
from zoo.checkpoint_io import MISSES_NAME, embedded_dir, read_training_log
from zoo.leaderboard import Row, format_book, format_cell, format_labels, labels_column
from zoo.sources import submitted_folder
from zoo.submissions import cards, moderation

TITLE = "Leaderboard"
ID = "leaderboard"
PAGE_ROWS = 50  # the rows one page of the table shows
PLOT_POINTS = 500  # the plot's submitted points at most (the best-ranked); the zoo's own are always shown
RANK = "rank"  # the sort that keeps the ranking's order


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


def sort_choices(task: str) -> list[str]:
    """What the table can be sorted by: the ranking, each of the task's metrics (best first), size, latency."""
    return [RANK, *zoo.TASKS[task].metrics, "params", "CPU ms"] if task in zoo.TASKS else [RANK]


def _sort_value(r: Row, sort: str) -> float | None:
    return r.params if sort == "params" else r.latency_ms if sort == "CPU ms" else r.metrics.get(sort)


def board_rows(z: Zoo, task: str, query: str = "", sort: str = RANK) -> list[Row]:
    """The task's rows whose model name contains ``query`` (any case), in rank order or sorted by ``sort``: a
    metric best first (its task says which way), params and CPU ms smallest first; rows without the value last."""
    known_task(task)
    needle = (query or "").strip().lower()
    rows = [r for r in z.board if r.task == task and needle in r.model.lower()]
    if sort == RANK or sort not in sort_choices(task):
        return rows
    smaller_first = sort in zoo.TASKS[task].lower_is_better or sort in ("params", "CPU ms")

    def by_value(r: Row) -> tuple[bool, float]:
        v = _sort_value(r, sort)
        return v is None, 0.0 if v is None else (v if smaller_first else -v)

    return sorted(rows, key=by_value)  # stable: equal values keep their rank order


def readable_row(r: Row, task: str) -> list[str]:
    """One row as people read it: '=' on a shared rank, percentages and intervals, the book's number, thousands
    separators."""
    rank = f"={r.rank}" if r.tied else str(r.rank)
    metrics = [format_cell(r, m) for m in zoo.TASKS[task].metrics]
    size = f"{r.params:,}" if r.params else ""
    latency = f"{r.latency_ms:.2f}" if r.latency_ms else ""
    origin = "zoo" if r.origin == "zoo" else f"submitted ({r.source})"
    labels = [format_labels(r) for _ in labels_column(task)]  # which latent models saw the digits' labels
    origin += f" {moderation.flag_text(r.note, r.link, markdown=False)}" if r.note else ""  # a moderator's note
    return [rank, r.model, *metrics, *labels, format_book(r), size, latency, "yes" if r.verified else "no", origin]


def readable_board(z: Zoo, task: str, query: str = "") -> list[list[str]]:
    """The whole ranking as people read it; ``query`` keeps the models whose name contains it."""
    return [readable_row(r, task) for r in board_rows(z, task, query)]


def page_number(value: Any) -> int:
    """A page as the page box holds it (a number, perhaps empty or fractional) -> a whole page, at least 1."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 1
    return int(number) if math.isfinite(number) and number >= 1 else 1


def board_page(
    z: Zoo, task: str, query: str = "", sort: str = RANK, page: Any = 1
) -> tuple[list[list[str]], int, int, int]:
    """One page of the filtered, sorted ranking as people read it: (its rows, the page, the pages, the rows in
    all); a page past the last shows the last. Only the page's rows are formatted."""
    rows = board_rows(z, task, query, sort)
    pages = max(1, math.ceil(len(rows) / PAGE_ROWS))
    page = min(page_number(page), pages)
    start = (page - 1) * PAGE_ROWS
    return [readable_row(r, task) for r in rows[start : start + PAGE_ROWS]], page, pages, len(rows)


HEADER_KEYS = {"rank": "col_rank", "model": "col_model", "book": "col_book", "params": "col_params"}
HEADER_KEYS |= {"CPU ms": "col_cpu_ms", "verified": "col_verified", "from": "col_from", "saw labels": "col_saw_labels"}


def shown_headers(task: str) -> list[str]:
    """readable_board's columns in the page's language (metric names stay as the cards write them)."""
    return [say(HEADER_KEYS[h]) if h in HEADER_KEYS else h for h in board_headers(task)]


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
    """One point per model: the task's primary metric against CPU latency, book entries marked; of the submitted
    models, the ``PLOT_POINTS`` best-ranked."""
    primary = zoo.TASKS[task].primary
    points, submitted = [], 0
    for r in z.board:
        if r.task != task or not r.latency_ms or r.metrics.get(primary) is None:
            continue
        if r.origin == "submitted":
            submitted += 1
            if submitted > PLOT_POINTS:
                continue
        points.append(
            {"model": r.model, "CPU ms": r.latency_ms, primary: r.metrics.get(primary), "params": r.params}
            | {"entry": "submitted" if r.origin == "submitted" else "book" if r.book else "variant"}
        )
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
    path = (model_folder(z, name) or Path()) / MISSES_NAME
    if not path.is_file():
        return None
    with Image.open(path) as picture:
        return picture.convert("RGB")


def model_folder(z: Zoo, name: str | None) -> Path | None:
    """Where a ranked model's checkpoint lies: a zoo entry's embedded folder, a submission's in the store."""
    row = z.row(name)
    if row is None:
        return None
    return submitted_folder(row.model) if row.origin == "submitted" else embedded_dir() / row.model


def training_curves(z: Zoo, name: str | None) -> tuple[Any, Any, str]:
    """A model's recorded training: its per-step loss and per-epoch records as the plots take them, shown, with the
    log's word on what its points are where they are not optimizer steps; or both hidden and a sentence saying that
    none was recorded."""
    folder = model_folder(z, name)
    log = read_training_log(folder) if folder is not None else None
    if log is None:
        hidden = gr.LinePlot(None, visible=False)
        return hidden, gr.LinePlot(None, visible=False), say("board_no_curve")
    # one label for every model's loss, and the model named in the epoch plot's axis: the plots build their colour
    # scales when their titles change, not when their points do (``widgets.runs_curve``)
    epochs = epoch_curve(log)
    return (
        gr.LinePlot(loss_curve(log, say("board_run")), visible=True),
        gr.LinePlot(epochs, visible=len(epochs) > 0, x_title=say("board_epoch_axis", name=name)),
        str(log.get("source") or ""),
    )


def as_markdown_block(html_text: str) -> str:
    """Sanitised HTML handed to a ``gr.Markdown`` as one raw HTML block, so that its markdown parser passes it
    through untouched: no blank line (one would end the block), newlines inside ``pre`` written as ``&#10;``."""
    parts = re.split(r"(<pre>.*?</pre>)", html_text, flags=re.S)
    kept = [p.replace("\n", "&#10;") if p.startswith("<pre>") else re.sub(r"\n\s*\n", "\n", p) for p in parts]
    return "<div>\n" + "".join(kept).strip() + "\n</div>"


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The task, filter and sort above the ranking (a page of it, the page controls below) and its plot; a clicked
    row shows its card and a *Try it* button."""
    gr.Markdown(t("board_intro"))
    with gr.Row():
        task_pick = gr.Dropdown(list(zoo.TASKS), value="digits", label=t("board_task"), scale=1, elem_id="board-task")
        search = gr.Textbox(
            label=t("board_filter"), placeholder=t("board_filter_example"), scale=2, elem_id="board-filter"
        )
        sort_pick = gr.Dropdown(
            sort_choices("digits"), value=RANK, label=t("board_sort"), scale=1, elem_id="board-sort"
        )
    first, _, pages, total = board_page(pool, "digits")
    table = gr.Dataframe(
        headers=board_headers("digits"),
        value=first,
        label=t("board_ranking"),
        elem_id="leaderboard-table",
        interactive=False,
        wrap=True,
    )
    with gr.Row(equal_height=True):
        previous = gr.Button(t("board_previous"), scale=0, min_width=150, elem_id="board-previous")
        page = gr.Number(1, precision=0, label=t("board_page"), scale=0, min_width=100, elem_id="board-page")
        following = gr.Button(t("board_next"), scale=0, min_width=150, elem_id="board-next")
        page_info = gr.Markdown(t("board_page_of", page=1, pages=pages, total=total), elem_id="board-page-info")
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
    curve_note = gr.Markdown(elem_id="board-curve-note")
    with gr.Row():
        curve = curve_plot(t("board_curve"), visible=False, elem_id="board-curve")
        per_epoch = gr.LinePlot(
            x=EPOCH_COLUMNS[0],
            y=EPOCH_COLUMNS[1],
            color=EPOCH_COLUMNS[2],
            label=t("board_epochs"),
            visible=False,
            elem_id="board-epochs",
        )
    card = gr.Markdown(elem_id="board-card")

    def leaderboard(task: str = "digits") -> dict[str, Any]:
        """The ranked models of one task with the metrics the project recomputes on the real test sets: the zoo's
        own and the evaluated submissions (columns from and source say which).

        Args:
            task: digits, text, latent or houses.
        """
        return board_table(pool.current(), task)

    def paged(task: str, query: str, sort: str, at: Any) -> tuple[gr.Dataframe, int, str]:
        """A page of the ranking as it is now (re-read when the store changed), its number and what it holds."""
        rows, at, pages, total = board_page(pool.current(), task, query, sort, at)
        info = say("board_page_of", page=at, pages=pages, total=total)
        return gr.Dataframe(value=rows, headers=shown_headers(task)), at, info

    def plotted(task: str) -> gr.ScatterPlot:
        return gr.ScatterPlot(board_plot(pool, task), x="CPU ms", y=zoo.TASKS[task].primary, color="entry")

    def show_task(task: str, query: str, request: gr.Request | None = None):
        """The task picked: its ranking from the first page in rank order, its sort choices and its plot."""
        with speaking(request):
            shown_rows, at, info = paged(task, query, RANK, 1)
        sort = gr.Dropdown(choices=sort_choices(task), value=RANK)
        return shown_rows, plotted(task), sort, at, info

    def show_board(task: str, query: str, sort: str, request: gr.Request | None = None):
        """The ranking filtered by the query and sorted, from its first page."""
        with speaking(request):
            return paged(task, query, sort, 1)

    def show_page(task: str, query: str, sort: str, at: float | None, request: gr.Request | None = None):
        """The page typed in the page box (the last one when it is past the end)."""
        with speaking(request):
            return paged(task, query, sort, at)

    def previous_page(task: str, query: str, sort: str, at: float | None, request: gr.Request | None = None):
        """The page before (the first stays)."""
        with speaking(request):
            return paged(task, query, sort, page_number(at) - 1)

    def next_page(task: str, query: str, sort: str, at: float | None, request: gr.Request | None = None):
        """The page after (the last stays)."""
        with speaking(request):
            return paged(task, query, sort, page_number(at) + 1)

    def open_board(task: str, query: str, sort: str, at: float | None, request: gr.Request | None = None):
        """The tab opened: the page shown and the plot, as the store has them now."""
        with speaking(request):
            shown_rows, at, info = paged(task, query, sort, at)
        return shown_rows, plotted(task), at, info

    def pick_row(evt: gr.SelectData, request: gr.Request | None = None):
        """The clicked row's model: its summary (a zoo entry's), a link that opens it, its misses (a digits model
        with the picture), its recorded training curve, its card and a button to try it (which opens the same
        link)."""
        row = evt.row_value or []  # the clicked row as shown (sorted or filtered in the browser)
        name = row[1] if len(row) > 1 else None
        with speaking(request):
            found = pool.row(name)
            if found is None:
                nothing = gr.LinePlot(None, visible=False)
                hidden = (gr.Button(visible=False), gr.Image(None, visible=False), nothing, nothing, "")
                return None, say("board_no_card"), *hidden, ""
            entry = zoo.ENTRIES.get(name)
            about = f"\n\n{summary(name, entry.summary)}" if entry is not None and found.origin == "zoo" else ""
            title = f"### `{name}`{about}\n\n[{say('board_try_model', model=name)}]({link_to(found.task, model=name)})"
            picture = misses_picture(pool, name)
            gallery = gr.Image(picture, visible=picture is not None)
            button = gr.Button(say("board_try_model", model=name), visible=True)
            return name, title, button, gallery, *training_curves(pool, name), model_card(pool, name)

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
    board = [task_pick, search, sort_pick]
    at_page = [table, page, page_info]
    task_pick.change(
        show_task, [task_pick, search], [table, plot, sort_pick, page, page_info], api_visibility="private"
    )
    search.change(show_board, board, at_page, api_visibility="private")
    sort_pick.input(show_board, board, at_page, api_visibility="private")  # not .change: a new task resets it
    page.submit(show_page, [*board, page], at_page, api_visibility="private")
    previous.click(previous_page, [*board, page], at_page, api_visibility="private")
    following.click(next_page, [*board, page], at_page, api_visibility="private")
    picked = [chosen, card_title, try_it, misses, curve, per_epoch, curve_note, card]
    table.select(pick_row, None, picked, api_visibility="private")
    link = Link(keys=("task",), outputs=[task_pick], opens=open_link, inputs=[task_pick], writes=write_link)
    opened = Handler(open_board, [*board, page], [table, plot, page, page_info])
    return TabParts(on_open=opened, try_it=try_it, chosen=chosen, link=link)
