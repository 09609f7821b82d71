"""`make bench` end to end in its quick form: every section runs and writes its figures (no speed is asserted:
targets live in BENCHMARKS.md, this only keeps the benchmark from rotting)."""

import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from bench.hostile import gif_bomb, png_bomb

from conftest import ROOT

pytestmark = pytest.mark.bench


@pytest.fixture(scope="module")
def quick_bench(tmp_path_factory) -> tuple[str, str, dict]:
    """One `python -m bench --quick` run (its stdout, BENCHMARKS.md, and the hostile section's figures as JSON):
    the hostile section is `python -m bench.hostile --quick`'s measurement, so it is run once for both tests."""
    folder = tmp_path_factory.mktemp("bench")
    out, hostile_json = folder / "BENCHMARKS.md", folder / "hostile.json"
    cmd = [sys.executable, "-m", "bench", "--quick", "--clients", "3", "--requests", "2", "--out", str(out)]
    r = subprocess.run(
        [*cmd, "--hostile-json", str(hostile_json)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout, out.read_text(), json.loads(hostile_json.read_text())


def test_quick_bench_writes_every_section(quick_bench):
    _, text, _ = quick_bench
    for heading in (
        "## 1. Training",
        "### Where a step goes",
        "### What else was tried",
        "### Does the fast dropout change what the ConvNets learn?",
        "## 2-4. Inference",
        "## 5-6. The app",
        "## 6. Sizes",
        "## 7. The digits robustness benchmark",
        "## 8. Scaling out: `torchrun`",
        "## 9. Hostile visitors",
        "## Leaderboard at scale",
    ):
        assert heading in text
    assert re.search(r"Speed-up \(median of the per-seed ratios, seeds 0-2\): \*\*\d+\.\d\dx\*\*", text)
    # the book's loop and the project's each ran three (fresh) processes with an accuracy per run
    assert re.search(r"\| book .*\| \d+\.\d \| \d+\.\d, \d+\.\d, \d+\.\d \| 0\.\d{4}, 0\.\d{4}, 0\.\d{4} \|", text)
    for label in ("the project's", "with `nn.Dropout`", "with NCHW", "under bf16 autocast", "under `torch.compile`"):
        assert re.search(rf"\| {re.escape(label)}[^|]* \| \d+\.\d \| \d\.\d\dx \|", text), label
    assert (
        len(
            re.findall(
                r"\| `mnist-convnet-(book|notebook)` \| `(nn|zoo\.models\.layers)\.Dropout` \| 0\.\d{4}, 0\.\d{4} \|",
                text,
            )
        )
        == 4
    )
    assert "errors of 6" in text and "**total**" in text


@pytest.mark.parametrize("make", [png_bomb, gif_bomb])
def test_the_bombs_are_real(make, monkeypatch):
    """The bench's bombs decode in full to what they declare (all zeros), and at 13000 px stay tiny files: a
    broken encoder would leave the bench measuring a refusal of garbage, not of a bomb."""
    from PIL import Image

    # Pillow's own limit is whatever the app set when another test imported it; only the header is read here
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)

    with Image.open(io.BytesIO(make(300))) as im:
        assert im.size == (300, 300) and not np.asarray(im).any()
    big = make(13000)
    assert len(big) < 70_000
    with Image.open(io.BytesIO(big)) as im:
        assert im.size == (13000, 13000)


def test_hostile_visitors_bench_quick(quick_bench):
    """The quick hostile section: six bombs refused with a sentence and the app's memory held, the next digit
    read, and the good client's latencies measured alone and beside a greedy client (no speed is asserted)."""
    stdout, _, results = quick_bench
    assert "peak - idle" in stdout
    bombs = results["bombs"]
    assert bombs["refused_with_a_sentence"] == 6, bombs["answers"]
    assert bombs["goal_met"] and bombs["samples"] > 50
    assert bombs["digit_after"]["answered"] == bombs["digit_after"]["expected"]
    latency = results["latency"]
    assert latency["alone"]["calls"] == latency["loaded"]["calls"] == 5
    greedy = latency["other"]  # its own visitor: what passes the cap on requests at once is answered, the rest refused
    assert greedy["answers"] > 0
    assert greedy["errors"] == 0 or "the most this Space runs at once" in greedy["first_error"]


def test_hostile_cli_measures_quick_into_the_json_it_is_given(monkeypatch, capsys):
    """`python -m bench.hostile --quick RESULTS.json` is the quick measurement above, written where it is told;
    without a file it refuses (the measurement itself runs once, in the quick bench)."""
    from bench import hostile

    calls = []
    monkeypatch.setattr(hostile, "measure", lambda quick, results_json=None: calls.append((quick, results_json)))
    assert hostile.main(["--quick", "out.json"]) == 0 and hostile.main(["out.json"]) == 0
    assert calls == [(True, "out.json"), (False, "out.json")]
    with pytest.raises(SystemExit):
        hostile.main(["--quick"])
    assert "give the JSON file" in capsys.readouterr().err
