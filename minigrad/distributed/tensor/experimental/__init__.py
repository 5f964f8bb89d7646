"""``torch.distributed.tensor.experimental``: :func:`implicit_replication`."""

from __future__ import annotations

import contextlib

from .. import _api

__all__ = ["implicit_replication"]


@contextlib.contextmanager
def implicit_replication():
    """Within this context, a plain tensor in an op with DTensors counts as a replicated
    DTensor (outside it, PyTorch's "got mixed torch.Tensor and DTensor" error). As PyTorch
    warns: the results are wrong if the plain tensors differ between ranks.

    Example:
        >>> with implicit_replication():
        ...     y = replicated_dtensor + minigrad.ones(3)  # a DTensor
    """
    _api._allow_implicit_replication = True
    try:
        yield
    finally:
        _api._allow_implicit_replication = False
