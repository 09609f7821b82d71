"""The Hugging Face Space, built as a Space builds it: a fresh virtual environment from requirements.txt and
`python app.py`, then a digits model uploaded through `/submit_model` and evaluated end to end with the
system's fonts hidden from the app. torch (and what it needs) is linked in from this machine's environment,
as the disk already holds it; everything else requirements.txt names is installed for real."""

import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bench.app_process import RunningApp
from training import drawn, robustness

from conftest import ROOT

pytestmark = pytest.mark.wheel


def _closure(name: str) -> set[str]:
    """A distribution and everything it requires (no extras), as installed here."""
    seen, todo = set(), [name]
    while todo:
        dist = metadata.distribution(todo.pop())
        key = dist.metadata["Name"].lower()
        if key in seen:
            continue
        seen.add(key)
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                try:
                    metadata.distribution(req.name)
                except metadata.PackageNotFoundError:
                    continue
                todo.append(req.name)
    return seen


def _link_distributions(names: set[str], folder: Path) -> None:
    """Every top-level file and folder of these distributions (their code and metadata) linked into one folder."""
    folder.mkdir(parents=True)
    for name in names:
        dist = metadata.distribution(name)
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            source = Path(dist.locate_file(top))
            if source.exists() and not top.startswith("..") and not (folder / top).exists():
                (folder / top).symlink_to(source)


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("space-venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    linked = tmp_path_factory.mktemp("from-disk") / "site"
    _link_distributions(_closure("torch"), linked)
    (Path(purelib) / "_torch_from_disk.pth").write_text(f"{linked}\n")
    start = time.perf_counter()
    p = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    print(f"\nSpace venv from requirements.txt in {time.perf_counter() - start:.0f} s")
    return python


def test_the_space_evaluates_an_uploaded_digits_model_without_system_fonts(
    space, without_system_fonts, pristine_data, tmp_path
):
    from gradio_client import Client, handle_file

    from training.__main__ import main as train_main
    from zoo.hub import HUB_FILES

    args = ["train", "mnist-mlp", "--name", "space-mlp", "--epochs", "1", "--seeds", "1", "--train-limit", "2000"]
    assert train_main([*args, "--out", str(tmp_path), "--quiet", "--skip-robustness"]) == 0
    # the tight set is made from MNIST alone (no font): the Space is given this machine's copy, and makes the
    # drawn set, the one that needs the project's own fonts, itself
    robustness.tight_test()
    (pristine_data / "tight").mkdir(exist_ok=True)
    shutil.copy(robustness.tight_file(), pristine_data / "tight" / robustness.tight_file().name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DLFS_ZOO_", "VIRTUAL_ENV"))}
    env.update(DLFS_ZOO_DATA=str(pristine_data), DLFS_ZOO_RESULTS=str(tmp_path / "results"), HF_HUB_OFFLINE="1")
    app = RunningApp(env=env, cwd=ROOT, command=without_system_fonts([space, "app.py"]))
    try:
        client = Client(app.url, verbose=False)
        files = [handle_file(str(tmp_path / "space-mlp" / n)) for n in HUB_FILES]
        assert "**space-mlp** passed the gates" in client.predict(files=files, api_name="/submit_model")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            (mine,) = [r for r in client.predict(api_name="/submissions") if r["model"] == "space-mlp"]
            assert mine["status"] != "failed", mine
            if mine["status"] == "finished":
                break
            time.sleep(1)
        assert mine["status"] == "finished", mine
        board = client.predict(task="digits", api_name="/leaderboard")
        assert "space-mlp" in {row[1] for row in board["data"]}
        results = [p.read_text() for p in (tmp_path / "results").rglob("*.json")]
        assert any(drawn.SHA256 in text for text in results), "the app built the pinned drawn set"
    finally:
        app.stop()
