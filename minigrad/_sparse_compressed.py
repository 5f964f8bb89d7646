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

import numpy as np

from ._memory_format import layout
from ._sparse_coo import SparseRecord
from ._warnings import warn_user_once

sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
LAYOUTS = (sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)
BLOCKED = (sparse_bsr, sparse_bsc)
ROW_MAJOR = (sparse_csr, sparse_bsr)  # the layouts that compress the rows
NAMES = {sparse_csr: "SparseCsr", sparse_csc: "SparseCsc", sparse_bsr: "SparseBsr",
         sparse_bsc: "SparseBsc"}  # fmt: skip


class SparseCompressed(SparseRecord):
    """The arrays of a compressed tensor (see the module docstring), its full ``shape`` and
    ``layout``."""

    __slots__ = ("compressed", "plain", "values", "shape", "layout")
    ARRAYS = ("compressed", "plain", "values")

    def __init__(self, compressed, plain, values, shape: tuple, layout):
        self.compressed, self.plain, self.values = compressed, plain, values
        self.shape, self.layout = tuple(shape), layout
        warn_user_once(  # PyTorch's compressed tensors say this once a process, at the first
            "sparse compressed beta",
            f"Sparse {layout.name[7:].upper()} tensor support is in beta state. If you miss a "
            "functionality in the sparse tensor support, please submit a feature request to "
            "https://github.com/pytorch/pytorch/issues.",
        )

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

    def __reduce__(self):  # (pickle, deepcopy: the layout by name)
        arrays = (self.compressed, self.plain, self.values)
        return _rebuilt, (*arrays, self.shape, self.layout.name)

    def emptied(self) -> SparseCompressed:
        """A record of this shape and layout with no entries (``zero_``)."""
        b = self.batch_dim
        nnz0 = (slice(None),) * b + (slice(0, 0),)
        return SparseCompressed(
            self.compressed * 0, self.plain[nnz0], self.values[nnz0], self.shape, self.layout
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"a sparse {NAMES[self.layout][6:].upper()} tensor has no dense array: call "
            ".to_dense() first (this op takes dense tensors only)"
        )

    def tolist(self):
        raise TypeError("tolist() of a sparse compressed tensor: call .to_dense() first")

    def dense_key(self, xp) -> tuple:
        """``(key, values)``: the advanced-indexing key of every stored entry into the dense
        array of this shape, and the values as (n, *dense) (``dense[key] += values``)."""
        b, r, c = element_keys(xp, self.compressed, self.plain, self.layout, self.blocksize)
        batch = tuple(xp.unravel_index(b, self.shape[: self.batch_dim])) if self.batch_dim else ()
        dense = self.shape[self.batch_dim + 2 :]
        return batch + (r, c), self.values.reshape((-1,) + tuple(dense))

    def __repr__(self) -> str:
        return f"SparseCompressed({self.layout!r}, shape={self.shape}, nnz={self.nnz})"


def block_keys(xp, compressed, plain, layout) -> tuple:
    """(batch, block row, block col) of every stored block in storage order, flat over the
    batch (a batch of one for an unbatched tensor)."""
    nb, nnz = math.prod(plain.shape[:-1]), plain.shape[-1]
    nc = compressed.shape[-1] - 1
    # The compressed row of each stored position: the last row whose offset is at or before
    # it (empty rows share their offset with the next). Offsets of batch b are shifted by
    # b * nnz so that one sorted search serves every batch (CuPy's repeat takes no array).
    shifted = compressed.reshape(nb, nc + 1).astype(np.int64)
    shifted = (shifted + xp.arange(nb, dtype=np.int64)[:, None] * nnz).reshape(-1)
    position = xp.arange(nb * nnz, dtype=np.int64)
    comp = (xp.searchsorted(shifted, position, side="right") - 1) % (nc + 1)
    batch = position // max(nnz, 1)
    plain = plain.reshape(-1).astype(np.int64)
    return (batch, comp, plain) if layout in ROW_MAJOR else (batch, plain, comp)


def element_keys(xp, compressed, plain, layout, block: tuple) -> tuple:
    """(batch, row, col) of every stored entry (each entry of a stored block) in storage
    order, flat over the batch: the order of ``values.reshape(-1, *dense)``."""
    b, r, c = block_keys(xp, compressed, plain, layout)
    if layout not in BLOCKED:
        return b, r, c
    br, bc = block
    grid = xp.zeros((len(b), br, bc), dtype=np.int64)
    r = r[:, None, None] * br + xp.arange(br)[None, :, None] + grid
    c = c[:, None, None] * bc + xp.arange(bc)[None, None, :] + grid
    return (b[:, None, None] + grid).reshape(-1), r.reshape(-1), c.reshape(-1)


def is_compressed(t) -> bool:
    """Whether tensor ``t`` has one of the compressed layouts."""
    return type(t._data) is SparseCompressed


def is_csr(t) -> bool:
    """``Tensor.is_sparse_csr``: whether ``t`` has the sparse CSR layout."""
    return type(t._data) is SparseCompressed and t._data.layout is sparse_csr


def _rebuilt(compressed, plain, values, shape, layout_name: str) -> SparseCompressed:
    """A record from a pickle (see ``SparseCompressed.__reduce__``)."""
    found = {x.name: x for x in LAYOUTS}[layout_name]
    return SparseCompressed(compressed, plain, values, shape, found)
