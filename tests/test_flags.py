"""People's drawings flagged as read wrong: kept only when asked, in the HF imagefolder layout, committed in
batches to a dataset repo (the local Hub server), nothing about the person stored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.flags import FlagStore


def _drawing(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    original = (rng.random((120, 90, 4)) * 255).astype(np.uint8)
    return original, rng.random((28, 28)).astype(np.float32)


def test_a_flag_is_kept_whole_in_the_imagefolder_layout(tmp_path):
    store = FlagStore(tmp_path / "flags")
    original, seen = _drawing(0)
    key = store.add(original, seen, 7, 1, "mnist-cnn-modern")
    (row,) = store.records()
    assert row["file_name"] == f"{key}-seen.png" and row["label"] == 7 and row["predicted"] == 1
    assert set(row) == {"file_name", "original", "label", "predicted", "model", "day"}  # nothing about the person
    images, labels = store.load()
    assert images.shape == (1, 28, 28) and labels.tolist() == [7]
    assert np.abs(images[0] - seen).max() <= 1 / 255 + 1e-6  # the 28x28 the model saw, as it saw it
    assert (store.split / row["original"]).is_file()


@pytest.mark.parametrize("label", [-1, 10, "7", 3.5, None])
def test_a_bad_label_writes_nothing(tmp_path, label):
    store = FlagStore(tmp_path / "flags")
    with pytest.raises(ValueError, match="whole number from 0 to 9"):
        store.add(*_drawing(1), label, 2, "mnist-mlp")
    assert store.records() == [] and not any(store.folder.rglob("*.png"))


def test_flags_are_committed_to_a_dataset_repo_in_batches(tmp_path, hub_server, monkeypatch):
    from huggingface_hub import hf_hub_download

    monkeypatch.setenv("DLFS_ZOO_FLAGS_REPO", "people/drawings")
    monkeypatch.setenv("DLFS_ZOO_FLAGS_BATCH", "2")
    store = FlagStore(tmp_path / "flags")
    store.add(*_drawing(2), 4, 9, "mnist-mlp")
    assert not hub_server.store.exists("datasets/people/drawings")  # one drawing: below the batch
    store.add(*_drawing(3), 5, 3, "mnist-mlp")
    meta = hf_hub_download("people/drawings", "train/metadata.jsonl", repo_type="dataset")
    rows = [json.loads(line) for line in open(meta, encoding="utf-8")]
    assert [r["label"] for r in rows] == [4, 5]
    image = hf_hub_download("people/drawings", f"train/{rows[1]['file_name']}", repo_type="dataset")
    assert open(image, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.app
def test_the_app_keeps_a_flagged_drawing(client, app, tmp_path, mnist_sample):
    from bench.app_process import picture
    from training.drawn import human_drawing

    images, labels = mnist_sample
    path = tmp_path / "five.png"
    human_drawing(images[int(np.flatnonzero(labels == 5)[0])], np.random.default_rng(2), 400).save(path)
    note = client.predict(image=picture(path), right_digit="5", model="mnist-mlp", api_name="/flag_digit")
    assert "Saved" in note and "`mnist-mlp`" in note
    rows = FlagStore(app.flags).records()
    assert rows[-1]["label"] == 5 and rows[-1]["model"] == "mnist-mlp"
    with pytest.raises(Exception, match="choose the right digit"):
        client.predict(image=picture(path), right_digit=None, model="mnist-mlp", api_name="/flag_digit")
    assert len(FlagStore(app.flags).records()) == len(rows)  # refused: nothing written


def test_evaluate_reports_peoples_drawings_once_there_are_enough(tmp_path, monkeypatch, capsys, mnist_sample):
    from training.__main__ import main as train_main

    monkeypatch.setenv("DLFS_ZOO_FLAGS", str(tmp_path / "flags"))
    store = FlagStore()
    images, labels = mnist_sample
    for i in range(99):
        store.add(images[i], images[i] / 255.0, int(labels[i]), None, "mnist-mlp")
    assert train_main(["evaluate", "--people"]) == 0
    assert "99 kept" in capsys.readouterr().out
    store.add(images[99], images[99] / 255.0, int(labels[99]), None, "mnist-mlp")
    assert train_main(["evaluate", "mnist-mlp", "mnist-cnn-modern", "--people"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("mnist-cnn-modern")[1].split("people's drawings")[1].split()[0])
    assert accuracy >= 0.95 and "(100 drawings)" in out  # real MNIST digits: the modern CNN reads them
