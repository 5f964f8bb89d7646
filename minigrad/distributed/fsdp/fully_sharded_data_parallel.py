"""``torch.distributed.fsdp.fully_sharded_data_parallel``: FSDP1's module path (see
:mod:`minigrad.distributed.fsdp._fsdp1`)."""

from . import FullStateDictConfig, FullyShardedDataParallel, ShardingStrategy, StateDictType

__all__ = ["FullStateDictConfig", "FullyShardedDataParallel", "ShardingStrategy", "StateDictType"]
