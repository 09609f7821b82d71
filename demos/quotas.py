"""Caps per visitor: how many submissions and flags one client may send in a sliding window, and how many of its
requests may run at once. In memory (a restart forgets them), thread-safe, and keyed by a hash of who the client
is, so no address is kept.

Who a client is (``client_id``): the signed-in user when there is one, else its address: behind a proxy (on a
Space, or with ``DLFS_ZOO_PROXIED=1``) the entry of ``X-Forwarded-For`` that the outermost of our
``DLFS_ZOO_PROXY_HOPS`` proxies appended (the last one by default), never what the client wrote before it; else
the address of the connection itself.

On a Space (``SPACE_ID``), or wherever ``DLFS_ZOO_REQUIRE_LOGIN=1``, submitting and flagging need a user signed in
with Hugging Face (``login_required``, ``signed_in``: the README's ``hf_oauth: true`` and a ``gr.LoginButton``),
and each user has ``USER_QUOTA``: submissions per 7 days, counted from the requests recorded under their name in
the results store (``zoo.submissions.moderation``), so that a restart forgets nothing. Locally, no login.

Why a cap on requests in flight, in the handlers: Gradio's queue (6.31, ``gradio/queueing.py``) is one FIFO per
event with no notion of a client, so 50 requests sent at once by one client sit ahead of everyone else's. Gradio
offers no hook where a request joins the queue (the only one, an event's ``validator``, decodes the inputs a
second time, outside the queue's limits), so the cap is kept where the handler starts: at most ``IN_FLIGHT`` of
one client's requests run at a time, and the rest of a burst is refused as each reaches the front, which takes
microseconds. A good client then waits behind at most a few real runs, not behind the whole burst.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import gradio as gr

from demos.i18n import refuse, say, t
from zoo.submissions import Store, moderation

log = logging.getLogger("demos")
_SALT = os.urandom(16)  # per process: the hashes cannot be matched against a list of addresses


def _int_env(name: str, default: int) -> int:
    """A whole-number limit from the environment (a value that is not one: the default)."""
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


# how many proxies of our own stand before the app: each appends the address it saw to X-Forwarded-For, so the
# entry this many places from the right is the one our outermost proxy saw; whatever a client wrote to the left
# of it is its own claim and is not believed
PROXY_HOPS = max(1, _int_env("DLFS_ZOO_PROXY_HOPS", 1))


def client_id(request: gr.Request | None, user: str | None = None) -> str:
    """Who sent the request, hashed: the signed-in ``user``, else the username, else the address (see the module's
    docstring)."""
    if user:
        return hashlib.sha256(_SALT + f"hf:{user}".encode()).hexdigest()[:24]
    if request is None:  # called from Python, not over HTTP: one local caller
        return "local"
    who = f"user:{request.username}" if getattr(request, "username", None) else ""
    if not who:
        forwarded = request.headers.get("x-forwarded-for", "") if request.headers else ""
        proxied = os.environ.get("SPACE_ID") or os.environ.get("DLFS_ZOO_PROXIED") == "1"
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()] if proxied else []
        host = hops[-min(len(hops), PROXY_HOPS)] if hops else ""
        who = f"addr:{host or (request.client.host if request.client else 'unknown')}"
    return hashlib.sha256(_SALT + who.encode()).hexdigest()[:24]


def _when(t: float) -> str:
    """A moment as a visitor reads it: the UTC clock time and how long from now ("in 3 h 12 min", "in 40 s")."""
    wait = max(1, math.ceil(t - time.time()))
    hours, minutes = divmod(math.ceil(wait / 60), 60)
    if wait < 60:
        delay = say("delay_s", n=wait)
    else:
        parts = (say("delay_h", n=hours) if hours else "", say("delay_min", n=minutes) if minutes else "")
        delay = " ".join(part for part in parts if part)
    return say("when", clock=f"{datetime.fromtimestamp(t, UTC):%H:%M}", delay=delay)


@dataclass
class Window:
    """At most ``limit`` events per client in any ``seconds``: ``take`` reserves a slot (or refuses with a sentence
    naming the limit and when the next slot frees), ``give_back`` returns one that was not used."""

    what: str  # which sentence refuses (``quota_<what>`` in demos.i18n_text): "submissions", "flags"
    limit: int
    seconds: float
    times: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, client: str) -> float:
        """Reserve a slot for ``client`` now; its time is the token ``give_back`` takes."""
        now = time.time()
        with self.lock:
            times = self.times[client]
            while times and times[0] <= now - self.seconds:
                times.popleft()
            if len(times) >= self.limit:
                raise refuse(f"quota_{self.what}", count=len(times), when=_when(times[0] + self.seconds))
            times.append(now)
            return now

    def give_back(self, client: str, token: float) -> None:
        """The reserved slot was refused for another reason: it does not count."""
        with self.lock:
            try:
                self.times[client].remove(token)
            except ValueError:
                pass

    @contextmanager
    def slot(self, client: str) -> Iterator[None]:
        """A slot held while the body runs, given back if the body raises (a refused call does not count)."""
        token = self.take(client)
        try:
            yield
        except BaseException:
            self.give_back(client, token)
            raise


class InFlight:
    """At most ``limit`` requests of one client running at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    @contextmanager
    def slot(self, client: str) -> Iterator[None]:
        with self.lock:
            if self.running[client] >= self.limit:
                raise refuse("quota_in_flight", count=self.running[client])
            self.running[client] += 1
        try:
            yield
        finally:
            with self.lock:
                self.running[client] -= 1
                if not self.running[client]:
                    del self.running[client]


def login_required() -> bool:
    """Whether submitting and flagging need a signed-in user: on a Space (``SPACE_ID`` set), or wherever
    ``DLFS_ZOO_REQUIRE_LOGIN=1``; ``DLFS_ZOO_REQUIRE_LOGIN=0`` turns it off (a Space for testing)."""
    chosen = os.environ.get("DLFS_ZOO_REQUIRE_LOGIN", "").strip()
    if chosen in ("0", "1"):
        return chosen == "1"
    return bool(os.environ.get("SPACE_ID"))


def login_button() -> gr.LoginButton | None:
    """Sign in with Hugging Face, where a login is required and the app runs on a Space (Gradio's own test:
    ``SYSTEM=spaces``). Nowhere else: off a Space, Gradio stands in for the sign-in with the machine's own Hub
    login and refuses to build the app without one, so with ``DLFS_ZOO_REQUIRE_LOGIN=1`` off a Space there is
    no button, nobody is signed in, and submitting and flagging are closed (a read-only copy of the app)."""
    on_space = os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))
    return gr.LoginButton(t("login_button"), elem_classes="dlfs-login") if login_required() and on_space else None


def signed_in(profile: gr.OAuthProfile | None, action: str) -> str | None:
    """The signed-in user's name (Gradio injects ``profile`` into a handler that declares it); where a login is
    required and nobody is signed in, refused with a sentence saying to sign in (``action``: submit, flag,
    withdraw: the text ``login_to_ACTION``). None where no login is required and nobody is signed in."""
    user = getattr(profile, "username", None) or None
    if user is None and (login_required() or action == "withdraw"):
        raise refuse(f"login_to_{action}")
    return user


class UserQuota:
    """At most ``DLFS_ZOO_USER_QUOTA`` submissions per signed-in user in any ``DLFS_ZOO_USER_QUOTA_DAYS`` days
    (5 in 7 by default, as the Open LLM Leaderboard): those recorded under the user's name in the results store,
    plus the user's submissions still passing the gates in this process (so that a burst cannot slip past the
    count). A refusal names the limit and when the next slot frees; a submission the gates refuse is never
    recorded, so it does not count."""

    def __init__(self) -> None:
        self.passing: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    @contextmanager
    def slot(self, store: Store, user: str | None) -> Iterator[None]:
        if not user:  # a local, anonymous submission: the caps per visitor only
            yield
            return
        limit, days = moderation.user_quota()
        with self.lock:
            times = moderation.recorded_times(store.requests(), user, days)  # oldest first
            used = len(times) + self.passing[user]
            if used >= limit:
                oldest = used - limit  # the submission whose leaving the window frees the next slot
                frees = times[oldest] + timedelta(days=days) if oldest < len(times) else datetime.now(UTC)
                when = f"{frees:%Y-%m-%d %H:%M}"
                raise refuse("submit_user_quota", used=used, limit=limit, days=days, when=when)
            self.passing[user] += 1
        try:
            yield
        finally:
            with self.lock:
                self.passing[user] -= 1
                if not self.passing[user]:
                    del self.passing[user]


# admitted submissions per client (each costs an evaluation), flagged drawings per client
SUBMISSIONS = Window("submissions", _int_env("DLFS_ZOO_SUBMISSIONS_PER_DAY", 5), 24 * 3600)
FLAGS = Window("flags", _int_env("DLFS_ZOO_FLAGS_PER_HOUR", 30), 3600)
USER_QUOTA = UserQuota()  # submissions per signed-in user (the counts are the results store's requests)
IN_FLIGHT = InFlight(max(1, _int_env("DLFS_ZOO_IN_FLIGHT", 2)))  # one client's requests running at once
# for the app as a whole (demos.app): each uploaded file (Gradio refuses a larger one before any handler runs;
# the default takes a submission's 100 MB of weights), the queue's length, how long uploads stay in the cache
MAX_UPLOAD_MB = max(1, _int_env("DLFS_ZOO_MAX_UPLOAD_MB", 110))
QUEUE_SIZE = max(1, _int_env("DLFS_ZOO_QUEUE_SIZE", 256))
CACHE_MINUTES = max(1, _int_env("DLFS_ZOO_CACHE_MINUTES", 60))


@contextmanager
def endpoint(request: gr.Request | None) -> Iterator[None]:
    """What every public endpoint runs inside: the client's cap in flight, and a failure the handlers did not
    foresee told in words (Gradio's ``show_error`` would otherwise send the exception's own text, which can
    name a server path); the traceback goes to the server's log only."""
    with IN_FLIGHT.slot(client_id(request)):
        try:
            yield
        except gr.Error:
            raise
        except Exception:
            log.exception("a public endpoint failed")
            raise refuse("endpoint_failed") from None
