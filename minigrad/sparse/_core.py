"""Sparse COO tensors: the two primitives that cross between a sparse tensor and its values,
and the functions built from them (construction, to_dense, coalesce, to_sparse).

Every differentiable computation on a sparse tensor reads its values with
:class:`SparseValues` and builds a sparse result with :class:`SparseCooTensor`; in between
run ordinary dense ops (``IndexAdd``, ``GetItem``, arithmetic), so gradients, double backward
and gradcheck come from the dense ops. A sparse input's gradient is a sparse tensor with the
input's pattern, as PyTorch gives.
"""

from __future__ import annotations

import numpy as np

from .. import backend, dtypes
from .._sparse_coo import SparseCOO
from .._warnings import warn_user_once
from ..autograd.graph import names_node
from ..ops import Op
from ..ops.base import on_input_device
from ..ops.indexing import GetItem, IndexAdd
from ..tensor import Tensor


class SparseCooTensor(Op):
    """y = the sparse tensor whose values are v at fixed indices; dv = dy at those indices
    (each repeat of an index gets the whole gradient there, as the dense value is their sum)"""

    backward_name = "SparseCooTensorWithDimsAndTensorsBackward0"

    def __init__(self, indices, shape: tuple, coalesced: bool = False):
        self.indices, self.shape, self.coalesced = indices, tuple(shape), coalesced

    def forward(self, values):
        return SparseCOO(self.indices, values, self.shape, self.coalesced)

    def backward(self, gy):
        with backend.on(gy.device):
            return self._backward(gy)

    def _backward(self, gy):
        if type(gy._data) is SparseCOO:
            if gy._data.indices is self.indices:  # the same pattern: its values are the answer
                return values_of(gy)
            gy = to_dense(gy)
        return GetItem(_key(self.indices))(gy)


class SparseValues(Op):
    """v = the values of sparse x (``x._values()``); dx = the sparse tensor of dv at x's
    indices"""

    backward_name = "ValuesBackward0"

    def forward(self, x):
        self.keep(indices=x.indices)  # (freed after backward, with what other ops keep)
        self.shape, self.coalesced = x.shape, x.coalesced
        return x.values

    def backward(self, gv):
        indices, shape, coalesced = self.kept_arrays["indices"], self.shape, self.coalesced
        if coalesced or indices.shape[1] == 0:
            return SparseCooTensor(indices, shape, coalesced)(gv)
        # Repeated indices: dv is the gradient at the entry's position, the same for each
        # repeat, so the sparse gradient holds it once per position (coalesced, as PyTorch's)
        # rather than once per repeat, which would count it again in the dense sum.
        xp = gv.device.xp
        with backend.on(gv.device):
            flat = xp.ravel_multi_index(tuple(indices), shape[: indices.shape[0]])
            unique, first = xp.unique(flat, return_index=True)
            positions = xp.stack(xp.unravel_index(unique, shape[: indices.shape[0]]))
        return SparseCooTensor(positions.astype(np.int64), shape, True)(GetItem((first,))(gv))


def _key(indices) -> tuple:
    """The advanced-indexing key of a (sparse_dim, nnz) index array: one row per dim."""
    return tuple(indices[i] for i in range(indices.shape[0]))


def is_sparse(t) -> bool:
    return isinstance(t, Tensor) and type(t._data) is SparseCOO


def expect_sparse(t, op: str) -> SparseCOO:
    """``t``'s record; a clear error when ``t`` is not a sparse COO tensor."""
    if not is_sparse(t):
        kind = type(t).__name__ if not isinstance(t, Tensor) else "a dense (strided) tensor"
        raise RuntimeError(f"{op}: expected a sparse COO tensor, got {kind}")
    return t._data


def values_of(x: Tensor) -> Tensor:
    """The values tensor of sparse ``x`` (``_values()``), in the graph."""
    return SparseValues()(x)


def make(indices, values: Tensor, shape: tuple, coalesced: bool = False) -> Tensor:
    """A sparse tensor of ``values`` (a tensor, in the graph) at the index array ``indices``."""
    return SparseCooTensor(indices, shape, coalesced)(values)


@on_input_device
@names_node("ToDenseBackward0")
def to_dense(x: Tensor) -> Tensor:
    """The dense tensor of sparse ``x``: repeated indices add up."""
    rec = x._data
    if type(rec) is not SparseCOO:
        return x  # PyTorch's to_dense of a dense tensor is itself
    if rec.indices.shape[0] == 0:  # no sparse dims (a 0-d tensor's): the values add up
        return values_of(x).sum(0, dtype=x.dtype)
    return IndexAdd(rec.shape, _key(rec.indices), False)(values_of(x))


@on_input_device
def coalesce(x: Tensor) -> Tensor:
    """``x`` with its indices sorted and repeats summed (``x`` itself when already so)."""
    rec = expect_sparse(x, "coalesce")
    if rec.coalesced:
        return x
    if rec.nnz == 0:
        return make(rec.indices, values_of(x), rec.shape, True)
    xp = x.device.xp
    sparse_shape = rec.shape[: rec.sparse_dim]
    with backend.on(x.device):
        flat = xp.ravel_multi_index(tuple(rec.indices), sparse_shape)
        unique, inverse = xp.unique(flat, return_inverse=True)
        indices = xp.stack(xp.unravel_index(unique, sparse_shape))
    summed = IndexAdd((len(unique),) + rec.values.shape[1:], (inverse.reshape(-1),), False)
    return make(indices.astype(np.int64), summed(values_of(x)), rec.shape, True)


def _as_index_array(indices, device) -> object:
    """``indices`` as an int64 array on ``device``: a tensor of another dtype (float, bool,
    int32) is cast, as PyTorch's "will be cast to a torch.LongTensor internally" (floats
    truncate toward zero)."""
    if isinstance(indices, Tensor):
        array = backend.to_device(indices._data, indices.device, device)
    else:
        array = backend.as_array(indices, dtypes.int64, device)
    return array.astype(np.int64, copy=False)


def _as_values(values, dtype, device) -> Tensor:
    if isinstance(values, Tensor):
        out = values if device is None else values.to(device)
        return out if dtype is None else out.to(dtype)
    dev = backend.device(device or "cpu")
    return Tensor._make(
        backend.as_array(values, dtypes.to_dtype(dtype) if dtype else None, dev), dev
    )


def _check(indices, values: Tensor, size) -> tuple:
    """The full shape, inferred when ``size`` is None; PyTorch's errors for mismatches."""
    if indices.ndim != 2:
        raise RuntimeError(
            f"sparse_coo_tensor: indices must be sparse_dim x nnz, but got: {list(indices.shape)}"
        )
    sparse_dim, nnz = indices.shape
    if values.ndim == 0 or values.shape[0] != nnz:
        raise RuntimeError(
            f"sparse_coo_tensor: number of indices and values must match, got indices of shape "
            f"{list(indices.shape)} (nnz {nnz}) and values of shape {list(values.shape)}"
        )
    host = values.device.backend.to_host(indices)
    if nnz and host.min() < 0:
        raise RuntimeError("sparse_coo_tensor: found negative index in indices")
    dense_shape = tuple(values.shape[1:])
    if size is None:
        sparse_shape = tuple(int(m) + 1 for m in host.max(1)) if nnz else (0,) * sparse_dim
        return sparse_shape + dense_shape
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + len(dense_shape):
        raise RuntimeError(
            f"sparse_coo_tensor: number of dimensions must be sparse_dim ({sparse_dim}) + "
            f"dense_dim ({len(dense_shape)}), but got {len(size)}"
        )
    if size[sparse_dim:] != dense_shape:
        raise RuntimeError(
            f"sparse_coo_tensor: values has shape {list(values.shape)}, which does not match the "
            f"dense size {list(size[sparse_dim:])} that size {list(size)} asks for"
        )
    if nnz:
        for d, (m, s) in enumerate(zip(host.max(1), size)):
            if m >= s:
                raise RuntimeError(
                    f"size is inconsistent with indices: for dim {d}, size is {s} but found "
                    f"index {int(m)}"
                )
    return size


def sparse_coo_tensor(
    indices,
    values,
    size=None,
    dtype=None,
    device=None,
    requires_grad: bool = False,
    check_invariants=None,
    is_coalesced=None,
) -> Tensor:
    """A sparse COO tensor with ``values`` at ``indices``, as ``torch.sparse_coo_tensor``.

    Args:
        indices: (sparse_dim, nnz) integer indices (a tensor or nested lists).
        values: (nnz, *dense_shape) values; a tensor that requires grad stays in the graph.
        size: the full shape; inferred from the largest index when omitted.
        dtype, device: of the values (default: the values' own, or inferred from the data).
        requires_grad: make the result a leaf that requires grad.
        check_invariants: accepted; minigrad always checks the indices against ``size``. Left
            None while :class:`check_sparse_tensor_invariants` was never set, it warns once,
            as PyTorch, that the checks are implicitly disabled.
        is_coalesced: declare the indices sorted and without repeats.

    Example:
        >>> s = minigrad.sparse_coo_tensor([[0, 1], [2, 0]], [3.0, 4.0], (2, 3))
        >>> s.to_dense()
        tensor([[0., 0., 3.],
                [4., 0., 0.]])
    """
    warn_implicit_invariants(check_invariants)
    vals = _as_values(values, dtype, device)
    with backend.on(vals.device):
        return _construct(indices, vals, size, requires_grad, is_coalesced)


invariants_set = [False]  # check_sparse_tensor_invariants was enabled, disabled or entered


def warn_implicit_invariants(check_invariants) -> None:
    """PyTorch's once-per-process warning for a sparse constructor called without
    ``check_invariants`` while the global switch was never set either way."""
    if check_invariants is None and not invariants_set[0]:
        warn_user_once(
            "sparse invariants",
            "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will "
            "occur when operating on a sparse tensor which violates the invariants, but checks "
            "incur performance overhead. To silence this warning, explicitly opt in or out. See "
            "`torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance.",
        )


def _construct(indices, vals: Tensor, size, requires_grad: bool, is_coalesced) -> Tensor:
    index = _as_index_array(indices, vals.device)
    shape = _check(index, vals, size)
    coalesced = bool(is_coalesced)
    if requires_grad:
        out = Tensor._make(SparseCOO(index, vals.detach()._data, shape, coalesced), vals.device)
        return out.requires_grad_(True)
    return make(index, vals, shape, coalesced)


@on_input_device
def to_sparse(x: Tensor, sparse_dim: int | None = None, layout=None) -> Tensor:
    """Dense ``x`` as a coalesced sparse COO tensor of its nonzero entries (with
    ``sparse_dim``, of the rows over its first ``sparse_dim`` dims that hold a nonzero)."""
    if layout is not None and getattr(layout, "name", None) != "sparse_coo":
        raise NotImplementedError(
            f"to_sparse: minigrad has only the sparse_coo layout, got layout={layout!r}"
        )
    if is_sparse(x):
        return x
    sd = x.ndim if sparse_dim is None else int(sparse_dim)
    if not (0 < sd <= x.ndim or sd == x.ndim == 0):  # (a 0-d x: one value or none, no indices)
        raise RuntimeError(
            f"to_sparse: sparse_dim must be in [{min(x.ndim, 1)}, {x.ndim}], got {sparse_dim}"
        )
    xp, data = x.device.xp, x._data
    if x.ndim == 0:
        nnz = int(bool(data != 0))
        indices = xp.zeros((0, nnz), dtype=np.int64)
        return make(indices, x.reshape(1)[:nnz], x.shape, True)
    with backend.on(x.device):
        mask = xp.asarray(data) != 0  # (asarray: a vmap-batched tensor's _data refuses here)
        if sd < x.ndim:
            mask = mask.any(axis=tuple(range(sd, x.ndim)))
        indices = xp.stack(xp.nonzero(mask)).reshape(sd, -1).astype(np.int64)
    return make(indices, GetItem(_key(indices))(x), x.shape, True)


def legacy_constructor(dtype):
    """``torch.sparse.FloatTensor(indices, values, size)`` and its kin: old programs' spelling
    of :func:`sparse_coo_tensor` with a fixed dtype."""

    def construct(indices, values, size=None):
        shape = "" if size is None else "shape, "
        warn_user_once(  # (PyTorch: once a process for each of the two forms)
            f"legacy sparse constructor {bool(shape)}",
            f"torch.sparse.SparseTensor(indices, values, {shape}*, device=) is deprecated.  "
            f"Please use torch.sparse_coo_tensor(indices, values, {shape}dtype=, device=).",
        )
        return sparse_coo_tensor(indices, values, size, dtype=dtype, check_invariants=False)

    construct.__name__ = f"{dtype.name.capitalize()}Tensor"
    return construct
