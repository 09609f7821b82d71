"""Recipe narratives too long for ``zoo.catalog``: ``training/notes/<entry>.md``, one paragraph per card line
under "Departures from the book", read when a checkpoint is trained and recorded before the recipe's own
``notes``. An HTML comment paragraph (``<!-- ... -->``) is the file's own and is not recorded."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent / "notes"


def narrative(name: str) -> list[str]:
    """The paragraphs of ``name``'s notes file, each joined onto one line (none when there is no file)."""
    path = FOLDER / f"{name}.md"
    if not path.is_file():
        return []
    paragraphs = (" ".join(p.split()) for p in path.read_text(encoding="utf-8").split("\n\n"))
    return [p for p in paragraphs if p and not p.startswith("<!--")]
