"""The Train tab: ``/train_model`` through gradio_client against the running app (a real child process trains
house-prices-book for a few epochs), and the job queue itself (``training.jobs``): ranges, stop, restart."""

from __future__ import annotations

import json
import os
import time

import pytest

from demos.i18n_train import TRAIN_EN
from training.jobs import RECIPES, JobError, Jobs, check

FILES = {"model.safetensors", "config.json", "README.md", "training_log.json", "training_curve.png"}
DEFAULTS = dict(lr=None, batch_size=None, width=None, keep_prob=None, seed=0, train_limit=None)


def _train(client, recipe="house-prices-book", epochs=3, **values):
    return client.submit(recipe, epochs, *{**DEFAULTS, **values}.values(), api_name="/train_model")


@pytest.mark.app
def test_train_model_streams_its_progress_and_ends_with_the_evaluators_metric(client, app):
    """Progress while it goes, then the metrics beside the zoo entry's, its files (the curve and its picture too),
    the command; the job is kept in the app's jobs folder (a restart finds it)."""
    job = _train(client, epochs=3)
    outputs = list(job)
    bar, status, curve, table, files, command = job.result()
    assert len(outputs) >= 2 and any("Starting" in o[1] or "Training" in o[1] for o in outputs[:-1])
    assert status.startswith("Done: `house-prices-book-try-") and "100 %" in bar
    rows = {row[0]: row for row in table["data"]}
    assert set(rows) == {"mse", "mae"} and rows["mse"][1] > 0 and rows["mse"][2] > 0  # this run, the zoo entry
    assert {f.rsplit("/", 1)[-1] for f in files} == FILES
    assert command.startswith("python -m training train house-prices-book --name house-prices-book-try-")
    assert "--epochs 3" in command and command.endswith("--out runs")
    losses = [row[1] for row in curve["data"] if row[2] == "this run"]
    assert len(losses) == 3 * 12 and losses[-1] < losses[0]  # every step of 3 epochs, falling
    shipped = [row[1] for row in curve["data"] if row[2] == "the zoo entry"]
    assert len(shipped) == 600  # the zoo entry's own curve beside it (its training_log.json: 100 epochs, thinned)
    name = command.split("--name ")[1].split()[0]
    (result,) = [
        json.loads((p.parent / "result.json").read_text())
        for p in app.jobs.glob("*/request.json")
        if json.loads(p.read_text())["name"] == name
    ]
    assert result["state"] == "done" and set(result["metrics"]) == {"mse", "mae"}


@pytest.mark.app
@pytest.mark.parametrize(
    ("recipe", "values", "sentence"),
    [
        ("house-prices-book", {"lr": 5.0}, "lr must be between 1e-05 and 1 for house-prices-book, got 5."),
        ("house-prices-book", {"epochs": 0}, "epochs must be between 1 and 300 for house-prices-book, got 0."),
        ("mnist-mlp", {"batch_size": 2.5}, "batch_size must be a whole number between 1 and 1000, got 2.5."),
        ("char-lstm-book", {"width": 64, "epochs": 1}, "char-lstm-book has no width to change; leave it empty."),
    ],
)
def test_a_value_out_of_its_range_is_one_sentence_naming_the_range(client, recipe, values, sentence):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        _train(client, recipe, **values).result()
    assert str(info.value) == sentence


@pytest.mark.app
def test_two_clients_at_once_the_second_is_told_its_place_in_line(app):
    """One job at a time per app: the second client's job waits, told its position, then runs to its end."""
    from gradio_client import Client

    first, second = Client(app.url, verbose=False), Client(app.url, verbose=False)
    running = _train(first, epochs=2)
    while not running.outputs():
        time.sleep(0.1)
    queued = _train(second, epochs=2, seed=1)
    while not queued.outputs():
        time.sleep(0.1)
    assert queued.outputs()[0][1].startswith("Queued: position 1 in line")
    assert running.result()[1].startswith("Done:") and queued.result()[1].startswith("Done:")
    assert any(o[1].startswith("Starting") for o in queued.outputs())  # it ran once the first was over


def test_the_ranges_are_the_recipes_and_their_sentences_the_apps():
    """Every recipe's own values lie in its ranges (Start with nothing changed runs), and the sentences JobError
    says in English are the app's English ones (the app says them in Chinese too)."""
    for recipe, knobs in RECIPES.items():
        assert check(recipe, {}) == {k: knob.default for k, knob in knobs.items()}
    for code, text in JobError.TEXT.items():
        assert TRAIN_EN[code] == text


def _wait(predicate, seconds=60):
    deadline = time.time() + seconds
    while not predicate():
        assert time.time() < deadline
        time.sleep(0.1)


def test_stop_ends_the_child_and_keeps_nothing_and_a_restart_loses_no_finished_job(tmp_path):
    """Stop: the running child ends (its process group), its output folder is gone, the job says stopped; a queued
    job leaves the queue at once. A new queue over the same folder lists both, and records a job left unfinished."""
    jobs = Jobs(tmp_path)
    running = jobs.submit("house-prices-book", {"epochs": 300})
    queued = jobs.submit("house-prices-book", {"epochs": 2})
    _wait(lambda: any(e["event"] == "epoch" for e in running.events()))  # it is training
    assert jobs.position(running) == 0 and jobs.position(queued) == 1
    assert jobs.stop(queued.id) and queued.result["state"] == "stopped"
    pid = jobs.proc.pid
    assert jobs.stop(running.id)
    _wait(lambda: running.result is not None, 15)
    assert running.result["state"] == "stopped" and not (running.folder / "out").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    (tmp_path / "left-over").mkdir()
    (tmp_path / "left-over" / "request.json").write_text(json.dumps({"name": "x", "recipe": "house-prices-book"}))
    again = Jobs(tmp_path)
    assert {j.id for j in again.finished()} == {running.id, queued.id, "left-over"}
    assert again.get("left-over").result["reason"] == "restart"
    assert again.get("../etc") is None and not jobs.stop("no-such-job")


def test_a_job_over_its_cpu_time_cap_is_ended_and_says_so(tmp_path):
    """The cap holds the child whatever it runs (here it is reached while torch loads): the job fails, for that
    reason, with nothing kept."""
    jobs = Jobs(tmp_path, cpu_cap_s=1)
    job = jobs.submit("house-prices-book", {"epochs": 300})
    _wait(lambda: job.result is not None, 60)
    assert job.result["state"] == "failed" and job.result["reason"] == "cpu_cap"
    assert not (job.folder / "out").exists()


def _wait_ranked(client, name: str, timeout: float = 120) -> dict:
    """Poll /submissions until ``name`` is evaluated (the app's local worker), then return its record."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        mine = [r for r in client.predict(api_name="/submissions") if r["model"] == name]
        assert not mine or mine[0]["status"] != "failed", mine
        if mine and mine[0]["status"] == "finished":
            return mine[0]
        time.sleep(0.5)
    raise AssertionError(f"{name} was not evaluated in {timeout} s")


@pytest.mark.app
def test_a_finished_job_is_submitted_through_the_submit_tabs_gates_and_ranked(app):
    """Submit to the leaderboard: the session's finished job goes through the Submit tab's gates (its answer is
    the Submit tab's sentence), is evaluated by the app's worker and gets its row; before a job is done, or for
    a session without one, one sentence says what is needed."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    fresh = Client(app.url, verbose=False)
    with pytest.raises(AppError) as info:
        fresh.predict(api_name="/submit_training")
    assert str(info.value) == TRAIN_EN["train_submit_not_done"]
    job = _train(fresh, epochs=3, seed=7)
    status, command = job.result()[1], job.result()[5]
    assert status.startswith("Done:")
    name = command.split("--name ")[1].split()[0]
    verdict = fresh.predict(api_name="/submit_training")
    assert verdict.startswith(f"**{name}** passed the gates") and "a houses model" in verdict, verdict
    _wait_ranked(fresh, name)
    board = fresh.predict(task="houses", api_name="/leaderboard")
    (row,) = [r for r in board["data"] if r[1] == name]
    assert row[board["headers"].index("from")] == "submitted"
    kept = list(app.results.glob(f"models/{name}/training_log.json"))  # its curve went with it
    assert len(kept) == 1 and json.loads(kept[0].read_text())["steps"]["loss"]
    with pytest.raises(AppError) as info:  # the same checkpoint twice: the gates' own refusal, in their words
        fresh.predict(api_name="/submit_training")
    assert str(info.value).startswith("these weights") and f"already submitted as '{name}'" in str(info.value)


def test_progress_is_read_from_where_the_last_poll_stopped_and_a_partial_line_waits(tmp_path):
    """Job.events: a line still being written is not consumed until its newline is there (then it is, whole);
    each poll reads only the bytes written since the last one (the lines read before are not read again)."""
    from training.jobs import Job

    path = tmp_path / "progress.jsonl"
    job = Job("j", tmp_path)
    assert job.events() == []  # no file yet
    step = json.dumps({"event": "step", "loss": 1.5}) + "\n"
    path.write_text(step + step + '{"event": "ep')
    assert [e["event"] for e in job.events()] == ["step", "step"]
    assert job.events(2) == [] and job.events(2) == []  # the partial line, polled twice, is still not taken
    with path.open("a") as f:
        f.write('och", "epoch": 1}')
    assert job.events(2) == []  # complete JSON, but no newline yet: still being written
    with path.open("a") as f:
        f.write("\n")
    assert job.events(2) == [{"event": "epoch", "epoch": 1}]
    assert [e["event"] for e in job.events()] == ["step", "step", "epoch"]
    with path.open("r+") as f:  # bytes already read are not read again: spoiling them changes nothing
        f.write("X")
    with path.open("a") as f:
        f.write('{"event": "done"}\n')
    assert [e["event"] for e in job.events(1)] == ["step", "epoch", "done"]
    assert Job("j", tmp_path).events() == []  # a fresh reader of the spoiled file stops at its first line
