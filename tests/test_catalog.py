"""Every zoo entry, from its one declaration: a recipe the CLI can run, a shipped checkpoint that matches the
declaration, a card, and a torch.hub family that builds it without a checkpoint (timm's registry habit)."""

import io
import json

import pytest
import torch
from PIL import Image

import hubconf
from training import card as cards
from training.curve_image import curve_png, title
from training.tasks import TRAINERS
from zoo.catalog import ALIASES, ENTRIES, TASKS, canonical, entry
from zoo.checkpoint_io import CURVE_IMAGE_NAME, TRAINING_LOG_NAME, load_folder, read_training_log
from zoo.models import ARCHITECTURES, migrate_config

from conftest import HUB


@pytest.mark.parametrize("name", list(ENTRIES))
def test_entry_has_recipe_checkpoint_card_and_hub_family(name):
    e = ENTRIES[name]
    assert e.task in TASKS and ARCHITECTURES[e.architecture].task == e.task
    assert e.recipe.trainer in TRAINERS, f"{name}: no trainer registered as {e.recipe.trainer!r}"
    folder = HUB / name
    shipped = ["README.md", "config.json", "model.safetensors"] + (["misses.png"] if e.task == "digits" else [])
    # a digits model's misses on the drawn set too; the training curve (``training_log.json``, its metrics the
    # card's: a replay of the card's command that gave the same bytes, or the run's own per-epoch records; else a
    # replay labelled as one) and the picture of it that the card shows
    shipped += [TRAINING_LOG_NAME, CURVE_IMAGE_NAME]
    log = read_training_log(folder)
    claimed, info = cards.read(folder)
    assert log["name"] == name and log["seed"] == e.recipe.seed and log["steps"]["loss"]
    if log.get("replay"):  # a replay whose weights differ says so, and its metrics are its own
        assert log["source"].startswith("A replay of the card's command") and log["command"] == info["command"]
    else:
        assert all(log["metrics"][k] == pytest.approx(claimed[k], rel=1e-4) for k in log["metrics"] if k in claimed)
    card = (folder / "README.md").read_text()
    assert f"`{cards.sparkline(log['steps']['loss'])}`" in card and f"drawn in `{CURVE_IMAGE_NAME}`" in card
    with Image.open(folder / CURVE_IMAGE_NAME) as shown, Image.open(io.BytesIO(curve_png(log, title(name)))) as drawn:
        assert shown.tobytes() == drawn.tobytes()  # the picture is the log's, drawn by the project's code
    assert sorted(p.name for p in folder.iterdir()) == sorted(shipped)
    config = json.loads((folder / "config.json").read_text())
    assert config["name"] == name and config["task"] == e.task and config["architecture"] == e.architecture
    for key, value in e.kwargs.items():  # the declaration is what the checkpoint was built with
        assert config[key] == value, f"{name}: config {key}={config[key]!r}, declared {value!r}"
    assert f"python -m training train {name} " in (folder / "README.md").read_text()
    family = getattr(hubconf, e.family)
    assert name in family.__doc__  # the docstring's variant list comes from the catalog


@pytest.mark.parametrize("name", list(ENTRIES))
def test_pretrained_false_builds_the_declared_architecture(name):
    e = ENTRIES[name]
    fresh = getattr(hubconf, e.family)(pretrained=False, variant=name)
    trained = load_folder(HUB / name)
    assert type(fresh) is type(trained) and fresh.config["name"] == name
    shapes = {k: v.shape for k, v in fresh.state_dict().items()}
    assert shapes.keys() == trained.state_dict().keys()
    if e.architecture != "TreeEnsembleRegressor":  # a forest's node arrays are sized by fitting
        assert shapes == {k: v.shape for k, v in trained.state_dict().items()}


def test_old_names_resolve_to_current_entries():
    for old, new in ALIASES.items():
        assert canonical(old) == new and entry(old) is ENTRIES[new] and old not in ENTRIES


def test_old_config_keys_load_through_the_explicit_rename(tmp_path):
    """A checkpoint published before keep_prob/drop_prob had the ambiguous 'dropout': it loads, renamed."""
    import shutil

    for name, old_key, new_key in [
        ("mnist-convnet-book", "dropout", "keep_prob"),
        ("char-gru-2layer", "dropout", "drop_prob"),
    ]:
        folder = tmp_path / name
        shutil.copytree(HUB / name, folder)
        config = json.loads((folder / "config.json").read_text())
        config[old_key] = config.pop(new_key)
        (folder / "config.json").write_text(json.dumps(config))
        model = load_folder(folder)
        assert model.config[new_key] == ENTRIES[name].kwargs[new_key] and old_key not in model.config
    assert migrate_config({"architecture": "MNISTModernCNN", "dropout": 0.25}) == {
        "architecture": "MNISTModernCNN",
        "drop_prob": 0.25,
    }


def test_preprocessing_lives_on_the_model():
    digits, ae, houses = (
        load_folder(HUB / "mnist-mlp"),
        load_folder(HUB / "vae-28"),
        load_folder(HUB / "house-prices-book"),
    )
    pixels = torch.rand(3, 28, 28)
    n = digits.config["normalize"]
    assert torch.equal(digits.preprocess(pixels), ((pixels - n["mean"]) / n["std"])[:, None])
    assert digits.preprocess(pixels[0]).shape == (1, 1, 28, 28)
    x = ae.to_input(pixels)
    assert x.shape == (3, 1, 28, 28) and x.min() >= -1 and torch.allclose(ae.to_pixels(x), pixels[:, None], atol=1e-6)
    medians = houses.config["feature_medians"]
    scaled = houses.scale(medians)
    mean, std = (torch.tensor(houses.config["normalize"][k], dtype=torch.float64) for k in ("mean", "std"))
    assert scaled.dtype == torch.float32 and torch.equal(
        scaled, ((torch.tensor([medians], dtype=torch.float64) - mean) / std).float()
    )
