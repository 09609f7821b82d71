"""What every ``python -m training`` command shares: the one-line user error and reading model names.

Its own module so that ``push`` and ``__main__`` import it rather than each other (under ``python -m
training`` a module imported back from ``__main__`` is loaded twice, and its errors escape as tracebacks).
"""

from __future__ import annotations

from pathlib import Path

from zoo.catalog import ENTRIES, canonical
from zoo.checkpoint_io import embedded_dir


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def model_names(names: list[str], all_flag: bool) -> list[str]:
    """The entries a command acts on: ``--all`` / ``all``, or the names given (old names map to new ones)."""
    if all_flag or names == ["all"]:
        return list(ENTRIES)
    if not names:
        raise CLIError("name at least one model, or use --all")
    out = []
    for n in names:
        try:
            n = canonical(n)
        except ValueError as e:
            raise CLIError(str(e)) from None
        if n not in ENTRIES:
            raise CLIError(f"unknown model {n!r}; known models: {', '.join(ENTRIES)}")
        out.append(n)
    return out


def checkpoints_folder(arg: str | None) -> Path:
    """``--hub DIR`` when given, else the checkpoints shipped inside the ``zoo`` package."""
    folder = Path(arg) if arg else embedded_dir()
    if not folder.is_dir():
        raise CLIError(f"--hub {folder}: no such folder")
    return folder
