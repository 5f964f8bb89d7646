"""``torch.distributed.optim``: :class:`ZeroRedundancyOptimizer` (optimizer state sharded over
the ranks, :mod:`.zero_redundancy_optimizer`)."""

from .zero_redundancy_optimizer import ZeroRedundancyOptimizer

__all__ = ["ZeroRedundancyOptimizer"]
