"""MNIST-C's 15 corruptions (Mu & Gilmer 2019, arXiv:1906.02337) of the real MNIST test split, written in torch.

Each corruption follows the benchmark's definition at the severity the benchmark uses; each draws its
randomness from its own fixed seed, so ``corrupt(name, pixels)`` is the same images on every run and
machine. Inputs and outputs are (N, 28, 28) float pixels in [0, 1], white ink on black. They are a test
set: the robust model's training augmentation (``training.augment``) is separate code with other seeds.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

Corruption = Callable[[Tensor, torch.Generator], Tensor]
CENTRE = 13.5


def _seed(name: str) -> int:
    return zlib.crc32(f"dlfs-zoo corrupted/{name}".encode())


def _gaussian_kernel(sigma: float) -> Tensor:
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    return k / k.sum()


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (N, H, W), edges reflected."""
    k = _gaussian_kernel(sigma)
    r = len(k) // 2
    y = F.pad(x[:, None], (r, r, r, r), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1))
    return F.conv2d(y, k.view(1, 1, -1, 1))[:, 0]


def _warp(x: Tensor, inverse: Tensor) -> Tensor:
    """Resample with ``out(p) = x(A p + b)`` per image, ``inverse`` (N, 2, 3) in pixel coordinates (col, row)."""
    n = len(x)
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    pts = torch.stack([cols, rows, torch.ones_like(rows)], -1).view(1, -1, 3).expand(n, -1, -1)
    src = pts @ inverse.transpose(1, 2)  # (N, 784, 2): source (col, row)
    grid = (src / 27.0 * 2 - 1).view(n, 28, 28, 2)
    return F.grid_sample(x[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=True)[:, 0]


def _about_centre(linear: Tensor) -> Tensor:
    """(N, 2, 2) linear maps -> (N, 2, 3) affine maps that keep the image centre fixed."""
    c = torch.full((len(linear), 2, 1), CENTRE)
    return torch.cat([linear, c - linear @ c], dim=2)


def _signs(n: int, g: torch.Generator, k: int = 1) -> Tensor:
    return torch.randint(0, 2, (n, k), generator=g).float() * 2 - 1


# ------------------------------------------------------------------------------------------- noise
def shot_noise(x: Tensor, g: torch.Generator) -> Tensor:
    """Poisson photon noise with 3 photons at full brightness (MNIST-C severity 5)."""
    return (torch.poisson(x * 3, generator=g) / 3).clamp(0, 1)


def impulse_noise(x: Tensor, g: torch.Generator) -> Tensor:
    """Salt and pepper on 17 % of the pixels (severity 4)."""
    hit = torch.rand(x.shape, generator=g) < 0.17
    salt = torch.rand(x.shape, generator=g) < 0.5
    return torch.where(hit, salt.float(), x)


# -------------------------------------------------------------------------------------------- blur
def glass_blur(x: Tensor, g: torch.Generator) -> Tensor:
    """Blur (sigma 0.7), shuffle pixels locally by up to one place, twice, blur again (severity 1)."""
    y = gaussian_blur(x, 0.7)
    n = len(y)
    rows, cols = torch.meshgrid(torch.arange(28), torch.arange(28), indexing="ij")
    for _ in range(2):
        move = torch.rand((n, 28, 28), generator=g) < 0.5
        dr = torch.randint(-1, 1, (n, 28, 28), generator=g) * move
        dc = torch.randint(-1, 1, (n, 28, 28), generator=g) * move
        src = ((rows + dr).clamp(0, 27) * 28 + (cols + dc).clamp(0, 27)).view(n, -1)
        y = y.view(n, -1).gather(1, src).view(n, 28, 28)
    return gaussian_blur(y, 0.7).clamp(0, 1)


def motion_blur(x: Tensor, g: torch.Generator) -> Tensor:
    """A one-sided Gaussian streak (radius 10, sigma 3) at a random angle in [-45, 45] degrees (severity 1)."""
    angles = torch.empty(len(x)).uniform_(-45, 45, generator=g).round()
    out = torch.empty_like(x)
    r = 10
    t = torch.arange(0, r + 1, dtype=torch.float32)
    weights = torch.exp(-(t**2) / (2 * 3.0**2))
    for angle in angles.unique():
        a = math.radians(float(angle))
        kernel = torch.zeros(2 * r + 1, 2 * r + 1)
        for dist, w in zip(t, weights, strict=True):  # splat each point of the streak bilinearly
            cx, cy = r + dist * math.cos(a), r - dist * math.sin(a)
            x0, y0 = int(math.floor(cx)), int(math.floor(cy))
            fx, fy = cx - x0, cy - y0
            for dx, dy, share in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy)):
                if 0 <= x0 + dx <= 2 * r and 0 <= y0 + dy <= 2 * r:
                    kernel[y0 + dy, x0 + dx] += w * share
            if 0 <= x0 + 1 <= 2 * r and 0 <= y0 + 1 <= 2 * r:
                kernel[y0 + 1, x0 + 1] += w * fx * fy
        kernel /= kernel.sum()
        pick = angles == angle
        out[pick] = F.conv2d(x[pick][:, None], kernel.flip(0, 1)[None, None], padding=r)[:, 0]
    return out.clamp(0, 1)


# ---------------------------------------------------------------------------------------- geometry
def shear(x: Tensor, g: torch.Generator) -> Tensor:
    """Shear by 0.4 rad, direction at random, about the centre (severity 2)."""
    s = 0.4 * _signs(len(x), g)[:, 0]
    linear = torch.zeros(len(x), 2, 2)
    linear[:, 0, 0], linear[:, 0, 1], linear[:, 1, 1] = 1, -torch.sin(s), torch.cos(s)
    return _warp(x, _about_centre(linear)).clamp(0, 1)


def scale(x: Tensor, g: torch.Generator) -> Tensor:
    """The digit shrunk to 70 % about the centre (severity 3)."""
    linear = torch.eye(2).expand(len(x), 2, 2) / 0.7
    return _warp(x, _about_centre(linear)).clamp(0, 1)


def rotate(x: Tensor, g: torch.Generator) -> Tensor:
    """Rotation by 0.4 rad (23 degrees), direction at random, about the centre (severity 2)."""
    a = 0.4 * _signs(len(x), g)[:, 0]
    linear = torch.stack([torch.stack([a.cos(), -a.sin()], 1), torch.stack([a.sin(), a.cos()], 1)], 1)
    return _warp(x, _about_centre(linear)).clamp(0, 1)


def translate(x: Tensor, g: torch.Generator) -> Tensor:
    """A shift of 3 px along each axis, directions at random (severity 3)."""
    shift = 3 * _signs(len(x), g, 2)
    affine = torch.cat([torch.eye(2).expand(len(x), 2, 2), -shift[:, :, None]], dim=2)
    return _warp(x, affine).clamp(0, 1)


# ------------------------------------------------------------------------------------ illumination
def brightness(x: Tensor, g: torch.Generator) -> Tensor:
    """Value + 0.5 (severity 5): the black background turns mid-grey."""
    return (x + 0.5).clamp(0, 1)


def stripe(x: Tensor, g: torch.Generator) -> Tensor:
    """The 7 leftmost and 7 rightmost columns inverted."""
    y = x.clone()
    y[:, :, :7] = 1 - y[:, :, :7]
    y[:, :, 21:] = 1 - y[:, :, 21:]
    return y


def plasma(n: int, g: torch.Generator, size: int = 256, decay: float = 1.4) -> Tensor:
    """Diamond-square fractal noise (the benchmark's fog), n maps of size x size in [0, 1]."""
    m = torch.zeros(n, size, size)
    step, wibble = size, 100.0

    def jitter(a: Tensor) -> Tensor:
        return a / 4 + wibble * (torch.rand(a.shape, generator=g) * 2 - 1)

    while step >= 2:
        h = step // 2
        corners = m[:, 0:size:step, 0:size:step]
        square = corners + corners.roll(-1, 1)
        square = square + square.roll(-1, 2)
        m[:, h:size:step, h:size:step] = jitter(square)
        centres = m[:, h:size:step, h:size:step]
        corners = m[:, 0:size:step, 0:size:step]
        m[:, 0:size:step, h:size:step] = jitter(centres + centres.roll(1, 1) + corners + corners.roll(-1, 2))
        m[:, h:size:step, 0:size:step] = jitter(centres + centres.roll(1, 2) + corners + corners.roll(-1, 1))
        step //= 2
        wibble /= decay
    m -= m.amin(dim=(1, 2), keepdim=True)
    return m / m.amax(dim=(1, 2), keepdim=True)


def fog(x: Tensor, g: torch.Generator) -> Tensor:
    """Fractal fog of strength 3 added and the image rescaled (severity 5)."""
    maps = torch.cat([plasma(min(500, len(x) - i), g)[:, :28, :28] for i in range(0, len(x), 500)])
    peak = x.amax(dim=(1, 2), keepdim=True)
    return ((x + 3 * maps) * peak / (peak + 3)).clamp(0, 1)


def spatter(x: Tensor, g: torch.Generator) -> Tensor:
    """Mud drops (severity 4): a thresholded, blurred random field darkens the image to grey 63/255."""
    liquid = gaussian_blur(torch.randn(x.shape, generator=g) * 0.3 + 0.65, 1.0)
    drops = gaussian_blur((liquid > 0.65).float(), 1.5)
    drops = torch.where(drops < 0.8, torch.zeros_like(drops), drops)
    return (x * (1 - drops) + 63 / 255 * drops).clamp(0, 1)


# ------------------------------------------------------------------------------------------- lines
def _line(c0: Tensor, r0: Tensor, c1: Tensor, r1: Tensor) -> Tensor:
    """The benchmark's anti-aliased line between columns c0..c1 through rows r0 -> r1: (N, 28, 28)."""
    cc = torch.arange(28.0).view(1, 1, 28)
    rr = torch.arange(28.0).view(1, 28, 1)
    slope = ((r1 - r0) / (c1 - c0).clamp_min(1e-6)).view(-1, 1, 1)
    dist = (rr - (slope * (cc - c0.view(-1, 1, 1)) + r0.view(-1, 1, 1))).abs().clamp(0, 2.3 - 1e-6)
    line = (torch.log(1 - dist / 2.3) + 1).clamp(0, 1)
    inside = (cc >= c0.floor().view(-1, 1, 1)) & (cc < c1.ceil().view(-1, 1, 1))
    return torch.where(inside & (c1 > c0).view(-1, 1, 1), line, torch.zeros_like(line))


def dotted_line(x: Tensor, g: torch.Generator) -> Tensor:
    """A dashed line across the whole image between random rows (2 px on, 2 px off)."""
    n = len(x)
    r0, r1 = torch.randint(0, 27, (2, n), generator=g).float()
    line = _line(torch.zeros(n), r0, torch.full((n,), 27.0), r1)
    dashes = ((torch.arange(28) // 2) % 2 == 1).float().view(1, 1, 28)  # columns 0-1 off, 2-3 on, ...
    return (x + line * dashes).clamp(0, 1)


def zigzag(x: Tensor, g: torch.Generator) -> Tensor:
    """A zigzag (segments 2 px long, 2 px high) across the image at a random row and slight slope."""
    n = len(x)
    r0 = torch.randint(0, 27, (n,), generator=g).float()
    r1 = r0 + torch.randint(-5, 5, (n,), generator=g).float()
    owner, starts, ends = [], [], []
    for i in range(n):
        theta = math.atan((float(r1[i]) - float(r0[i])) / 23)
        d = 23 / math.cos(theta)
        points = [(0.0, 0.0)] + [((2 * k + 1) * 2.0, (-1.0) ** k * 2.0) for k in range(int((d - 2) // 4) + 1)]
        last = 4 * (d // 4)
        if d != last:
            points.append((d, points[-1][1] / (2 * (d - last))))
        cos, sin = math.cos(theta), math.sin(theta)
        turned = [(2 + c * cos - r * sin, float(r0[i]) + c * sin + r * cos) for c, r in points]
        owner += [i] * (len(turned) - 1)
        starts += turned[:-1]
        ends += turned[1:]
    a, b = torch.tensor(starts), torch.tensor(ends)
    lines = _line(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    # adding and clipping after every segment (the benchmark's order) equals clipping the sum: all terms >= 0
    return x.clone().index_add_(0, torch.tensor(owner), lines).clamp(0, 1)


def canny_edges(x: Tensor, g: torch.Generator) -> Tensor:
    """The digit replaced by its Canny edges (sigma 1, thresholds 0.1 / 0.2, as scikit-image's defaults)."""
    s = gaussian_blur(x, 1.0)[:, None]
    gx = F.conv2d(F.pad(s, (1, 1, 1, 1), mode="replicate"), torch.tensor([[[[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]]]))
    gy = F.conv2d(F.pad(s, (1, 1, 1, 1), mode="replicate"), torch.tensor([[[[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]]]))
    mag = torch.hypot(gx, gy)[:, 0]
    angle = (torch.rad2deg(torch.atan2(gy, gx))[:, 0] + 180) % 180
    sector = ((angle + 22.5) // 45).long() % 4  # 0: horizontal gradient, 1: 45, 2: vertical, 3: 135
    padded = F.pad(mag, (1, 1, 1, 1))
    offsets = {0: ((0, 1), (0, -1)), 1: ((1, 1), (-1, -1)), 2: ((1, 0), (-1, 0)), 3: ((1, -1), (-1, 1))}
    keep = torch.zeros_like(mag, dtype=torch.bool)
    for k, ((r_a, c_a), (r_b, c_b)) in offsets.items():
        a = padded[:, 1 + r_a : 29 + r_a, 1 + c_a : 29 + c_a]
        b = padded[:, 1 + r_b : 29 + r_b, 1 + c_b : 29 + c_b]
        keep |= (sector == k) & (mag >= a) & (mag >= b)
    mag = mag * keep / 4  # scikit-image's Sobel is a quarter of this kernel's
    strong, weak = mag >= 0.2, mag >= 0.1
    edges = strong
    for _ in range(28):  # hysteresis: weak edges connected to strong ones
        grown = F.max_pool2d(edges[:, None].float(), 3, 1, 1)[:, 0].bool() & weak
        if torch.equal(grown, edges):
            break
        edges = grown
    return edges.float()


CORRUPTIONS: dict[str, Corruption] = {
    f.__name__: f
    for f in (
        shot_noise,
        impulse_noise,
        glass_blur,
        motion_blur,
        shear,
        scale,
        rotate,
        brightness,
        translate,
        stripe,
        fog,
        spatter,
        dotted_line,
        zigzag,
        canny_edges,
    )
}


def corrupt(name: str, pixels: Tensor) -> Tensor:
    """MNIST-C's ``name`` applied to (N, 28, 28) or (N, 1, 28, 28) pixels, with the corruption's own seed."""
    x = pixels.reshape(-1, 28, 28).float()
    return CORRUPTIONS[name](x, torch.Generator().manual_seed(_seed(name))).reshape(pixels.shape)
