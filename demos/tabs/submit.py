"""The Submit tab: a checkpoint from the Hub or uploaded goes through the gates at once, then waits in the one
evaluation queue; its table follows the queue. Where a login is required (on a Space: ``demos.quotas``), a
*Sign in with Hugging Face* button, the signed-in user recorded on each request (``submitter``) and held to a
quota per user, and a *Withdraw* button for the user's own ranked models.

Public endpoints: /submit_model, /submissions.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from demos import quotas
from demos.i18n import refuse, say, speaking, t
from demos.state import Zoo
from demos.tabs import Handler, TabParts
from zoo.checkpoint_io import TRAINING_LOG_NAME
from zoo.hub import HUB_FILES
from zoo.submissions import SubmissionError, Worker, check, fetch, moderation
from zoo.submissions.gates import MAX_BYTES, require

TITLE = "Submit"
ID = "submit"
SUBMISSION_HEADERS = ["model", "task", "status", "detail", "source", "submitted"]
HUB_NAME = re.compile(r"(hf:)?[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}(@[\w./-]{1,128})?")


def uploaded(files: list[str], into: Path) -> Path:
    """The three uploaded files (and ``training_log.json``, optional), by their own names, in a folder of their own;
    each file's size is read from the file system (``os.stat``) and checked against the gates' caps before a byte
    of it is read."""
    names = {Path(f).name: f for f in files}
    wanted = set(HUB_FILES) | ({TRAINING_LOG_NAME} & set(names))
    if set(names) != wanted or len(files) != len(wanted):
        got = ", ".join(sorted(names)) or "nothing"
        raise refuse("submit_upload_exactly", wanted=", ".join(sorted(wanted)), got=got)
    for name, path in names.items():
        size = os.stat(path).st_size
        if size > MAX_BYTES[name]:
            raise refuse("submit_file_too_big", name=name, size=size, most=MAX_BYTES[name])
    for name, path in names.items():
        shutil.copyfile(path, into / name)
    return into


def admit(
    worker: Worker,
    hub_source: str,
    files: list[str] | None,
    name: str,
    client: str = "local",
    user: str | None = None,
) -> str:
    """The gates' verdict at once; a submission that passes waits in the evaluation queue, recorded under the
    signed-in ``user`` (None: an anonymous, local one). Each client has ``quotas.SUBMISSIONS`` admitted
    submissions per 24 hours, each user ``quotas.USER_QUOTA``: the slots are taken before the gates (so that a
    burst cannot slip past the count) and given back when they refuse."""
    hub_source, name = (hub_source or "").strip(), (name or "").strip() or None
    if bool(hub_source) == bool(files):
        raise refuse("submit_one_of_two")
    if hub_source and not HUB_NAME.fullmatch(hub_source):  # refused without echoing it (it may look like a path)
        raise refuse("submit_hub_name")
    store = worker.store
    with (
        quotas.SUBMISSIONS.slot(client),
        quotas.USER_QUOTA.slot(store, user),
        tempfile.TemporaryDirectory(prefix="dlfs-submit-") as tmp,
    ):
        try:
            if hub_source:
                source = hub_source if hub_source.startswith("hf:") else f"hf:{hub_source}"
                require(moderation.check_allowed(store.root, "", "", source))  # a blocked repo: not downloaded
                folder, where = fetch(source, Path(tmp))
            else:
                folder, where = uploaded(files or [], Path(tmp)), {"source": "upload"}
            checked = check(folder, name, store, submitter=user, **where)
            key = store.admit(checked, folder)
        except SubmissionError as e:  # the gates speak English (zoo); a Chinese page gets a Chinese lead
            raise refuse("submit_refused", reason=str(e)) from None
    position = worker.enqueue(key)
    return say("submit_passed", name=checked.name, params=checked.params, task=checked.task, position=position)


def submit_answer(
    worker: Worker,
    hub_source: str,
    files: list[str] | None,
    name: str,
    request: gr.Request | None,
    profile: gr.OAuthProfile | None,
) -> str:
    """What *Submit* answers (the Submit tab's ``/submit_model`` and the Train tab's *Submit to the leaderboard*): the
    client's cap in flight, the sign-in where one is required, then ``admit``'s verdict in the page's language."""
    with quotas.endpoint(request), speaking(request):
        user = quotas.signed_in(profile, "submit")  # Gradio injects the profile of the session's sign-in
        return admit(worker, hub_source, files, name, quotas.client_id(request, user), user)


def withdraw_own(worker: Worker, name: str | None, user: str | None) -> str:
    """Take one of ``user``'s ranked submissions off the leaderboard (``zoo.submissions.moderation.withdraw``:
    its result is kept, marked "withdrawn"); anyone else's is refused."""
    if not name:
        raise refuse("withdraw_pick")
    try:
        moderation.withdraw(worker.store, name, user or "")
    except SubmissionError as e:
        raise refuse("submit_refused", reason=str(e)) from None
    return say("withdraw_done", name=name)


def own_choices(worker: Worker, user: str | None) -> gr.Dropdown:
    """The picker of the models the signed-in user may withdraw."""
    return gr.Dropdown(choices=moderation.own_ranked(worker.store, user), value=None)


def submission_rows(worker: Worker) -> list[list[str]]:
    """The queue's table: one row per submission, newest first, its status said in words."""
    rows = []
    for r in worker.status():
        status = r["status"]
        if status == "pending":
            detail = f"position {r['position']} in the queue" if r["position"] else "waiting"
        elif status == "running":
            started = datetime.fromisoformat(r.get("started_at") or r["submitted_at"])
            detail = f"evaluating for {(datetime.now(UTC) - started).total_seconds():.0f} s"
            detail += f": {r['progress']}" if r.get("progress") else ""
        elif status == "failed":
            detail = r.get("reason") or ""
        elif status == "withdrawn":
            detail = "withdrawn: no longer ranked (its result is kept)"
        else:
            detail = "ranked: see the Leaderboard tab"
        rows.append([r["model"], r["task"], status, detail, r["source"], r["submitted_at"]])
    return rows


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """The Hub name or the three files, a name, the verdict, and the queue's table (polled while it moves); where a
    login is required, the sign-in button above them and the withdrawal of one's own models below."""
    worker = pool.worker
    gr.Markdown(t("submit_intro"))
    if quotas.login_required():
        with gr.Row(equal_height=True):
            quotas.login_button()
            limit, days = moderation.user_quota()
            gr.Markdown(t("submit_login_note", limit=limit, days=days))
    with gr.Row():
        hub_source = gr.Textbox("", label=t("submit_hub"), elem_id="submit-hub")
        files = gr.File(
            label=t("submit_files"),
            file_count="multiple",
            type="filepath",
            elem_id="submit-files",
        )
    name = gr.Textbox("", label=t("submit_name"), elem_id="submit-name")
    button = gr.Button(t("submit_button"), variant="primary", elem_id="submit-button")
    verdict = gr.Markdown(elem_id="submit-verdict")
    table = gr.Dataframe(
        headers=SUBMISSION_HEADERS,
        value=submission_rows(worker),
        label=t("submit_table"),
        interactive=False,
        wrap=True,
        elem_id="submissions-table",
    )
    timer = gr.Timer(2.0, active=False)

    def submit_model(
        hub_source: str = "",
        files: list[str] | None = None,
        name: str = "",
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> str:
        """Submit a checkpoint to be checked, evaluated by the project's code and ranked beside the zoo's models.

        Args:
            hub_source: a Hugging Face model repo, ORG/NAME or ORG/NAME@REVISION (or leave empty and upload files).
            files: config.json, model.safetensors and README.md of the checkpoint (or leave empty and give hub_source).
            name: the name to rank it under (default: config.json's name); lowercase letters, digits and '-'.
        """
        return submit_answer(worker, hub_source, files, name, request, profile)

    def submissions() -> list[dict[str, Any]]:
        """Every submission, newest first, with its status (pending, running, finished or failed with the reason)
        and its position in the evaluation queue."""
        return worker.status()

    def show_queue():
        """The queue's table, and the timer kept polling while a submission waits or runs."""
        rows = submission_rows(worker)
        return rows, gr.Timer(active=any(r[2] in ("pending", "running") for r in rows))

    button.click(submit_model, [hub_source, files, name], verdict, api_name="submit_model").then(
        show_queue, None, [table, timer], api_visibility="private"
    )
    timer.tick(show_queue, None, [table, timer], api_visibility="private")
    gr.api(submissions, api_name="submissions")
    shown = Handler(show_queue, [], [table, timer])
    return TabParts(on_open=withdrawal(worker, demo, shown) if quotas.login_required() else shown)


def withdrawal(worker: Worker, demo: gr.Blocks, shown: Handler) -> Handler:
    """Where a login is required: a signed-in user's ranked models and a button to withdraw one (private: programs
    have no sign-in session; the operator has the CLI). Returns the tab's on-open handler: ``shown`` (the queue)
    and the user's models."""
    with gr.Accordion(t("withdraw_title"), open=False, elem_id="submit-withdraw"):
        gr.Markdown(t("withdraw_text"))
        mine = gr.Dropdown([], value=None, label=t("withdraw_pick_label"), elem_id="withdraw-model")
        button = gr.Button(t("withdraw_button"), variant="stop", elem_id="withdraw-button")
        note = gr.Markdown(elem_id="withdraw-note")

    def withdraw_model(
        name: str | None, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> str:
        """Take one of the signed-in user's own ranked models off the leaderboard (its result is kept)."""
        with quotas.endpoint(request), speaking(request):
            return withdraw_own(worker, name, quotas.signed_in(profile, "withdraw"))

    def show_own(profile: gr.OAuthProfile | None = None) -> gr.Dropdown:
        """The signed-in user's ranked models, to pick one to withdraw (none without a sign-in)."""
        return own_choices(worker, getattr(profile, "username", None))

    def show_queue_and_own(profile: gr.OAuthProfile | None = None):
        """On opening the tab: the queue, and the signed-in user's models that may be withdrawn."""
        return (*shown.fn(), show_own(profile))

    button.click(withdraw_model, [mine], note, api_visibility="private").then(
        show_own, None, mine, api_visibility="private"
    ).then(*shown, api_visibility="private")
    demo.load(show_own, None, mine, api_visibility="private")
    return Handler(show_queue_and_own, [], [*shown.outputs, mine])
