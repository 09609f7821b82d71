"""Record what ``bench/gpu_train.sh`` brought back from GPU machines: ``python -m bench.gpu_record DIR [DIR ...]``.

Unpacks the checkpoints, re-checks every one on this CPU (``evaluate --verify --skip-robustness``: the metrics
a CPU recomputes must be the ones the GPU run wrote), and merges them into ``bench/gpu_runs.json`` (per model:
the GPU, torch and date of its run, training seconds, the whole process's seconds, samples/s of the last epoch,
the card's metrics, verified or not; models of earlier runs stay), which ``make bench`` puts beside the CPU's
figures. The accelerator-only entry is copied into the zoo.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from training import card
from zoo.catalog import ENTRIES

ROOT = Path(__file__).resolve().parent.parent
GPU_ONLY = [n for n, e in ENTRIES.items() if any("Needs an accelerator" in note for note in e.recipe.notes)]


def main(*sources: str) -> int:
    path = ROOT / "bench" / "gpu_runs.json"
    record = json.loads(path.read_text()) if path.is_file() else {"models": {}}
    recorded, failed = {}, set()
    for src in map(Path, sources):
        models, stopped = _record(src)
        recorded |= models
        failed |= set(stopped)
    record["models"] = dict(sorted((record["models"] | recorded).items()))
    record["failed_or_stopped"] = sorted(failed - set(recorded))
    record["devices"] = sorted({m["gpu"] for m in record["models"].values()})
    path.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
    print(json.dumps({k: (v["gpu"], v["train_seconds"], v["verified_on_cpu"]) for k, v in recorded.items()}, indent=1))
    return 0


def _record(src_dir: Path) -> tuple[dict, list[str]]:
    """One GPU call's folder: its verified models and the names whose run failed or was stopped."""
    device, torch_version = (src_dir / "device.txt").read_text().splitlines()[:2]
    processes = {}
    for line in (src_dir / "runs.jsonl").read_text().splitlines():
        run = json.loads(line)
        processes[run["name"]] = run
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = Path(tmp)
        for archive in sorted(src_dir.glob("*.tar")):
            with tarfile.open(archive) as tar:
                tar.extractall(unpacked, filter="data")
        folders = sorted(p for p in unpacked.iterdir() if (p / "README.md").is_file())
        if folders:
            check = subprocess.run(
                [sys.executable, "-m", "training", "evaluate", *[p.name for p in folders], "--hub", str(unpacked)]
                + ["--verify", "--skip-robustness", "--json"],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            verified = {row["name"]: row["verified"] for row in json.loads(check.stdout or "[]")}
            print(check.stderr[-2000:], file=sys.stderr)
        for folder in folders:
            metrics, info = card.read(folder)
            last = info["history"][-1] if info.get("history") else {}
            models[folder.name] = {
                "gpu": device.split(",")[0].strip(),
                "torch": torch_version,
                "date": dt.date.fromtimestamp((src_dir / "device.txt").stat().st_mtime).isoformat(),
                "train_seconds": info["train_seconds"],
                "process_seconds": processes.get(folder.name, {}).get("process_seconds"),
                "samples_per_s": last.get("samples_per_s"),
                "epoch_seconds": last.get("seconds"),
                "device": info["device"],
                "command": info["command"],
                "verified_on_cpu": verified.get(folder.name, False),
                **{k: metrics[k] for k in metrics if "_" not in k or k == "bits_per_char"},
            }
            if folder.name in GPU_ONLY:
                target = ROOT / "zoo" / "checkpoints" / folder.name
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(folder, target)
                print(f"copied {folder.name} into {target}")
    failed = [n for n, r in processes.items() if r.get("status") not in (0, None) and n not in models]
    return models, failed


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
