"""Submissions: a variant trained with --name is checked, evaluated by the project's code and ranked; hostile
submissions are refused at the door, each with its own sentence, leaving the store and the ranking as they were."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load, save_file

import zoo
from training.__main__ import main as train_main
from zoo.__main__ import main as zoo_main
from zoo.models import sha256_file
from zoo.submissions import Store

from conftest import HUB, _reload_hf_constants, submitted_into


@pytest.fixture(scope="session")
def variant(houses_variant) -> Path:
    return houses_variant


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "results"
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(root))
    return root


def test_a_variant_records_its_parent_overrides_and_seed(variant):
    from training import card

    metrics, info = card.read(variant)
    assert info["parent"] == "house-prices-book" and info["overrides"] == {"epochs": 30} and info["seed"] == 0
    assert "train house-prices-book --name reader-houses --epochs 30" in info["command"]
    assert zoo.load(variant).config["name"] == "reader-houses" and set(metrics) == {"mse", "mae"}
    text = (variant / "README.md").read_text()
    assert "A variant of `house-prices-book`" in text


def test_a_variant_may_not_take_a_project_name(tmp_path, capsys):
    args = ["train", "house-prices-book", "--name", "mnist-cnn-modern", "--out", str(tmp_path)]
    assert train_main(args) == 2
    assert "entry's name" in capsys.readouterr().err and not any(tmp_path.iterdir())


def test_submit_a_folder_ranks_it_loads_it_and_lists_its_lifecycle(variant, store, capsys):
    assert zoo_main(["submit", str(variant)]) == 0
    out = capsys.readouterr().out
    assert "passed the gates" in out and "finished: mse" in out
    (request,) = Store().requests()
    assert request["status"] == "finished" and request["source"] == f"folder:{variant.resolve()}"
    (result,) = Store().results()
    assert result["sha256"] == sha256_file(variant / "model.safetensors")
    assert set(result) >= {"model", "source", "revision", "sha256", "task", "metrics", "evaluated_at", "torch"}
    assert result["dlfs_zoo"] == zoo.__version__ and "evaluate --folder" in result["command"]
    # the project's own numbers, recomputed: they equal what the variant's card claims
    from training import card

    claimed, _ = card.read(variant)
    assert result["metrics"] == pytest.approx(claimed, rel=1e-6)

    assert zoo_main(["leaderboard", "--task", "houses", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    mine = next(r for r in rows if r["model"] == "reader-houses")
    assert mine["origin"] == "submitted" and mine["verified"] and mine["intervals"]["mse"]
    assert {r["origin"] for r in rows} == {"zoo", "submitted"}
    assert zoo_main(["leaderboard", "--task", "houses", "--json", "--zoo-only"]) == 0
    assert "reader-houses" not in capsys.readouterr().out

    kept = Store().admitted_folder("reader-houses") / "training_log.json"  # its curve, for the Leaderboard's view
    assert kept.read_bytes() == (variant / "training_log.json").read_bytes()

    assert zoo.load("reader-houses").config["name"] == "reader-houses"
    hub_model = torch.hub.load(str(HUB.parent.parent), "house_prices", source="local", variant="reader-houses")
    assert hub_model.config["name"] == "reader-houses"

    assert zoo_main(["submissions"]) == 0
    assert "finished" in capsys.readouterr().out


def test_an_evaluation_past_its_time_limit_fails_visibly_and_is_not_ranked(variant, store, capsys):
    assert zoo_main(["submit", str(variant), "--timeout", "0.5"]) == 1
    assert "time limit" in capsys.readouterr().err
    (request,) = Store().requests()
    assert request["status"] == "failed" and "time limit of 0.5 s" in request["reason"]
    assert "reader-houses" not in [r.model for r in zoo.leaderboard("houses")]
    assert zoo_main(["submit", str(variant)]) == 0  # a failed evaluation may be submitted again


def test_submit_from_the_hub_and_push_the_result(variant, store, hub_server, capsys):
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi()
    api.create_repo("reader/houses")
    commit = api.upload_folder(repo_id="reader/houses", folder_path=str(variant))
    source = f"hf:reader/houses@{commit.oid}"
    assert zoo_main(["submit", source, "--name", "reader-hub-houses", "--push", "reader/results"]) == 0
    out = capsys.readouterr().out
    assert "result pushed" in out
    (result,) = Store().results()
    assert result["source"] == "hf:reader/houses" and result["revision"] == commit.oid
    assert result["source_url"].endswith("/reader/houses")
    key = Store.key("reader-hub-houses", result["sha256"])
    pushed = json.loads(Path(hf_hub_download("reader/results", f"results/{key}.json", repo_type="dataset")).read_text())
    assert pushed == result
    request = hf_hub_download("reader/results", f"requests/{key}.json", repo_type="dataset")
    assert json.loads(Path(request).read_text())["status"] == "finished"
    rows = zoo.leaderboard("houses")
    assert next(r for r in rows if r.model == "reader-hub-houses").source == "hf:reader/houses"


def test_a_digits_submission_gets_the_robustness_columns(tmp_path, store, capsys):
    args = ["train", "mnist-mlp", "--name", "reader-mlp", "--epochs", "1", "--seeds", "1", "--train-limit", "2000"]
    assert train_main([*args, "--out", str(tmp_path), "--quiet", "--skip-robustness"]) == 0
    capsys.readouterr()
    assert zoo_main(["submit", str(tmp_path / "reader-mlp")]) == 0
    (result,) = Store().results()
    assert {"accuracy", "drawn", "corrupted", "corrupted_fog"} <= set(result["metrics"])
    assert {"drawn", "corrupted", "accuracy"} <= set(result["intervals"])


# ----------------------------------------------------------------------------------------- hostile
def _json(folder: Path, **changes):
    config = json.loads((folder / "config.json").read_text())
    for k, v in changes.items():
        if v is None:
            config.pop(k, None)
        else:
            config[k] = v
    (folder / "config.json").write_text(json.dumps(config))


def _resign(folder: Path) -> None:
    """Declare the (changed) weights' real sha256, so that only the gate under test can catch them."""
    _json(folder, weights_sha256=sha256_file(folder / "model.safetensors"))


def _weights(f: Path) -> dict[str, torch.Tensor]:
    """The tensors in memory (not mapped from the file, which the case then overwrites)."""
    return load((f / "model.safetensors").read_bytes())


def _pickle(f: Path) -> None:
    torch.save(_weights(f), f / "model.safetensors")
    _resign(f)


def _header_lies(f: Path) -> None:
    raw = (f / "model.safetensors").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = raw[8 : 8 + n].replace(b"[13,13]", b"[13,14]").replace(b"[13, 13]", b"[13, 14]")
    assert header != raw[8 : 8 + n]
    (f / "model.safetensors").write_bytes(raw[:8] + header + raw[8 + n :])
    _resign(f)


def _huge_shape(f: Path) -> None:
    raw = (f / "model.safetensors").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = raw[8 : 8 + n].replace(b"[13,13]", b"[99999999,99]").ljust(n)
    (f / "model.safetensors").write_bytes(raw[:8] + header[:n] + raw[8 + n :])
    _resign(f)


def _other_shapes(f: Path) -> None:
    state = _weights(f)
    state = {k: torch.zeros(*v.shape[:-1], v.shape[-1] + 1) if v.dim() == 2 else v for k, v in state.items()}
    save_file(state, f / "model.safetensors")
    _resign(f)


def _nan(f: Path) -> None:
    state = _weights(f)
    first = next(k for k, v in state.items() if v.is_floating_point())
    state[first] = state[first].clone()
    state[first].view(-1)[0] = float("nan")
    save_file(state, f / "model.safetensors")
    _resign(f)


def _card(text: str):
    return lambda f: (f / "README.md").write_text(text)


LONG = "Trained with `python -m training train house-prices-book` on the Boston split; " * 4


def _lying_log(f: Path) -> None:
    """A training_log.json whose loss is NaN (as Python's json writes it), beside a good checkpoint."""
    (f / "training_log.json").write_text('{"steps": {"step": [1], "epoch": [1], "loss": [NaN]}, "epochs": []}')


def _symlink(f: Path) -> None:
    real = f.parent / "elsewhere.safetensors"
    shutil.move(f / "model.safetensors", real)
    os.symlink(real, f / "model.safetensors")


def _oversized(f: Path) -> None:
    with open(f / "model.safetensors", "r+b") as fh:
        fh.truncate(101 * 2**20)  # sparse: the size is what the gate reads, before any byte


def _billion(f: Path) -> None:
    mlp = HUB / "mnist-mlp"
    for name in ("model.safetensors", "README.md", "config.json"):
        shutil.copyfile(mlp / name, f / name)
    _json(f, hidden_size=1_000_000, name="reader-mlp")


def _layers(f: Path) -> None:
    for name in ("model.safetensors", "README.md", "config.json"):
        shutil.copyfile(HUB / "char-transformer" / name, f / name)
    _json(f, n_layer=100_000, name="reader-gpt")


HOSTILE = {  # case -> (what is done to a good submission, extra CLI arguments, the words of its refusal)
    "pickle renamed .safetensors": (_pickle, [], "is a pickle"),
    "random bytes as weights": (
        lambda f: (f / "model.safetensors").write_bytes(os.urandom(4096)),
        [],
        "not a safetensors",
    ),
    "wrong sha256": (lambda f: _json(f, weights_sha256="0" * 64), [], "config.json declares 0000"),
    "no sha256 declared": (lambda f: _json(f, weights_sha256=None), [], "declares no weights_sha256"),
    "header lying about shapes": (_header_lies, [], "does not match the file's bytes"),
    "huge declared shape": (_huge_shape, [], "entry for"),
    "shapes the config does not build": (_other_shapes, [], "the config builds"),
    "a billion parameters": (_billion, [], "parameters (the cap)"),
    "a hundred thousand layers": (_layers, [], "more modules than the weights file has tensors"),
    "NaN weights": (_nan, [], "NaN or infinite"),
    "unknown architecture": (lambda f: _json(f, architecture="ResNet9000"), [], "unknown architecture"),
    "extra config key": (lambda f: _json(f, trust_remote_code=True), [], "unknown key 'trust_remote_code'"),
    "config not JSON": (lambda f: (f / "config.json").write_text("{'python': 1}"), [], "not valid JSON"),
    "empty card": (_card(""), [], "README.md is empty"),
    "card without license": (_card(f"---\nlibrary_name: x\n---\n{LONG}"), [], "declares no license"),
    "card too short": (_card("---\nlicense: mit\n---\nTrained."), [], "at least 200"),
    "card with script": (_card(f"---\nlicense: mit\n---\n{LONG}<script>alert(1)</script>"), [], "active HTML"),
    "card with bad YAML": (_card(f"---\nlicense: [mit\n---\n{LONG}"), [], "not valid YAML"),
    "../ name": (lambda f: None, ["--name", "../evil"], "invalid name"),
    "a project entry's name": (lambda f: None, ["--name", "mnist-cnn-modern"], "entry's name"),
    "symlinked weights": (_symlink, [], "symbolic link"),
    "missing weights": (lambda f: (f / "model.safetensors").unlink(), [], "has no model.safetensors"),
    "oversized weights": (_oversized, [], "the cap is 104,857,600"),
    "duplicate weights": (lambda f: None, ["--name", "reader-houses-again"], "already submitted"),
    "a training log that lies": (_lying_log, [], "is not a training log"),
    "task not the architecture's": (lambda f: _json(f, task="digits"), [], "does not match HousePricesModel"),
}


def _state(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def admitted(variant, tmp_path_factory):
    """A store that already holds the good variant (so that a duplicate can be refused)."""
    return submitted_into(tmp_path_factory.mktemp("hostile") / "results", variant)


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_submissions_are_refused_with_their_own_sentence(
    case, variant, admitted, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(admitted))
    spoil, extra, words = HOSTILE[case]
    folder = tmp_path / "submission"
    shutil.copytree(variant, folder)
    spoil(folder)
    before, board = _state(admitted), zoo.leaderboard()
    capsys.readouterr()
    assert zoo_main(["submit", str(folder), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err, err
    assert err.count("\n") == 0 and err.startswith("error: ")  # one sentence, no traceback
    assert _state(admitted) == before and zoo.leaderboard() == board


def test_every_hostile_case_has_a_refusal_of_its_own():
    assert len(HOSTILE) >= 15
    assert len({words for _, _, words in HOSTILE.values()}) == len(HOSTILE)


def test_every_shipped_checkpoint_would_pass_the_structural_gates():
    """The gates refuse hostile files, not the zoo's own kind of checkpoint (only their names are taken)."""
    from zoo.config import read_config, validate_config
    from zoo.submissions import gates

    for folder in sorted(p for p in HUB.iterdir() if (p / "config.json").is_file()):
        config = read_config(folder)
        header = gates.read_header(folder / "model.safetensors")
        skeleton = gates.build_on_meta(validate_config(config), config, header)
        assert gates.check_tensors(skeleton, header) == gates.PASSED and skeleton.state_dict()
        assert gates.check_card(folder / "README.md") == gates.PASSED


def test_hub_constants_restored():
    _reload_hf_constants()
