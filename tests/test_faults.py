"""Faults: a training run SIGKILLed while it writes its checkpoint leaves the previous one intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import zoo
from zoo.models import sha256_file

ROOT = Path(__file__).resolve().parent.parent

# Runs the real CLI, but SIGKILLs itself at one point of the checkpoint write (instrumentation only:
# the code that writes is the product's own).
KILLER = textwrap.dedent("""
    import os, signal, sys
    import zoo.checkpoint_io as checkpoint_io
    where = sys.argv[1]
    if where == "weights":  # weights written to the temp folder, config and card not yet
        from zoo.models import PyTorchModel
        orig = PyTorchModel.save_pretrained
        def save_pretrained(self, *a, **k):
            orig(self, *a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
        PyTorchModel.save_pretrained = save_pretrained
    elif where == "swap":  # everything written, the folder not yet put in place
        def replace_dir(tmp, final):
            os.kill(os.getpid(), signal.SIGKILL)
        checkpoint_io.replace_dir = replace_dir
    from training.__main__ import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.parametrize("where", ["weights", "swap"])
def test_sigkill_while_writing_keeps_the_previous_checkpoint(tmp_path, where):
    out = tmp_path / "runs"
    train = ["train", "house-prices-book", "--epochs", "2", "--out", str(out), "--quiet"]
    subprocess.run([sys.executable, "-m", "training", *train], cwd=ROOT, check=True, capture_output=True)
    folder = out / "house-prices-book"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    p = subprocess.run([sys.executable, "-c", KILLER, where, *train, "--seed", "1"], cwd=ROOT, capture_output=True)
    assert p.returncode == -signal.SIGKILL

    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    model = zoo.load(folder)  # loads, and its hash verifies
    assert model.config["weights_sha256"] == sha256_file(folder / "model.safetensors")
    leftovers = [p.name for p in out.iterdir() if p.name != "house-prices-book"]
    assert all(n.startswith(".house-prices-book.tmp-") for n in leftovers)  # only an inert temp folder
    # the next run cleans up after itself and replaces the checkpoint whole
    subprocess.run([sys.executable, "-m", "training", *train, "--seed", "2"], cwd=ROOT, check=True, capture_output=True)
    assert zoo.load(folder).config["name"] == "house-prices-book"
    assert (folder / "model.safetensors").read_bytes() != before["model.safetensors"]
    assert os.listdir(out) == ["house-prices-book"]  # the killed run's temp folder was cleaned up
