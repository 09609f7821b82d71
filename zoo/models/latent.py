"""Image models with a 28-d code: the book's autoencoder, a VAE with its layers, and a DCGAN.

Chapter 7 decodes random codes and gets noise; a VAE's prior and a GAN's generator are the two fixes,
judged on the same ``LatentModel`` interface (``encode``, ``decode``, ``sample_codes``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import PyTorchModel
from .layers import ConvLayer, DenseLayer, assert_dim
from .registry import architecture


class Encoder(PyTorchModel):
    """(N, 1, 28, 28) in [-1, 1] -> (N, hidden_dim) in [-1, 1]: conv 14, conv 7, dense, all Tanh."""

    def __init__(self, hidden_dim: int = 28, out_dim: int | None = None, out_activation: str | None = "tanh"):
        super().__init__()
        self.conv1 = ConvLayer(1, 14, 5, activation="tanh")
        self.conv2 = ConvLayer(14, 7, 5, activation="tanh", flatten=True)
        self.dense1 = DenseLayer(7 * 28 * 28, out_dim or hidden_dim, activation=out_activation)

    def forward(self, x: Tensor) -> Tensor:
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        return self.dense1(self.conv2(self.conv1(x)))


class Decoder(PyTorchModel):
    """(N, hidden_dim) -> (N, 1, 28, 28) in [-1, 1]: dense to 7x28x28, conv 14, conv 1, all Tanh."""

    def __init__(self, hidden_dim: int = 28) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.dense1 = DenseLayer(hidden_dim, 7 * 28 * 28, activation="tanh")
        self.conv1 = ConvLayer(7, 14, 5, activation="tanh")
        self.conv2 = ConvLayer(14, 1, 5, activation="tanh")

    def forward(self, x: Tensor) -> Tensor:
        assert_dim(x, 2, name="latent codes", shape=(None, self.hidden_dim))
        return self.conv2(self.conv1(self.dense1(x).view(-1, 7, 28, 28)))


class LatentModel(PyTorchModel):
    """An image model with a 28-d code. It reads and writes images on the scale ``config["input_scale"]``
    gives; ``to_input`` and ``to_pixels`` are the one place that conversion is written."""

    task = "latent"
    has_encoder = True  # False: ``encode`` searches for a code instead of computing it
    encoder: Encoder
    decoder: Decoder
    hidden_dim: int

    def _scale(self) -> tuple[float, float]:
        s = self.config.get("input_scale")
        if not s:
            raise ValueError(f"{self.config.get('name', type(self).__name__)} has no 'input_scale' in its config")
        return s["min"], s["max"]

    def to_input(self, pixels: Any) -> Tensor:
        """Pixels in [0, 1] ((28, 28), (N, 28, 28) or (N, 1, 28, 28)) -> (N, 1, 28, 28) on the model's scale."""
        lo, hi = self._scale()
        x = torch.as_tensor(pixels, dtype=torch.float32)
        x = x[None, None] if x.ndim == 2 else x[:, None] if x.ndim == 3 else x
        return x * (hi - lo) + lo

    def to_pixels(self, output: Tensor) -> Tensor:
        """The decoder's output (N, 1, 28, 28) on the model's scale -> pixels in [0, 1], same shape."""
        lo, hi = self._scale()
        return ((output.float() - lo) / (hi - lo)).clamp(0, 1)

    def encode(self, x: Tensor) -> Tensor:
        """The code a digit maps to (the VAE's mean)."""
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Random codes from the model's prior (what its decoder should turn into digits)."""
        raise NotImplementedError


@architecture
class Autoencoder(LatentModel):
    """The book's convolutional autoencoder; ``forward`` returns ``(reconstruction, encoding)``.

    Its codes are Tanh outputs in [-1, 1]; random codes from that cube are the book's Figure 7-5 test."""

    def __init__(self, hidden_dim: int = 28, input_scale: dict | None = None) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.encoder = Encoder(hidden_dim)
        self.decoder = Decoder(hidden_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        encoding = self.encoder(x)
        return self.decoder(encoding), encoding

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.rand(n, self.hidden_dim, generator=generator) * 2 - 1


@architecture
class VAE(LatentModel):
    """A variational autoencoder with the book autoencoder's layers; prior N(0, I) over a 28-d latent.

    ``forward`` returns ``(reconstruction, mu, logvar)``; in eval mode the reconstruction uses ``mu``."""

    def __init__(self, hidden_dim: int = 28, beta: float = 1.0, input_scale: dict | None = None) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.beta = beta
        self.encoder = Encoder(hidden_dim, out_dim=2 * hidden_dim, out_activation=None)
        self.decoder = Decoder(hidden_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        logvar = logvar.clamp(-10, 10)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x).chunk(2, dim=1)[0]

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randn(n, self.hidden_dim, generator=generator)


class DCGANGenerator(nn.Module):
    """(N, hidden_dim) -> (N, 1, 28, 28) in [-1, 1]: a linear projection to 2w x 7 x 7, then two stride-2
    transposed convolutions (7 -> 14 -> 28) with batch norm and ReLU, Tanh out (Radford et al. 2015).

    With ``classes`` it is class-conditional (Mirza & Osindero 2014) and still reads one N(0, I) code: the
    code's first coordinate picks the class by its quantile (``classes`` equally likely bins of N(0, 1)) and
    the class goes in one-hot beside the other coordinates. Ten digits are ten separate shapes, and a
    continuous map from one Gaussian must pass through non-digits between them; the bins let it jump."""

    def __init__(self, hidden_dim: int, width: int, classes: int = 0) -> None:
        super().__init__()
        self.hidden_dim, self.classes = hidden_dim, classes
        inputs = hidden_dim - 1 + classes if classes else hidden_dim
        # bin edges: the standard normal's 1/classes, 2/classes, ... quantiles (computed, not saved)
        edges = torch.special.ndtri(torch.arange(1, max(classes, 1), dtype=torch.float64) / max(classes, 1)).float()
        self.register_buffer("edges", edges, persistent=False)
        self.project = nn.Sequential(
            nn.Linear(inputs, 2 * width * 7 * 7, bias=False), nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU()
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),
            nn.Tanh(),
        )

    def class_of(self, z: Tensor) -> Tensor:
        """The class (N,) each code's first coordinate picks; all zeros for an unconditional generator."""
        return torch.bucketize(z[:, 0].contiguous(), self.edges.to(z.device, z.dtype), right=True)

    def class_codes(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """(classes,): the first coordinate's value at the middle (median) of each class's bin."""
        return torch.special.ndtri((torch.arange(self.classes, dtype=torch.float64) + 0.5) / self.classes).to(dtype)

    def forward(self, z: Tensor) -> Tensor:
        assert_dim(z, 2, name="latent codes", shape=(None, self.hidden_dim))
        if self.classes:
            z = torch.cat([z[:, 1:], F.one_hot(self.class_of(z), self.classes).to(z.dtype)], 1)
        return self.up(self.project(z).view(len(z), -1, 7, 7))


MAX_SEARCH_STEPS = 2000


@architecture
class DCGAN(LatentModel):
    """The fix chapter 7 names for random codes that decode to noise: a generator trained against a
    discriminator, so that every N(0, I) code decodes to a digit. Only the generator is kept.

    A GAN has no encoder: ``encode`` *searches* for the code whose decoding is closest to the image (gradient
    descent from several starts, ``search_steps`` Adam steps), and ``forward`` returns
    ``(reconstruction, code)`` through that search like the autoencoders do. With ``classes`` the generator is
    class-conditional, the class read from the code's first coordinate (``DCGANGenerator``)."""

    has_encoder = False

    def __init__(
        self,
        hidden_dim: int = 28,
        width: int = 64,
        search_steps: int = 200,
        classes: int = 0,
        input_scale: dict | None = None,
    ) -> None:
        super().__init__()
        if not 1 <= search_steps <= MAX_SEARCH_STEPS:  # every "Encode my drawing" runs this many steps
            raise ValueError(f"search_steps must lie between 1 and {MAX_SEARCH_STEPS}, got {search_steps}")
        if not (classes == 0 or 2 <= classes <= 100):
            raise ValueError(f"classes must be 0 (unconditional) or between 2 and 100, got {classes}")
        self.hidden_dim, self.search_steps, self.classes = hidden_dim, search_steps, classes
        self.decoder = DCGANGenerator(hidden_dim, width, classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        code = self.encode(x)
        return self.decoder(code), code

    @property
    def search_starts(self) -> int:
        """How many searches ``encode`` starts per image: one per class, or 4 (the prior's mode and 3 random)."""
        return self.classes or 4

    def encode(self, x: Tensor) -> Tensor:
        """The code (N, hidden_dim) whose decoding has the least squared error to ``x`` (N, 1, 28, 28).

        Successive halving: every start gets a quarter of ``search_steps``, the best two per image the rest. A
        class-conditional generator starts once per class: the first coordinate is held at the middle of that
        class's bin (no gradient crosses a bin edge) and the rest start at the prior's mode."""
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        starts = self.search_starts
        was_training, grads = self.training, [p.requires_grad for p in self.parameters()]
        self.eval()  # batch norm with its running statistics: one image's search must not depend on another's
        self.requires_grad_(False)  # gradients for the code only, none for the weights
        with torch.inference_mode(False), torch.enable_grad():
            target = x.detach().clone().float()
            z = torch.randn(len(target) * starts, self.hidden_dim, generator=torch.Generator().manual_seed(0))
            z[::starts] = 0  # one start at the prior's mode
            free = torch.ones(self.hidden_dim)
            if self.classes:
                z.zero_()
                z[:, 0] = self.decoder.class_codes().repeat(len(x))
                free[0] = 0  # the class stays the one this start was given
            z, free = z.to(target.device), free.to(target.device)
            first = max(1, self.search_steps // 4)
            z, err = self._descend(z, target.repeat_interleave(starts, 0), free, first)
            keep = min(2, starts)
            best = err.view(-1, starts).topk(keep, 1, largest=False).indices
            z = z[(best + torch.arange(len(x), device=z.device)[:, None] * starts).flatten()]
            if self.search_steps > first:
                z, err = self._descend(z, target.repeat_interleave(keep, 0), free, self.search_steps - first)
            code = z[err.view(-1, keep).argmin(1) + torch.arange(len(x), device=z.device) * keep]
        self.train(was_training)
        for p, g in zip(self.parameters(), grads, strict=True):
            p.requires_grad_(g)
        return code.clone()

    def _descend(self, z: Tensor, target: Tensor, free: Tensor, steps: int) -> tuple[Tensor, Tensor]:
        """``steps`` Adam steps (cosine-annealed) on codes ``z`` towards ``target``, moving only the ``free``
        coordinates; the codes and each one's mean squared error."""
        z = z.clone().requires_grad_(True)
        z.register_hook(lambda grad: grad * free)
        opt = torch.optim.Adam([z], lr=0.1)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        for _ in range(steps):
            sse = ((self.decoder(z) - target) ** 2).sum()
            loss = sse + 1e-2 * (z**2).sum()  # a weak pull towards the prior keeps codes in range
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                z.clamp_(-4, 4)
        with torch.no_grad():
            return z.detach(), ((self.decoder(z) - target) ** 2).flatten(1).mean(1)

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return torch.randn(n, self.hidden_dim, generator=generator)
