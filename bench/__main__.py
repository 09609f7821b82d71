"""``python -m bench`` (``make bench``): measure what users wait for and write BENCHMARKS.md.

Every figure is the median of >= 3 runs; comparisons are ratios measured inside one run.
``--only NAME`` runs one section; ``--quick`` shrinks every section to one run of a few images or requests (the
smoke run in ``make test``: every line is written, no figure is meant to be read).
``--only hostile`` (bench/hostile.py, also ``python -m bench.hostile RESULTS.json``): decompression bombs and a
greedy client against the running app; ``--hostile-json PATH`` keeps its figures as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from bench import hostile, leaderboard_scale, train_speed, train_tab

ROOT = Path(__file__).resolve().parent.parent


def median_of(fn, runs: int = 3) -> tuple[float, list[float]]:
    vals = [fn() for _ in range(runs)]
    return statistics.median(vals), vals


# --------------------------------------------------------------------------------------- inference
def percentile(vals: list[float], q: float) -> float:
    return float(np.percentile(np.array(vals), q))


def bench_inference(quick: bool = False) -> list[str]:
    import zoo
    from training.drawn import human_drawing
    from zoo.sketch import to_mnist

    torch.set_grad_enabled(False)
    out = ["## 2-4. Inference (server side, this process)", ""]
    runs = 1 if quick else 3  # quick: every figure once
    # 2. sketch -> label for an 800x800 RGBA drawing
    with np.load(ROOT / "demos" / "assets" / "mnist_sample.npz") as f:
        images = f["images"]
    rng = np.random.default_rng(0)
    drawings = [np.asarray(human_drawing(images[i], rng, 800).convert("RGBA")) for i in range(50)]
    model = zoo.load(zoo.leaderboard("digits")[0].model)

    def classify(img: np.ndarray) -> int:
        return int(model(model.preprocess(to_mnist(img)))[0].argmax())

    sketch_runs = []
    for _ in range(runs):
        times = []
        for img in drawings * 4:
            t = time.perf_counter()
            classify(img)
            times.append((time.perf_counter() - t) * 1000)
        sketch_runs.append((percentile(times, 50), percentile(times, 99)))
    p50 = statistics.median(r[0] for r in sketch_runs)
    p99 = statistics.median(r[1] for r in sketch_runs)
    out += [
        f"- **Sketch -> label** (800x800 RGBA, preprocessing + `{model.config['name']}` forward): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (targets 10 / 30 ms: {'met' if p50 <= 10 and p99 <= 30 else 'not met'})"
    ]
    photo_p50, photo_p99 = photo_latency(model, images)
    out += [
        f"- **Photo -> label** (800x800 JPEG phone photos of pencil and pen on paper, shadows, noise; "
        f"`training.drawn.as_photo`): p50 {photo_p50:.1f} ms, p99 {photo_p99:.1f} ms"
    ]
    # 3. text generation, one thread
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    for name, how in (("char-lstm-256", "recurrent state"), ("char-transformer", "key/value cache")):
        text_model = zoo.load(name)

        def chars_per_s(m=text_model) -> float:
            t = time.perf_counter()
            text = "".join(m.generate("ROMEO:\n", 2000, temperature=0.8, seed=0))
            return len(text) / (time.perf_counter() - t)

        cps, cps_runs = median_of(chars_per_s, runs)
        out += [
            f"- **Text generation** (`{name}`, {how}, one thread, 2,000 characters): {cps:,.0f} chars/s "
            f"(runs {', '.join(f'{v:,.0f}' for v in cps_runs)}; target >= 2,000: {'met' if cps >= 2000 else 'not met'})"
        ]
    torch.set_num_threads(threads)
    # 4. latent decode
    for name in ("autoencoder-book", "vae-28", "dcgan-28"):
        dec = zoo.load(name)
        z = dec.sample_codes(1)

        def decode_ms(dec=dec, z=z) -> float:
            for _ in range(5):
                dec.decode(z)
            t = time.perf_counter()
            for _ in range(100):
                dec.decode(z)
            return (time.perf_counter() - t) * 10

        ms, ms_runs = median_of(decode_ms, runs)
        out += [
            f"- **Latent decode** (`{name}`, one image): {ms:.2f} ms "
            f"(runs {', '.join(f'{v:.2f}' for v in ms_runs)}; target <= 5 ms: {'met' if ms <= 5 else 'not met'})"
        ]
    gan = zoo.load("dcgan-28")
    drawing = gan.to_input(torch.from_numpy(images[:1].astype(np.float32) / 255.0))

    def search_s() -> float:
        t = time.perf_counter()
        gan.encode(drawing)
        return time.perf_counter() - t

    secs, secs_runs = median_of(search_s, runs)
    out += [
        f"- **GAN inversion** (`dcgan-28`, 'Encode my drawing': {gan.config['search_steps']} Adam steps from "
        f"{gan.search_starts} starts, the best two of each continued): {secs:.2f} s "
        f"(runs {', '.join(f'{v:.2f}' for v in secs_runs)}; target <= 1 s: {'met' if secs <= 1 else 'not met'})"
    ]
    return out + [""]


def photo_latency(model, images: np.ndarray) -> tuple[float, float]:
    from training.drawn import _affine, as_photo, draw_strokes, mnist_strokes
    from zoo.sketch import to_mnist

    rng = np.random.default_rng(1)
    photos = []
    for i in range(20):
        ink = draw_strokes(_affine(mnist_strokes(images[i]), rng), 800, 480, float(rng.uniform(3, 30)), rng)
        photos.append(np.asarray(as_photo(ink, rng)))
    times = []
    for photo in photos * 5:
        t = time.perf_counter()
        digit = to_mnist(photo)
        if digit is not None:  # a photo it calls blank costs the preprocessing alone
            model(model.preprocess(digit))
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 50), percentile(times, 99)


# ---------------------------------------------------------------------------------- robustness sets
def bench_robustness(quick: bool) -> list[str]:
    """How long the digits benchmark takes to make (what a first `evaluate` of a digits model waits for)."""
    import itertools

    from training import corruptions, data, drawn, robustness

    pixels, labels = data.mnist_pixels(train=False)
    n_corrupt = 1000 if quick else len(pixels)
    start = time.perf_counter()
    for name in corruptions.CORRUPTIONS:
        corruptions.corrupt(name, pixels[:n_corrupt, 0])
    corrupt_s = time.perf_counter() - start
    n_drawn = 100 if quick else drawn.SIZE
    n_tight = 100 if quick else len(pixels)
    images = (pixels[:, 0].numpy() * 255).round().astype(np.uint8)
    start = time.perf_counter()  # made in order here, read in worker processes: as `evaluate` builds the set
    items = (image for image, *_ in itertools.islice(drawn.drawn_items(images, labels.numpy()), n_drawn))
    made = len(robustness.read_all(items, n_drawn, "drawn digits"))
    drawn_s = time.perf_counter() - start
    start = time.perf_counter()
    crops = (robustness.tight_crop(digit) for digit in images[:n_tight])
    cropped = len(robustness.read_all(crops, n_tight, "tight MNIST"))
    tight_s = time.perf_counter() - start
    return [
        "## 7. The digits robustness benchmark",
        "",
        f"- **corrupted** (MNIST-C's 15 corruptions): {15 * n_corrupt:,} images in {corrupt_s:.1f} s "
        f"({15 * n_corrupt / corrupt_s:,.0f} images/s)",
        f"- **drawn** v{drawn.VERSION} (rendered, photographed and read through `to_mnist`): {made:,} images in "
        f"{drawn_s:.1f} s ({made / drawn_s:,.1f} images/s), made in order and read by {robustness.workers()} "
        "worker processes. `evaluate` caches the drawn set's 28x28 inputs on disk, keyed by the generator's and "
        "the preprocessing's source, so later runs only score it.",
        f"- **tight** (MNIST test digits cropped to their ink, 256 px, read through `to_mnist`): {cropped:,} "
        f"images in {tight_s:.1f} s ({cropped / tight_s:,.1f} images/s), cached the same way.",
        "",
    ]


# ------------------------------------------------------------------------------------- app: start-up
def bench_app(load_clients: int, load_requests: int, quick: bool = False) -> list[str]:
    import psutil
    from gradio_client import Client

    from bench.app_process import RunningApp, picture
    from training.drawn import human_drawing

    startups, runs = [], 1 if quick else 3
    for _ in range(runs):
        t = time.perf_counter()
        app = RunningApp()
        client = Client(app.url, verbose=False)
        path = Path("/tmp/dlfs-bench-digit.png")
        with np.load(ROOT / "demos" / "assets" / "mnist_sample.npz") as f:
            human_drawing(f["images"][0], np.random.default_rng(0), 400).save(path)
        client.predict(image=picture(path), model="mnist-cnn-modern", api_name="/classify_digit")
        startups.append(time.perf_counter() - t)
        if len(startups) < runs:
            app.stop()
    proc = psutil.Process(app.proc.pid)
    rss_idle = proc.memory_info().rss
    # load: N concurrent clients x M requests
    peak = [rss_idle]
    stop = False

    def watch():
        while not stop:
            peak.append(proc.memory_info().rss)
            time.sleep(0.05)

    import threading

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def one_client(k: int) -> tuple[list[float], int]:
        c = Client(app.url, verbose=False)
        lat, errors = [], 0
        for _ in range(load_requests):
            t = time.perf_counter()
            try:
                c.predict(image=picture(path), model="mnist-cnn-modern", api_name="/classify_digit")
            except Exception:
                errors += 1
            lat.append((time.perf_counter() - t) * 1000)
        return lat, errors

    tti = time_to_interactive(app.url, runs)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(load_clients) as pool:
        results = list(pool.map(one_client, range(load_clients)))
    wall = time.perf_counter() - t0
    stop = True
    watcher.join()
    app.stop()
    lat = [v for r in results for v in r[0]]
    errors = sum(r[1] for r in results)
    total = load_clients * load_requests
    return [
        "## 5-6. The app",
        "",
        f"- **Start-up**, `python -m demos` to the first answered `/classify_digit`: median "
        f"{statistics.median(startups):.1f} s (runs {', '.join(f'{s:.1f}' for s in startups)}; target <= 12 s: "
        f"{'met' if statistics.median(startups) <= 12 else 'not met'})",
        f"- **Peak RSS** of the running app: {rss_idle / 2**20:,.0f} MiB idle, {max(peak) / 2**20:,.0f} MiB under load",
        f"- **First load** in Chromium (a fresh browser opening the page until the sketchpad takes strokes): {tti}",
        f"- **Load** ({load_clients} concurrent `gradio_client` clients x {load_requests} `/classify_digit`): "
        f"{errors} errors of {total}, p50 {percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms, "
        f"{total / wall:.1f} requests/s",
        "",
    ]


def time_to_interactive(url: str, runs: int = 3) -> str:
    """Seconds from navigation to a drawable sketchpad, desktop (1300 px) and phone (390 px) viewports."""
    chromium = os.environ.get("DLFS_ZOO_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return f"not measured ({chromium} missing)"
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        for width, height in ((1300, 1100), (390, 844)):
            times = []
            for _ in range(runs):
                browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
                page = browser.new_page(viewport={"width": width, "height": height})
                t = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("#digit-pad canvas", timeout=60_000)
                page.wait_for_selector('.dlfs-pad button[aria-label="Brush"]', timeout=60_000)
                times.append(time.perf_counter() - t)
                browser.close()
            out.append(f"{statistics.median(times):.2f} s at {width} px")
    return ", ".join(out) + f" (median of {runs})"


GPU_RUNS = ROOT / "bench" / "gpu_runs.json"  # what `bench/gpu_train.sh` measured on a lent GPU (bench/gpu_record.py)


def gpu_runs() -> dict:
    import json

    return json.loads(GPU_RUNS.read_text()) if GPU_RUNS.is_file() else {}


def _recipe(command: str) -> str:
    """A card's training command without where it wrote and ran (``--out``, ``--device``)."""
    import re

    return re.sub(r" --(out|device) \S+", "", command)


def _short(gpu: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'H100'."""
    return next((w for w in gpu.split() if w[:1] in "HABLV" and any(c.isdigit() for c in w)), gpu)


def _device(device: str, gpu_run: dict) -> str:
    """A card's device, named after the GPU when it was trained on one."""
    return f"cuda ({_short(gpu_run['gpu'])})" if device.startswith("cuda") and gpu_run else device


def bench_sizes() -> list[str]:
    from training import card
    from zoo.checkpoint_io import embedded_dir

    gpu = gpu_runs()
    rows, total, train_total = [], 0, 0.0
    for folder in sorted(p for p in embedded_dir().iterdir() if p.is_dir()):
        size = sum(f.stat().st_size for f in folder.iterdir())
        _, info = card.read(folder)
        total += size
        train_total += info.get("train_seconds", 0)
        gpu_run = gpu.get("models", {}).get(folder.name, {})
        same = _recipe(gpu_run.get("command", "")) == _recipe(info.get("command", ""))
        on_gpu = gpu_run.get("train_seconds") if same else None  # a run of an older recipe is not shown
        where = f"{info.get('train_seconds', 0):.0f} s on {_device(info.get('device', 'cpu'), gpu_run)}"
        on_gpu = "" if on_gpu is None else f"{on_gpu:.0f} s ({_short(gpu_run['gpu'])})"
        rows.append(f"| `{folder.name}` | {size / 1024:,.0f} KiB | {where} | {on_gpu} |")
    runs = sorted({(m["gpu"], m["torch"], m["date"]) for m in gpu.get("models", {}).values()})
    gpu_note = (
        "GPU column: `bench/gpu_train.sh` on "
        + "; ".join(f"{name} ({version}), {date}" for name, version, date in runs)
        + ": the same recipes with `--device cuda` (bf16 autocast), training only (the cards' `train_seconds`; "
        "the robustness sets skipped there, `evaluate --verify --skip-robustness` re-checked those checkpoints on "
        "this CPU). An empty cell: no GPU run of that recipe yet."
        if runs
        else "No GPU run recorded (`bench/gpu_train.sh` makes one where a GPU is at hand)."
    )
    return [
        "## 6. Sizes and training time",
        "",
        "| checkpoint | folder size | training wall time (from its card) | on one GPU |",
        "|---|---|---|---|",
        *rows,
        f"| **total** | **{total / 2**20:.1f} MiB** | **{train_total / 60:.1f} min** | |",
        "",
        "`train all` also loads data and evaluates each model; its own wall time is in the README. " + gpu_note,
        "",
    ]


def bench_scaling(quick: bool) -> list[str]:
    """samples/s of one training epoch with 1 and 2 processes (torchrun, gloo) on this machine, and 1 GPU."""
    import tempfile

    from training import card

    args = ["mnist-convnet-book", "--seeds", "1", "--skip-robustness", "--quiet"]
    args += ["--train-limit", "1200"] if quick else []  # quick: 20 steps of the global batch
    rows = []
    for procs in (1, 2):
        launcher = [sys.executable] if procs == 1 else [sys.executable, "-m", "torch.distributed.run"]
        launcher += [] if procs == 1 else ["--standalone", f"--nproc-per-node={procs}"]
        env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // procs)), "DLFS_ZOO_DEVICE": "cpu"}
        runs = []
        for _ in range(1 if quick else 3):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                subprocess.run([*launcher, "-m", "training", "train", *args, "--out", out], env=env, check=True)
                wall = time.perf_counter() - start
                metrics, info = card.read(Path(out) / "mnist-convnet-book")
                epoch = info["history"][-1]
                runs.append((epoch["samples_per_s"], epoch["seconds"], wall, metrics["accuracy"]))
        rate, seconds, wall, acc = (statistics.median(r[i] for r in runs) for i in range(4))
        threads = env["OMP_NUM_THREADS"]
        rows.append(
            f"| {procs} process(es) x {threads} thread(s), CPU | {rate:,.0f} | {seconds:.1f} | {wall:.1f} | {acc:.4f} |"
        )
    gpu = gpu_runs().get("models", {}).get("mnist-convnet-book")
    if gpu:
        rows.append(
            f"| 1 GPU ({gpu['gpu']}), `bench/gpu_train.sh` | {gpu['samples_per_s']:,.0f} | "
            f"{gpu['epoch_seconds']:.1f} | {gpu['process_seconds']:.1f} (its 5 seeds) | {gpu['accuracy']:.4f} |"
        )
    return [
        "## 8. Scaling out: `torchrun`",
        "",
        "`mnist-convnet-book`, one epoch of its recipe (global batch 60, lr 0.01), median of "
        f"{1 if quick else 3} run(s); each process a fresh `python -m training train` (torchrun --standalone, gloo).",
        "",
        "| processes | samples/s (epoch) | epoch seconds | whole process, s | test accuracy |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "This machine has 2 cores: two processes of one thread each do the work one process of two threads does, "
        "plus an all-reduce of the gradients every step (30 images per process per step), so they do not run faster "
        "here; the point of the row is that the same command scales where there are more cores, machines or GPUs. "
        "The accuracies differ only by dropout's random draws (each process draws the masks for its half of the "
        "batch): without dropout, `tests/test_distributed.py` (`mnist-mlp`) gets one process's result from two.",
        "",
    ]


def splice(old: str, new: str) -> str:
    """``old`` with each ``## `` section that ``new`` has replaced by ``new``'s (appended when missing), and
    ``new``'s header line (machine, date) in place of ``old``'s."""

    def parts(text: str) -> tuple[str, dict[str, str]]:
        head, *sections = text.split("\n## ")
        return head, {s.split("\n", 1)[0]: "## " + s for s in sections}

    old_head, old_sections = parts(old)
    new_head, new_sections = parts(new)
    merged = dict(old_sections) | new_sections
    return new_head.rstrip("\n") + "\n\n" + "\n".join(s.rstrip("\n") + "\n" for s in merged.values())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--only",
        choices=["training", "inference", "app", "sizes", "robustness", "scaling", "hostile", "scale", "train-tab"],
    )
    p.add_argument("--quick", action="store_true")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--requests", type=int, default=20)
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--hostile-json", help="also write the hostile-visitor figures as JSON here")
    args = p.parse_args(argv)
    cpu = (
        subprocess.run(
            ["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True
        ).stdout.strip()
        or platform.processor()
    )
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; {dt.date.today().isoformat()}. Regenerate with `make bench`.",
        "",
    ]
    sections = {
        "training": lambda: train_speed.section(args.quick),
        "inference": lambda: bench_inference(args.quick),
        "app": lambda: bench_app(args.clients, args.requests, args.quick),
        "sizes": bench_sizes,
        "robustness": lambda: bench_robustness(args.quick),
        "scaling": lambda: bench_scaling(args.quick),
        "hostile": lambda: hostile.measure(args.quick, args.hostile_json),
        "scale": lambda: leaderboard_scale.section(args.quick),  # the leaderboard at 100 / 1,000 / 10,000 rows
        "train-tab": lambda: [] if args.quick else train_tab.section(),  # the Train tab's throughput beside the CLI's
    }
    for name, fn in sections.items():
        if args.only in (None, name):
            print(f"running {name} ...", flush=True)
            start = time.perf_counter()
            lines += fn()
            print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    text = "\n".join(lines)
    if args.only and Path(args.out).is_file():  # one section re-measured: the file's other sections stay
        text = splice(Path(args.out).read_text(), text)
    tmp = Path(args.out).with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(args.out)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
