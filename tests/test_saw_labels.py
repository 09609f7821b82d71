"""Which latent models saw the digits' labels: declared once per entry, shown by every table and the Latent tab."""

import csv
import dataclasses
import io

from zoo.catalog import ENTRIES, TASKS, saw_labels
from zoo.leaderboard import Row, format_labels, labels_column, rank, to_csv, to_markdown


def _row(task, model, **metrics):
    return Row(task=task, model=model, metrics=metrics, verified=True, saw_labels=saw_labels(model))


def test_the_unsupervised_latent_entries_are_declared_so():
    """Chapter 7's point: the autoencoders and the unconditional GAN learn without labels; dcgan-28 does not."""
    assert saw_labels("dcgan-28") is True
    assert saw_labels("dcgan-28-unconditional") is False
    assert saw_labels("vae-28") is False and saw_labels("autoencoder-book") is False
    assert saw_labels("someone-elses-model") is None  # a submission: not known, never guessed
    gan = ENTRIES["dcgan-28-unconditional"]
    assert gan.architecture == "DCGAN" and gan.family == "gan" and gan.recipe.trainer == "dcgan"


def test_latent_tables_carry_a_saw_labels_column_and_others_do_not():
    rows = rank(
        [
            _row("latent", "dcgan-28", frechet=2.0),
            _row("latent", "dcgan-28-unconditional", frechet=20.0),
            dataclasses.replace(_row("latent", "submitted-gan", frechet=30.0), origin="submitted"),
            _row("houses", "house-prices-book", mse=14.0),
        ]
    )
    assert labels_column("latent") == ["saw labels"] and labels_column("houses") == []
    assert [format_labels(r) for r in rows] == ["yes", "no", "", "yes"]  # a regression learns from its targets
    md = to_markdown(rows)
    assert "| frechet | sample_confident | sample_diversity | sample_score | mse | saw labels | book |" in md
    assert "| 1 | `dcgan-28` | 2 |  |  |  |  | yes |" in md
    assert "| 2 | `dcgan-28-unconditional` | 20 |  |  |  |  | no |" in md
    assert "saw labels" not in md.split("**houses**")[1]
    table = {r["model"]: r["saw_labels"] for r in csv.DictReader(io.StringIO(to_csv(rows)))}
    assert table == {"dcgan-28": "yes", "dcgan-28-unconditional": "no", "submitted-gan": "", "house-prices-book": "yes"}
    assert [t.name for t in TASKS.values() if t.labels_column] == ["latent"]


def test_the_leaderboard_tab_and_the_latent_note_say_it():
    """The app's own ranking (and its API) and the Latent tab's model note, in both languages."""
    from demos.i18n_text import EN, ZH
    from demos.tabs.leaderboard import board_headers, board_table, readable_board

    class Pool:
        board = rank([_row("latent", "dcgan-28", frechet=2.0), _row("latent", "vae-28", frechet=100.0)])

    headers = board_headers("latent")
    rows = {r[1]: dict(zip(headers, r, strict=True)) for r in readable_board(Pool(), "latent")}
    assert rows["dcgan-28"]["saw labels"] == "yes" and rows["vae-28"]["saw labels"] == "no"
    api = board_table(Pool(), "latent")
    assert [dict(zip(api["headers"], r, strict=True))["saw labels"] for r in api["data"]] == ["yes", "no"]
    assert "saw labels" not in board_headers("digits")
    for key in ("latent_saw_labels", "latent_no_labels", "latent_bins"):
        assert key in EN and key in ZH, key


def test_the_unconditional_gan_trains_without_reading_a_label(monkeypatch):
    """A recipe with ``labels=False`` never reads them: labels no digit has (99) would break the projection
    discriminator that ``dcgan-28`` trains with, and do not touch this one, whose discriminator guesses bins."""
    import pytest
    import torch

    from training import data
    from training.tasks import TRAINERS, Options
    from training.tasks import latent as latent_task

    pixels, labels = data.mnist_pixels(train=True)
    monkeypatch.setattr(data, "mnist_pixels", lambda train: (pixels[:64], torch.full((64,), 99)))
    made = []
    real_discriminator = latent_task.Discriminator
    monkeypatch.setattr(latent_task, "Discriminator", lambda *a: made.append(real_discriminator(*a)) or made[-1])
    options = Options(epochs=1, batch_size=16, lr=8e-4, progress=False, train_limit=64)
    model, history = TRAINERS["dcgan"](ENTRIES["dcgan-28-unconditional"], options)
    assert len(history) == 1 and model.classes == 10
    assert made[-1].embed is None and made[-1].guess.out_features == 10  # no labels in, a Q head over the bins
    with pytest.raises(IndexError):
        TRAINERS["dcgan"](ENTRIES["dcgan-28"], options)
