"""The Hugging Face Hub, through ``huggingface_hub``: a zoo model's files downloaded (HF cache first where asked),
a namespace's model repos listed, a submission's repo fetched at one commit, files committed to a dataset repo,
and one readable sentence for each way talking to the Hub fails. Honours HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE.

(Only the HF Hub: the checkpoints shipped in the package are ``zoo.checkpoint_io``'s, torch.hub's entry points
are ``hubconf.py``'s.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .catalog import validate_name
from .checkpoint_io import CHECKPOINT_FILES

DEFAULT_NAMESPACE = "dlfs-zoo"
HUB_FILES = CHECKPOINT_FILES  # what a zoo model repo on the Hub holds: a checkpoint's three files


class HubUnavailableError(RuntimeError):
    """The model is neither local nor obtainable from the Hub; the message says why."""


def resolve_namespace(value: str | None = None) -> str:
    return value or os.environ.get("DLFS_ZOO_NAMESPACE") or DEFAULT_NAMESPACE


def endpoint() -> str:
    """The Hub this process talks to (``$HF_ENDPOINT``, else huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def hub_error(e: BaseException, what: str) -> str:
    """A readable sentence for the ways talking to the Hub fails: what failed and what to do, in words (the app
    shows it to visitors: no local path, no exception class, no library message)."""
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    where = endpoint()
    if isinstance(e, LocalEntryNotFoundError):
        unreachable = f"the Hub at {where} cannot be asked (offline mode or no connection)"
        return f"{what}: not in the HF cache (HF_HOME) and {unreachable}"
    if isinstance(e, HfHubHTTPError) and e.response is not None:
        code = e.response.status_code
        if code == 401:
            return f"{what}: the Hub at {where} refused the token (401); set HF_TOKEN or run `hf auth login`"
        if code == 403:
            return f"{what}: the token may not write there (403); check the namespace and the token's rights"
        if code == 404:
            return f"{what}: not found on {where} (404); check the namespace, name and revision"
        if code >= 500:
            return f"{what}: the Hub at {where} failed ({code}); nothing was changed locally, try again later"
        reason = getattr(e.response, "reason_phrase", "") or "refused"
        return f"{what}: the Hub at {where} answered {code} ({reason}); check the name, revision and token"
    timed_out = "timeout" in type(e).__name__.lower()  # httpx's and requests' timeouts, said in words
    why = "it did not answer in time" if timed_out else "no connection, or it refused one"
    return f"{what}: cannot reach the Hub at {where} ({why}); check the network or HF_ENDPOINT"


# ------------------------------------------------------------------------------------ zoo models
def hf_snapshot(name: str, *, revision: str | None = None, ns: str | None = None, **kwargs: Any) -> Path:
    """Download (or find in the HF cache) a zoo model's files; honours HF_ENDPOINT/HF_HOME/HF_HUB_OFFLINE."""
    from huggingface_hub import snapshot_download

    repo_id = f"{resolve_namespace(ns)}/{validate_name(name)}"
    return Path(snapshot_download(repo_id, revision=revision, allow_patterns=HUB_FILES, **kwargs))


def download(name: str, *, revision: str | None = None, ns: str | None = None, cache_first: bool = False) -> Path:
    """A zoo model's files, as ``zoo.load`` gets them: ``cache_first`` asks the HF cache before the network.
    Any failure is a ``HubUnavailableError`` saying why."""
    try:
        folder = None
        if cache_first:  # no network when the files are already here
            try:
                folder = hf_snapshot(name, revision=revision, ns=ns, local_files_only=True)
            except Exception:  # not cached (LocalEntryNotFoundError and kin): ask the Hub below
                folder = None
        return folder or hf_snapshot(name, revision=revision, ns=ns)
    except Exception as e:
        raise HubUnavailableError(hub_error(e, f"load {resolve_namespace(ns)}/{name}")) from e


def model_repos(ns: str) -> list[str]:
    """The ids of a namespace's model repos."""
    from huggingface_hub import HfApi

    return [m.id for m in HfApi().list_models(author=ns)]


def read_text(repo_id: str, filename: str) -> str:
    """One file of a model repo (through the HF cache), as text."""
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(repo_id, filename)).read_text()


# ------------------------------------------------------------------------------- anyone's repos
def download_pinned(repo_id: str, revision: str | None, into: Path) -> str | None:
    """A model repo's checkpoint files, as plain files in ``into``, at the one commit ``revision`` names now
    (the branch's head when None); returns that commit's sha."""
    from huggingface_hub import HfApi, snapshot_download

    sha = HfApi().model_info(repo_id, revision=revision or None).sha
    snapshot_download(repo_id, revision=sha or revision or None, allow_patterns=HUB_FILES, local_dir=into)
    return sha


def commit_files(repo_id: str, files: dict[str, Path], message: str, repo_type: str = "dataset") -> str:
    """Commit local files (path in the repo -> local path) to a repo, made if missing; the commit's URL."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type=repo_type, exist_ok=True)
    ops = [CommitOperationAdd(path, str(local)) for path, local in files.items()]
    return api.create_commit(repo_id, ops, commit_message=message, repo_type=repo_type).commit_url
