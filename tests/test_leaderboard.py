"""Ranking logic on generated rows; the real leaderboard over the embedded hub."""

import csv
import dataclasses
import io
import json
import subprocess
import sys

import pytest

from zoo.catalog import TASKS
from zoo.leaderboard import Row, json_line, leaderboard, rank, to_csv, to_markdown

from conftest import HUB, ROOT


def _row(task, model, **metrics):
    return Row(task=task, model=model, metrics=metrics, verified=True, params=10, size_bytes=40, latency_ms=0.1)


def test_rank_uses_direction_and_tie_breaks_on_the_next_metric():
    rows = rank(
        [
            _row("digits", "a", accuracy=0.97, loss=0.1),
            _row("digits", "b", accuracy=0.99, loss=0.05),
            _row("digits", "c", accuracy=0.97, loss=0.08),
            _row("houses", "x", mse=20.0, mae=3.0),
            _row("houses", "y", mse=15.0, mae=3.5),
            _row("text", "t", loss=1.5),  # primary metric missing: ranks last
            _row("text", "u", bits_per_char=2.0, loss=1.4),
        ]
    )
    order = [(r.task, r.rank, r.model) for r in rows]
    assert order == [
        ("digits", 1, "b"),
        ("digits", 2, "c"),
        ("digits", 3, "a"),
        ("text", 1, "u"),
        ("text", 2, "t"),
        ("houses", 1, "y"),
        ("houses", 2, "x"),
    ]


def test_csv_is_timm_like_and_markdown_has_a_table_per_task():
    rows = rank([_row("digits", "a", accuracy=0.9, loss=0.3), _row("houses", "h", mse=1.0, mae=1.0)])
    table = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert [r["model"] for r in table] == ["a", "h"] and table[0]["rank"] == "1"
    assert table[0]["accuracy"] == "0.9" and table[1]["accuracy"] == ""
    md = to_markdown(rows)
    assert "**digits**" in md and "**houses**" in md and "| 1 | `a` |  |  |  | 90.00 % |" in md


def test_overlapping_intervals_share_a_rank_and_seed_means_decide_the_order():
    a = dataclasses.replace(_row("digits", "a", drawn=0.95, accuracy=0.99), intervals={"drawn": [0.94, 0.96]})
    b = dataclasses.replace(_row("digits", "b", drawn=0.955, accuracy=0.98), intervals={"drawn": [0.945, 0.965]})
    c = dataclasses.replace(_row("digits", "c", drawn=0.90, accuracy=0.97), intervals={"drawn": [0.88, 0.92]})
    # d's checkpoint scores best, but the mean over its five seeds ranks it last
    d = dataclasses.replace(
        _row("digits", "d", drawn=0.97, accuracy=0.97),
        intervals={"drawn": [0.86, 0.875]},
        seeds=[0, 1, 2, 3, 4],
        seed_summary={"drawn": {"mean": 0.87, "std": 0.01}},
    )
    rows = rank([a, b, c, d])
    assert [(r.model, r.rank, r.tied) for r in rows] == [
        ("b", 1, False),
        ("a", 1, True),
        ("c", 3, False),
        ("d", 4, False),
    ]
    md = to_markdown(rows)
    assert "| =1 | `a` | 95.00 % (94.00–96.00)" in md and "5 seeds 87 ± 1 %" in md
    table = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert table[1]["tied"] == "True" and table[1]["drawn_lo"] == "0.94" and table[3]["drawn_seed_mean"] == "0.87"


def test_a_long_run_of_close_rows_does_not_chain_into_one_rank():
    """2,000 rows 0.004 apart, each interval 0.01 either side, so every row overlaps the next: a row shares the rank
    of its group's first row only when their own intervals overlap, never through a neighbour's neighbour."""
    rows = [
        dataclasses.replace(
            _row("houses", f"m{i}", mse=10 + i * 0.004), intervals={"mse": [9.99 + i * 0.004, 10.01 + i * 0.004]}
        )
        for i in range(2_000)
    ]
    ranked = rank(rows[::-1])
    assert [r.model for r in ranked] == [f"m{i}" for i in range(2_000)]  # lower is better: best first
    by_rank = {r.rank: r for r in ranked if not r.tied}
    for r in ranked:
        head = by_rank[r.rank]
        assert r.tied == (r is not head)
        assert r.intervals["mse"][0] <= head.intervals["mse"][1]  # overlaps the first row of its group
    assert len(by_rank) > 300  # groups of six or seven, not one rank for all
    assert ranked[6].rank == 7 and not ranked[6].tied  # 0.024 from the first row: the intervals no longer meet


def test_unknown_task_and_source():
    with pytest.raises(ValueError, match="unknown task 'speech'"):
        leaderboard("speech")
    with pytest.raises(ValueError, match="source must be"):
        leaderboard(source="/no/such/folder")


def test_embedded_leaderboard_cli_json():
    p = subprocess.run(
        [sys.executable, "-m", "zoo", "leaderboard", "--json"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    rows = json.loads(p.stdout)
    counts = {t: sum(r["task"] == t for r in rows) for t in TASKS}
    assert counts["digits"] >= 4 and counts["text"] >= 3 and counts["latent"] >= 2 and counts["houses"] >= 4
    assert all(r["verified"] for r in rows)
    top = {r["task"]: rows[[x["task"] for x in rows].index(r["task"])] for r in rows}
    assert top["digits"]["metrics"]["accuracy"] >= 0.993
    for r in (r for r in rows if r["task"] == "digits"):
        assert {"drawn", "corrupted", "accuracy"} <= set(r["metrics"]) and {"drawn", "corrupted"} <= set(r["intervals"])
    latent = {r["model"]: r["metrics"] for r in rows if r["task"] == "latent"}
    assert latent["vae-28"]["sample_score"] > latent["autoencoder-book"]["sample_score"]


def test_tampered_weights_are_not_verified(tmp_path):
    import shutil

    shutil.copytree(HUB / "house-prices-book", tmp_path / "house-prices-book")
    f = tmp_path / "house-prices-book" / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 1
    f.write_bytes(bytes(data))
    (row,) = leaderboard(source=str(tmp_path))
    assert row.model == "house-prices-book" and row.verified is False


def test_a_row_is_typed_and_its_json_keeps_the_keys_and_their_order():
    row = _row("digits", "a", accuracy=0.9)
    assert list(row.to_dict()) == [
        "task",
        "rank",
        "model",
        "metrics",
        "verified",
        "params",
        "size_bytes",
        "latency_ms",
        "train_seconds",
        "book",
        "command",
        "intervals",
        "seeds",
        "seed_summary",
        "tied",
        "saw_labels",
        "origin",
        "source",
        "source_url",
        "note",
        "link",
    ]
    assert json.loads(json.dumps(row.to_dict()))["metrics"] == {"accuracy": 0.9}
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.rank = 2


def test_percentages_are_declared_by_the_tasks():
    for task in TASKS.values():
        assert task.percent <= set(task.metrics), task.name
    md = to_markdown(rank([_row("latent", "g", frechet=2.0, sample_confident=0.5), _row("houses", "h", mse=0.5)]))
    assert "| 1 | `g` | 2 | 50.00 % |" in md and "| 1 | `h` | 0.5 |" in md


def test_a_rows_json_in_parts_put_back_around_its_rank_is_its_json():
    """``json_parts`` (what a row kept between processes is stored as) gives back ``to_json`` once ranked, whatever
    the row's strings and metric names hold, and with a moderation note set in it."""
    row = Row(
        task="digits",
        model='x", "tied": true, "rank": 3',
        metrics={"tied": 0.5, "rank": 1.0, 'a"b': 2.0},
        verified=True,
        command='", "tied": false}',
        source='"tied": ',
        intervals={"tied": [0.1, 0.2]},
    )
    parts = row.json_parts()
    assert json_line(parts, 0, False) == row.to_json()
    ranked = dataclasses.replace(row, rank=12, tied=True)
    assert json_line(parts, 12, True) == ranked.to_json()
    flagged = dataclasses.replace(ranked, note='a "copy"', link="https://example.org/why")
    assert json_line(parts, 12, True, 'a "copy"', "https://example.org/why") == flagged.to_json()
