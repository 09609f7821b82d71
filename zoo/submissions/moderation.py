"""What a public leaderboard takes down, and how often one person may submit.

    python -m zoo moderate flag NAME --note "trained on the test set" --link https://...   # a note beside its row
    python -m zoo moderate block NAME_OR_REPO_OR_SHA256 [--note "..."]                   # the do-not-submit list
    python -m zoo moderate withdraw NAME --by USER                                       # the row gone, result kept
    python -m zoo moderate show                                                          # the state, as JSON
    python -m zoo moderate unflag NAME | unblock VALUE

The state is one strict JSON file in the results store, ``moderation.json``, written atomically under the store's
``moderation`` lock::

    {"flags":     {NAME: {"note": ..., "link": ... or null, "at": ISO}},
     "blocked":   {VALUE: {"kind": "name" | "repo" | "sha256", "note": ... or null, "at": ISO}},
     "withdrawn": {NAME: {"by": USER, "at": ISO, "sha256": ...}}}

A withdrawn submission leaves the leaderboard; its request and result files are kept, with ``status``
"withdrawn" (and who and when), and its name and weights stay taken. ``check_allowed`` is the gate of the
do-not-submit list; ``apply`` is what the leaderboard calls on its rows (withdrawn ones dropped, flagged ones
given their ``note`` and ``link``). The quota per signed-in user counts the requests that user's name is
recorded on (``submitter``), so a restart forgets nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..basics import atomic_write_text
from ..catalog import validate_name
from ..config import strict_dumps
from .gates import SubmissionError, Verdict
from .store import Store

STATE_NAME = "moderation.json"
MAX_NOTE = 300  # characters of a flag's note: it is shown in a table cell
USER_QUOTA = "DLFS_ZOO_USER_QUOTA"  # submissions per signed-in user in the window (default 5)
USER_QUOTA_DAYS = "DLFS_ZOO_USER_QUOTA_DAYS"  # the window, in days (default 7: the Open LLM Leaderboard's)
SHA256 = re.compile(r"[0-9a-f]{64}")
REPO = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _empty() -> dict[str, dict[str, Any]]:
    return {"flags": {}, "blocked": {}, "withdrawn": {}}


# ------------------------------------------------------------------------------------ the state
def load(root: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The store's moderation state (empty when there is none yet)."""
    path = Path(root) / STATE_NAME
    if not path.is_file():
        return _empty()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        state = None
    if not isinstance(state, dict) or not all(isinstance(state.get(k, {}), dict) for k in _empty()):
        raise ValueError(f"the results store's {STATE_NAME} is not the moderation state; fix it or restore it")
    return _empty() | state


@contextlib.contextmanager
def editing(store: Store) -> Iterator[dict[str, dict[str, Any]]]:
    """The state, read and written back (atomically) under the store's lock; nothing is written if the body raises."""
    with store.lock("moderation"):
        state = load(store.root)
        yield state
        atomic_write_text(store.root / STATE_NAME, strict_dumps(state, indent=2, sort_keys=True) + "\n")


def _note(note: str | None, required: bool) -> str | None:
    note = " ".join((note or "").split())  # one line: it is shown in a table cell
    if required and not note:
        raise SubmissionError("a flag needs a note: one sentence on what is wrong with the model")
    if len(note) > MAX_NOTE:
        raise SubmissionError(f"the note has {len(note)} characters; at most {MAX_NOTE}")
    return note or None


def _link(link: str | None) -> str | None:
    if link is None or not link.strip():
        return None
    link = link.strip()
    if not re.fullmatch(r"https://[^\s<>\"'`|()\[\]]{1,500}", link):
        raise SubmissionError("the link must be one https:// address (no spaces, quotes, brackets or '|')")
    return link


def _name(name: str) -> str:
    try:
        return validate_name(name)
    except ValueError:
        why = f"invalid model name {name!r}: lowercase letters, digits and '-', 1-64 characters"
    raise SubmissionError(why)


# ------------------------------------------------------------------------------------- flags
def flag(store: Store, name: str, note: str, link: str | None = None) -> dict[str, Any]:
    """Show ``note`` (and ``link``) beside a model's row; flagging again replaces the note."""
    name, record = _name(name), {"note": _note(note, required=True), "link": _link(link), "at": _now()}
    with editing(store) as state:
        state["flags"][name] = record
    return record


def unflag(store: Store, name: str) -> None:
    with editing(store) as state:
        if state["flags"].pop(name, None) is None:
            raise SubmissionError(f"{name!r} is not flagged")


# ----------------------------------------------------------------------------- do-not-submit
def block_kind(value: str) -> tuple[str, str]:
    """What a do-not-submit entry names: ("sha256", hex), ("repo", ORG/NAME) or ("name", NAME)."""
    value = value.strip()
    if SHA256.fullmatch(value.lower()):
        return "sha256", value.lower()
    repo = value.removeprefix("hf:").split("@", 1)[0]
    if REPO.fullmatch(repo):
        return "repo", repo.lower()
    return "name", _name(value)


def block(store: Store, value: str, note: str | None = None) -> dict[str, Any]:
    """Put a model name, a Hub repo (ORG/NAME) or a weights sha256 on the do-not-submit list."""
    kind, key = block_kind(value)
    record = {"kind": kind, "note": _note(note, required=False), "at": _now()}
    with editing(store) as state:
        state["blocked"][key] = record
    return record | {"value": key}


def unblock(store: Store, value: str) -> None:
    _, key = block_kind(value)
    with editing(store) as state:
        if state["blocked"].pop(key, None) is None:
            raise SubmissionError(f"{value!r} is not on the do-not-submit list")


def check_allowed(root: str | os.PathLike, name: str, sha256: str, source: str | None) -> Verdict:
    """The gate of the do-not-submit list: the name, the Hub repo (``hf:ORG/NAME``) and the weights' sha256."""
    blocked = load(root)["blocked"]
    repo = (source or "").removeprefix("hf:").split("@", 1)[0].lower() if (source or "").startswith("hf:") else ""
    for what, key in ((f"the name {name!r}", name), (f"the Hub repo {repo}", repo), ("these weights", sha256)):
        entry = blocked.get(key) if key else None
        if entry is not None:
            why = f" ({entry['note']})" if entry.get("note") else ""
            return False, f"{what} is on this leaderboard's do-not-submit list{why}; it is not evaluated here"
    return True, ""


# --------------------------------------------------------------------------------- withdrawal
def _withdrawable(store: Store, name: str, by: str, operator: bool) -> dict[str, Any]:
    """The ranked request of ``name`` that ``by`` may withdraw; refused with a sentence otherwise."""
    finished = [r for r in store.requests() if r.get("model") == name and r.get("status") == "finished"]
    if not finished:
        raise SubmissionError(f"no ranked submission is named {name!r}; only a ranked submission can be withdrawn")
    if not operator and (not by or finished[-1].get("submitter") != by):
        raise SubmissionError(f"{name!r} was not submitted by you; only its submitter can withdraw it")
    return finished[-1]


def withdraw(store: Store, name: str, by: str, *, operator: bool = False) -> dict[str, Any]:
    """Take a ranked submission off the leaderboard at its submitter's request (``by`` must be the user recorded
    on the request, unless ``operator``: the CLI, which records ``by`` as who asked). The request and result files
    are kept with status "withdrawn"; returns the request record. A refusal writes nothing (not even a lock)."""
    name = _name(name)
    _withdrawable(store, name, by, operator)
    with editing(store) as state:  # checked again under the lock: two withdrawals cannot cross
        request = _withdrawable(store, name, by, operator)
        key, when = Store.key(name, request["sha256"]), _now()
        result_path = store.root / "results" / f"{key}.json"
        if result_path.is_file():
            result = json.loads(result_path.read_text(encoding="utf-8"))
            result |= {"status": "withdrawn", "withdrawn_by": by, "withdrawn_at": when}
            atomic_write_text(result_path, strict_dumps(result, indent=2, sort_keys=True) + "\n")
        record = store.update(key, status="withdrawn", withdrawn_by=by, withdrawn_at=when)
        state["withdrawn"][name] = {"by": by, "at": when, "sha256": request["sha256"]}
    return record


def own_ranked(store: Store, user: str | None) -> list[str]:
    """The ranked submissions ``user`` may withdraw (none without a user)."""
    if not user:
        return []
    return [r["model"] for r in store.requests() if r.get("submitter") == user and r.get("status") == "finished"]


# ----------------------------------------------------------------------------- the leaderboard
def apply(rows: list[Any], root: str | os.PathLike) -> list[Any]:
    """What the leaderboard shows of its rows (``zoo.leaderboard.Row``): withdrawn submissions dropped, flagged
    models given their ``note`` and ``link``."""
    state = load(root)
    flags, withdrawn = state["flags"], state["withdrawn"]
    if not flags and not withdrawn:
        return rows
    out = []
    for r in rows:
        if r.origin == "submitted" and r.model in withdrawn:
            continue
        f = flags.get(r.model)
        out.append(dataclasses.replace(r, note=f["note"], link=f.get("link")) if f else r)
    return out


def flag_text(note: str | None, link: str | None, markdown: bool = True) -> str:
    """A flag as a table cell shows it: a warning sign, the note, the link (markdown or plain)."""
    if not note:
        return ""
    note = note.replace("|", "/")
    if not link:
        return f"⚠ {note}"
    return f"⚠ {note} ([link]({link}))" if markdown else f"⚠ {note} ({link})"


# -------------------------------------------------------------------------------------- quota
def _int_env(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


def user_quota() -> tuple[int, int]:
    """Submissions per signed-in user, and the window in days (``DLFS_ZOO_USER_QUOTA``, ``..._DAYS``)."""
    return _int_env(USER_QUOTA, 5), max(1, _int_env(USER_QUOTA_DAYS, 7))


def recorded_times(requests: list[dict[str, Any]], user: str, days: int, now: datetime | None = None) -> list[datetime]:
    """When ``user``'s requests of the last ``days`` were submitted, oldest first (every recorded one counts: an
    evaluation that failed was run; a submission the gates refused was never recorded)."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    times = []
    for r in requests:
        if r.get("submitter") != user:
            continue
        with contextlib.suppress(KeyError, TypeError, ValueError):
            at = datetime.fromisoformat(r["submitted_at"])
            if at > since:
                times.append(at)
    return sorted(times)


# ---------------------------------------------------------------------------------------- CLI
def add_cli(sub: argparse._SubParsersAction) -> None:
    """``python -m zoo moderate ...``: the operator's commands, on the results store ($DLFS_ZOO_RESULTS)."""
    p = sub.add_parser("moderate", help="flag a model, keep a do-not-submit list, withdraw a submission")
    verbs = p.add_subparsers(dest="verb", required=True)
    f = verbs.add_parser("flag", help="show a note (and a link) beside a model's row of the leaderboard")
    f.add_argument("name", help="the submitted model to flag")
    f.add_argument("--note", required=True, help=f"one sentence on what is wrong (at most {MAX_NOTE} characters)")
    f.add_argument("--link", help="an https:// address with more (a discussion, a report)")
    verbs.add_parser("unflag", help="remove a model's note").add_argument("name", help="the flagged model")
    b = verbs.add_parser("block", help="refuse a model name, a Hub repo (ORG/NAME) or a weights sha256 at the gate")
    b.add_argument("value", metavar="NAME_OR_REPO_OR_SHA256", help="a model name, a Hub repo or a weights sha256")
    b.add_argument("--note", help="why (said in the refusal)")
    unblock = verbs.add_parser("unblock", help="take an entry off the do-not-submit list")
    unblock.add_argument("value", help="the name, repo or sha256 as it was blocked")
    w = verbs.add_parser("withdraw", help="take a ranked submission off the leaderboard (its result is kept)")
    w.add_argument("name", help="the submitted model to take off the leaderboard")
    w.add_argument("--by", required=True, metavar="USER", help="who asked (recorded on the request and the result)")
    verbs.add_parser("show", help="the moderation state, as JSON")
    p.set_defaults(func=_cmd_moderate)


def _cmd_moderate(args: argparse.Namespace) -> int:
    store = Store()
    if args.verb == "flag":
        flag(store, args.name, args.note, args.link)
        print(f"{args.name}: flagged; its row shows the note")
    elif args.verb == "unflag":
        unflag(store, args.name)
        print(f"{args.name}: no longer flagged")
    elif args.verb == "block":
        entry = block(store, args.value, args.note)
        print(f"{entry['value']}: on the do-not-submit list (a {entry['kind']})")
    elif args.verb == "unblock":
        unblock(store, args.value)
        print(f"{args.value}: off the do-not-submit list")
    elif args.verb == "withdraw":
        withdraw(store, args.name, args.by, operator=True)
        print(f"{args.name}: withdrawn; off the leaderboard, its result kept")
    else:
        print(json.dumps(load(store.root), indent=2, sort_keys=True, allow_nan=False))
    return 0
