"""Shared fixtures: tiny checkpoints built in temp dirs, the real embedded hub, a local Hub server."""

from __future__ import annotations

import os
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


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    """A small but real MNISTConvNet checkpoint written by the project's own save path."""
    from zoo.hub import save_checkpoint
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
    running = RunningApp(env=env)
    running.flags, running.results = Path(flags), Path(results)
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
