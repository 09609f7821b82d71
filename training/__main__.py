"""``python -m training`` (``dlfs-train``): train, evaluate and push the zoo's checkpoints."""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

from zoo import hub as zhub
from zoo.catalog import ENTRIES, UnknownModelError
from zoo.models import WEIGHTS_NAME, sha256_file

from . import card as cards
from .cli import CLIError, checkpoints_folder, model_names
from .evaluate import cpu_latency_ms, evaluate_model
from .push import add_push_parser
from .recipes import TRAINERS, Options
from .trainer import pick_device, seed_everything

# a card's metric may differ from a recomputation by this much (float sums differ across CPUs/BLAS)
VERIFY_RTOL, VERIFY_ATOL = 1e-3, 1e-5


def best_digits(folders: list[Path]) -> zhub.PyTorchModel | None:
    """The digits checkpoint with the highest card accuracy in the first folder that has one."""
    for folder in folders:
        best, best_acc = None, -1.0
        for name, e in ENTRIES.items():
            if e.task == "digits" and (folder / name / "README.md").is_file():
                acc = cards.read(folder / name)[0].get("accuracy", -1.0)
                if acc > best_acc:
                    best, best_acc = name, acc
        if best:
            return zhub.load_folder(folder / best)
    return None


def _command(name: str, o: Options, out: Path) -> str:
    parts = ["python -m training train", name, f"--epochs {o.epochs}", f"--batch-size {o.batch_size}"]
    parts += [f"--lr {o.lr:g}", f"--seed {o.seed}"]
    if o.stride:
        parts.append(f"--stride {o.stride}")
    if o.text:
        parts.append(f"--text {o.text}")
    if o.train_limit:
        parts.append(f"--train-limit {o.train_limit}")
    return " ".join(parts + [f"--out {out}"])


def train_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    entry = ENTRIES[name]
    recipe = entry.recipe
    o = Options(
        epochs=recipe.epochs if args.epochs is None else args.epochs,
        batch_size=recipe.batch_size if args.batch_size is None else args.batch_size,
        lr=args.lr if args.lr is not None else recipe.lr,
        seed=recipe.seed if args.seed is None else args.seed,
        stride=args.stride or recipe.stride,
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
    out = Path(args.out)
    print(f"== {name}: {o.epochs} epoch(s), batch {o.batch_size}, lr {o.lr:g}, seed {o.seed}", flush=True)
    seed_everything(o.seed)
    start = time.perf_counter()
    model, history = TRAINERS[recipe.trainer](entry, o)
    seconds = time.perf_counter() - start
    model.eval()
    classifier = best_digits([out, zhub.embedded_dir()]) if model.task == "latent" else None
    metrics = evaluate_model(model.cpu(), classifier=classifier, text_file=o.text)
    info = {
        "command": _command(name, o, out),
        "seed": o.seed,
        "epochs": o.epochs,
        "batch_size": o.batch_size,
        "lr": o.lr,
        "train_seconds": round(seconds, 1),
        "device": str(pick_device(o.device)),
        "torch": str(torch.__version__),
        "python": platform.python_version(),
        "num_params": model.num_params(),
        "cpu_latency_ms": round(cpu_latency_ms(model), 3),
        "book": entry.book,
        "notes": list(recipe.notes),
        "history": [_rounded(h) for h in history if "test_loss" in h],
    }
    if classifier is not None:
        info["sample_classifier"] = classifier.config["name"]

    def card(tmp: Path) -> str:
        info["file_size"] = (tmp / WEIGHTS_NAME).stat().st_size
        info["evaluated_sha256"] = sha256_file(tmp / WEIGHTS_NAME)
        return cards.render(name, metrics, info)

    folder = zhub.save_checkpoint(model, out, name, card)
    print(f"   {folder}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) + f" ({seconds:.0f} s)")
    return {"name": name, "task": model.task, "metrics": metrics, "train_seconds": seconds}


def _rounded(record: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 5) if isinstance(v, float) else v for k, v in record.items()}


def cmd_train(args: argparse.Namespace) -> int:
    names = model_names(args.names, args.all)
    if args.text and any(ENTRIES[n].task != "text" for n in names):
        raise CLIError("--text applies to the text models only (char-*)")
    if args.text and not Path(args.text).is_file():
        raise CLIError(f"--text {args.text}: no such file")
    start = time.perf_counter()
    results = [train_one(n, args) for n in names]
    print(f"trained {len(results)} model(s) in {time.perf_counter() - start:.0f} s")
    return 0


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= VERIFY_ATOL + VERIFY_RTOL * abs(b)


def cmd_evaluate(args: argparse.Namespace) -> int:
    hub_dir = checkpoints_folder(args.hub)
    names = [n for n in model_names(args.names, args.all) if args.names or (hub_dir / n).is_dir()]
    rows, failures = [], []
    classifier = None
    for name in sorted(names, key=lambda n: ENTRIES[n].task != "digits"):  # digits first: latent needs one
        folder = hub_dir / name
        model = zhub.load_folder(folder)
        if model.task == "latent" and classifier is None:
            classifier = best_digits([hub_dir])
        metrics = evaluate_model(model, classifier=classifier, text_file=args.text)
        claimed, info = cards.read(folder)
        row = {"name": name, "task": model.task, "metrics": metrics}
        if args.verify:
            bad = {k: (claimed.get(k), v) for k, v in metrics.items() if k not in claimed or not _close(v, claimed[k])}
            row["verified"] = not bad
            if bad:
                diffs = (f"{k} card {c} != recomputed {v:.6g}" for k, (c, v) in bad.items())
                failures.append(f"{name}: " + ", ".join(diffs))
        if args.write:
            info["evaluated_sha256"] = sha256_file(folder / WEIGHTS_NAME)
            zhub.atomic_write_text(folder / "README.md", cards.render(name, metrics, info))
        rows.append(row)
        if not args.json:
            status = "" if not args.verify else ("  verified" if row["verified"] else "  MISMATCH")
            print(f"{name:28s} {model.task:7s} " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()) + status)
    if args.json:
        print(json.dumps(rows, indent=2))
    if failures:
        print("cards disagree with the recomputed metrics:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


# the shipped checkpoints' folder before it moved into the zoo package (so that wheels carry it)
MOVED_OUT = ("--out hub", "--out zoo/checkpoints")


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring checkpoints written by an older dlfs-zoo up to date without touching their weights: config keys
    renamed per ``zoo.models.RENAMED_KEYS``, and the card re-rendered through today's template from the
    metrics and training record it already holds (nothing is recomputed or typed in)."""
    folder = checkpoints_folder(args.hub)
    for config_path in sorted(folder.glob(f"*/{zhub.CONFIG_NAME}")):
        checkpoint = config_path.parent
        raw = json.loads(config_path.read_text(encoding="utf-8"))
        migrated = zhub.migrate_config(raw)
        if migrated != raw:
            zhub.validate_config(migrated, str(config_path))
            zhub.atomic_write_text(config_path, json.dumps(migrated, indent=2, sort_keys=True) + "\n")
            renamed = ", ".join(f"{a} -> {b}" for a, b in zip(raw, migrated, strict=True) if a != b)
            print(f"{config_path}: {renamed}")
        zhub.load_folder(checkpoint)  # the weights still verify under the config
        if checkpoint.name in ENTRIES and (checkpoint / "README.md").is_file():
            metrics, info = cards.read(checkpoint)
            info["command"] = info.get("command", "").replace(*MOVED_OUT)
            card = cards.render(checkpoint.name, metrics, info)
            if card != (checkpoint / "README.md").read_text(encoding="utf-8"):
                zhub.atomic_write_text(checkpoint / "README.md", card)
                print(f"{checkpoint / 'README.md'}: re-rendered")
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from .figures import write_figures

    for path in write_figures(checkpoints_folder(args.hub), Path(args.out)):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train models with the book's (or the variant's) recipe")
    t.add_argument("names", nargs="*", metavar="NAME", help=f"one of: all, {', '.join(ENTRIES)}")
    t.add_argument("--all", action="store_true")
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int, help="random seed (default: the recipe's, 0 for most models)")
    t.add_argument("--stride", type=int, help="text: characters between training windows")
    t.add_argument("--text", help="text: train on this UTF-8 file instead of Shakespeare")
    t.add_argument("--out", default="runs", help="folder for the checkpoints (default: runs)")
    t.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda when available)")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.add_argument("--train-limit", type=int, metavar="N", help="digits: train on the first N images (smoke runs)")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="recompute metrics on the real held-out data")
    e.add_argument("names", nargs="*", metavar="NAME")
    e.add_argument("--all", action="store_true")
    e.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    e.add_argument("--json", action="store_true")
    e.add_argument("--write", action="store_true", help="rewrite the cards' metrics with the recomputed ones")
    e.add_argument("--verify", action="store_true", help="exit 1 when a card's metric differs")
    e.add_argument("--text", help="the text file the text models were trained on")
    e.set_defaults(func=cmd_evaluate)

    m = sub.add_parser("migrate", help="update old configs and cards in place (weights untouched)")
    m.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    m.set_defaults(func=cmd_migrate)

    f = sub.add_parser("figures", help="the chapter's figures 7-3/7-4/7-5 and the app's MNIST sample")
    f.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    f.add_argument("--out", default="demos/assets/figures")
    f.set_defaults(func=cmd_figures)

    add_push_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, UnknownModelError, zhub.ConfigError, FileNotFoundError, PermissionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
