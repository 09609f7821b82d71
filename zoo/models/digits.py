"""MNIST digit classifiers, 28x28 pixels -> 10 logits: the book's ConvNet, chapter 4's MLP, and a modern
small CNN (batch norm, ReLU, max-pooling) that they are ranked against.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .base import PyTorchModel
from .layers import ConvLayer, DenseLayer, assert_dim
from .registry import architecture


class DigitsModel(PyTorchModel):
    """A digit classifier: (N, 1, 28, 28) pixels normalised with ``config["normalize"]`` -> 10 logits.

    ``preprocess`` is the one place that normalisation is written (torchvision's ``weights.transforms()``)."""

    task = "digits"

    def preprocess(self, pixels: Any) -> Tensor:
        """MNIST-style pixels in [0, 1], white ink on black ((28, 28), (N, 28, 28) or (N, 1, 28, 28)) -> input."""
        norm = self.config.get("normalize")
        if not norm:
            raise ValueError(f"{self.config.get('name', type(self).__name__)} has no 'normalize' in its config")
        x = torch.as_tensor(pixels, dtype=torch.float32)
        x = x[None, None] if x.ndim == 2 else x[:, None] if x.ndim == 3 else x
        return (x - norm["mean"]) / norm["std"]


@architecture
class MNISTConvNet(DigitsModel):
    """The book's ConvNet: two 5x5 Tanh conv layers (book 16/8 channels, notebook 14/7), keep-prob 0.8,
    a 32-unit dense layer, 10 logits."""

    def __init__(
        self,
        conv1_channels: int = 16,
        conv2_channels: int = 8,
        dense_size: int = 32,
        keep_prob: float = 0.8,  # probability of keeping a unit after each hidden layer (the book's convention)
        normalize: dict | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = ConvLayer(1, conv1_channels, 5, activation="tanh", keep_prob=keep_prob)
        self.conv2 = ConvLayer(conv1_channels, conv2_channels, 5, activation="tanh", flatten=True, keep_prob=keep_prob)
        self.dense1 = DenseLayer(28 * 28 * conv2_channels, dense_size, activation="tanh", keep_prob=keep_prob)
        self.dense2 = DenseLayer(dense_size, 10)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        return (self.dense2(self.dense1(self.conv2(self.conv1(x)))),)


@architecture
class MNISTMLP(DigitsModel):
    """Chapter 4's network in PyTorch: 784 -> 89 Tanh -> 10."""

    def __init__(self, hidden_size: int = 89, keep_prob: float = 1.0, normalize: dict | None = None) -> None:
        super().__init__()
        self.dense1 = DenseLayer(784, hidden_size, activation="tanh", keep_prob=keep_prob)
        self.dense2 = DenseLayer(hidden_size, 10)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        return (self.dense2(self.dense1(x.reshape(x.shape[0], -1))),)


@architecture
class MNISTModernCNN(DigitsModel):
    """A modern small CNN: (conv-BN-ReLU x2, max-pool) x2, dropout, a 128-unit head. ~99.4 % in a few epochs."""

    def __init__(
        self,
        width: int = 32,
        drop_prob: float = 0.25,  # probability of zeroing a unit in the head (PyTorch's convention)
        normalize: dict | None = None,
        rescale_input: bool = False,  # stretch each input to its own min..max: a lifted background looks clean
    ) -> None:
        super().__init__()
        self.rescale_input = rescale_input

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        w = width
        stage1 = [*block(1, w), *block(w, w), nn.MaxPool2d(2)]
        stage2 = [*block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*stage1, *stage2)
        hidden = [nn.Flatten(), nn.Dropout(drop_prob), nn.Linear(2 * w * 7 * 7, 128), nn.ReLU(inplace=True)]
        self.head = nn.Sequential(*hidden, nn.Dropout(drop_prob), nn.Linear(128, 10))

    def forward(self, x: Tensor) -> tuple[Tensor]:
        return (self.head[-1](self.penultimate(x)),)

    def penultimate(self, x: Tensor) -> Tensor:
        """The 128 activations the last layer reads (the feature space of ``frechet``, as Inception's pool
        layer is FID's). Dropout is off in eval mode, so these are exactly what the logits come from."""
        assert_dim(x, 4, shape=(None, 1, 28, 28))
        if self.rescale_input:
            lo, hi = x.amin(dim=(2, 3), keepdim=True), x.amax(dim=(2, 3), keepdim=True)
            x = (x - lo) / (hi - lo).clamp_min(1e-3) * 3 - 0.5  # about the range MNIST's normalisation gives
        return self.head[:-1](self.features(x))
