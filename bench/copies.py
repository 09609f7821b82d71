"""``python -m bench.copies``: what the copy check (``zoo.submissions.copies``) costs one submission, with 100 and
10,000 rows in the store's index, every row of the submission's own architecture (the worst case: no row is
left out by its signature). A check is what ``zoo.submissions.check`` runs: the index read from its file, the
submission fingerprinted, the rows filtered on norms and sketches, vectorised. Median of 5 runs per figure."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from safetensors.torch import load_file

from training.answers import answers_row
from zoo.basics import cpu_model
from zoo.checkpoint_io import embedded_dir
from zoo.submissions import answers, copies

ROWS = (100, 10_000)
MODELS = ("house-prices-book", "mnist-cnn-modern", "char-transformer-large")  # 196, 468k and 2.7M parameters


def synthetic(fp: copies.Fingerprint, n: int, models: Path) -> copies.Index:
    """``n`` rows of the submission's signature, norms within 10 % of its own, sketches nearby but not copies."""
    rng = np.random.default_rng(n)
    return copies.Index(
        models,
        np.array([f"row-{i:05d}" for i in range(n)]),
        np.full(n, fp.signature),
        fp.norm * rng.uniform(0.9, 1.1, n),
        fp.sketch + rng.normal(0, 0.1 * fp.norm / copies.DIM**0.5, (n, copies.DIM)),
    )


def timed(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def section() -> list[str]:
    """The BENCHMARKS.md section: a table of the check's cost per submission (``make bench`` can splice it in)."""
    out = [
        "## 9. The copy check per submission",
        "",
        f"`python -m bench.copies` on {cpu_model()} ({os.cpu_count()} cores, shared): one submission checked against"
        " a store index of 100 or 10,000 rows, every row of its own architecture (none left out by its signature),"
        " median of 5 runs. The whole check includes fingerprinting the submission (one pass over its weights);"
        " the index part is reading `copies.npz` and filtering every row on norms and sketches, vectorised; no"
        " row's files are read unless it passes both filters.",
        "",
        "| submission | parameters | index rows | whole check, ms | of which index read + filter, ms |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        nowhere = Path(tmp) / "nowhere"  # no row's files: a row read in full would fail the run
        for name in MODELS:
            state = load_file(embedded_dir() / name / "model.safetensors")
            arch = json.loads((embedded_dir() / name / "config.json").read_text())["architecture"]
            fp = copies.fingerprint(arch, state)
            params = sum(t.numel() for t in state.values())
            for n in ROWS:
                path = Path(tmp) / f"{name}-{n}.npz"
                copies.save(path, synthetic(fp, n, nowhere))

                def whole(path=path, state=state, arch=arch) -> None:
                    assert copies.check_copy(arch, state, [copies.load(path, nowhere)])[0]

                def lookup(path=path, fp=fp) -> None:
                    assert not copies.candidates(copies.load(path, nowhere), fp)

                out.append(f"| `{name}` | {params:,} | {n:,} | {timed(whole):.2f} | {timed(lookup):.2f} |")
    return out + ["", *answers_section()]


def answers_section() -> list[str]:
    """The check by answers (``zoo.submissions.answers``): the answers computed once per submission (in the
    evaluation's child process), then compared with every row of an index of 100 or 10,000 rows."""
    out = [
        "The check by answers (`zoo.submissions.answers`) runs before the evaluation: the model answers its task's"
        " pinned inputs in a child process (`python -m training answers`, which also sketches the zoo's shipped"
        " checkpoints of the task the first time a store sees them), then its 256-float sketch is compared with"
        " every row of the store's index of the same task, vectorised. Answers: one run after a warm-up; index:"
        " median of 5 runs, reading `answers.npz` included.",
        "",
        "| submission | answers computed, s | index rows | index read + compare, ms |",
        "|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            answers_row(embedded_dir() / name)  # warm-up: the task's data read once, as in the child process
            start = time.perf_counter()
            row = answers_row(embedded_dir() / name)
            seconds = time.perf_counter() - start
            mine = answers.from_row(row)
            rng = np.random.default_rng(0)
            for n in ROWS:
                path = Path(tmp) / f"answers-{name}-{n}.npz"
                far = mine.sketch * rng.uniform(0.5, 1.5, (n, answers.DIM))  # every row far from the submission
                index = answers.Index(
                    np.array([f"row-{i:05d}" for i in range(n)]), np.full(n, "x"), np.full(n, mine.signature), far
                )
                answers.save(path, index)

                def compare(path=path, mine=mine) -> None:
                    assert answers.check_answers(mine, [answers.load(path)])[0]

                out.append(f"| `{name}` | {seconds:.2f} | {n:,} | {timed(compare):.2f} |")
    return out


def main() -> int:
    print("\n".join(section()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
