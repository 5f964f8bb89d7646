"""Parallel training wrappers (``torch.nn.parallel``): ``DistributedDataParallel``, and
``DataParallel``/``data_parallel`` for no GPU or one GPU."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
