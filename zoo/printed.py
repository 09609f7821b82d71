"""Printed structure that is not the digit: the lines of ruled and squared paper, a form's box, a margin line.

A printed line runs straight across most of the picture; a digit's straight strokes (a 1's stem, a 4's or a
7's bar) are one line at most in each direction. So thin bands of rows (and of columns) that ink fills are
found on a few slants (a photo taken askew), each row's ink joined across small gaps first (a line breaks up
under noise, JPEG and faint print), and removed:

- three or more lines across the picture in one direction (ruled or squared paper), with a single one the
  other way (a margin line); or four or more that fill half of their rows (the same paper where a shadow
  washes the lines out);
- one line across the picture with all other ink clear of it on one side and more than a speck (a margin
  line or a form's underline beside the digit; a digit's bar that spans its crop touches the rest of it);
- a form's box: two row segments and two column segments whose ends meet at four corners, around ink that is
  not the box (the digit), however little of the picture the box fills. Segments keep their ends row after
  row, which a stroke touching a side does not: a 1 that touches its box does not hide the box's side. Four
  sides around nothing are a 0 drawn square, and stay.

Where a stroke crosses a removed line, the ink on both sides of the line carries across it, so a digit is not
cut in two; where a pen darker than the print runs along a line (a small digit's loop on squared paper), its
stroke stays.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

ACROSS = 0.85  # ruled and squared paper: a line fills this share of its row (or column)
PARTLY = 0.5  # the same paper partly in shadow: four or more lines fill this share
BOX = 0.12  # a form's box: each side at least this share of the picture's longer side
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


def _joined(mask: Tensor, slant: float) -> Tensor:
    """``mask`` sheared to this slant, each pixel spread over a few rows (a line drawn at a slight angle steps
    by a row now and then) and along its row across small gaps (a printed line breaks up under noise, JPEG,
    faint ink and shadow), so that a line's row reads as one run."""
    h, w = mask.shape
    m = _shear(mask, slant)
    thick = m.clone()
    for d in range(1, _tolerance(h) + 1):
        thick[d:] |= m[:-d]
        thick[:-d] |= m[d:]
    gap = _gap(w)
    return F.max_pool1d(thick[:, None].to(torch.float32), 2 * gap + 1, 1, gap)[:, 0] > 0


def _tolerance(h: int) -> int:
    return max(1, h // 160)


def _gap(w: int) -> int:
    return max(2, w // 80)


def _thin(h: int, w: int) -> int:
    """The most rows a printed line's band spans: a few pixels; a stroke's band is wider."""
    return 2 * _tolerance(h) + max(2, round(0.03 * max(h, w)))


def _row_lines(joined: Tensor, share: float, thin: int) -> list[tuple[int, int]]:
    """Bands of rows of a joined mask that fill at least ``share`` of their row, each at most ``thin`` rows."""
    return [(a, b) for a, b in _runs(joined.float().mean(1) >= share) if b - a + 1 <= thin]


def _pixels(mask: Tensor, bands: list[tuple[int, int]], slant: float) -> Tensor:
    """The pixels of ``mask`` in these bands of rows of its sheared copy, each the whole row wide."""
    if not bands:
        return torch.zeros_like(mask)
    return _band(mask, [(a, b, 0, mask.shape[1] - 1) for a, b in bands], slant)


def printed_lines(mask: Tensor) -> Tensor:
    """The pixels of a boolean ink mask that are printed lines: three or more thin lines across the picture
    in one direction (ruled or squared paper; then a single one across the other way, a margin line, too),
    four or more across most of it (the same paper partly in shadow), or a form's box: four thin straight
    sides that meet at their corners around other ink, however little of the picture the box fills."""
    h, w = mask.shape
    columns = mask.T.contiguous()
    (row_slant, row_counts), (col_slant, col_counts) = _best_slant(mask), _best_slant(columns)
    side = max(8, round(BOX * max(h, w)))  # a box's side is at least this long
    box_may = _may_hold(row_counts, w, side / w) and _may_hold(col_counts, h, side / h)
    if not (_may_hold(row_counts, w, PARTLY) or _may_hold(col_counts, h, PARTLY) or box_may):
        return torch.zeros_like(mask)
    rows, cols = _joined(mask, row_slant), _joined(columns, col_slant)
    thin = _thin(h, w)
    row_bands, col_bands = _row_lines(rows, ACROSS, thin), _row_lines(cols, ACROSS, thin)
    if len(row_bands) < 3 and len(col_bands) < 3:
        partly_rows, partly_cols = _row_lines(rows, PARTLY, thin), _row_lines(cols, PARTLY, thin)
        if len(partly_rows) >= 4:
            row_bands = partly_rows
        if len(partly_cols) >= 4:
            col_bands = partly_cols
    if len(row_bands) >= 3 or len(col_bands) >= 3:
        return _pixels(mask, row_bands, row_slant) | _pixels(columns, col_bands, col_slant).T
    if len(row_bands) == 1 or len(col_bands) == 1:
        row_lines, col_lines = _pixels(mask, row_bands, row_slant), _pixels(columns, col_bands, col_slant)
        across = row_lines | col_lines.T
        lone = _lone_line(mask, across, row_lines, row_bands, row_slant, thin)
        lone |= _lone_line(columns, across.T.contiguous(), col_lines, col_bands, col_slant, thin).T
        if lone.any():
            return lone
    if not box_may:
        return torch.zeros_like(mask)
    return _box(mask, columns, (rows, cols), side, (row_slant, col_slant))


def _lone_line(
    mask: Tensor, across: Tensor, line: Tensor, bands: list[tuple[int, int]], slant: float, thin: int
) -> Tensor:
    """``line`` (the pixels of ``bands``) when it is one line across the picture (a margin line, a form's
    underline) and the rest of the ink (lines ``across`` it aside) lies clear of it on one side and is no speck
    beside it: a digit's bar that spans its crop (a 7's, a 2's base) touches the rest of the digit, and a 1 is
    all the ink there is."""
    if len(bands) != 1:
        return torch.zeros_like(mask)
    (a, b), sheared = bands[0], _shear(mask, slant)
    rest = _shear(mask & ~across, slant)
    rest[a : b + 1] = False
    at = torch.nonzero(rest.any(1)).flatten()
    clear = at.numel() > 0 and (bool((at < a - thin).all()) or bool((at > b + thin).all()))
    if not clear or int(rest.sum()) < 0.3 * int(sheared[a : b + 1].sum()):
        return torch.zeros_like(mask)
    return line


def _segments(joined: Tensor, side: int, thin: int) -> list[tuple[int, int, int, int]]:
    """Thin straight segments at least ``side`` long along the rows of a joined mask: (first row, last row,
    first column, last column) of each, in the sheared copy."""
    gap = _gap(joined.shape[1])
    edges = torch.diff(F.pad(joined.to(torch.int8), (1, 1)), dim=1)
    rows, starts = torch.nonzero(edges == 1, as_tuple=True)
    starts, ends = starts + gap, torch.nonzero(edges == -1, as_tuple=True)[1] - 1 - gap
    long = (ends - starts + 1) >= side
    found: list[list[int]] = []  # [first row, last row, first column, last column], grown row by row
    ends_match = 2 * gap + 2  # a printed line starts and ends at the same columns row after row; strokes do not
    for r, a, b in zip(rows[long].tolist(), starts[long].tolist(), ends[long].tolist(), strict=True):
        for seg in found:
            if seg[1] >= r - 1 and abs(a - seg[2]) <= ends_match and abs(b - seg[3]) <= ends_match:
                seg[1], seg[2], seg[3] = r, min(seg[2], a), max(seg[3], b)
                break
        else:
            found.append([r, r, a, b])
    return [(t, b, left, right) for t, b, left, right in found if b - t + 1 <= thin]


def _box(mask: Tensor, columns: Tensor, joined: tuple[Tensor, Tensor], side: int, slants) -> Tensor:
    """The pixels of the largest form's box in ``mask``: two row segments and two column segments whose ends
    meet at four corners, with ink inside them that is not the box (a digit); nothing when there is none (a
    0 drawn square holds no ink)."""
    h, w = mask.shape
    row_slant, col_slant = slants
    rows, cols = (_segments(j, side, _thin(h, w)) for j in joined)
    if len(rows) < 2 or len(cols) < 2:
        return torch.zeros_like(mask)
    reach = max(3, round(0.04 * max(h, w)) + round(max(abs(row_slant), abs(col_slant)) * max(h, w) / 2))

    def mid(seg) -> float:
        return (seg[0] + seg[1]) / 2

    def meets(seg, first, last) -> bool:  # a segment runs from one crossing side to the other
        return abs(seg[2] - mid(first)) <= reach and abs(seg[3] - mid(last)) <= reach

    spanned: dict[tuple[int, int], list[int]] = {}  # (left, right) column segments -> the rows that join them
    for i, row in enumerate(rows):
        lefts = [j for j, c in enumerate(cols) if abs(row[2] - mid(c)) <= reach]
        for j in lefts:
            for k in (k for k, c in enumerate(cols) if k != j and abs(row[3] - mid(c)) <= reach):
                spanned.setdefault((j, k), []).append(i)
    best, area = None, 0
    for (j, k), joined_rows in spanned.items():
        left, right = cols[j], cols[k]
        for n, i in enumerate(joined_rows):
            for top, bottom in ((rows[i], rows[m]) for m in joined_rows[n + 1 :]):
                size = (bottom[0] - top[1]) * (right[0] - left[1])
                if size > area and meets(left, top, bottom) and meets(right, top, bottom):
                    best, area = (top, bottom, left, right), size
    if best is None:
        return torch.zeros_like(mask)
    top, bottom, left, right = best
    inner = mask[top[1] + reach : bottom[0] - reach, left[1] + reach : right[0] - reach]
    if int(inner.sum()) < 0.002 * area:  # nothing inside: a square 0, not a box around a digit
        return torch.zeros_like(mask)
    return _band(mask, (top, bottom), row_slant) | _band(columns, (left, right), col_slant).T


def _band(mask: Tensor, segments, slant: float) -> Tensor:
    """The pixels of ``mask`` on these segments (rows and columns of its sheared copy)."""
    on = torch.zeros_like(mask)
    for t, b, a, z in segments:
        on[t : b + 1, a : z + 1] = True
    return _shear(_shear(mask, slant) & on, slant, inverse=True) & mask


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
    reach = _thin(max(dark.shape), max(dark.shape))  # the widest band of a line
    erase = lines & ~_carried_across(ink, lines, reach)
    # a pen darker than the print keeps its strokes where they run along a line (a small digit on squared paper)
    erase &= dark <= 1.5 * _line_level(dark, lines, 2 * reach + 1)
    return torch.where(erase, torch.zeros_like(dark), dark)


def _line_level(dark: Tensor, lines: Tensor, k: int) -> Tensor:
    """The darkness of the line each line pixel lies on: the mean over the line pixels within k along the rows
    and along the columns, where they fill most of that window (a line runs through it); the darker of the two
    where both do (a margin line where it crosses the ruling), infinite where neither does."""
    on = lines.float()[None, None]
    level = torch.zeros_like(dark)  # line pixels are darker than the paper: a level of 0 is no line found
    for size, pad in (((1, k), (0, k // 2)), ((k, 1), (k // 2, 0))):
        share = F.avg_pool2d(on, size, 1, pad)[0, 0]
        mean = F.avg_pool2d(dark[None, None] * on, size, 1, pad)[0, 0] / share.clamp_min(1e-6)
        level = torch.where(share >= 0.6, torch.maximum(level, mean), level)
    return torch.where(level > 0, level, float("inf"))
