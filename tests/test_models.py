"""Model shapes, strict hub loading, integrity checks and config validation."""

import json
import re
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from zoo import hub
from zoo.checkpoint_io import load_folder, save_checkpoint
from zoo.config import ConfigError, validate_config
from zoo.models import (
    AUTOENCODER_SCALE,
    MNIST_NORMALIZE,
    VAE,
    Autoencoder,
    CharRNN,
    HousePricesModel,
    MNISTConvNet,
    MNISTModernCNN,
    NextCharacterModel,
    WeightsIntegrityError,
)
from zoo.sources import load


def test_forward_shapes_and_tuple_outputs():
    x = torch.randn(2, 1, 28, 28)
    assert MNISTConvNet()(x)[0].shape == (2, 10)
    assert MNISTConvNet(14, 7)(x)[0].shape == (2, 10)
    assert MNISTModernCNN(8)(x)[0].shape == (2, 10)
    recon, code = Autoencoder(28)(x)
    assert recon.shape == x.shape and code.shape == (2, 28) and code.abs().max() <= 1
    v = VAE(28).eval()
    out = v(x)
    assert out[0].shape == x.shape and out[1].shape == (2, 28)
    assert HousePricesModel()(torch.randn(5, 13))[0].shape == (5, 1)
    m = NextCharacterModel(5, 7, 10, vocab="abcde")
    assert m(torch.zeros(3, 10, 5))[0].shape == (3, 5, 10)  # (N, V, T) for CrossEntropyLoss
    assert CharRNN(5, 8, 2, "gru", 4, vocab="abcde")(torch.zeros(3, 10, dtype=torch.long))[0].shape == (3, 5, 10)


def test_models_check_their_input_shape():
    with pytest.raises(ValueError, match="must have 4 dimensions"):
        MNISTConvNet()(torch.zeros(2, 28, 28))
    with pytest.raises(ValueError, match=r"shape \(N, 13\)"):
        HousePricesModel()(torch.zeros(2, 12))
    with pytest.raises(ValueError, match="latent codes"):
        Autoencoder(28).decode(torch.zeros(2, 27))


def test_decoder_usable_alone():
    ae = Autoencoder(28).eval()
    z = ae.sample_codes(4, torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() <= 1
    assert ae.decoder(z).shape == (4, 1, 28, 28)


def test_generate_is_seeded_and_greedy_is_deterministic():
    torch.manual_seed(0)
    m = CharRNN(4, 8, vocab="\nabc").eval()
    a = "".join(m.generate("ab", 30, temperature=1.0, seed=3))
    b = "".join(m.generate("ab", 30, temperature=1.0, seed=3))
    assert a == b and len(a) == 30 and set(a) <= set("\nabc")
    assert "".join(m.generate("ab", 20, temperature=0)) == "".join(m.generate("ab", 20, temperature=0))
    with pytest.raises(ValueError, match="temperature"):
        list(m.generate("a", 3, temperature=float("nan")))
    idx, skipped = m.encode("abz€")
    assert idx.tolist() == [1, 2] and skipped == "z€"


def test_save_and_from_pretrained_roundtrip_is_exact(tiny_checkpoint):
    model = MNISTConvNet.from_pretrained(tiny_checkpoint)
    assert not model.training
    assert model.config["normalize"] == MNIST_NORMALIZE
    saved = load_file(tiny_checkpoint / "model.safetensors")
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved[k])
    cfg = json.loads((tiny_checkpoint / "config.json").read_text())
    assert cfg["architecture"] == "MNISTConvNet" and len(cfg["weights_sha256"]) == 64
    assert zoo_load_equal(tiny_checkpoint, model)


def zoo_load_equal(folder, model):
    other = load(folder)
    x = torch.randn(3, 1, 28, 28)
    return torch.equal(other(x)[0], model(x)[0])


def _rewrite_weights(folder, mutate):
    tensors = load_file(folder / "model.safetensors")
    mutate(tensors)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    cfg = json.loads((folder / "config.json").read_text())
    cfg.pop("weights_sha256")  # so the strict load, not the hash, is what is tested
    (folder / "config.json").write_text(json.dumps(cfg))


def test_strict_load_names_missing_tensor(tiny_checkpoint):
    _rewrite_weights(tiny_checkpoint, lambda t: t.pop("dense2.linear.bias"))
    with pytest.raises(ValueError, match="dense2.linear.bias"):
        load_folder(tiny_checkpoint)


def test_strict_load_names_unexpected_tensor(tiny_checkpoint):
    _rewrite_weights(tiny_checkpoint, lambda t: t.update(extra=torch.zeros(1)))
    with pytest.raises(ValueError, match="extra"):
        load_folder(tiny_checkpoint)


def test_strict_load_names_wrongly_shaped_tensor(tiny_checkpoint):
    _rewrite_weights(tiny_checkpoint, lambda t: t.update({"dense1.linear.weight": torch.zeros(3, 3)}))
    with pytest.raises(ValueError, match="dense1.linear.weight"):
        load_folder(tiny_checkpoint)


def test_flipped_byte_is_refused(tiny_checkpoint, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_checkpoint, copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(WeightsIntegrityError, match="corrupt or was tampered with"):
        load(copy)


def test_truncated_weights_are_refused(tiny_checkpoint):
    f = tiny_checkpoint / "model.safetensors"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(WeightsIntegrityError):
        load(tiny_checkpoint)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c.pop("architecture"), "missing key 'architecture'"),
        (lambda c: c.update(architecture="ResNet"), "unknown architecture 'ResNet'"),
        (lambda c: c.update(conv1_channels="16"), "key 'conv1_channels' must be"),
        (lambda c: c.update(keep_prob=True), "key 'keep_prob' must be"),
        (lambda c: c.update(colour="red"), "unknown key 'colour'"),
        (lambda c: c.update(weights_sha256=5), "key 'weights_sha256' must be a str"),
    ],
)
def test_config_validation_names_the_key(tiny_checkpoint, mutate, message):
    cfg = json.loads((tiny_checkpoint / "config.json").read_text())
    mutate(cfg)
    (tiny_checkpoint / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ConfigError, match=message):
        load(tiny_checkpoint)


def test_missing_required_key_is_named():
    with pytest.raises(ConfigError, match="missing key 'vocab_size'"):
        validate_config({"architecture": "NextCharacterModel"})


def test_broken_json_and_empty_folder(tmp_path, tiny_checkpoint):
    (tiny_checkpoint / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load(tiny_checkpoint)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="has no config.json"):
        load(tmp_path / "empty")


def test_names_are_validated():
    for bad in ["../etc", "/abs/path", "a/b", "UPPER", "", "x" * 80, "..", "name\x00"]:
        with pytest.raises(ValueError, match="invalid model name|no such|not a checkpoint"):
            load(bad, source="embedded")
    with pytest.raises(ValueError, match="unknown model 'resnet-50'; known models: house-prices-book"):
        load("resnet-50", source="embedded")


def test_failed_save_keeps_the_previous_checkpoint(tiny_checkpoint):
    before = (tiny_checkpoint / "model.safetensors").read_bytes()

    class Broken(MNISTConvNet):
        def save_pretrained(self, *a, **k):
            super().save_pretrained(*a, **k)
            raise KeyboardInterrupt  # killed mid-write

    broken = Broken(4, 2, 8, normalize=dict(MNIST_NORMALIZE))
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(broken, tiny_checkpoint.parent, "mnist-convnet-book", "card")
    assert (tiny_checkpoint / "model.safetensors").read_bytes() == before
    assert [p.name for p in tiny_checkpoint.parent.iterdir()] == ["mnist-convnet-book"]  # no temp left
    load(tiny_checkpoint)


def test_save_replaces_checkpoint_whole(tiny_checkpoint):
    torch.manual_seed(1)
    new = MNISTConvNet(4, 2, 8, normalize=dict(MNIST_NORMALIZE))
    save_checkpoint(new, tiny_checkpoint.parent, "mnist-convnet-book", "new card")
    loaded = load(tiny_checkpoint)
    assert torch.equal(loaded.conv1.conv.weight, new.conv1.conv.weight)
    assert (tiny_checkpoint / "README.md").read_text() == "new card"


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="cannot write checkpoints to"):
        save_checkpoint(MNISTConvNet(), blocker / "sub", "mnist-convnet-book", "card")


def test_no_pickle_anywhere():
    import pathlib

    root = pathlib.Path(hub.__file__).parent.parent
    for py in [*root.glob("zoo/**/*.py"), *root.glob("training/**/*.py"), *root.glob("demos/**/*.py")]:
        text = py.read_text()
        assert not re.search(r"^\s*(import|from) (pickle|joblib|dill)\b|pickle\.loads?\(", text, re.M), py
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (py, call)


def test_autoencoder_scale_constants_live_in_config():
    ae = Autoencoder(28, input_scale=dict(AUTOENCODER_SCALE))
    assert ae.config["input_scale"] == {"min": -1.0, "max": 1.0}
