"""The paper under the ink: its brightness under each pixel (even, or uneven light with a shadow across it),
the picture turned so that ink is darker than its paper (chalk on a board), how much darker each pixel is,
and the darkness that paper grain, sensor noise and JPEG reach. ``zoo.sketch`` reads the digit from these."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .morphology import components, pool, sliding_max


def _border(x: Tensor) -> Tensor:
    r = max(1, min(x.shape) // 30)
    return torch.cat([x[:r].flatten(), x[-r:].flatten(), x[:, :r].flatten(), x[:, -r:].flatten()])


def _closing(x: Tensor, k: int) -> Tensor:
    """Morphological closing with a k x k square (separable max, then min): removes dark lines and dots
    narrower than k and leaves steps and ramps (a shadow's edge, a gradient of light) exactly in place."""
    r = k // 2
    y = F.pad(x[None, None], (r, r, r, r), mode="replicate")[0, 0]  # the page goes on past the photo's edge,
    # and a mirror would fold a shadow near the border into a dark valley that the closing fills
    inf = float("inf")
    y = sliding_max(sliding_max(y, k, 1, -inf), k, 0, -inf)
    y = -sliding_max(sliding_max(-y, k, 1, -inf), k, 0, -inf)
    return y[r:-r, r:-r]


def _paper(lum: Tensor, k: int | None = None) -> tuple[Tensor, Tensor]:
    """The ground's brightness under each pixel, and the image turned so that ink is darker than its ground.

    Even surroundings (a drawing, a scan, MNIST's own arrays): the border's brightness, and the image is
    turned when what differs most from it is lighter (white on black, as MNIST) rather than darker.
    Uneven light (a photo): a closing wider than any stroke, and the ink is taken to be darker than the
    paper, unless the picture is mostly dark and its thin structures are lighter than their surroundings
    (chalk on a board)."""
    ring = _border(lum)
    lo, hi = torch.quantile(ring, torch.tensor([0.05, 0.95]))
    if hi - lo < 0.05:  # a drawing's or a scan's ground; light that falls off by more is a photo's
        ground = float(ring.median())
        smooth = pool(lum, 3, "mean")
        if float(smooth.max()) - ground > ground - float(smooth.min()):
            lum, ground = 1 - lum, 1 - ground
        return torch.full_like(lum, ground), lum
    level = None if k else _even_level(lum)
    if level is not None:  # ink runs into the border (a tight crop) on an even ground
        return torch.full_like(lum, level), lum
    if float(lum.median()) < 0.4 and _light_strokes(lum):
        lum = 1 - lum
    return _closing(lum, k or widest_closing(lum)), lum


def _light_strokes(lum: Tensor) -> bool:
    """True when a dark picture's extremes are light ones (chalk, a light pen on a dark board): its lightest
    pixels stand much further above its median than its darkest sink below it. A dim photo of paper has
    dark ink as its extremes, however deep the shadow."""
    sample = lum.flatten()[:: max(1, lum.numel() // 20000)]
    low, mid, high = (float(v) for v in torch.quantile(sample, torch.tensor([0.005, 0.5, 0.995])))
    bright = (mid + high) / 2
    sparse = float((sample > bright).float().mean()) < 0.2  # strokes, not the lit half of a page
    # nor a lit patch of a page that a shadow covers elsewhere: chalk strokes never hold a square a fifth wide,
    # and most of them lie off the picture's border (a lit wedge in a corner runs along it)
    light = lum > bright
    return sparse and high - mid > 2 * (mid - low) and not _holds_square(light, 0.2) and _mostly_off_border(light)


def _mostly_off_border(mask: Tensor) -> bool:
    """True when most of a mask lies in blobs that touch the picture's border along less than a tenth of its
    perimeter: strokes, even ones that run off the picture, not a lit patch of paper or a wall along a side."""
    labels = components(mask)
    ring = torch.cat([labels[0], labels[-1], labels[1:-1, 0], labels[1:-1, -1]])
    ring = ring[ring >= 0]
    if ring.numel() == 0:
        return True
    ids, contact = torch.unique(ring, return_counts=True)
    along = ids[contact >= 0.1 * 2 * sum(mask.shape)]
    return int(torch.isin(labels, along).sum()) < 0.5 * int(mask.sum())


def _even_level(lum: Tensor) -> float | None:
    """The ground's brightness when every pixel that is not ink sits at one level: a drawing or a scan cropped
    so tight that the strokes run into its border, where the border cannot tell the ground. None when the
    light varies (a photo: its paper spreads over a range of brightness) or when no level holds a fair share
    of the picture. Only a light ground: a dark band in a photo (the table) is one even level too."""
    sample = lum.flatten()[:: max(1, lum.numel() // 20000)]
    level = float(torch.quantile(sample, 0.98))
    gap = (sample - level).abs()
    near = int((gap < 0.06).sum())
    # a sharp peak: the strokes' soft edges spread thinly below it, a photo's paper spreads as thickly
    below = int(((gap >= 0.06) & (gap < 0.18)).sum())
    if near >= 0.1 * sample.numel() and near >= 1.5 * below and _shades_hug_ink(lum, level) and not _shaded(lum, level):
        return level
    return None


def _shaded(lum: Tensor, level: float) -> bool:
    """True when a shade of the ground (15-60 % darker than it: a phone's or a hand's shadow, never a pen's
    core) holds a square a quarter of the picture wide, lit paper beside it. A stroke is a sixth of its digit
    wide at most, however tight the crop; a blurred thumbnail's fat strokes have cores darker than a shadow."""
    return _holds_square((lum < 0.85 * level) & (lum > 0.4 * level), 0.25)


def _holds_square(mask: Tensor, share: float) -> bool:
    """True when the boolean mask holds a square ``share`` of the picture's longer side wide: an area, not
    strokes."""
    side = max(3, round(share * max(mask.shape))) | 1
    inside = -sliding_max(sliding_max(-mask.float(), side, 1, 0.0), side, 0, 0.0)  # an erosion (outside: off)
    return bool(inside.max() > 0)


def _shades_hug_ink(lum: Tensor, level: float) -> bool:
    """True when the faint shades off the ground's level lie along ink (the soft edges of strokes), not in
    areas of their own (light falling off towards a corner, a shadow)."""
    gap = (lum - level).abs()
    faint = (gap >= 0.06) & (gap < 0.2)
    reach = 2 * max(3, round(0.08 * max(lum.shape))) + 1
    cores = (gap > 0.35).float()
    near_ink = sliding_max(sliding_max(cores, reach, 1, 0.0), reach, 0, 0.0) > 0
    return int((faint & ~near_ink).sum()) <= 0.2 * int(faint.sum())


def widest_closing(lum: Tensor) -> int:
    """The closing that no stroke outlasts: a quarter of the image, wider than a marker's junctions."""
    return max(7, (max(lum.shape) // 4) | 1)


def darkness(lum: Tensor, k: int | None = None) -> tuple[Tensor, Tensor, bool]:
    """How much darker than the ground under it each pixel is, in [0, 1] (a ratio, so a shadow that darkens
    paper and ink alike cancels out), and the darkness that noise reaches there: sensor noise is about the
    same in light units everywhere, so in a ratio it grows where the paper is dim. True when the light was
    uneven (the paper read by a closing of width ``k``)."""
    if min(lum.shape) >= 64:  # sensor noise and JPEG blocks; the paper is read from the same smoothed image,
        lum = pool(lum, 3, "mean")  # or a shadow's edge, sharp in one and soft in the other, would turn to ink
    paper, lum = _paper(lum, k)
    uneven = bool(paper.max() > paper.min())  # a closing's paper; even surroundings give one brightness
    paper = paper.clamp_min(0.04)
    dark = (1 - lum / paper).clamp_(0, 1)
    typical = paper.median() if uneven else paper[0, 0]  # one brightness: no need to sort it
    return dark, _noise_floor(dark * paper / typical) * typical / paper, uneven


def shade_floor(dark: Tensor, floor: Tensor) -> Tensor:
    """Where a closing fills a shallow valley of the paper (light falling off towards a shadow's edge), a wide
    band of faint darkness: the level that most pixels of each block reach (read at half resolution), plus the
    noise's margin, and never above 0.4 of the strokes' darkness (a fat digit filling a block stays ink)."""
    h, w = dark.shape
    step = 2 if min(h, w) >= 32 else 1
    half = dark[::step, ::step]
    b = max(3, max(h, w) // (16 * step))  # a sixteenth of the picture
    H, W = -(-half.shape[0] // b) * b, -(-half.shape[1] // b) * b
    padded = F.pad(half[None, None], (0, W - half.shape[1], 0, H - half.shape[0]), mode="replicate")[0, 0]
    level = padded.reshape(H // b, b, W // b, b).permute(0, 2, 1, 3).reshape(H // b, W // b, b * b).median(-1)
    level = F.interpolate(level.values[None, None], size=(step * H, step * W), mode="bilinear", align_corners=False)
    sample = half.flatten()
    mid = float(sample.median())
    strokes = float(sample.kthvalue(max(1, round(0.995 * sample.numel()))).values)
    return (level[0, 0, :h, :w] + (floor - mid)).clamp(max=0.4 * strokes)


def _noise_floor(dark: Tensor) -> float:
    """Darkness that paper grain, sensor noise and JPEG reach: a few robust standard deviations of the paper's
    pixels (those below a faint shade, or below faint ink that stands clear of them: ink can cover half of a
    tight crop, and would count as noise)."""
    dark = dark.flatten()[:: max(1, dark.numel() // 20000)]  # a sample, as everywhere here: medians take long
    paper = dark[dark < _paper_cut(dark)]
    med, mad = _median_mad(paper if paper.numel() >= 0.2 * dark.numel() else dark)
    return float(max(med + 4 * 1.4826 * mad, 0.03))


def _median_mad(x: Tensor) -> tuple[Tensor, Tensor]:
    """The median of a sample and its median absolute deviation (1.4826 x that is a robust standard deviation)."""
    med = x.median()
    return med, (x - med).abs().median()


def _paper_cut(dark: Tensor) -> float:
    """The darkness below which pixels are paper: a faint shade (0.15), or less where the picture's faint
    pixels fall into two groups that stand far apart (Otsu's split of those below 0.3; the upper group's mean
    above 0.1 and six of the lower's robust standard deviations above it, holding a tenth of what the shade
    holds): a grey print face or a light pencil filling a tight crop, whose ink is fainter than the faint
    shade. Noise alone is one group, and keeps the shade."""
    sample = dark[dark < 0.3]
    if sample.numel() < 100 or int((sample >= 0.08).sum()) < 0.03 * sample.numel():
        return 0.15  # no faint group to speak of (a drawing, a photo of a dark pen): no split to look for
    counts = torch.histc(sample, bins=60, min=0.0, max=0.3).double()
    centres = (torch.arange(60, dtype=torch.float64) + 0.5) * 0.005
    n0, s0 = counts.cumsum(0), (counts * centres).cumsum(0)
    n1, s1 = n0[-1] - n0, s0[-1] - s0
    m0, m1 = s0 / n0.clamp_min(1), s1 / n1.clamp_min(1)
    split = int((n0 * n1 * (m0 - m1) ** 2).argmax())  # Otsu: the split with the most variance between groups
    below = sample[sample <= centres[split] + 0.0025]
    cut = min(0.15, float(centres[split]) + 0.0025)
    spread = 1.4826 * float(_median_mad(below)[1]) if below.numel() >= 2 else float("inf")
    if float(m1[split] - m0[split]) < 6 * spread or float(m1[split]) < 0.1:
        return 0.15  # one group (noise), or the upper one a printed grid's faint lines rather than ink
    faint = int(((sample >= cut) & (sample < 0.15)).sum())  # what the shade would count as paper, and is not
    return cut if faint >= 0.1 * int((sample < 0.15).sum()) else 0.15
