"""``torch.distributed.checkpoint``: minigrad has its ``state_dict`` helpers
(:mod:`minigrad.distributed.checkpoint.state_dict`: sharded or full model state dicts of
``fully_shard`` models); PyTorch's distributed save/load (``dcp.save``, ``FileSystemWriter``)
is not in minigrad."""

from . import state_dict

__all__ = ["state_dict"]
