"""Section 1 of BENCHMARKS.md: one epoch of the book's ConvNet, the book's loop against the project's, where a
step's time goes, what else was tried, and whether the fast dropout changes what the ConvNets learn.

Every timed epoch runs in a fresh Python process, as a user starts it. A process that has trained once keeps
a warmed-up heap (glibc's malloc thresholds), so a second loop in the same process runs faster than the
first; timing both loops in one process flattered whichever ran later.

``python -m bench.train_speed steps VARIANT`` times steps of one training-loop variant (used by the section).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
NAME = "mnist-convnet-book"
BATCH = 60
QUICK_LIMIT = 1200  # --quick (the smoke run in make test): 20 steps an epoch, every loop and line still run


class Run(NamedTuple):
    seconds: float  # the epoch's loop
    accuracy: float
    wall: float = float("nan")  # the whole process: interpreter start, imports, data, loop, evaluation, card


def _python(*args: str, env: dict[str, str] | None = None) -> str:
    """Run ``python ARGS`` in a fresh process from the repository root; its stdout."""
    r = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if r.returncode:
        raise RuntimeError(f"python {' '.join(args)} failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
    return r.stdout


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def book_epoch(seed: int, limit: int | None) -> Run:
    """The book's loop (``bench/book_reference.py``) in its own process."""
    flags = ["--limit", str(limit)] if limit else []
    start = time.perf_counter()
    d = _last_json(_python("-m", "bench.book_reference", "--seed", str(seed), *flags))
    return Run(d["seconds"], d["accuracy"], time.perf_counter() - start)


def project_epoch(seed: int, limit: int | None, *flags: str, name: str = NAME) -> Run:
    """``python -m training train NAME`` in its own process: the epoch's loop time from its card."""
    from training import card

    with tempfile.TemporaryDirectory() as tmp:
        limit_flags = ["--train-limit", str(limit)] if limit else []
        start = time.perf_counter()
        _python(
            "-m",
            "training",
            "train",
            name,
            "--out",
            tmp,
            "--quiet",
            "--seed",
            str(seed),
            "--skip-robustness",
            *flags,
            *limit_flags,
        )
        wall = time.perf_counter() - start
        metrics, info = card.read(Path(tmp) / name)
    return Run(info["history"][-1]["seconds"], metrics["accuracy"], wall)


# ------------------------------------------------------------------------------- one step, in detail
VARIANTS = {
    "project": "the project's (`zoo.models.layers.Dropout`, the measured fast path, fused SGD, float32)",
    "nn.Dropout": "with `nn.Dropout`",
    "NCHW": "with NCHW tensors",
    "channels-last": "with channels-last tensors",
    "direct conv2": "with conv2's weight gradient computed directly (no transposed form)",
    "transposed conv2": "with conv2 trained as the transposed convolution of its flipped kernel",
    "per-tensor SGD": "with torch's default (per-tensor) SGD instead of the fused kernel",
    "bf16 autocast": "under bf16 autocast",
    "torch.compile": "under `torch.compile`",
}


def _setup(variant: str, n: int) -> Callable[[int, int], None]:
    """The project's training step for the book ConvNet (as ``PyTorchTrainer`` runs it), or a variant of it."""
    from training.data import mnist_pixels
    from training.recipes import book_sgd
    from training.trainer import keep_freed_memory
    from zoo.catalog import ENTRIES
    from zoo.models import fastpaths, layers

    keep_freed_memory()  # as PyTorchTrainer does
    X, y = mnist_pixels(True)
    torch.manual_seed(0)
    with mock.patch.object(layers, "Dropout", nn.Dropout) if variant == "nn.Dropout" else nullcontext():
        model = ENTRIES[NAME].build()
    path = fastpaths.chosen()  # the variants change one choice of the path this machine measured fastest
    if variant in ("direct conv2", "transposed conv2", "NCHW", "channels-last"):
        path = path._replace(
            **(
                {"transposed": variant == "transposed conv2"}
                if "conv2" in variant
                else {"channels_last": variant != "NCHW"}
            )
        )
        mock.patch.object(fastpaths, "chosen", lambda: path).start()  # this process times one variant only
    X, y = model.preprocess(X[:n]), y[:n]
    if path.channels_last:
        model, X = model.to(memory_format=torch.channels_last), X.contiguous(memory_format=torch.channels_last)
    forward = torch.compile(model) if variant == "torch.compile" else model
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if variant == "bf16 autocast" else nullcontext()
    opt = (
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if variant == "per-tensor SGD"
        else book_sgd(model, 0.01)
    )

    def steps(start: int, count: int) -> None:
        for i in range(start, start + count * BATCH, BATCH):
            opt.zero_grad(set_to_none=True)
            with autocast:
                loss = F.cross_entropy(forward(X[i : i + BATCH])[0], y[i : i + BATCH])
            loss.backward()
            opt.step()
            loss.item()

    return steps


def time_steps(variant: str, count: int = 100) -> dict[str, float]:
    """Milliseconds per step (median of 3 blocks of ``count`` steps) and the first step's seconds (compilation)."""
    steps = _setup(variant, (3 * count + 20) * BATCH)
    t = time.perf_counter()
    steps(0, 1)
    first = time.perf_counter() - t
    steps(BATCH, 19)
    blocks = []
    for k in range(3):
        t = time.perf_counter()
        steps((20 + k * count) * BATCH, count)
        blocks.append((time.perf_counter() - t) / count * 1000)
    return {"step_ms": statistics.median(blocks), "first_step_s": first}


PROFILE_GROUPS = {
    # the transposed form of conv2 runs inside aten::_convolution
    "convolutions, forward": ("aten::mkldnn_convolution", "aten::_convolution"),
    "convolutions, backward": ("aten::convolution_backward",),
    "dropout's random bits": ("aten::random_",),
    "tanh, dropout masks and products, layout copies": (
        "aten::tanh",
        "aten::tanh_backward",
        "aten::mul",
        "aten::mul_",
        "aten::ge",
        "aten::ge_",
        "aten::copy_",
        "aten::flip",
    ),
    "dense layers, loss, optimizer": (
        "aten::addmm",
        "aten::mm",
        "aten::_log_softmax",
        "aten::_log_softmax_backward_data",
        "aten::nll_loss_forward",
        "aten::nll_loss_backward",
        "aten::_fused_sgd_",
        "aten::_foreach_add_",
        "aten::_foreach_mul_",
        "aten::sum",
        "aten::add_",
    ),
}


def step_breakdown(step_ms: float) -> dict[str, float]:
    """Milliseconds per step per part: torch.profiler's self-CPU shares applied to an unprofiled step time."""
    from torch.profiler import ProfilerActivity, profile

    steps = _setup("project", 70 * BATCH)
    steps(0, 20)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps(20 * BATCH, 50)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    shares = {
        g: sum(e.self_cpu_time_total for e in events if e.key in keys) / total for g, keys in PROFILE_GROUPS.items()
    }
    shares["everything else (Python, autograd, allocation)"] = 1 - sum(shares.values())
    return {g: s * step_ms for g, s in shares.items()}


def conv_gflop_per_step() -> float:
    """Floating-point work of the convolutions in one step: forward, weight gradients, and the input gradient
    of every layer but the first (the images need none)."""
    from zoo.models import MNISTConvNet

    model, total = MNISTConvNet(16, 8, 32, 0.8), 0.0
    for i, conv in enumerate(m for m in model.modules() if isinstance(m, nn.Conv2d)):
        kh, kw = conv.kernel_size
        fwd = 2 * BATCH * 28 * 28 * conv.out_channels * conv.in_channels * kh * kw
        total += fwd * (2 if i == 0 else 3)
    return total / 1e9


def sgemm_gflops() -> float:
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    a @ b
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        runs.append(2 * 2048**3 / (time.perf_counter() - t) / 1e9)
    return statistics.median(runs)


def _has_amx() -> bool:
    try:
        return "amx_bf16" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


# --------------------------------------------------------------------------- does dropout change learning?
def convnet_accuracy(name: str, seed: int, limit: int | None) -> float:
    """``python -m training train NAME`` in this process with ``nn.Dropout`` in place of ``zoo.models.layers.Dropout``
    and nothing else changed (same initial weights, same batch order); the test accuracy its card records."""
    from training import card
    from training.__main__ import main as training_cli
    from zoo.models import layers

    limit_flags = ["--train-limit", str(limit)] if limit else []
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(layers, "Dropout", nn.Dropout):
        training_cli(["train", name, "--out", tmp, "--quiet", "--seed", str(seed), "--skip-robustness", *limit_flags])
        metrics, _ = card.read(Path(tmp) / name)
    return metrics["accuracy"]


# ------------------------------------------------------------------------------------------- the section
def _path_name() -> str:
    from zoo.models import fastpaths

    path = fastpaths.chosen()
    return next(name for name, p in fastpaths.PATHS.items() if p == path)


def _fmt(vals, f: str = "{:.1f}") -> str:
    return ", ".join(f.format(v) for v in vals)


def section(quick: bool) -> list[str]:
    from zoo.catalog import ENTRIES

    limit = QUICK_LIMIT if quick else None
    seeds = range(3 if quick else 5)
    recipe_seed = ENTRIES[NAME].recipe.seed
    book: dict[int, Run] = {}
    proj: dict[int, Run] = {}
    for seed in seeds:  # the first three alternate with the book's loop: drift hits both alike
        print(f"  training: seed {seed}", flush=True)
        if seed < 3:
            book[seed] = book_epoch(seed, limit)
        proj[seed] = project_epoch(seed, limit)
    b = statistics.median(r.seconds for r in book.values())
    p = statistics.median(r.seconds for r in proj.values())
    ratio = statistics.median(book[s].seconds / proj[s].seconds for s in book)
    whole_b = statistics.median(r.wall for r in book.values())
    whole_p = statistics.median(proj[s].wall for s in book)
    whole = statistics.median(book[s].wall / proj[s].wall for s in book)
    acc = [r.accuracy for r in proj.values()]
    committed = proj[recipe_seed].accuracy if recipe_seed in proj else float("nan")
    book_mean = statistics.mean(r.accuracy for r in book.values())
    # accuracy unchanged: the project's mean over its seeds no more than one seed-to-seed deviation below the book's
    same_accuracy = statistics.mean(acc) >= book_mean - statistics.stdev(acc)
    met = ratio >= 3 and same_accuracy
    steps_per_epoch = (limit or 60000) // BATCH

    print("  training: one step in detail", flush=True)
    with tempfile.TemporaryDirectory() as cache:  # torch.compile as a first-time user meets it: nothing cached
        env = {"TORCHINDUCTOR_CACHE_DIR": cache}
        count = ["--count", "10"] if quick else []
        variants = {v: _last_json(_python("-m", "bench.train_speed", "steps", v, *count, env=env)) for v in VARIANTS}
    step_ms = variants["project"]["step_ms"]
    parts = step_breakdown(step_ms)
    conv_ms = parts["convolutions, forward"] + parts["convolutions, backward"]
    gflops, peak = conv_gflop_per_step() / (conv_ms / 1000), sgemm_gflops()
    budget_ms = b / 3 / steps_per_epoch * 1000

    print("  training: larger batches", flush=True)
    bigger_seeds = range(1 if quick else 3)  # quick: one run each, the smoke test of the lines below
    bigger = {
        bs: [project_epoch(s, limit, "--batch-size", str(bs), "--lr", f"{0.01 * bs / 60:g}") for s in bigger_seeds]
        for bs in (120, 240)
    }

    print("  training: nn.Dropout against zoo.models.layers.Dropout", flush=True)
    ab_seeds = range(2 if quick else 5)
    ab = {}
    for name in (NAME, "mnist-convnet-notebook"):
        ab[name, True] = [convnet_accuracy(name, s, limit) for s in ab_seeds]
        # zoo.models.layers.Dropout: the book ConvNet's runs above are exactly these (same command, same seeds)
        ab[name, False] = (
            [proj[s].accuracy for s in ab_seeds]
            if name == NAME
            else [project_epoch(s, limit, name=name).accuracy for s in ab_seeds]
        )

    lines = [
        f"## 1. Training: `{NAME}`, one epoch" + (f" (quick: {limit:,} images)" if quick else ""),
        "",
        "Each epoch runs in a fresh process, as a user starts it; the book's loop and the project's alternate.",
        "",
        "| loop | seconds per epoch (median) | runs (seeds 0, 1, 2, ...) | test accuracy per run |",
        "|---|---|---|---|",
        f"| book (`python -m bench.book_reference`: DataLoader + PIL transforms, `nn.Dropout`) | {b:.1f} | "
        f"{_fmt(r.seconds for r in book.values())} | {_fmt((r.accuracy for r in book.values()), '{:.4f}')} |",
        f"| dlfs-zoo (`python -m training train {NAME}`) | {p:.1f} | {_fmt(r.seconds for r in proj.values())} | "
        f"{_fmt(acc, '{:.4f}')} |",
        "",
        f"Whole processes, as a user runs them (interpreter start, imports, data, the epoch, evaluation on the "
        f"test split and, for the project, the card; one seed, clean test split, seeds 0-2): book {whole_b:.1f} s "
        f"({_fmt(r.wall for r in book.values())}), `python -m training train {NAME} --seed S --skip-robustness` "
        f"{whole_p:.1f} s ({_fmt(proj[s].wall for s in book)}): **{whole:.2f}x** (target >= 2.5x: "
        f"{'met' if whole >= 2.5 else 'not met'}).",
        "",
        f"Speed-up (median of the per-seed ratios, seeds 0-2): **{ratio:.2f}x**. The committed recipe's seed "
        f"({recipe_seed}) reaches {committed:.4f}; over seeds 0-{len(acc) - 1} the mean is {statistics.mean(acc):.4f} "
        f"(min {min(acc):.4f}, max {max(acc):.4f}, standard deviation {statistics.stdev(acc):.4f}), the book loop's "
        f"{book_mean:.4f} over seeds 0-{len(book) - 1}: accuracy {'unchanged' if same_accuracy else 'lower'} (the "
        "project's mean at most one standard deviation below the book's). Target >= 3x with accuracy unchanged: "
        f"**{'met' if met else 'not met'}**.",
        "Both columns time the epoch's loop alone (the card also records the whole run, data and evaluation "
        "included, as `train_seconds`). What the project does differently: pre-normalised tensors indexed per batch "
        "(no per-image PIL transform), a dropout that draws 8 random bits per element instead of a float "
        "(`zoo.models.layers.Dropout`), the layout (channels-last or NCHW) and the form of conv2 (16 -> 8 channels: "
        "direct, or the transposed convolution of its flipped kernel, the same function) that `zoo.models.fastpaths` "
        f"measured fastest on this CPU ({_path_name()}: a calibration of well under a second, once per CPU model, "
        "torch version and thread count, cached; `DLFS_ZOO_TRAIN_PATH` forces one), torch's fused SGD kernel, and no "
        "second pass over the test split (the one epoch's test loss is the card's `loss`).",
        "",
        f"### Where a step goes (batch {BATCH}, {step_ms:.1f} ms; torch.profiler shares)",
        "",
        "| part | ms per step | share |",
        "|---|---|---|",
        *(f"| {g} | {ms:.2f} | {ms / step_ms:.0%} |" for g, ms in parts.items()),
        "",
        f"For 3x a step may take {budget_ms:.1f} ms ({b:.1f} s / 3 / {steps_per_epoch:,} steps). The convolutions "
        f"alone take {conv_ms:.1f} ms: {conv_gflop_per_step():.2f} GFLOP at {gflops:.0f} GFLOP/s, "
        f"{gflops / peak:.0%} of the {peak:.0f} GFLOP/s this CPU reaches in a 2048x2048 matrix product (oneDNN's "
        "kernels for 1, 8 and 16 channels). The random bits come from torch's generator on one thread (the "
        "stream `torch.manual_seed` reproduces); tanh, masks and products are separate passes over tensors of up "
        "to 3 MB each.",
        "",
        "### What else was tried (measured in this run)",
        "",
        "| variant of the project's step | ms per step | time against the project's step | first step |",
        "|---|---|---|---|",
        *(
            f"| {VARIANTS[v]} | {r['step_ms']:.1f} | {r['step_ms'] / step_ms:.2f}x | {r['first_step_s']:.1f} s |"
            for v, r in variants.items()
        ),
        "",
        "| batch size (lr scaled with it), whole epoch | seconds per epoch (median) | test accuracy, seeds 0-2 |",
        "|---|---|---|",
        f"| 60, lr 0.01 (the recipe) | {p:.1f} | {_fmt((proj[s].accuracy for s in range(3)), '{:.4f}')} |",
        *(
            f"| {bs}, lr {0.01 * bs / 60:g} | {statistics.median(r.seconds for r in runs):.1f} | "
            f"{_fmt((r.accuracy for r in runs), '{:.4f}')} |"
            for bs, runs in bigger.items()
        ),
        "",
        "`nn.Dropout` (the book's: a `bernoulli_` draw per element) and NCHW (the default layout) are what the "
        f"project replaced. bf16 autocast takes {variants['bf16 autocast']['step_ms'] / step_ms:.2f}x the time "
        f"({'with' if _has_amx() else 'no'} AMX on this CPU); torch.compile takes "
        f"{variants['torch.compile']['step_ms'] / step_ms:.2f}x per step after compiling for "
        f"{variants['torch.compile']['first_step_s']:.0f} s (empty cache). Larger batches do the same work per image: "
        f"an epoch took {_fmt(statistics.median(r.seconds for r in runs) for runs in bigger.values())} s against "
        f"{p:.1f} s, at a mean accuracy of "
        f"{_fmt((statistics.mean(r.accuracy for r in runs) for runs in bigger.values()), '{:.4f}')} against "
        f"{statistics.mean(proj[s].accuracy for s in range(3)):.4f}."
        + (
            ""
            if met
            else " What would close the gap: one fused tanh + dropout kernel with a counter-based random generator "
            "(as CUDA's fused dropout has) in place of the separate passes and the one-thread generator; or bf16 "
            + (
                "autocast, faster on this CPU (AMX), which the project leaves off on CPUs so that a retrain "
                "reproduces the committed float32 checkpoints on any AVX-512 CPU."
                if variants["bf16 autocast"]["step_ms"] < step_ms
                else "autocast on a CPU with AMX."
            )
        ),
        "",
        "### Does the fast dropout change what the ConvNets learn?",
        "",
        f"The project's recipe, one epoch, seeds 0-{len(ab_seeds) - 1}; only the dropout module differs "
        "(same initial weights, same batch order).",
        "",
        "| model | dropout | test accuracy per seed | mean |",
        "|---|---|---|---|",
        *(
            f"| `{name}` | {'`nn.Dropout`' if td else '`zoo.models.layers.Dropout`'} | {_fmt(accs, '{:.4f}')} | "
            f"{statistics.mean(accs):.4f} |"
            for (name, td), accs in ab.items()
        ),
        "",
    ]
    return lines


def pairs(count: int, limit: int | None) -> dict:
    """The section's comparison alone: the book's epoch and the project's, in turn (A B A B ...), seed 0 each time
    (the issue's command), with the load average before each pair; the medians and their ratios."""
    book, proj, loads = [], [], []
    for i in range(count):
        loads.append(Path("/proc/loadavg").read_text().split()[0])
        book.append(book_epoch(0, limit))
        proj.append(project_epoch(0, limit))
        print(f"  pair {i + 1}: book {book[-1]}, project {proj[-1]}, load {loads[-1]}", file=sys.stderr, flush=True)
    loads.append(Path("/proc/loadavg").read_text().split()[0])
    med = statistics.median
    return {
        "book": [r._asdict() for r in book],
        "project": [r._asdict() for r in proj],
        "load_1min": loads,
        "loop_ratio": med(b.seconds for b in book) / med(p.seconds for p in proj),
        "whole_ratio": med(b.wall for b in book) / med(p.wall for p in proj),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.train_speed")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("steps", help="time steps of a training-loop variant; prints JSON")
    s.add_argument("variant", choices=list(VARIANTS))
    s.add_argument("--count", type=int, default=100, help="steps per timed block (3 blocks)")
    s = sub.add_parser("pairs", help="the book's epoch and the project's in turn, seed 0; prints JSON")
    s.add_argument("--count", type=int, default=3, help="pairs of runs")
    s.add_argument("--limit", type=int, default=None, help="training images (default: all 60,000)")
    args = p.parse_args(argv)
    if args.cmd == "pairs":
        print(json.dumps(pairs(args.count, args.limit)))
    else:
        print(json.dumps(time_steps(args.variant, args.count)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
