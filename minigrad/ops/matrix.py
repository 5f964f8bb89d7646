"""Matrix helpers composed from primitives: diagonals (diag, diagonal, diag_embed, trace),
tensordot, kron, cross, block_diag, the fused multiply-adds (addmm, baddbmm, addbmm) and
pairwise distances (cdist)."""

from __future__ import annotations

import math

from .. import dtypes
from ..autograd import forward_ad
from ..autograd.graph import named_as, names_node
from ..backend import DimensionError
from ._size import as_int
from .base import (
    autocast_op,
    coefficient,
    first_order_only,
    normalize_dim,
    on_input_device,
    refuse_dtype,
    tensor_args,
)
from .complex import real_only
from .elementwise import promote, where
from .indexing import IndexAdd
from .joining import cat, pad, stack
from .linalg import matmul
from .movement import Diagonal, broadcast_tensors
from .reduce import norm


def _diagonal_index(xp, rows: int, cols: int, offset: int):
    n = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    r = xp.arange(n, dtype="int64") + max(-offset, 0)
    c = xp.arange(n, dtype="int64") + max(offset, 0)
    return r, c


@on_input_device
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the 2-D slices over ``dim1`` and ``dim2``, as the last dim of the result
    (``offset`` > 0 above the main diagonal): a view, as PyTorch's, so
    ``A.diagonal().add_(lam)`` changes ``A``.

    Example:
        >>> minigrad.arange(9.0).reshape(3, 3).diagonal()  # tensor([0., 4., 8.])
    """
    if input.ndim < 2:
        raise DimensionError(f"diagonal(): input must have at least 2 dimensions, got {input.ndim}")
    d1 = normalize_dim(dim1, input.ndim, "diagonal")
    d2 = normalize_dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): dim1 and dim2 cannot be identical, got {dim1} and {dim2}")
    return Diagonal(as_int(offset, "diagonal", "offset"), d1, d2)(input)


_diagonal_of = diagonal  # diag's argument ``diagonal`` hides the function inside diag


@on_input_device
@names_node("DiagEmbedBackward0")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (at ``dim1``, ``dim2`` of the result) whose ``offset`` diagonal is the last dim
    of ``input``; zeros elsewhere.

    Example:
        >>> minigrad.diag_embed(minigrad.tensor([[1.0, 2.0]])).shape  # (1, 2, 2)
    """
    if input.ndim == 0:
        raise DimensionError("diag_embed(): input must have at least 1 dimension")
    ndim = input.ndim + 1
    d1 = normalize_dim(dim1, ndim, "diag_embed")
    d2 = normalize_dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(
            f"diag_embed(): dim1 and dim2 cannot be identical, got {dim1} and {dim2}"
        )
    m = input.shape[-1] + abs(offset)
    r, c = _diagonal_index(input.device.xp, m, m, offset)
    out = IndexAdd(tuple(input.shape[:-1]) + (m, m), (Ellipsis, r, c), False)(input)
    order = [None] * ndim
    order[d1], order[d2] = ndim - 2, ndim - 1
    rest = iter(range(ndim - 2))
    return out.permute(*[o if o is not None else next(rest) for o in order])


@names_node(
    lambda input, diagonal=0: "DiagEmbedBackward0" if input.ndim == 1 else "DiagonalBackward0_copy"
)
def diag(input, diagonal=0):
    """A 1-D input becomes a square matrix with it on the ``diagonal``; a 2-D input gives
    that diagonal as a vector."""
    diagonal = as_int(diagonal, "diag", "diagonal")
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return _diagonal_of(input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


@autocast_op("trace")
@names_node("TraceBackward0")
def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    if input.dtype is dtypes.bool:  # (PyTorch refuses the dtype before the rank)
        refuse_dtype(dtypes.bool, "trace", "trace")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


def tensordot(a, b, dims=2):
    """Sum products over ``dims``: an int (the last ``dims`` of ``a`` with the first of ``b``)
    or two lists of dims. Result: a's free dims, then b's.

    Example:
        >>> minigrad.tensordot(minigrad.ones(2, 3, 4), minigrad.ones(3, 4, 5)).shape  # (2, 5)
    """
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("tensordot: both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    dims_a = [normalize_dim(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [normalize_dim(d, b.ndim, "tensordot") for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size "
                f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} in dim {db}"
            )
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = math.prod(a.shape[d] for d in dims_a)
    left = a.permute(*free_a, *dims_a).reshape(-1, k)
    right = b.permute(*dims_b, *free_b).reshape(k, -1)
    out_shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    return matmul(*promote(left, right)).reshape(out_shape)


def _fma(input, product, beta, alpha):
    alpha, beta = coefficient(alpha, input, product), coefficient(beta, input, product)
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # input is ignored entirely (its NaNs too), as PyTorch
        return scaled.expand(*_broadcast(input.shape, scaled.shape))
    return (input if beta == 1 else input * beta) + scaled


def _fused(input, first, second, beta, alpha, product):
    """``beta * input + alpha * product(first, second)``; in float16 or bfloat16 computed in
    float32 and rounded once, as PyTorch's addmm/baddbmm/addbmm kernels (not once for the
    product and again for the sum)."""
    low = first.dtype
    if low not in (dtypes.float16, dtypes.bfloat16):
        return _fma(input, product(first, second), beta, alpha)
    wide = input.float() if input.dtype is low else input
    return _fma(wide, product(first.float(), second.float()), beta, alpha).to(low)


def _broadcast(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def _expect(t, ndim, op, name):
    if t.ndim != ndim:
        raise DimensionError(f"{op}: {name} must be a {ndim}D tensor, got {t.ndim}D")


@autocast_op("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices (input broadcasts)."""
    _expect(mat1, 2, "addmm", "mat1"), _expect(mat2, 2, "addmm", "mat2")
    return named_as(_fused(input, mat1, mat2, beta, alpha, matmul), "AddmmBackward0")


@autocast_op("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` for batches of matrices (b, n, m)·(b, m, p)."""
    _expect(batch1, 3, "baddbmm", "batch1"), _expect(batch2, 3, "baddbmm", "batch2")
    return named_as(_fused(input, batch1, batch2, beta, alpha, matmul), "BaddbmmBackward0")


@autocast_op("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * Σ_b batch1[b] @ batch2[b]``: one (n, p) result."""
    _expect(batch1, 3, "addbmm", "batch1"), _expect(batch2, 3, "addbmm", "batch2")
    b, n, m = batch1.shape
    if b and batch1.dtype in (dtypes.float16, dtypes.bfloat16):  # PyTorch's: an addmm per
        out = input  # batch into the low-precision result, each rounded once
        for k in range(b):
            out = _fused(out, batch1[k], batch2[k], beta if k == 0 else 1, alpha, matmul)
        return named_as(out, "AddbmmBackward0")
    left = batch1.permute(1, 0, 2).reshape(n, b * m)
    out = _fma(input, matmul(left, batch2.reshape(b * m, -1)), beta, alpha)
    return named_as(out, "AddbmmBackward0")


@real_only
@names_node(
    lambda x1, x2, p=2.0, compute_mode=None: (
        "ViewBackward0" if _cdist_uses_mm(x1, x2, p, compute_mode) else "CdistBackward0"
    )
)
@autocast_op("cdist")
def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distance between each row of ``x1`` (…, P, M) and each row of ``x2``
    (…, R, M): a (…, P, R) tensor. Computed from the differences (exact, no ‖a‖²+‖b‖²-2ab).

    Example:
        >>> minigrad.cdist(minigrad.zeros(2, 3), minigrad.ones(4, 3)).shape  # (2, 4)

    Its gradient is differentiable where PyTorch's is: p = 2 computed through matrix products
    (``compute_mode="use_mm_for_euclid_dist"``, or by default when P or R is over 25);
    otherwise differentiating it raises, as PyTorch (``the derivative for '_cdist_backward' is
    not implemented.``).
    """
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    mm = _cdist_uses_mm(x1, x2, p, compute_mode)
    if dtypes.bfloat16 in (x1.dtype, x2.dtype) and not mm:  # (PyTorch: no bfloat16 kernel)
        raise NotImplementedError(
            "\"cdist\" not implemented for 'BFloat16' (as in PyTorch): convert with .float()"
        )
    if not mm:
        x1 = first_order_only(x1, "_cdist_backward", "CdistBackwardBackward0")
        x2 = first_order_only(x2, "_cdist_backward", "CdistBackwardBackward0")
    differences = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if x1.shape[-1] == 0:  # no features: every distance is 0 (PyTorch's, any p)
        return differences.sum(-1)
    if p == math.inf:
        return distance_inf(differences)
    return norm(differences, p, dim=-1)


def distance_inf(differences):
    """max |d| over the last dim of ``differences`` (x1 - x2), with the gradient of PyTorch's
    cdist and pdist for p = inf: sign(d) on *every* feature where |d| reaches the distance
    (ties are not shared out, as ``vector_norm``'s and ``amax``'s are). The value is the
    detached maximum plus a sum of exact zeros that carries that gradient; an infinite
    distance gets none (PyTorch's is NaN there)."""
    size = differences.abs()
    distance = norm(differences.detach(), math.inf, dim=-1)
    if not (size.requires_grad or forward_ad.active):
        return distance
    reaching = (size == distance.unsqueeze(-1)) & size.isfinite()
    return distance + where(reaching, size - size.detach(), 0.0).sum(-1)


def _cdist_uses_mm(x1, x2, p, compute_mode) -> bool:
    """Whether PyTorch computes this cdist through matrix products (a twice-differentiable
    composite) rather than its own kernel, whose backward it does not differentiate."""
    if p != 2 or compute_mode == "donot_use_mm_for_euclid_dist":
        return False
    return compute_mode == "use_mm_for_euclid_dist" or max(x1.shape[-2], x2.shape[-2]) > 25


@names_node("UnsafeViewBackward0")
def kron(input, other):
    """The Kronecker product: block (i, j) of the result is ``input[i, j] * other``, for any
    number of dims (the shorter shape padded with leading ones)."""
    n = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.ndim) + tuple(other.shape))
    spread_a = [s for size in a.shape for s in (size, 1)]
    spread_b = [s for size in b.shape for s in (1, size)]
    product = a.reshape(spread_a) * b.reshape(spread_b)
    return product.reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


@names_node("LinalgCrossBackward0")
def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (by default the first dim of size 3, as
    ``torch.cross``; ``linalg.cross`` uses the last). Operands of one rank and one dtype, not
    bool, as PyTorch checks them (in its order and words)."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.dtype is dtypes.bool:
        refuse_dtype(dtypes.bool, "cross", "cross", bools_only=True)
    if input.dtype is not other.dtype:
        names = dtypes.scalar_type_name(input.dtype), dtypes.scalar_type_name(other.dtype)
        raise RuntimeError("expected scalar type {} but found {}".format(*names))
    a, b = broadcast_tensors(input, other)
    shape = a.shape
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {list(shape)}")
    d = normalize_dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {d} must have length 3. Got {a.shape[d]} and "
            f"{b.shape[d]}"
        )
    a0, a1, a2 = a.unbind(d)
    b0, b1, b2 = b.unbind(d)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


@names_node("BlockDiagBackward0")
def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D) as blocks on the diagonal of one matrix, zeros elsewhere."""
    blocks = []
    for i, t in enumerate(tensor_args(tensors, "block_diag")):
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                f"{t.ndim} dimensions"
            )
        blocks.append(t.reshape(1, -1) if t.ndim < 2 else t)
    if not blocks:
        raise RuntimeError("block_diag: expected at least one tensor")
    blocks = list(promote(*blocks)) if len({b.dtype for b in blocks}) > 1 else blocks
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        right = width - left - b.shape[1]
        rows.append(pad(b, (left, right)))
        left += b.shape[1]
    return cat(rows, 0)
