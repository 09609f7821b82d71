"""The Leaderboard's model view draws the training curve a checkpoint recorded (its training_log.json) with the
Train tab's own plot helpers, for a zoo entry and for a submission; a model without one gets one sentence."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest

from demos.i18n_text import EN
from demos.state import Zoo
from demos.tabs import leaderboard
from demos.widgets import loss_curve, runs_curve
from zoo.catalog import ENTRIES
from zoo.checkpoint_io import TRAINING_LOG_NAME, embedded_dir, read_training_log

LOGGED = sorted(n for n in ENTRIES if (embedded_dir() / n / TRAINING_LOG_NAME).is_file())


@pytest.fixture(scope="module")
def pool() -> Zoo:
    return Zoo.load("embedded")


def test_every_zoo_entry_ships_its_training_log():
    """Every entry's view draws a curve (a log dropped from the wheel would otherwise pass unnoticed)."""
    assert LOGGED == sorted(ENTRIES)


@pytest.mark.parametrize("name", LOGGED)
def test_a_zoo_entry_with_a_training_log_shows_its_curve_per_step_and_per_epoch(pool, name):
    log = read_training_log(embedded_dir() / name)
    steps, per_epoch, note = leaderboard.training_curves(pool, name)
    assert steps.visible and per_epoch.visible and note == (log.get("source") or "")
    losses = [v for v in log["steps"]["loss"] if v is not None]
    assert [row[1] for row in steps.value["data"]] == losses
    assert {row[2] for row in steps.value["data"]} == {EN["board_run"]}  # one label for every model (runs_curve)
    assert per_epoch.x_title == EN["board_epoch_axis"].format(name=name)
    plotted = {key for _, _, key in per_epoch.value["data"]}
    assert plotted == {k for e in log["epochs"] for k in e} - {"epoch", "lr", "seconds", "samples_per_s"}
    for key in plotted:  # train and test loss (every 10th epoch), a GAN's two losses: each value, in order
        assert [row[1] for row in per_epoch.value["data"] if row[2] == key] == [
            e[key] for e in log["epochs"] if key in e
        ]
    assert not {"lr", "seconds", "samples_per_s"} & {row[2] for row in per_epoch.value["data"]}


def test_a_model_without_a_training_log_says_so_in_one_sentence(tmp_path, monkeypatch):
    folder = tmp_path / "reader-digits"  # a submission sent without its training_log.json
    folder.mkdir()
    row = SimpleNamespace(model="reader-digits", origin="submitted", task="digits")
    z = SimpleNamespace(row=lambda name: row if name == "reader-digits" else None)
    monkeypatch.setattr(leaderboard, "submitted_folder", lambda name: folder if name == "reader-digits" else None)
    steps, per_epoch, note = leaderboard.training_curves(z, "reader-digits")
    assert not steps.visible and not per_epoch.visible
    assert note == EN["board_no_curve"] == "No training curve was recorded for this model."
    assert leaderboard.training_curves(z, "no-such-model")[2] == EN["board_no_curve"]


def test_a_submission_with_a_training_log_shows_its_curve(tmp_path, monkeypatch):
    """A submitted checkpoint's folder in the store is read the same way (its own log, under its own name)."""
    folder = tmp_path / "reader-houses"
    folder.mkdir()
    shutil.copy(embedded_dir() / "house-prices-book" / TRAINING_LOG_NAME, folder)
    row = SimpleNamespace(model="reader-houses", origin="submitted", task="houses")
    z = SimpleNamespace(row=lambda name: row if name == "reader-houses" else None)
    monkeypatch.setattr(leaderboard, "submitted_folder", lambda name: folder if name == "reader-houses" else None)
    steps, _, note = leaderboard.training_curves(z, "reader-houses")
    assert steps.visible and note == "" and {r[2] for r in steps.value["data"]} == {EN["board_run"]}
    (folder / TRAINING_LOG_NAME).write_text(json.dumps({"steps": "not columns"}))  # not a log: no curve
    assert leaderboard.training_curves(z, "reader-houses")[2] == EN["board_no_curve"]


def test_every_run_of_a_plot_is_there_from_its_first_points():
    """The plot's colour scale is built from the runs in its first points: a run with none yet gets an empty one."""
    log = read_training_log(embedded_dir() / "house-prices-book")
    both = runs_curve({"the zoo entry": loss_curve(log, "x"), "this run": loss_curve(None, "y")})
    assert list(dict.fromkeys(both["run"])) == ["the zoo entry", "this run"]
    mine = both[both["run"] == "this run"]
    assert len(mine) == 1 and mine["loss"].isna().all()
    assert len(both) == len(loss_curve(log, "x")) + 1
