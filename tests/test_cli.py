"""The training and zoo CLIs, as a user runs them (subprocesses)."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import training.__main__ as training_cli
import zoo.__main__ as zoo_cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT, env=None, check=False):
    p = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600
    )
    if check and p.returncode != 0:
        raise AssertionError(p.stderr)
    return p


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    run(
        "-m",
        "training",
        "train",
        "house-prices-book",
        "house-prices-linear-regression",
        "--epochs",
        "5",
        "--out",
        str(out),
        "--quiet",
        check=True,
    )
    return out


def test_train_writes_a_full_checkpoint_with_its_command(trained):
    folder = trained / "house-prices-book"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "training_curve.png",
        "training_log.json",
    ]
    card = (folder / "README.md").read_text()
    assert "python -m training train house-prices-book --epochs 5 --batch-size 32 --lr 0.001 --seed 0" in card
    assert "model-index" in card and "metric_type" not in card
    cfg = json.loads((folder / "config.json").read_text())
    assert len(cfg["normalize"]["mean"]) == 13 and cfg["task"] == "houses"


def test_a_run_keeps_its_curve_beside_its_checkpoint(trained):
    """training_log.json: every step's loss (falling), each epoch's record, the command and the card's metrics."""
    from training.card import read as read_card
    from zoo.checkpoint_io import read_training_log

    folder = trained / "house-prices-book"
    log = read_training_log(folder)
    steps, epochs = log["steps"], log["epochs"]
    assert steps["every"] == 1 and steps["step"] == list(range(1, 5 * 12 + 1))  # 354 rows in batches of 32
    assert steps["epoch"][11] == 1.0 and steps["epoch"][-1] == 5.0
    loss = steps["loss"]
    assert sum(loss[-12:]) / 12 < sum(loss[:12]) / 12 / 2  # the last epoch's steps well under the first's
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4, 5] and epochs[0]["train_loss"] > epochs[-1]["train_loss"]
    assert "test_loss" in epochs[-1] and log["samples_per_s"] > 0 and log["seed"] == 0
    metrics, info = read_card(folder)
    assert log["command"] == info["command"] and log["metrics"] == pytest.approx(metrics, rel=1e-5)
    fit = read_training_log(trained / "house-prices-linear-regression")  # no steps: a learning curve stands in
    assert fit["steps"]["loss"][-1] == fit["epochs"][0]["train_loss"] and fit["source"].startswith("A least-squares")


def test_a_variant_changes_its_architecture_and_reports_progress_as_it_trains(tmp_path):
    """--arch changes one number of the parent's architecture (config and card say so); --progress-file hears
    the run's events as JSON lines, from the start to the evaluator's metrics."""
    progress = tmp_path / "progress.jsonl"
    args = ["-m", "training", "train", "house-prices-book", "--name", "narrow", "--epochs", "3", "--seed", "2"]
    args += ["--arch", "hidden_size=4", "--train-limit", "100", "--progress-file", str(progress)]
    run(*args, "--out", str(tmp_path), "--quiet", check=True)
    cfg = json.loads((tmp_path / "narrow" / "config.json").read_text())
    assert cfg["hidden_size"] == 4
    card = (tmp_path / "narrow" / "README.md").read_text()
    assert "--train-limit 100 --arch hidden_size=4" in card and "hidden_size 4" in card
    events = [json.loads(line) for line in progress.read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-2:] == ["evaluating", "done"] and kinds.count("epoch") == 3
    assert set(events[-1]["metrics"]) == {"mse", "mae"}
    from zoo.checkpoint_io import read_training_log

    assert read_training_log(tmp_path / "narrow")["steps"]["step"][-1] == 3 * 4  # 100 rows in batches of 32


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--arch", "hidden_size=4"], "give the variant a name of its own with --name"),
        (["--name", "v", "--arch", "width=4"], "declares no number 'width'; its numbers: hidden_size, keep_prob"),
        (["--name", "v", "--arch", "keep_prob=1.5"], "keep_prob must be between 0 and 1"),
        (["--name", "v", "--arch", "hidden_size=2.5"], "hidden_size takes a whole number"),
    ],
)
def test_a_bad_arch_change_is_one_sentence(extra, said, capsys, tmp_path):
    assert training_cli.main(["train", "house-prices-book", *extra, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and not list(tmp_path.iterdir())


def test_evaluate_json_recomputes_what_the_card_says(trained):
    p = run("-m", "training", "evaluate", "--all", "--hub", str(trained), "--json", check=True)
    rows = {r["name"]: r for r in json.loads(p.stdout)}
    assert set(rows) == {"house-prices-book", "house-prices-linear-regression"}
    assert rows["house-prices-book"]["task"] == "houses"
    assert set(rows["house-prices-book"]["metrics"]) == {"mse", "mae"}
    p = run("-m", "training", "evaluate", "--all", "--hub", str(trained), "--verify", check=True)
    assert "verified" in p.stdout


def test_verify_fails_when_a_card_lies(trained, tmp_path):
    import shutil

    lying = tmp_path / "lying"
    shutil.copytree(trained, lying)
    card = lying / "house-prices-linear-regression" / "README.md"
    text = card.read_text()
    name = "house-prices-linear-regression"
    evaluated = run("-m", "training", "evaluate", name, "--hub", str(lying), "--json", check=True)
    mse = json.loads(evaluated.stdout)[0]["metrics"]["mse"]
    card.write_text(text.replace(f"value: {mse}", "value: 1.0", 1))
    p = run("-m", "training", "evaluate", "--all", "--hub", str(lying), "--verify")
    assert p.returncode == 1 and "house-prices-linear-regression: mse card 1.0" in p.stderr
    p = run("-m", "training", "evaluate", "--all", "--hub", str(lying), "--write", check=True)
    assert run("-m", "training", "evaluate", "--all", "--hub", str(lying), "--verify").returncode == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "resnet"], "unknown model 'resnet'; known models: house-prices-book"),
        (["train", "../etc"], "invalid model name '../etc'"),
        (["train"], "name at least one model"),
        (["train", "house-prices-book", "--epochs", "0"], "--epochs must be >= 1"),
        (["train", "house-prices-book", "--lr", "nan"], "--lr must be a finite number"),
        (["train", "char-lstm-book", "--text", "/no/such/file.txt"], "no such file"),
        (["train", "house-prices-book", "--text", "README.md"], "--text applies to the text models only"),
        (["evaluate", "--all", "--hub", "/no/such/dir"], "--hub /no/such/dir: no such folder"),
        (["push", "no-such-model", "--dry-run"], "unknown model 'no-such-model'; known models: house-prices-book"),
        (["push", "../etc"], "invalid model name '../etc'"),
        (["train", "mnist-mlp", "--train-limit", "0"], "--train-limit must be >= 1"),
        (["train", "house-prices-book", "--device", "banana"], "--device banana: not a device"),
        (["train", "house-prices-book", "--device", "mps"], "dlfs-zoo trains on cpu or cuda"),
    ],
)
def test_cli_errors_are_one_clear_line(args, message):
    p = run("-m", "training", *args)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and "Traceback" not in p.stderr


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_one_clear_line():
    p = run("-m", "training", "train", "house-prices-book", "--device", "cuda")
    assert p.returncode == 2 and "this machine has no CUDA device" in p.stderr and "Traceback" not in p.stderr


def test_bad_flag_is_argparse_usage():
    p = run("-m", "training", "train", "house-prices-book", "--epochz", "3")
    assert p.returncode == 2 and "unrecognized arguments: --epochz" in p.stderr


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = run("-m", "training", "train", "house-prices-linear-regression", "--out", str(blocker / "sub"), "--quiet")
    assert p.returncode == 2 and "cannot write checkpoints to" in p.stderr and "Traceback" not in p.stderr


def test_zoo_list_and_bad_pull_name():
    p = run("-m", "zoo", "list", check=True)
    assert "mnist-convnet-book" in p.stdout and "embedded" in p.stdout
    p = run("-m", "zoo", "pull", "../../etc/passwd")
    assert p.returncode == 2 and "invalid model name" in p.stderr


def test_latent_judge_is_the_default_classifier_even_when_the_output_folder_holds_other_digits_models(tmp_path):
    """Training a latent entry into a folder that already holds a book ConvNet (no penultimate features) must
    still score its samples with the shipped judge, not crash on the ConvNet."""
    import shutil

    from training.__main__ import JUDGE, judge
    from zoo import checkpoint_io

    shutil.copytree(checkpoint_io.embedded_dir() / "mnist-convnet-book", tmp_path / "mnist-convnet-book")
    assert judge([tmp_path, checkpoint_io.embedded_dir()]).config["name"] == JUDGE
    assert judge([tmp_path]) is None  # no digits model here that has features to compare


def _parsers(parser: argparse.ArgumentParser):
    """The parser and every subcommand's parser under it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


@pytest.mark.parametrize("cli", [zoo_cli, training_cli], ids=["zoo", "training"])
def test_every_cli_option_says_what_it_does(cli):
    bare = [
        f"{p.prog} {a.option_strings or a.dest}"
        for p in _parsers(cli.build_parser())
        for a in p._actions
        if not isinstance(a, argparse._SubParsersAction) and not (a.help or "").strip()
    ]
    assert not bare, f"options without a help line: {bare}"
