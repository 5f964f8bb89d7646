"""Sparse compressed tensors (CSR, CSC, BSR, BSC): the two primitives that cross between such a
tensor and its values, the gathers and scatters between its values and a dense tensor, and
``to_dense`` (constructors: :mod:`._construct`; conversions: :mod:`._convert`).

As for COO tensors (:mod:`minigrad.sparse._core`), every differentiable computation reads the
values with :class:`CompressedValues` and builds a compressed result with
:class:`SparseCompressedTensor`; in between run dense ops (``GetItem``, ``IndexAdd``), so
gradients and double backward come from them. Index work runs on the indices' arrays.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .. import _sparse_compressed as _layouts
from .. import backend, dtypes
from .._memory_format import strided
from .._sparse_compressed import (
    BLOCKED,
    NAMES,
    ROW_MAJOR,
    SparseCompressed,
)
from .._sparse_coo import SparseCOO, sparse_coo
from ..autograd.graph import names_node
from ..ops import Op
from ..ops.indexing import GetItem, IndexAdd
from ..tensor import Tensor
from . import _core

_TORCH_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}  # fmt: skip


class Pattern(NamedTuple):
    """Where a compressed tensor's values sit: its index arrays, shape, layout and the shape of
    its values array."""

    compressed: object
    plain: object
    shape: tuple
    layout: object
    values_shape: tuple

    @property
    def batch_dim(self) -> int:
        return self.plain.ndim - 1

    @property
    def block(self) -> tuple:
        b = self.batch_dim
        return tuple(self.values_shape[b + 1 : b + 3]) if self.layout in BLOCKED else (1, 1)

    @property
    def dense_shape(self) -> tuple:
        return tuple(self.shape[self.batch_dim + 2 :])


def pattern_of(rec: SparseCompressed) -> Pattern:
    """The pattern of a compressed record (its values' shape included)."""
    return Pattern(rec.compressed, rec.plain, rec.shape, rec.layout, tuple(rec.values.shape))


class SparseCompressedTensor(Op):
    """y = the compressed tensor whose values are v at fixed indices; dv = dy at those entries
    (blocks of dy for the block layouts)"""

    backward_name = "SparseCompressedTensorBackward0"

    def __init__(self, compressed, plain, shape: tuple, layout):
        self.compressed, self.plain, self.shape, self.layout = compressed, plain, shape, layout

    def forward(self, values):
        self.values_shape = tuple(values.shape)
        return SparseCompressed(self.compressed, self.plain, values, self.shape, self.layout)

    def backward(self, gy):
        rec = gy._data
        if type(rec) is SparseCompressed and rec.plain is self.plain:
            return values_of(gy)  # the same pattern: its values are the answer
        with backend.on(gy.device):
            if type(rec) in (SparseCompressed, SparseCOO):
                gy = to_dense(gy)
            p = Pattern(self.compressed, self.plain, self.shape, self.layout, self.values_shape)
            return gather(gy, p, self.values_shape)


class CompressedValues(Op):
    """v = the values of compressed x (``x.values()``); dx = the compressed tensor of dv with
    x's indices"""

    backward_name = "ValuesBackward0"

    def forward(self, x):
        self.keep(compressed=x.compressed, plain=x.plain)
        self.shape, self.layout = x.shape, x.layout
        return x.values

    def backward(self, gv):
        kept = self.kept_arrays
        return SparseCompressedTensor(kept["compressed"], kept["plain"], self.shape, self.layout)(
            gv
        )


def values_of(x: Tensor) -> Tensor:
    """The values tensor of compressed ``x``, in the graph."""
    return CompressedValues()(x)


def make(compressed, plain, values: Tensor, shape: tuple, layout) -> Tensor:
    """A compressed tensor of ``values`` (a tensor, in the graph) at the given indices."""
    return SparseCompressedTensor(compressed, plain, tuple(shape), layout)(values)


def is_compressed(t) -> bool:
    """Whether ``t`` is a tensor of one of the compressed layouts."""
    return isinstance(t, Tensor) and type(t._data) is SparseCompressed


# -- the positions of the stored blocks ---------------------------------------------------------
def block_keys(xp, p: Pattern) -> tuple:
    """(batch, block row, block col) of every stored block of ``p`` in storage order."""
    return _layouts.block_keys(xp, p.compressed, p.plain, p.layout)


def _grid(p: Pattern) -> tuple:
    """The shape of the dense tensor seen as (batch, block row, block col, *block, *dense)."""
    nb = math.prod(p.plain.shape[:-1])
    b = p.batch_dim
    rows, cols = p.shape[b], p.shape[b + 1]
    if p.layout in BLOCKED:
        br, bc = p.block
        return (nb, rows // br, cols // bc, br, bc) + p.dense_shape
    return (nb, rows, cols) + p.dense_shape


def _block_view(x: Tensor, p: Pattern) -> Tensor:
    nb, b = math.prod(p.plain.shape[:-1]), p.batch_dim
    rows, cols = p.shape[b], p.shape[b + 1]
    x = x.reshape((nb, rows, cols) + p.dense_shape)
    if p.layout not in BLOCKED:
        return x
    br, bc = p.block
    x = x.reshape((nb, rows // br, br, cols // bc, bc) + p.dense_shape)
    return x.permute((0, 1, 3, 2, 4) + tuple(range(5, x.ndim)))


def gather(dense: Tensor, p: Pattern, values_shape: tuple) -> Tensor:
    """The entries (blocks) of ``dense`` at ``p``'s positions, shaped as its values."""
    key = block_keys(dense.device.xp, p)
    return GetItem(key)(_block_view(dense, p)).reshape(values_shape)


def scatter(values: Tensor, p: Pattern) -> Tensor:
    """The dense tensor of shape ``p.shape`` holding ``values`` at ``p``'s positions."""
    key = block_keys(values.device.xp, p)
    b = p.batch_dim
    flat = values.reshape((-1,) + tuple(values.shape[b + 1 :]))
    grid = IndexAdd(_grid(p), key, False)(flat)
    if p.layout in BLOCKED:
        grid = grid.permute((0, 1, 3, 2, 4) + tuple(range(5, grid.ndim)))
    return grid.reshape(p.shape)


@names_node("ToDenseBackward0")
def to_dense(x: Tensor, dtype=None, *, masked_grad=None) -> Tensor:
    """The dense tensor of a compressed ``x`` (COO and dense tensors as ``_core.to_dense``);
    ``masked_grad`` is accepted (the values' gradient is the dense one at their entries)."""
    rec = x._data
    if type(rec) is not SparseCompressed:
        return _core.to_dense(x) if dtype is None else _core.to_dense(x).to(dtype)
    if dtype is not None:
        raise RuntimeError(f"dtype argument is not supported by {rec.layout.name}_to_dense")
    with backend.on(x.device):
        return scatter(values_of(x), pattern_of(rec))


def torch_name(dtype) -> str:
    """PyTorch's C++ name of a dtype (``Long``), as its messages print it."""
    return _TORCH_NAMES.get(dtypes.to_dtype(dtype).name, str(dtype))


def layout_name(layout) -> str:
    """PyTorch's C++ name of a layout (``SparseCsr``), as its messages print it."""
    if layout is None:
        return "none"
    if layout is sparse_coo:
        return "Sparse"
    return NAMES.get(layout, "Strided" if layout is strided else repr(layout))


def index_names(layout) -> tuple:
    """The names of a layout's (compressed, plain) index arrays."""
    return (
        ("crow_indices", "col_indices") if layout in ROW_MAJOR else ("ccol_indices", "row_indices")
    )
