"""Boston house prices (in $1000s) from 13 features: the book's one-hidden-layer network and the
scikit-learn baselines it is ranked against, stored as tensors so that inference needs no sklearn or pickle.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .base import PyTorchModel
from .layers import DenseLayer, assert_dim
from .registry import architecture


class HousesModel(PyTorchModel):
    """A Boston house-price regressor. Its config carries ``feature_names``, the scaler (``normalize``: per-feature
    mean and std of the training split) and ``feature_medians`` (the training medians, the app's defaults)."""

    task = "houses"

    def scale(self, features: Any) -> Tensor:
        """Raw features (13 numbers, or N rows of 13) -> the standardised float32 input the model reads.

        The arithmetic is float64, like scikit-learn's ``StandardScaler``, and the result is cast once."""
        norm = self.config.get("normalize")
        if not norm:
            raise ValueError(f"{self.config.get('name', type(self).__name__)} has no scaler in its config")
        x = torch.as_tensor(features, dtype=torch.float64)
        x = x[None] if x.ndim == 1 else x
        mean, std = (torch.tensor(norm[k], dtype=torch.float64) for k in ("mean", "std"))
        return ((x - mean) / std).float()


@architecture
class HousePricesModel(HousesModel):
    """13 standardised Boston features -> hidden layer -> price (in $1000s).

    Book text: Sigmoid hidden layer, no dropout. The notebook's variant: Tanh, hidden keep-prob 0.8.
    """

    def __init__(
        self,
        hidden_size: int = 13,
        activation: str = "sigmoid",
        keep_prob: float = 1.0,  # probability of keeping a hidden unit (the book's convention)
        n_features: int = 13,
        feature_names: list[str] | None = None,
        normalize: dict | None = None,
        feature_medians: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.dense1 = DenseLayer(n_features, hidden_size, activation=activation, keep_prob=keep_prob)
        self.dense2 = DenseLayer(hidden_size, 1)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 2, shape=(None, self.n_features))
        return (self.dense2(self.dense1(x)),)


@architecture
class LinearRegressor(HousesModel):
    """A scikit-learn ``LinearRegression`` baseline, its coefficients stored as safetensors (no pickle)."""

    def __init__(
        self,
        n_features: int = 13,
        feature_names: list[str] | None = None,
        normalize: dict | None = None,
        feature_medians: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 2, shape=(None, self.n_features))
        return (self.linear(x),)


@architecture
class TreeEnsembleRegressor(HousesModel):
    """A scikit-learn tree ensemble (random forest) as flat node arrays; prediction = mean over trees.

    Trees are stored padded to ``max_nodes``; a leaf has ``left == -1``. Evaluated with tensor gathers,
    ``max_depth`` steps, so it needs neither sklearn nor pickle at inference time.
    """

    def __init__(
        self,
        n_trees: int = 1,
        max_nodes: int = 1,
        max_depth: int = 1,
        n_features: int = 13,
        feature_names: list[str] | None = None,
        normalize: dict | None = None,
        feature_medians: list[float] | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.max_depth = max_depth
        self.register_buffer("feature", torch.zeros(n_trees, max_nodes, dtype=torch.int64))
        self.register_buffer("threshold", torch.zeros(n_trees, max_nodes))
        self.register_buffer("left", torch.full((n_trees, max_nodes), -1, dtype=torch.int64))
        self.register_buffer("right", torch.full((n_trees, max_nodes), -1, dtype=torch.int64))
        self.register_buffer("value", torch.zeros(n_trees, max_nodes))

    def num_params(self) -> int:
        """Its stored numbers (node features, thresholds, children, values): trees have no parameters."""
        return sum(b.numel() for b in self.buffers())

    def forward(self, x: Tensor) -> tuple[Tensor]:
        assert_dim(x, 2, shape=(None, self.n_features))
        n_trees = self.feature.shape[0]
        node = torch.zeros(x.shape[0], n_trees, dtype=torch.int64, device=x.device)
        trees = torch.arange(n_trees, device=x.device).expand_as(node)
        for _ in range(self.max_depth):
            left = self.left[trees, node]
            is_leaf = left < 0
            feat = self.feature[trees, node].clamp(min=0)
            go_left = x.gather(1, feat) <= self.threshold[trees, node]
            nxt = torch.where(go_left, left, self.right[trees, node])
            node = torch.where(is_leaf, node, nxt)
        return (self.value[trees, node].mean(dim=1, keepdim=True),)
