"""Printed structure that is not the digit: the lines of ruled and squared paper, a form's box, a margin line.

A printed line runs straight across most of the picture; a digit's straight strokes (a 1's stem, a 4's or a
7's bar) are one line at most in each direction. So lines are found in each direction by a morphological
opening with a segment half the picture long (on a few slants, for a photo taken askew), and they are
removed only when there are at least two of them in one direction (ruled or squared paper, a box's two
sides), or one when the other direction has two (a margin line on ruled paper). Where a stroke crosses a
removed line, the ink on both sides of the line carries across it, so a digit is not cut in two.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

ACROSS = 0.85  # ruled and squared paper: a line fills this share of its row (or column)
BOX = 0.4  # a form's box: two rows and two columns each filled this much
SLANTS = (0.0, -0.03, 0.03, -0.06, 0.06)  # rows (or columns) of drift per pixel, up to about 3.4 degrees; level first


def _shear(mask: Tensor, slant: float, inverse: bool = False) -> Tensor:
    """Rows shifted so that a line of the given slant becomes horizontal (zeros shifted in)."""
    if slant == 0.0:
        return mask
    h, w = mask.shape
    shift = _shifts(w, slant)
    rows = torch.arange(h)[:, None] + (shift if not inverse else -shift)[None, :]
    inside = (rows >= 0) & (rows < h)
    return torch.where(inside, mask.gather(0, rows.clamp(0, h - 1)), torch.zeros_like(mask))


def _runs(rows: Tensor) -> list[tuple[int, int]]:
    """(first, last) of every run of True in a 1-D boolean tensor."""
    padded = torch.cat([torch.zeros(1, dtype=torch.long), rows.long(), torch.zeros(1, dtype=torch.long)])
    steps = torch.diff(padded)
    starts = torch.nonzero(steps == 1).flatten().tolist()
    ends = (torch.nonzero(steps == -1).flatten() - 1).tolist()
    return list(zip(starts, ends, strict=True))


def _shifts(w: int, slant: float) -> Tensor:
    return torch.round(slant * (torch.arange(w) - w / 2)).long()


def _best_slant(mask: Tensor) -> tuple[float, Tensor]:
    """The slant on which the strongest line fills its row most (the level one first among equals), and the
    ink in each row on it: counted from the ink's coordinates, without shearing the picture."""
    h, w = mask.shape
    ys, xs = torch.nonzero(mask, as_tuple=True)
    best, best_counts = 0.0, torch.zeros(h, dtype=torch.long)
    for slant in SLANTS:
        rows = ys - _shifts(w, slant)[xs]  # where each ink pixel lands in the sheared copy
        counts = torch.bincount(rows[(rows >= 0) & (rows < h)], minlength=h)
        if int(counts.max()) > int(best_counts.max()):
            best, best_counts = slant, counts
    return best, best_counts


def _may_hold(counts: Tensor, length: int, share: float) -> bool:
    """False when no row, thickened by the tolerance, can fill ``share`` of ``length``: the ink of its rows
    together falls short (so the exact count need not be made)."""
    reach = 2 * max(1, len(counts) // 160) + 1
    window = F.avg_pool1d(counts[None, None].float(), reach, 1, reach // 2, count_include_pad=True)[0, 0]
    return bool((window * reach >= share * length).any())


def _row_lines(mask: Tensor, share: float, slant: float) -> tuple[list[tuple[int, int]], Tensor]:
    """Thin horizontal lines of ``mask`` on this slant that fill at least ``share`` of their row: their bands
    of rows and the thickened mask (both on the slant)."""
    h, w = mask.shape
    tolerance = max(1, h // 160)  # a line drawn at a slight angle steps by a row now and then
    thin = 2 * tolerance + max(2, round(0.03 * h))  # a printed line is a few pixels thick; a stroke's band is not
    m = _shear(mask, slant)
    thick = m.clone()
    for d in range(1, tolerance + 1):
        thick[d:] |= m[:-d]
        thick[:-d] |= m[d:]
    fill = thick.float().mean(1)
    return [(a, b) for a, b in _runs(fill >= share) if b - a + 1 <= thin], thick


def _pixels(mask: Tensor, bands: list[tuple[int, int]], slant: float) -> Tensor:
    """The pixels of ``mask`` in these bands of rows of its sheared copy."""
    rows = torch.zeros(mask.shape[0], dtype=torch.bool)
    for a, b in bands:
        rows[a : b + 1] = True
    return _shear(_shear(mask, slant) & rows[:, None], slant, inverse=True) & mask


def printed_lines(mask: Tensor) -> Tensor:
    """The pixels of a boolean ink mask that are printed lines: three or more thin lines across the picture
    in one direction (ruled or squared paper; then a single one across the other way, a margin line, too),
    or the outermost two thin rows and columns when they close into a rectangle (a form's box)."""
    columns = mask.T.contiguous()
    (row_slant, row_counts), (col_slant, col_counts) = _best_slant(mask), _best_slant(columns)
    rows_may, cols_may = _may_hold(row_counts, mask.shape[1], BOX), _may_hold(col_counts, mask.shape[0], BOX)
    if not (rows_may or cols_may):  # nothing straight fills even a box's share of a row or a column
        return torch.zeros_like(mask)
    row_bands, _ = _row_lines(mask, ACROSS, row_slant)
    col_bands, _ = _row_lines(columns, ACROSS, col_slant)
    if len(row_bands) >= 3 or len(col_bands) >= 3:
        return _pixels(mask, row_bands, row_slant) | _pixels(columns, col_bands, col_slant).T
    row_bands, row_thick = _row_lines(mask, BOX, row_slant)
    col_bands, col_thick = _row_lines(columns, BOX, col_slant)
    if len(row_bands) < 2 or len(col_bands) < 2:
        return torch.zeros_like(mask)
    rows, cols = [row_bands[0], row_bands[-1]], [col_bands[0], col_bands[-1]]
    if not (_closes(rows, row_thick, cols) and _closes(cols, col_thick, rows)):
        return torch.zeros_like(mask)
    return _pixels(mask, rows, row_slant) | _pixels(columns, cols, col_slant).T


def _closes(bands: list[tuple[int, int]], thick: Tensor, across: list[tuple[int, int]]) -> bool:
    """True when one row of every band runs the whole way between the outermost lines ``across`` it: a
    box's sides meet at its corners, a 0's curves do not."""
    left, right = across[0][0], across[-1][1]
    span = thick[:, left : right + 1].float().mean(1)
    return all(float(span[a : b + 1].max()) >= 0.9 for a, b in bands)


def _carried_across(ink: Tensor, lines: Tensor, reach: int) -> Tensor:
    """Line pixels with ink off the lines on both sides within ``reach``, along columns (a stroke crossing a
    horizontal line) or along rows (crossing a vertical one)."""
    off = ink & ~lines
    keep = torch.zeros_like(lines)
    for dim in (0, 1):
        before = torch.zeros_like(lines)
        after = torch.zeros_like(lines)
        for d in range(1, reach + 1):
            before |= torch.roll(off, d, dim)
            after |= torch.roll(off, -d, dim)
        keep |= before & after
    return lines & keep


def without_printed_lines(dark: Tensor, floor: Tensor | float) -> Tensor:
    """The darkness map with printed lines set to paper, strokes that cross them kept whole."""
    ink = dark > floor
    lines = printed_lines(ink)
    if not lines.any():
        return dark
    reach = max(1, max(dark.shape) // 160) * 2 + max(2, round(0.03 * max(dark.shape)))  # the widest band of a line
    erase = lines & ~_carried_across(ink, lines, reach)
    return torch.where(erase, torch.zeros_like(dark), dark)
