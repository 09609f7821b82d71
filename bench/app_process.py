"""The real app (``python -m demos``) in a subprocess, as tests and benchmarks talk to it: over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningApp:
    """``python -m demos`` on a free port, ready when its API answers; ``python``/``cwd`` choose which install,
    ``command`` replaces the whole command line (``python app.py``, as a Space starts it: the port then comes
    from ``GRADIO_SERVER_PORT``)."""

    def __init__(
        self, env: dict | None = None, python: str = sys.executable, cwd: Path = ROOT, command: list | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"dlfs-app-{self.port}.log"
        self.proc = subprocess.Popen(
            [str(a) for a in command] if command else [python, "-m", "demos", "--port", str(self.port)],
            cwd=cwd,
            env={
                **os.environ,
                "GRADIO_ANALYTICS_ENABLED": "False",
                "GRADIO_SERVER_NAME": "127.0.0.1",
                "GRADIO_SERVER_PORT": str(self.port),
                **(env or {}),
            },
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
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


def picture(path) -> object:
    """An image file as gradio_client sends it to ``/classify_digit``."""
    from gradio_client import handle_file

    return handle_file(str(path))
