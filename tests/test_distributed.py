"""torchrun: two CPU processes (gloo) train one model; rank 0 alone writes; the result is the one-process
result of the same global batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.card import read
from training.distributed import World, check

ROOT = Path(__file__).resolve().parent.parent
# mnist-mlp has no dropout and no batch norm: averaging the two halves' gradients is exactly the gradient of
# the whole batch, so two processes must land where one does, up to the order of float additions
ARGS = ["mnist-mlp", "--epochs", "1", "--train-limit", "6000", "--seeds", "1", "--skip-robustness", "--quiet"]


def train(out: Path, processes: int) -> subprocess.CompletedProcess:
    launcher = [sys.executable]
    if processes > 1:
        launcher += ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DLFS_ZOO_DEVICE": "cpu"}
    return subprocess.run(
        [*launcher, "-m", "training", "train", *ARGS, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("ddp")
    one, two = train(base / "one", 1), train(base / "two", 2)
    assert one.returncode == 0, one.stderr[-3000:]
    assert two.returncode == 0, two.stderr[-3000:]
    return base, two


def test_two_processes_match_one_and_only_rank_zero_writes(runs):
    base, _ = runs
    assert sorted(p.name for p in (base / "two").iterdir()) == ["mnist-mlp"]  # one folder, no temp left over
    (m1, info1), (m2, info2) = read(base / "one" / "mnist-mlp"), read(base / "two" / "mnist-mlp")
    assert info1["world_size"] == 1 and info2["world_size"] == 2
    assert info2["command"].startswith("torchrun --nproc-per-node 2 -m training train mnist-mlp")
    assert abs(m1["accuracy"] - m2["accuracy"]) <= 0.002, (m1, m2)  # stated tolerance: 0.2 points
    assert abs(m1["loss"] - m2["loss"]) <= 0.005, (m1, m2)
    import zoo

    model = zoo.load(str(base / "two" / "mnist-mlp"))  # the checkpoint loads strictly
    assert model.config["name"] == "mnist-mlp"


def test_a_recipe_that_cannot_split_says_why(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2", "-m", "training"]
        + ["train", "house-prices-random-forest", "--out", str(tmp_path / "rf"), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert p.returncode != 0
    assert "house-prices-random-forest cannot train on 2 processes: its recipe fits with scikit-learn" in p.stderr
    assert not (tmp_path / "rf").exists()


@pytest.mark.parametrize(
    ("trainer", "batch", "size", "message"),
    [
        ("book_convnet", 60, 1, None),
        ("book_convnet", 60, 4, None),
        ("book_convnet", 60, 7, "does not split evenly over 7 processes"),
        ("dcgan", 128, 2, "alternates two optimisers"),
        ("sklearn_linear", 354, 2, "scikit-learn"),
    ],
)
def test_world_size_checks(trainer, batch, size, message):
    why = check(trainer, batch, World(0, size, 0))
    assert (why is None) if message is None else (message in why)


def test_shards_are_disjoint_and_cover_the_batch():
    import torch

    batch = torch.arange(11)
    parts = [World(r, 3, r).shard(batch) for r in range(3)]
    assert torch.equal(torch.cat(parts), batch) and json.dumps([len(p) for p in parts]) == "[4, 4, 3]"
