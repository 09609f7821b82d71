"""``python -m training`` (``dlfs-train``): train, evaluate and push the zoo's checkpoints."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

from zoo.basics import atomic_write_text, cpu_model
from zoo.catalog import ENTRIES, TASKS, Entry, UnknownModelError, variant
from zoo.checkpoint_io import (
    CURVE_IMAGE_NAME,
    TRAINING_LOG_NAME,
    embedded_dir,
    load_folder,
    read_training_log,
    save_checkpoint,
    training_log_text,
)
from zoo.config import ConfigError, first_non_finite, show_number, strict_dumps
from zoo.models import CONFIG_NAME, WEIGHTS_NAME, PyTorchModel, sha256_file

from . import card as cards
from . import tasks
from .answers import add_answers_parser, sketched_answers
from .cli import CLIError, arch_overrides, checkpoints_folder, model_names, run_command, run_options
from .curve_image import curve_png, title, write_curve_image
from .curves import Curve, ProgressFile
from .distributed import check, join, leave, world
from .migrate import add_migrate_parser
from .misses import add_misses_parser
from .notes import narrative
from .push import add_push_parser
from .tasks import TRAINERS, Options, cpu_latency_ms, evaluate_model
from .trainer import pick_device, seed_everything, uses_bf16

# what a variant may change of its parent's recipe (``--arch KEY=VALUE`` also its architecture's numbers)
OVERRIDABLE = ("epochs", "batch_size", "lr", "seed", "stride", "train_limit")
# a card's metric may differ from a recomputation by this much (float sums differ across CPUs/BLAS)
VERIFY_RTOL, VERIFY_ATOL = 1e-3, 1e-5
JUDGE = "mnist-cnn-modern"  # scores the latent models' samples; fixed, so a new digits entry changes no score


def judge(folders: list[Path], name: str | None = None) -> PyTorchModel | None:
    """The digits model that scores a latent model's random samples: ``name`` (a card's
    ``sample_classifier``) when given, else the shipped book-independent default, from the first folder that
    has it; else the most accurate digits checkpoint with penultimate features in the first folder that has
    one."""
    wanted = name or JUDGE
    for folder in folders:
        if (folder / wanted / CONFIG_NAME).is_file():
            return load_folder(folder / wanted)
    if name:
        return None
    for folder in folders:
        ranked = sorted(
            (n for n, e in ENTRIES.items() if tasks.get(e.task).reads_digits and (folder / n / "README.md").is_file()),
            key=lambda n: -cards.read(folder / n)[0].get("accuracy", -1.0),
        )
        for candidate in ranked:
            model = load_folder(folder / candidate)
            if hasattr(model, "penultimate"):  # the Frechet distance is taken in its features
                return model
    return None


def _fit(entry: Entry, o: Options):
    if world().main:
        print(f"== {entry.name}: {o.epochs} epoch(s), batch {o.batch_size}, lr {o.lr:g}, seed {o.seed}", flush=True)
    seed_everything(o.seed)
    start = time.perf_counter()
    model, history = TRAINERS[entry.recipe.trainer](entry, o)
    return model.eval(), history, time.perf_counter() - start


def _stored_precision(model, dtype: str):
    """The model with its weights rounded to the precision its checkpoint stores them in (the card's metrics
    are those of the file: loading widens the stored values back to float32 exactly)."""
    if dtype != "float32":
        with torch.no_grad():
            for t in [*model.parameters(), *model.buffers()]:
                if t.is_floating_point():
                    t.copy_(t.to(getattr(torch, dtype)))
    return model


def train_one(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Train the recipe with its seed (or ``--seed``), evaluate and write the checkpoint. A recipe that
    declares several seeds also trains the next ones and records each one's metrics and their spread in
    the card; the checkpoint is always the declared seed's. ``--name``: a variant of the recipe under a new
    name, its card recording the parent recipe and what was overridden."""
    entry = variant(name, args.name) if getattr(args, "name", None) else ENTRIES[name]
    arch = arch_overrides(entry, getattr(args, "arch", None))
    entry = dataclasses.replace(entry, kwargs={**entry.kwargs, **arch}) if arch else entry
    name = entry.name
    recipe = entry.recipe
    seed = recipe.seed if args.seed is None else args.seed
    seeds = args.seeds or (recipe.seeds if args.seed is None else 1)
    if seeds < 1:
        raise CLIError(f"--seeds must be >= 1, got {seeds}")
    o = run_options(recipe, args, seed)
    out = Path(args.out)
    listener = ProgressFile(args.progress_file) if getattr(args, "progress_file", None) and world().main else None
    o.curve = curve = Curve(listener)
    curve.tell("start", name=name, parent=entry.parent, epochs=o.epochs, batch_size=o.batch_size, lr=o.lr, seed=o.seed)
    model, history, seconds = _fit(entry, o)
    w = world()
    if not w.main:  # torchrun: the other processes train alongside rank 0, which alone scores and writes
        for extra in range(o.seed + 1, o.seed + seeds):
            _fit(entry, run_options(recipe, args, extra))
        return {"name": name}
    model = _stored_precision(model.cpu(), recipe.weights_dtype)
    curve.tell("evaluating", train_seconds=seconds)
    classifier = judge([out, embedded_dir()]) if tasks.get(model.task).needs_judge else None
    ev = evaluate_model(model, classifier=classifier, text_file=o.text, robustness=not args.skip_robustness)
    device = pick_device(o.device)
    info = {
        "command": run_command(entry, o, out, getattr(args, "arch", None)),
        "seed": o.seed,
        "epochs": o.epochs,
        "batch_size": o.batch_size,
        "lr": o.lr,
        "train_seconds": round(seconds, 1),
        "device": str(device),
        **({"gpu": torch.cuda.get_device_name(device)} if device.type == "cuda" else {"cpu": cpu_model()}),
        "precision": "bf16 autocast" if _in_bf16(recipe, device, o) else "float32",
        "world_size": w.size,
        "torch": str(torch.__version__),
        "python": platform.python_version(),
        "num_params": model.num_params(),
        "cpu_latency_ms": round(cpu_latency_ms(model), 3),
        "book": entry.book,
        "notes": narrative(entry.name if entry.name in ENTRIES else entry.parent) + list(recipe.notes),
        "history": [_rounded(h) for h in history if "test_loss" in h or h is history[-1]],
        "intervals": ev.intervals(),
    }
    if classifier is not None:
        info["sample_classifier"] = classifier.config["name"]
    if ev.benchmarks:  # which version of each generated set the numbers were measured on
        info["benchmarks"] = ev.benchmarks
    if entry.name not in ENTRIES:
        info["parent"] = entry.parent
        info["overrides"] = {k: getattr(o, k) for k in OVERRIDABLE if getattr(args, k, None) is not None} | arch
    if seeds > 1:
        runs = [{"seed": o.seed, "metrics": ev.metrics}]
        for extra in range(o.seed + 1, o.seed + seeds):
            other, _, _ = _fit(entry, run_options(recipe, args, extra))
            scored = evaluate_model(other.cpu(), classifier=classifier, robustness=not args.skip_robustness)
            runs.append({"seed": extra, "metrics": scored.metrics})
        info["seed_runs"] = [{"seed": r["seed"], "metrics": _rounded(r["metrics"], 6)} for r in runs]
        info["seed_summary"] = {
            k: {"mean": round(statistics.fmean(v), 6), "std": round(statistics.stdev(v), 6)}
            for k in ev.metrics
            if len(v := [r["metrics"][k] for r in runs]) > 1
        }

    stored = (
        model if recipe.weights_dtype == "float32" else copy.deepcopy(model).to(getattr(torch, recipe.weights_dtype))
    )
    log = curve.log(
        name=name,
        parent=entry.parent,
        command=info["command"],
        seed=o.seed,
        epochs_asked=o.epochs,
        batch_size=o.batch_size,
        lr=o.lr,
        overrides=info.get("overrides", {}),
        train_seconds=seconds,
        device=str(device),
        metrics=ev.metrics,
    )

    def card(tmp: Path) -> str:
        info["file_size"] = (tmp / WEIGHTS_NAME).stat().st_size
        info["evaluated_sha256"] = sha256_file(tmp / WEIGHTS_NAME)
        return cards.render(name, ev.metrics, info, curve=log)

    extra = {TRAINING_LOG_NAME: training_log_text(log), CURVE_IMAGE_NAME: curve_png(log, title(name))}
    folder = save_checkpoint(stored, out, name, card, extra=extra)
    curve.tell("done", folder=str(folder), metrics=ev.metrics, train_seconds=seconds, command=info["command"])
    shown = {k: v for k, v in ev.metrics.items() if k in TASKS[model.task].metrics}
    print(f"   {folder}: " + ", ".join(f"{k} {v:.4f}" for k, v in shown.items()) + f" ({seconds:.0f} s)")
    return {"name": name, "task": model.task, "metrics": ev.metrics, "train_seconds": seconds}


def _in_bf16(recipe, device: torch.device, o: Options) -> bool:
    """Whether the run trained under bf16 autocast: through the trainer (a GPU, or ``cpu_bfloat16`` where it
    measured faster) or, for the GANs, through their own loop's ``extra["autocast"]``, which is unconditional."""
    return uses_bf16(device, o.cpu_bfloat16) or recipe.extra.get("autocast") == "bfloat16"


def _rounded(record: dict[str, Any], digits: int = 5) -> dict[str, Any]:
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in record.items()}


def _check_device(device: str | None) -> None:
    """--device names a device this machine has (cpu, cuda, cuda:N)."""
    if device is None:
        return
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise CLIError(f"--device {device}: not a device; use cpu, cuda or cuda:N") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise CLIError(f"--device {device}: this machine has no CUDA device; leave --device out or use cpu")
    if kind not in ("cpu", "cuda"):
        raise CLIError(f"--device {device}: dlfs-zoo trains on cpu or cuda")


def cmd_train(args: argparse.Namespace) -> int:
    names = model_names(args.names, args.all)
    if args.name:
        if len(names) != 1:
            raise CLIError(f"--name makes a variant of one recipe; got {len(names)} ({', '.join(names)})")
        try:
            arch_overrides(variant(names[0], args.name), args.arch)
        except ValueError as e:
            raise CLIError(str(e)) from None
    elif args.arch:
        raise CLIError("--arch changes a variant's architecture: give the variant a name of its own with --name")
    if args.text and not all(tasks.get(ENTRIES[n].task).reads_text_file for n in names):
        raise CLIError("--text applies to the text models only (char-*)")
    if args.text and not Path(args.text).is_file():
        raise CLIError(f"--text {args.text}: no such file")
    _check_device(args.device)
    w, args.device = join(args.device)
    for n in names:
        recipe = ENTRIES[n].recipe
        why = check(recipe.trainer, recipe.batch_size if args.batch_size is None else args.batch_size, w)
        if why:
            raise CLIError(f"{n} cannot train on {w.size} processes: {why}")
    start = time.perf_counter()
    try:
        results = [train_one(n, args) for n in names]
    finally:
        leave()
    if w.main:
        print(f"trained {len(results)} model(s) in {time.perf_counter() - start:.0f} s")
    return 0


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= VERIFY_ATOL + VERIFY_RTOL * abs(b)


def _disagreements(claimed: dict[str, Any], recomputed: dict[str, Any]) -> list[str]:
    """What a card says that a recomputation does not: metrics, and both ends of their intervals."""
    out = []
    for k, v in recomputed.items():
        c = claimed.get(k)
        if isinstance(v, list):
            if not isinstance(c, list) or not all(_close(a, b) for a, b in zip(v, c, strict=True)):
                out.append(f"interval {k} card {c} != recomputed [{v[0]:.6g}, {v[1]:.6g}]")
        elif c is None or not _close(v, c):
            out.append(f"{k} card {c} != recomputed {v:.6g}")
    return out


def _other_sets(claimed: dict[str, Any], built: dict[str, dict[str, str]], metrics: dict[str, Any]) -> list[str]:
    """Generated sets the card's numbers were not measured on (comparing them would mean nothing), and sets
    the card has no numbers for at all (a column added after it was written)."""
    out = []
    for name, now in built.items():
        then = claimed.get(name)
        if then == now:
            continue
        if then is None and name not in metrics:
            version = now["version"]
            out.append(
                f"the card has no {name} column (this machine built {name} v{version}): re-evaluate with --write"
            )
            continue
        said = f"v{then['version']} ({then['sha256'][:12]})" if then else "an unnamed version"
        out.append(
            f"the card was measured on {name} {said}, this machine built {name} v{now['version']} "
            f"({now['sha256'][:12]}): not comparable; re-evaluate with --write on one set"
        )
    return out


def people_report(names: list[str], hub_dir: Path) -> int:
    """Accuracy on the drawings people flagged in the app (``training.flags``), once enough are kept."""
    from .flags import MIN_FOR_A_COLUMN, FlagStore, flags_dir

    images, labels = FlagStore().load()
    if len(labels) < MIN_FOR_A_COLUMN:
        print(f"people's drawings: {len(labels)} kept in {flags_dir()}; the column needs {MIN_FOR_A_COLUMN}")
        return 0
    for name in names:
        model = load_folder(hub_dir / name)
        if tasks.get(model.task).reads_digits:
            right = (tasks.digits.digits_probs(model, torch.from_numpy(images)).argmax(1).numpy() == labels).mean()
            print(f"{name:32s} people's drawings {right:.4f} ({len(labels)} drawings)")
    return 0


def evaluate_folder(folder: Path) -> dict[str, Any]:
    """Every metric of one checkpoint folder of any name (a submission's: ``python -m zoo submit`` runs this),
    with exactly the code that scores the zoo's own entries, plus what the leaderboard shows beside them."""
    model = load_folder(folder)
    classifier = judge([embedded_dir()]) if tasks.get(model.task).needs_judge else None
    ev = evaluate_model(model, classifier=classifier)
    row = {"name": folder.name, "task": model.task, "metrics": ev.metrics, "intervals": ev.intervals()}
    row |= {"benchmarks": ev.benchmarks} if ev.benchmarks else {}
    row |= {"num_params": model.num_params(), "cpu_latency_ms": round(cpu_latency_ms(model), 3)}
    row |= {"file_size": (folder / WEIGHTS_NAME).stat().st_size, "sha256": sha256_file(folder / WEIGHTS_NAME)}
    if classifier is not None:
        row["sample_classifier"] = classifier.config["name"]
    return row | {"answers": sketched_answers(model)}  # for the copy check by answers (zoo.submissions.answers)


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.folder:
        if args.names or args.all or args.write or args.verify:
            raise CLIError("--folder evaluates one checkpoint folder; it takes no names, --all, --write or --verify")
        row = evaluate_folder(Path(args.folder))
        if bad := first_non_finite(row):
            raise CLIError(f"the evaluation gave {bad[0]} = {show_number(bad[1])}; only finite metrics are ranked")
        print(strict_dumps(row, indent=2) if args.json else strict_dumps(row))
        return 0
    if args.people:
        hub_dir = checkpoints_folder(args.hub)
        return people_report([n for n in model_names(args.names, True) if (hub_dir / n).is_dir()], hub_dir)
    if args.write and args.skip_robustness:
        raise CLIError("--write rewrites every metric of a card; it cannot be combined with --skip-robustness")
    hub_dir = checkpoints_folder(args.hub)
    names = [n for n in model_names(args.names, args.all) if args.names or (hub_dir / n).is_dir()]
    rows, failures = [], []
    for name in names:
        folder = hub_dir / name
        model = load_folder(folder)
        claimed, info = cards.read(folder)
        classifier = (
            judge([hub_dir, embedded_dir()], info.get("sample_classifier"))
            if tasks.get(model.task).needs_judge
            else None
        )
        ev = evaluate_model(model, classifier=classifier, text_file=args.text, robustness=not args.skip_robustness)
        intervals = ev.intervals()
        row = {"name": name, "task": model.task, "metrics": ev.metrics, "intervals": intervals}
        if args.verify:
            bad = _other_sets(info.get("benchmarks") or {}, ev.benchmarks, claimed)
            bad = bad or _disagreements(claimed, ev.metrics) + _disagreements(info.get("intervals") or {}, intervals)
            row["verified"] = not bad
            if bad:
                failures.append(f"{name}: " + ", ".join(bad))
        if args.write:
            info["evaluated_sha256"] = sha256_file(folder / WEIGHTS_NAME)
            info["cpu_latency_ms"] = round(cpu_latency_ms(model), 3)  # on this machine, as the card says
            info["intervals"] = intervals
            if ev.benchmarks:
                info["benchmarks"] = ev.benchmarks
            if classifier is not None:
                info["sample_classifier"] = classifier.config["name"]
            log = read_training_log(folder)
            if log is not None and "metrics" in log:  # the log travels with the weights: the same numbers
                log["metrics"] = dict(ev.metrics)
                atomic_write_text(folder / TRAINING_LOG_NAME, training_log_text(log))
            atomic_write_text(folder / "README.md", cards.render(name, ev.metrics, info, curve=log))
            if log is not None:
                write_curve_image(folder, log)
        rows.append(row)
        if not args.json:
            status = "" if not args.verify else ("  verified" if row["verified"] else "  MISMATCH")
            shown = {k: v for k, v in ev.metrics.items() if k in TASKS[model.task].metrics}
            print(f"{name:32s} {model.task:7s} " + "  ".join(f"{k} {v:.4f}" for k, v in shown.items()) + status)
    if args.json:
        print(strict_dumps(rows, indent=2))
    if failures:
        print("cards disagree with the recomputed metrics:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
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
    t.add_argument("--all", action="store_true", help="train every entry of the catalog")
    t.add_argument("--epochs", type=int, help="passes over the training data (default: the recipe's)")
    t.add_argument("--batch-size", type=int, help="examples per optimizer step (default: the recipe's)")
    t.add_argument("--lr", type=float, help="learning rate (default: the recipe's)")
    t.add_argument("--seed", type=int, help="random seed (default: the recipe's, 0 for most models)")
    t.add_argument("--seeds", type=int, help="train this many seeds from --seed and record each in the card")
    t.add_argument("--stride", type=int, help="text: characters between training windows")
    t.add_argument("--text", help="text: train on this UTF-8 file instead of Shakespeare")
    t.add_argument("--out", default="runs", help="folder for the checkpoints (default: runs)")
    t.add_argument(
        "--name", help="train a variant of the one recipe named under this new name (its card records the parent)"
    )
    t.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda when available)")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.add_argument("--train-limit", type=int, metavar="N", help="train on the first N examples (images, rows, windows)")
    t.add_argument(
        "--skip-robustness", action="store_true", help="digits: score the MNIST test split only (timing runs)"
    )
    t.add_argument(
        "--arch",
        action="append",
        metavar="KEY=VALUE",
        help="with --name: change one number of the architecture (hidden_size=32, keep_prob=1.0); repeatable",
    )
    t.add_argument("--progress-file", metavar="FILE", help="append the run's progress to FILE, one JSON line per event")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="recompute metrics on the real held-out data")
    e.add_argument("names", nargs="*", metavar="NAME", help="checkpoints to evaluate (default with --all: every one)")
    e.add_argument("--all", action="store_true", help="evaluate every checkpoint in the folder")
    e.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    e.add_argument("--json", action="store_true", help="print the rows as JSON instead of one line each")
    e.add_argument("--write", action="store_true", help="rewrite the cards' metrics with the recomputed ones")
    e.add_argument("--verify", action="store_true", help="exit 1 when a card's metric differs")
    e.add_argument("--text", help="the text file the text models were trained on")
    e.add_argument(
        "--skip-robustness", action="store_true", help="digits: the MNIST test split only (checkpoints trained so)"
    )
    e.add_argument("--folder", help="evaluate this one checkpoint folder, whatever its name (submissions)")
    e.add_argument("--people", action="store_true", help="digits: accuracy on the drawings people flagged in the app")
    e.set_defaults(func=cmd_evaluate)

    add_migrate_parser(sub)

    f = sub.add_parser("figures", help="the chapter's figures 7-3/7-4/7-5 and the app's MNIST sample")
    f.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    f.add_argument(
        "--out", default="demos/assets/figures", help="folder for the figures (default: demos/assets/figures)"
    )
    f.set_defaults(func=cmd_figures)

    add_misses_parser(sub)
    add_answers_parser(sub)
    add_push_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, UnknownModelError, ConfigError, FileNotFoundError, PermissionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def exit_now(code: int) -> None:
    """Leave without the interpreter's teardown once everything is written and flushed: unloading torch's
    libraries takes most of a second (a fifth of a one-epoch run's overhead), and nothing is left to do.
    Files are closed by then (every writer uses ``with``) and ``leave()`` has ended any process group."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
