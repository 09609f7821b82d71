"""torch.hub entry points, used the way torch.hub users call them."""

import pytest
import torch

from conftest import ROOT


def _local_list_and_help(repo_dir, model):
    """torch 2.14's ``hub.list``/``hub.help`` accept GitHub repos only; this is their body for a local dir."""
    module = torch.hub._import_module(torch.hub.MODULE_HUBCONF, str(repo_dir / torch.hub.MODULE_HUBCONF))
    torch.hub._check_dependencies(module)
    entries = [f for f in dir(module) if callable(getattr(module, f)) and not f.startswith("_")]
    return entries, torch.hub._load_entry_from_hubconf(module, model).__doc__


def test_list_and_help():
    entries, doc = _local_list_and_help(ROOT, "mnist_convnet")
    assert entries == [
        "autoencoder",
        "char_lstm",
        "char_rnn",
        "char_transformer",
        "gan",
        "house_prices",
        "mnist_convnet",
    ]
    assert "Variants: mnist-convnet-book" in doc and ">>> model = torch.hub.load" in doc


def test_load_pretrained_matches_zoo_load():
    import zoo

    model = torch.hub.load(str(ROOT), "mnist_convnet", source="local", variant="mnist-convnet-book")
    ref = zoo.load("mnist-convnet-book")
    assert not model.training and model.config["normalize"]["std"] == pytest.approx(0.3081)
    for (k, a), (_, b) in zip(model.state_dict().items(), ref.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_pretrained_false_is_fresh_but_same_architecture():
    fresh = torch.hub.load(str(ROOT), "mnist_convnet", source="local", pretrained=False)
    trained = torch.hub.load(str(ROOT), "mnist_convnet", source="local")
    assert fresh.state_dict().keys() == trained.state_dict().keys()
    assert not torch.equal(fresh.dense2.linear.weight, trained.dense2.linear.weight)
    assert fresh.config["normalize"] == trained.config["normalize"]


def test_wrong_variant_lists_the_right_ones():
    with pytest.raises(ValueError, match=r"not a char_rnn model; choose one of \['char-lstm-book'"):
        torch.hub.load(str(ROOT), "char_rnn", source="local", variant="mnist-convnet-book")


def test_every_family_loads():
    for entry, variant in [
        ("house_prices", "house-prices-random-forest"),
        ("char_rnn", "char-gru-2layer"),
        ("autoencoder", "autoencoder-book"),
    ]:
        model = torch.hub.load(str(ROOT), entry, source="local", variant=variant)
        assert model.config["name"] == variant


def test_old_names_keep_working():
    """``char_lstm`` (the family's old entry point) and ``houses-*`` (the entries' old names) still load."""
    model = torch.hub.load(str(ROOT), "char_lstm", source="local", variant="char-lstm-256")
    assert model.config["name"] == "char-lstm-256"
    model = torch.hub.load(str(ROOT), "house_prices", source="local", variant="houses-random-forest")
    assert model.config["name"] == "house-prices-random-forest"
