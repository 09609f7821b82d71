"""Push to and pull from a local Hub server with the real huggingface_hub client."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from huggingface_hub import hf_hub_download
from safetensors.torch import load_file

import zoo
from training.__main__ import main as train_main
from zoo.__main__ import main as zoo_main
from zoo.checkpoint_io import CURVE_IMAGE_NAME

from conftest import HUB, _reload_hf_constants

EMBEDDED = sorted(p.name for p in HUB.iterdir() if (p / "config.json").is_file()) if HUB.is_dir() else []


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_push_pull_load_every_embedded_model_bit_exactly(hub_server, monkeypatch, capsys):
    assert len(EMBEDDED) >= 6
    before = {n: _snapshot(HUB / n) for n in EMBEDDED}
    assert train_main(["push", "--all", "--namespace", "tester"]) == 0
    assert {
        r.split("/")[-1]
        for m, r in hub_server.requests
        if r.startswith("/api/models/tester/") and m == "POST" and "/commit/" in r
    } >= {"main"}
    assert {n: _snapshot(HUB / n) for n in EMBEDDED} == before  # pushing changes nothing locally
    # the card's picture went with it (the card on the Hub shows its curve)
    shown = hf_hub_download(f"tester/{EMBEDDED[0]}", CURVE_IMAGE_NAME)
    assert Path(shown).read_bytes() == (HUB / EMBEDDED[0] / CURVE_IMAGE_NAME).read_bytes()

    assert zoo_main(["pull", *EMBEDDED, "--namespace", "tester"]) == 0
    cache = Path(os.environ["HF_HOME"]) / "hub"
    assert {p.name for p in cache.iterdir() if p.name.startswith("models--")} == {
        f"models--tester--{n}" for n in EMBEDDED
    }
    for name in EMBEDDED:
        model = zoo.load(name, source="hf", namespace="tester")
        local = load_file(HUB / name / "model.safetensors")
        state = model.state_dict()
        assert state.keys() == local.keys()
        for k, v in local.items():
            assert torch.equal(state[k], v), (name, k)

    # source="auto" without an embedded copy: the HF cache answers first, the server is not asked
    monkeypatch.setenv("DLFS_ZOO_HUB", str(Path(os.environ["HF_HOME"]) / "no-embedded-hub"))
    hub_server.requests.clear()
    assert zoo.load(EMBEDDED[-1], namespace="tester").config["name"] == EMBEDDED[-1]
    assert hub_server.requests == []
    monkeypatch.delenv("DLFS_ZOO_HUB")

    # offline: the cache answers, the server is not asked
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _reload_hf_constants()
    hub_server.requests.clear()
    model = zoo.load(EMBEDDED[0], source="hf", namespace="tester")
    assert model.config["name"] == EMBEDDED[0] and hub_server.requests == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    _reload_hf_constants()

    # server gone: a clear error, not a traceback from httpx
    hub_server.stop()
    with pytest.raises(zoo.hub.HubUnavailableError, match=r"cannot be asked \(offline mode or no connection\)"):
        zoo.load(EMBEDDED[0], source="hf", namespace="tester", revision="other-branch")


def test_push_to_branch_and_dry_run(hub_server, capsys, tiny_checkpoint):
    hub_dir = str(tiny_checkpoint.parent)
    assert train_main(["push", "mnist-convnet-book", "--hub", hub_dir, "--namespace", "org", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "org/mnist-convnet-book" in out and "sha256" in out and "model.safetensors" in out
    assert not any(m == "POST" for m, _ in hub_server.requests)
    args = ["push", "mnist-convnet-book", "--hub", hub_dir, "--namespace", "org", "--revision", "v1"]
    assert train_main(args) == 0
    path = zoo.hub.hf_snapshot("mnist-convnet-book", ns="org", revision="v1")
    assert (path / "model.safetensors").read_bytes() == (tiny_checkpoint / "model.safetensors").read_bytes()
    with pytest.raises(zoo.hub.HubUnavailableError, match="404"):
        zoo.load("mnist-convnet-book", source="hf", namespace="org", revision="no-such-branch")


@pytest.mark.parametrize("code, message", [(500, "failed (500)"), (401, "refused the token (401)")])
def test_push_errors_are_clear_and_change_nothing(hub_server, tiny_checkpoint, capsys, code, message):
    hub_dir = str(tiny_checkpoint.parent)
    before = _snapshot(tiny_checkpoint)
    hub_server.fail_with = code
    assert train_main(["push", "mnist-convnet-book", "--hub", hub_dir, "--namespace", "org"]) == 2
    assert message in capsys.readouterr().err
    assert _snapshot(tiny_checkpoint) == before
    hub_server.fail_with = None  # the server is back: a retry succeeds
    assert train_main(["push", "mnist-convnet-book", "--hub", hub_dir, "--namespace", "org"]) == 0


def test_wrong_token_is_401(hub_server, tiny_checkpoint, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    assert train_main(["push", "mnist-convnet-book", "--hub", str(tiny_checkpoint.parent), "--namespace", "o"]) == 2
    assert "401" in capsys.readouterr().err


def test_push_with_server_down_is_clear(hub_server, tiny_checkpoint, capsys):
    hub_server.stop()
    assert train_main(["push", "mnist-convnet-book", "--hub", str(tiny_checkpoint.parent), "--namespace", "o"]) == 2
    assert "cannot reach the Hub" in capsys.readouterr().err


def test_corrupted_cache_file_is_refused(hub_server, tiny_checkpoint):
    assert train_main(["push", "mnist-convnet-book", "--hub", str(tiny_checkpoint.parent), "--namespace", "o"]) == 0
    path = zoo.hub.hf_snapshot("mnist-convnet-book", ns="o")
    blob = (path / "model.safetensors").resolve()
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(zoo.WeightsIntegrityError, match="tampered"):
        zoo.load("mnist-convnet-book", source="hf", namespace="o")


def test_leaderboard_from_hf_namespace(hub_server):
    assert train_main(["push", "--all", "--namespace", "ranked"]) == 0
    rows = zoo.leaderboard(source="hf", ns="ranked")
    assert {r.model for r in rows} == set(EMBEDDED)
    assert all(r.verified for r in rows)


def test_pull_cli_uses_hf_endpoint_in_a_subprocess(hub_server, tmp_path):
    shutil.copytree(HUB / EMBEDDED[0], tmp_path / EMBEDDED[0])
    env = {**os.environ}
    p = subprocess.run(
        [sys.executable, "-m", "training", "push", EMBEDDED[0], "--hub", str(tmp_path), "--namespace", "sub"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    p = subprocess.run(
        [sys.executable, "-m", "zoo", "pull", EMBEDDED[0], "--namespace", "sub"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert "sub/" + EMBEDDED[0] in p.stdout
