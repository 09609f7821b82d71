"""Finite numbers, strict JSON (issue 35, item 2): a number a submission states that is not finite or out of range is
refused at the door naming the field; a model whose evaluation is not finite is recorded failed, never ranked; and
everything the project writes or serves as JSON parses under a strict parser (JavaScript's JSON.parse, Go, jq)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import zoo
from zoo.__main__ import main as zoo_main
from zoo.models import sha256_file
from zoo.submissions import Store

from conftest import HUB


def strict(text: str):
    """JSON as strict parsers read it: NaN, Infinity and -Infinity are errors."""

    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _state(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text()) | changes
    (folder / "config.json").write_text(json.dumps(config))  # the stdlib writes NaN / Infinity literals


BAD_NUMBERS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf"), "1e+300": 1e300}


@pytest.mark.parametrize("shown", BAD_NUMBERS)
def test_a_config_number_not_finite_or_out_of_range_is_refused_naming_it(
    shown, houses_variant, store, tmp_path, capsys
):
    folder = tmp_path / "submission"
    shutil.copytree(houses_variant, folder)
    config = json.loads((folder / "config.json").read_text())
    config["normalize"]["mean"][0] = BAD_NUMBERS[shown]
    _config(folder, normalize=config["normalize"], name="reader-nan")
    before, board = _state(store), zoo.leaderboard()
    capsys.readouterr()
    assert zoo_main(["submit", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: config.json's normalize.mean[0] is {shown}; numbers must be finite, between -1e6 and 1e6")
    assert _state(store) == before and zoo.leaderboard() == board


def test_a_card_metric_that_is_not_finite_is_refused_naming_it(houses_variant, store, tmp_path, capsys):
    folder = tmp_path / "submission"
    shutil.copytree(houses_variant, folder)
    card = (folder / "README.md").read_text()
    first = next(line for line in card.splitlines() if line.strip().startswith("value:"))
    (folder / "README.md").write_text(card.replace(first, first.split(":")[0] + ": .nan", 1))
    _config(folder, name="reader-nan-card")
    before = _state(store)
    capsys.readouterr()
    assert zoo_main(["submit", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "README.md's model-index[0].results[0].metrics[0].value is NaN; numbers must be finite" in err
    assert _state(store) == before


def test_a_model_evaluating_to_infinity_is_recorded_failed_and_never_ranked(houses_variant, store, tmp_path, capsys):
    """Finite weights that overflow float32 in the forward pass: every gate passes, the metric does not."""
    folder = tmp_path / "submission"
    shutil.copytree(houses_variant, folder)
    weights = load_file(folder / "model.safetensors")
    huge = {k: torch.full_like(v, 3e38) if k.startswith("dense2") else v for k, v in weights.items()}
    save_file(huge, folder / "model.safetensors")
    _config(folder, name="reader-overflow", weights_sha256=sha256_file(folder / "model.safetensors"))
    assert zoo_main(["submit", str(folder)]) == 1
    assert "only finite metrics are ranked" in capsys.readouterr().err
    record = next(r for r in Store().requests() if r["model"] == "reader-overflow")
    assert record["status"] == "failed" and "mse = Infinity; only finite metrics are ranked" in record["reason"]
    assert "Error" not in record["reason"]  # a sentence, not an exception's class name
    assert "reader-overflow" not in [r.model for r in zoo.leaderboard()]
    assert zoo_main(["leaderboard", "--json"]) == 0
    assert "reader-overflow" not in {r["model"] for r in strict(capsys.readouterr().out)}


def test_every_json_file_of_the_store_and_the_leaderboard_is_strict(store, capsys):
    files = sorted(store.rglob("*.json"))
    assert {p.parent.name for p in files} >= {"requests", "results"} and any(
        p.parent.parent.name == "models" for p in files
    )
    for path in files:
        strict(path.read_text())
    assert zoo_main(["leaderboard", "--json"]) == 0
    rows = strict(capsys.readouterr().out)
    assert "reader-houses" in {r["model"] for r in rows}
    assert zoo_main(["submissions", "--json"]) == 0
    strict(capsys.readouterr().out)


@pytest.mark.parametrize("folder", sorted(p.name for p in HUB.iterdir() if (p / "README.md").is_file()))
def test_every_zoo_cards_model_index_is_strict_json(folder):
    from huggingface_hub import ModelCard

    metadata = ModelCard((HUB / folder / "README.md").read_text()).data.to_dict()
    assert metadata["model-index"][0]["results"]
    strict(json.dumps(metadata))  # the model-index, and every other number the leaderboard reads
    strict((HUB / folder / "config.json").read_text())


def test_a_result_written_with_nan_before_this_rule_is_left_out_of_the_leaderboard(store, tmp_path, monkeypatch):
    """A store written by an older dlfs-zoo may hold NaN: its row is never ranked and the JSON stays strict."""
    old = tmp_path / "old-store"
    shutil.copytree(store, old)
    (result,) = sorted((old / "results").glob("*.json"))
    record = json.loads(result.read_text())
    record["metrics"]["mse"] = float("nan")
    result.write_text(json.dumps(record))
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(old))
    assert "reader-houses" not in [r.model for r in zoo.leaderboard()]
    assert strict(json.dumps([r.to_dict() for r in zoo.leaderboard()]))


def test_strict_dumps_names_where_a_non_finite_number_is():
    from zoo.config import strict_dumps, strict_loads

    with pytest.raises(ValueError, match=r"metrics\.mse is NaN"):
        strict_dumps({"metrics": {"mse": float("nan")}})
    with pytest.raises(ValueError, match="Infinity is not a JSON number"):
        strict_loads('{"a": Infinity}')
    assert strict_loads(strict_dumps({"a": [1, 2.5]})) == {"a": [1, 2.5]}
