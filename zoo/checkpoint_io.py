"""A checkpoint on disk: one folder of ``model.safetensors`` + ``config.json`` (architecture, ``__init__``
arguments, preprocessing, the weights' sha256) + ``README.md`` (the model card).

``load_folder`` validates the config, checks the hash and loads strictly; nothing is ever unpickled.
``save_checkpoint`` writes into a temporary folder and renames it into place, so a killed writer leaves the old
checkpoint or the new one, whole. The copies shipped in the package ("embedded") are in ``embedded_dir()``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .basics import CONFIG_NAME, WEIGHTS_NAME, sha256_file
from .catalog import ENTRIES, validate_name
from .config import read_config, strict_dumps, validate_config

if TYPE_CHECKING:
    from .models import PyTorchModel  # only the type: this module imports no torch (``python -m zoo leaderboard``)

CARD_NAME = "README.md"
CHECKPOINT_FILES = [WEIGHTS_NAME, CONFIG_NAME, CARD_NAME]
# a digits model's misses on the drawn set, beside its files (`python -m training misses NAME --into-checkpoint`)
MISSES_NAME = "misses.png"
# the run's curve beside its files: per-step loss, per-epoch records, the command (``training.curves`` writes it)
TRAINING_LOG_NAME = "training_log.json"
# that curve drawn, as the model card shows it (``training.curve_image`` draws it)
CURVE_IMAGE_NAME = "training_curve.png"


def embedded_dir() -> Path:
    """The checkpoints shipped inside the ``zoo`` package, in a checkout and in an installed wheel alike
    (``$DLFS_ZOO_HUB`` overrides)."""
    return Path(os.environ.get("DLFS_ZOO_HUB") or Path(__file__).resolve().parent / "checkpoints")


# --------------------------------------------------------------------------------------------- load
def load_folder(folder: str | os.PathLike, device: str | None = None) -> PyTorchModel:
    """Load a checkpoint folder: validate config, check sha256, strict safetensors load, eval mode."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such checkpoint folder")
    config = read_config(folder)
    cls = validate_config(config, str(folder / CONFIG_NAME))
    if not (folder / WEIGHTS_NAME).is_file():
        raise FileNotFoundError(f"{folder} has no {WEIGHTS_NAME}")
    return cls.from_pretrained(folder, map_location=device or "cpu")


# -------------------------------------------------------------------------------------------- write
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where the platform lacks it."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd = -100
    rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def replace_dir(tmp: Path, final: Path) -> None:
    """Put ``tmp`` at ``final`` in one step: a killed process leaves the old or the new folder, whole."""
    if final.exists():
        if _exchange(tmp, final):
            shutil.rmtree(tmp)
            return
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old)
    else:
        os.rename(tmp, final)


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Temp folders left by killed writers (their process is gone) are removed."""
    for tmp in folder.glob(f".{name}.tmp-*-*"):
        pid = tmp.name.split("-")[-2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def save_checkpoint(
    model: PyTorchModel,
    folder: str | os.PathLike,
    name: str,
    card: str | Callable[[Path], str],
    extra: dict[str, str | bytes] | None = None,
) -> Path:
    """Write ``folder/name/`` (weights, config with their sha256, card) atomically; returns the folder.

    ``card`` may be a function of the finished temporary folder (to report the weights' file size); ``extra``:
    more files by name, text or bytes (``training_log.json``, ``training_curve.png``), written into the same
    temporary folder."""
    validate_name(name)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(folder, name)
        tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}.tmp-{os.getpid()}-"))
    except OSError as e:
        raise OSError(f"cannot write checkpoints to {folder}: {e.strerror}") from e
    try:
        (tmp / CARD_NAME).write_text("", encoding="utf-8")  # so the mixin does not write its own
        model.save_pretrained(tmp)
        config = dict(model.config, name=name, task=ENTRIES[name].task if name in ENTRIES else model.task)
        config["weights_sha256"] = sha256_file(tmp / WEIGHTS_NAME)
        validate_config(config)
        (tmp / CONFIG_NAME).write_text(
            json.dumps(config, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
        )
        model.config = config
        (tmp / CARD_NAME).write_text(card(tmp) if callable(card) else card, encoding="utf-8")
        for extra_name, content in (extra or {}).items():
            if Path(extra_name).name != extra_name or extra_name in CHECKPOINT_FILES:
                raise ValueError(f"an extra file is named by a plain name other than {', '.join(CHECKPOINT_FILES)}")
            (tmp / extra_name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        for f in tmp.iterdir():
            os.chmod(f, 0o644)
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o755)
        replace_dir(tmp, folder / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / name


# ------------------------------------------------------------------------------------- the curve
def read_training_log(folder: str | os.PathLike) -> dict | None:
    """A checkpoint's ``training_log.json`` (its per-step loss in ``steps``: columns ``step``, ``epoch``, ``loss``
    of one length; its per-epoch records in ``epochs``), or None when it has none or the file is not one."""
    path = Path(folder) / TRAINING_LOG_NAME
    try:
        log = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return log if is_training_log(log) else None


def training_log_text(log: dict) -> str:
    """A training log as ``training_log.json`` holds it (``train``, ``migrate`` and ``evaluate --write`` all write
    it so): strict JSON, no NaN or infinity, on one line."""
    return strict_dumps(log) + "\n"


def is_training_log(log: Any) -> bool:
    """``log`` has a training log's shape: ``steps`` columns ``step``, ``epoch``, ``loss`` of one length, ``epochs``
    a list (what ``read_training_log`` and the submission gate both require)."""
    steps = log.get("steps") if isinstance(log, dict) else None
    if not isinstance(steps, dict) or not isinstance(log.get("epochs"), list):
        return False
    columns = [steps.get(k) for k in ("step", "epoch", "loss")]
    return all(isinstance(c, list) for c in columns) and len({len(c) for c in columns}) == 1
