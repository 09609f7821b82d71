"""Which checkpoint a name means: ``zoo.load``.

A name is resolved, in this order, as an existing folder, a copy shipped in the package (``zoo/checkpoints/``,
"embedded"), a finished submission of that name (``python -m zoo submit``), or a repo on the HF Hub (the HF
cache first). ``source=`` forces one of them, or names a folder of checkpoints to load from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import hub
from .basics import CONFIG_NAME
from .catalog import ENTRIES, UnknownModelError, canonical, entry, validate_name
from .checkpoint_io import embedded_dir, load_folder
from .submissions.store import Store

if TYPE_CHECKING:
    from .models import PyTorchModel  # the architectures (torch) are imported by ``load_folder``, when a model loads

SOURCES = ("auto", "embedded", "hf")


def list_models(source: str = "catalog") -> list[str]:
    """Names the zoo knows (``catalog``) or holds in the embedded hub (``embedded``)."""
    if source == "embedded":
        folder = embedded_dir()
        return sorted(p.name for p in folder.iterdir() if (p / CONFIG_NAME).is_file()) if folder.is_dir() else []
    if source != "catalog":
        raise ValueError(f"source must be 'catalog' or 'embedded', got {source!r}")
    return list(ENTRIES)


def submitted_folder(name: str) -> Path | None:
    """A finished submission's files (``zoo.submissions``) when ``name`` is neither an entry nor shipped."""
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
    folder = hub.download(name, revision=revision, ns=namespace, cache_first=source == "auto")
    return load_folder(folder, device)
