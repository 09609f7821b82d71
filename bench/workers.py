"""Evaluation workers' throughput: ``python -m bench.workers [--requests 12] [--workers 1 3]``.

A local Hub server (``tests/hubserver.py``, the one the tests use) holds a requests dataset with small house-prices
submissions, published as the app publishes them; N ``python -m zoo worker`` processes drain it. Requests per minute
from the workers' start to the last result (their start-up, torch's import, is counted). Prints a markdown table.
Its helpers (a small model, a worker process) serve ``tests/test_workers.py`` too.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
CARD = "---\nlicense: mit\nlibrary_name: dlfs-zoo\n---\n# {name}\n\n" + (
    "A house-prices model whose weights were drawn at random from a seeded generator, to test the queue. " * 3
)


def house_model(folder: Path, i: int) -> Path:
    """A house-prices checkpoint of its own (the book model's shape, weights drawn from seed ``i``)."""
    import zoo
    from zoo.checkpoint_io import save_checkpoint

    model = zoo.load("house-prices-book")
    torch.manual_seed(i)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    name = f"reader-houses-{i:02d}"
    return save_checkpoint(model, folder, name, CARD.format(name=name))


def publish(queue, folder: Path) -> str:
    """Submitted as the app submits when workers evaluate (``DatasetQueue``): gated, kept, published."""
    from zoo.submissions import check

    return queue.store.admit(check(folder, None, queue.store, source="upload"), folder)


def start_worker(endpoint: str, home: Path, repo: str, lease: float, poll: float = 0.5) -> subprocess.Popen:
    """``python -m zoo worker`` in a process session of its own (so that it can be killed with its evaluation),
    with an HF cache and a temporary folder of its own; its output goes to ``home/log.txt``."""
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        HF_ENDPOINT=endpoint,
        HF_HOME=str(home / "hf"),
        HF_TOKEN="hf_test_token",
        TMPDIR=str(home / "tmp"),
        DLFS_ZOO_RESULTS=str(home / "results"),
        PYTHONPATH=str(ROOT),
    )
    command = [sys.executable, "-m", "zoo", "worker", "--requests", repo, "--lease", str(lease), "--poll", str(poll)]
    with open(home / "log.txt", "w") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen) -> None:
    """The worker and its evaluation, killed (as a machine that dies)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def drain(n_requests: int, n_workers: int, lease: float = 120.0) -> tuple[float, float, int]:
    """Seconds ``n_workers`` workers take to evaluate ``n_requests`` requests (all finished, or it fails), the
    median seconds of one request in a worker, and the commits the Hub refused (lost races)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from hubserver import HubServer

    with tempfile.TemporaryDirectory(prefix="dlfs-bench-workers-") as tmp:
        tmp = Path(tmp)
        server = HubServer(tmp / "hub", token="hf_test_token").start()
        os.environ.update(HF_ENDPOINT=server.endpoint, HF_HOME=str(tmp / "hf"), HF_TOKEN="hf_test_token")
        import importlib

        import huggingface_hub.constants

        importlib.reload(huggingface_hub.constants)
        from huggingface_hub import HfApi

        from zoo.submissions.app_queue import DatasetQueue

        repo = "bench/requests"
        HfApi().create_repo(repo, repo_type="dataset")
        queue = DatasetQueue(repo, root=tmp / "app", every=0)
        for i in range(n_requests):
            publish(queue, house_model(tmp / "models", i))
        start = time.perf_counter()
        workers = [start_worker(server.endpoint, tmp / f"worker-{i}", repo, lease) for i in range(n_workers)]
        try:
            while True:
                states = [r.get("status") for r, _ in queue.store.dataset.read().requests.values()]
                if all(s in ("finished", "failed") for s in states):
                    break
                time.sleep(0.5)
            seconds = time.perf_counter() - start
        finally:
            for proc in workers:
                stop(proc)
            server.stop()
        if states.count("finished") != n_requests:
            raise SystemExit(f"only {states.count('finished')} of {n_requests} requests finished")
        said = "".join((tmp / f"worker-{i}" / "log.txt").read_text() for i in range(n_workers))
        each = [float(m) for m in re.findall(r": finished in ([0-9.]+) s", said)]
        return seconds, statistics.median(each), server.stale_commits


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    p.add_argument("--requests", type=int, default=12)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    args = p.parse_args(argv)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    print(f"{cpu or platform.processor()}, {os.cpu_count()} cores; {args.requests} house-prices requests\n")
    print("| workers | seconds to drain | requests/min | median s per request | commits refused (412) |")
    print("|---|---|---|---|---|")
    for n in args.workers:
        seconds, each, refused = drain(args.requests, n)
        print(f"| {n} | {seconds:.1f} | {args.requests / seconds * 60:.1f} | {each:.1f} | {refused} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
