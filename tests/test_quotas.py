"""Caps per visitor (demos.quotas): submissions and flags in a sliding window, requests in flight, a bounded flag
store keeping thumbnails; each refusal a sentence naming the limit and when the next slot frees, and nothing
written by a refused call."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demos import quotas
from training.flags import THUMBNAIL, FlagStore, FlagStoreFull


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, byte for byte."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_window_refuses_past_its_limit_and_says_when_a_slot_frees():
    window = quotas.Window("submissions", 2, 24 * 3600)
    first = window.take("a")
    window.take("a")
    with pytest.raises(Exception, match="You have sent 2 submissions in the last 24 hours") as info:
        window.take("a")
    assert re.search(r"the next slot frees at \d\d:\d\d UTC \(in 2[34] h( \d+ min)?\)", str(info.value))
    window.take("b")  # another visitor is not held back
    window.give_back("a", first)
    window.take("a")  # a slot given back is free again


@pytest.mark.parametrize(
    "seconds, said", [(30, "in 30 s"), (600, "in 10 min"), (3600, "in 1 h)"), (11_520, "in 3 h 12 min")]
)
def test_when_a_slot_frees_is_said_in_hours_and_minutes(seconds, said):
    assert said in quotas._when(time.time() + seconds - 0.5)


def test_a_refused_call_does_not_count():
    """A slot taken for a call that then fails (a gate refuses) is given back."""
    window = quotas.Window("flags", 1, 3600)
    with pytest.raises(ValueError), window.slot("a"):
        raise ValueError("refused by a gate")
    with window.slot("a"):
        pass
    with pytest.raises(Exception, match="1 flagged drawings in the last hour"), window.slot("a"):
        pass


def test_one_client_has_at_most_its_cap_in_flight():
    cap = quotas.InFlight(1)
    inside, release = threading.Event(), threading.Event()

    def hold():
        with cap.slot("a"):
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    inside.wait(5)
    with pytest.raises(Exception, match="1 requests running already"), cap.slot("a"):
        pass
    with cap.slot("b"):  # another client runs meanwhile
        pass
    release.set()
    worker.join()
    with cap.slot("a"):  # its request answered: the next one runs
        pass


class _Request:
    """What client_id reads of a gr.Request."""

    def __init__(self, host: str, forwarded: str = "", username: str | None = None) -> None:
        self.username, self.headers = username, {"x-forwarded-for": forwarded} if forwarded else {}
        self.client = type("Client", (), {"host": host})()


def test_a_client_is_its_login_else_its_address_hashed(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("DLFS_ZOO_PROXIED", raising=False)
    ids = quotas.client_id
    assert ids(_Request("10.0.0.1")) != ids(_Request("10.0.0.2"))
    assert "10.0.0.1" not in ids(_Request("10.0.0.1"))  # hashed: no address kept
    assert ids(_Request("10.0.0.1", username="ada")) == ids(_Request("10.0.0.9", username="ada"))
    # not behind a proxy: a client's own X-Forwarded-For is not believed
    assert ids(_Request("10.0.0.1", "1.2.3.4")) == ids(_Request("10.0.0.1", "5.6.7.8"))
    monkeypatch.setenv("SPACE_ID", "org/space")  # on a Space: the address the proxy saw (the last entry)
    assert ids(_Request("10.0.0.1", "9.9.9.9")) != ids(_Request("10.0.0.1", "8.8.8.8"))
    # what a client writes itself before it is not believed: a forged first entry changes nothing
    assert ids(_Request("10.0.0.1", "1.2.3.4, 9.9.9.9")) == ids(_Request("10.0.0.1", "5.6.7.8, 9.9.9.9"))
    assert ids(_Request("10.0.0.1", "1.2.3.4, 9.9.9.9")) != ids(_Request("10.0.0.1", "1.2.3.4, 8.8.8.8"))
    monkeypatch.setattr(quotas, "PROXY_HOPS", 2)  # two proxies of the operator's: the entry the outer one saw
    assert ids(_Request("10.0.0.1", "1.2.3.4, 9.9.9.9, 7.7.7.7")) == ids(_Request("10.0.0.1", "9.9.9.9, 6.6.6.6"))


def test_a_flag_keeps_a_thumbnail_not_the_upload(tmp_path):
    store = FlagStore(tmp_path / "flags")
    original = (np.random.default_rng(0).random((1200, 700, 4)) * 255).astype(np.uint8)
    store.add(original, np.zeros((28, 28), np.float32), 4, 1, "mnist-mlp")
    (row,) = store.records()
    with Image.open(store.split / row["original"]) as kept:
        assert max(kept.size) == THUMBNAIL and kept.size == (149, 256)  # the aspect kept


def test_a_full_flag_store_refuses_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DLFS_ZOO_MAX_FLAGS", "2")
    store = FlagStore(tmp_path / "flags")
    drawing = np.full((40, 40), 255, np.uint8)
    for label in (1, 2):
        store.add(drawing, np.zeros((28, 28), np.float32), label, None, "mnist-mlp")
    before = snapshot(store.folder)
    with pytest.raises(FlagStoreFull, match=r"is full \(2 drawings, the most this app keeps\)"):
        store.add(drawing, np.zeros((28, 28), np.float32), 3, None, "mnist-mlp")
    assert snapshot(store.folder) == before


# ------------------------------------------------------------------------------ through the app
@pytest.fixture(scope="module")
def capped_app(tmp_path_factory):
    """The app with a quota of 2 submissions and 2 flags per client, stores of its own."""
    from bench.app_process import RunningApp

    flags, results = tmp_path_factory.mktemp("capped-flags"), tmp_path_factory.mktemp("capped-results")
    env = {
        "DLFS_ZOO_SUBMISSIONS_PER_DAY": "2",
        "DLFS_ZOO_FLAGS_PER_HOUR": "2",
        "DLFS_ZOO_FLAGS": str(flags),
        "DLFS_ZOO_RESULTS": str(results),
    }
    running = RunningApp(env=env)
    running.flags, running.results = flags, results
    yield running
    running.stop()


def _houses(out: Path, name: str, epochs: int) -> list:
    """A house-prices variant of the project's recipe under a name of its own, as upload arguments."""
    from gradio_client import handle_file

    from training.__main__ import main as train_main
    from zoo.hub import HUB_FILES

    args = ["train", "house-prices-book", "--name", name, "--epochs", str(epochs), "--seeds", "1"]
    assert train_main([*args, "--out", str(out), "--quiet"]) == 0
    return [handle_file(str(out / name / n)) for n in HUB_FILES]


def _settled(client, timeout: float = 180) -> None:
    """Wait until no submission is pending or running (the store then changes no more)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(r["status"] in ("finished", "failed") for r in client.predict(api_name="/submissions")):
            return
        time.sleep(0.5)
    raise AssertionError("the submissions did not settle")


@pytest.mark.app
def test_a_third_submission_in_a_day_is_refused_and_writes_nothing(capped_app, tmp_path):
    from gradio_client import Client

    client = Client(capped_app.url, verbose=False)
    first = _houses(tmp_path, "capped-houses-one", 5)
    assert "passed the gates" in client.predict(files=first, api_name="/submit_model")
    with pytest.raises(Exception, match="upload exactly"):  # refused by the gates: not counted
        client.predict(files=first[:2], api_name="/submit_model")
    second = _houses(tmp_path, "capped-houses-two", 7)
    assert "passed the gates" in client.predict(files=second, api_name="/submit_model")
    third = _houses(tmp_path, "capped-houses-three", 9)
    _settled(client)
    before = snapshot(capped_app.results)
    with pytest.raises(Exception, match="You have sent 2 submissions in the last 24 hours") as info:
        client.predict(files=third, api_name="/submit_model")
    assert re.search(r"the next slot frees at \d\d:\d\d UTC \(in 2[34] h( \d+ min)?\)", str(info.value))
    assert snapshot(capped_app.results) == before
    assert all(r["model"] != "capped-houses-three" for r in client.predict(api_name="/submissions"))


@pytest.mark.app
def test_a_third_flag_in_an_hour_is_refused_and_flags_keep_thumbnails(capped_app, tmp_path):
    from gradio_client import Client

    from bench.app_process import picture

    client = Client(capped_app.url, verbose=False)
    img = np.full((900, 600), 255, np.uint8)
    img[150:750, 280:320] = 0  # a "1", larger than a thumbnail
    Image.fromarray(img, "L").save(tmp_path / "one.png")
    for _ in range(2):
        note = client.predict(image=picture(tmp_path / "one.png"), right_digit="1", api_name="/flag_digit")
        assert "Saved" in note
    before = snapshot(capped_app.flags)
    with pytest.raises(Exception, match=r"You have sent 2 flagged drawings in the last hour.*UTC \(in (1 h|\d+ min)\)"):
        client.predict(image=picture(tmp_path / "one.png"), right_digit="1", api_name="/flag_digit")
    assert snapshot(capped_app.flags) == before
    rows = FlagStore(capped_app.flags).records()
    assert len(rows) == 2
    for row in rows:
        with Image.open(FlagStore(capped_app.flags).split / row["original"]) as kept:
            assert max(kept.size) <= THUMBNAIL
