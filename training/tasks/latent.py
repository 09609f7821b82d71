"""The latent task: autoencoders, VAEs and GANs of MNIST digits, scored by reconstruction (when they have an
encoder) and by what a digits model, the judge, reads in their random samples."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache, partial
from typing import Any

import numpy as np
import torch
from torch import Tensor

from zoo.models import DigitsModel, LatentModel

from ..evaluate import Evaluation, mnist_test
from ..trainer import EVAL_BATCH
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

    def example_input(self, model: LatentModel) -> Tensor:
        return torch.zeros(1, 1, 28, 28)

    def latency_call(self, model: LatentModel) -> Callable[[], Any]:
        """One decode: what the app runs on every slider move (a GAN's forward would include a code search)."""
        return partial(model.decode, torch.zeros(1, model.hidden_dim))


TASK = register(Latent())
