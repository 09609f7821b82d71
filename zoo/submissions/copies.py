"""Copies named: a submission whose weights lie within a small relative distance of an existing row of the same
architecture (``||a - b|| / ||b|| < THRESHOLD`` over every float tensor) is refused as a copy of that row.

Existing rows are the zoo's shipped checkpoints (an index built once per process from ``embedded_dir()``) and the
finished submissions (an index kept in the results store, ``copies.npz``, extended when a submission finishes).
A row of an index is its architecture + tensor-shape signature, its norm, and a sketch: the weights projected to
``DIM`` floats by a fixed-seed signed hashing whose rows are orthonormal. Such a projection never lengthens a
vector, so ``||sketch(a) - sketch(b)|| <= ||a - b||``: filtering on the sketch (and on the norms, by the triangle
inequality) can drop no real copy, however the noise was chosen. Only the rows that pass both filters, vectorised
over the whole index, have their tensors read and compared in full.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from ..checkpoint_io import embedded_dir
from ..models import CONFIG_NAME, WEIGHTS_NAME
from .gates import PASSED, Verdict

THRESHOLD = 1e-3  # relative distance under which two weight sets are one model
DIM = 64  # floats per sketch
SEED = 35  # the sketch's hashing: fixed, so that every row of a signature is sketched alike
INDEX_NAME = "copies.npz"  # the results store's index of its finished submissions


@dataclass(frozen=True)
class Fingerprint:
    """What an index keeps of one weight set."""

    signature: str  # architecture + the float tensors' names and shapes
    norm: float
    sketch: np.ndarray  # DIM floats


@dataclass(frozen=True)
class Index:
    """Rows of one kind (the zoo's or the store's): row i's weights are ``models / names[i] / model.safetensors``."""

    models: Path
    names: np.ndarray  # str
    signatures: np.ndarray  # str
    norms: np.ndarray  # float64
    sketches: np.ndarray  # float64, (rows, DIM)

    @staticmethod
    def empty(models: Path) -> Index:
        return Index(models, np.array([], dtype=str), np.array([], dtype=str), np.zeros(0), np.zeros((0, DIM)))


def _floats(state: dict[str, torch.Tensor]) -> list[tuple[str, torch.Tensor]]:
    """The float tensors in name order, as float64 (integer buffers such as batch counters say nothing)."""
    return [(k, state[k].detach().to(torch.float64).flatten()) for k in sorted(state) if state[k].is_floating_point()]


def fingerprint(architecture: str, state: dict[str, torch.Tensor]) -> Fingerprint:
    """Signature, norm and sketch of a weight set: O(parameters), one pass."""
    floats = _floats(state)
    shapes = ";".join(f"{k}:{tuple(state[k].shape)}" for k, _ in floats)
    signature = hashlib.sha256(f"{architecture}|{shapes}".encode()).hexdigest()[:24]
    sums, counts = np.zeros(DIM), np.zeros(DIM)
    for i, (_, t) in enumerate(floats):
        rng = np.random.default_rng([SEED, i, t.numel()])  # depends on the shapes only
        bucket = rng.integers(0, DIM, t.numel())
        sign = rng.integers(0, 2, t.numel()) * 2.0 - 1.0
        sums += np.bincount(bucket, weights=sign * t.numpy(), minlength=DIM)
        counts += np.bincount(bucket, minlength=DIM)
    sketch = sums / np.sqrt(np.maximum(counts, 1))  # rows of disjoint support and unit norm: a contraction
    norm = float(np.sqrt(sum(float(t.dot(t)) for _, t in floats)))
    return Fingerprint(signature, norm, sketch)


def distance(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """``||a - b|| / ||b||`` over every float tensor (0 when both are zero)."""
    fa, fb = dict(_floats(a)), dict(_floats(b))
    diff = sum(float((fa[k] - fb[k]).square().sum()) for k in fb)
    norm = sum(float(t.square().sum()) for t in fb.values())
    return float(np.sqrt(diff / norm)) if norm else (0.0 if diff == 0 else float("inf"))


def candidates(index: Index, fp: Fingerprint) -> list[int]:
    """Rows that may be within THRESHOLD of ``fp``, nearest sketch first; vectorised over the whole index."""
    rows = np.flatnonzero(index.signatures == fp.signature)
    norms = index.norms[rows]
    bound = THRESHOLD * norms
    rows, bound = rows[np.abs(norms - fp.norm) < bound], bound[np.abs(norms - fp.norm) < bound]
    near = np.linalg.norm(index.sketches[rows] - fp.sketch, axis=1)
    keep = near < bound
    return [int(i) for i in rows[keep][np.argsort(near[keep], kind="stable")]]


def check_copy(architecture: str, state: dict[str, torch.Tensor], indexes: list[Index]) -> Verdict:
    """Refused when the weights are within THRESHOLD of a row of any index; the message names that row."""
    fp = fingerprint(architecture, state)
    for index in indexes:
        for i in candidates(index, fp):
            name = str(index.names[i])
            d = distance(state, load_file(index.models / name / WEIGHTS_NAME))
            if d < THRESHOLD:
                return False, (
                    f"these weights are a copy of {name} (relative distance {d:.1g} < {THRESHOLD:g}); "
                    "submit a model you trained"
                )
    return PASSED


# ------------------------------------------------------------------------------------- the indexes
def build(models: Path, rows: list[tuple[str, str]]) -> Index:
    """An index of ``(name, architecture)`` rows whose weights are in ``models/NAME`` (one row per name; a row
    whose weights are gone is left out)."""
    rows = [(name, arch) for name, arch in dict(rows).items() if (models / name / WEIGHTS_NAME).is_file()]
    fps = [fingerprint(arch, load_file(models / name / WEIGHTS_NAME)) for name, arch in rows]
    if not fps:
        return Index.empty(models)
    return Index(
        models,
        np.array([name for name, _ in rows], dtype=str),
        np.array([f.signature for f in fps], dtype=str),
        np.array([f.norm for f in fps]),
        np.stack([f.sketch for f in fps]),
    )


def shipped() -> Index:
    """The zoo's shipped checkpoints, fingerprinted once per process (again only when one is replaced)."""
    folder = embedded_dir()
    rows = []
    for config in sorted(folder.glob(f"*/{CONFIG_NAME}")) if folder.is_dir() else []:
        meta = json.loads(config.read_text(encoding="utf-8"))
        if (config.parent / WEIGHTS_NAME).is_file():
            rows.append((config.parent.name, meta.get("architecture", ""), meta.get("weights_sha256", "")))
    return _shipped(folder, tuple(rows))


@lru_cache(maxsize=4)
def _shipped(folder: Path, rows: tuple[tuple[str, str, str], ...]) -> Index:
    return build(folder, [(name, arch) for name, arch, _ in rows])


def load(path: Path, models: Path) -> Index:
    """A store's index (empty when it has none yet)."""
    if not path.is_file():
        return Index.empty(models)
    with np.load(path, allow_pickle=False) as f:
        return Index(models, f["names"], f["signatures"], f["norms"], f["sketches"])


def save(path: Path, index: Index) -> None:
    """Write an index whole (``save_arrays``)."""
    save_arrays(path, names=index.names, signatures=index.signatures, norms=index.norms, sketches=index.sketches)


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Write named arrays as one .npz through a temporary file renamed into place (readers see the old file or
    the new); the copy indexes of weights and of answers both keep theirs so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add(path: Path, models: Path, rows: list[tuple[str, str]]) -> None:
    """Append rows to a store's index (a row of the same name is replaced)."""
    old, new = load(path, models), build(models, rows)
    keep = ~np.isin(old.names, new.names)
    joined = [np.concatenate([getattr(old, k)[keep], getattr(new, k)]) for k in ("names", "signatures", "norms")]
    save(path, Index(models, *joined, np.concatenate([old.sketches[keep], new.sketches])))
