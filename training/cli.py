"""What every ``python -m training`` command shares: the one-line user error and reading model names.

Its own module so that ``push`` and ``__main__`` import it rather than each other (under ``python -m
training`` a module imported back from ``__main__`` is loaded twice, and its errors escape as tracebacks).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from zoo.catalog import ENTRIES, Entry, canonical
from zoo.checkpoint_io import embedded_dir

from .distributed import world
from .recipes import Options


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


def run_command(entry: Entry, o: Options, out: Path, arch_args: list[str] | None = None) -> str:
    size = world().size
    launcher = "python" if size == 1 else f"torchrun --nproc-per-node {size}"
    recipe = entry.name if entry.name in ENTRIES else f"{entry.parent} --name {entry.name}"
    parts = [f"{launcher} -m training train", recipe, f"--epochs {o.epochs}", f"--batch-size {o.batch_size}"]
    parts += [f"--lr {o.lr:g}", f"--seed {o.seed}"]
    if o.stride:
        parts.append(f"--stride {o.stride}")
    if o.text:
        parts.append(f"--text {o.text}")
    if o.train_limit:
        parts.append(f"--train-limit {o.train_limit}")
    parts += [f"--arch {k}={v}" for k, v in arch_overrides(entry, arch_args).items()]
    if o.device:
        parts.append(f"--device {o.device.split(':')[0]}")
    return " ".join(parts + [f"--out {out}"])


def run_options(recipe, args: argparse.Namespace, seed: int) -> Options:
    o = Options(
        epochs=recipe.epochs if args.epochs is None else args.epochs,
        batch_size=recipe.batch_size if args.batch_size is None else args.batch_size,
        lr=args.lr if args.lr is not None else recipe.lr,
        seed=seed,
        stride=args.stride or recipe.stride,
        all_plays=recipe.all_plays,
        cpu_bfloat16=recipe.cpu_bfloat16,
        text=args.text,
        device=args.device,
        progress=not args.quiet,
        train_limit=args.train_limit,
    )
    for k in ("epochs", "batch_size", "train_limit"):
        if getattr(o, k) is not None and getattr(o, k) < 1:
            raise CLIError(f"--{k.replace('_', '-')} must be >= 1, got {getattr(o, k)}")
    if not (o.lr >= 0 and math.isfinite(o.lr)):
        raise CLIError(f"--lr must be a finite number >= 0, got {o.lr}")
    return o


def arch_overrides(entry: Entry, pairs: list[str] | None) -> dict[str, int | float]:
    """``--arch KEY=VALUE`` pairs read against the entry's declared architecture: a number it declares, of the
    same kind (a whole number for a whole number), positive, and a probability for keep/drop probabilities."""
    out: dict[str, int | float] = {}
    for pair in pairs or []:
        key, _, text = pair.partition("=")
        declared = entry.kwargs.get(key)
        if isinstance(declared, bool) or not isinstance(declared, int | float):
            numbers = ", ".join(k for k, v in entry.kwargs.items() if type(v) in (int, float))
            raise CLIError(f"--arch {pair}: {entry.name} declares no number {key!r}; its numbers: {numbers or 'none'}")
        try:
            value = int(text) if isinstance(declared, int) else float(text)
        except ValueError:
            kind = "a whole number" if isinstance(declared, int) else "a number"
            raise CLIError(f"--arch {pair}: {key} takes {kind}") from None
        if key.endswith("_prob") and not 0 <= value <= 1 or not key.endswith("_prob") and not value > 0:
            allowed = "between 0 and 1" if key.endswith("_prob") else "above 0"
            raise CLIError(f"--arch {pair}: {key} must be {allowed}")
        out[key] = value
    return out
