"""The door a submission passes: each check reads only JSON, a safetensors header, the tensors and markdown, and
returns its verdict and one message, ``(True, "")`` or ``(False, why)`` (as the Open LLM Leaderboard's
``check_validity.py`` does). No code of a submission ever runs: no pickle, no ``trust_remote_code``, no hubconf of
theirs; the model the config describes is built on the meta device, so its size is known before anything is
allocated. ``zoo.submissions.check`` runs the checks in order, cheapest first.
"""

from __future__ import annotations

import contextlib
import json
import math
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..basics import CONFIG_NAME, WEIGHTS_NAME
from ..catalog import ALIASES, ENTRIES, validate_name
from ..checkpoint_io import CARD_NAME, CHECKPOINT_FILES, TRAINING_LOG_NAME, embedded_dir, is_training_log, load_folder
from ..config import (
    META_KEYS,
    NUMBER_LIMIT,
    ConfigError,
    first_non_finite,
    numbers,
    show_number,
    strict_loads,
    validate_config,
)

if TYPE_CHECKING:  # torch is imported where a model is built or read: the store and moderation use the rest without it
    import torch

MAX_BYTES = {WEIGHTS_NAME: 100 * 2**20, CONFIG_NAME: 2**20, CARD_NAME: 2**20, TRAINING_LOG_NAME: 2**20}
MAX_PARAMS = 50_000_000  # 100 MB of bf16 weights
MAX_CONFIG_INT = 2**20  # no zoo architecture has a size anywhere near this
MIN_CARD_TEXT = 200  # characters on how the model was trained
DTYPES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}

Verdict = tuple[bool, str]  # passed?, and why not ("" when it passed)
PASSED: Verdict = (True, "")


class SubmissionError(ValueError):
    """A submission refused at the door; the message says what is wrong and what is allowed."""


@dataclass(frozen=True)
class Checked:
    """What passed the gates: enough to admit, evaluate and rank it."""

    name: str
    task: str
    architecture: str
    sha256: str
    params: int
    source: str  # "folder:/abs/path", "hf:org/name" or "upload"
    revision: str | None = None
    source_url: str | None = None
    submitter: str | None = None  # the signed-in user who sent it (the app on a Space); None: a local submission


def require(verdict: Verdict) -> None:
    """Raise a check's refusal as a ``SubmissionError`` with its one message."""
    passed, why = verdict
    if not passed:
        raise SubmissionError(why)


# ------------------------------------------------------------------------------------ the files
def check_files(folder: Path) -> Verdict:
    """The three files (and ``training_log.json`` where there is one), plain and inside the folder, within their
    size caps."""
    if folder.is_symlink() or not folder.is_dir():
        return False, f"{folder} is not a folder; submit a folder with {', '.join(CHECKPOINT_FILES)}"
    log = (
        [TRAINING_LOG_NAME]
        if (folder / TRAINING_LOG_NAME).is_symlink() or (folder / TRAINING_LOG_NAME).exists()
        else []
    )
    for name in CHECKPOINT_FILES + log:
        path = folder / name
        if path.is_symlink():
            return False, f"{name} is a symbolic link; submit plain files (a link can point out of the folder)"
        if not path.is_file():
            return False, f"the submission has no {name}; a submission is {', '.join(CHECKPOINT_FILES)}"
        if path.resolve().parent != folder.resolve():
            return False, f"{name} resolves outside the submitted folder"
        size = path.stat().st_size
        if size > MAX_BYTES[name]:
            return False, f"{name} is {size:,} bytes; the cap is {MAX_BYTES[name]:,}"
    return PASSED


# ----------------------------------------------------------------------------------- the config
def check_training_log(folder: Path) -> Verdict:
    """A ``training_log.json`` sent along (optional: the curve the Leaderboard draws) is one: strict JSON, its
    ``steps`` columns of one length and its ``epochs`` a list, every number finite (``check_files`` capped its size)."""
    path = folder / TRAINING_LOG_NAME
    if not path.is_file():
        return PASSED
    why = (
        f"{TRAINING_LOG_NAME} is not a training log; send the one `python -m training train` wrote (its steps' "
        "step, epoch and loss columns of one length, its epochs a list, finite numbers) or leave it out"
    )
    try:
        log = strict_loads(path.read_text(encoding="utf-8"))  # read once: UTF-8, no NaN, as the view reads it
    except (ValueError, RecursionError):  # a UnicodeDecodeError is a ValueError
        return False, why
    if not is_training_log(log) or first_non_finite(log) is not None:
        return False, why
    columns = [log["steps"][k] for k in ("step", "epoch", "loss")]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for c in columns for v in c):
        return False, why
    return PASSED


def parse_config(path: Path) -> Any:
    """``config.json`` as JSON (as written: no migration of old keys); refused when it is not JSON. NaN and
    Infinity are read here so that ``check_config`` can name the field that holds one."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        why = f"config.json is not valid JSON: {e}"
    except (ValueError, RecursionError):  # an integer of thousands of digits; arrays nested thousands deep
        why = "config.json is not JSON a zoo model could have: an integer too long or arrays nested too deep"
    raise SubmissionError(why)


def check_numbers(value: Any, where: str, limit: float = NUMBER_LIMIT) -> Verdict:
    """Every float finite and within +-``limit``; the refusal names the field (``normalize.mean[0]``)."""
    for key, v in numbers(value):
        if isinstance(v, float) and not (math.isfinite(v) and abs(v) <= limit):
            bound = f"{limit:g}".replace("e+0", "e").replace("e+", "e")  # 1e6, as people write it
            allowed = f", between -{bound} and {bound}" if math.isfinite(limit) else ""
            return False, f"{where}'s {key} is {show_number(v)}; numbers must be finite{allowed}"
    return PASSED


def check_config(config: Any) -> Verdict:
    """A zoo architecture's config (every key checked against its ``__init__``), of a plausible size, every
    number finite and in range, whose task is its architecture's."""
    passed, why = check_numbers(config, "config.json")
    if not passed:
        return False, why
    try:
        cls = validate_config(config)
    except ConfigError as e:
        return False, str(e)
    for key, value in numbers(config):
        if isinstance(value, int) and abs(value) > MAX_CONFIG_INT:
            return False, f"config.json: {key} = {value:,} is beyond any zoo model's size (at most {MAX_CONFIG_INT:,})"
    if config.get("task", cls.task) != cls.task:
        return False, f"config.json: task {config['task']!r} does not match {cls.__name__}, a {cls.task} model"
    return PASSED


def check_name(name: str | None) -> Verdict:
    """A valid name of its own: not one of the zoo's entries, old names or shipped checkpoints."""
    if not name:
        return False, "the submission has no name: give one with --name or as config.json's 'name'"
    try:
        validate_name(name)
    except ValueError:
        return False, f"invalid name {name!r}: lowercase letters, digits and '-', 1-64 characters"
    if name in ENTRIES or name in ALIASES or (embedded_dir() / name).exists():
        return False, f"{name!r} is a dlfs-zoo entry's name; a submission needs a name of its own"
    return PASSED


# ---------------------------------------------------------------------------------- the weights
def read_header(path: Path) -> dict[str, dict[str, Any]]:
    """The tensors a safetensors file declares (dtype, shape, byte range), checked against the file's size."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        (n,) = struct.unpack("<Q", head) if len(head) == 8 else (0,)
        body = f.read(n) if 2 <= n <= min(size - 8, 100 * 2**20) else b""
    pickled = (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")) or head[:2] == b"PK"
    if not body.startswith(b"{"):
        what = "a pickle (or torch.save zip) renamed" if pickled else "not a safetensors file"
        raise SubmissionError(f"model.safetensors is {what}; only safetensors weights are read (pickles can run code)")
    try:
        header = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SubmissionError("model.safetensors is not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise SubmissionError("model.safetensors is not a safetensors file (its header is not a JSON object)")
    header.pop("__metadata__", None)
    data = size - 8 - n
    for key, t in header.items():
        ok = isinstance(t, dict) and t.get("dtype") in DTYPES and isinstance(t.get("shape"), list)
        ok = ok and all(isinstance(d, int) and d >= 0 for d in t["shape"]) and isinstance(t.get("data_offsets"), list)
        if ok:
            begin, end = t["data_offsets"]
            ok = 0 <= begin <= end <= data and end - begin == math.prod(t["shape"]) * DTYPES[t["dtype"]]
        if not ok:
            raise SubmissionError(f"model.safetensors: the header's entry for {key!r} does not match the file's bytes")
    return header


def check_sha256(declared: str | None, actual: str) -> Verdict:
    """The config declares the weights' sha256, and it is the file's."""
    if not declared:
        return False, "config.json declares no weights_sha256; add the sha256 of model.safetensors"
    if declared != actual:
        return False, f"model.safetensors has sha256 {actual[:16]}..., config.json declares {declared[:16]}..."
    return PASSED


def build_on_meta(cls: type, config: dict[str, Any], header: dict[str, dict[str, Any]]) -> torch.nn.Module:
    """The config's model built on the meta device (no memory), stopped as soon as it outgrows the caps."""
    import torch

    kwargs = {k: v for k, v in config.items() if k not in META_KEYS}
    try:
        with torch.device("meta"), _budget(modules=4 * len(header) + 64):
            return cls(**kwargs)
    except _TooBig as e:
        why = f"config.json asks for {e}"
    except Exception as e:
        why = f"config.json does not build a {cls.__name__}: {e}"
    raise SubmissionError(why)


def check_tensors(model: torch.nn.Module, header: dict[str, dict[str, Any]]) -> Verdict:
    """The file holds exactly the tensors the config builds, each of its shape and kind (float or not)."""
    wanted = model.state_dict()
    missing, extra = sorted(wanted.keys() - header.keys()), sorted(header.keys() - wanted.keys())
    if missing or extra:
        return False, (
            f"model.safetensors does not hold the tensors config.json builds: "
            f"missing {missing[:5]}, unexpected {extra[:5]}"
        )
    for key, t in wanted.items():
        if list(t.shape) != header[key]["shape"]:
            return False, f"tensor {key}: the file says shape {header[key]['shape']}, the config builds {list(t.shape)}"
        if t.is_floating_point() != (header[key]["dtype"] in ("F64", "F32", "F16", "BF16")):
            return False, f"tensor {key}: stored as {header[key]['dtype']}, the model holds {t.dtype}"
    return PASSED


def load_strictly(folder: Path) -> torch.nn.Module:
    """The strict load the zoo does for its own checkpoints (config validated, hash checked, every tensor)."""
    try:
        return load_folder(folder)
    except Exception as e:
        why = f"the checkpoint does not load strictly: {e}"
    raise SubmissionError(why)


def check_finite(model: torch.nn.Module) -> Verdict:
    """No NaN or infinite weight."""
    import torch

    for key, t in model.state_dict().items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            return False, f"tensor {key} holds NaN or infinite values; weights must be finite numbers"
    return PASSED


class _TooBig(Exception):
    pass


_counting = threading.local()


def _count(kind: str, numel: int = 0) -> None:
    budget = getattr(_counting, "budget", None)
    if budget is None:
        return
    budget["modules"] -= kind == "module"
    budget["params"] -= numel
    if budget["modules"] < 0:
        raise _TooBig(f"more modules than the weights file has tensors ({budget['cap']:,} at most)")
    if budget["params"] < 0:
        raise _TooBig(f"more than {MAX_PARAMS:,} parameters (the cap)")


@contextlib.contextmanager
def _budget(modules: int) -> Iterator[None]:
    """Stop building a model (even on the meta device) as soon as it outgrows the caps: a config asking for
    a million layers fails in milliseconds instead of building them. Counts in this thread only."""
    from torch.nn.modules import module as nn_module

    _counting.budget = {"modules": modules, "params": MAX_PARAMS, "cap": modules}
    hooks = [
        nn_module.register_module_module_registration_hook(lambda m, n, sub: _count("module")),
        nn_module.register_module_parameter_registration_hook(
            lambda m, n, p: _count("param", p.numel() if p is not None else 0)
        ),
        nn_module.register_module_buffer_registration_hook(
            lambda m, n, b: _count("buffer", b.numel() if b is not None else 0)
        ),
    ]
    try:
        yield
    finally:
        _counting.budget = None
        for h in hooks:
            h.remove()


# ------------------------------------------------------------------------------------- the card
def check_card(path: Path) -> Verdict:
    """A model card with a license, valid YAML metadata, enough words on how it was trained, and nothing that the
    allow-list of ``zoo.submissions.cards`` would remove when it is shown: what the submitter wrote is what
    visitors see."""
    from huggingface_hub import ModelCard

    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        return False, (
            f"README.md is empty: a card needs a license and >= {MIN_CARD_TEXT} characters on how it was trained"
        )
    try:
        card = ModelCard(text, ignore_metadata_errors=False)
    except Exception as e:
        where = " ".join(str(e).split())[:200]
        return False, f"README.md's metadata block is not valid YAML: {where}"
    if not card.data.license:
        return False, "README.md declares no license; add `license:` (e.g. mit, apache-2.0) to its metadata"
    words = len(" ".join(card.text.split()))
    if words < MIN_CARD_TEXT:
        said = f"README.md says {words} characters about the model"
        return False, f"{said}; at least {MIN_CARD_TEXT} on how it was trained"
    from . import cards  # nh3 and markdown-it: only where a card is checked

    if why := cards.refusal(card.text):
        return False, why
    return PASSED


def check_card_numbers(path: Path) -> Verdict:
    """The card's model-index metrics are finite and within range, and every other number of its metadata is
    finite (what the leaderboard reads and serves as JSON)."""
    from huggingface_hub import ModelCard

    try:
        metadata = ModelCard(path.read_text(encoding="utf-8", errors="replace")).data.to_dict()
    except Exception:
        return False, "README.md's metadata block is not valid YAML; fix it so that its numbers can be read"
    passed, why = check_numbers({"model-index": metadata.pop("model-index", [])}, "README.md")
    return check_numbers(metadata, "README.md", limit=math.inf) if passed else (passed, why)


# ---------------------------------------------------------------------------------- the store's
def check_unique(requests: list[dict[str, Any]], name: str, sha256: str) -> Verdict:
    """Neither these weights nor this name were submitted before (a failed evaluation may be submitted again)."""
    for r in requests:
        if r["status"] == "failed":
            continue
        if r["sha256"] == sha256:
            return False, (
                f"these weights (sha256 {sha256[:12]}...) were already submitted as {r['model']!r} "
                f"({r['status']}); one evaluation per set of weights"
            )
        if r["model"] == name:
            return False, f"the name {name!r} is taken by another submission; choose another with --name"
    return PASSED
