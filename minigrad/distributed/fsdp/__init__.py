"""``torch.distributed.fsdp``: the names programs and libraries import (FSDP2's
``fully_shard`` with its policies, FSDP1's ``FullyShardedDataParallel``). Fully sharded data
parallelism is not in minigrad: the policies are PyTorch's plain records, nothing is an
``FSDPModule``, and sharding a module raises ``NotImplementedError`` (use
``nn.parallel.DistributedDataParallel``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "CPUOffloadPolicy",
    "FSDPModule",
    "FullyShardedDataParallel",
    "MixedPrecisionPolicy",
    "OffloadPolicy",
    "ShardingStrategy",
    "fully_shard",
]

_MISSING = (
    "fully sharded data parallelism (FSDP) is not in minigrad; use "
    "torch.nn.parallel.DistributedDataParallel"
)


@dataclass(frozen=True)
class MixedPrecisionPolicy:
    """FSDP2's module-level mixed precision: the dtypes of parameters, gradient reduction
    and outputs."""

    param_dtype: object = None
    reduce_dtype: object = None
    output_dtype: object = None
    cast_forward_inputs: bool = True


@dataclass
class OffloadPolicy:
    """No offloading (the base class and default of FSDP2's ``offload_policy``)."""


@dataclass
class CPUOffloadPolicy(OffloadPolicy):
    """Offload parameters, gradients and optimizer states to the CPU."""

    pin_memory: bool = True


class FSDPModule:
    """The class FSDP2 mixes into the modules it shards (none, in minigrad)."""


class ShardingStrategy(enum.Enum):
    """FSDP1's sharding strategies."""

    FULL_SHARD = enum.auto()
    SHARD_GRAD_OP = enum.auto()
    NO_SHARD = enum.auto()
    HYBRID_SHARD = enum.auto()
    _HYBRID_SHARD_ZERO2 = enum.auto()


def fully_shard(module, **kwargs):
    """FSDP2's sharding of ``module``: not in minigrad."""
    raise NotImplementedError(f"torch.distributed.fsdp.fully_shard: {_MISSING}")


class FullyShardedDataParallel:
    """FSDP1's wrapper: not in minigrad (making one raises)."""

    def __init__(self, module, *args, **kwargs):
        raise NotImplementedError(f"FullyShardedDataParallel: {_MISSING}")
