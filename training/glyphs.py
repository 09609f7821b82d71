"""The typefaces the drawn benchmark and the robust recipe draw digits with, shipped with the project.

System font packages differ between machines (and do not exist on macOS, Windows or a Space), and a font
update would change the benchmark silently. So the project carries its own copies in ``training/fonts/``
(each family's licence beside its files) and checks every file against ``fonts/SHA256SUMS`` before use:
a benchmark built on one machine is the benchmark built on every other.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

FONT_DIR = Path(__file__).with_name("fonts")
MANIFEST = FONT_DIR / "SHA256SUMS"


class FontError(RuntimeError):
    """A shipped face is missing or is not the file the manifest names."""


@cache
def manifest() -> dict[str, str]:
    """``family/file`` -> sha256, as ``sha256sum`` wrote it."""
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line.strip())}


@cache
def font_file(name: str) -> Path:
    """The path of a shipped face (``family/file``), once its bytes match the manifest's sha256."""
    expected = manifest().get(name)
    if expected is None:
        raise FontError(f"{name!r} is not a shipped font; the shipped ones are {', '.join(manifest())}")
    path = FONT_DIR / name
    if not path.is_file():
        raise FontError(f"the font {name} is missing from this installation of dlfs-zoo: reinstall the package")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise FontError(
            f"the font {name} has sha256 {actual[:16]}..., not {expected[:16]}... as fonts/SHA256SUMS pins it: "
            "restore the shipped file (git checkout or reinstall); the benchmark is only comparable with it"
        )
    return path


def fonts_digest() -> str:
    """One sha256 for every shipped face: the manifest's own digest (each line pins one file)."""
    return hashlib.sha256(MANIFEST.read_bytes()).hexdigest()
