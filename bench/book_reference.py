"""A reference copy of the book's MNIST ConvNet and training loop (DLFS_code 07_PyTorch), for timing only.

Kept as the book writes it: ``nn.Dropout`` with the keep probability converted, a ``DataLoader`` over the
torchvision dataset with PIL ``ToTensor`` + ``Normalize`` per image, batch 60, SGD 0.01 momentum 0.9.
"""

from __future__ import annotations

import time

import torch
from torch import Tensor, nn, optim


class ConvLayer(nn.Module):
    def __init__(self, in_channels, out_channels, filter_size, activation=None, flatten=False, dropout=1.0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, filter_size, padding=filter_size // 2)
        self.activation = activation
        self.flatten = flatten
        if dropout < 1.0:
            self.dropout = nn.Dropout(1 - dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.activation:
            x = self.activation(x)
        if self.flatten:
            x = x.view(x.shape[0], x.shape[1] * x.shape[2] * x.shape[3])
        if hasattr(self, "dropout"):
            x = self.dropout(x)
        return x


class DenseLayer(nn.Module):
    def __init__(self, input_size, neurons, dropout=1.0, activation=None):
        super().__init__()
        self.linear = nn.Linear(input_size, neurons)
        self.activation = activation
        if dropout < 1.0:
            self.dropout = nn.Dropout(1 - dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.linear(x)
        if self.activation:
            x = self.activation(x)
        if hasattr(self, "dropout"):
            x = self.dropout(x)
        return x


class MNIST_ConvNet(nn.Module):  # noqa: N801 (the book's name)
    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(1, 16, 5, activation=nn.Tanh(), dropout=0.8)
        self.conv2 = ConvLayer(16, 8, 5, activation=nn.Tanh(), flatten=True, dropout=0.8)
        self.dense1 = DenseLayer(28 * 28 * 8, 32, activation=nn.Tanh(), dropout=0.8)
        self.dense2 = DenseLayer(32, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.dense1(x)
        return self.dense2(x)


def train_one_epoch(limit: int | None = None, seed: int = 0) -> tuple[float, float]:
    """Seconds for one epoch of the book's loop, and the test accuracy it reaches."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import transforms

    from training.data import mnist_dataset, mnist_pixels

    torch.manual_seed(seed)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1305,), (0.3081,))])
    ds = mnist_dataset(True, transform=tf)
    if limit:
        ds = Subset(ds, range(limit))
    loader = DataLoader(ds, batch_size=60, shuffle=True)
    model = MNIST_ConvNet()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    model.train()
    for X, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    pixels, labels = mnist_pixels(train=False)
    with torch.no_grad():
        pred = model((pixels - 0.1305) / 0.3081).argmax(1)
    return seconds, (pred == labels).float().mean().item()


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.book_reference --seed S``: one epoch in a fresh process; prints seconds and accuracy."""
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m bench.book_reference", description=main.__doc__)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    args = p.parse_args(argv)
    seconds, accuracy = train_one_epoch(args.limit, args.seed)
    print(json.dumps({"seconds": seconds, "accuracy": accuracy}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
