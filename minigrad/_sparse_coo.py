"""The storage of a sparse COO tensor: a small record of (indices, values, shape) that stands
where a dense tensor keeps its array (``Tensor._data``).

A sparse tensor is an ordinary :class:`~minigrad.Tensor` whose ``_data`` is a
:class:`SparseCOO`. The record answers what the Tensor reads from every array (``shape``,
``dtype``, ``ndim``, ``size``), so metadata, ``requires_grad`` and the autograd engine work
unchanged, and it refuses to act as an array: NumPy sees ``__array_ufunc__ = None`` and an
``__array__`` that raises, and the record has no arithmetic. An op's forward therefore fails
on it; :class:`minigrad.ops.base.Op` then hands the op to a sparse rule or refuses it by name
(``Op.__call__``'s ``except``, which costs dense tensors nothing). The rules and the public
functions live in :mod:`minigrad.sparse`.
"""

from __future__ import annotations

from ._memory_format import layout
from ._storage_record import StorageRecord

sparse_coo = layout("sparse_coo")


class SparseRecord(StorageRecord):
    """What every sparse storage record answers from its arrays (the arrays named by
    ``ARRAYS``, values last)."""

    __slots__ = ()
    ARRAYS: tuple = ()

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def itemsize(self) -> int:
        return self.values.itemsize

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.ARRAYS)


class SparseCOO(SparseRecord):
    """``indices`` (sparse_dim, nnz) int64 and ``values`` (nnz, *dense shape) arrays of one
    device, the tensor's full ``shape``, and whether the indices are known to be coalesced
    (sorted and without repeats)."""

    __slots__ = ("indices", "values", "shape", "coalesced")
    ARRAYS = ("indices", "values")

    def __init__(self, indices, values, shape: tuple, coalesced: bool = False):
        self.indices, self.values = indices, values
        self.shape, self.coalesced = tuple(shape), coalesced

    @property
    def sparse_dim(self) -> int:
        return self.indices.shape[0]

    @property
    def nnz(self) -> int:
        return self.indices.shape[1]

    def copy(self) -> SparseCOO:
        """A record with copies of both arrays (``clone``)."""
        return SparseCOO(self.indices.copy(), self.values.copy(), self.shape, self.coalesced)

    def astype(self, dtype, copy: bool = True) -> SparseCOO:
        """The values converted to ``dtype`` (``Tensor.to(dtype)``); the indices are shared."""
        return SparseCOO(self.indices, self.values.astype(dtype), self.shape, self.coalesced)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a sparse COO tensor has no dense array: call .to_dense() first (this op takes "
            "dense tensors only)"
        )

    def tolist(self):
        raise TypeError("tolist() of a sparse COO tensor: call .to_dense() first")

    def __repr__(self) -> str:
        return f"SparseCOO(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype})"


def is_sparse(t) -> bool:
    """Whether tensor ``t`` has the sparse COO layout (``Tensor.is_sparse``)."""
    return type(t._data) is SparseCOO


# -- array-level helpers, for code that works on records outside the graph (optimizers, engine)
def key(record: SparseCOO) -> tuple:
    """The advanced-indexing key of ``record``'s entries: one index array per sparse dim."""
    return tuple(record.indices[i] for i in range(record.sparse_dim))


def scaled(record: SparseCOO, factor) -> SparseCOO:
    """``record`` with its values times ``factor`` (same indices)."""
    return SparseCOO(record.indices, record.values * factor, record.shape, record.coalesced)


def concatenated(xp, a: SparseCOO, b: SparseCOO) -> SparseCOO:
    """The uncoalesced sum of two records of one shape: their entries side by side."""
    indices = xp.concatenate([a.indices, b.indices], axis=1)
    return SparseCOO(indices, xp.concatenate([a.values, b.values]), a.shape)


def coalesced(xp, record: SparseCOO) -> SparseCOO:
    """``record`` with sorted, distinct indices (repeats summed); itself when already so."""
    if record.coalesced or record.nnz == 0:
        return SparseCOO(record.indices, record.values, record.shape, True)
    sparse_shape = record.shape[: record.sparse_dim]
    flat = xp.ravel_multi_index(tuple(record.indices), sparse_shape)
    unique, inverse = xp.unique(flat, return_inverse=True)
    values = xp.zeros((len(unique),) + record.values.shape[1:], dtype=record.values.dtype)
    xp.add.at(values, inverse.reshape(-1), record.values)
    indices = xp.stack(xp.unravel_index(unique, sparse_shape)).astype("int64")
    return SparseCOO(indices, values, record.shape, True)


def emptied(record: SparseCOO) -> SparseCOO:
    """A record of ``record``'s shape with no entries (``zero_`` of a sparse tensor)."""
    return SparseCOO(record.indices[:, :0], record.values[:0], record.shape, True)
