"""Who submits, how often, and what gets taken down (zoo.submissions.moderation, demos.quotas): a sign-in on a
Space, a quota per user counted from the store, a flagged row's note and link, the do-not-submit list refused at
the gate leaving the store as it was, and a withdrawal by the submitter only (the row gone, the result kept)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gradio as gr
import pytest
from gradio.helpers import special_args

import zoo
from demos import quotas
from demos.i18n import speaking
from demos.state import Zoo
from demos.tabs import digits, submit
from demos.tabs.leaderboard import board_table, readable_board
from zoo.__main__ import main as zoo_main
from zoo.config import strict_loads
from zoo.hub import HUB_FILES
from zoo.leaderboard import to_markdown
from zoo.submissions import Store, SubmissionError, moderation

CARD = "---\nlicense: mit\nlibrary_name: dlfs-zoo\n---\n# tiny\n\n" + "Trained for a test of moderation. " * 10


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, byte for byte."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def store(tmp_path, monkeypatch) -> Store:
    """An empty results store of the test's own, named by $DLFS_ZOO_RESULTS; no Space, no login asked."""
    monkeypatch.setenv("DLFS_ZOO_RESULTS", str(tmp_path / "results"))
    for name in ("SPACE_ID", "DLFS_ZOO_REQUIRE_LOGIN", moderation.USER_QUOTA, moderation.USER_QUOTA_DAYS):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "results").mkdir()
    return Store(tmp_path / "results")


def finished(store: Store, name: str, submitter: str | None, days_ago: float = 1, mse: float = 20.0) -> str:
    """A finished houses submission written as the store writes one (request and result files); its key."""
    sha = hashlib.sha256(name.encode()).hexdigest()
    key = store.key(name, sha)
    when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="seconds")
    request = {
        "model": name,
        "task": "houses",
        "architecture": "HousePricesModel",
        "sha256": sha,
        "params": 196,
        "source": "upload",
        "status": "finished",
        "submitted_at": when,
        "updated_at": when,
        "submitter": submitter,
    }
    result = {
        "model": name,
        "source": "upload",
        "source_url": None,
        "revision": None,
        "sha256": sha,
        "task": "houses",
        "architecture": "HousePricesModel",
        "metrics": {"mse": mse, "mae": 3.0},
        "intervals": {"mse": [mse - 2, mse + 2]},
        "num_params": 196,
        "file_size": 1000,
        "cpu_latency_ms": 0.05,
        "evaluated_at": when,
        "command": "python -m training evaluate --folder ...",
    }
    for kind, record in (("requests", request), ("results", result)):
        (store.root / kind).mkdir(exist_ok=True)
        (store.root / kind / f"{key}.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return key


@pytest.fixture
def checkpoint(tiny_checkpoint: Path) -> Path:
    """A small real checkpoint that passes every gate (a card long enough, with a license)."""
    (tiny_checkpoint / "README.md").write_text(CARD, encoding="utf-8")
    return tiny_checkpoint


class _Queue:
    """What the Submit tab needs of the app's worker, without evaluating anything."""

    def __init__(self, store: Store) -> None:
        self.store, self.keys = store, []

    def enqueue(self, key: str) -> int:
        self.keys.append(key)
        return len(self.keys)

    def status(self) -> list[dict]:
        return [r | {"position": None} for r in reversed(self.store.requests())]


class _Session:
    """A request whose session holds a Hugging Face sign-in, as Gradio's OAuth routes leave it."""

    def __init__(self, username: str | None) -> None:
        info = {"userinfo": {"preferred_username": username, "name": username, "profile": "", "picture": ""}}
        self.session = {"oauth_info": info | {"expires_at": None}} if username else {}


def profile(username: str) -> gr.OAuthProfile:
    return gr.OAuthProfile({"preferred_username": username, "name": username, "profile": "", "picture": ""})


def handlers(pool: Zoo) -> dict:
    """The Submit and Digits tabs built alone; their handlers by function name."""
    with gr.Blocks() as demo:
        with gr.Tab("Submit"):
            submit.build(pool, demo)
        with gr.Tab("Digits"):
            digits.build(pool, demo)
    return {d.fn.__name__: d.fn for d in demo.fns.values() if d.fn is not None}


# ------------------------------------------------------------------------------------ sign-in
def test_on_a_space_submitting_and_flagging_need_a_sign_in_and_locally_not(store, monkeypatch):
    """The handlers Gradio calls: without a profile on a Space, one sentence saying to sign in (in Chinese for a
    Chinese page); signed in, the request goes on to the gates; locally, no sign-in is asked for."""
    pool = Zoo()
    pool.__dict__["worker"] = _Queue(store)
    monkeypatch.setenv("SPACE_ID", "org/space")
    fns = handlers(pool)
    inputs = {"submit_model": ["", None, ""], "flag_digit": [None, "3", "m"], "flag_drawing": [None, None, "3", "m"]}
    for name, given in inputs.items():
        with pytest.raises(gr.Error, match="sign in with Hugging Face"):
            fns[name](*given, None, None)  # request, profile: nobody signed in
    with pytest.raises(gr.Error, match="give a Hub model"):  # signed in: past the sign-in, refused by what follows
        fns["submit_model"]("", None, "", None, profile("ada"))
    with speaking(type("R", (), {"cookies": {"dlfs_lang": "zh-CN"}, "headers": {}})()):
        with pytest.raises(gr.Error, match="请先用 Hugging Face 登录"):
            quotas.signed_in(None, "submit")
    monkeypatch.delenv("SPACE_ID")
    with pytest.raises(gr.Error, match="give a Hub model"):  # locally: no sign-in needed
        fns["submit_model"]("", None, "", None, None)
    monkeypatch.setenv("DLFS_ZOO_REQUIRE_LOGIN", "1")  # asked for explicitly, off a Space
    with pytest.raises(gr.Error, match="sign in with Hugging Face"):
        fns["submit_model"]("", None, "", None, None)


def test_gradio_injects_the_signed_in_profile_into_the_handlers(store, monkeypatch):
    """The handlers declare ``gr.OAuthProfile | None`` where Gradio looks for it: the session's user arrives."""
    pool = Zoo()
    pool.__dict__["worker"] = _Queue(store)
    monkeypatch.setenv("DLFS_ZOO_REQUIRE_LOGIN", "1")
    fns = handlers(pool)
    for name, given in (("submit_model", ["", None, ""]), ("flag_digit", [None, None, "m"])):
        inputs = list(given)
        special_args(fns[name], inputs, request=_Session("ada"))
        assert isinstance(inputs[-1], gr.OAuthProfile) and inputs[-1].username == "ada"
        inputs = list(given)
        special_args(fns[name], inputs, request=_Session(None))
        assert inputs[-1] is None


# ------------------------------------------------------------------------------------- quota
def test_a_user_has_a_quota_counted_from_the_store_with_the_time_the_next_slot_frees(store, checkpoint, monkeypatch):
    """Quota 2 per 7 days: a user with one recorded request gets one more (recorded under their name), then is
    refused naming the limit and when the oldest leaves the window; old requests and other users do not count;
    the count is read from the store, so a new process (a restart) refuses too."""
    monkeypatch.setenv(moderation.USER_QUOTA, "2")
    finished(store, "ada-old", "ada", days_ago=9)  # outside the window
    one = finished(store, "ada-one", "ada", days_ago=2)
    finished(store, "bob-one", "bob", days_ago=1)
    queue = _Queue(store)
    files = [str(checkpoint / name) for name in HUB_FILES]
    said = submit.admit(queue, "", files, "ada-two", client="c1", user="ada")
    assert "passed the gates" in said
    (key,) = queue.keys
    assert store.request(key)["submitter"] == "ada"
    before = snapshot(store.root)
    oldest = datetime.fromisoformat(store.request(one)["submitted_at"])  # leaves the window first
    for quota in (quotas.USER_QUOTA, quotas.UserQuota()):  # the app's, and a fresh one: a restart
        with pytest.raises(gr.Error, match=r"submitted 2 models in the last 7 days.*\(2\)") as info:
            with quota.slot(store, "ada"):
                pass
        assert f"{oldest + timedelta(days=7):%Y-%m-%d %H:%M} UTC" in str(info.value)
    assert snapshot(store.root) == before
    with quotas.USER_QUOTA.slot(store, "bob"), quotas.USER_QUOTA.slot(store, None):  # 1 of 2; anonymous: none
        with pytest.raises(gr.Error, match="submitted 2 models"), quotas.USER_QUOTA.slot(store, "bob"):
            pass  # bob's second is still passing the gates: a burst cannot slip past the count


# ---------------------------------------------------------------------------------------- flags
def test_a_flagged_row_shows_its_note_and_link_and_the_json_stays_strict(store, capsys):
    finished(store, "odd-houses", "ada")
    moderation.flag(store, "odd-houses", "trained on the test split", "https://example.org/discussions/1")
    (row,) = [r for r in zoo.leaderboard(task="houses") if r.model == "odd-houses"]
    assert row.note == "trained on the test split" and row.link == "https://example.org/discussions/1"
    assert "⚠ trained on the test split ([link](https://example.org/discussions/1))" in to_markdown([row])
    pool = Zoo(board=zoo.leaderboard())
    shown = {r[1]: r[-1] for r in readable_board(pool, "houses")}
    assert shown["odd-houses"].endswith("⚠ trained on the test split (https://example.org/discussions/1)")
    api = board_table(pool, "houses")
    mine = [dict(zip(api["headers"], r, strict=True)) for r in api["data"] if r[1] == "odd-houses"]
    assert mine[0]["note"] == "trained on the test split" and mine[0]["link"].startswith("https://")
    capsys.readouterr()
    assert zoo_main(["leaderboard", "--json"]) == 0
    rows = strict_loads(capsys.readouterr().out)  # no NaN, no Infinity
    assert {r["model"]: r["note"] for r in rows}["odd-houses"] == "trained on the test split"
    assert strict_loads((store.root / moderation.STATE_NAME).read_text())["flags"]["odd-houses"]["link"]


def test_a_bad_flag_is_refused_and_writes_nothing(store, capsys):
    moderation.flag(store, "odd-houses", "first note")
    before = snapshot(store.root)
    for note, link, words in [
        ("", None, "a flag needs a note"),
        ("x" * 400, None, "at most 300"),
        ("ok", "javascript:alert(1)", "one https:// address"),
    ]:
        with pytest.raises(SubmissionError, match=words):
            moderation.flag(store, "odd-houses", note, link)
    assert zoo_main(["moderate", "flag", "../etc", "--note", "x"]) == 2
    assert "invalid model name" in capsys.readouterr().err
    assert snapshot(store.root) == before


# -------------------------------------------------------------------------------- do-not-submit
@pytest.mark.parametrize("blocked", ["name", "sha256", "repo"])
def test_the_do_not_submit_list_is_refused_at_the_gate_and_nothing_changes(blocked, store, checkpoint, capsys):
    weights = json.loads((checkpoint / "config.json").read_text())["weights_sha256"]
    value = {"name": "banned-cnn", "sha256": weights.upper(), "repo": "hf:Evil/Model@main"}[blocked]
    assert zoo_main(["moderate", "block", value, "--note", "copied from a paper"]) == 0
    before = snapshot(store.root)
    source = "hf:evil/model" if blocked == "repo" else str(checkpoint)  # a blocked repo is not even downloaded
    capsys.readouterr()
    assert zoo_main(["submit", source, "--name", "banned-cnn" if blocked == "name" else "other-cnn"]) == 2
    err = capsys.readouterr().err.strip()
    assert "do-not-submit list (copied from a paper)" in err and err.count("\n") == 0, err
    assert snapshot(store.root) == before  # byte-identical: no request, no model folder
    files = [str(checkpoint / n) for n in HUB_FILES]
    hub, files = ("Evil/Model", None) if blocked == "repo" else ("", files)
    with pytest.raises(gr.Error, match="do-not-submit list"):  # the app's gate is the same one
        submit.admit(_Queue(store), hub, files, "banned-cnn" if blocked == "name" else "x-cnn")
    assert snapshot(store.root) == before


def test_an_unblocked_name_passes_again(store, checkpoint):
    moderation.block(store, "banned-cnn")
    moderation.unblock(store, "banned-cnn")
    assert submit.admit(_Queue(store), "", [str(checkpoint / n) for n in HUB_FILES], "banned-cnn")


# ---------------------------------------------------------------------------------- withdrawal
def test_a_submitter_withdraws_their_model_and_nobody_else_can(store, monkeypatch):
    """Bob's attempt is refused with the store unchanged; Ada's takes the row off the leaderboard and keeps the
    result file, marked withdrawn; the name stays taken; the CLI is the operator's."""
    key = finished(store, "ada-houses", "ada")
    finished(store, "cli-houses", None)
    monkeypatch.setenv("DLFS_ZOO_REQUIRE_LOGIN", "1")
    pool = Zoo()
    pool.__dict__["worker"] = _Queue(store)
    withdraw_model = handlers(pool)["withdraw_model"]
    assert moderation.own_ranked(store, "ada") == ["ada-houses"] and moderation.own_ranked(store, "bob") == []
    before = snapshot(store.root)
    with pytest.raises(gr.Error, match="was not submitted by you; only its submitter can withdraw it"):
        withdraw_model("ada-houses", None, profile("bob"))
    with pytest.raises(gr.Error, match="sign in with Hugging Face to withdraw"):
        withdraw_model("ada-houses", None, None)
    assert snapshot(store.root) == before
    assert "is withdrawn" in withdraw_model("ada-houses", None, profile("ada"))
    models = {r.model for r in zoo.leaderboard(task="houses")}
    assert "ada-houses" not in models and "cli-houses" in models
    result = json.loads((store.root / "results" / f"{key}.json").read_text())
    assert result["status"] == "withdrawn" and result["withdrawn_by"] == "ada" and result["metrics"]["mse"] == 20.0
    assert store.request(key)["status"] == "withdrawn"
    with pytest.raises(SubmissionError, match="taken by another submission"):
        store.refuse_duplicate("ada-houses", "0" * 64)
    with pytest.raises(gr.Error, match="no ranked submission is named 'ada-houses'"):
        withdraw_model("ada-houses", None, profile("ada"))
    assert zoo_main(["moderate", "withdraw", "cli-houses", "--by", "operator"]) == 0
    assert "cli-houses" not in {r.model for r in zoo.leaderboard(task="houses")}
    shown = {row[0]: row[2:4] for row in submit.submission_rows(_Queue(store))}
    assert shown["ada-houses"][0] == shown["cli-houses"][0] == "withdrawn"
