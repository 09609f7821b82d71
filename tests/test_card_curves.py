"""Every card shows its model's training curve: the picture ``training.curve_image`` draws from training_log.json,
the logs of fits without optimizer steps (a least-squares fit, a forest), and the logs ``training migrate`` writes
for a checkpoint that predates them, from the per-epoch records its card kept."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

from PIL import Image

from training import card as cards
from training.curve_image import curve_png, log_ticks, nice_ticks
from training.curves import log_from_history
from zoo.checkpoint_io import CURVE_IMAGE_NAME, TRAINING_LOG_NAME, embedded_dir, read_training_log

from conftest import ROOT

RECORDS = [
    {"epoch": 1, "train_loss": 2.5, "lr": 0.01, "seconds": 2.0, "samples_per_s": 640.0, "test_loss": 2.0},
    {"epoch": 2, "train_loss": 1.5, "lr": 0.01, "seconds": 4.0, "samples_per_s": 320.0, "test_loss": 1.75},
    {"epoch": 3, "train_loss": 1.25, "lr": 0.005, "seconds": 1.0, "samples_per_s": 1280.0, "test_loss": 1.7},
]


def test_a_cards_per_epoch_records_become_a_log_whose_points_are_the_epochs_mean_losses():
    log = log_from_history(RECORDS, name="m", batch_size=32, seed=0, metrics={"loss": 1.7})
    assert log["steps"] == {"every": 40, "step": [40, 80, 120], "epoch": [1.0, 2.0, 3.0], "loss": [2.5, 1.5, 1.25]}
    assert log["epochs"] == RECORDS and log["name"] == "m" and "per-epoch records" in log["source"]
    assert log_from_history(RECORDS[:1], batch_size=32) is None  # one epoch is no curve
    uneven = [RECORDS[0], {**RECORDS[1], "seconds": 8.0}]  # epochs of other lengths: no steps per epoch to give
    log = log_from_history(uneven, name="m", batch_size=32)
    assert log["steps"]["every"] is None and log["steps"]["step"] == [1, 2]
    assert "Training loss, 2 points, from first" in cards._curve_section("m", log) and curve_png(log, "m")
    assert log_from_history([*RECORDS, {"epoch": 4, "loss_d": 1.0}], batch_size=32) is None


def test_the_picture_is_the_logs_and_changes_with_it():
    log = log_from_history(RECORDS, name="m", batch_size=32)
    first = curve_png(log, "m: training curve")
    assert first == curve_png(log, "m: training curve")
    log["steps"]["loss"][1] = 2.25
    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(curve_png(log, "m: training curve"))) as b:
        assert a.size == b.size == (720, 400) and a.tobytes() != b.tobytes()


def test_the_cards_line_of_the_loss_falls_where_the_loss_falls():
    assert cards.sparkline([4.0, 3.0, 2.0, 1.0, None]) == "█▆▃▁"
    assert cards.sparkline([600.0, 60.0, 6.0]) == "█▅▁"  # over 30x: a log scale, as the picture
    assert len(cards.sparkline([float(v) for v in range(1, 1001)])) == 59 and cards.sparkline([]) == ""


def test_axis_ticks_cover_the_values():
    ticks = nice_ticks(0.13, 2.71)
    assert ticks[0] <= 0.13 and ticks[-1] >= 2.71 and len(ticks) <= 8
    assert log_ticks(3.0, 600.0) == [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]


def test_a_forests_and_a_least_squares_fits_curves_end_at_the_whole_fits_training_loss():
    """A forest's points are its first k trees' training losses, the last the whole forest's; a least-squares
    fit's learning curve ends with the fit on every training row (the shipped one)."""
    for name in ("house-prices-random-forest", "house-prices-linear-regression"):
        log = read_training_log(embedded_dir() / name)
        assert log["steps"]["loss"][-1] == log["epochs"][0]["train_loss"] and len(log["steps"]["loss"]) > 10
        assert log["source"] and log["source"] in (embedded_dir() / name / "README.md").read_text()
    forest = read_training_log(embedded_dir() / "house-prices-random-forest")
    assert (
        len(forest["steps"]["loss"])
        == json.loads((embedded_dir() / "house-prices-random-forest" / "config.json").read_text())["n_trees"]
    )


def test_migrate_writes_a_log_its_picture_and_the_cards_section_for_a_checkpoint_without_a_log(tmp_path):
    """Also: on every other shipped checkpoint migrate changes nothing (each card is today's template's)."""
    hub = tmp_path / "hub"
    shutil.copytree(embedded_dir(), hub, ignore=shutil.ignore_patterns(".*"))
    folder = hub / "char-transformer-large"
    shipped = read_training_log(folder)
    (folder / TRAINING_LOG_NAME).unlink()
    (folder / CURVE_IMAGE_NAME).unlink()
    _, info = cards.read(folder)
    card = (folder / "README.md").read_text()
    (folder / "README.md").write_text(card[: card.index("## Training curve")] + card[card.index("## Departures") :])
    done = subprocess.run(
        [sys.executable, "-m", "training", "migrate", "--hub", str(hub)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert read_training_log(folder) == shipped and shipped["steps"]["loss"] == [
        r["train_loss"] for r in info["history"]
    ]
    assert (folder / "README.md").read_text() == card
    assert "re-rendered" not in done.stdout.replace("char-transformer-large/README.md: re-rendered", "")
    for shipped_folder in embedded_dir().iterdir():
        for name in ("README.md", TRAINING_LOG_NAME, CURVE_IMAGE_NAME):
            if (shipped_folder / name).is_file():
                assert (hub / shipped_folder.name / name).read_bytes() == (shipped_folder / name).read_bytes()
    assert (folder / CURVE_IMAGE_NAME).read_bytes() == (
        embedded_dir() / "char-transformer-large" / CURVE_IMAGE_NAME
    ).read_bytes()
