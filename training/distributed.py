"""Training on several processes with PyTorch's own engine: ``torchrun`` starts them, this module joins them.

``torchrun --nproc-per-node N -m training train NAME`` sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``; every
process builds the same model from the same seed, ``DistributedDataParallel`` averages the gradients
(gloo on CPU, nccl on CUDA), and each process reads a disjoint slice of every batch. The recipe's batch
size stays the *global* batch, so the averaged gradient is the one a single process computes on the whole
batch and the learning rate is used unchanged. Rank 0 alone evaluates and writes the checkpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

# recipes whose loop is not a PyTorchTrainer loop: they run in one process
SINGLE_PROCESS = {
    "sklearn_linear": "fits with scikit-learn",
    "sklearn_forest": "fits with scikit-learn",
    "dcgan": "alternates two optimisers in its own loop",
}


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def shard(self, batch: Tensor) -> Tensor:
        """This process's slice of a global batch (contiguous, the sizes differ by at most one)."""
        return batch if self.size == 1 else batch.tensor_split(self.size)[self.rank]


def world() -> World:
    """The process group torchrun described in the environment (one process when there is none)."""
    env = os.environ
    return World(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


def join(device: str | None) -> tuple[World, str | None]:
    """Join torchrun's process group (once) and return the world and this process's device."""
    w = world()
    if w.size == 1:
        return w, device
    wants_cuda = (device or "").startswith("cuda") or (device is None and torch.cuda.is_available())
    if wants_cuda:
        device = f"cuda:{w.local_rank}"
        torch.cuda.set_device(device)
    else:
        device = "cpu"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if wants_cuda else "gloo")
    return w, device


def check(trainer: str, batch_size: int, w: World) -> str | None:
    """Why a recipe cannot train on ``w``, or None."""
    if w.size == 1:
        return None
    if trainer in SINGLE_PROCESS:
        return f"its recipe {SINGLE_PROCESS[trainer]}; run it without torchrun (one process)"
    if batch_size % w.size:
        return f"its batch of {batch_size} does not split evenly over {w.size} processes; use --batch-size"
    return None


def all_sum(*values: float) -> list[float]:
    """Sums over every process (the epoch's loss and sample count); the values themselves in one process."""
    if not dist.is_initialized():
        return list(values)
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def leave() -> None:
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
