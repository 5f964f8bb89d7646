"""Parallel training wrappers (``torch.nn.parallel``): ``DistributedDataParallel``, and
``DataParallel``/``data_parallel`` for no GPU or one GPU, and ``scatter``/``gather``."""

from . import scatter_gather
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel
from .scatter_gather import gather, scatter

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel", "gather", "scatter"]
