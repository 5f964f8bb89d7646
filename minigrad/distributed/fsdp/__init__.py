"""``torch.distributed.fsdp``: FSDP2's ``fully_shard`` (see
:mod:`minigrad.distributed.fsdp._fully_shard`) with its policies, and FSDP1's
``FullyShardedDataParallel`` with flat parameters (:mod:`minigrad.distributed.fsdp._fsdp1`),
on the world process group."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "CPUOffloadPolicy",
    "FSDPModule",
    "FullStateDictConfig",
    "FullyShardedDataParallel",
    "MixedPrecisionPolicy",
    "OffloadPolicy",
    "ShardingStrategy",
    "StateDictType",
    "fully_shard",
]


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


class ShardingStrategy(enum.Enum):
    """FSDP1's sharding strategies."""

    FULL_SHARD = enum.auto()
    SHARD_GRAD_OP = enum.auto()
    NO_SHARD = enum.auto()
    HYBRID_SHARD = enum.auto()
    _HYBRID_SHARD_ZERO2 = enum.auto()


# (below the policies, which they use)
from ._fsdp1 import FullStateDictConfig, FullyShardedDataParallel, StateDictType  # noqa: E402
from ._fully_shard import FSDPModule, fully_shard  # noqa: E402
