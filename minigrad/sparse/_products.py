"""Matrix products with sparse operands of any layout: sparse @ dense keeping the sparse
operand's pattern in its gradient, and sparse @ sparse giving a sparse result (COO x COO,
CSR x CSR), as ``torch.sparse.mm``. Index work runs on the host; values go through
differentiable gathers and scatters."""

from __future__ import annotations

import numpy as np

from .. import backend
from .._sparse_compressed import BLOCKED, SparseCompressed, sparse_csr
from .._sparse_coo import SparseCOO
from ..ops import Op
from ..ops.base import refuse_dtype
from ..ops.indexing import GetItem, IndexAdd
from ..tensor import Tensor
from . import _convert, _core
from ._compressed import block_keys, layout_name, pattern_of, values_of


def _check_2d(x: Tensor) -> None:
    rec = x._data
    if rec.ndim != 2 or (rec.sparse_dim != 2 if type(rec) is SparseCOO else rec.dense_dim):
        raise NotImplementedError(
            f"minigrad multiplies 2-D sparse matrices without dense dims only; got a "
            f"{layout_name(x.layout)} tensor of shape {list(rec.shape)}"
        )


def matrix_elements(x: Tensor) -> tuple:
    """``(rows, cols, values)`` of a 2-D sparse matrix of any layout (values in the graph)."""
    _check_2d(x)
    rec = x._data
    if type(rec) is SparseCOO:
        return rec.indices[0], rec.indices[1], _core.values_of(x)
    (_, rows, cols), values = _convert.elements_of(x)
    return rows, cols, values


def refuse_integers(kernel: str, op: str, *operands, bools_only: bool = False) -> None:
    """PyTorch's ``NotImplementedError`` for a sparse product whose CPU ``kernel`` has floating
    point (``bools_only``: and integer) implementations only, naming the first refused dtype
    among the ``operands``; it comes before the same-dtype check, as in PyTorch."""
    for x in operands:
        if isinstance(x, Tensor):
            refuse_dtype(x.dtype, kernel, op, bools_only)


def check_operands(s: Tensor, d: Tensor, op: str, transposed: bool = False) -> None:
    """PyTorch's errors for ``s @ d`` (``d @ s`` when ``transposed``) with dense ``d``; a
    compressed ``s`` multiplies floating-point operands only (MKL's kernel)."""
    if not isinstance(d, Tensor):
        raise TypeError(f"{op}: expected a tensor as the dense operand, got {type(d).__name__}")
    if d.ndim not in (1, 2):
        raise backend.DimensionError(f"{op}: expected a 1-D or 2-D dense operand, got {d.ndim}-D")
    left, right = (d.shape, s.shape) if transposed else (s.shape, d.shape)
    inner_left = left[-1]
    inner_right = right[0]
    if inner_left != inner_right:
        raise RuntimeError(
            "mat1 and mat2 shapes cannot be multiplied "
            f"({'x'.join(map(str, left))} and {'x'.join(map(str, right))})"
        )
    if type(s._data) is SparseCompressed:
        refuse_integers("addmm_out_sparse_csr_impl_mkl", op, *((d, s) if transposed else (s, d)))
    if d.dtype != s.dtype:
        raise RuntimeError(
            f"{op}: expected mat1 and mat2 to have the same dtype, but got: "
            f"{(d if transposed else s).dtype} != {(s if transposed else d).dtype}"
        )


def segment_sum(device, values, segments, n: int):
    """``out[segments[i]] += values[i]`` into zeros (n, ...): on NumPy a sorted ``reduceat``
    (``add.at`` is ~50x slower), elsewhere the backend's scatter-add (atomic on CuPy)."""
    xp = device.xp
    out = xp.zeros((n,) + tuple(values.shape[1:]), dtype=values.dtype)
    if xp is not np:
        device.backend.scatter_add(out, (segments,), values)
        return out
    if len(segments) == 0:
        return out
    if (segments[1:] < segments[:-1]).any():
        order = np.argsort(segments, kind="stable")
        segments, values = segments[order], values[order]
    starts = np.flatnonzero(np.r_[True, segments[1:] != segments[:-1]])
    out[segments[starts]] = np.add.reduceat(values, starts, axis=0)
    return out


def block_product(device, brow, bcol, v, nrb: int, d):
    """``S @ d`` for S of blocks ``v`` (N, br, bc) at block positions (``brow``, ``bcol``) with
    ``nrb`` block rows: one small product per block, summed per block row; (nrb * br, K)."""
    xp = device.xp
    n, br, bc = v.shape
    gathered = d.reshape(-1, bc, d.shape[1])[bcol]  # (N, bc, K)
    if br == bc == 1:
        products = v.reshape(n, 1) * gathered[:, 0]  # (N, K)
    else:
        products = xp.matmul(v, gathered)  # (N, br, K)
    return segment_sum(device, products, brow, nrb).reshape(nrb * br, d.shape[1])


class BlockProduct(Op):
    """y = S @ D for S the blocks v (N, br, bc) at fixed block positions; dv = dy's block rows @
    D's block rows ᵀ, dD = Sᵀ @ dy (the same product with the pattern transposed)"""

    save_inputs = True
    backward_name = "SparseAddmmBackward0"

    def __init__(self, brow, bcol, nrb: int, ncb: int):
        self.brow, self.bcol, self.nrb, self.ncb = brow, bcol, nrb, ncb

    def forward(self, v, d):
        return block_product(self.device, self.brow, self.bcol, v, self.nrb, d)

    def backward(self, gy):
        v, d = self.saved
        needs = self.needs_input_grad
        n, br, bc = v.shape
        gv = gd = None
        if needs[0]:
            rows = GetItem((self.brow,))(gy.reshape(self.nrb, br, gy.shape[1]))
            cols = GetItem((self.bcol,))(d.reshape(self.ncb, bc, d.shape[1]))
            gv = rows.matmul(cols.transpose(1, 2))
        if needs[1]:
            swapped = BlockProduct(self.bcol, self.brow, self.ncb, self.nrb)
            gd = swapped(v.transpose(1, 2), gy)
        return gv, gd


def pattern_blocks(s: Tensor) -> tuple:
    """``(brow, bcol, values (N, br, bc) in the graph, block rows, block cols)`` of a 2-D
    sparse matrix of any layout (COO entries are 1 x 1 blocks)."""
    rec = s._data
    if type(rec) is SparseCOO or rec.layout not in BLOCKED:
        rows, cols, values = matrix_elements(s)
        return rows, cols, values.reshape(-1, 1, 1), rec.shape[0], rec.shape[1]
    _check_2d(s)
    _, brow, bcol = block_keys(s.device.xp, pattern_of(rec))
    br, bc = rec.blocksize
    return brow, bcol, values_of(s), rec.shape[0] // br, rec.shape[1] // bc


def pattern_product(s: Tensor, d: Tensor, transpose: bool = False) -> Tensor:
    """``s @ d`` (``sᵀ @ d`` when ``transpose``) for a 2-D sparse ``s`` and a dense matrix
    ``d``, from ``s``'s values: ``s``'s gradient keeps its pattern."""
    with backend.on(d.device):
        brow, bcol, values, nrb, ncb = pattern_blocks(s)
        if transpose:
            brow, bcol, values, nrb, ncb = bcol, brow, values.transpose(1, 2), ncb, nrb
        return BlockProduct(brow, bcol, nrb, ncb)(values, d)


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
    kernel = "addmm_out_sparse_csr_impl_mkl_sparse" if la is sparse_csr else "sparse_matmul"
    refuse_integers(kernel, op, b, a)  # (PyTorch names mat2's dtype first)
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
