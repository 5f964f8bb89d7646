"""``torch.distributed.fsdp.fully_sharded_data_parallel``: FSDP1's module path (see
:mod:`minigrad.distributed.fsdp`: not in minigrad; making one raises)."""

from . import FullyShardedDataParallel, ShardingStrategy

__all__ = ["FullyShardedDataParallel", "ShardingStrategy"]
