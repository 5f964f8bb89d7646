"""Distributed training algorithms (``torch.distributed.algorithms``): the generic join
context manager for uneven inputs across ranks."""

from .join import Join, Joinable, JoinHook

__all__ = ["Join", "JoinHook", "Joinable"]
