"""Bad input, table-driven: every case gets a clear message naming what was wrong and what is allowed,
and the server keeps serving (the next valid request succeeds)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import zoo
from bench.app_process import picture

ZEROS = [0.0] * 28


def _png(tmp: Path, name: str, img: Image.Image) -> Path:
    path = tmp / name
    img.save(path)
    return path


def png_bomb(tmp: Path, side: int) -> Path:
    """A PNG that declares side x side one-bit pixels, all zero: about 20 KB on disk for 13000 px, built row by
    row here (never held decoded), the way an attacker makes one."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), b"\0" * (1 + (side + 7) // 8)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    path = tmp / f"bomb-{side}.png"
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def _raw_call(app, api: str, data: list) -> str:
    """POST straight to Gradio's HTTP API (what a non-Python client does) and return the event's stream."""
    body = json.dumps({"data": data})  # the stdlib writes NaN literals, as JavaScript clients may
    r = httpx.post(
        f"{app.url}gradio_api/call/{api}", content=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    if r.status_code != 200:
        return r.text
    event = r.json()["event_id"]
    return httpx.get(f"{app.url}gradio_api/call/{api}/{event}", timeout=30).text


# (id, endpoint, builder of the keyword arguments from a temp dir, message expected in the error)
APP_CASES = [
    (
        "all-ink",
        "/classify_digit",
        lambda t: dict(image=picture(_png(t, "ink.png", Image.new("L", (400, 400), 0)))),
        "almost all ink",
    ),
    (
        "huge-5000px",
        "/classify_digit",
        lambda t: dict(image=picture(_png(t, "big.png", Image.new("L", (5000, 200), 255)))),
        "largest side allowed is 4096",
    ),
    (
        "1x1",
        "/classify_digit",
        lambda t: dict(image=picture(_png(t, "one.png", Image.new("RGBA", (1, 1))))),
        "at least 8x8",
    ),
    (
        "not-an-image",
        "/classify_digit",
        lambda t: dict(image=picture(_write(t, "x.png", b"this is text"))),
        "that file is not a picture this app can read; send a PNG, JPEG, GIF, WebP or BMP file",
    ),
    (
        "unknown-digits-model",
        "/classify_digit",
        lambda t: dict(image=picture(_digit(t)), model="resnet-152"),
        "unknown digits model 'resnet-152'; choose one of: mnist-",
    ),
    (
        "path-as-digits-model",
        "/classify_digit",
        lambda t: dict(image=picture(_digit(t)), model="../../zoo/checkpoints/mnist-mlp"),
        "unknown digits model; choose one of: mnist-",
    ),
    ("submit-pickle", "/submit_model", lambda t: _submission(t, _pickled), "model.safetensors is a pickle"),
    ("submit-script-card", "/submit_model", lambda t: _submission(t, _scripted), "README.md holds active HTML"),
    (
        "submit-project-name",
        "/submit_model",
        lambda t: _submission(t, lambda f: None) | dict(name="vae-28"),
        "entry's name",
    ),
    (
        "submit-two-files",
        "/submit_model",
        lambda t: dict(files=_submission(t, lambda f: None)["files"][:2]),
        "upload exactly",
    ),
    ("submit-server-path", "/submit_model", lambda t: dict(hub_source="/etc/passwd"), "a Hub source is hf:ORG/NAME"),
    ("submit-nothing", "/submit_model", lambda t: dict(), "give a Hub model (ORG/NAME) or upload the three files"),
    ("huge-prompt", "/generate_text", lambda t: dict(prompt="x" * 100_000), "at most 10,000 are allowed"),
    (
        "temperature-negative",
        "/generate_text",
        lambda t: dict(prompt="A", temperature=-0.5),
        "Value -0.5 is less than minimum value 0",
    ),
    ("temperature-huge", "/generate_text", lambda t: dict(temperature=1e9), "greater than maximum value 2"),
    ("length-zero", "/generate_text", lambda t: dict(length=0), "Value 0 is less than minimum value 1"),
    ("length-negative", "/generate_text", lambda t: dict(length=-5), "less than minimum value 1"),
    ("length-huge", "/generate_text", lambda t: dict(length=1e9), "greater than maximum value 2000"),
    ("top-k-negative", "/generate_text", lambda t: dict(top_k=-3), "less than minimum value 0"),
    ("top-k-huge", "/generate_text", lambda t: dict(top_k=1000), "greater than maximum value 100"),
    ("seed-1e30", "/generate_text", lambda t: dict(seed=1e30), "greater than maximum value 4294967295"),
    ("seed-negative", "/generate_text", lambda t: dict(seed=-1), "less than minimum value 0"),
    ("unknown-text-model", "/generate_text", lambda t: dict(model="gpt-5"), "unknown text model 'gpt-5'"),
    ("latent-plus-1e9", "/decode_latent", lambda t: dict(code=[1e9, *ZEROS[1:]]), "between -10 and 10"),
    (
        "latent-minus-1e9",
        "/decode_latent",
        lambda t: dict(code=[*ZEROS[1:], -1e9], model="vae-28"),
        "between -10 and 10",
    ),
    ("latent-short", "/decode_latent", lambda t: dict(code=ZEROS[1:]), "a latent vector has 28 values, got 27"),
    ("latent-long", "/decode_latent", lambda t: dict(code=ZEROS + [0.0]), "a latent vector has 28 values, got 29"),
    (
        "unknown-decoder",
        "/decode_latent",
        lambda t: dict(code=ZEROS, model="dcgan-9000"),
        "unknown latent model 'dcgan-9000'",
    ),
    (
        "path-as-decoder",
        "/decode_latent",
        lambda t: dict(code=ZEROS, model="../vae-28"),
        "unknown latent model; choose one of:",
    ),
    (
        "encode-blank",
        "/encode_digit",
        lambda t: dict(image=picture(_png(t, "b.png", Image.new("RGBA", (300, 300))))),
        "draw a digit to encode first",
    ),
    (
        "unknown-task",
        "/leaderboard",
        lambda t: dict(task="speech"),
        "unknown task .speech.; tasks: digits, text, latent, houses",
    ),
    ("flag-without-digit", "/flag_digit", lambda t: dict(image=picture(_digit(t))), "choose the right digit (0-9)"),
    (
        "flag-digit-12",
        "/flag_digit",
        lambda t: dict(image=picture(_digit(t)), right_digit="12"),
        "12 is not in the list of choices",
    ),
    (
        "flag-blank",
        "/flag_digit",
        lambda t: dict(image=picture(_png(t, "b.png", Image.new("RGBA", (300, 300)))), right_digit="3"),
        "draw a digit first",
    ),
    (
        "flag-unknown-model",
        "/flag_digit",
        lambda t: dict(image=picture(_digit(t)), right_digit="1", model="x"),
        "unknown digits model .x.; choose one of",
    ),
    ("rooms-negative", "/predict_price", lambda t: dict(rm=-40.0), "RM must lie between"),
    ("crime-huge", "/predict_price", lambda t: dict(crim=1e12), "CRIM must lie between"),
    ("unknown-houses-model", "/predict_price", lambda t: dict(model="zillow"), "unknown houses model .zillow."),
]


def _submission(tmp: Path, spoil) -> dict:
    """The shipped mnist-mlp's three files under a name of their own, spoiled one way, as upload arguments."""
    from gradio_client import handle_file

    folder = tmp / "submission"
    shutil.copytree(zoo.checkpoint_io.embedded_dir() / "mnist-mlp", folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | {"name": "reader-mlp"}))
    spoil(folder)
    return dict(files=[handle_file(str(folder / n)) for n in ("config.json", "model.safetensors", "README.md")])


def _pickled(folder: Path) -> None:
    import torch
    from safetensors.torch import load

    torch.save(load((folder / "model.safetensors").read_bytes()), folder / "model.safetensors")


def _scripted(folder: Path) -> None:
    text = (folder / "README.md").read_text()
    (folder / "README.md").write_text(text + '\n<img src=x onerror="alert(1)">\n')


def _write(tmp: Path, name: str, data: bytes) -> Path:
    (tmp / name).write_bytes(data)
    return tmp / name


def _digit(tmp: Path) -> Path:
    img = np.zeros((300, 300, 4), dtype=np.uint8)
    img[60:240, 140:160, 3] = 255  # a "1"
    return _png(tmp, "one-stroke.png", Image.fromarray(img, "RGBA"))


@pytest.mark.parametrize("case", APP_CASES, ids=[c[0] for c in APP_CASES])
def test_app_bad_input(case, client, tmp_path):
    _, api, build, message = case
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        client.predict(**build(tmp_path), api_name=api)
    assert "Traceback" not in str(info.value)
    if api == "/submit_model":  # refused at the door: nothing queued, nothing ranked
        assert all(r["model"] != "reader-mlp" for r in client.predict(api_name="/submissions"))
    label, _, _ = client.predict(image=picture(_digit(tmp_path)), model="mnist-cnn-modern", api_name="/classify_digit")
    assert label["label"] == "1"  # the server keeps serving


def test_a_decompression_bomb_is_refused_before_it_is_decoded(app, client, tmp_path):
    """Six 13000 x 13000 PNGs of about 20 KB at once: each is refused from its header with its size and the limit,
    the app's memory hardly moves (decoded, each would be 169 megapixels), and the next drawing is read."""
    from concurrent.futures import ThreadPoolExecutor

    import psutil

    bomb = png_bomb(tmp_path, 13000)
    assert bomb.stat().st_size < 40_000
    process = psutil.Process(app.proc.pid)
    before = process.memory_info().rss

    def send(_):
        with pytest.raises(
            Exception,
            match=r"the picture has 169.0 megapixels; pictures of up to 16.8 megapixels \(4096 x 4096\) and 20 MB",
        ) as info:
            client.predict(image=picture(bomb), model="mnist-cnn-modern", api_name="/classify_digit")
        return str(info.value)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6)))
    assert all("Traceback" not in a and "Error:" not in a.split(":", 1)[-1] for a in answers)
    grown = (process.memory_info().rss - before) / 2**20
    assert grown < 150, f"the app grew by {grown:.0f} MB while refusing six bombs"
    label, _, _ = client.predict(image=picture(_digit(tmp_path)), model="mnist-cnn-modern", api_name="/classify_digit")
    assert label["label"] == "1"


def test_the_sketchpad_refuses_a_bomb_too(tmp_path):
    """The sketchpad's layers are measured before Gradio converts them (an API client can send any file)."""
    import gradio as gr
    from gradio.data_classes import FileData

    from demos.widgets import sketchpad

    pad = sketchpad("pad", 100, 5, "pad")
    bomb = png_bomb(tmp_path, 5000)
    with pytest.raises(
        gr.Error, match=r"the picture is 5000 x 5000 pixels \(25.0 megapixels\); pictures of up to 16.8"
    ):
        pad.convert_and_format_image(FileData(path=str(bomb)))


@pytest.mark.parametrize(
    "size, mode, expected",
    [((4000, 4000), "L", "hint-or-label"), ((300, 300), "L", "label"), ((300, 300), "RGB", "label")],
    ids=["4000x4000", "one-channel", "rgb-on-white"],
)
def test_app_odd_but_valid_images(client, tmp_path, size, mode, expected):
    img = Image.new(mode, size, 255 if mode != "RGBA" else 0)
    w, h = size
    Image.Image.paste(img, 0, (w // 2 - w // 30, h // 5, w // 2 + w // 30, 4 * h // 5))  # a dark "1"
    label, seen, hint = client.predict(
        image=picture(_png(tmp_path, "odd.png", img)), model="mnist-cnn-modern", api_name="/classify_digit"
    )
    assert label is not None and label["label"] == "1", hint


def test_app_empty_and_oov_prompts_are_fine(client):
    text, note = client.predict(prompt="", length=20, model="char-lstm-256", api_name="/generate_text")
    assert len(text) == 20 and note == ""
    text, note = client.predict(prompt="🙂🙂", length=20, model="char-lstm-256", api_name="/generate_text")
    assert len(text) == 20 and "🙂" in note


# NaN is not JSON: gradio_client refuses to send it, but a raw HTTP client can ("NaN" literals)
NAN_CASES = [  # raw HTTP takes the values in the endpoint's order: the input first, the model last
    ("temperature-nan", "generate_text", ["A", 10, math.nan, 0, 0, "char-lstm-256"], "temperature must be between"),
    ("length-nan", "generate_text", ["A", math.nan, 1.0, 0, 0, "char-lstm-256"], "length must be between 1 and"),
    ("latent-nan", "decode_latent", [[math.nan, *ZEROS[1:]], "autoencoder-book"], "finite numbers (no NaN"),
    ("price-nan", "predict_price", [math.nan] + [1.0] * 12 + ["all"], "CRIM must be a finite number"),
]


@pytest.mark.parametrize("case", NAN_CASES, ids=[c[0] for c in NAN_CASES])
def test_app_nan_over_raw_http(app, client, tmp_path, case):
    _, api, data, message = case
    out = _raw_call(app, api, data)
    assert "event: error" in out and message in out, out[-500:]
    label, _, _ = client.predict(image=picture(_digit(tmp_path)), model="mnist-cnn-modern", api_name="/classify_digit")
    assert label["label"] == "1"


# ------------------------------------------------------------------------------------------- loaders
def _ckpt(tmp_path: Path) -> Path:
    src = Path(__file__).resolve().parent.parent / "zoo" / "checkpoints" / "mnist-convnet-book"
    dst = tmp_path / "mnist-convnet-book"
    shutil.copytree(src, dst)
    return dst


def _cfg(folder: Path, **changes):
    cfg = json.loads((folder / "config.json").read_text())
    for k, v in changes.items():
        if v is None:
            cfg.pop(k)
        else:
            cfg[k] = v
    (folder / "config.json").write_text(json.dumps(cfg))


LOADER_CASES = [
    (
        "truncated",
        lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:999]),
        zoo.WeightsIntegrityError,
        "corrupt or was tampered with",
    ),
    ("flipped-byte", lambda f: _flip(f / "model.safetensors"), zoo.WeightsIntegrityError, "tampered"),
    ("missing-key", lambda f: _cfg(f, architecture=None), zoo.ConfigError, "missing key 'architecture'"),
    ("mistyped-key", lambda f: _cfg(f, dense_size="32"), zoo.ConfigError, "key 'dense_size' must be"),
    ("unknown-key", lambda f: _cfg(f, learning_rate=0.1), zoo.ConfigError, "unknown key 'learning_rate'"),
    ("wrong-shape", lambda f: _cfg(f, dense_size=16, weights_sha256=None), ValueError, "dense1.linear.weight"),
    ("no-weights", lambda f: (f / "model.safetensors").unlink(), FileNotFoundError, "has no model.safetensors"),
    ("empty-folder", lambda f: [p.unlink() for p in f.iterdir()], zoo.ConfigError, "has no config.json"),
]


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("case", LOADER_CASES, ids=[c[0] for c in LOADER_CASES])
def test_loader_bad_checkpoints(case, tmp_path):
    _, damage, error, message = case
    folder = _ckpt(tmp_path)
    damage(folder)
    with pytest.raises(error, match=message):
        zoo.load(folder)
    assert zoo.load("mnist-convnet-book").config["name"] == "mnist-convnet-book"  # others still load
