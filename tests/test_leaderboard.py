"""Ranking logic on generated rows; the real leaderboard over the embedded hub."""

import csv
import dataclasses
import io
import json
import subprocess
import sys

import pytest

from zoo.catalog import TASKS
from zoo.leaderboard import Row, leaderboard, rank, to_csv, to_markdown

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


def test_ties_are_ranked_as_shown_and_seed_means_decide_the_order():
    """Competition ranking (1, 2, =3, =3, 5): rows whose values read the same at the shown precision share a rank
    and the next rank counts both; overlapping intervals alone tie nothing; a model trained with seeds ranks by
    their mean."""
    x = dataclasses.replace(_row("digits", "x", drawn=0.99), intervals={"drawn": [0.97, 1.0]})
    y = dataclasses.replace(_row("digits", "y", drawn=0.98), intervals={"drawn": [0.96, 0.99]})
    p = dataclasses.replace(_row("digits", "p", drawn=0.970004), intervals={"drawn": [0.94, 0.96]})
    q = _row("digits", "q", drawn=0.969996)  # 97.00 % as shown, like p
    z = _row("digits", "z", drawn=0.96)
    # d's checkpoint scores best, but the mean over its five seeds ranks it last
    d = dataclasses.replace(
        _row("digits", "d", drawn=0.99),
        intervals={"drawn": [0.86, 0.875]},
        seeds=[0, 1, 2, 3, 4],
        seed_summary={"drawn": {"mean": 0.87, "std": 0.01}},
    )
    rows = rank([d, z, q, p, y, x])
    assert [(r.model, r.rank, r.tied) for r in rows] == [
        ("x", 1, False),
        ("y", 2, False),
        ("p", 3, True),
        ("q", 3, True),
        ("z", 5, False),
        ("d", 6, False),
    ]
    md = to_markdown(rows)
    assert "| =3 | `p` | 97.00 % (94.00–96.00)" in md and "| =3 | `q` |" in md and "| 5 | `z` |" in md
    assert "5 seeds 87 ± 1 %" in md
    table = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert [t["tied"] for t in table] == ["False", "False", "True", "True", "False", "False"]
    assert table[2]["drawn_lo"] == "0.94" and table[5]["drawn_seed_mean"] == "0.87"


def test_a_long_run_of_close_rows_does_not_chain_into_one_rank():
    """2,000 rows 0.004 apart, every interval overlapping the next: each row's rank is 1 + the rows shown
    better, tied exactly with those shown alike (two or three a value), never with a neighbour's neighbour."""
    rows = [
        dataclasses.replace(_row("houses", f"m{i}", mse=10 + i * 0.004), intervals={"mse": [5.0, 30.0]})
        for i in range(2_000)
    ]
    ranked = rank(rows[::-1])
    shown = [float(f"{r.metrics['mse']:.4g}") for r in ranked]
    assert shown == sorted(shown)  # lower is better: best first
    for r, value in zip(ranked, shown, strict=True):
        assert r.rank == 1 + sum(v < value for v in shown)
        assert r.tied == (shown.count(value) > 1)
    assert len({r.rank for r in ranked}) == len(set(shown)) > 700


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
