"""Multi-GPU and multi-node training with torch.distributed, as torchrun launches it.

    torchrun --nproc_per_node K -m faceid_lab train autoencoder ...

Every rank builds the same global batch for a step (batches and augmentations are pure
functions of the seed and the step) and trains on its own contiguous slice of it; DDP
averages the gradients, so K ranks with batch B/K each take the same step as one process
with batch B. Only rank 0 logs, previews and writes checkpoints; every rank reads them on
resume. Because the batch is global, a run resumes unchanged on another number of ranks.
NCCL on GPUs, gloo on CPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the one that logs, previews and saves."""
        return self.rank == 0

    def share(self, global_batch: int) -> slice:
        """This rank's rows of a global batch (contiguous; the batch must divide evenly)."""
        if global_batch % self.world:
            raise ValueError(f"the batch ({global_batch}) must be divisible by the number of processes "
                             f"({self.world}); choose --batch as a multiple of {self.world}")
        per = global_batch // self.world
        return slice(self.rank * per, (self.rank + 1) * per)


SINGLE = Dist()


def from_env() -> Dist:
    """The process's place in a torchrun launch (RANK, WORLD_SIZE, LOCAL_RANK), joining the
    process group on first call; a plain single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return SINGLE
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def device_for(d: Dist, requested: str | torch.device = "cpu") -> torch.device:
    """cuda:LOCAL_RANK for a CUDA request under torchrun (one GPU per process), else the request."""
    requested = torch.device(requested)
    if requested.type == "cuda" and d.world > 1:
        torch.cuda.set_device(d.local_rank)
        return torch.device("cuda", d.local_rank)
    return requested


def wrap(module: nn.Module, d: Dist, device: torch.device) -> nn.Module:
    """`module` as a training step should call it: DDP under torchrun (gradients averaged across
    ranks in backward; batch norm synchronised across GPUs, so K ranks normalise like one
    process with the whole batch), the module itself in a single process.

    On CPU (gloo) PyTorch has no synchronised batch norm: each rank normalises its own share
    and DDP copies rank 0's running statistics to the others at every forward."""
    if d.world == 1:
        return module
    if device.type == "cuda":
        nn.SyncBatchNorm.convert_sync_batchnorm(module)  # in place for BN children; parameters are kept
    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def mean_across(d: Dist, values: torch.Tensor) -> torch.Tensor:
    """The mean of `values` over the ranks (in place; no host sync): for state every rank must
    agree on, such as BEGAN's balance k."""
    if d.world > 1:
        dist.all_reduce(values)
        values /= d.world
    return values


def leave(finished: bool = True) -> None:
    """Leave the process group before the interpreter exits. A gloo group left to the exit handlers
    can abort the rank that finishes first ("terminate called without an active exception": 1 run
    in 6 of the 2-process CPU classifier launch, measured); so a finished rank waits for the others,
    then the group is destroyed. Outside torchrun this does nothing."""
    if dist.is_available() and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def barrier(d: Dist) -> None:
    if d.world > 1:
        dist.barrier()
