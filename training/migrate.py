"""``python -m training migrate``: checkpoints written by an older dlfs-zoo brought up to date in place, weights
untouched: config keys renamed, the card re-rendered through today's template, and a training log (with its
picture) from the card's own per-epoch records where the checkpoint predates the logs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from zoo.basics import atomic_write_text
from zoo.catalog import ENTRIES
from zoo.checkpoint_io import CURVE_IMAGE_NAME, TRAINING_LOG_NAME, load_folder, read_training_log, training_log_text
from zoo.config import strict_dumps, validate_config
from zoo.models import CONFIG_NAME, migrate_config

from . import card as cards
from .cli import checkpoints_folder
from .curve_image import write_curve_image
from .curves import log_from_history

# the shipped checkpoints' folder before it moved into the zoo package (so that wheels carry it)
MOVED_OUT = ("--out hub", "--out zoo/checkpoints")


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring checkpoints written by an older dlfs-zoo up to date without touching their weights: config keys
    renamed per ``zoo.models.RENAMED_KEYS``, and the card re-rendered through today's template from the
    metrics and training record it already holds (nothing is recomputed or typed in)."""
    folder = checkpoints_folder(args.hub)
    for config_path in sorted(folder.glob(f"*/{CONFIG_NAME}")):
        checkpoint = config_path.parent
        raw = json.loads(config_path.read_text(encoding="utf-8"))
        migrated = migrate_config(raw)
        if migrated != raw:
            validate_config(migrated, str(config_path))
            atomic_write_text(config_path, strict_dumps(migrated, indent=2, sort_keys=True) + "\n")
            renamed = ", ".join(f"{a} -> {b}" for a, b in zip(raw, migrated, strict=True) if a != b)
            print(f"{config_path}: {renamed}")
        load_folder(checkpoint)  # the weights still verify under the config
        if checkpoint.name in ENTRIES and (checkpoint / "README.md").is_file():
            metrics, info = cards.read(checkpoint)
            info["command"] = info.get("command", "").replace(*MOVED_OUT)
            log = read_training_log(checkpoint) or _log_from_card(checkpoint, metrics, info)
            card = cards.render(checkpoint.name, metrics, info, curve=log)
            if card != (checkpoint / "README.md").read_text(encoding="utf-8"):
                atomic_write_text(checkpoint / "README.md", card)
                print(f"{checkpoint / 'README.md'}: re-rendered")
            if log is not None and write_curve_image(checkpoint, log):
                print(f"{checkpoint / CURVE_IMAGE_NAME}: drawn")
    return 0


def _log_from_card(checkpoint: Path, metrics: dict[str, float], info: dict[str, Any]) -> dict[str, Any] | None:
    """A training_log.json written from the per-epoch records of a card that predates the logs (when it has two
    or more); None when it has not."""
    log = log_from_history(
        info.get("history") or [],
        name=checkpoint.name,
        parent=info.get("parent"),
        command=info.get("command", ""),
        seed=info.get("seed"),
        epochs_asked=info.get("epochs"),
        batch_size=info.get("batch_size"),
        lr=info.get("lr"),
        overrides=info.get("overrides", {}),
        train_seconds=info.get("train_seconds"),
        device=info.get("device"),
        metrics=metrics,
    )
    if log is not None:
        atomic_write_text(checkpoint / TRAINING_LOG_NAME, training_log_text(log))
        print(f"{checkpoint / TRAINING_LOG_NAME}: written from the card's per-epoch records")
    return log


def add_migrate_parser(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("migrate", help="update old configs and cards in place (weights untouched)")
    m.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    m.set_defaults(func=cmd_migrate)
