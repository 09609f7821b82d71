"""Hostile visitors against the real app (``python -m demos`` in a subprocess, over HTTP), as issue 35 tried them.

1. **Bombs**: six decompression bombs arrive at ``/classify_digit`` at once, three PNGs and three GIFs of tens of
   KB that each declare 13000 x 13000 pixels. The app's memory (RSS of its process and its children, sampled
   every 10 ms) is measured against idle (goal: < 500 MB above it); each bomb must get a refusal sentence, and
   the next digit must still be read.
2. **A crowd**: a good client's ``/classify_digit`` latency alone, then while another client (a second process,
   one ``gradio_client.Client``) keeps 50 requests in flight at all times.

``python -m bench.hostile RESULTS.json`` writes the figures as JSON and prints a table; ``--quick`` is the smoke
run of the tests; ``python -m bench --only hostile`` writes the BENCHMARKS.md section.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import wait
from pathlib import Path

import numpy as np

from zoo.basics import cpu_model

ROOT = Path(__file__).resolve().parent.parent
SIDE = 13000  # each bomb declares SIDE x SIDE pixels: 169 megapixels, 507 MB as RGB
GOAL_MB = 500  # the app's peak above idle while the bombs arrive
MODEL = "mnist-cnn-modern"
# what a visitor must never read in an answer: a traceback, a server path, a Python exception class
LEAK = re.compile(r"Traceback|File \"|(?<![\w.])/(?:[\w.-]+/)+[\w.-]*|\b[A-Z]\w*(?:Error|Exception|Warning)\b")


# ------------------------------------------------------------------------------------------------ the bombs


def visitor(n: int) -> dict[str, str]:
    """The header a Space's proxy adds: the app (``DLFS_ZOO_PROXIED=1``) counts each client as its own visitor,
    so the caps per visitor (``demos/quotas.py``) hold the greedy client back, not the good one."""
    return {"X-Forwarded-For": f"10.0.0.{n}"}


def png_bomb(side: int = SIDE) -> bytes:
    """A PNG of side x side one-bit pixels, all zero: about 20 KB for 13000 px, compressed row by row (never
    held decoded), the way an attacker makes one."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), b"\0" * (1 + (side + 7) // 8)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def gif_bomb(side: int = SIDE) -> bytes:
    """A GIF whose one frame is side x side pixels of colour 0, really encoded (it decodes in full): about 65 KB
    for 13000 px. The LZW codes of a run of zeros name ever longer runs; once the table is full (4096 codes)
    the longest run is sent again and again, 12 bits for 4,000-odd pixels (a deferred clear, which GIF allows)."""
    min_bits = 2  # GIF's smallest code size: colours 0-3, clear code 4, end code 5
    clear, end = 1 << min_bits, (1 << min_bits) + 1
    width, next_code = min_bits + 1, end + 1
    out, acc, nbits = bytearray(), 0, 0

    def emit(code: int) -> None:
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += width
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc, nbits = acc >> 8, nbits - 8

    emit(clear)
    run_code = [-1, 0]  # run_code[n]: the code of n zeros
    left = side * side
    while left:
        n = min(len(run_code) - 1, left)
        emit(run_code[n])
        left -= n
        if left and next_code < 4096:  # the table learns the run just sent plus one zero
            run_code.append(next_code)
            if next_code == 1 << width and width < 12:
                width += 1
            next_code += 1
    emit(end)
    if nbits:
        out.append(acc & 0xFF)
    blocks = b"".join(bytes([len(out[i : i + 255])]) + out[i : i + 255] for i in range(0, len(out), 255))
    screen = struct.pack("<HHBBB", side, side, 0x91, 0, 0) + bytes(12)  # a global table of 4 black colours
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, side, side, 0) + bytes([min_bits])
    return b"GIF89a" + screen + frame + blocks + b"\x00\x3b"


# ------------------------------------------------------------------------------------------------- measuring
class MemoryWatch:
    """The summed RSS of a process and its children, sampled every ``every`` seconds in a thread while open."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        import psutil

        self.root, self.every, self.samples = psutil.Process(pid), every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def rss(self, procs: list) -> int:
        import psutil

        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:  # a child that ended between two samples
                pass
        return total

    def _family(self) -> list:
        return [self.root, *self.root.children(recursive=True)]

    def _watch(self) -> None:
        procs, listed = self._family(), time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() - listed > 0.25:  # children are listed 4 times a second, sampled every 10 ms
                procs, listed = self._family(), time.monotonic()
            self.samples.append((time.monotonic(), self.rss(procs)))
            time.sleep(self.every)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> int:
        return self.rss(self._family())


def percentile(vals: list[float], q: float) -> float:
    return float(np.percentile(np.array(vals), q))


def digit_file(folder: Path) -> tuple[Path, int]:
    """An MNIST digit (28 x 28, light on dark) as a PNG, and its label."""
    from PIL import Image

    with np.load(ROOT / "demos" / "assets" / "mnist_sample.npz") as f:
        image, label = f["images"][0], int(f["labels"][0])
    path = folder / "digit.png"
    Image.fromarray(image).save(path)
    return path, label


def read_digit(client, path: Path) -> str:
    from bench.app_process import picture

    top, _, _ = client.submit(image=picture(path), model=MODEL, api_name="/classify_digit").result(timeout=120)
    return str(top["label"])


def bombs(app, folder: Path, digit: Path, label: int) -> dict:
    """Six bombs at once, each from its own client; the app's memory meanwhile; then one ordinary digit."""
    from gradio_client import Client

    from bench.app_process import picture

    files = []
    for kind, make in (("png", png_bomb), ("gif", gif_bomb)):
        data = make()
        for i in range(3):
            (folder / f"bomb-{i}.{kind}").write_bytes(data)
            files.append(folder / f"bomb-{i}.{kind}")
    clients = [Client(app.url, verbose=False, headers=visitor(10 + i)) for i in range(len(files))]
    client = clients[0]
    for _ in range(3):  # models loaded, first requests served: the idle the bombs are measured against
        read_digit(client, digit)
    time.sleep(1.0)
    with MemoryWatch(app.proc.pid) as idle_watch:
        time.sleep(1.0)
    idle = statistics.median(rss for _, rss in idle_watch.samples)
    answers = []
    with MemoryWatch(app.proc.pid) as watch:
        start = time.monotonic()
        pairs = list(zip(clients, files, strict=True))
        jobs = [c.submit(image=picture(f), model=MODEL, api_name="/classify_digit") for c, f in pairs]
        wait(jobs, timeout=180)
        answered = time.monotonic() - start
        for f, job in zip(files, jobs, strict=True):
            try:
                answers.append({"file": f.name, "refused": False, "answer": repr(job.result(timeout=0))[:300]})
            except Exception as e:  # gradio_client raises the app's refusal (or whatever went wrong) here
                text = str(e)
                sentence = "megapixels" in text and not LEAK.search(text)
                answers.append({"file": f.name, "refused": sentence, "answer": text[:300]})
        time.sleep(1.0)  # memory freed late still counts
    after = read_digit(client, digit)
    times = [t for t, _ in watch.samples]
    peak = max(rss for _, rss in watch.samples)
    return {
        "files": [{"name": f.name, "bytes": f.stat().st_size, "declared": f"{SIDE} x {SIDE}"} for f in files],
        "idle_mb": idle / 1e6,
        "peak_mb": peak / 1e6,
        "peak_above_idle_mb": (peak - idle) / 1e6,
        "after_mb": watch.now() / 1e6,
        "goal_above_idle_mb": GOAL_MB,
        "goal_met": (peak - idle) / 1e6 < GOAL_MB,
        "answered_s": answered,
        "samples": len(times),
        "sample_interval_ms": 1000 * (times[-1] - times[0]) / max(1, len(times) - 1),
        "answers": answers,
        "refused_with_a_sentence": sum(a["refused"] for a in answers),
        "digit_after": {"expected": str(label), "answered": after},
    }


def timed_calls(client, digit: Path, n: int, budget_s: float) -> list[float]:
    """Latencies (ms) of up to n sequential ``/classify_digit`` calls, stopping early past budget_s."""
    out, start = [], time.monotonic()
    while len(out) < n and time.monotonic() - start < budget_s:
        t = time.perf_counter()
        read_digit(client, digit)
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(lat: list[float], wanted: int) -> dict:
    return {
        "calls": len(lat),
        "wanted": wanted,
        "median_ms": statistics.median(lat),
        "p90_ms": percentile(lat, 90),
        "max_ms": max(lat),
    }


def crowd(app, digit: Path, calls: int, in_flight: int) -> dict:
    """The good client alone, then beside a second process that keeps ``in_flight`` requests in flight."""
    from gradio_client import Client

    client = Client(app.url, verbose=False, headers=visitor(1))
    for _ in range(3):
        read_digit(client, digit)
    alone = timed_calls(client, digit, calls, budget_s=60)
    print(f"  alone: {len(alone)} calls, median {statistics.median(alone):.0f} ms", flush=True)
    flood = subprocess.Popen(
        [sys.executable, "-m", "bench.hostile", "--flood", app.url, "--in-flight", str(in_flight), "--image", digit],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = flood.stdout.readline().strip()  # after one full round of answers: the queue is in its steady state
        if ready != "ready":
            raise RuntimeError(f"the flooding client did not start: {ready!r}")
        loaded = timed_calls(client, digit, calls, budget_s=100)
        flood.stdin.write("stop\n")
        flood.stdin.flush()
        other = json.loads(flood.stdout.readline())
    finally:
        flood.stdin.close()
        try:
            flood.wait(30)
        except subprocess.TimeoutExpired:
            flood.kill()
    print(f"  beside {in_flight} in flight: {len(loaded)} calls, median {statistics.median(loaded):.0f} ms", flush=True)
    return {"alone": summary(alone, calls), "loaded": summary(loaded, calls), "in_flight": in_flight, "other": other}


def flood_main(url: str, in_flight: int, image: str) -> int:
    """The other client: one ``Client`` (one session), ``in_flight`` threads each with one request always out.
    Prints ``ready`` after a full round of answers, and its counts as JSON once a line arrives on stdin."""
    from gradio_client import Client

    from bench.app_process import picture

    client = Client(url, verbose=False, max_workers=in_flight + 8, headers=visitor(2))
    stop, lock = threading.Event(), threading.Lock()
    counts = {"answers": 0, "errors": 0, "first_error": None}
    marks: dict[str, float] = {}

    def loop() -> None:
        while not stop.is_set():
            try:
                client.submit(image=picture(image), model=MODEL, api_name="/classify_digit").result(timeout=300)
                key = "answers"
            except Exception as e:
                key = "errors"
                counts["first_error"] = counts["first_error"] or str(e)[:300]
            with lock:
                counts[key] += 1
                if counts["answers"] + counts["errors"] == in_flight:
                    marks["ready"] = time.monotonic()
                    marks["at_ready"] = in_flight
                    print("ready", flush=True)

    for _ in range(in_flight):
        threading.Thread(target=loop, daemon=True).start()
    sys.stdin.readline()
    with lock:
        done = counts["answers"] + counts["errors"] - marks.get("at_ready", 0)
        seconds = time.monotonic() - marks.get("ready", time.monotonic())
        stop.set()
    print(json.dumps({**counts, "answers_per_s_meanwhile": done / max(seconds, 1e-9)}), flush=True)
    os._exit(0)  # the threads' last requests are left to the app


# --------------------------------------------------------------------------------------------------- report
def run(quick: bool = False) -> dict:
    from bench.app_process import RunningApp

    load = os.getloadavg()
    print(f"hostile: {cpu_model()}, {os.cpu_count()} cores, load average {load[0]:.2f} before the run", flush=True)
    results = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average_before": load[0],
        "quick": quick,
        "date": time.strftime("%Y-%m-%d"),
    }
    with tempfile.TemporaryDirectory(prefix="dlfs-hostile-") as tmp:
        folder = Path(tmp)
        env = {"DLFS_ZOO_RESULTS": str(folder / "results"), "DLFS_ZOO_FLAGS": str(folder / "flags")}
        env["DLFS_ZOO_PROXIED"] = "1"  # each client below is its own visitor, as behind a Space's proxy
        print("hostile: starting the app ...", flush=True)
        t = time.monotonic()
        app = RunningApp(env=env)
        results["app_start_s"] = time.monotonic() - t
        try:
            digit, label = digit_file(folder)
            print("hostile: six bombs at once (3 PNG, 3 GIF) ...", flush=True)
            results["bombs"] = bombs(app, folder, digit, label)
            b = results["bombs"]
            print(
                f"  idle {b['idle_mb']:.0f} MB, peak {b['peak_mb']:.0f} MB "
                f"(+{b['peak_above_idle_mb']:.0f} MB), {b['refused_with_a_sentence']} of 6 refused",
                flush=True,
            )
            calls, in_flight = (5, 10) if quick else (40, 50)
            print(f"hostile: a good client alone, then beside {in_flight} requests in flight ...", flush=True)
            results["latency"] = crowd(app, digit, calls, in_flight)
        finally:
            app.stop()
    return results


def table(r: dict) -> str:
    b, lat = r["bombs"], r["latency"]
    verdict = "met" if b["goal_met"] else "NOT met"
    rows = [
        ("CPU", f"{r['cpu']}, {r['cores']} cores (load average {r['load_average_before']:.2f} before)"),
        ("bombs", f"{len(b['files'])} at once, " + ", ".join(sorted({f"{f['bytes']:,} B" for f in b["files"]}))),
        ("idle RSS", f"{b['idle_mb']:,.0f} MB"),
        ("peak RSS", f"{b['peak_mb']:,.0f} MB ({b['samples']} samples, every {b['sample_interval_ms']:.1f} ms)"),
        ("peak - idle", f"{b['peak_above_idle_mb']:,.0f} MB (goal < {GOAL_MB} MB: {verdict})"),
        ("refused with a sentence", f"{b['refused_with_a_sentence']} of {len(b['answers'])}"),
        ("digit after", f"{b['digit_after']['answered']} (expected {b['digit_after']['expected']})"),
        ("alone", f"median {lat['alone']['median_ms']:.0f} ms, p90 {lat['alone']['p90_ms']:.0f} ms"),
        (
            f"beside {lat['in_flight']} in flight",
            f"median {lat['loaded']['median_ms']:.0f} ms, p90 {lat['loaded']['p90_ms']:.0f} ms "
            f"({lat['loaded']['calls']} calls)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def section(r: dict) -> list[str]:
    b, lat = r["bombs"], r["latency"]
    alone, loaded, other = lat["alone"], lat["loaded"], lat["other"]
    sizes = {kind: next(f["bytes"] for f in b["files"] if f["name"].endswith(kind)) for kind in ("png", "gif")}
    busy = r["load_average_before"] >= 0.5 * r["cores"]
    note = (
        f"The machine was busy with other work (load average {r['load_average_before']:.1f} on {r['cores']} cores "
        "before the run): the latency figures are those of a busy machine, to be re-measured on a quiet one."
        if busy
        else f"Load average before the run: {r['load_average_before']:.1f} on {r['cores']} cores."
    )
    sentence = next((a["answer"] for a in b["answers"] if a["refused"]), None)
    return [
        "## 9. Hostile visitors",
        "",
        f"`python -m bench.hostile results.json` (or `python -m bench --only hostile`): the real app "
        f"(`python -m demos`) in a subprocess, talked to over HTTP with `gradio_client`; {r['cpu']}, "
        f"{r['cores']} cores, {r['date']}. {note}",
        "",
        f"**Six decompression bombs at once** at `/classify_digit`, each from its own client: three PNGs "
        f"({sizes['png']:,} bytes) and three GIFs ({sizes['gif']:,} bytes, a real LZW stream) that each declare "
        f"{SIDE} x {SIDE} pixels (169 megapixels: 507 MB once decoded as RGB). Memory is the RSS of the app's "
        f"process and its children, sampled every {b['sample_interval_ms']:.0f} ms; idle is the median over one "
        "second after three ordinary digits.",
        "",
        "| app memory | MB |",
        "|---|---|",
        f"| idle | {b['idle_mb']:,.0f} |",
        f"| peak while the bombs arrive | {b['peak_mb']:,.0f} |",
        f"| **peak above idle** (goal < {GOAL_MB} MB: {'met' if b['goal_met'] else '**not met**'}) | "
        f"**{b['peak_above_idle_mb']:,.0f}** |",
        "",
        f"{b['refused_with_a_sentence']} of {len(b['answers'])} bombs got a refusal sentence, all answered within "
        f"{b['answered_s']:.1f} s"
        + (f' ("{sentence}")' if sentence else "")
        + f"; the next digit was read as {b['digit_after']['answered']} (it is a {b['digit_after']['expected']}).",
        "",
        f"**A good client beside a greedy one.** A 28 x 28 MNIST digit, sequential `/classify_digit` calls from one "
        f"`gradio_client.Client` (model `{MODEL}`), alone and then while a second process (one client, one session) "
        f"keeps {lat['in_flight']} requests in flight at all times.",
        "",
        "| good client | calls | median | p90 |",
        "|---|---|---|---|",
        f"| alone | {alone['calls']} | {alone['median_ms']:,.0f} ms | {alone['p90_ms']:,.0f} ms |",
        f"| beside {lat['in_flight']} in flight | {loaded['calls']} | {loaded['median_ms']:,.0f} ms | "
        f"{loaded['p90_ms']:,.0f} ms |",
        "",
        f"Meanwhile the greedy client got {other['answers_per_s_meanwhile']:,.1f} answers/s "
        f"({other['errors']} more refused by the cap on one visitor's requests at once, DLFS_ZOO_IN_FLIGHT); "
        "its process shares the machine's cores with the app."
        + (
            f" The loaded phase stops after 100 s: {loaded['calls']} of {loaded['wanted']} calls were made."
            if loaded["calls"] < loaded["wanted"]
            else ""
        ),
        "",
    ]


def measure(quick: bool, results_json: str | None = None) -> list[str]:
    """Run both phases, write the figures as JSON (when a path is given), print the table; the BENCHMARKS.md
    section's lines."""
    results = run(quick)
    if results_json:
        tmp = Path(results_json).with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1, allow_nan=False) + "\n")
        tmp.replace(results_json)
    print(table(results), flush=True)
    return section(results)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="?", help="where to write the figures as JSON")
    p.add_argument("--quick", action="store_true", help="5 calls per phase, 10 in flight (a smoke run)")
    p.add_argument("--flood", metavar="URL", help=argparse.SUPPRESS)  # the greedy client's process
    p.add_argument("--in-flight", type=int, default=50, help=argparse.SUPPRESS)
    p.add_argument("--image", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.flood:
        return flood_main(args.flood, args.in_flight, args.image)
    if not args.results:
        p.error("give the JSON file to write the figures to")
    measure(args.quick, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
