"""Parallel training wrappers (``torch.nn.parallel``): ``DistributedDataParallel``."""

from .distributed import DistributedDataParallel
