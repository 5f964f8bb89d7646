"""Conversions between dense tensors and the sparse layouts (COO, CSR, CSC, BSR, BSC), as
``Tensor.to_sparse_csr()`` and its kin: index work on the arrays, values through
differentiable gathers and scatters, so gradients reach the source's values."""

from __future__ import annotations

import math

import numpy as np

from .. import _sparse_compressed as _layouts
from .. import backend
from .._memory_format import strided
from .._sparse_compressed import (
    BLOCKED,
    LAYOUTS,
    NAMES,
    ROW_MAJOR,
    SparseCompressed,
    sparse_bsc,
    sparse_bsr,
    sparse_csc,
    sparse_csr,
)
from .._sparse_coo import SparseCOO, sparse_coo
from ..ops.indexing import IndexAdd
from ..tensor import Tensor
from . import _core
from ._compressed import Pattern, gather, layout_name, make, pattern_of, values_of

_SHORT = {sparse_csr: "csr", sparse_csc: "csc", sparse_bsr: "bsr", sparse_bsc: "bsc"}


def _blocksize(blocksize, op: str) -> tuple:
    if isinstance(blocksize, int):
        return (blocksize, blocksize)
    size = tuple(int(b) for b in blocksize)
    if len(size) != 2:
        raise RuntimeError(f"{op}: blocksize needs to be a tuple of size 2, but got {len(size)}")
    if min(size) < 1:
        raise RuntimeError(f"{op}: blocksize must be positive, got {size}")
    return size


def _compressed_indices(device, b, comp, plain, nb: int, ncomp: int, batch: tuple):
    """(compressed, plain) index arrays from the sorted positions (b, comp, plain) of the
    stored blocks; PyTorch's error when the batches hold different counts."""
    xp = device.xp
    per_batch = device.backend.to_host(xp.bincount(b, minlength=nb)) if nb else np.zeros(0)
    if len(per_batch) and (per_batch != per_batch[0]).any():
        raise RuntimeError("Expect the same number of specified elements per batch.")
    nnz = int(per_batch[0]) if len(per_batch) else 0
    counts = xp.bincount(b * (ncomp + 1) + comp + 1, minlength=nb * (ncomp + 1))
    compressed = xp.cumsum(counts.reshape(nb, ncomp + 1), axis=1).astype(np.int64)
    return compressed.reshape(batch + (ncomp + 1,)), plain.astype(np.int64).reshape(batch + (nnz,))


def dense_to(x: Tensor, layout, block: tuple, dense_dim: int, op: str) -> Tensor:
    """Dense ``x`` in a compressed layout: the blocks (entries) holding a nonzero are stored;
    the values are gathered from ``x``, so its gradient is that of the stored blocks."""
    if not 0 <= dense_dim <= max(x.ndim - 2, 0):
        raise RuntimeError(
            f"{op}: dense_dim argument must be in [0,{max(x.ndim - 2, 0)}] range, but "
            f"{dense_dim} is given"
        )
    if x.ndim < 2:
        raise backend.DimensionError(f"{op}: expected a tensor of at least 2 dims, got {x.ndim}")
    bdim = x.ndim - 2 - dense_dim
    batch, (rows, cols) = tuple(x.shape[:bdim]), x.shape[bdim : bdim + 2]
    dense = tuple(x.shape[bdim + 2 :])
    br, bc = block
    if rows % br or cols % bc:
        raise RuntimeError(
            f"{op}: tensor sparse size ({rows},{cols}) must be divisible by given blocksize "
            f"({br},{bc})"
        )
    xp, nb = x.device.xp, math.prod(batch)
    mask = xp.asarray(x._data) != 0
    mask = mask.reshape((nb, rows // br, br, cols // bc, bc) + dense)
    mask = mask.any(axis=(2, 4) + tuple(range(5, mask.ndim)))
    row_major = layout in ROW_MAJOR
    if not row_major:
        mask = mask.transpose(0, 2, 1)
    b, comp, plain = xp.nonzero(mask)
    compressed, plain = _compressed_indices(x.device, b, comp, plain, nb, mask.shape[1], batch)
    values_shape = batch + (plain.shape[-1],) + ((br, bc) if layout in BLOCKED else ()) + dense
    p = Pattern(compressed, plain, tuple(x.shape), layout, values_shape)
    return make(compressed, plain, gather(x, p, values_shape), x.shape, layout)


def from_elements(keys, elements: Tensor, shape: tuple, layout, block: tuple) -> Tensor:
    """A compressed tensor of ``shape`` (no batch dims) from distinct entries at
    ``keys = (rows, cols)`` with values ``elements`` (n, *dense); the block layouts store every
    block that holds one, its other entries zero."""
    xp = elements.device.xp
    rows, cols = keys
    br, bc = block
    row_major = layout in ROW_MAJOR
    comp, plain = (rows // br, cols // bc) if row_major else (cols // bc, rows // br)
    ncomp, nplain = (shape[0] // br, shape[1] // bc)[:: 1 if row_major else -1]
    flat = comp * nplain + plain
    unique, inverse = xp.unique(flat, return_inverse=True)
    inverse = inverse.reshape(-1)
    zeros = xp.zeros(len(unique), dtype=np.int64)
    compressed, plain_idx = _compressed_indices(
        elements.device, zeros, unique // max(nplain, 1), unique % max(nplain, 1), 1, ncomp, ()
    )
    dense = tuple(elements.shape[1:])
    if layout in BLOCKED:
        key = (inverse, rows % br, cols % bc)
        values = IndexAdd((len(unique), br, bc) + dense, key, False)(elements)
    else:
        values = IndexAdd((len(unique),) + dense, (inverse,), False)(elements)
    return make(compressed, plain_idx, values, shape, layout)


def element_keys(xp, p: Pattern) -> tuple:
    """(batch, row, col) of every stored entry of ``p`` (each entry of a stored block) in
    storage order, flat over the batch."""
    return _layouts.element_keys(xp, p.compressed, p.plain, p.layout, p.block)


def elements_of(x: Tensor):
    """``((batch, rows, cols), values)`` of a compressed ``x``: every stored entry in storage
    order, flat over the batch, and its values (n, *dense) in the graph."""
    p = pattern_of(x._data)
    values = values_of(x)
    return element_keys(x.device.xp, p), values.reshape((-1,) + p.dense_shape)


def compressed_to_coo(x: Tensor) -> Tensor:
    """A compressed ``x`` as a COO tensor of its stored entries in storage order (batch dims
    become sparse dims; coalesced for CSR, as PyTorch's)."""
    rec = x._data
    (b, r, c), values = elements_of(x)
    xp, bdim = x.device.xp, rec.batch_dim
    batch = list(xp.unravel_index(b, rec.shape[:bdim])) if bdim else []
    indices = xp.stack(batch + [r, c]).astype(np.int64).reshape(bdim + 2, -1)
    return _core.make(indices, values, rec.shape, rec.layout is sparse_csr)


def _coo_to(x: Tensor, layout, block: tuple, op: str) -> Tensor:
    rec = x._data
    if rec.sparse_dim != 2:
        raise RuntimeError(
            f"{op}: conversion from Sparse to {NAMES[layout]} for input tensors with "
            "sparse_dim()!=2 is not supported"
        )
    x = _core.coalesce(x)
    br, bc = block
    if rec.shape[0] % br or rec.shape[1] % bc:
        raise RuntimeError(
            f"{op}: tensor sparse size ({rec.shape[0]},{rec.shape[1]}) must be divisible by "
            f"given blocksize ({br},{bc})"
        )
    indices = x._data.indices
    return from_elements((indices[0], indices[1]), _core.values_of(x), rec.shape, layout, block)


def _compressed_to(x: Tensor, layout, block, op: str) -> Tensor:
    rec = x._data
    source = rec.layout
    if source in BLOCKED and layout not in BLOCKED:
        raise RuntimeError(
            f"sparse_compressed_to_sparse_{_SHORT[layout]}: expected SparseCsr or SparseCsc "
            f"layout but got {NAMES[source]}"
        )
    if source in BLOCKED and tuple(block) != rec.blocksize:
        raise RuntimeError(
            f"to_sparse_{_SHORT[layout]}: conversion from {NAMES[source]} to {NAMES[layout]} "
            f"with blocksize changed from {list(rec.blocksize)} to {list(block)} is not "
            "supported"
        )
    if source is layout:
        return x
    if rec.batch_dim:
        raise NotImplementedError(
            f"{op}: minigrad converts between compressed layouts without batch dims only; got "
            f"{rec.batch_dim} batch dims (go through .to_dense())"
        )
    for d in (0, 1):
        if rec.shape[d] % block[d]:
            raise RuntimeError(
                f"{op}: tensor sparse size ({rec.shape[0]},{rec.shape[1]}) must be divisible "
                f"by given blocksize ({block[0]},{block[1]})"
            )
    (_, r, c), values = elements_of(x)
    return from_elements((r, c), values, rec.shape, layout, block)


def to_layout(x: Tensor, layout, blocksize=None, dense_dim=None) -> Tensor:
    """``x`` in ``layout`` (a compressed one): from dense, COO or compressed ``x``."""
    source = x.layout
    op = f"{'dense_' if source is strided else ''}to_sparse_{_SHORT[layout]}"
    if layout in BLOCKED:
        if blocksize is None:
            raise RuntimeError(
                f"{op}: conversion from {layout_name(source)} to {NAMES[layout]} without "
                "blocksize argument given is not supported"
            )
        block = _blocksize(blocksize, f"dense_{op}")
    elif blocksize is not None:
        raise RuntimeError(
            f"{op}: conversion from {layout_name(source)} to {NAMES[layout]} with blocksize "
            "argument given is not supported"
        )
    else:
        block = (1, 1)
    with backend.on(x.device):
        if source is strided:
            return dense_to(x, layout, block, 0 if dense_dim is None else int(dense_dim), op)
        if dense_dim is not None:
            raise RuntimeError(
                f"{op}: conversion from {layout_name(source)} to {NAMES[layout]} with dense_dim "
                "argument given is not supported"
            )
        if type(x._data) is SparseCOO:
            return _coo_to(x, layout, block, f"coo_{op}")
        return _compressed_to(x, layout, block, op)


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None) -> Tensor:
    """``self`` as a sparse tensor: COO by default (of its first ``sparse_dim`` dims), or in
    ``layout`` (``minigrad.sparse_csr``, ``sparse_csc``, ``sparse_bsr``, ``sparse_bsc``, the
    block layouts with ``blocksize``), as ``Tensor.to_sparse``."""
    if layout in LAYOUTS:
        if sparse_dim is not None:
            raise TypeError("to_sparse: give sparse_dim or layout, not both")
        if self.layout is strided and (layout in BLOCKED) != (blocksize is not None):
            given = "without" if blocksize is None else "with"
            raise RuntimeError(
                f"dense_to_sparse: conversion from Strided to {NAMES[layout]} {given} "
                "blocksize argument given is not supported"
            )
        return to_layout(self, layout, blocksize, dense_dim)
    if layout is not None and layout is not sparse_coo:
        raise RuntimeError(f"to_sparse: unsupported layout {layout!r}")
    if type(self._data) is SparseCompressed:
        with backend.on(self.device):
            out = compressed_to_coo(self)
        if sparse_dim is not None and int(sparse_dim) != out._data.sparse_dim:
            raise RuntimeError(
                f"sparse_compressed_to_sparse: conversion from {NAMES[self.layout]} to Sparse "
                f"with sparse_dim argument !={out._data.sparse_dim} is not supported"
            )
        return out
    if blocksize is not None or dense_dim is not None:
        raise RuntimeError("to_sparse: blocksize and dense_dim are for the compressed layouts")
    return _core.to_sparse(self, sparse_dim)


def to_sparse_coo(self) -> Tensor:
    """``self`` as a sparse COO tensor (``Tensor.to_sparse_coo``)."""
    return to_sparse(self)


def to_sparse_csr(self, dense_dim=None) -> Tensor:
    """``self`` in the CSR layout, the last ``dense_dim`` dims kept dense in the values.

    Example:
        >>> minigrad.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csr().crow_indices()
        tensor([0, 1, 2])
    """
    return to_layout(self, sparse_csr, None, dense_dim)


def to_sparse_csc(self, dense_dim=None) -> Tensor:
    """``self`` in the CSC layout (columns compressed), as ``Tensor.to_sparse_csc``."""
    return to_layout(self, sparse_csc, None, dense_dim)


def to_sparse_bsr(self, blocksize, dense_dim=None) -> Tensor:
    """``self`` in the BSR layout: the ``blocksize`` (rows, cols; an int for square) blocks that
    hold a nonzero, stored whole, rows of blocks compressed."""
    return to_layout(self, sparse_bsr, blocksize, dense_dim)


def to_sparse_bsc(self, blocksize, dense_dim=None) -> Tensor:
    """``self`` in the BSC layout: as :func:`to_sparse_bsr` with columns of blocks compressed."""
    return to_layout(self, sparse_bsc, blocksize, dense_dim)
