"""The latent task: autoencoders, VAEs and GANs of MNIST digits, scored by reconstruction (when they have an
encoder) and by what a digits model, the judge, reads in their random samples."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from functools import cache, partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn, optim
from torch.optim import swa_utils
from tqdm.auto import tqdm

from zoo.catalog import Entry
from zoo.models import DigitsModel, LatentModel

from .. import data
from ..evaluate import Evaluation, mnist_test
from ..recipes import Options, book_sgd, register_trainer, trainer_for
from ..trainer import EVAL_BATCH, pick_device
from .base import Task, register
from .digits import digits_probs


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two feature sets
    (FID's formula). The trace of the square root is the sum of the square roots of the eigenvalues of
    S_a^(1/2) S_b S_a^(1/2), which is symmetric: no complex parts to drop."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


@torch.inference_mode()
def judge_features(judge: DigitsModel, pixels: Tensor, batch_size: int = EVAL_BATCH) -> np.ndarray:
    judge.eval()
    parts = [judge.penultimate(judge.preprocess(pixels[i : i + batch_size])) for i in range(0, len(pixels), batch_size)]
    return torch.cat(parts).double().numpy()


@cache
def _real_features(judge_sha: str, judge: DigitsModel) -> np.ndarray:  # keyed by the judge's weights
    return judge_features(judge, mnist_test()[0])


@torch.inference_mode()
def eval_latent(model: LatentModel, classifier: DigitsModel | None, n_samples: int = 10_000) -> Evaluation:
    """The chapter's "smooth space" test as numbers: decode ``n_samples`` random codes from the model's prior
    and let a digits model (the judge) read them: ``sample_score`` (its mean top-1 probability),
    ``sample_confident`` (share above 0.9), ``sample_diversity`` (entropy of its predicted classes / ln 10:
    1.0 when all ten digits come equally, low for a generator that collapsed onto a few) and ``frechet``
    (the Frechet distance between the samples and the 10,000 real test digits in the judge's penultimate
    features: FID with the zoo's own digit classifier in place of Inception). Models with an encoder also
    get the reconstruction ``mse`` on the model's input scale."""
    model.eval()
    pixels, _ = mnist_test()
    ev = Evaluation({})
    if model.has_encoder:
        total, per_image = 0.0, []
        for i in range(0, len(pixels), 1000):
            x = model.to_input(pixels[i : i + 1000])
            squared = (model(x)[0] - x) ** 2
            total += squared.sum().item()
            per_image.append(squared.flatten(1).mean(1))
        ev = Evaluation({"mse": total / pixels.numel()}, {"mse": torch.cat(per_image)})
    if classifier is None:
        return ev
    codes = model.sample_codes(n_samples, generator=torch.Generator().manual_seed(0))
    samples = torch.cat([model.to_pixels(model.decode(codes[i : i + 1000])) for i in range(0, n_samples, 1000)])
    probs = digits_probs(classifier, samples)
    top = probs.max(1).values
    fake = judge_features(classifier, samples)
    real = _real_features(classifier.config.get("weights_sha256", ""), classifier)
    ev.metrics |= {
        "sample_score": top.mean().item(),
        "sample_confident": (top > 0.9).float().mean().item(),
        "sample_diversity": _diversity(np.bincount(probs.argmax(1).numpy(), minlength=10)),
        "frechet": frechet_distance(fake, real),
    }
    ev.items |= {"sample_score": top, "sample_confident": (top > 0.9).float()}
    # neither the Frechet distance nor the entropy is a mean over items: bootstrap the samples themselves
    rng = np.random.default_rng(0)
    resamples = [rng.integers(0, n_samples, n_samples) for _ in range(100)]
    classes = probs.argmax(1).numpy()
    spread = [frechet_distance(fake[i], real) for i in resamples]
    entropy = [_diversity(np.bincount(classes[i], minlength=10)) for i in resamples]
    # a resample repeats some samples and drops others, which moves both statistics one way (the distance up,
    # the entropy down): near the entropy's ceiling no resample reaches the estimate, so each interval is
    # stretched to hold the estimate itself
    for metric, values in (("frechet", spread), ("sample_diversity", entropy)):
        lo, hi = np.quantile(values, [0.025, 0.975]).tolist()
        ev.fixed_intervals[metric] = [min(lo, ev.metrics[metric]), max(hi, ev.metrics[metric])]
    return ev


def _diversity(counts: np.ndarray) -> float:
    """Entropy of a class histogram over ln 10: 1.0 when all ten classes are equally frequent."""
    share = counts[counts > 0] / counts.sum()
    return float(-(share * np.log(share)).sum() / math.log(10))


class Latent(Task):
    name = "latent"
    needs_judge = True
    departures = (
        "Inputs are pixels scaled to [-1, 1] as in the book; the scale is in `config.json` (`input_scale`).",
        "Samples: 10,000 random codes from the model's prior (uniform in [-1, 1] for the book autoencoder, as "
        "in Figure 7-5; N(0, I) for the VAE and the GAN) are decoded and read by a digits model, the judge "
        "(`sample_classifier` below). `frechet`: the Frechet distance between the samples and the 10,000 real "
        "test digits in the judge's penultimate features (FID with the zoo's digit classifier in place of "
        "Inception; its interval bootstraps the samples). `sample_confident`: the share the judge reads with "
        "p > 0.9; `sample_diversity`: the entropy of the judge's predicted classes over ln 10 (1.0 = all ten "
        "digits equally often); `sample_score`: the judge's mean top probability. `mse` (reconstruction, on "
        "the input scale) only for models with an encoder: a GAN has none.",
    )

    def evaluate(self, model: LatentModel, *, classifier: DigitsModel | None = None, **_) -> Evaluation:
        return eval_latent(model, classifier)

    @torch.inference_mode()
    def answers(self, model: LatentModel) -> Tensor:
        """The pixels decoded from 256 fixed random codes of the model's prior."""
        codes = model.eval().sample_codes(256, generator=torch.Generator().manual_seed(0))
        return model.to_pixels(model.decode(codes)).flatten()

    def example_input(self, model: LatentModel) -> Tensor:
        return torch.zeros(1, 1, 28, 28)

    def latency_call(self, model: LatentModel) -> Callable[[], Any]:
        """One decode: what the app runs on every slider move (a GAN's forward would include a code search)."""
        return partial(model.decode, torch.zeros(1, model.hidden_dim))


TASK = register(Latent())


# ------------------------------------------------------------------------------------- training
def _mnist_scaled(model: LatentModel) -> tuple[Tensor, Tensor]:
    return model.to_input(data.mnist_pixels(train=True)[0]), model.to_input(data.mnist_pixels(train=False)[0])


@register_trainer("autoencoder")
def train_autoencoder(e: Entry, o: Options):
    model = e.build()
    Xtr, Xte = _mnist_scaled(model)
    Xtr = Xtr[: o.train_limit]  # --train-limit N: the first N images
    opt = book_sgd(model, o.lr)
    hist = trainer_for(model, opt, nn.MSELoss(), o).fit(
        Xtr, Xtr, Xte, Xte, epochs=o.epochs, eval_every=1, batch_size=o.batch_size
    )
    return model, hist


def vae_loss(out: tuple[Tensor, Tensor, Tensor], x: Tensor, beta: float = 1.0) -> Tensor:
    """Per-image negative ELBO: squared error summed over pixels (Gaussian, variance 1/2) + beta * KL."""
    recon, mu, logvar = out
    sse = F.mse_loss(recon, x, reduction="sum") / len(x)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
    return sse + beta * kl


@register_trainer("vae")
def train_vae(e: Entry, o: Options):
    model = e.build()
    Xtr, Xte = _mnist_scaled(model)
    opt = optim.Adam(model.parameters(), lr=o.lr)
    hist = trainer_for(model, opt, lambda out, x: vae_loss(out, x, model.beta), o, full_output=True).fit(
        Xtr, Xtr, Xte, Xte, epochs=o.epochs, eval_every=1, batch_size=o.batch_size, final_lr=o.lr / 10
    )
    return model, hist


class Discriminator(nn.Module):
    """Real or generated? Two stride-2 convolutions with LeakyReLU (batch norm on the second, as DCGAN does
    everywhere but the discriminator's input), one logit. With ``spectral_norm`` every layer's weight is
    divided by its largest singular value (Miyato et al. 2018) and the batch norm goes. With ``classes`` it
    also asks "is this a real one of *that* class?": the projection discriminator (Miyato & Koyama 2018) adds
    the inner product of a learned class embedding with the features. With ``guesses`` (and no labels) it
    also guesses which of that many bins a generated digit's code came from (InfoGAN's Q head, Chen et al.
    2016). Used in training only; the checkpoint keeps the generator."""

    def __init__(self, width: int = 64, spectral_norm: bool = False, classes: int = 0, guesses: int = 0) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
        features = 2 * width * 7 * 7
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, width, 4, 2, 1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1, bias=spectral_norm)),
            nn.Identity() if spectral_norm else nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.head = sn(nn.Linear(features, 1))
        self.embed = sn(nn.Embedding(classes, features)) if classes else None
        self.guess = nn.Linear(features, guesses) if guesses else None

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.score(self.net(x), y)

    def score(self, h: Tensor, y: Tensor | None = None) -> Tensor:
        """The real-or-generated logit from the features ``h`` (and the class ``y`` when conditional)."""
        logit = self.head(h).squeeze(1)
        return logit if self.embed is None else logit + (self.embed(y) * h).sum(1)

    def guess_loss(self, h: Tensor, bins: Tensor) -> Tensor:
        """How badly the Q head guesses the bins the codes of generated digits (features ``h``) fell in: the
        mutual-information term of InfoGAN (0 without a Q head)."""
        return torch.zeros(()) if self.guess is None else F.cross_entropy(self.guess(h.float()), bins)


def gan_losses(kind: str, smooth: float = 0.9) -> tuple[Callable, Callable]:
    """(discriminator loss(real logits, fake logits), generator loss(fake logits)). ``bce``: DCGAN's
    non-saturating loss with real labels smoothed to ``smooth``; ``hinge``: SNGAN's / BigGAN's."""
    if kind == "bce":

        def loss_d(real: Tensor, fake: Tensor) -> Tensor:
            return F.binary_cross_entropy_with_logits(real, torch.full_like(real, smooth)) + (
                F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
            )

        return loss_d, lambda fake: F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if kind == "hinge":
        return (lambda real, fake: F.relu(1 - real).mean() + F.relu(1 + fake).mean()), (lambda fake: -fake.mean())
    raise ValueError(f"unknown GAN loss {kind!r}: use 'bce' or 'hinge'")


@register_trainer("dcgan")
def train_dcgan(e: Entry, o: Options):
    """Radford et al. (2015): Adam at ``lr`` with beta1 0.5, one discriminator step then one generator step
    per batch, codes N(0, I). The generator kept is the exponential moving average of the trained one's
    weights (as GANs since ProGAN keep): the live generator jitters from step to step as the two players chase
    each other, its average does not. ``recipe.extra`` may change the loss (``loss``, ``smooth``), the
    discriminator (``d_width``, ``spectral_norm``, ``lr_d``), ``betas``, the average's ``ema`` decay and
    ``autocast`` ("bfloat16": both networks' forward passes under bf16 autocast, twice the steps per second on
    a CPU with AMX; weights, optimisers and losses stay float32). A class-conditional generator (``classes``
    in the entry's kwargs) trains on MNIST's labels against a projection discriminator: real digits come with
    their label, generated ones with the class their code asked for. A recipe with ``labels=False`` never
    reads them: its generator's bins are then InfoGAN's categorical code (Chen et al. 2016), the
    discriminator unconditional with a Q head that guesses each generated digit's bin, and both players also
    minimise that guess's cross-entropy (weighted by ``extra.info``, 1 by default), so the generator makes
    each bin a shape of its own and jumps between them where a continuous map would pass through non-digits."""
    hp = {"loss": "bce", "smooth": 0.9, "spectral_norm": False, "betas": (0.5, 0.999), "ema": 0.999} | e.recipe.extra
    device = pick_device(o.device)
    if hp.get("autocast") not in (None, "bfloat16"):
        raise ValueError(f"autocast must be 'bfloat16' or left out, got {hp['autocast']!r}")
    mixed = partial(torch.autocast, device.type, torch.bfloat16, enabled=hp.get("autocast") is not None)
    model = e.build()
    pixels, labels = data.mnist_pixels(train=True)
    X = model.to_input(pixels[: o.train_limit])
    Y = labels[: o.train_limit] if e.recipe.labels else torch.zeros(len(X), dtype=torch.long)  # never read
    conditional = model.classes if e.recipe.labels else 0
    info = float(hp.get("info", 1.0)) if model.classes and not e.recipe.labels else 0.0
    G = model.decoder.to(device)
    d_width = hp.get("d_width", e.kwargs.get("width", 64))
    D = Discriminator(d_width, hp["spectral_norm"], conditional, model.classes if info else 0).to(device)
    average = swa_utils.AveragedModel(G, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(hp["ema"]))
    opt_g = optim.Adam(G.parameters(), lr=o.lr, betas=tuple(hp["betas"]))
    opt_d = optim.Adam(D.parameters(), lr=hp.get("lr_d", o.lr), betas=tuple(hp["betas"]))
    d_loss, g_loss = gan_losses(hp["loss"], hp["smooth"])
    gen = torch.Generator().manual_seed(o.seed)
    history = []
    for epoch in range(1, o.epochs + 1):
        G.train(), D.train()
        order = torch.randperm(len(X), generator=gen)
        start, seen = time.perf_counter(), 0
        loss_d_sum = loss_g_sum = torch.zeros((), dtype=torch.float64, device=device)
        d_losses: list[torch.Tensor] = []  # each step's discriminator loss, for the run's curve
        batches = range(0, len(X) - o.batch_size + 1, o.batch_size)
        bar = tqdm(batches, desc=f"epoch {epoch}/{o.epochs}", disable=not o.progress, leave=False, mininterval=1.0)
        for step, i in enumerate(bar, 1):
            batch = order[i : i + o.batch_size]
            real, real_y = X[batch].to(device), Y[batch].to(device)
            z = torch.randn(len(real), model.hidden_dim, generator=gen).to(device)
            fake_y = G.class_of(z)  # the class each code asks for (all 0 and unused when unconditional)
            with mixed():
                fake = G(z)
                h = D.net(fake.detach())
                real_logits, fake_logits = D(real, real_y), D.score(h, fake_y)
            loss_d = d_loss(real_logits.float(), fake_logits.float()) + info * D.guess_loss(h, fake_y).to(device)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with mixed():
                h = D.net(fake)
                fake_logits = D.score(h, fake_y)
            loss_g = g_loss(fake_logits.float()) + info * D.guess_loss(h, fake_y).to(device)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            average.update_parameters(G)
            seen += len(real)
            loss_d_sum, loss_g_sum = loss_d_sum + loss_d.detach(), loss_g_sum + loss_g.detach()
            if o.curve is not None:
                d_losses.append(loss_d.detach())
                if o.curve.wants_progress():
                    rate = seen / (time.perf_counter() - start)
                    o.curve.progress(epoch, o.epochs, step, len(batches), (loss_d_sum / step).item(), rate)
            if step % 25 == 0:
                rate = seen / (time.perf_counter() - start)
                d, g = (loss_d_sum / step).item(), (loss_g_sum / step).item()
                bar.set_postfix(d=f"{d:.3f}", g=f"{g:.3f}", samples_s=f"{rate:,.0f}")
        bar.close()
        seconds = time.perf_counter() - start
        n = max(1, len(batches))
        record = {"epoch": epoch, "loss_d": loss_d_sum.item() / n, "loss_g": loss_g_sum.item() / n}
        record |= {"seconds": seconds, "samples_per_s": seen / seconds}
        history.append(record)
        if o.curve is not None:
            o.curve.source = "A GAN has two losses: each point is the discriminator's; every epoch's record has both."
            o.curve.add_epoch(epoch, torch.stack(d_losses).double().tolist() if d_losses else [], record)
        if o.progress:
            tqdm.write(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "epoch"))
        if o.on_epoch is not None:  # a snapshot of what training would return now (sweeps, `bench/gan_sweep.py`)
            snapshot = copy.deepcopy(model)
            snapshot.decoder = _measured_bn(copy.deepcopy(average.module), torch.Generator().manual_seed(0), device)
            o.on_epoch(epoch, snapshot.cpu().eval())
    model.decoder = _measured_bn(average.module, gen, device)
    return model.cpu().eval(), history


def _measured_bn(generator: nn.Module, gen: torch.Generator, device: torch.device) -> nn.Module:
    """Batch-norm statistics measured for the averaged weights, which never ran during training."""
    codes = (torch.randn(256, generator.hidden_dim, generator=gen) for _ in range(100))
    swa_utils.update_bn(codes, generator, device)
    return generator
