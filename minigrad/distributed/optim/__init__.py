"""``torch.distributed.optim``: the names libraries import from it.

pytorch-ignite's checkpoint handler imports ``ZeroRedundancyOptimizer`` to recognise one
(``isinstance``); minigrad has no ZeRO sharding of optimizer state, so making one raises
``NotImplementedError`` (plain optimizers under ``DistributedDataParallel`` do the same
training, each rank holding the whole state).
"""

from ...optim import Optimizer

__all__ = ["ZeroRedundancyOptimizer"]


class ZeroRedundancyOptimizer(Optimizer):
    """PyTorch's optimizer that shards its state across ranks: not in minigrad."""

    def __init__(self, params, optimizer_class, *args, **kwargs):
        raise NotImplementedError(
            "torch.distributed.optim.ZeroRedundancyOptimizer: minigrad has no sharded optimizer "
            "state; use the optimizer itself (each rank keeps the whole state)"
        )
