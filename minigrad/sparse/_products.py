"""Matrix products with sparse operands of any layout: sparse @ dense keeping the sparse
operand's pattern in its gradient, and sparse @ sparse giving a sparse result (COO x COO,
CSR x CSR), as ``torch.sparse.mm``. Index work runs on the host; values go through
differentiable gathers and scatters."""

from __future__ import annotations

import numpy as np

from .. import backend
from .._sparse_compressed import SparseCompressed, sparse_csr
from .._sparse_coo import SparseCOO
from ..ops.indexing import GetItem, IndexAdd
from ..tensor import Tensor
from . import _convert, _core
from ._compressed import layout_name


def matrix_elements(x: Tensor) -> tuple:
    """``(rows, cols, values)`` of a 2-D sparse matrix of any layout (values in the graph)."""
    rec = x._data
    if rec.ndim != 2 or (type(rec) is SparseCOO and rec.sparse_dim != 2):
        raise NotImplementedError(
            f"minigrad multiplies 2-D sparse matrices without dense dims only; got a "
            f"{layout_name(x.layout)} tensor of shape {list(rec.shape)}"
        )
    if type(rec) is SparseCOO:
        return rec.indices[0], rec.indices[1], _core.values_of(x)
    (_, rows, cols), values = _convert.elements_of(x)
    return rows, cols, values


def check_operands(s: Tensor, d: Tensor, op: str, transposed: bool = False) -> None:
    """PyTorch's errors for ``s @ d`` (``d @ s`` when ``transposed``) with dense ``d``."""
    if not isinstance(d, Tensor):
        raise TypeError(f"{op}: expected a tensor as the dense operand, got {type(d).__name__}")
    if d.ndim not in (1, 2):
        raise RuntimeError(f"{op}: expected a 1-D or 2-D dense operand, got {d.ndim}-D")
    left, right = (d.shape, s.shape) if transposed else (s.shape, d.shape)
    inner_left = left[-1]
    inner_right = right[0]
    if inner_left != inner_right:
        raise RuntimeError(
            "mat1 and mat2 shapes cannot be multiplied "
            f"({'x'.join(map(str, left))} and {'x'.join(map(str, right))})"
        )
    if d.dtype != s.dtype:
        raise RuntimeError(
            f"{op}: expected mat1 and mat2 to have the same dtype, but got: "
            f"{(d if transposed else s).dtype} != {(s if transposed else d).dtype}"
        )


def pattern_product(s: Tensor, d: Tensor, transpose: bool = False) -> Tensor:
    """``s @ d`` (``sᵀ @ d`` when ``transpose``) for a 2-D sparse ``s`` and a dense matrix
    ``d``, composed from ``s``'s values: ``s``'s gradient keeps its pattern."""
    with backend.on(d.device):
        rows, cols, values = matrix_elements(s)
        n = s.shape[1] if transpose else s.shape[0]
        if transpose:
            rows, cols = cols, rows
        products = values.unsqueeze(1) * GetItem((cols,))(d)
        return IndexAdd((n, d.shape[1]), (rows,), False)(products)


def _pairs(ka, kb) -> tuple:
    """Every (i, j) with ``ka[i] == kb[j]`` (host arrays): the entries of two factors that meet
    in a product."""
    order = np.argsort(kb, kind="stable")
    sorted_kb = kb[order]
    start = np.searchsorted(sorted_kb, ka, "left")
    counts = np.searchsorted(sorted_kb, ka, "right") - start
    ia = np.repeat(np.arange(len(ka)), counts)
    offsets = np.arange(len(ia)) - np.repeat(np.cumsum(counts) - counts, counts)
    return ia, order[np.repeat(start, counts) + offsets]


def sparse_product(a: Tensor, b: Tensor, op: str = "mm") -> Tensor:
    """``a @ b`` for two 2-D sparse matrices: COO for COO operands, CSR for CSR operands."""
    la, lb = a.layout, b.layout
    if la is not lb or type(a._data) is SparseCompressed and la is not sparse_csr:
        raise NotImplementedError(
            f"{op}: minigrad multiplies sparse COO x COO and CSR x CSR matrices; got "
            f"{layout_name(la)} and {layout_name(lb)}"
        )
    ra, ka, va = matrix_elements(a)
    kb, cb, vb = matrix_elements(b)
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{op}: expected mat1 and mat2 to have the same dtype, but got: {a.dtype} != {b.dtype}"
        )
    device = a.device
    host = device.backend.to_host
    ia, ib = _pairs(host(ka), host(kb))
    to_dev = lambda h: backend.to_device(h.astype(np.int64), backend.CPU, device)  # noqa: E731
    rows, cols = to_dev(host(ra)[ia]), to_dev(host(cb)[ib])
    products = GetItem((to_dev(ia),))(va) * GetItem((to_dev(ib),))(vb)
    shape = (a.shape[0], b.shape[1])
    with backend.on(device):
        if la is sparse_csr:
            return _convert.from_elements((rows, cols), products, shape, sparse_csr, (1, 1))
        xp = device.xp
        unique, inverse = xp.unique(rows * shape[1] + cols, return_inverse=True)
        values = IndexAdd((len(unique),), (inverse.reshape(-1),), False)(products)
        indices = xp.stack([unique // max(shape[1], 1), unique % max(shape[1], 1)])
        return _core.make(indices.astype(np.int64).reshape(2, -1), values, shape, True)
