"""Start the real app (``python -m demos``) in a subprocess and make human-like digit drawings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningApp:
    def __init__(self, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"dlfs-app-{self.port}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "demos", "--port", str(self.port)], cwd=ROOT,
            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
            stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited: {self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.url + "gradio_api/info", timeout=2)
                return
            except Exception:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the app did not start in 120 s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def human_drawing(digit: np.ndarray, rng: np.random.Generator, size: int | None = None) -> Image.Image:
    """An MNIST digit as a person might draw it: any canvas size, any place and scale, slightly tilted,
    black ink on a transparent canvas (what the sketchpad sends) or on white."""
    size = size or int(rng.integers(300, 801))
    img = Image.fromarray(digit).convert("L")
    box = img.getbbox() or (0, 0, 28, 28)
    img = img.crop(box)
    target = int(size * rng.uniform(0.3, 0.8))
    w, h = img.size
    scale = target / max(w, h)
    img = img.resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.Resampling.BILINEAR)
    img = img.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BILINEAR, expand=True)
    canvas = Image.new("L", (size, size), 0)
    x = int(rng.integers(0, max(1, size - img.size[0])))
    y = int(rng.integers(0, max(1, size - img.size[1])))
    canvas.paste(img, (x, y))
    ink = np.asarray(canvas)
    if rng.random() < 0.5:  # transparent canvas, black strokes
        rgba = np.zeros((size, size, 4), dtype=np.uint8)
        rgba[..., 3] = ink
        return Image.fromarray(rgba, "RGBA")
    return Image.fromarray(255 - ink, "L").convert("RGB")  # black on white


def sketch(path) -> dict:
    """A sketchpad value as gradio_client sends it: the drawing as the composite."""
    from gradio_client import handle_file

    return {"background": None, "layers": [], "composite": handle_file(str(path))}
