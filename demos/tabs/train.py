"""The Train tab: a zoo recipe that trains in minutes on a CPU, its hyperparameters changed within their ranges, run
as ``python -m training train`` in a child process (``training.jobs``: one job at a time per app, the rest queued,
each within a CPU-time cap); a live loss curve beside the zoo entry's own, then the evaluator's metrics beside the
entry's, the checkpoint's files and the command that reproduces it.

Public endpoint: /train_model (streams). Undocumented: /submit_training (this session's finished job, through the
Submit tab's gates: what the button does, callable from a client's own session).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr
import pandas as pd

from demos import quotas
from demos.i18n import refuse, say, speaking, t
from demos.state import Zoo
from demos.tabs import Handler, TabParts
from demos.tabs.submit import submit_answer
from demos.widgets import CURVE_COLUMNS, curve_plot, loss_curve, runs_curve
from training.jobs import CPU_CAP_S, KNOBS, RECIPES, Job, JobError, Jobs, app_jobs
from zoo.catalog import ENTRIES
from zoo.checkpoint_io import TRAINING_LOG_NAME, embedded_dir, read_training_log
from zoo.hub import HUB_FILES

TITLE = "Train"
ID = "train"
POLL_S = 0.5  # how often a follower reads its job's progress
METRIC_HEADERS = ["metric", "this run", "zoo entry", "book"]


def knob_info(recipe: str, knob: str) -> str:
    """The allowed range and the recipe's own value, as the field's note says it."""
    k = RECIPES[recipe][knob]
    return say("train_range_info", lo=k.lo, hi=k.hi, default=k.default)


def knob_updates(recipe: str) -> list[Any]:
    """Each field set to the recipe's own value, its range in its note; fields the recipe lacks hidden."""
    knobs = RECIPES.get(recipe, {})
    return [
        gr.Number(value=knobs[k].default, info=knob_info(recipe, k), visible=True)
        if k in knobs
        else gr.Number(value=None, visible=False)
        for k in KNOBS
    ]


def knob_field(recipe: str, knob: str) -> gr.Number:
    """One field as the page first shows it: the recipe's value, its range in the note (hidden if it lacks it)."""
    k = RECIPES[recipe].get(knob)
    info = t("train_range_info", lo=k.lo, hi=k.hi, default=k.default) if k else None
    return gr.Number(
        k.default if k else None,
        label=t(f"train_knob_{knob}"),
        info=info,
        visible=bool(k),
        min_width=120,
        elem_id=f"train-{knob.replace('_', '-')}",
    )


def parent_curve(recipe: str) -> pd.DataFrame:
    """The zoo entry's own curve, when its shipped checkpoint carries a training_log.json."""
    return loss_curve(read_training_log(embedded_dir() / recipe), recipe)


def both_curves(parent: pd.DataFrame, yours: pd.DataFrame) -> pd.DataFrame:
    """The zoo entry's curve and this run's, under the two labels every job's plot uses."""
    return runs_curve({say("train_run_entry"): parent, say("train_run_yours"): yours})


def progress_bar(fraction: float) -> str:
    percent = max(0.0, min(1.0, fraction)) * 100
    return f'<progress value="{percent:.1f}" max="100" style="width:100%"></progress> {percent:.0f} %'


def clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def metrics_table(z: Zoo, recipe: str, metrics: dict[str, float]) -> list[list[Any]]:
    """The run's metrics beside the zoo entry's (its leaderboard row) and the book's number."""
    row = z.rows.get(recipe)
    theirs = row.metrics if row is not None else {}
    book = ENTRIES[recipe].book
    return [[k, round(v, 4), _cell(theirs.get(k)), _cell(book.get(k))] for k, v in metrics.items() if v is not None]


def _cell(v: float | None) -> Any:
    return "" if v is None else round(v, 4)


def downloads(job: Job) -> list[str]:
    """The job's checkpoint files, copied where Gradio serves files from (its temporary folder)."""
    files = job.files()
    if not files:
        return []
    into = tempfile.mkdtemp(prefix=f"dlfs-train-{job.id}-")
    return [shutil.copy(f, into) for f in files]


def shown_command(command: str) -> str:
    return command.replace("--out out", "--out runs")


def follow(z: Zoo, jobs: Jobs, job: Job) -> Iterator[tuple]:
    """The job's progress until it is over: (bar, status, curve, metrics, files, command, job id), each time
    something changed."""
    request = job.request
    recipe, name = request["recipe"], request["name"]
    parent = parent_curve(recipe)
    points: list[tuple[float, float, str]] = []
    seen, first, last_status, latest = 0, None, None, None
    epoch_line = ""
    while True:
        position = jobs.position(job)
        events = job.events(seen)  # only what is new since the last poll
        seen += len(events)
        fraction, status = 0.0, say("train_starting", name=name)
        for e in events:
            if e["event"] in ("step", "evaluating"):
                latest = e
            if e["event"] == "step" and e.get("loss") is not None:
                points.append((e["place"], e["loss"], name))
                first = first or (e["elapsed"], e["fraction"])
            if e["event"] == "epoch":
                epoch_line = say("train_epoch_line", epoch=e["epoch"], loss=e.get("train_loss") or float("nan"))
                if e.get("test_loss") is not None:
                    epoch_line += say("train_test_loss", loss=e["test_loss"])
        if position > 0:
            status = say("train_queued", position=position)
        elif latest is not None and latest["event"] == "evaluating":
            fraction, status = 1.0, say("train_evaluating", name=name)
        elif latest is not None and first is not None:
            fraction = latest["fraction"]
            done = fraction - first[1]
            eta = (latest["elapsed"] - first[0]) / done * (1 - fraction) if done > 0 else 0.0
            status = say(
                "train_running",
                name=name,
                epoch=latest["epoch"],
                epochs=latest["epochs"],
                rate=latest["samples_per_s"],
                elapsed=clock(latest["elapsed"]),
                eta=clock(eta),
            )
        if position < 0 and job.result is not None:
            yield finished(z, job, parent)
            return
        status = status + (f"\n\n{epoch_line}" if epoch_line else "")
        if status != last_status or events:
            curve = both_curves(parent, pd.DataFrame(points, columns=CURVE_COLUMNS))
            yield progress_bar(fraction), status, curve, [], [], "", job.id
            last_status = status
        time.sleep(POLL_S)


def finished(z: Zoo, job: Job, parent: pd.DataFrame | None = None) -> tuple:
    """What a finished job shows: its whole curve from training_log.json, metrics, files and command."""
    request, result = job.request, job.result or {}
    recipe, name = request["recipe"], request["name"]
    parent = parent_curve(recipe) if parent is None else parent
    state = result.get("state")
    note = "" if len(parent) else "\n\n" + say("train_parent_no_curve", parent=recipe)
    if state == "done":
        files = job.files()
        log = read_training_log(files[0].parent) if files else None
        curve = both_curves(parent, loss_curve(log, name))
        seconds = (log or {}).get("train_seconds") or 0.0
        status = say("train_done", name=name, seconds=seconds) + note
        table = metrics_table(z, recipe, result.get("metrics") or {})
        command = shown_command(result["command"])
        return progress_bar(1.0), status, curve, table, downloads(job), command, job.id
    if state == "stopped":
        status = say("train_stopped", name=name)
    elif result.get("reason") == "cpu_cap":
        status = say("train_capped", name=name, cap=CPU_CAP_S)
    else:
        status = say("train_failed", name=name)
    return progress_bar(0.0), status, both_curves(parent, parent.iloc[:0]), [], [], "", job.id


def earlier_choices(jobs: Jobs) -> list[tuple[str, str]]:
    """Finished jobs, newest first: (what the picker shows, job id)."""
    out = []
    for job in jobs.finished()[:50]:
        request, result = job.request, job.result or {}
        out.append((f"{request['name']} ({result.get('state', '?')})", job.id))
    return out


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The recipe and its fields, Start and Stop, the live curve and progress, then metrics, files and command;
    earlier jobs (kept across restarts) to look at again."""
    jobs = app_jobs()
    first = next(iter(RECIPES))
    gr.Markdown(t("train_intro", cap=CPU_CAP_S // 60))
    with gr.Row():
        recipe = gr.Dropdown(list(RECIPES), value=first, label=t("train_recipe"), scale=2, elem_id="train-recipe")
        start_btn = gr.Button(t("train_start"), variant="primary", scale=0, min_width=120, elem_id="train-start")
        stop_btn = gr.Button(t("train_stop"), variant="stop", scale=0, min_width=120, elem_id="train-stop")
    with gr.Row():
        knobs = [knob_field(first, k) for k in KNOBS]
    bar = gr.HTML(progress_bar(0.0), elem_id="train-bar")
    status = gr.Markdown(elem_id="train-status")
    curve = curve_plot(t("train_curve"), elem_id="train-curve")
    table = gr.Dataframe(headers=METRIC_HEADERS, label=t("train_metrics"), elem_id="train-metrics")  # full width
    with gr.Row():
        files = gr.File(label=t("train_files"), file_count="multiple", interactive=False)
        command = gr.Textbox(label=t("train_command"), buttons=["copy"], interactive=False)
    with gr.Row(equal_height=True):
        submit_btn = gr.Button(t("train_submit"), visible=False, scale=0, min_width=200, elem_id="train-submit")
        verdict = gr.Markdown(elem_id="train-verdict")
    job_id = gr.State("")
    with gr.Row():
        earlier = gr.Dropdown(choices=earlier_choices(jobs), label=t("train_earlier"), scale=2, elem_id="train-earlier")
        follow_btn = gr.Button(t("train_follow"), scale=0, min_width=160, elem_id="train-follow")
    outputs = [bar, status, curve, table, files, command, job_id]

    def show_recipe(recipe: str, request: gr.Request = None):
        """The chosen recipe's fields, each at the recipe's value with its range in its note."""
        with speaking(request):
            return knob_updates(recipe)

    def train_model(
        recipe: str,
        epochs: float | None,
        lr: float | None,
        batch_size: float | None,
        width: float | None,
        keep_prob: float | None,
        seed: float | None,
        train_limit: float | None,
        request: gr.Request = None,
    ):
        """Train a variant of a zoo recipe (house-prices-book, mnist-mlp, mnist-convnet-book, char-lstm-book,
        autoencoder-book) with changed hyperparameters, streaming its progress, then its metrics and files.

        Args:
            recipe: the zoo entry whose recipe is trained.
            epochs: passes over the training data (empty: the recipe's).
            lr: learning rate (empty: the recipe's).
            batch_size: examples per optimizer step (empty: the recipe's).
            width: the hidden layer's size, the first convolution's channels or the code's size (empty: the recipe's).
            keep_prob: the probability that dropout keeps a unit (empty: the recipe's).
            seed: random seed (empty: 0).
            train_limit: train on the first N examples only (empty: all).
        """
        with speaking(request):
            values = dict(
                epochs=epochs,
                lr=lr,
                batch_size=batch_size,
                width=width,
                keep_prob=keep_prob,
                seed=seed,
                train_limit=train_limit,
            )
            with quotas.endpoint(request):
                try:
                    job = jobs.submit(recipe, values)
                except JobError as e:
                    raise refuse(e.code, **e.fields) from None
            yield from follow(pool, jobs, job)

    def stop_training(job: str, request: gr.Request = None) -> str:
        """Stop this page's job: out of the queue, or its child process ended; nothing of it is kept."""
        with speaking(request):
            return say("train_stop_sent") if jobs.stop(job) else say("train_stop_none")

    def follow_running(request: gr.Request = None):
        """The job running now, followed to its end (a reloaded page finds it again this way)."""
        with speaking(request):
            if jobs.running is None:
                raise refuse("train_nothing_running")
            yield from follow(pool, jobs, jobs.running)

    def follow_on_load(request: gr.Request = None):
        """A page opened (or reloaded) while a job runs or waits: the tab follows it at once, as *Follow the running
        job* would; otherwise the tab is left as it is."""
        with speaking(request):
            job = jobs.current()
            if job is None:
                yield tuple(gr.skip() for _ in outputs)
                return
            yield from follow(pool, jobs, job)

    def show_earlier(chosen: str | None, request: gr.Request = None):
        """A finished job picked from the list: its curve, metrics, files and command."""
        with speaking(request):
            job = jobs.get(chosen or "")
            if job is None or job.result is None:
                raise refuse("train_no_such_job")
            return finished(pool, job)

    def submit_training(job: str, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None) -> str:
        """Submit the finished job this page shows to the leaderboard: its checkpoint's three files and its
        training_log.json (the curve its row's view draws) go through the Submit tab's gates and queue, and the
        answer is the Submit tab's own."""
        with speaking(request):
            found = jobs.get(job or "")
            if found is None or (found.result or {}).get("state") != "done":
                raise refuse("train_submit_not_done")
        files = [str(f) for f in found.files() if f.name in (*HUB_FILES, TRAINING_LOG_NAME)]
        return submit_answer(pool.worker, "", files, "", request, profile)

    def offer_submit(job: str):
        """*Submit to the leaderboard* shown once the page's job finished with a checkpoint."""
        found = jobs.get(job or "")
        return gr.Button(visible=found is not None and (found.result or {}).get("state") == "done")

    def withdraw_offer():
        """A new job started: no submit button (nor the last answer) until it is done."""
        return gr.Button(visible=False), ""

    def list_earlier(request: gr.Request = None):
        """Finished jobs as the tab opens (others may have finished meanwhile)."""
        return gr.Dropdown(choices=earlier_choices(jobs))

    recipe.change(show_recipe, recipe, knobs, api_visibility="private")
    offer = Handler(offer_submit, [job_id], [submit_btn])
    start_btn.click(withdraw_offer, None, [submit_btn, verdict], api_visibility="private").then(
        train_model, [recipe, *knobs], outputs, api_name="train_model"
    ).then(*offer, api_visibility="private")
    stop_btn.click(stop_training, job_id, status, api_visibility="private")
    follow_btn.click(follow_running, None, outputs, api_visibility="private").then(*offer, api_visibility="private")
    earlier.select(show_earlier, earlier, outputs, api_visibility="private").then(*offer, api_visibility="private")
    demo.load(follow_on_load, None, outputs, api_visibility="private").then(*offer, api_visibility="private")
    submit_btn.click(submit_training, job_id, verdict, api_name="submit_training", api_visibility="undocumented")
    return TabParts(on_open=Handler(list_earlier, [], [earlier]))
