"""The book's ``PyTorchTrainer``, kept recognisable, with what a real run needs added.

Book loop: zero_grad -> ``model(X)[0]`` -> loss -> backward -> step. Added: CUDA when present, a seed,
a progress bar with loss and samples/s, a returned history. Fixed: the LR scheduler steps *after* the
optimizer (the book stepped it first, skipping the initial rate), and train/eval mode follows
``model.train()`` / ``model.eval()``.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ExponentialLR
from tqdm.auto import tqdm

from zoo.models import fastpaths

from .curves import Curve
from .distributed import all_sum, world

# Test batches whose activations stay in a CPU core's cache: the digits ConvNets score 2x faster than at 1000.
EVAL_BATCH = 128


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """CUDA when present, else CPU (``$DLFS_ZOO_DEVICE`` or the argument override)."""
    device = device or os.environ.get("DLFS_ZOO_DEVICE")
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt() parameter numbers


def keep_freed_memory() -> bool:
    """Have glibc keep freed blocks of up to 32 MiB for reuse instead of handing them back to the kernel.

    A training step frees its activations (a few MiB each) and allocates them again in the next step. glibc
    returns such blocks to the kernel until some earlier free of a larger block happens to raise its
    threshold; until then every step page-faults its activations in anew (about 1,700 faults and 10-15 % of
    a book ConvNet step on the CPU). The process keeps its peak heap, which training reaches anyway.
    Returns False where the C library has no ``mallopt`` (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 * 2**20) and mallopt(_M_TRIM_THRESHOLD, 2**30))


BF16_GAIN = 0.75  # bf16 autocast is taken on the CPU only where a step measured at most this share of float32's


@functools.cache
def bf16_faster_on_this_cpu() -> bool:
    """Whether bf16 autocast trains a small ConvNet clearly faster than float32 here: about twice as fast on a
    CPU with AMX tiles, slower on one without (1.39x a book ConvNet's step, measured). A 32-channel 3x3
    convolution's forward and backward at batch 64, each precision in turn, best of five; under a second.
    Its own random generator: the training's random stream is untouched."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 32, 28, 28, generator=g).contiguous(memory_format=torch.channels_last)
    w = (torch.randn(32, 32, 3, 3, generator=g) * 0.1).contiguous(memory_format=torch.channels_last)
    w.requires_grad_()

    def step(bf16: bool) -> float:
        start = time.perf_counter()
        with torch.enable_grad(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            out = torch.nn.functional.conv2d(x, w, padding=1)
        w.grad = None
        out.float().sum().backward()
        return time.perf_counter() - start

    step(False), step(True)  # oneDNN builds its kernels on the first call
    best = {bf16: min(step(bf16) for _ in range(5)) for bf16 in (False, True)}
    return best[True] <= best[False] * BF16_GAIN


def uses_bf16(device: torch.device, cpu_bfloat16: bool = False) -> bool:
    """Whether training runs under bf16 autocast: on a GPU with bf16; on the CPU only for a recipe that asks for
    it (``cpu_bfloat16``) and where it measured faster. Elsewhere float32, which lets a retrain reproduce the
    committed checkpoints on any AVX-512 CPU; a bf16 recipe's retrain matches only on the same kind of CPU."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_bfloat16 and bf16_faster_on_this_cpu()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class PyTorchTrainer:
    """Trains ``model`` with ``optim`` on ``criterion(model(X)[0], y)``.

    ``full_output=True`` hands the criterion the whole output tuple (a VAE's loss needs mu and logvar).
    ``input_transform`` runs on each batch on the device (the book LSTM's one-hot encoding).
    """

    def __init__(
        self,
        model: nn.Module,
        optim: Optimizer,
        criterion: Callable[..., Tensor],
        *,
        device: str | torch.device | None = None,
        seed: int | None = None,
        full_output: bool = False,
        input_transform: Callable[[Tensor], Tensor] | None = None,
        progress: bool = True,
        curve: Curve | None = None,
        cpu_bfloat16: bool = False,
    ) -> None:
        self._check_optim_net_aligned(model, optim)
        if seed is not None:
            seed_everything(seed)
        self.seed = seed
        self.device = pick_device(device)
        if self.device.type == "cpu":
            keep_freed_memory()
        self.model = model.to(self.device)
        self.world = world()
        self.net: nn.Module = self.model  # what training calls: the model, or its DDP wrapper under torchrun
        if self.world.size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
        self.autocast = uses_bf16(self.device, cpu_bfloat16)
        self.optim = optim
        self.criterion = criterion
        self.full_output = full_output
        self.input_transform = input_transform
        self.progress = progress
        self.curve = curve  # every step's loss and every epoch's record, for training_log.json and live progress
        self.history: list[dict[str, Any]] = []
        self._channels_last = False

    @staticmethod
    def _check_optim_net_aligned(model: nn.Module, optim: Optimizer) -> None:
        """The book's check: the optimizer must update exactly this model's parameters."""
        in_optim = {id(p) for group in optim.param_groups for p in group["params"]}
        in_model = {id(p) for p in model.parameters() if p.requires_grad}
        if in_optim != in_model:
            raise ValueError(
                f"optimizer and model are not aligned: the optimizer holds {len(in_optim)} tensors, "
                f"the model {len(in_model)} trainable ones ({len(in_optim & in_model)} shared)"
            )

    def _to_device(self, X: Tensor) -> Tensor:
        """Images go channels-last where ``fastpaths`` measured it faster (about 20 % on an Intel AVX-512 CPU)."""
        X = X.to(self.device, non_blocking=True)
        cpu_images = X.dim() == 4 and X.is_floating_point() and self.device.type == "cpu" and self.world.size == 1
        if cpu_images and fastpaths.chosen().channels_last:
            if not self._channels_last:
                self.model.to(memory_format=torch.channels_last)
                self._channels_last = True
            X = X.contiguous(memory_format=torch.channels_last)
        return X

    def _release_layout(self) -> None:
        """Back to the standard layout between epochs: weights are saved (safetensors) contiguous."""
        if self._channels_last:
            self.model.to(memory_format=torch.contiguous_format)
            self._channels_last = False

    def _loss(self, X: Tensor, y: Tensor, net: nn.Module | None = None) -> Tensor:
        if self.input_transform is not None:
            X = self.input_transform(X)
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.autocast):
            out = (net or self.model)(X)
            pred = out if self.full_output else out[0]
        if isinstance(pred, tuple):  # a VAE's (reconstruction, mu, logvar): the loss in float32, as for one tensor
            pred = tuple(t.float() if isinstance(t, Tensor) and t.is_floating_point() else t for t in pred)
        elif isinstance(pred, Tensor):
            pred = pred.float()
        return self.criterion(pred, y)

    def _batches(self, X: Tensor | Iterable, y: Tensor | None, batch_size: int, shuffle: bool, gen, shard=False):
        """Mini-batches; with ``shard`` (training under torchrun) this process's slice of each global batch."""
        part = self.world.shard if shard else (lambda t: t)
        if y is None:  # a DataLoader (or any iterable of (X, y))
            for Xb, yb in X:
                yield part(Xb), part(yb)
            return
        n = len(X)
        order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
        for i in range(0, n, batch_size):
            idx = part(order[i : i + batch_size])
            yield X[idx], y[idx]

    def fit(
        self,
        X_train: Tensor | Iterable,
        y_train: Tensor | None = None,
        X_test: Tensor | Iterable | None = None,
        y_test: Tensor | None = None,
        epochs: int = 100,
        eval_every: int = 10,
        batch_size: int = 32,
        final_lr: float | None = None,
        shuffle: bool = True,
        batch_scheduler: Any = None,
    ) -> list[dict[str, Any]]:
        """Train; every ``eval_every`` epochs (and after the last) record the test loss. Returns the history.

        ``final_lr`` decays the rate exponentially per epoch; ``batch_scheduler`` (e.g. OneCycleLR) is
        stepped after every optimizer step instead."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        scheduler = None
        if final_lr is not None and epochs > 1:
            initial = self.optim.param_groups[0]["lr"]
            scheduler = ExponentialLR(self.optim, gamma=(final_lr / initial) ** (1.0 / (epochs - 1)))
        gen = torch.Generator().manual_seed(self.seed if self.seed is not None else 0)
        n_batches = math.ceil(len(X_train) / batch_size) if y_train is not None else len(X_train)
        for epoch in range(1, epochs + 1):
            self.model.train()
            start, seen = time.perf_counter(), 0
            total = torch.zeros((), dtype=torch.float64, device=self.device)  # summed where the loss is: no sync
            losses: list[Tensor] = []  # each step's loss, kept on the device: read once, at the epoch's end
            bar = tqdm(
                self._batches(X_train, y_train, batch_size, shuffle, gen, shard=True),
                total=n_batches,
                desc=f"epoch {epoch}/{epochs}",
                disable=not self.progress or not self.world.main,
                unit="batch",
                leave=False,
                mininterval=1.0,
            )
            for step, (X, y) in enumerate(bar, 1):
                X, y = self._to_device(X), y.to(self.device, non_blocking=True)
                self.optim.zero_grad(set_to_none=True)
                loss = self._loss(X, y, self.net)
                loss.backward()
                self.optim.step()
                if batch_scheduler is not None:
                    batch_scheduler.step()
                seen += len(X)
                total += loss.detach().double() * len(X)
                if self.curve is not None:
                    losses.append(loss.detach())
                    if self.curve.wants_progress():  # at most twice a second: reading the loss waits for the step
                        rate = seen * self.world.size / max(time.perf_counter() - start, 1e-9)
                        self.curve.progress(epoch, epochs, step, n_batches, total.item() / seen, rate)
                if step % 25 == 0:
                    rate = seen * self.world.size / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix(loss=f"{total.item() / seen:.4f}", samples_s=f"{rate:,.0f}")
            bar.close()
            total = total.item()  # waits for the epoch's last step
            seconds = time.perf_counter() - start
            total, seen = all_sum(total, seen)  # every process's share of the epoch
            record: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": total / max(seen, 1),
                "lr": self.optim.param_groups[0]["lr"],
                "seconds": seconds,
                "samples_per_s": seen / max(seconds, 1e-9),
            }
            if scheduler is not None:
                scheduler.step()  # after the optimizer steps, as torch requires
            if X_test is not None and (epoch % eval_every == 0 or epoch == epochs):
                record["test_loss"] = self.evaluate_loss(X_test, y_test, batch_size=max(batch_size, EVAL_BATCH))
            self.history.append(record)
            if self.curve is not None:
                self.curve.add_epoch(epoch, torch.stack(losses).double().tolist() if losses else [], record)
            self._release_layout()
            if self.progress and self.world.main and ("test_loss" in record or epochs <= 20):
                msg = ", ".join(f"{k} {v:.4g}" for k, v in record.items() if isinstance(v, float))
                tqdm.write(f"epoch {epoch}: {msg}")
        return self.history

    @torch.no_grad()
    def evaluate_loss(self, X: Tensor | Iterable, y: Tensor | None, batch_size: int = EVAL_BATCH) -> float:
        self.model.eval()
        total, seen = 0.0, 0
        for Xb, yb in self._batches(X, y, batch_size, False, None):
            Xb, yb = self._to_device(Xb), yb.to(self.device)
            total += self._loss(Xb, yb).item() * len(Xb)
            seen += len(Xb)
        self._release_layout()  # a model left channels-last could not be saved
        return total / max(seen, 1)
