"""The Gradio app through gradio_client: every public API name, good and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from bench.app_process import sketch
from training.drawn import human_drawing

pytestmark = pytest.mark.app


def test_api_names_are_public(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {
        "/classify_digit",
        "/generate_text",
        "/decode_latent",
        "/encode_digit",
        "/leaderboard",
        "/predict_price",
    } <= names


def test_classify_digit_reads_a_drawing(client, tmp_path, mnist_sample):
    images, labels = mnist_sample
    i = int(np.flatnonzero(labels == 7)[0])
    path = tmp_path / "seven.png"
    human_drawing(images[i], np.random.default_rng(0), 600).save(path)
    label, seen, hint = client.predict(sketch(path), "mnist-cnn-modern", api_name="/classify_digit")
    assert label["label"] == "7" and len(label["confidences"]) == 3
    assert "Read as **7**" in hint and seen.startswith("<img") and "data:image/png;base64," in seen


def test_blank_canvas_gives_a_hint_not_a_prediction(client, tmp_path):
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(path)
    label, seen, hint = client.predict(sketch(path), "mnist-cnn-modern", api_name="/classify_digit")
    assert not label and seen is None and "Draw a digit" in hint


def test_human_like_drawings_are_read_right(client, tmp_path, mnist_sample):
    """Acceptance: >= 97 % of person-like drawings (any size, place, slight tilt) read right by the default."""
    images, labels = mnist_sample
    default = client.view_api(print_info=False, return_format="dict")  # the default model is the top one
    assert default
    rng = np.random.default_rng(1)
    picks = rng.choice(len(images), 200, replace=False)
    right = 0
    for k, i in enumerate(picks):
        path = tmp_path / f"d{k}.png"
        human_drawing(images[i], rng).save(path)
        label, _, _ = client.predict(sketch(path), "mnist-cnn-modern", api_name="/classify_digit")
        right += label["label"] == str(labels[i])
    assert right / len(picks) >= 0.97, right


def test_generate_text_streams_and_reports_oov(client):
    job = client.submit("char-lstm-256", "ROMEO:\nBut soft€", 120, 0.8, 0, 1, api_name="/generate_text")
    outputs = list(job)
    text, note = job.result()
    assert len(outputs) >= 3  # streamed in pieces
    assert text.startswith("ROMEO:\nBut soft") and len(text) == len("ROMEO:\nBut soft") + 120
    assert "€" in note
    greedy = [client.predict("char-lstm-book", "KING:", 50, 0, 0, 0, api_name="/generate_text")[0] for _ in range(2)]
    assert greedy[0] == greedy[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (("char-lstm-256", "x", 0, 1.0, 0, 0), "Value 0 is less than minimum value 1"),
        (("char-lstm-256", "x", 5000, 1.0, 0, 0), "Value 5000 is greater than maximum value 2000"),
        (("char-lstm-256", "x", 10, -1, 0, 0), "Value -1 is less than minimum value 0"),
        (("no-such-model", "x", 10, 1.0, 0, 0), "no-such-model is not in the list of choices"),
        (("../../etc/passwd", "x", 10, 1.0, 0, 0), "is not in the list of choices"),
        (("char-lstm-256", "y" * 100_000, 10, 1.0, 0, 0), "at most 10,000 are allowed"),
    ],
)
def test_generate_text_bad_input(client, args, message):
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name="/generate_text")
    assert client.predict("char-lstm-book", "A", 5, 0, 0, 0, api_name="/generate_text")[0]  # still serving


def test_decode_and_encode_latent(client, tmp_path, mnist_sample):
    zeros = [0.0] * 28
    a = np.array(client.predict("autoencoder-book", zeros, api_name="/decode_latent"))
    b = np.array(client.predict("autoencoder-book", [0.5] + zeros[1:], api_name="/decode_latent"))
    assert a.shape == (28, 28) and 0 <= a.min() and a.max() <= 1
    assert np.abs(a - b).max() > 0.01
    images, labels = mnist_sample
    path = tmp_path / "two.png"
    human_drawing(images[int(np.flatnonzero(labels == 2)[0])], np.random.default_rng(3), 500).save(path)
    code = client.predict("vae-28", sketch(path), api_name="/encode_digit")
    assert len(code) == 28 and all(isinstance(v, float) for v in code)
    again = np.array(client.predict("vae-28", code, api_name="/decode_latent"))
    assert again.shape == (28, 28)


@pytest.mark.parametrize(
    "code, message",
    [
        ([0.0] * 27, "a latent vector has 28 values, got 27"),
        ([0.0] * 29, "has 28 values, got 29"),
        ([1e9] + [0.0] * 27, "between -10 and 10"),
        (["x"] * 28, "must be numbers"),
    ],
)
def test_decode_latent_bad_vectors(client, code, message):
    with pytest.raises(Exception, match=message):
        client.predict("autoencoder-book", code, api_name="/decode_latent")


def test_leaderboard_and_houses(client):
    import zoo

    table = client.predict("digits", api_name="/leaderboard")
    assert table["headers"][:6] == ["rank", "model", "drawn", "corrupted", "accuracy", "loss"]
    rows = table["data"]
    best_drawn = max(zoo.leaderboard("digits"), key=lambda r: r["metrics"]["drawn"])["model"]
    assert rows[0][1] == best_drawn and rows[0][0] == 1 and len(rows) >= 5
    with pytest.raises(Exception, match="speech is not in the list of choices"):
        client.predict("speech", api_name="/leaderboard")
    medians = [0.25, 0.0, 9.7, 0.0, 0.54, 6.2, 77.0, 3.2, 5.0, 330.0, 19.0, 391.0, 11.4]
    prices = client.predict(*medians, api_name="/predict_price")["data"]
    assert len(prices) >= 4 and all(5 < p < 50 for _, p in prices)


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "zoo/checkpoints/mnist-mlp/model.safetensors", "../../../../etc/passwd", "demos/app.py"],
)
def test_app_serves_no_files_outside_its_own(app, path):
    import httpx

    from conftest import ROOT

    target = path if path.startswith(("/", "..")) else str(ROOT / path)
    r = httpx.get(f"{app.url}gradio_api/file={target}", timeout=10)
    assert r.status_code in (403, 404), (path, r.status_code)


def test_a_phone_photo_of_a_pencil_digit_is_read_right(client, tmp_path, mnist_sample):
    """Grey paper, pencil, uneven light with a shadow, sensor noise and JPEG (``training.drawn.as_photo``):
    the app's default model reads it, and what it saw is a clean white-on-black digit."""
    from training.drawn import _affine, as_photo, draw_strokes, mnist_strokes

    images, labels = mnist_sample
    i = int(np.flatnonzero(labels == 4)[0])
    rng = np.random.default_rng(11)
    ink = draw_strokes(_affine(mnist_strokes(images[i]), rng), 700, 420, 7, rng)
    path = tmp_path / "photo.jpg"
    as_photo(ink, rng).save(path)
    default = client.view_api(print_info=False, return_format="dict")
    assert default
    label, seen, hint = client.predict(sketch(path), "mnist-cnn-robust", api_name="/classify_digit")
    assert label["label"] == "4", (label, hint)


def test_digits_tab_says_its_default_is_the_best_on_drawn_digits():
    import zoo
    from demos.app import Zoo, default_digits_note

    board = zoo.leaderboard()
    note = default_digits_note(Zoo(board=board))
    top = next(r for r in board if r["task"] == "digits")
    assert (
        top["model"] == max((r for r in board if r["task"] == "digits"), key=lambda r: r["metrics"]["drawn"])["model"]
    )
    assert f"`{top['model']}`" in note and f"{100 * top['metrics']['drawn']:.1f} %" in note
