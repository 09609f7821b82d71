"""``python -m training misses NAME``: where a digits model fails on the drawn benchmark, as one picture.

Each miss is a tile: the input as it was sent (a thumbnail, aspect kept), what the model saw (the 28x28 that
``zoo.sketch.to_mnist`` made of it, upscaled by nearest neighbour) and "predicted p (conf %) / true t". The
tiles are ordered by the confidence of the wrong answer, highest first (the surest mistakes say the most), and
capped at ``--max``. An input in which the preprocessing found no digit counts as a miss, as the drawn column
counts it, and comes last.

The inputs are regenerated from ``training.drawn`` (deterministic, but sequential: the whole set takes minutes)
once per drawn set and kept as thumbnails beside the set's cache, keyed by the sha256 of the items themselves.
``--into-checkpoint`` writes the picture into the checkpoint's folder as ``misses.png``, where the app's
Leaderboard shows it beside the model's card.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from zoo.catalog import ENTRIES, canonical
from zoo.checkpoint_io import MISSES_NAME, load_folder
from zoo.models import CONFIG_NAME, PyTorchModel

from . import data, drawn, robustness, tasks
from .cli import CLIError, checkpoints_folder

BOX = 84  # px: the side of each of a tile's two pictures (the 28x28 upscaled 3x)
DEFAULT_MAX = 48  # tiles in a gallery unless --max says otherwise
COLUMNS = 6  # tiles per row
PAD = 6  # px around and between a tile's parts
LINE = 14  # px: one line of text
INK, PAPER, FAINT = (20, 20, 20), (255, 255, 255), (120, 120, 120)


@dataclass(frozen=True)
class Miss:
    index: int  # the item's place in the drawn set (and in drawn.drawn_items)
    label: int
    predicted: int | None  # None: the preprocessing found no digit in the input
    confidence: float  # the model's probability of its (wrong) answer; 0 when no digit was found
    source: str
    style: str


def filters() -> tuple[str, ...]:
    """What --source may name: a source or a style of the drawn set, as training.drawn declares them now."""
    return (*drawn.SOURCES, *drawn.STYLES)


def check_filter(only: str | None) -> None:
    """Refuse a source or style the drawn set does not have, naming the ones it has."""
    if only is not None and only not in filters():
        allowed = ", ".join(filters())
        raise CLIError(f"--source {only!r} is not a source or style of the drawn set; use one of: {allowed}")


def find_misses(model: PyTorchModel, seen: robustness.DrawnSet, only: str | None = None) -> tuple[list[Miss], int]:
    """The model's misses among the drawn items of one source or style (all when ``only`` is None), surest
    first, and how many items were considered."""
    kept = [i for i, (src, sty) in enumerate(zip(seen.sources, seen.styles, strict=True)) if only in (None, src, sty)]
    if not kept:
        return [], 0
    probs = tasks.digits.digits_probs(model, seen.pixels[kept])
    confidence, predicted = probs.max(1)
    out = []
    for row, i in enumerate(kept):
        label = int(seen.labels[i])
        if not bool(seen.read[i]):
            out.append(Miss(i, label, None, 0.0, seen.sources[i], seen.styles[i]))
        elif int(predicted[row]) != label:
            out.append(Miss(i, label, int(predicted[row]), float(confidence[row]), seen.sources[i], seen.styles[i]))
    out.sort(key=lambda m: (m.predicted is None, -m.confidence, m.index))
    return out, len(kept)


# ------------------------------------------------------------------------------------------ the inputs
def thumbnail(image: Image.Image) -> Image.Image:
    """An input as a person saw it, at most BOX px on its longer side: a transparent canvas shown on white."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (*PAPER, 255)), rgba)
    image = image.convert("RGB")
    image.thumbnail((BOX, BOX), Image.Resampling.LANCZOS)
    return image


def thumbnails_file(seen: robustness.DrawnSet) -> Path:
    """Where the thumbnails of ``seen``'s items are kept: beside the drawn set's cache, keyed by its items."""
    return data.data_dir() / "drawn" / f"thumbnails-{seen.sha256[:16]}-{BOX}.npz"


def _make_thumbnails(seen: robustness.DrawnSet, path: Path) -> None:
    """Regenerate the set's items in order (no preprocessing) and keep each one's thumbnail."""
    pixels, labels = data.mnist_pixels(train=False)
    images = (pixels[:, 0].numpy() * 255).round().astype(np.uint8)
    count = len(seen.labels)
    tiles = np.full((count, BOX, BOX, 3), 255, np.uint8)
    sizes = np.zeros((count, 2), np.int32)
    digest, start = hashlib.sha256(), time.perf_counter()
    items = itertools.islice(drawn.drawn_items(images, labels.numpy()), count)
    for i, (image, label, source, style) in enumerate(items):
        drawn.hash_item(digest, image, label, source, style)
        small = np.asarray(thumbnail(image))
        tiles[i, : small.shape[0], : small.shape[1]] = small
        sizes[i] = small.shape[:2]
        if (i + 1) % 250 == 0:
            rate = (i + 1) / (time.perf_counter() - start)
            print(f"drawn inputs: {i + 1:,} of {count:,} regenerated ({rate:.0f} images/s)", file=sys.stderr)
    if digest.hexdigest() != seen.sha256:
        raise CLIError("the drawn generator no longer makes the items this drawn set was built from; rebuild the set")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, tiles=tiles, sizes=sizes)
    data.atomic_write_bytes(path, buffer.getvalue())


def originals(seen: robustness.DrawnSet, indices: Iterable[int]) -> dict[int, Image.Image]:
    """The inputs at ``indices`` as thumbnails, made once per drawn set (minutes) and then read from disk."""
    path = thumbnails_file(seen)
    if not path.is_file():
        _make_thumbnails(seen, path)
    with np.load(path) as f:
        tiles, sizes = f["tiles"], f["sizes"]
    return {i: Image.fromarray(tiles[i, : sizes[i][0], : sizes[i][1]]) for i in indices}


# ------------------------------------------------------------------------------------------ the picture
def _label(m: Miss) -> str:
    if m.predicted is None:
        return f"no digit found / true {m.label}"
    return f"predicted {m.predicted} ({m.confidence:.0%}) / true {m.label}"


def render(title: str, misses: list[Miss], pixels: torch.Tensor, inputs: dict[int, Image.Image]) -> Image.Image:
    """The gallery: a title line, then one tile per miss (input, what the model saw, the verdict)."""
    font = ImageFont.load_default()
    tile_w, tile_h = 3 * PAD + 2 * BOX, 2 * PAD + BOX + 2 * LINE
    columns = max(1, min(COLUMNS, len(misses)))
    rows = -(-len(misses) // columns)
    width = max(columns * tile_w, 8 * PAD + int(font.getlength(title)))
    sheet = Image.new("RGB", (width, 2 * PAD + 2 * LINE + rows * tile_h), PAPER)
    pen = ImageDraw.Draw(sheet)
    pen.text((PAD, PAD), title, fill=INK, font=font)
    pen.text((PAD, PAD + LINE), "each: the input, what the model saw (28x28)", fill=FAINT, font=font)
    for k, m in enumerate(misses):
        x, y = (k % columns) * tile_w + PAD, 2 * PAD + 2 * LINE + (k // columns) * tile_h
        small = inputs[m.index]
        sheet.paste(small, (x + (BOX - small.width) // 2, y + (BOX - small.height) // 2))
        seen = Image.fromarray((pixels[m.index].numpy() * 255).round().astype(np.uint8))
        sheet.paste(seen.resize((BOX, BOX), Image.Resampling.NEAREST), (x + BOX + PAD, y))
        pen.rectangle((x - 1, y - 1, x + 2 * BOX + PAD, y + BOX), outline=(210, 210, 210))
        pen.text((x, y + BOX + 2), _label(m), fill=INK, font=font)
        pen.text((x, y + BOX + 2 + LINE), f"#{m.index} {m.source}, {m.style}", fill=FAINT, font=font)
    return sheet


def gallery(
    model: PyTorchModel, name: str, only: str | None = None, most: int = DEFAULT_MAX, seen=None, inputs=None
) -> tuple[Image.Image, int, int]:
    """The picture of ``model``'s misses on the drawn set (``seen``: the set, default robustness.drawn_test();
    ``inputs``: how to get the inputs' thumbnails, default ``originals``), and how many misses of how many."""
    check_filter(only)
    seen = robustness.drawn_test() if seen is None else seen
    misses, total = find_misses(model, seen, only)
    shown = misses[:most]
    title = f"{name} on drawn v{drawn.VERSION}" + (f" ({only} only)" if only else "")
    title += f": {len(misses)} misses of {total}" + (f", the {most} surest shown" if len(misses) > most else "")
    pictures = (inputs or originals)(seen, [m.index for m in shown])
    return render(title, shown, seen.pixels, pictures), len(misses), total


def write_png(image: Image.Image, path: Path) -> None:
    """Save atomically: a reader (the app) never sees half a picture; readable by all, like a checkpoint's files."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    data.atomic_write_bytes(path, buffer.getvalue())
    path.chmod(0o644)  # the temporary file it was written as was private to its owner


# ------------------------------------------------------------------------------------------ the command
def resolve(name: str, hub: str | None) -> tuple[Path, str]:
    """The checkpoint folder a NAME means: a folder holding a checkpoint, or a zoo entry in --hub (default: the
    shipped checkpoints); and the name to show."""
    as_path = Path(name)
    if (as_path / CONFIG_NAME).is_file():
        return as_path, as_path.resolve().name
    try:
        entry = canonical(name)
    except ValueError as e:
        raise CLIError(str(e)) from None
    if entry not in ENTRIES:
        raise CLIError(f"{name!r} is neither a zoo model nor a checkpoint folder; zoo models: {', '.join(ENTRIES)}")
    folder = checkpoints_folder(hub) / entry
    if not (folder / CONFIG_NAME).is_file():
        raise CLIError(f"{entry} has no checkpoint in the folder given; train it or name another --hub")
    return folder, entry


def cmd_misses(args: argparse.Namespace) -> int:
    check_filter(args.source)
    if args.max < 1:
        raise CLIError(f"--max must be >= 1, got {args.max}")
    if args.into_checkpoint and (args.out or args.source):
        raise CLIError("--into-checkpoint writes the whole set's gallery into the checkpoint; drop --out and --source")
    folder, name = resolve(args.name, args.hub)
    model = load_folder(folder)
    if not tasks.get(model.task).reads_digits:
        raise CLIError(f"{name} is a {model.task} model; misses are shown for digits models only")
    if args.into_checkpoint:
        out = folder / MISSES_NAME
    else:
        out = Path(args.out or f"misses-{name}" + (f"-{args.source}" if args.source else "") + ".png")
    image, count, total = gallery(model, name, args.source, args.max)
    write_png(image, out)
    print(f"{out}: {count} misses of {total} ({min(count, args.max)} shown)")
    return 0


def add_misses_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("misses", help="a picture of a digits model's misses on the drawn set")
    p.add_argument("name", metavar="NAME", help="a digits model of the zoo, or a checkpoint folder")
    p.add_argument("--source", metavar="S", help=f"only the items of this source or style: {', '.join(filters())}")
    p.add_argument("--max", type=int, default=DEFAULT_MAX, help=f"tiles at most, surest first (default {DEFAULT_MAX})")
    p.add_argument("--out", help="the PNG to write (default: misses-NAME[-S].png here)")
    p.add_argument("--hub", help="folder of checkpoints (default: the ones shipped in the zoo package)")
    p.add_argument(
        "--into-checkpoint", action="store_true", help=f"write {MISSES_NAME} into the checkpoint (the app shows it)"
    )
    p.set_defaults(func=cmd_misses)
