"""Recompute every metric on the real held-out data, through each model's own preprocessing methods."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.models import DigitsModel, HousesModel, LatentModel, PyTorchModel, TextModel

from . import data
from .drawn import VERSION as DRAWN_VERSION
from .trainer import EVAL_BATCH


@cache
def _mnist_test() -> tuple[Tensor, Tensor]:
    return data.mnist_pixels(train=False)


@cache
def _houses():
    return data.boston_split()


@cache
def _text_val(text_file: str | None) -> str:
    return data.text_split(data.load_text(text_file))[1]


@torch.inference_mode()
def digits_probs(model: DigitsModel, pixels: Tensor, batch_size: int = EVAL_BATCH) -> Tensor:
    """Class probabilities for MNIST-style pixels in [0, 1]."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(pixels), batch_size):
        logits = model(model.preprocess(pixels[i : i + batch_size]).to(device))[0]
        out.append(F.softmax(logits.float(), -1).cpu())
    return torch.cat(out)


@dataclass
class Evaluation:
    """Metrics, and for each one that is a mean over test items the per-item values (for its interval)."""

    metrics: dict[str, float]
    items: dict[str, Tensor] = field(default_factory=dict)
    fixed_intervals: dict[str, list[float]] = field(default_factory=dict)  # computed by the metric's own bootstrap
    benchmarks: dict[str, dict[str, str]] = field(default_factory=dict)  # generated set -> version, items' sha256

    def intervals(self, resamples: int = 1000, seed: int = 0) -> dict[str, list[float]]:
        """95 % percentile-bootstrap intervals over test items, from a fixed seed (so they verify too)."""
        out, draws = {}, {}
        for name, values in self.items.items():
            values = values.double().flatten()
            n = len(values)
            if n not in draws:  # every metric over the same items is resampled alike (one seed): drawn once
                draws[n] = torch.randint(n, (resamples, n), generator=torch.Generator().manual_seed(seed))
            means = values.take(draws[n]).mean(1)
            lo, hi = torch.quantile(means, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
            out[name] = [lo, hi]
        return out | self.fixed_intervals


def _digits_items(model: DigitsModel, pixels: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    probs = digits_probs(model, pixels)
    return (probs.argmax(1) == labels).float(), -probs.clamp_min(1e-12).log().gather(1, labels[:, None])[:, 0]


def eval_digits(model: DigitsModel, robustness: bool = True) -> Evaluation:
    """Clean MNIST test accuracy and loss; **corrupted**: mean accuracy over MNIST-C's 15 corruptions (each
    also on its own); **drawn**: accuracy on digits as people send them, through the app's preprocessing."""
    from .robustness import corrupted_test, drawn_test

    pixels, labels = _mnist_test()
    right, nll = _digits_items(model, pixels, labels)
    ev = Evaluation({"accuracy": right.mean().item(), "loss": nll.mean().item()}, {"accuracy": right, "loss": nll})
    if not robustness:  # timing runs (bench) need only the clean split
        return ev
    per_image = torch.zeros(len(labels))
    for name, images in corrupted_test().items():
        hit = _digits_items(model, images, labels)[0]
        ev.metrics[f"corrupted_{name}"] = hit.mean().item()
        per_image += hit
    per_image /= len(corrupted_test())
    ev.metrics["corrupted"] = per_image.mean().item()
    ev.items["corrupted"] = per_image
    drawn = drawn_test()
    hit = _digits_items(model, drawn.pixels, drawn.labels)[0] * drawn.read
    ev.metrics["drawn"] = hit.mean().item()
    ev.benchmarks["drawn"] = {"version": DRAWN_VERSION, "sha256": drawn.sha256}
    ev.items["drawn"] = hit
    for group, members in {
        **{f"drawn_{s.replace('-', '_')}": [x == s for x in drawn.sources] for s in sorted(set(drawn.sources))},
        "drawn_photo": [x == "photo" for x in drawn.styles],
        "drawn_canvas": [x != "photo" for x in drawn.styles],
    }.items():
        ev.metrics[group] = hit[torch.tensor(members)].mean().item()
    return ev


@torch.inference_mode()
def eval_houses(model: HousesModel) -> Evaluation:
    split = _houses()
    pred = model.eval()(model.scale(split.X_test))[0].squeeze(1).double().numpy()
    err = pred - split.y_test
    items = {"mse": torch.from_numpy(err**2), "mae": torch.from_numpy(np.abs(err))}
    return Evaluation({"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err)))}, items)


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
    return judge_features(judge, _mnist_test()[0])


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
    pixels, _ = _mnist_test()
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


@torch.inference_mode()
def eval_text(model: TextModel, text_file: str | None = None, streams: int = 16, chunk: int = 256) -> Evaluation:
    """Next-character loss over the validation split, read as ``streams`` contiguous pieces whose state is
    carried from chunk to chunk: every character is predicted with all the text before it in its piece.
    Items for the interval are chunks of 256 characters (neighbouring characters are not independent)."""
    model.eval()
    ids = data.encode_text(_text_val(text_file), model.vocab)
    length = (len(ids) - 1) // streams
    X = ids[: streams * length].view(streams, length)
    Y = ids[1 : streams * length + 1].view(streams, length)
    state, total, blocks = None, 0.0, []
    for i in range(0, length, chunk):
        logits, state = model.run(X[:, i : i + chunk], state)
        losses = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), Y[:, i : i + chunk].reshape(-1), reduction="none"
        )
        total += losses.sum().item()
        if logits.shape[1] == chunk or not blocks and i + chunk >= length:  # a short text: its one partial chunk
            blocks.append(losses.view(streams, -1).mean(1))
    loss = total / Y.numel()
    per_block = torch.cat(blocks)
    items = {"loss": per_block, "bits_per_char": per_block / math.log(2)}
    return Evaluation({"loss": loss, "bits_per_char": loss / math.log(2)}, items)


@torch.inference_mode()
def cpu_latency_ms(model: PyTorchModel, repeats: int = 50) -> float:
    """Median wall time of one single-input forward pass on the CPU, in ms; for latent models one decode
    (what the app runs on every slider move; a GAN's forward would include a code search)."""
    model = model.cpu().eval()
    x = example_input(model)
    run = (lambda: model.decode(torch.zeros(1, model.hidden_dim))) if model.task == "latent" else (lambda: model(x))
    for _ in range(5):
        run()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def example_input(model: PyTorchModel) -> Tensor:
    """One input of the shape the model reads (the LSTMs: one sequence of the training length)."""
    if model.task == "digits":
        return torch.zeros(1, 1, 28, 28)
    if model.task == "latent":
        return torch.zeros(1, 1, 28, 28)
    if model.task == "houses":
        return torch.zeros(1, model.config.get("n_features", 13))
    if hasattr(model, "lstm") and hasattr(model, "sequence_length"):  # the book LSTM reads one-hot
        return torch.zeros(1, model.sequence_length, model.vocab_size)
    return torch.zeros(1, 100, dtype=torch.long)


def evaluate_model(
    model: PyTorchModel,
    *,
    classifier: DigitsModel | None = None,
    text_file: str | None = None,
    robustness: bool = True,
) -> Evaluation:
    task = model.task
    if task == "digits":
        return eval_digits(model, robustness)
    if task == "houses":
        return eval_houses(model)
    if task == "latent":
        return eval_latent(model, classifier)
    if task == "text":
        return eval_text(model, text_file)
    raise ValueError(f"no evaluation for task {task!r}")
