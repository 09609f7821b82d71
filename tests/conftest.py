"""Shared fixtures: tiny checkpoints built in temp dirs, the real embedded hub, a local Hub server."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
HUB = ROOT / "zoo" / "checkpoints"
sys.path.insert(0, str(Path(__file__).resolve().parent))
# submissions made by the tests (and the app they start) go to a store of their own, never the user's
os.environ["DLFS_ZOO_RESULTS"] = tempfile.mkdtemp(prefix="dlfs-results-")
os.environ["DLFS_ZOO_CACHE"] = tempfile.mkdtemp(prefix="dlfs-cache-")  # and what its readers cache


CHROMIUM = os.environ.get("DLFS_ZOO_CHROMIUM", "/usr/bin/chromium")


def require_chromium() -> None:
    """Browser tests need Debian's chromium: failed under CI (never skipped there), skipped elsewhere."""
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    """A small but real MNISTConvNet checkpoint written by the project's own save path."""
    from zoo.checkpoint_io import save_checkpoint
    from zoo.models import MNIST_NORMALIZE, MNISTConvNet

    torch.manual_seed(0)
    model = MNISTConvNet(4, 2, 8, normalize=dict(MNIST_NORMALIZE))
    return save_checkpoint(
        model, tmp_path / "hub", "mnist-convnet-book", "---\nlibrary_name: dlfs-zoo\n---\n# tiny test card\n"
    )


@pytest.fixture
def hub_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The local Hub server with HF_ENDPOINT/HF_HOME/HF_TOKEN pointing at it (a fresh cache per test)."""
    from hubserver import HubServer

    server = HubServer(tmp_path / "hub-store", token="hf_test_token").start()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    _reload_hf_constants()
    yield server
    try:
        server.stop()
    except Exception:
        pass
    monkeypatch.undo()
    _reload_hf_constants()


def _reload_hf_constants() -> None:
    """huggingface_hub reads HF_ENDPOINT / HF_HOME / HF_HUB_OFFLINE into ``constants`` at import, and its
    functions look them up there at call time: re-executing the module picks up the patched env."""
    import importlib

    import huggingface_hub.constants

    importlib.reload(huggingface_hub.constants)


@pytest.fixture(scope="session")
def app():
    """The real app, started once as `python -m demos --mcp` would be (GRADIO_MCP_SERVER), in a subprocess."""
    from bench.app_process import RunningApp

    flags = tempfile.mkdtemp(prefix="dlfs-flags-")  # drawings flagged by the tests stay out of the data folder
    results = tempfile.mkdtemp(prefix="dlfs-app-results-")  # the app's submissions: a store of its own
    env = {"GRADIO_MCP_SERVER": "true", "DLFS_ZOO_FLAGS": flags, "DLFS_ZOO_RESULTS": results}  # MCP tools too
    env["DLFS_ZOO_PROXIED"] = "1"  # a test may be several visitors at once (X-Forwarded-For), as behind a Space
    env["DLFS_ZOO_TRAIN_JOBS"] = jobs = tempfile.mkdtemp(prefix="dlfs-train-jobs-")  # the Train tab's jobs
    running = RunningApp(env=env)
    running.flags, running.results, running.jobs = Path(flags), Path(results), Path(jobs)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def client(app):
    from gradio_client import Client

    return Client(app.url, verbose=False)


@pytest.fixture(scope="session")
def mnist_sample():
    import numpy as np

    from demos.state import ASSETS

    with np.load(ASSETS / "mnist_sample.npz") as f:
        return f["images"], f["labels"]


@pytest.fixture(scope="session")
def houses_variant(tmp_path_factory) -> Path:
    """A house-prices variant trained by the project's CLI under a name of its own (a few seconds)."""
    from training.__main__ import main as train_main

    out = tmp_path_factory.mktemp("variants")
    args = ["train", "house-prices-book", "--name", "reader-houses", "--epochs", "30", "--seeds", "1"]
    assert train_main([*args, "--out", str(out), "--quiet"]) == 0
    return out / "reader-houses"


def submitted_into(root: Path, folder: Path) -> Path:
    """The results store at ``root`` after ``python -m zoo submit folder`` finished there (the tests' own store is
    named again afterwards)."""
    from zoo.__main__ import main as zoo_main

    os.environ["DLFS_ZOO_RESULTS"], previous = str(root), os.environ["DLFS_ZOO_RESULTS"]
    try:
        assert zoo_main(["submit", str(folder)]) == 0
    finally:
        os.environ["DLFS_ZOO_RESULTS"] = previous
    return root


@pytest.fixture(scope="module")
def finished(houses_variant, tmp_path_factory) -> Path:
    """A results store of this test module's own holding one finished submission (``houses_variant``), so that
    copies are found among real rows and 'byte-identical' compares real files."""
    return submitted_into(tmp_path_factory.mktemp("finished") / "results", houses_variant)


@pytest.fixture
def store(finished, monkeypatch) -> Path:
    """``finished``'s store, named by $DLFS_ZOO_RESULTS for the test."""
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(finished))
    return finished


SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))


@pytest.fixture(scope="session")
def without_system_fonts():
    """Wraps a command so that it runs in a mount namespace of its own with an empty tmpfs over every system
    font folder: the process cannot read a system font, and nothing is uninstalled. ``unshare`` needs root
    (as on CI); elsewhere the tests that use this skip, except under CI=true, where that is a failure."""
    import shutil
    import subprocess

    probe = ["unshare", "--mount", "sh", "-c", "mount -t tmpfs none /tmp"]
    if not shutil.which("unshare") or subprocess.run(probe, capture_output=True).returncode != 0:
        message = "cannot hide the system fonts from a process here (unshare --mount needs root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    mounts = " && ".join(f"mount -t tmpfs none {d}" for d in SYSTEM_FONT_DIRS if os.path.isdir(d)) or "true"

    def wrap(command: list) -> list[str]:
        return ["unshare", "--mount", "sh", "-c", f'{mounts} && exec "$@"', "sh", *map(str, command)]

    return wrap


@pytest.fixture(scope="session")
def pristine_data(tmp_path_factory) -> Path:
    """A data folder holding only MNIST's verified files (linked, not downloaded again): a process that uses it
    builds the drawn and corrupted sets itself instead of reading this machine's cache."""
    from training import data

    source = data.ensure_mnist() / "MNIST" / "raw"
    folder = tmp_path_factory.mktemp("data")
    (folder / "MNIST" / "raw").mkdir(parents=True)
    for name in data.MNIST_MD5:
        (folder / "MNIST" / "raw" / name).symlink_to(source / name)
    return folder
