"""Recompute every metric on the real held-out data, through each model's own preprocessing methods."""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.models import DigitsModel, HousesModel, LatentModel, PyTorchModel, TextModel

from . import data


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
def digits_probs(model: DigitsModel, pixels: Tensor, batch_size: int = 1000) -> Tensor:
    """Class probabilities for MNIST-style pixels in [0, 1]."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(pixels), batch_size):
        logits = model(model.preprocess(pixels[i : i + batch_size]).to(device))[0]
        out.append(F.softmax(logits.float(), -1).cpu())
    return torch.cat(out)


def eval_digits(model: DigitsModel) -> dict[str, float]:
    pixels, labels = _mnist_test()
    probs = digits_probs(model, pixels)
    return {
        "accuracy": (probs.argmax(1) == labels).float().mean().item(),
        "loss": F.nll_loss(probs.clamp_min(1e-12).log(), labels).item(),
    }


@torch.inference_mode()
def eval_houses(model: HousesModel) -> dict[str, float]:
    split = _houses()
    pred = model.eval()(model.scale(split.X_test))[0].squeeze(1).double().numpy()
    err = pred - split.y_test
    return {"mse": float(np.mean(err**2)), "mae": float(np.mean(np.abs(err)))}


@torch.inference_mode()
def eval_latent(model: LatentModel, classifier: DigitsModel | None, n_samples: int = 1000) -> dict[str, float]:
    """Reconstruction MSE on the model's input scale, and the chapter's "smooth space" test as numbers:
    decode ``n_samples`` random codes from the model's prior and let the best digits model judge them."""
    model.eval()
    pixels, _ = _mnist_test()
    total = 0.0
    for i in range(0, len(pixels), 1000):
        x = model.to_input(pixels[i : i + 1000])
        total += F.mse_loss(model(x)[0], x, reduction="sum").item()
    metrics = {"mse": total / pixels.numel()}
    if classifier is not None:
        codes = model.sample_codes(n_samples, generator=torch.Generator().manual_seed(0))
        top = digits_probs(classifier, model.to_pixels(model.decode(codes))).max(1).values
        metrics["sample_score"] = top.mean().item()
        metrics["sample_confident"] = (top > 0.9).float().mean().item()
    return metrics


@torch.inference_mode()
def eval_text(model: TextModel, text_file: str | None = None, streams: int = 16, chunk: int = 256) -> dict:
    """Next-character loss over the validation split, read as ``streams`` contiguous pieces whose state is
    carried from chunk to chunk: every character is predicted with all the text before it in its piece."""
    model.eval()
    ids = data.encode_text(_text_val(text_file), model.vocab)
    length = (len(ids) - 1) // streams
    X = ids[: streams * length].view(streams, length)
    Y = ids[1 : streams * length + 1].view(streams, length)
    state, total = None, 0.0
    for i in range(0, length, chunk):
        logits, state = model.run(X[:, i : i + chunk], state)
        targets = Y[:, i : i + chunk].reshape(-1)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets, reduction="sum").item()
    loss = total / Y.numel()
    return {"loss": loss, "bits_per_char": loss / math.log(2)}


@torch.inference_mode()
def cpu_latency_ms(model: PyTorchModel, repeats: int = 50) -> float:
    """Median wall time of one single-input forward pass on the CPU, in ms."""
    model = model.cpu().eval()
    x = example_input(model)
    for _ in range(5):
        model(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model(x)
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
    model: PyTorchModel, *, classifier: DigitsModel | None = None, text_file: str | None = None
) -> dict[str, Any]:
    task = model.task
    if task == "digits":
        return eval_digits(model)
    if task == "houses":
        return eval_houses(model)
    if task == "latent":
        return eval_latent(model, classifier)
    if task == "text":
        return eval_text(model, text_file)
    raise ValueError(f"no evaluation for task {task!r}")
