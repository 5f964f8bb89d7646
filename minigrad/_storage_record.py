"""The base of the storages that are not arrays: a sparse, nested, quantized or meta tensor is
an ordinary :class:`~minigrad.Tensor` whose ``_data`` is a record (this class's subclasses).

A record answers the metadata a Tensor reads from every array (``shape``, ``dtype``, ``ndim``,
``size``) and refuses to act as an array, so an op's forward fails on it and only then
:data:`minigrad.ops.base.record_fallbacks` hands the op to the record's rules: dense tensors pay
nothing for any of it.
"""

from __future__ import annotations

import math


class StorageRecord:
    """What every storage record shares; subclasses give ``shape`` and ``dtype``."""

    __slots__ = ()
    __array_ufunc__ = None  # NumPy's operators and ufuncs refuse the record (TypeError)
    # Never None (an array's base is None when it owns its memory): the engine's
    # autograd.graph.mark_adoptable then never lets a leaf adopt a record as a gradient buffer.
    base = ()

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)
