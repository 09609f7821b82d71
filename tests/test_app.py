"""The Gradio app through gradio_client: every public API name, good and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from bench.app_process import picture
from training.drawn import human_drawing

pytestmark = pytest.mark.app


def test_api_names_are_public(client):
    """Exactly the endpoints the app has always offered (the tabs' own handlers stay private)."""
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert names == {
        "/classify_digit",
        "/flag_digit",
        "/generate_text",
        "/decode_latent",
        "/encode_digit",
        "/leaderboard",
        "/predict_price",
        "/submit_model",
        "/submissions",
        "/train_model",
    }


def test_classify_digit_reads_a_drawing(client, tmp_path, mnist_sample):
    images, labels = mnist_sample
    i = int(np.flatnonzero(labels == 7)[0])
    path = tmp_path / "seven.png"
    human_drawing(images[i], np.random.default_rng(0), 600).save(path)
    label, seen, hint = client.predict(image=picture(path), model="mnist-cnn-modern", api_name="/classify_digit")
    assert label["label"] == "7" and len(label["confidences"]) == 3
    assert "Read as **7**" in hint and seen.startswith("<img") and "data:image/png;base64," in seen


def test_blank_canvas_gives_a_hint_not_a_prediction(client, tmp_path):
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(path)
    label, seen, hint = client.predict(image=picture(path), model="mnist-cnn-modern", api_name="/classify_digit")
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
        label, _, _ = client.predict(image=picture(path), model="mnist-cnn-modern", api_name="/classify_digit")
        right += label["label"] == str(labels[i])
    assert right / len(picks) >= 0.97, right


def test_generate_text_streams_and_reports_oov(client):
    job = client.submit(
        prompt="ROMEO:\nBut soft€", length=120, seed=1, model="char-lstm-256", api_name="/generate_text"
    )
    outputs = list(job)
    text, note = job.result()
    assert len(outputs) >= 3  # streamed in pieces
    assert text.startswith("ROMEO:\nBut soft") and len(text) == len("ROMEO:\nBut soft") + 120
    assert "€" in note
    greedy = [
        client.predict(prompt="KING:", length=50, temperature=0, model="char-lstm-book", api_name="/generate_text")[0]
        for _ in range(2)
    ]
    assert greedy[0] == greedy[1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(length=0), "Value 0 is less than minimum value 1"),
        (dict(length=5000), "Value 5000 is greater than maximum value 2000"),
        (dict(temperature=-1), "Value -1 is less than minimum value 0"),
        (dict(top_k=500), "Value 500 is greater than maximum value 100"),
        (dict(seed=1e30), "maximum value 4294967295"),
        (dict(seed=-3), "Value -3 is less than minimum value 0"),
        (dict(model="no-such-model"), "unknown text model .no-such-model.; choose one of: char-"),
        (dict(model="../../etc/passwd"), r"unknown text model; choose one of: char-"),
        (dict(prompt="y" * 100_000), "at most 10,000 are allowed"),
    ],
)
def test_generate_text_bad_input(client, kwargs, message):
    with pytest.raises(Exception, match=message):
        client.predict(**{"prompt": "x", "length": 10, **kwargs}, api_name="/generate_text")
    assert client.predict(prompt="A", length=5, api_name="/generate_text")[0]  # still serving


def test_decode_and_encode_latent(client, tmp_path, mnist_sample):
    zeros = [0.0] * 28
    a = np.array(client.predict(code=zeros, model="autoencoder-book", api_name="/decode_latent"))
    b = np.array(client.predict(code=[0.5] + zeros[1:], model="autoencoder-book", api_name="/decode_latent"))
    assert a.shape == (28, 28) and 0 <= a.min() and a.max() <= 1
    assert np.abs(a - b).max() > 0.01
    images, labels = mnist_sample
    path = tmp_path / "two.png"
    human_drawing(images[int(np.flatnonzero(labels == 2)[0])], np.random.default_rng(3), 500).save(path)
    code = client.predict(image=picture(path), model="vae-28", api_name="/encode_digit")
    assert len(code) == 28 and all(isinstance(v, float) for v in code)
    again = np.array(client.predict(code=code, model="vae-28", api_name="/decode_latent"))
    assert again.shape == (28, 28)


def test_transformer_streams_in_the_text_tab(client):
    job = client.submit(
        prompt="ROMEO:\n", length=300, top_k=20, seed=7, model="char-transformer", api_name="/generate_text"
    )
    outputs = list(job)
    text, _ = job.result()
    assert len(outputs) >= 3 and text.startswith("ROMEO:\n") and len(text) == len("ROMEO:\n") + 300
    again = client.predict(
        prompt="ROMEO:\n", length=300, top_k=20, seed=7, model="char-transformer", api_name="/generate_text"
    )[0]
    assert again == text  # seeded: past its 128-character window and back through the cache, the same text


def test_gan_decodes_any_code_and_searches_for_a_drawing(client, tmp_path, mnist_sample):
    rng = np.random.default_rng(0)
    code = [float(v) for v in rng.normal(size=28)]
    image = np.array(client.predict(code=code, model="dcgan-28", api_name="/decode_latent"))
    assert image.shape == (28, 28) and image.max() > 0.5  # some ink: a digit, not a blank
    images, labels = mnist_sample
    path = tmp_path / "seven.png"
    human_drawing(images[int(np.flatnonzero(labels == 7)[0])], np.random.default_rng(3), 500).save(path)
    found = client.predict(image=picture(path), model="dcgan-28", api_name="/encode_digit")
    assert len(found) == 28 and max(abs(v) for v in found) <= 4  # searched within the prior's range


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
        client.predict(code=code, model="autoencoder-book", api_name="/decode_latent")


def test_leaderboard_and_houses(client):
    import zoo

    table = client.predict(task="digits", api_name="/leaderboard")
    assert table["headers"][:7] == ["rank", "model", "drawn", "tight", "corrupted", "accuracy", "loss"]
    rows = table["data"]
    best_drawn = max(zoo.leaderboard("digits"), key=lambda r: r.metrics["drawn"]).model
    assert rows[0][1] == best_drawn and rows[0][0] == 1 and len(rows) >= 5
    with pytest.raises(Exception, match="unknown task .speech.; tasks: digits"):
        client.predict(task="speech", api_name="/leaderboard")
    prices = client.predict(api_name="/predict_price")["data"]  # every feature at its training median
    assert len(prices) >= 4 and all(5 < p < 50 for _, p in prices)
    more_rooms = client.predict(rm=8.5, lstat=4.0, model="house-prices-random-forest", api_name="/predict_price")
    assert [row[0] for row in more_rooms["data"]] == ["house-prices-random-forest"]
    assert more_rooms["data"][0][1] > dict(prices)["house-prices-random-forest"]


def test_every_endpoint_answers_by_keyword_with_defaults(client):
    """What a program sees: named parameters, input first and ``model`` last, a default wherever one makes
    sense, a description per endpoint and per parameter."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name in ("/classify_digit", "/generate_text", "/decode_latent", "/encode_digit", "/predict_price"):
        params = api[name]["parameters"]
        assert params[-1]["parameter_name"] == "model" and params[-1]["parameter_has_default"], name
        assert not any(p["parameter_name"].startswith("param_") for p in params), name
    names = [p["parameter_name"] for p in api["/predict_price"]["parameters"]]
    assert names[:13] == [
        "crim",
        "zn",
        "indus",
        "chas",
        "nox",
        "rm",
        "age",
        "dis",
        "rad",
        "tax",
        "ptratio",
        "b",
        "lstat",
    ]
    text, _ = client.predict(
        prompt="ROMEO:", api_name="/generate_text"
    )  # the first call, defaults for the rest
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 300
    assert np.array(client.predict(code=[0.0] * 28, api_name="/decode_latent")).shape == (28, 28)
    assert client.predict(api_name="/leaderboard")["headers"][1] == "model"
    assert api["/generate_text"]["description"].startswith("Continue a prompt character by character")
    assert all(api[name]["description"] for name in api)  # one line per endpoint on the "Use via API" page


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
    label, seen, hint = client.predict(image=picture(path), model="mnist-cnn-robust", api_name="/classify_digit")
    assert label["label"] == "4", (label, hint)


def test_digits_tab_says_its_default_is_the_best_on_drawn_digits():
    import zoo
    from demos.state import Zoo
    from demos.tabs.digits import default_digits_note

    board = zoo.leaderboard()
    from demos.i18n import TEXT

    shown = default_digits_note(Zoo(board=board))  # a gr.I18n key: the page shows its text in the visitor's language
    note, zh = TEXT["en"][shown.key], TEXT["zh-CN"][shown.key]
    top = next(r for r in board if r.task == "digits")
    assert top.model == max((r for r in board if r.task == "digits"), key=lambda r: r.metrics["drawn"]).model
    assert f"`{top.model}`" in note and f"{100 * top.metrics['drawn']:.1f} %" in note
    assert f"`{top.model}`" in zh and f"{100 * top.metrics['drawn']:.1f} %" in zh


def _wait_finished(client, names: set[str], timeout: float = 120) -> list[dict]:
    """Poll /submissions until every named submission finished; never two evaluations at once."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = client.predict(api_name="/submissions")
        assert sum(r["status"] == "running" for r in records) <= 1  # one evaluation at a time
        mine = {r["model"]: r for r in records if r["model"] in names}
        assert all(r["status"] != "failed" for r in mine.values()), mine
        if len(mine) == len(names) and all(r["status"] == "finished" for r in mine.values()):
            return records
        time.sleep(0.5)
    raise AssertionError(f"not finished in {timeout} s: {records}")


def test_submit_variants_in_the_app_rank_and_use_them_and_survive_a_restart(
    app, client, houses_variant, tmp_path, hub_server
):
    from gradio_client import Client, handle_file

    from bench.app_process import RunningApp
    from training.__main__ import main as train_main
    from zoo.hub import HUB_FILES
    from zoo.submissions import Store, check

    files = [handle_file(str(houses_variant / n)) for n in HUB_FILES]
    verdict = client.predict(files=files, name="app-houses", api_name="/submit_model")
    assert "**app-houses** passed the gates" in verdict and "position" in verdict
    args = ["train", "house-prices-notebook", "--name", "app-houses-two", "--epochs", "5", "--seeds", "1"]
    assert train_main([*args, "--out", str(tmp_path), "--quiet"]) == 0
    second = [handle_file(str(tmp_path / "app-houses-two" / n)) for n in HUB_FILES]
    assert "passed the gates" in client.predict(files=second, api_name="/submit_model")
    _wait_finished(client, {"app-houses", "app-houses-two"})

    board = client.predict(task="houses", api_name="/leaderboard")
    assert {"app-houses", "app-houses-two"} <= {row[1] for row in board["data"]}
    prices = client.predict(model="app-houses", api_name="/predict_price")
    assert prices["data"][0][0] == "app-houses" and 5 < prices["data"][0][1] < 60
    with pytest.raises(Exception, match="already submitted"):
        client.predict(files=files, name="app-houses-again", api_name="/submit_model")

    # a restart: finished submissions are still ranked, one admitted but never evaluated is taken up
    args = ["train", "house-prices-book", "--name", "app-houses-three", "--epochs", "7", "--seeds", "1"]
    assert train_main([*args, "--out", str(tmp_path), "--quiet"]) == 0
    store = Store(app.results)
    store.admit(check(tmp_path / "app-houses-three", store=store), tmp_path / "app-houses-three")
    again = RunningApp(env={"DLFS_ZOO_RESULTS": str(app.results)})  # HF_ENDPOINT: the local Hub server
    try:
        other = Client(again.url, verbose=False)
        _wait_finished(other, {"app-houses", "app-houses-two", "app-houses-three"})
        names = {row[1] for row in other.predict(task="houses", api_name="/leaderboard")["data"]}
        assert {"app-houses", "app-houses-two", "app-houses-three"} <= names

        # from the Hub: ORG/NAME@REVISION in the Submit tab
        from huggingface_hub import HfApi

        args = ["train", "house-prices-book", "--name", "app-houses-hub", "--epochs", "9", "--seeds", "1"]
        assert train_main([*args, "--out", str(tmp_path), "--quiet"]) == 0
        HfApi().create_repo("reader/houses-hub")
        commit = HfApi().upload_folder(repo_id="reader/houses-hub", folder_path=str(tmp_path / "app-houses-hub"))
        verdict = other.predict(hub_source=f"reader/houses-hub@{commit.oid}", api_name="/submit_model")
        assert "**app-houses-hub** passed the gates" in verdict
        records = _wait_finished(other, {"app-houses-hub"})
        mine = next(r for r in records if r["model"] == "app-houses-hub")
        assert mine["source"] == "hf:reader/houses-hub" and mine["revision"] == commit.oid
        with pytest.raises(Exception, match="not found"):
            other.predict(hub_source="reader/no-such-model", api_name="/submit_model")
    finally:
        again.stop()
