"""The storage of a sparse compressed tensor (CSR, CSC, BSR, BSC): a record of (compressed
indices, plain indices, values, shape, layout) that stands where a dense tensor keeps its array.

As with :mod:`minigrad._sparse_coo`, the record answers the metadata a Tensor reads
(``shape``, ``dtype``, ``ndim``, ``size``) and refuses to act as an array, so an op's forward
fails on it and :class:`minigrad.ops.base.Op` hands the op to a sparse rule (or refuses it by
name). The rules and public functions live in :mod:`minigrad.sparse`.

Layout of the arrays, for ``B`` batch dims, a (rows, cols) matrix and ``D`` dense dims:
``compressed`` (*B, ncompressed + 1) and ``plain`` (*B, nnz), one int dtype; ``values``
(*B, nnz, *blocksize, *D) for the block layouts, (*B, nnz, *D) otherwise. CSR and BSR compress
the rows (``crow_indices``/``col_indices``), CSC and BSC the columns.
"""

from __future__ import annotations

import math

from ._memory_format import layout

sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
LAYOUTS = (sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)
BLOCKED = (sparse_bsr, sparse_bsc)
ROW_MAJOR = (sparse_csr, sparse_bsr)  # the layouts that compress the rows
NAMES = {sparse_csr: "SparseCsr", sparse_csc: "SparseCsc", sparse_bsr: "SparseBsr",
         sparse_bsc: "SparseBsc"}  # fmt: skip


class SparseCompressed:
    """The arrays of a compressed tensor (see the module docstring), its full ``shape`` and
    ``layout``."""

    __slots__ = ("compressed", "plain", "values", "shape", "layout")
    __array_ufunc__ = None  # NumPy's operators and ufuncs refuse the record (TypeError)
    base = ()  # never None: the engine never lets a leaf adopt a record as a gradient buffer

    def __init__(self, compressed, plain, values, shape: tuple, layout):
        self.compressed, self.plain, self.values = compressed, plain, values
        self.shape, self.layout = tuple(shape), layout

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.values.itemsize

    @property
    def nbytes(self) -> int:
        return self.compressed.nbytes + self.plain.nbytes + self.values.nbytes

    @property
    def batch_dim(self) -> int:
        return self.plain.ndim - 1

    @property
    def blocksize(self) -> tuple:
        """(rows, cols) of a block: (1, 1) for CSR and CSC."""
        if self.layout in BLOCKED:
            return tuple(self.values.shape[self.batch_dim + 1 : self.batch_dim + 3])
        return (1, 1)

    @property
    def dense_dim(self) -> int:
        return self.ndim - self.batch_dim - 2

    @property
    def nnz(self) -> int:
        return self.plain.shape[-1]

    def with_values(self, values) -> SparseCompressed:
        """A record of the same indices holding ``values``."""
        return SparseCompressed(self.compressed, self.plain, values, self.shape, self.layout)

    def copy(self) -> SparseCompressed:
        return SparseCompressed(
            self.compressed.copy(), self.plain.copy(), self.values.copy(), self.shape, self.layout
        )

    def astype(self, dtype, copy: bool = True) -> SparseCompressed:
        """The values converted to ``dtype`` (``Tensor.to(dtype)``); the indices are shared."""
        return self.with_values(self.values.astype(dtype))

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"a sparse {NAMES[self.layout][6:].upper()} tensor has no dense array: call "
            ".to_dense() first (this op takes dense tensors only)"
        )

    def tolist(self):
        raise TypeError("tolist() of a sparse compressed tensor: call .to_dense() first")

    def __repr__(self) -> str:
        return f"SparseCompressed({self.layout!r}, shape={self.shape}, nnz={self.nnz})"


def is_compressed(t) -> bool:
    """Whether tensor ``t`` has one of the compressed layouts."""
    return type(t._data) is SparseCompressed


def is_csr(t) -> bool:
    """``Tensor.is_sparse_csr``: whether ``t`` has the sparse CSR layout."""
    return type(t._data) is SparseCompressed and t._data.layout is sparse_csr
