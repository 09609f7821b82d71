"""BENCHMARKS.md's "Leaderboard at scale": ``python -m zoo leaderboard --json`` (a cold process: Python's start and
imports included) on results stores of 100 / 1,000 / 10,000 generated finished submissions (bench/results_store.py),
the in-process ``zoo.leaderboard()``, the Leaderboard tab's first page and filter, and the app's memory.

``python -m bench --only scale`` regenerates it inside BENCHMARKS.md; ``python -m bench.leaderboard_scale --out
BENCHMARKS.md`` replaces (or appends) this section alone, leaving the header and the other sections as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.app_process import ROOT, RunningApp
from bench.results_store import write_store
from demos.state import Zoo
from demos.tabs.leaderboard import RANK, board_page, board_plot
from zoo.basics import atomic_write_text, cpu_model
from zoo.leaderboard import leaderboard
from zoo.submissions.filecache import RACY_NS

TITLE = "## Leaderboard at scale"
SIZES = (100, 1_000, 10_000)
RUNS = 5  # cold processes per figure (the median is shown)
QUERIES = ("digits-0001", "gen-digits-07", "no-such-model", "")  # a filter typed: narrow, wider, none, cleared


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory of a process now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _env(store: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "DLFS_ZOO_RESULTS": str(store), "DLFS_ZOO_CACHE": str(cache), "PYTHONPATH": str(ROOT)}


def cold_cli(env: dict[str, str], expect: int) -> float:
    """One ``python -m zoo leaderboard --json`` from process start to exit, in seconds; its rows checked."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "zoo", "leaderboard", "--json"], env=env, cwd=ROOT, capture_output=True, check=True
    ).stdout
    took = time.perf_counter() - start
    rows = json.loads(out, parse_constant=_not_json)
    submitted = sum(r["origin"] == "submitted" for r in rows)
    if submitted != expect:
        raise RuntimeError(f"the leaderboard printed {submitted} submitted rows, not {expect}")
    return took


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def change_one_result(store: Path, i: int) -> None:
    """What another process does between two calls: one result file written again, whole (a new inode), so the
    kept JSON is stale and the next call reads that file and ranks every row again."""
    path = sorted((store / "results").iterdir())[i]
    atomic_write_text(path, path.read_text(encoding="utf-8"))


def cold_changed(env: dict[str, str], store: Path, expect: int, i: int) -> float:
    change_one_result(store, i)
    return cold_cli(env, expect)


def cold_import(env: dict[str, str], module: str = "zoo.__main__") -> float:
    """A process that only imports ``module``, start to exit, in seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], env=env, cwd=ROOT, check=True)
    return time.perf_counter() - start


def in_process(store: Path) -> dict[str, float]:
    """What the app's process does with this store (run in a child: ``--child``): the ranking read, the tab's first
    page and plot, a filter typed, a sort, a page turned, memory before and after, in milliseconds and MiB."""
    os.environ["DLFS_ZOO_RESULTS"] = str(store)
    out = {"rss_before_mib": rss_mib()}
    start = time.perf_counter()
    leaderboard()
    out["leaderboard_first_ms"] = 1000 * (time.perf_counter() - start)
    out["leaderboard_again_ms"] = _median_ms(leaderboard)
    pool = Zoo()
    start = time.perf_counter()
    pool.refresh()
    out["pool_refresh_ms"] = 1000 * (time.perf_counter() - start)
    out["first_page_ms"] = _median_ms(_first_page, pool)
    out["filter_ms"] = max(_median_ms(_filtered, pool, q) for q in QUERIES)
    out["sort_ms"] = _median_ms(_sorted, pool)
    out["page_ms"] = _median_ms(_turned, pool)
    out["rss_after_mib"] = rss_mib()
    out["rss_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _median_ms(fn, *args) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(*args)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def _first_page(pool: Zoo) -> None:
    board_page(pool.current(), "digits")
    board_plot(pool, "digits")


def _filtered(pool: Zoo, query: str) -> None:
    board_page(pool.current(), "digits", query, RANK, 1)


def _sorted(pool: Zoo) -> None:
    board_page(pool.current(), "digits", "", "drawn", 1)


def _turned(pool: Zoo) -> None:
    board_page(pool.current(), "digits", "", RANK, 40)


def app_rss(store: Path, cache: Path) -> float:
    """The running app's resident memory (MiB) once it answers, after one /leaderboard call, with this store."""
    app = RunningApp(env={"DLFS_ZOO_RESULTS": str(store), "DLFS_ZOO_CACHE": str(cache)})
    try:
        body = json.dumps({"data": ["digits"]}).encode()
        request = urllib.request.Request(
            app.url + "gradio_api/call/leaderboard", data=body, headers={"Content-Type": "application/json"}
        )
        event = json.loads(urllib.request.urlopen(request, timeout=120).read())["event_id"]
        urllib.request.urlopen(f"{app.url}gradio_api/call/leaderboard/{event}", timeout=120).read()
        return rss_mib(app.proc.pid)
    finally:
        app.stop()


def section(quick: bool = False, with_app: bool = True) -> list[str]:
    """The section's lines; ``quick`` (``make bench``'s smoke run, in make test): 100 and 1,000 rows only, one
    cold process per figure, no app started."""
    cpu, sizes, with_app = cpu_model(), SIZES[:2] if quick else SIZES, with_app and not quick
    runs = 1 if quick else RUNS
    table = [
        "| rows | `leaderboard --json`, no cache file | same, cached | same, one result changed "
        "| `import zoo.__main__` alone | `zoo.leaderboard()` first / again | tab: first page + plot | filter | sort "
        "| page 40 | RSS before / after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rss, last = {}, {}
    with tempfile.TemporaryDirectory(prefix="dlfs-scale-") as tmp:
        for n in sizes:
            store, cache = Path(tmp) / f"store-{n}", Path(tmp) / f"cache-{n}"
            write_store(store, n)
            env = _env(store, cache)
            time.sleep(RACY_NS / 1e9)  # files this young are not trusted yet (``filecache.RACY_NS``): none is kept
            cold = cold_cli(env, n)  # no cache file yet: every file read (and the cache file written)
            warm = statistics.median(cold_cli(env, n) for _ in range(runs))
            changed = statistics.median(cold_changed(env, store, n, i) for i in range(runs))
            imports = statistics.median(cold_import(env) for _ in range(runs))
            child = subprocess.run(
                [sys.executable, "-m", "bench.leaderboard_scale", "--child", str(store)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            m = json.loads(child.stdout.strip().splitlines()[-1])
            last = m | {
                "cold": cold,
                "warm": warm,
                "changed": changed,
                "imports": imports,
                "torch": statistics.median(cold_import(env, "torch") for _ in range(runs)),
            }
            table.append(
                f"| {n:,} | {cold:.2f} s | {warm:.2f} s | {changed:.2f} s | {imports:.2f} s "
                f"| {m['leaderboard_first_ms']:.0f} / {m['leaderboard_again_ms']:.0f} ms | {m['first_page_ms']:.0f} ms "
                f"| {m['filter_ms']:.0f} ms | {m['sort_ms']:.0f} ms | {m['page_ms']:.0f} ms "
                f"| {m['rss_before_mib']:.0f} / {m['rss_after_mib']:.0f} MiB |"
            )
            if with_app and n == sizes[-1]:
                empty = Path(tmp) / "store-empty"
                empty.mkdir()
                rss = {"empty": app_rss(empty, Path(tmp) / "cache-empty"), "full": app_rss(store, cache)}
    load = os.getloadavg()[0]
    lines = [
        TITLE,
        "",
        f"CPU: {cpu} ({os.cpu_count()} cores, shared with other work: load average {load:.1f} at the end); "
        f"{time.strftime('%Y-%m-%d')}. "
        "Stores of generated finished submissions (`python -m bench.results_store --rows N --into DIR`: a request, "
        "a result and a weights file each), plus the zoo's own models. Cold figures are whole processes (Python's "
        f"start and imports included), median of {runs}; in-process figures are medians in one process (the app's "
        "pool), the filter the slowest of a narrow, a wide, an empty and a cleared query.",
        "",
        *table,
        "",
        "- The store is read incrementally. In the app (`zoo/submissions/filecache.py`): each file's (inode, mtime, "
        "size) is checked, only new or changed files are parsed (weights hashed), and what was read is kept in memory "
        "and in a cache file (`$XDG_CACHE_HOME/dlfs-zoo/reads`). In `leaderboard --json` (`zoo/board_cache.py`): "
        "the printed text is kept whole, and each row's sort key and JSON are kept beside it, under the stamps of "
        "the files the row comes from; a new process takes every stamp once, prints the kept text when none changed, "
        "and otherwise builds only the rows of changed files, ranks every row from its kept key and joins the kept "
        "JSON.",
        "- Targets: `leaderboard --json` <= 1 s at 10,000 rows; the tab's first page <= 1 s and a filter <= 300 ms "
        "(the table is paged, 50 rows a page; the plot shows the zoo's models and the 500 best-ranked submissions).",
    ]
    if last:
        lines.append(
            f"- At {sizes[-1]:,} rows: `leaderboard --json` {last['warm']:.2f} s while no file changed, "
            f"{last['changed']:.2f} s on the first call after another process changed one result (target 1 s: "
            f"{'met' if max(last['warm'], last['changed']) <= 1 else 'not met'}), and {last['cold']:.2f} s for a "
            "process that finds nothing kept (every result, request and weights file read and hashed once, as a "
            "first read of the store must). `python -m zoo` imports no torch (`import zoo.__main__` alone "
            f"{last['imports']:.2f} s, `import torch` alone {last['torch']:.2f} s): `zoo/__init__.py` exports the "
            "architectures lazily (PEP 562) and the catalog, the store and the leaderboard import them only where a "
            "model is built, checked or evaluated. In the app's process the ranking "
            "is rebuilt in "
            f"{last['leaderboard_again_ms']:.0f} ms; the tab's first page and plot take "
            f"{last['first_page_ms']:.0f} ms (target 1 s: {'met' if last['first_page_ms'] <= 1000 else 'not met'}), "
            f"a filter {last['filter_ms']:.0f} ms (target 300 ms: {'met' if last['filter_ms'] <= 300 else 'not met'}),"
            " each including the look at the store for changes (`Zoo.current`)."
        )
    if rss:
        lines.append(
            f"- The app's memory (`python -m demos`, VmRSS once it answers and served `/leaderboard`): "
            f"{rss['empty']:.0f} MiB with an empty store, {rss['full']:.0f} MiB with {sizes[-1]:,} submissions "
            f"(+{rss['full'] - rss['empty']:.0f} MiB)."
        )
    return [*lines, ""]


def replace_section(text: str, new: list[str], title: str = TITLE) -> str:
    """``text`` with its section headed ``title`` replaced by ``new`` (appended at the end when missing); the
    heading keeps the number BENCHMARKS.md gives it ("## 12. Leaderboard at scale")."""
    block = "\n".join(new).rstrip("\n") + "\n"
    found = re.search(r"^## (?:[\d-]+\. )?" + re.escape(title.removeprefix("## ")) + "\n", text, flags=re.M)
    if found is None:
        return text.rstrip("\n") + "\n\n" + block
    start = found.start()
    block = found.group(0) + block.removeprefix(title + "\n")
    end = text.find("\n## ", found.end())
    return text[:start] + block + ("" if end < 0 else "\n" + text[end + 1 :])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.leaderboard_scale", description=__doc__)
    p.add_argument("--out", help="the BENCHMARKS.md whose section to replace (default: print it)")
    p.add_argument("--no-app", action="store_true", help="leave out the running app's memory (two app starts)")
    p.add_argument("--child", metavar="STORE", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(in_process(Path(args.child))))
        return 0
    lines = section(with_app=not args.no_app)
    if args.out:
        path = Path(args.out)
        path.write_text(replace_section(path.read_text(), lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
