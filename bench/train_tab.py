"""BENCHMARKS.md's "Training in the app": the Train tab's throughput beside the CLI's, for the same recipe and the
same arguments (``training.jobs.child_args``: what the tab's child process runs). Each run's samples/s is the one its
``training_log.json`` records; the wall time is from the request to the files (the tab: through ``/train_model`` with
gradio_client, queue and streaming included; the CLI: the whole process). CLI and tab runs alternate, so a machine
shared with other work slows both alike.

``python -m bench.train_tab --out BENCHMARKS.md`` replaces (or appends) this section alone; ``python -m bench`` runs
it too (not in ``--quick``).
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
from pathlib import Path

from bench.app_process import ROOT, RunningApp
from bench.leaderboard_scale import replace_section
from training.jobs import KNOBS, RECIPES, check, child_args
from zoo.basics import cpu_model

TITLE = "## Training in the app"
RUNS = (("mnist-mlp", {"epochs": 1}), ("mnist-convnet-book", {"epochs": 1, "train_limit": 12_000}))
PAIRS = 2  # CLI and tab runs per recipe, alternating


def cli_run(recipe: str, values: dict, folder: Path) -> tuple[float, float]:
    """``python -m training`` with the tab's own arguments: (samples/s, wall seconds)."""
    folder.mkdir(parents=True)
    start = time.perf_counter()
    args = child_args(recipe, f"{recipe}-cli", check(recipe, values))
    subprocess.run([sys.executable, "-m", "training", *args], cwd=folder, env=_env(), check=True)
    wall = time.perf_counter() - start
    log = json.loads((folder / "out" / f"{recipe}-cli" / "training_log.json").read_text())
    return log["samples_per_s"], wall


def tab_run(client, recipe: str, values: dict) -> tuple[float, float]:
    """The same run through ``/train_model``: (samples/s, wall seconds from the request to the files)."""
    start = time.perf_counter()
    job = client.submit(recipe, *(values.get(k) for k in KNOBS), api_name="/train_model")  # the endpoint's order
    files = job.result()[4]
    wall = time.perf_counter() - start
    (log,) = [f for f in files if f.endswith("training_log.json")]
    return json.loads(Path(log).read_text())["samples_per_s"], wall


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def section() -> list[str]:
    from gradio_client import Client

    rows = []
    with tempfile.TemporaryDirectory(prefix="dlfs-train-tab-") as tmp:
        env = {"DLFS_ZOO_TRAIN_JOBS": f"{tmp}/jobs", "DLFS_ZOO_RESULTS": f"{tmp}/results"}
        app = RunningApp(env=env)
        try:
            client = Client(app.url, verbose=False)
            for recipe, values in RUNS:
                cli, tab = [], []
                for i in range(PAIRS):
                    cli.append(cli_run(recipe, values, Path(tmp) / f"cli-{recipe}-{i}"))
                    tab.append(tab_run(client, recipe, values))
                    print(
                        f"{recipe}: CLI {cli[-1][0]:,.0f}/s {cli[-1][1]:.1f} s, tab {tab[-1][0]:,.0f}/s "
                        f"{tab[-1][1]:.1f} s",
                        flush=True,
                    )
                rows.append((recipe, values, cli, tab))
        finally:
            app.stop()
    load = os.getloadavg()[0]
    lines = [
        TITLE,
        "",
        f"CPU: {cpu_model()} ({os.cpu_count()} cores, load average {load:.1f} at the end); {time.strftime('%Y-%m-%d')}."
        f" Median of {PAIRS} runs each, CLI and tab alternating; samples/s from each run's `training_log.json`, wall "
        "time from the request to the files (the tab: `/train_model` through gradio_client, the CLI: the process).",
        "",
        "| recipe | settings | CLI samples/s | tab samples/s | tab / CLI | CLI wall | tab wall |",
        "|---|---|---|---|---|---|---|",
    ]
    for recipe, values, cli, tab in rows:
        c, t = statistics.median(s for s, _ in cli), statistics.median(s for s, _ in tab)
        settings = ", ".join(f"{k} {v:,}" for k, v in values.items())
        lines.append(
            f"| {recipe} | {settings} | {c:,.0f} | {t:,.0f} | {t / c:.2f} "
            f"| {statistics.median(w for _, w in cli):.1f} s | {statistics.median(w for _, w in tab):.1f} s |"
        )
    lines += [
        "",
        "- Target (issue #31): the tab's throughput equals the CLI's. The tab's job is the CLI in a child process "
        "(`python -m training train`, the same arguments, a CPU-time cap set by the child), so the ratio measures the "
        "cost of serving the page while it trains (the app's poll of the job's progress file); the wall times add "
        "the app's queue, the child's start and the evaluation.",
        f"- Recipes the tab offers: {', '.join(RECIPES)}.",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.train_tab", description=__doc__)
    p.add_argument("--out", help="the BENCHMARKS.md whose section to replace (default: print it)")
    args = p.parse_args(argv)
    lines = section()
    if args.out:
        path = Path(args.out)
        path.write_text(replace_section(path.read_text(), lines, TITLE))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
