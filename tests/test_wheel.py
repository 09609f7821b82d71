"""The installed package carries the zoo: build the wheel, install it (not editable) into a fresh virtual
environment outside the checkout, and use it from another folder with the Hub switched off, as a user who ran
``pip install git+...`` would. torch and the other dependencies are reused from this environment (a ``.pth``
line), never downloaded again."""

import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bench.app_process import RunningApp, picture
from training import drawn
from training.drawn import human_drawing
from zoo.catalog import ENTRIES

from conftest import ROOT

pytestmark = pytest.mark.wheel
MAX_WHEEL_MB = 40


def _run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    p = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, f"{' '.join(map(str, args))} failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    return p


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, ROOT], ROOT)
    (built,) = dist.glob("dlfs_zoo-*.whl")
    return built


@pytest.fixture(scope="module")
def user(tmp_path_factory, wheel) -> dict:
    """A fresh venv with the wheel installed, a folder outside the checkout, and an offline environment."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", venv], venv)
    python = venv / "bin" / "python"
    purelib = Path(
        _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], venv).stdout.strip()
    )
    # the dependencies come from this environment's site-packages, appended after the venv's own
    (purelib / "_dlfs_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], venv)
    home = tmp_path_factory.mktemp("elsewhere")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DLFS_ZOO_", "HF_"))}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(home / "hf"), PATH=f"{venv / 'bin'}:{env['PATH']}")
    return {"python": python, "bin": venv / "bin", "cwd": home, "env": env}


def test_wheel_holds_every_checkpoint_and_the_app_assets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ENTRIES:
        for f in ("config.json", "model.safetensors", "README.md", "training_log.json", "training_curve.png"):
            assert f"zoo/checkpoints/{name}/{f}" in names, f"{name}/{f} missing from the wheel"  # the card's curve too
    assert "demos/assets/mnist_sample.npz" in names
    assert any(n.startswith("demos/assets/figures/fig7-5-") for n in names)
    size_mb = wheel.stat().st_size / 2**20
    print(f"\nwheel {wheel.name}: {size_mb:.1f} MiB, {len(names)} files")
    assert size_mb < MAX_WHEEL_MB


def test_installed_zoo_loads_every_entry_offline(user):
    code = (
        "import zoo, sys\n"
        "assert 'site-packages' in zoo.__file__, zoo.__file__\n"
        "for name in zoo.ENTRIES:\n"
        "    model = zoo.load(name)\n"
        "    assert model.config['name'] == name and not model.training\n"
        "print(zoo.__file__, len(zoo.ENTRIES))\n"
    )
    p = _run([user["python"], "-c", code], user["cwd"], user["env"])
    assert str(user["bin"].parent) in p.stdout and p.stdout.strip().endswith(str(len(ENTRIES)))


def test_installed_cli_lists_and_ranks(user):
    listing = _run([user["bin"] / "dlfs-zoo", "list"], user["cwd"], user["env"]).stdout
    for name in ENTRIES:
        assert name in listing
    assert listing.count("embedded") == len(ENTRIES)
    board = _run([user["bin"] / "dlfs-zoo", "leaderboard"], user["cwd"], user["env"]).stdout
    assert "**digits**" in board and "| 1 |" in board and "yes" in board


def test_installed_app_answers_classify_digit(user, mnist_sample):
    from gradio_client import Client

    images, labels = mnist_sample
    i = int(np.flatnonzero(labels == 3)[0])
    path = user["cwd"] / "three.png"
    human_drawing(images[i], np.random.default_rng(0), 500).save(path)
    app = RunningApp(env=user["env"], python=str(user["python"]), cwd=user["cwd"])
    try:
        label, _, hint = Client(app.url, verbose=False).predict(
            image=picture(path), model="mnist-cnn-modern", api_name="/classify_digit"
        )
        assert label["label"] == "3" and "Read as **3**" in hint
    finally:
        app.stop()


def test_installed_package_trains_and_submits_a_digits_model_without_system_fonts(
    user, without_system_fonts, pristine_data, tmp_path
):
    """A laptop user: `pip install dlfs-zoo[train]`, train a small MLP, `python -m zoo submit` it. The process
    cannot see a system font, builds the drawn benchmark from the shipped faces, and gets the pinned set."""
    import json

    results = tmp_path / "results"
    env = {**user["env"], "DLFS_ZOO_DATA": str(pristine_data), "DLFS_ZOO_RESULTS": str(results)}
    args = ["train", "mnist-mlp", "--name", "laptop-mlp", "--epochs", "1", "--seeds", "1", "--train-limit", "2000"]
    _run([user["bin"] / "dlfs-train", *args, "--skip-robustness", "--quiet", "--out", tmp_path], user["cwd"], env)
    command = without_system_fonts([user["python"], "-m", "zoo", "submit", tmp_path / "laptop-mlp"])
    out = _run(command, user["cwd"], env).stdout
    assert "laptop-mlp: finished: drawn" in out and "of digits" in out
    (result,) = [json.loads(p.read_text()) for p in (results / "results").glob("*.json")]
    assert {"drawn", "corrupted", "accuracy"} <= set(result["metrics"])
    assert result["benchmarks"]["drawn"] == {"version": drawn.VERSION, "sha256": drawn.SHA256}
