"""The functions of ``torch.sparse`` on sparse COO tensors: products with dense matrices,
sums and softmax over the specified entries."""

from __future__ import annotations

import numpy as np

from .. import backend, dtypes
from .. import ops as _ops
from .._sparse_compressed import SparseCompressed
from ..autograd.graph import named_as, names_node
from ..ops.base import (
    Op,
    coefficient,
    constant,
    normalize_dims,
    on_input_device,
    refuse_dtype,
)
from ..ops.indexing import GetItem, IndexAdd
from ..tensor import Tensor
from ._core import coalesce, expect_sparse, is_sparse, make, values_of


@on_input_device
def spmm(sparse: Tensor, dense: Tensor, keep_pattern: bool = False, op: str = "mm") -> Tensor:
    """``sparse @ dense`` for a 2-D sparse matrix and a dense matrix or vector.

    The sparse operand's gradient is dense (``torch.mm``, ``torch.spmm``, ``@``), or sparse
    with the operand's pattern when ``keep_pattern`` (``torch.sparse.mm``).
    """
    if type(getattr(sparse, "_data", None)) is SparseCompressed and not keep_pattern:
        return _ops.matmul(sparse, dense)  # (torch.spmm of a CSR tensor: the compressed rule)
    rec = expect_sparse(sparse, op)
    if is_sparse(dense):
        raise NotImplementedError(
            f"{op}: the product of two sparse tensors is not supported in minigrad; make one "
            "dense with .to_dense()"
        )
    if not isinstance(dense, Tensor):
        raise TypeError(f"{op}: expected a dense tensor as the second operand, got {type(dense)}")
    if rec.ndim != 2 or rec.sparse_dim != 2 or dense.ndim not in (1, 2):
        raise backend.DimensionError(
            f"{op}: expected a 2-D sparse matrix (2 sparse dims) and a 1-D or 2-D dense tensor, "
            f"got sparse of shape {list(rec.shape)} (sparse_dim {rec.sparse_dim}) and dense of "
            f"shape {list(dense.shape)}"
        )
    if dense.shape[0] != rec.shape[1]:
        raise RuntimeError(
            f"{op}: mat1 and mat2 shapes cannot be multiplied ({rec.shape[0]}x{rec.shape[1]} and "
            f"{'x'.join(map(str, dense.shape))})"
        )
    for x in (sparse, dense):  # (PyTorch's kernel takes integers, not bool)
        refuse_dtype(x.dtype, "addmm_sparse_dense", op, bools_only=True)
    if dense.dtype != sparse.dtype:
        raise RuntimeError(
            f"{op}: expected mat1 and mat2 to have the same dtype, but got: {sparse.dtype} != "
            f"{dense.dtype}"
        )
    if sparse.device is not dense.device:
        raise RuntimeError(f"{op}: sparse on {sparse.device} but dense on {dense.device}")
    vector = dense.ndim == 1
    columns = dense.unsqueeze(1) if vector else dense
    if keep_pattern:
        rows, cols = rec.indices[0], rec.indices[1]
        products = values_of(sparse).unsqueeze(1) * GetItem((cols,))(columns)
        out = IndexAdd((rec.shape[0], columns.shape[1]), (rows,), False)(products)
    else:
        out = SparseMM()(sparse, columns)
    return named_as(out.squeeze(1), "MvBackward0") if vector else out  # (PyTorch: mv)


class SparseMM(Op):
    """y = S @ D for sparse S and dense D; dS = dy @ Dᵀ, dense (``torch.mm`` gives a sparse
    operand a dense gradient), dD = Sᵀ @ dy"""

    save_inputs = True
    backward_name = "MmBackward0"

    def forward(self, s, d):
        rows, cols = s.indices[0], s.indices[1]
        out = self.xp.zeros((s.shape[0], d.shape[1]), dtype=d.dtype)
        self.device.backend.scatter_add(out, (rows,), s.values[:, None] * d[cols])
        return out

    def backward(self, gy):
        s, d = self.saved
        needs = self.needs_input_grad
        gs = _ops.matmul(gy, d.t()) if needs[0] else None
        gd = spmm(transpose(s), gy, keep_pattern=True) if needs[1] else None
        return gs, gd


@on_input_device
def transpose(x: Tensor, dim0: int = 0, dim1: int = 1) -> Tensor:
    """Sparse ``x`` with two of its sparse dims swapped (dense dims stay in place)."""
    rec = expect_sparse(x, "transpose")
    order = list(range(rec.ndim))
    d0, d1 = (normalize_dims(d, rec.ndim, "transpose")[0] for d in (dim0, dim1))
    order[d0], order[d1] = order[d1], order[d0]
    return permute(x, tuple(order))


@on_input_device
def permute(x: Tensor, dims: tuple) -> Tensor:
    """Sparse ``x`` with its sparse dims reordered by ``dims`` (its dense dims must stay)."""
    rec = x._data
    sd = rec.sparse_dim
    if tuple(dims[sd:]) != tuple(range(sd, rec.ndim)) or sorted(dims[:sd]) != list(range(sd)):
        raise RuntimeError(
            f"permute(sparse_coo): transpositions between sparse and dense dimensions are not "
            f"allowed; got dims {list(dims)} for {sd} sparse dims of {rec.ndim}"
        )
    shape = tuple(rec.shape[d] for d in dims)
    return make(rec.indices[list(dims[:sd])], values_of(x), shape)


@names_node("SparseAddmmBackward0")
def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """``mat1 @ mat2`` with sparse ``mat1`` (``torch.sparse.mm``): mat1's gradient is sparse,
    with its pattern.

    Example:
        >>> s = minigrad.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
        >>> minigrad.sparse.mm(s, minigrad.ones(2, 1))
        tensor([[2.],
                [3.]])
    """
    return spmm(mat1, mat2, keep_pattern=True, op="sparse.mm")


@names_node("SparseAddmmBackward0")
def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` with sparse ``mat1`` (``torch.sparse.addmm``)."""
    product = spmm(mat1, mat2, keep_pattern=True, op="sparse.addmm")
    alpha, beta = coefficient(alpha, mat, product), coefficient(beta, mat, product)
    if alpha != 1:
        product = product * alpha
    return product + (mat if beta == 1 else mat * beta)


@on_input_device
def sum(input: Tensor, dim=None, dtype=None) -> Tensor:
    """The sum of sparse ``input`` (``torch.sparse.sum``): of every value when ``dim`` is None
    (a 0-d dense tensor); over the given sparse dims otherwise (a coalesced sparse tensor, or
    a dense one when every sparse dim is summed)."""
    rec = expect_sparse(input, "sparse.sum")
    values = values_of(input) if dtype is None else values_of(input).to(dtype)
    if dim is None:
        return values.sum()
    dims = normalize_dims(dim, rec.ndim, "sparse.sum")
    sd = rec.sparse_dim
    dense_dims = tuple(d - sd + 1 for d in dims if d >= sd)
    if dense_dims:
        values = values.sum(dense_dims)
    keep = [d for d in range(sd) if d not in dims]
    if not keep:
        return values.sum(0)
    shape = tuple(rec.shape[d] for d in keep) + tuple(
        s for d, s in enumerate(rec.shape) if d >= sd and d not in dims
    )
    return coalesce(make(rec.indices[keep], values, shape))


def _groups(rec, dim: int, device):
    """For each entry of coalesced ``rec``, the index of its slice along ``dim`` (the entries
    that share every other sparse index), and the number of slices."""
    other = [d for d in range(rec.sparse_dim) if d != dim]
    if not other:
        return np.zeros(rec.nnz, dtype=np.int64), 1
    host = device.backend.to_host(rec.indices)
    flat = np.ravel_multi_index(tuple(host[other]), tuple(rec.shape[d] for d in other))
    unique, inverse = np.unique(flat, return_inverse=True)
    return inverse.reshape(-1), len(unique)


@on_input_device
def _softmax(input: Tensor, dim: int, dtype, log: bool, op: str) -> Tensor:
    rec = expect_sparse(input, op)
    if rec.ndim != rec.sparse_dim:
        raise NotImplementedError(f"{op}: minigrad supports sparse tensors without dense dims only")
    dim = normalize_dims(dim, rec.ndim, op)[0]
    dt = input.dtype if dtype is None else dtypes.to_dtype(dtype)
    if dt in (dtypes.bfloat16, dtypes.float16) or not (dt.is_floating_point or dt.is_complex):
        kind = dtypes.scalar_type_name(dt)  # (as PyTorch's CPU kernels: no integers either)
        raise NotImplementedError(f"\"{op.split('.')[1]}\" not implemented for '{kind}'")
    x = coalesce(input if dtype is None else input.to(dtype))
    rec, device = x._data, x.device
    values = values_of(x)
    if rec.nnz == 0:
        return make(rec.indices, values, rec.shape, True)
    groups, count = _groups(rec, dim, device)
    host_values = device.backend.to_host(rec.values)
    top = np.full(count, -np.inf, dtype=host_values.dtype)
    np.maximum.at(top, groups, host_values)  # the shift for stability: a constant per slice
    groups_dev = backend.to_device(groups, backend.CPU, device)
    shifted = values - constant(backend.to_device(top[groups], backend.CPU, device), device)
    exps = shifted.exp()
    totals = GetItem((groups_dev,))(IndexAdd((count,), (groups_dev,), False)(exps))
    out = shifted - totals.log() if log else exps / totals
    return make(rec.indices, out, rec.shape, True)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Softmax of sparse ``input`` along ``dim`` over its specified entries only (the others
    count as minus infinity), as ``torch.sparse.softmax``; a sparse result of the same
    pattern."""
    return _softmax(input, dim, dtype, False, "sparse.softmax")


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Log-softmax of sparse ``input`` along ``dim`` over its specified entries, as
    ``torch.sparse.log_softmax``."""
    return _softmax(input, dim, dtype, True, "sparse.log_softmax")
