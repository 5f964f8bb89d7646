"""``Tensor.sparse_resize_`` and ``sparse_resize_and_clear_``: in-place size changes of sparse
COO tensors, with PyTorch's rules for tensors that hold entries."""

from __future__ import annotations

import numpy as np

from .. import backend
from .._sparse_coo import SparseCOO
from ..autograd import grad_mode
from ..tensor import Tensor
from ._compressed import layout_name

_ADVICE = (
    " on a non-empty sparse tensor is not supported.\nYou could try the following options:\n"
    "1. If you need an empty sparse tensor of this size, call `x = "
    "minigrad.sparse_coo_tensor(size)`.\n2. If you need to resize this tensor, you have the "
    "following options:\n    1. For both sparse and dense dimensions, keep the number of them "
    "constant and the size of them non-shrinking, and then try the same call again.\n    2. Or, "
    "create a new sparse tensor with the correct indices and values from this sparse tensor."
)


def _record(t: Tensor, op: str, size, sparse_dim: int, dense_dim: int) -> tuple:
    if type(t._data) is not SparseCOO:
        raise NotImplementedError(
            f"{op}: takes a sparse COO tensor (PyTorch has no {op} for the "
            f"{layout_name(t.layout)} layout)"
        )
    if t.requires_grad and t.grad_fn is None and grad_mode.is_grad_enabled():
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError(
            f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
            f"sparse_dim = {sparse_dim}, dense_dim = {dense_dim}"
        )
    if sparse_dim < 1 or dense_dim < 0 or min(size, default=0) < 0:
        raise RuntimeError(
            f"{op}: expected sparse_dim >= 1, dense_dim >= 0 and sizes >= 0, got size "
            f"{list(size)}, sparse_dim {sparse_dim}, dense_dim {dense_dim}"
        )
    return t._data, size


def _empty(t: Tensor, size: tuple, sparse_dim: int) -> SparseCOO:
    xp = t.device.xp
    with backend.on(t.device):
        indices = xp.zeros((sparse_dim, 0), dtype=np.int64)
        values = xp.zeros((0,) + size[sparse_dim:], dtype=t._data.values.dtype)
    return SparseCOO(indices, values, size, True)


def sparse_resize_(self: Tensor, size, sparse_dim: int, dense_dim: int) -> Tensor:
    """Resize sparse COO ``self`` in place to ``size`` with ``sparse_dim`` sparse and
    ``dense_dim`` dense dims; a tensor with entries keeps them, so it may only grow its sparse
    sizes and keep its dims, as PyTorch."""
    rec, size = _record(self, "sparse_resize_", size, sparse_dim, dense_dim)
    if rec.nnz == 0:
        self._data = _empty(self, size, sparse_dim)
        return self
    if sparse_dim != rec.sparse_dim:
        raise RuntimeError(
            f"changing the number of sparse dimensions (from {rec.sparse_dim} to {sparse_dim})"
            + _ADVICE
        )
    if dense_dim != rec.ndim - rec.sparse_dim:
        raise RuntimeError(
            f"changing the number of dense dimensions (from {rec.ndim - rec.sparse_dim} to "
            f"{dense_dim})" + _ADVICE
        )
    old_sparse, new_sparse = list(rec.shape[:sparse_dim]), list(size[:sparse_dim])
    if any(n < o for n, o in zip(new_sparse, old_sparse)):
        raise RuntimeError(
            f"shrinking the size of sparse dimensions (from {old_sparse} to {new_sparse})" + _ADVICE
        )
    if tuple(size[sparse_dim:]) != tuple(rec.shape[sparse_dim:]):
        raise RuntimeError(
            f"shrinking or growing the size of dense dimensions (from {list(rec.shape[sparse_dim:])} "
            f"to {list(size[sparse_dim:])})" + _ADVICE
        )
    self._data = SparseCOO(rec.indices, rec.values, size, rec.coalesced)
    return self


def sparse_resize_and_clear_(self: Tensor, size, sparse_dim: int, dense_dim: int) -> Tensor:
    """Empty sparse COO ``self`` in place and give it ``size`` (any number of dims)."""
    _, size = _record(self, "sparse_resize_and_clear_", size, sparse_dim, dense_dim)
    self._data = _empty(self, size, sparse_dim)
    return self


Tensor.sparse_resize_ = sparse_resize_
Tensor.sparse_resize_and_clear_ = sparse_resize_and_clear_
