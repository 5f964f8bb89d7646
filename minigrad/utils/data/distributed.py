"""``DistributedSampler``: each process of a data-parallel job gets its own shard of the
dataset (``torch.utils.data.distributed``)."""

from __future__ import annotations

import math

from ... import creation
from .sampler import Sampler


class DistributedSampler(Sampler):
    """The indices of one rank's shard: every ``num_replicas``-th index from ``rank`` on.

    All ranks see equal shards of ``ceil(len(dataset) / num_replicas)`` indices: without
    ``drop_last`` the order is padded by repeating its start (so a few samples are seen twice
    per epoch), with ``drop_last`` the tail that does not divide evenly is dropped. With
    ``shuffle`` the order is a permutation seeded by ``seed + epoch``, the same on every rank,
    so the shards stay disjoint; call :meth:`set_epoch` at the start of each epoch for a new
    order. As PyTorch's.

    Args:
        dataset: a sized dataset.
        num_replicas: number of ranks (default: the process group's world size).
        rank: this process's rank (default: the process group's rank).
        shuffle: shuffle the order (the same permutation on all ranks).
        seed: base seed of the shuffle; must be the same on all ranks.
        drop_last: drop the tail instead of padding.

    Example:
        >>> sampler = DistributedSampler(ds, num_replicas=2, rank=0)
        >>> loader = DataLoader(ds, batch_size=32, sampler=sampler)
        >>> for epoch in range(3):
        ...     sampler.set_epoch(epoch)
    """

    def __init__(
        self,
        dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist  # a layer beside this one, needed only here

            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(
                f"DistributedSampler: num_replicas should be a positive integer, got "
                f"{num_replicas!r}"
            )
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, drop_last, shuffle, seed
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = creation.Generator().manual_seed(self.seed + self.epoch)
            indices = creation.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use a new shuffle for this epoch (the order is seeded by ``seed + epoch``)."""
        self.epoch = epoch
