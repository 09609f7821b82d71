"""Where checkpoints come from and how they are written: the copies shipped in the package
(``zoo/checkpoints/``, "embedded"), a folder, or the Hugging Face Hub.

A checkpoint is a folder: ``model.safetensors`` + ``config.json`` (architecture, ``__init__`` arguments,
preprocessing, the weights' sha256) + ``README.md`` (the model card). Loading validates the config,
checks the hash and loads strictly; nothing is ever unpickled.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .catalog import ENTRIES, UnknownModelError, canonical, entry, validate_name
from .models import ARCHITECTURES, CONFIG_NAME, WEIGHTS_NAME, PyTorchModel, migrate_config, sha256_file

DEFAULT_NAMESPACE = "dlfs-zoo"
META_KEYS = {"architecture": str, "name": str, "task": str, "weights_sha256": str}
HUB_FILES = [WEIGHTS_NAME, CONFIG_NAME, "README.md"]
SOURCES = ("auto", "embedded", "hf")


class HubUnavailableError(RuntimeError):
    """The model is neither local nor obtainable from the Hub; the message says why."""


class ConfigError(ValueError):
    """``config.json`` is missing, unreadable, or does not describe a zoo architecture."""


def embedded_dir() -> Path:
    """The checkpoints shipped inside the ``zoo`` package, in a checkout and in an installed wheel alike
    (``$DLFS_ZOO_HUB`` overrides)."""
    return Path(os.environ.get("DLFS_ZOO_HUB") or Path(__file__).resolve().parent / "checkpoints")


def resolve_namespace(value: str | None = None) -> str:
    return value or os.environ.get("DLFS_ZOO_NAMESPACE") or DEFAULT_NAMESPACE


def list_models(source: str = "catalog") -> list[str]:
    """Names the zoo knows (``catalog``) or holds in the embedded hub (``embedded``)."""
    if source == "embedded":
        folder = embedded_dir()
        return sorted(p.name for p in folder.iterdir() if (p / CONFIG_NAME).is_file()) if folder.is_dir() else []
    if source != "catalog":
        raise ValueError(f"source must be 'catalog' or 'embedded', got {source!r}")
    return list(ENTRIES)


# ------------------------------------------------------------------------------------------- config
def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if annotation is typing.Any:
        return True
    base = origin or annotation
    if base is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if base is list:
        args = typing.get_args(annotation)
        return isinstance(value, list) and (not args or all(_type_ok(v, args[0]) for v in value))
    return isinstance(value, base)


def validate_config(config: Any, where: str = "config.json") -> type[PyTorchModel]:
    """Check a config against its architecture's ``__init__``; returns the class. Errors name the key."""
    if not isinstance(config, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(config).__name__}")
    arch = config.get("architecture")
    if arch is None:
        raise ConfigError(f"{where}: missing key 'architecture' (one of {', '.join(ARCHITECTURES)})")
    if arch not in ARCHITECTURES:
        raise ConfigError(f"{where}: unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    cls = ARCHITECTURES[arch]
    hints = typing.get_type_hints(cls.__init__)
    params = {k: v for k, v in cls._hub_mixin_init_parameters.items() if k != "self"}
    for key, value in config.items():
        if key in META_KEYS:
            if not isinstance(value, META_KEYS[key]):
                raise ConfigError(f"{where}: key {key!r} must be a {META_KEYS[key].__name__}, got {value!r}")
        elif key not in params:
            raise ConfigError(f"{where}: unknown key {key!r} for {arch}; allowed: {', '.join(params)}")
        elif key in hints and not _type_ok(value, hints[key]):
            raise ConfigError(f"{where}: key {key!r} must be {hints[key]}, got {value!r}")
    for key, p in params.items():
        if p.default is p.empty and key not in config:
            raise ConfigError(f"{where}: missing key {key!r} required by {arch}")
    return cls


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise ConfigError(f"{folder} is not a checkpoint: it has no {CONFIG_NAME}")
    try:
        return migrate_config(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from e


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


def hf_snapshot(name: str, *, revision: str | None = None, ns: str | None = None, **kwargs: Any) -> Path:
    """Download (or find in the HF cache) a zoo model's files; honours HF_ENDPOINT/HF_HOME/HF_HUB_OFFLINE."""
    from huggingface_hub import snapshot_download

    repo_id = f"{resolve_namespace(ns)}/{validate_name(name)}"
    return Path(snapshot_download(repo_id, revision=revision, allow_patterns=HUB_FILES, **kwargs))


def hub_error(e: BaseException, what: str) -> str:
    """A readable sentence for the ways talking to the Hub fails."""
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    if isinstance(e, LocalEntryNotFoundError):
        cache = os.environ.get("HF_HOME", "~/.cache/huggingface")
        unreachable = f"the Hub at {endpoint} cannot be asked (offline mode or no connection)"
        return f"{what}: not in the HF cache ({cache}) and {unreachable}: {e}"
    if isinstance(e, HfHubHTTPError) and e.response is not None:
        code = e.response.status_code
        if code == 401:
            return f"{what}: the Hub at {endpoint} refused the token (401); set HF_TOKEN or run `hf auth login`"
        if code == 403:
            return f"{what}: the token may not write there (403); check the namespace and the token's rights"
        if code == 404:
            return f"{what}: not found on {endpoint} (404); check the namespace, name and revision"
        if code >= 500:
            return f"{what}: the Hub at {endpoint} failed ({code}); nothing was changed locally, try again later"
        return f"{what}: the Hub answered {code}: {e}"
    return f"{what}: cannot reach the Hub at {endpoint} ({type(e).__name__}: {e}); check the network or HF_ENDPOINT"


def load(
    name_or_path: str | os.PathLike,
    *,
    source: str = "auto",
    revision: str | None = None,
    namespace: str | None = None,
    device: str | None = None,
) -> PyTorchModel:
    """A zoo model in eval mode, with ``.config`` = its ``config.json``.

    ``source="auto"``: an existing folder, else the embedded copy, else a finished submission of that name
    (``python -m zoo submit``), else the HF Hub (cache first).
    ``"embedded"`` / ``"hf"`` force one source; any other value is taken as a folder to load from.
    """
    target = os.fspath(name_or_path)
    if source not in SOURCES:  # a folder of checkpoints, or one checkpoint folder
        inside = Path(source) / validate_name(target) if target else Path(source)
        return load_folder(inside if inside.is_dir() else source, device)
    if source == "auto" and Path(target).is_dir():
        return load_folder(target, device)
    if source == "auto" and (submitted := submitted_folder(target)) is not None:
        return load_folder(submitted, device)
    name = canonical(target) if source == "hf" else entry_or_embedded(target)
    local = embedded_dir() / name
    if source == "embedded" or (source == "auto" and (local / CONFIG_NAME).is_file()):
        if not local.is_dir():
            raise FileNotFoundError(f"{name} is not among the shipped checkpoints in {embedded_dir()}")
        return load_folder(local, device)
    try:
        folder = None
        if source == "auto":  # cache first: no network when the files are already here
            try:
                folder = hf_snapshot(name, revision=revision, ns=namespace, local_files_only=True)
            except Exception:  # not cached (LocalEntryNotFoundError and kin): ask the Hub below
                folder = None
        folder = folder or hf_snapshot(name, revision=revision, ns=namespace)
    except Exception as e:
        raise HubUnavailableError(hub_error(e, f"load {resolve_namespace(namespace)}/{name}")) from e
    return load_folder(folder, device)


def submitted_folder(name: str) -> Path | None:
    """A finished submission's files (``zoo.submissions``) when ``name`` is neither an entry nor shipped."""
    from .submissions import Store

    try:
        name = canonical(name)
    except ValueError:
        return None
    if name in ENTRIES or (embedded_dir() / name / CONFIG_NAME).is_file():
        return None
    return Store().model_folder(name)


def entry_or_embedded(name: str) -> str:
    """A catalog name (or an old name of one), or a shipped checkpoint folder; else an error listing the names."""
    name = canonical(name)
    if name in ENTRIES or (embedded_dir() / name / CONFIG_NAME).is_file():
        return name
    entry(name)  # raises UnknownModelError with the list of valid names
    raise UnknownModelError(name)


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


def atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it owner-only; a checkpoint's files are for every reader
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    model: PyTorchModel, folder: str | os.PathLike, name: str, card: str | Callable[[Path], str]
) -> Path:
    """Write ``folder/name/`` (weights, config with their sha256, card) atomically; returns the folder.

    ``card`` may be a function of the finished temporary folder (to report the weights' file size)."""
    validate_name(name)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(folder, name)
        tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}.tmp-{os.getpid()}-"))
    except OSError as e:
        raise OSError(f"cannot write checkpoints to {folder}: {e.strerror}") from e
    try:
        (tmp / "README.md").write_text("", encoding="utf-8")  # so the mixin does not write its own
        model.save_pretrained(tmp)
        config = dict(model.config, name=name, task=ENTRIES[name].task if name in ENTRIES else model.task)
        config["weights_sha256"] = sha256_file(tmp / WEIGHTS_NAME)
        validate_config(config)
        (tmp / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        model.config = config
        (tmp / "README.md").write_text(card(tmp) if callable(card) else card, encoding="utf-8")
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
