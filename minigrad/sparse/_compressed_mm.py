"""Products with sparse compressed operands: the ``@``/``mm``/``addmm``/``matmul`` rule
(``torch.mm`` gives a sparse leaf a dense gradient, through :class:`CompressedMM` and
:class:`DenseCompressedMM`) and ``torch.sparse.mm``/``addmm`` for every layout."""

from __future__ import annotations

from .._sparse_compressed import SparseCompressed
from .._sparse_coo import SparseCOO
from ..autograd.graph import named_as, names_node
from ..ops.base import Op
from ..tensor import Tensor
from . import _compressed, _functions, _products
from ._compressed import is_compressed, layout_name, pattern_of

_SPARSE = (SparseCOO, SparseCompressed)


class CompressedMM(Op):
    """y = S @ D for compressed S and dense D; dS = dy @ Dᵀ, dense (``torch.mm`` gives a sparse
    operand a dense gradient), dD = Sᵀ @ dy"""

    save_inputs = True
    backward_name = "MmBackward0"

    def forward(self, s, d):
        brow, bcol, v, nrb = _record_blocks(self.xp, s)
        return _products.block_product(self.device, brow, bcol, v, nrb, d)

    def backward(self, gy):
        s, d = self.saved
        needs = self.needs_input_grad
        gs = gy.matmul(d.t()) if needs[0] else None
        gd = _products.pattern_product(s, gy, transpose=True) if needs[1] else None
        return gs, gd


def _record_blocks(xp, rec) -> tuple:
    """(block rows, block cols, values (N, br, bc), number of block rows) of a 2-D record."""
    _, brow, bcol = _compressed.block_keys(xp, pattern_of(rec))
    br, bc = rec.blocksize
    return brow, bcol, rec.values.reshape(-1, br, bc), rec.shape[0] // br


class DenseCompressedMM(Op):
    """y = D @ S for dense D and compressed S; dD = dy @ Sᵀ, dS = Dᵀ @ dy, dense (as
    ``torch.mm`` gives a sparse operand)"""

    save_inputs = True
    backward_name = "MmBackward0"

    def forward(self, d, s):  # D @ S = (Sᵀ @ Dᵀ)ᵀ
        brow, bcol, v, _ = _record_blocks(self.xp, s)
        ncb = s.shape[1] // v.shape[2]
        out = _products.block_product(self.device, bcol, brow, v.transpose(0, 2, 1), ncb, d.T)
        return self.xp.ascontiguousarray(out.T)

    def backward(self, gy):
        d, s = self.saved
        needs = self.needs_input_grad
        gd = _products.pattern_product(s, gy.t()).t() if needs[0] else None
        gs = d.t().matmul(gy) if needs[1] else None
        return gd, gs


def _check_matrix(x, op: str) -> None:
    rec = x._data
    if rec.ndim != 2 or (type(rec) is SparseCompressed and rec.dense_dim):
        raise NotImplementedError(
            f"{op}: minigrad multiplies 2-D sparse matrices without batch or dense dims only; "
            f"got a {layout_name(x.layout)} tensor of shape {list(rec.shape)}"
        )


def matmul_rule(op, args, previous):
    """The sparse rule of ``MatMul`` (``@``, ``mm``, ``addmm``, ``matmul``) when an operand is
    compressed, or both are sparse; ``previous`` (the COO rule) otherwise."""
    a, b = args
    sparse_a = type(a._data) in (SparseCOO, SparseCompressed)
    sparse_b = type(b._data) in (SparseCOO, SparseCompressed)
    if sparse_a and sparse_b:
        return _products.sparse_product(a, b, "mm")
    if not (is_compressed(a) or is_compressed(b)):
        return previous(op, args)
    s, d = (a, b) if sparse_a else (b, a)
    _check_matrix(s, "mm")
    _products.check_operands(s, d, "mm", transposed=not sparse_a)
    if sparse_a:
        columns = d.unsqueeze(1) if d.ndim == 1 else d
        out = CompressedMM()(a, columns)
        return named_as(out.squeeze(1), "MvBackward0") if d.ndim == 1 else out
    if a.ndim == 1:  # (PyTorch: a vector times a matrix squeezes the product's row)
        return named_as(DenseCompressedMM()(a.unsqueeze(0), b).squeeze(0), "SqueezeBackward4")
    return DenseCompressedMM()(a, b)


# -- torch.sparse's products, for every layout --------------------------------------------------
def _mm_node(mat1, mat2, reduce=None) -> str:
    return "SparseAddmmBackward0" if reduce is None else "SparseMmReduceImplBackward0"


@names_node(_mm_node)
def mm(mat1: Tensor, mat2: Tensor, reduce: str | None = None) -> Tensor:
    """``mat1 @ mat2`` with a sparse ``mat1`` (``torch.sparse.mm``): a sparse operand's
    gradient keeps its pattern; two sparse operands (COO x COO, CSR x CSR) give a sparse
    result. ``reduce`` (a CSR ``mat1`` and a dense ``mat2`` only) combines the products
    ``mat1[i, k] * mat2[k, j]`` of each row's stored entries by ``"sum"``, ``"mean"``,
    ``"amax"`` or ``"amin"`` (``"max"``/``"min"`` too) instead of summing them: see
    :func:`_mm_reduce`.

    Example:
        >>> s = minigrad.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse_csr()
        >>> minigrad.sparse.mm(s, minigrad.ones(2, 1))
        tensor([[2.],
                [3.]])
    """
    if reduce is not None:
        return _mm_reduce(mat1, mat2, reduce)
    if isinstance(mat1, Tensor) and type(mat1._data) not in _SPARSE:
        return mat1 @ mat2  # a dense mat1: the ordinary product, as PyTorch's sparse.mm
    if isinstance(mat2, Tensor) and type(mat2._data) in _SPARSE:
        return _products.sparse_product(mat1, mat2, "sparse.mm")
    if not is_compressed(mat1):
        return _functions.mm(mat1, mat2)
    _check_matrix(mat1, "sparse.mm")
    _products.check_operands(mat1, mat2, "sparse.mm")
    columns = mat2.unsqueeze(1) if mat2.ndim == 1 else mat2
    out = _products.pattern_product(mat1, columns)
    return out.squeeze(1) if mat2.ndim == 1 else out


# sparse.mm's reductions by the scatter_reduce names (PyTorch takes max/min for amax/amin too)
_REDUCTIONS = {"sum": "sum", "mean": "mean", "amax": "amax", "max": "amax", "amin": "amin"}
_REDUCTIONS["min"] = "amin"


def _mm_reduce(mat1: Tensor, mat2: Tensor, reduce: str) -> Tensor:
    """out[i, j] = reduce over the stored ``k`` of row ``i`` of ``mat1[i, k] * mat2[k, j]``
    (0 for a row with none), as PyTorch's ``_sparse_mm_reduce_impl``; gradients reach the
    values of ``mat1`` (a CSR gradient of its pattern) and ``mat2``."""
    if reduce not in _REDUCTIONS:
        if reduce == "prod":
            raise RuntimeError("sparse_mm_reduce: reduce type of prod has not been enabled.")
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    if not (isinstance(mat1, Tensor) and layout_name(mat1.layout) == "SparseCsr"):
        raise NotImplementedError(
            "sparse.mm with reduce: mat1 must be a sparse CSR tensor (PyTorch implements the "
            f"reduction for CSR only), got {getattr(mat1, 'layout', type(mat1).__name__)}"
        )
    _check_matrix(mat1, "sparse.mm")
    _products.check_operands(mat1, mat2, "sparse.mm")
    from ..creation import arange, zeros

    rows = arange(mat1.shape[0], device=mat1.device).repeat_interleave(mat1.crow_indices().diff())
    products = mat1.values().unsqueeze(-1) * mat2[mat1.col_indices()]
    out = zeros(mat1.shape[0], mat2.shape[1], dtype=products.dtype, device=products.device)
    where = rows.unsqueeze(-1).expand(products.shape)
    return out.scatter_reduce(0, where, products, _REDUCTIONS[reduce], include_self=False)


@names_node("SparseAddmmBackward0")
def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` with a sparse ``mat1`` (``torch.sparse.addmm``)."""
    if not is_compressed(mat1):
        return _functions.addmm(mat, mat1, mat2, beta=beta, alpha=alpha)
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    return product + (mat if beta == 1 else mat * beta)
