"""`make bench` end to end in its quick form: every section runs and writes its figures (no speed is asserted:
targets live in BENCHMARKS.md, this only keeps the benchmark from rotting)."""

import re
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.bench


def test_quick_bench_writes_every_section(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    cmd = [sys.executable, "-m", "bench", "--quick", "--clients", "3", "--requests", "2", "--out", str(out)]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    text = out.read_text()
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
