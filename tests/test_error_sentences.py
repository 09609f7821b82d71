"""What a visitor reads when the app refuses: a sentence saying what was wrong and what is allowed, never a server
path, a traceback or an exception class name; bad input sent through the API as any client could."""

from __future__ import annotations

import math
import re
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client.exceptions import AppError
from PIL import Image
from test_bad_input import _raw_call, png_bomb

from bench.app_process import picture

pytestmark = pytest.mark.app

ZEROS = [0.0] * 28
PATH = re.compile(r"/(?:home|work|tmp|usr|etc|root|var)/|[A-Za-z]:\\")
TRACE = re.compile(r"Traceback|File \"")
CLASS_NAME = re.compile(r"\b[A-Z][a-zA-Z]+(Error|Exception)\b")


def assert_a_sentence(message: str, shortest: int = 20) -> None:
    """The rule every refusal a visitor sees follows (a sentence in Chinese takes fewer characters)."""
    assert len(message) >= shortest, message
    for pattern in (PATH, TRACE, CLASS_NAME):
        assert not pattern.search(message), f"{pattern.pattern!r} in: {message}"


def _png(tmp: Path, name: str, image: Image.Image) -> Path:
    image.save(tmp / name)
    return tmp / name


def _digit(tmp: Path) -> Path:
    img = np.zeros((300, 300, 4), dtype=np.uint8)
    img[60:240, 140:160, 3] = 255  # a "1"
    return _png(tmp, "one.png", Image.fromarray(img, "RGBA"))


def _files(tmp: Path, names: tuple[str, ...]) -> list:
    from gradio_client import handle_file

    from zoo.checkpoint_io import embedded_dir

    return [handle_file(str(embedded_dir() / "mnist-mlp" / n)) for n in names]


def _blank(tmp: Path) -> Path:
    return _png(tmp, "blank.png", Image.new("RGBA", (300, 300)))


# (id, endpoint, keyword arguments from a temp dir, a few words the sentence must hold: what is allowed)
CASES = [
    ("digits-unknown-model", "/classify_digit", lambda t: dict(image=picture(_digit(t)), model="resnet"), "one of"),
    (
        "digits-path-model",
        "/classify_digit",
        lambda t: dict(image=picture(_digit(t)), model="../../etc/passwd"),
        "one of",
    ),
    ("digits-1x1", "/classify_digit", lambda t: dict(image=picture(_png(t, "1.png", Image.new("L", (1, 1))))), "8x8"),
    ("digits-text-file", "/classify_digit", lambda t: dict(image=picture(_text(t))), "PNG, JPEG"),
    ("digits-bomb", "/classify_digit", lambda t: dict(image=picture(png_bomb(t, 5000))), "16.8 megapixels"),
    ("text-temperature-1e-45", "/generate_text", lambda t: dict(prompt="A", temperature=1e-45), "between 0.01"),
    ("text-seed-minus-1", "/generate_text", lambda t: dict(prompt="A", seed=-1), "minimum value 0"),
    ("text-huge-prompt", "/generate_text", lambda t: dict(prompt="x" * 100_000), "at most 10,000"),
    ("text-length-0", "/generate_text", lambda t: dict(length=0), "minimum value 1"),
    ("text-top-k-1000", "/generate_text", lambda t: dict(top_k=1000), "maximum value 100"),
    ("text-path-model", "/generate_text", lambda t: dict(model="../../etc/passwd"), "one of"),
    ("latent-27-values", "/decode_latent", lambda t: dict(code=ZEROS[1:]), "28 values"),
    ("latent-1e9", "/decode_latent", lambda t: dict(code=[1e9, *ZEROS[1:]]), "between -10 and 10"),
    ("latent-words", "/decode_latent", lambda t: dict(code=["zero"] * 28), "numbers"),
    ("latent-path-model", "/decode_latent", lambda t: dict(code=ZEROS, model="/etc/passwd"), "one of"),
    ("encode-blank", "/encode_digit", lambda t: dict(image=picture(_blank(t))), "draw a digit"),
    ("encode-unknown-model", "/encode_digit", lambda t: dict(image=picture(_digit(t)), model="vae-9"), "one of"),
    ("board-path-task", "/leaderboard", lambda t: dict(task="../../etc"), "tasks: digits"),
    ("price-negative-rooms", "/predict_price", lambda t: dict(rm=-40.0), "must lie between"),
    ("price-windows-path-model", "/predict_price", lambda t: dict(model="C:\\Windows\\system32"), "one of"),
    ("flag-digit-12", "/flag_digit", lambda t: dict(image=picture(_digit(t)), right_digit="12"), "choices"),
    ("flag-no-digit", "/flag_digit", lambda t: dict(image=picture(_digit(t))), "right digit (0-9)"),
    ("flag-blank", "/flag_digit", lambda t: dict(image=picture(_blank(t)), right_digit="3"), "draw a digit"),
    ("submit-path-hub-name", "/submit_model", lambda t: dict(hub_source="../../etc/passwd"), "hf:ORG/NAME"),
    ("submit-long-hub-name", "/submit_model", lambda t: dict(hub_source="org/" + "x" * 300), "hf:ORG/NAME"),
    ("submit-nothing", "/submit_model", lambda t: dict(), "one of the two"),
    ("submit-two-files", "/submit_model", lambda t: dict(files=_files(t, ("config.json", "README.md"))), "exactly"),
]


def _text(tmp: Path) -> Path:
    (tmp / "x.png").write_text("not a picture")
    return tmp / "x.png"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_refusal_is_a_sentence(case, client, tmp_path):
    _, api, arguments, allowed = case
    with pytest.raises(AppError) as info:
        client.predict(**arguments(tmp_path), api_name=api)
    message = str(info.value)
    assert_a_sentence(message)
    assert allowed in message, message


NAN_CASES = [  # NaN is not JSON: only a raw HTTP client sends it (the values in the endpoint's order)
    ("temperature-nan", "generate_text", ["A", 10, math.nan, 0, 0, "char-lstm-256"], "between 0 and 2"),
    ("seed-inf", "generate_text", ["A", 10, 1.0, 0, math.inf, "char-lstm-256"], "maximum value 4294967295"),
    ("latent-nan", "decode_latent", [[math.nan, *ZEROS[1:]], "vae-28"], "finite numbers"),
]


@pytest.mark.parametrize("case", NAN_CASES, ids=[c[0] for c in NAN_CASES])
def test_a_non_finite_number_is_refused_in_a_sentence(case, app, client, tmp_path):
    _, api, data, allowed = case
    stream = _raw_call(app, api, data)
    assert "event: error" in stream and allowed in stream, stream[-500:]
    assert_a_sentence(stream.split("data:", 1)[-1])


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
        OSError("/root/.cache/huggingface/hub: Permission denied"),
    ],
    ids=["connect", "timeout", "os"],
)
def test_a_hub_failure_is_said_in_words(error):
    """zoo.hub.hub_error: what a Submit from the Hub shows when the Hub cannot be reached (once 'ConnectError')."""
    from zoo.hub import hub_error

    message = hub_error(error, "fetch org/model")
    assert_a_sentence(message)
    assert "cannot reach the Hub" in message and "check the network" in message


CHINESE = [  # a reader whose browser asks for Chinese reads each refusal in Chinese, however early it comes
    ("picture-before-decoding", "/classify_digit", lambda t: dict(image=picture(png_bomb(t, 5000))), "百万像素"),
    ("blank-canvas", "/encode_digit", lambda t: dict(image=picture(_blank(t))), "数字"),
    ("not-a-picture", "/classify_digit", lambda t: dict(image=picture(_text(t))), "图片"),
]


@pytest.mark.parametrize("case", CHINESE, ids=[c[0] for c in CHINESE])
def test_a_refusal_is_said_in_the_readers_language(case, app, tmp_path):
    """The picture's size is refused before any handler runs: the event, not the handler, takes the language."""
    from gradio_client import Client

    _, api, arguments, words = case
    chinese = Client(app.url, verbose=False, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    with pytest.raises(AppError) as info:
        chinese.predict(**arguments(tmp_path), api_name=api)
    assert words in str(info.value), str(info.value)
    assert_a_sentence(str(info.value), shortest=8)
