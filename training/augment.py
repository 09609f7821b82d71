"""Training-time augmentation for a digits model that should read what people send, not only MNIST.

Generic shifts, drawn per image from the training run's own generator: geometry (affine and elastic
distortion), stroke width, hollow outlines (outline faces, bubble digits), blur, lost resolution, clutter
(stray lines, scribbles, erased patches), a band of the other polarity along an edge (a sheet's bright edge in a
dark photo), contrast and uneven light, and sensor noise. It works on batches of MNIST *training* pixels
(N, 1, 28, 28) in [0, 1] and shares no code, images or seeds with the benchmark's generators
(``training.drawn``, ``training.corruptions``).

``printed_digits`` adds what MNIST's writers hardly made: digits as print faces draw them (a 1 with a
flag and a base, an open 4, a crossed 7), from the DejaVu and Liberation faces shipped in training/fonts/.
None of those faces is among the benchmark's handwriting fonts.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from . import glyphs


def _u(n: int, lo: float, hi: float, g: torch.Generator) -> Tensor:
    return torch.rand(n, generator=g) * (hi - lo) + lo


def _pick(n: int, p: float, g: torch.Generator) -> Tensor:
    return torch.rand(n, generator=g) < p


def _where(chosen: Tensor) -> Tensor:
    """The indices of the chosen images: an augmentation computes only those (about a third of the time it
    took to compute every image and keep some)."""
    return torch.nonzero(chosen).flatten()


def geometry(x: Tensor, g: torch.Generator, p: float = 0.8) -> Tensor:
    """Rotation (+-20 deg), shear (+-0.35), scale (0.7-1.15), aspect ratio (3/4-4/3, as torchvision's
    ``RandomResizedCrop``: narrow and wide hands), shift (+-4 px) and a smooth elastic warp."""
    n = len(x)
    a, sh = _u(n, -0.35, 0.35, g), _u(n, -0.35, 0.35, g)
    s = _u(n, 0.7, 1.15, g)
    aspect = torch.exp(_u(n, math.log(3 / 4), math.log(4 / 3), g))  # width over height
    t = _u(n * 2, -4 / 14, 4 / 14, g).view(n, 2)
    on = _pick(n, p, g).float()
    a, sh, t = a * on, sh * on, t * on[:, None]
    s = torch.where(on > 0, s, torch.ones_like(s))
    aspect = torch.where(on > 0, aspect, torch.ones_like(aspect))
    cos, sin = torch.cos(a), torch.sin(a)
    sx = s * aspect  # the output's x is read from the input at x / sx: the digit's width scaled by sx
    theta = torch.stack(
        [torch.stack([cos / sx, (-sin + sh) / s, t[:, 0]], 1), torch.stack([sin / sx, cos / s, t[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    warp = torch.randn(n, 2, 4, 4, generator=g) * _u(n, 0, 0.08, g).view(n, 1, 1, 1) * _pick(n, 0.4, g).view(n, 1, 1, 1)
    grid = grid + F.interpolate(warp, size=(28, 28), mode="bicubic", align_corners=False).permute(0, 2, 3, 1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def stroke_width(x: Tensor, g: torch.Generator, p: float = 0.35) -> Tensor:
    """Thicker (a 2x2 or 3x3 dilation) or thinner (a 2x2 erosion) strokes."""
    n = len(x)
    choice = torch.randint(0, 3, (n,), generator=g)
    on = _pick(n, p, g)
    ways = (
        lambda v: F.max_pool2d(F.pad(v, (0, 1, 0, 1)), 2, 1),
        lambda v: F.max_pool2d(v, 3, 1, 1),
        lambda v: -F.max_pool2d(F.pad(-v, (0, 1, 0, 1), value=0.0), 2, 1),
    )
    out = x.clone()
    for k, way in enumerate(ways):
        i = _where(on & (choice == k))
        out[i] = way(x[i])
    return out


def blur(x: Tensor, g: torch.Generator, p: float = 0.3) -> Tensor:
    """A Gaussian (sigma 0.4-1.4) or a short straight streak (3-9 px at any angle), per image."""
    n, k = len(x), 9
    r = torch.arange(k, dtype=torch.float32) - k // 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    sigma = _u(n, 0.4, 1.4, g).view(n, 1, 1)
    gauss = torch.exp(-(xx**2 + yy**2) / (2 * sigma**2))
    angle = _u(n, 0, math.pi, g).view(n, 1, 1)
    length = _u(n, 1.5, 4.5, g).view(n, 1, 1)
    along = xx * torch.cos(angle) + yy * torch.sin(angle)
    across = -xx * torch.sin(angle) + yy * torch.cos(angle)
    streak = ((along.abs() <= length) & (across.abs() <= 0.6)).float()
    kernels = torch.where(_pick(n, 0.5, g).view(n, 1, 1), gauss, streak + 1e-6)
    kernels = kernels / kernels.sum((1, 2), keepdim=True)
    out = F.conv2d(x.view(1, n, 28, 28), kernels.view(n, 1, k, k), padding=k // 2, groups=n).view(n, 1, 28, 28)
    return torch.where(_pick(n, p, g).view(n, 1, 1, 1), out, x)


def low_resolution(x: Tensor, g: torch.Generator, p: float = 0.2) -> Tensor:
    """Down to 10-18 px and back up: what a small or distant digit loses."""
    n = len(x)
    out = x.clone()
    for i in torch.nonzero(_pick(n, p, g)).flatten().tolist():
        side = int(torch.randint(10, 19, (1,), generator=g))
        small = F.interpolate(x[i : i + 1], size=(side, side), mode="area")
        out[i : i + 1] = F.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
    return out


def light(x: Tensor, g: torch.Generator, p: float = 0.5) -> Tensor:
    """Lower contrast, a lifted background, gamma, and a smooth uneven glow across the image."""
    n = len(x)
    contrast = _u(n, 0.35, 1.0, g).view(n, 1, 1, 1)
    lift = _u(n, 0.0, 0.6, g).view(n, 1, 1, 1) * (1 - contrast)
    gamma = torch.exp(_u(n, -0.5, 0.5, g)).view(n, 1, 1, 1)
    field = F.interpolate(torch.rand(n, 1, 3, 3, generator=g), size=(28, 28), mode="bicubic", align_corners=False)
    glow = field.clamp(0, 1) * _u(n, 0, 0.8, g).view(n, 1, 1, 1) * _pick(n, 0.5, g).view(n, 1, 1, 1)
    out = (x.clamp(0, 1) ** gamma * contrast + lift + glow).clamp(0, 1)
    return torch.where(_pick(n, p, g).view(n, 1, 1, 1), out, x)


def noise(x: Tensor, g: torch.Generator, p: float = 0.45) -> Tensor:
    """Gaussian, salt-and-pepper or photon (Poisson) noise."""
    n = len(x)
    kind = torch.randint(0, 3, (n,), generator=g)
    sigma, rate, photons = _u(n, 0.05, 0.35, g), _u(n, 0.02, 0.2, g), _u(n, 2, 20, g)
    on = _pick(n, p, g)
    out = x.clone()
    i = _where(on & (kind == 0))
    out[i] = x[i] + torch.randn(x[i].shape, generator=g) * sigma[i].view(-1, 1, 1, 1)
    i = _where(on & (kind == 1))
    hit = torch.rand(x[i].shape, generator=g) < rate[i].view(-1, 1, 1, 1)
    out[i] = torch.where(hit, (torch.rand(x[i].shape, generator=g) < 0.5).float(), x[i])
    i = _where(on & (kind == 2))
    out[i] = torch.poisson(x[i].clamp(0, 1) * photons[i].view(-1, 1, 1, 1), generator=g) / photons[i].view(-1, 1, 1, 1)
    return torch.where(on.view(n, 1, 1, 1), out.clamp(0, 1), x)


def _zigzag(n: int, g: torch.Generator) -> Tensor:
    """A scribble across the image: a line from edge to edge that turns back and forth every 2-6 px by 1-3 px
    (a crossed-out mark, a pen's test wiggle, the texture of a rough surface), (n, 28, 28)."""
    angle = _u(n, -0.6, 0.6, g) + math.pi / 2 * (torch.rand(n, generator=g) < 0.3).float()  # mostly across
    centre = 14 + (torch.rand(n, 2, generator=g) - 0.5) * 16
    step, amplitude = _u(n, 2, 6, g).view(n, 1, 1), _u(n, 1, 3, g).view(n, 1, 1)
    width = _u(n, 1, 2.5, g).view(n, 1, 1)
    dx = torch.arange(28.0).view(1, 1, 28) - centre[:, 0].view(n, 1, 1)
    dy = torch.arange(28.0).view(1, 28, 1) - centre[:, 1].view(n, 1, 1)
    cos, sin = torch.cos(angle).view(n, 1, 1), torch.sin(angle).view(n, 1, 1)
    along, across = dx * cos + dy * sin, dy * cos - dx * sin
    phase = torch.remainder(along / step, 2)  # a triangle wave: +amplitude at even steps, -amplitude at odd ones
    wave = amplitude * (2 * (phase - 1).abs() - 1)
    dist = (across - wave).abs() / torch.sqrt(1 + (2 * amplitude / step) ** 2)  # across the slanted zig
    return (width / 2 + 0.5 - dist).clamp(0, 1)


def clutter(x: Tensor, g: torch.Generator, p: float = 0.3) -> Tensor:
    """A stray straight stroke across the image, a scribble, or an erased patch."""
    n = len(x)
    rows = torch.arange(28.0).view(1, 28, 1)
    cols = torch.arange(28.0).view(1, 1, 28)
    a = torch.rand(n, 2, generator=g) * 28
    b = torch.rand(n, 2, generator=g) * 28
    line = _segments(a, b, _u(n, 2, 4, g)) * _u(n, 0.4, 1.0, g).view(n, 1, 1)
    scribble = _zigzag(n, g) * _u(n, 0.4, 1.0, g).view(n, 1, 1)
    kind = torch.randint(0, 3, (n,), generator=g).view(n, 1, 1, 1)
    top, left = torch.randint(0, 22, (2, n), generator=g)
    size = torch.randint(4, 11, (n,), generator=g)
    in_rows = (rows >= top.view(n, 1, 1)) & (rows < (top + size).view(n, 1, 1))
    in_cols = (cols >= left.view(n, 1, 1)) & (cols < (left + size).view(n, 1, 1))
    erased = x * (~(in_rows & in_cols)[:, None]).float()
    stroked = torch.maximum(x, torch.where(kind == 0, line[:, None], scribble[:, None]))
    out = torch.where(kind == 2, erased, stroked)
    return torch.where(_pick(n, p, g).view(n, 1, 1, 1), out, x)


def outline(x: Tensor, g: torch.Generator, p: float = 0.06) -> Tensor:
    """Hollow strokes: only the outline of each (thickened) stroke, as outline faces, bubble digits and edge
    filters draw a digit."""
    i = _where(_pick(len(x), p, g))
    thick = F.max_pool2d(x[i], 3, 1, 1)
    ring = (thick + F.max_pool2d(-thick, 3, 1, 1)).clamp(0, 1)  # the thickened strokes less their erosion
    out = x.clone()
    out[i] = ring * x[i].amax((2, 3), keepdim=True) / ring.amax((2, 3), keepdim=True).clamp_min(1e-6)
    return out


def inverted_band(x: Tensor, g: torch.Generator, p: float = 0.06) -> Tensor:
    """A band along one edge, or along two facing edges, in the other polarity: the bright edge of a sheet
    in a dark photo, a lit strip, a crop that takes in the paper's border."""
    n = len(x)
    cols = torch.arange(28.0).view(1, 1, 28)
    width = torch.randint(3, 10, (n,), generator=g).view(n, 1, 1).float()
    side = torch.randint(0, 3, (n,), generator=g).view(n, 1, 1)  # left, right, both
    band = ((side != 1) & (cols < width)) | ((side != 0) & (cols >= 28 - width))
    band = torch.where((torch.rand(n, generator=g) < 0.5).view(n, 1, 1), band, band.transpose(1, 2))
    out = torch.where(band[:, None], 1 - x, x)
    return torch.where(_pick(n, p, g).view(n, 1, 1, 1), out, x)


def augment(x: Tensor, g: torch.Generator) -> Tensor:
    """One draw of every augmentation (each applied to a random share of the batch), in a fixed order."""
    for step in (geometry, stroke_width, outline, blur, low_resolution, clutter, inverted_band, light, noise):
        x = step(x, g)
    return x.clamp(0, 1)


PRINT_FONTS = [  # print faces shipped in training/fonts/, none of them in training.drawn.FONTS
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSans-Bold.ttf",
    "dejavu/DejaVuSerif.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSerif-Bold.ttf",
    "liberation/LiberationSans-Regular.ttf",
    "liberation/LiberationSerif-Regular.ttf",
    "liberation/LiberationMono-Regular.ttf",
    "liberation/LiberationSans-Bold.ttf",
]


def printed_digits(per_font: int = 12, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Every digit in every print face, ``per_font`` times with a random size, tilt and weight, through the
    app's own ``to_mnist``: (N, 1, 28, 28) pixels in [0, 1] and labels."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from zoo.sketch import to_mnist

    files = [glyphs.font_file(name) for name in PRINT_FONTS]
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for path in files:
        for digit in range(10):
            for _ in range(per_font):
                font = ImageFont.truetype(str(path), int(rng.integers(40, 120)))
                canvas = Image.new("L", (200, 200), 0)
                weight = int(rng.integers(0, 4))
                ImageDraw.Draw(canvas).text(
                    (40, 20), str(digit), font=font, fill=255, stroke_width=weight, stroke_fill=255
                )
                canvas = canvas.rotate(float(rng.uniform(-12, 12)), resample=Image.Resampling.BILINEAR)
                images.append(to_mnist(np.asarray(canvas)))
                labels.append(digit)
    return torch.from_numpy(np.stack(images))[:, None], torch.tensor(labels)


def _segments(a: Tensor, b: Tensor, width: Tensor) -> Tensor:
    """Anti-aliased straight strokes from ``a`` to ``b`` ((n, 2) as x, y in pixels), ``width`` px wide: (n, 28, 28)."""
    n = len(a)
    rows = torch.arange(28.0).view(1, 28, 1)
    cols = torch.arange(28.0).view(1, 1, 28)
    d = b - a
    length2 = (d**2).sum(1).clamp_min(1e-6).view(n, 1, 1)
    ax, ay, dx, dy = (v.view(n, 1, 1) for v in (a[:, 0], a[:, 1], d[:, 0], d[:, 1]))
    t = (((cols - ax) * dx + (rows - ay) * dy) / length2).clamp(0, 1)
    dist = ((cols - ax - t * dx) ** 2 + (rows - ay - t * dy) ** 2).sqrt()
    return (width.view(n, 1, 1) / 2 + 0.5 - dist).clamp(0, 1)


def _ink_column(x: Tensor, row: Tensor) -> Tensor:
    """The mean column of the ink in each image's given row."""
    line = x[torch.arange(len(x)), row.long()]
    return (line * torch.arange(28.0)).sum(1) / line.sum(1).clamp_min(1e-6)


def _upright(x: Tensor, degrees: float = 12) -> Tensor:
    """Which images' ink leans less than ``degrees`` from the vertical (top row's ink against the bottom row's)."""
    ink = x > 0.5
    rows_on = ink.any(2)
    top = rows_on.float().argmax(1)
    bottom = 27 - rows_on.flip(1).float().argmax(1)
    lean = (_ink_column(x, top) - _ink_column(x, bottom)) / (bottom - top).clamp_min(1).float()
    return lean.abs() < math.tan(math.radians(degrees))


def continental_digits(images: Tensor, labels: Tensor, count: int, seed: int) -> tuple[Tensor, Tensor]:
    """MNIST training 1s and 7s as much of continental Europe writes them: a 1 with a long up-stroke (a flag
    running down-left from its top) and a 7 with a bar across its middle. MNIST's American writers hardly
    made either, and without them a flagged 1 reads as a 7. ``count`` of each: (N, 1, 28, 28), labels."""
    g = torch.Generator().manual_seed(seed)
    out, out_labels = [], []
    for digit in (1, 7):
        pool = torch.nonzero(labels == digit).flatten()
        if digit == 1:  # a flag belongs on a stem that stands upright (on a slanted one it would make a 7)
            pool = pool[_upright(images[pool, 0])]
        x = images[pool[torch.randperm(len(pool), generator=g)[:count]], 0].clone()
        n = len(x)
        ink = x > 0.5
        rows_on = ink.any(2)
        top = rows_on.float().argmax(1)  # first row with ink
        bottom = 27 - rows_on.flip(1).float().argmax(1)
        height = (bottom - top + 1).float()
        width = (ink.sum((1, 2)).float() / height).clamp(1.5, 4)  # ink per row: the stroke's width

        if digit == 1:  # the flag: from the top of an upright stem, down and to the left
            start = torch.stack([_ink_column(x, top), top.float()], 1)
            angle = _u(n, math.radians(20), math.radians(50), g)  # below the horizontal
            flag = torch.stack([-torch.cos(angle), torch.sin(angle)], 1)
            end = start + flag * (height * _u(n, 0.2, 0.4, g))[:, None]
        else:  # the bar: across the middle of the stem
            mid = ((top + bottom) / 2 + _u(n, -0.08, 0.12, g) * height).round().clamp(0, 27)
            half = height * _u(n, 0.14, 0.24, g)
            tilt = _u(n, -1.5, 1.5, g)
            start = torch.stack([_ink_column(x, mid) - half, mid - tilt], 1)
            end = torch.stack([_ink_column(x, mid) + half, mid + tilt], 1)
        strokes = _segments(start, end, width) * x.amax((1, 2)).view(n, 1, 1)
        out.append(torch.maximum(x, strokes))
        out_labels.append(torch.full((n,), digit))
    return torch.cat(out)[:, None], torch.cat(out_labels)
