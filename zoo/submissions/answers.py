"""Copies named by their answers: a submission whose outputs on the task's pinned inputs (``Task.answers`` in
``training.tasks``: a digits model's log-probabilities on the MNIST test split, a house model's prices, a text
model's next-character log-probabilities, a latent model's decodings of fixed codes) lie within a small relative
distance of an existing row's is refused as a copy of that row. Weights can be changed without changing what a
model computes (hidden units reordered, a layer scaled up and the next one down); its answers cannot.

A row keeps a sketch of its answers: ``DIM`` floats of a fixed-seed count sketch (each answer added, with a random
sign, into one random bucket), whose squared length equals the answers' squared length in expectation. Distances
between two models' answers are kept within a few per cent by it when they are spread over many items; copies
lie orders of magnitude below ``THRESHOLD`` and independently trained models orders of magnitude above it, so the
sketch alone decides. Rows are the zoo's shipped checkpoints (sketched once per machine and weights, in
``$XDG_CACHE_HOME/dlfs-zoo/answers-zoo.npz``) and the finished submissions (the store's ``answers.npz``); both
files are written whole, atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .copies import save_arrays
from .gates import PASSED, Verdict

THRESHOLD = 1e-3  # relative distance of the answers under which two models are one
DIM = 256  # floats per sketch
SEED = 35
INDEX_NAME = "answers.npz"  # the store's finished submissions
ZOO_INDEX_NAME = "answers-zoo.npz"  # the zoo's shipped checkpoints, keyed by their weights' sha256
VERSION = 1  # of the pinned inputs (``Task.answers``): part of every signature, so older sketches never compare


@dataclass(frozen=True)
class Answers:
    """What an index keeps of one model's answers."""

    signature: str  # the task and its pinned inputs: only answers with the same signature compare
    sketch: np.ndarray  # DIM floats


def zoo_index_path() -> Path:
    """Where the zoo's checkpoints' answers are kept: a cache (``~/.cache/dlfs-zoo``), since they depend only on
    the weights, whichever store asks."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlfs-zoo" / ZOO_INDEX_NAME


def signature(task: str, size: int) -> str:
    """Which answers compare: the same task, the same version of its pinned inputs, as many answers."""
    return f"{task}:v{VERSION}:{size}"


def sketch(values: np.ndarray) -> np.ndarray:
    """The count sketch of a vector of answers (fixed seed, depends on the length only)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    rng = np.random.default_rng([SEED, values.size])
    bucket = rng.integers(0, DIM, values.size)
    sign = rng.integers(0, 2, values.size) * 2.0 - 1.0
    return np.bincount(bucket, weights=sign * values, minlength=DIM)


def distances(sketches: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Each row's relative distance to ``new`` (``||row - new|| / ||row||``), estimated from the sketches."""
    norms = np.linalg.norm(sketches, axis=1)
    gaps = np.linalg.norm(sketches - new, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norms > 0, gaps / norms, np.where(gaps == 0, 0.0, np.inf))


@dataclass(frozen=True)
class Index:
    """Rows of answers: ``names[i]`` answered ``sketches[i]`` on the inputs of ``signatures[i]``; ``keys[i]`` says
    which weights (the zoo's index recomputes a row whose checkpoint was replaced)."""

    names: np.ndarray  # str
    keys: np.ndarray  # str: the weights' sha256
    signatures: np.ndarray  # str
    sketches: np.ndarray  # float64, (rows, DIM)

    @staticmethod
    def empty() -> Index:
        return Index(*(np.array([], dtype=str) for _ in range(3)), np.zeros((0, DIM)))

    def add(self, rows: dict[str, tuple[str, Answers]]) -> Index:
        """This index with ``name -> (sha256, answers)`` rows added (a row of the same name replaced)."""
        keep = ~np.isin(self.names, list(rows))
        return Index(
            np.concatenate([self.names[keep], np.array(list(rows), dtype=str)]),
            np.concatenate([self.keys[keep], np.array([k for k, _ in rows.values()], dtype=str)]),
            np.concatenate([self.signatures[keep], np.array([a.signature for _, a in rows.values()], dtype=str)]),
            np.concatenate([self.sketches[keep], np.array([a.sketch for _, a in rows.values()]).reshape(-1, DIM)]),
        )


def check_answers(answers: Answers, indexes: list[Index], own_name: str = "") -> Verdict:
    """Refused when the answers are within THRESHOLD of a row of any index (vectorised); names the nearest."""
    for index in indexes:
        rows = np.flatnonzero((index.signatures == answers.signature) & (index.names != own_name))
        if not len(rows):
            continue
        d = distances(index.sketches[rows], answers.sketch)
        nearest = int(np.argmin(d))
        if d[nearest] < THRESHOLD:
            return False, (
                f"this model's answers on the benchmark are a copy of {index.names[rows[nearest]]}'s "
                f"(relative distance {d[nearest]:.1g} < {THRESHOLD:g}); submit a model you trained"
            )
    return PASSED


def load(path: Path) -> Index:
    """An index file (empty when there is none yet)."""
    if not path.is_file():
        return Index.empty()
    with np.load(path, allow_pickle=False) as f:
        return Index(f["names"], f["keys"], f["signatures"], f["sketches"])


def save(path: Path, index: Index) -> None:
    """Write an index whole, atomically (``copies.save_arrays``)."""
    save_arrays(path, names=index.names, keys=index.keys, signatures=index.signatures, sketches=index.sketches)


def from_row(row: dict) -> Answers:
    """The answers a ``python -m training answers`` line carries (``signature``, ``sketch``)."""
    values = np.asarray(row["sketch"], dtype=np.float64)
    if values.shape != (DIM,) or not np.isfinite(values).all():
        raise ValueError(f"an answers sketch has {DIM} finite floats")
    return Answers(str(row["signature"]), values)
