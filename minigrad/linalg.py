"""``minigrad.linalg``, as ``torch.linalg``: norms, inverse, determinants, solve and the
decompositions (Cholesky, QR, eigh, SVD), differentiable (twice) where PyTorch's are.

Example:
    >>> a = minigrad.randn(3, 3, dtype=minigrad.float64) + 3 * minigrad.eye(3, dtype=minigrad.float64)
    >>> x = minigrad.linalg.solve(a, minigrad.ones(3, dtype=minigrad.float64))
"""

from __future__ import annotations

import math

import numpy as np  # host-side constants only (finfo)

from . import _linalg_ex as _ex
from . import dtypes, return_types
from ._warnings import warn_user
from .autograd import grad_mode
from .autograd.graph import names_node
from .ops import decompositions as _d
from .ops.base import (
    accepts_axis,
    autocast_op,
    check_bool_arg,
    constant,
    normalize_dim,
    on_input_device,
    refuse_dtype,
    tensor_args,
)
from .ops.decompositions import LinAlgError
from .ops.indexing import same_dtype
from .ops.joining import cat
from .ops.linalg import matmul
from .ops.matrix import cross as _cross
from .ops.reduce import norm as _norm
from .ops.reduce import norm_input
from .tensor import Tensor

SlogdetResult = return_types.linalg_slogdet
QRResult = return_types.linalg_qr
EighResult = return_types.linalg_eigh
EigResult = return_types.linalg_eig
SVDResult = return_types.linalg_svd

__all__ = [
    "cholesky",
    "det",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_rank",
    "multi_dot",
    "norm",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "vector_norm",
]


def _square(
    a, op: str, matmul_only: bool = False, kernel: str | None = None, integers: bool = False
):
    """Check for batches of square float or complex matrices (the ops that take no complex
    numbers refuse them themselves); ``matmul_only`` ops (built from matmuls, as matrix_power
    and matrix_exp) accept float16/bfloat16, as PyTorch, and with ``integers`` integer and
    bool matrices too (matrix_power with n >= 0)."""
    if not isinstance(a, Tensor):
        raise TypeError(f"linalg.{op}: expected a Tensor, got {type(a).__name__}")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{op}: A must be batches of square matrices, but they are "
            f"{' by '.join(map(str, a.shape[-2:])) if a.ndim >= 2 else f'{a.ndim}-D'}"
        )
    if kernel is not None:  # (PyTorch's kernel refuses other dtypes: NotImplementedError)
        refuse_dtype(a.dtype, kernel, f"linalg.{op}")
    if not (a.dtype.is_floating_point or a.dtype.is_complex or integers):
        raise RuntimeError(
            f"linalg.{op}: Expected a floating point or complex tensor as input. Got {a.dtype}"
        )
    if not matmul_only:
        _full_precision(a, op)


# PyTorch's CPU kernel under each decomposition that refuses float16 and bfloat16 by name
# (NotImplementedError); the others (inv, slogdet) refuse with a RuntimeError of their own.
_LOW_PRECISION_KERNELS = {
    "solve_triangular": "triangular_solve_cpu",
    "cholesky": "cholesky_cpu",
    "cholesky_ex": "cholesky_cpu",
    "qr": "geqrf_cpu",
    "eigh": "linalg_eigh_cpu",
    "eig": "linalg_eig_out_cpu",
    "svd": "linalg_svd_cpu",
    "solve": "lu_cpu",
    "solve_ex": "lu_cpu",
}


# PyTorch's words where a function checks the dtype itself (RuntimeError) in other words than
# "Low precision dtypes not supported"; {name} is PyTorch's name of the dtype.
_LOW_PRECISION_WORDS = {
    "lstsq": "This function doesn't handle types other than float and double (got {name})",
    "matrix_rank": "This function doesn't handle types other than float and double (got {name})",
    "pinv": "linalg.pinv({name}{{{shape}}}): expected a tensor with 2 or more dimensions of float, "
    "double, cfloat or cdouble types",
}


def _full_precision(a, op: str):
    """Decompositions refuse float16 and bfloat16, as PyTorch's CPU kernels do (LAPACK has
    neither type; computing in float32 would hide how little precision the input has): the
    exception type and words are PyTorch's for ``op``."""
    if a.dtype.itemsize == 2 and a.dtype.is_floating_point:
        kernel = _LOW_PRECISION_KERNELS.get(op)
        if kernel is not None:
            refuse_dtype(a.dtype, kernel, f"linalg.{op}", low_precision=True)
        name = dtypes.scalar_type_name(a.dtype)
        words = _LOW_PRECISION_WORDS.get(op, "Low precision dtypes not supported. Got {name}")
        raise RuntimeError(
            f"linalg.{op}: {words.format(name=name, shape=list(a.shape))}; convert the input "
            "with .float() first"
        )


def _matrix(a, op: str):
    if a.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if not (a.dtype.is_floating_point or a.dtype.is_complex):
        raise RuntimeError(
            f"linalg.{op}: Expected a floating point or complex tensor as input. Got {a.dtype}"
        )


@autocast_op("linalg_inv")
@on_input_device
@names_node("LinalgInvExBackward0")
def inv(A):  # noqa: N803 - PyTorch's argument name
    """The inverse of each square matrix in ``A`` (…, n, n); an error if one is singular."""
    _square(A, "inv")
    try:
        return _d.inverse(A)
    except LinAlgError:
        _ex.raise_for_info(_ex.lu_info(A)._data, "linalg.inv", _ex.singular_inverse)
        raise


@names_node("LinalgDetBackward0")
def det(A):  # noqa: N803
    """The determinant of each square matrix in ``A`` (…, n, n), as ``sign · exp(log|det|)``
    (no overflow on the way). The gradient is PyTorch's, singular ``A`` included: zero there
    in a plain backward, the cofactor matrix under ``create_graph`` (see
    :class:`minigrad.ops.decompositions.Det`). Float16/bfloat16 ``A`` raises PyTorch's
    NotImplementedError (its LU kernel's)."""
    if isinstance(A, Tensor) and A.dtype.is_floating_point and A.dtype.itemsize == 2:
        refuse_lu_dtype(A, "linalg.det")
    _square(A, "det")
    return _d.Det()(A)


@on_input_device
@names_node("LinalgSlogdetBackward0")
def slogdet(A):  # noqa: N803
    """``(sign, logabsdet)`` of the determinants: ``det = sign * exp(logabsdet)``, without
    overflow. For complex ``A`` the sign is a complex number of modulus 1 and carries a
    gradient too; for real ``A`` only ``logabsdet`` does (the sign is locally constant)."""
    _square(A, "slogdet")
    op = _d.Slogdet()
    sign, logabsdet = op.unpack(op(A))
    return SlogdetResult(sign, logabsdet.real if A.is_complex() else logabsdet)


@autocast_op("linalg_solve")
@on_input_device
@names_node("LinalgSolveExBackward0")
def solve(A, B, *, left=True):  # noqa: N803
    """The ``X`` with ``A @ X = B`` (or ``X @ A = B`` when ``left=False``); ``B`` is a batch
    of matrices (…, n, k) or of vectors (…, n). Batch dims broadcast."""
    _square(A, "solve")
    if B.ndim == 0:  # (PyTorch's checks, in its order and words)
        raise RuntimeError("linalg.solve: The input tensor B must have at least 1 dimension.")
    same_dtype(
        A,
        B,
        "linalg.solve: Expected A and B to have the same dtype, but found A of type {self} and "
        "B of type {src} instead",
    )
    if not left:
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if B.shape[-1 if vector else -2] != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({'x'.join(map(str, A.shape[-2:]))} and {'x'.join(map(str, B.shape))})"
        )
    try:
        if vector:
            return _d.Solve()(A, B.unsqueeze(-1)).squeeze(-1)
        return _d.Solve()(A, B)
    except LinAlgError:
        _ex.raise_for_info(_ex.lu_info(A)._data, "torch.linalg.solve", _ex.singular_solve)
        raise


@on_input_device
@names_node("LinalgSolveTriangularBackward0")
def solve_triangular(A, B, *, upper, left=True, unitriangular=False):  # noqa: N803
    """The ``X`` with ``A @ X = B`` (``X @ A = B`` when ``left=False``) for triangular ``A``:
    only its ``upper`` or lower triangle is read, and with ``unitriangular`` its diagonal is
    taken as ones. ``B`` is a batch of matrices; batch dims broadcast. Differentiable in both
    (the other triangle of ``A`` gets no gradient).

    Example:
        >>> L = minigrad.linalg.cholesky(K)
        >>> v = minigrad.linalg.solve_triangular(L, B, upper=False)    # L⁻¹ B
    """
    _square(A, "solve_triangular", kernel="triangular_solve_cpu")
    if B.ndim < 2:
        raise RuntimeError(
            "linalg.solve_triangular: The input tensor B must have at least 2 dimensions."
        )
    if B.shape[-2 if left else -1] != A.shape[-1]:
        raise RuntimeError(
            f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, A.shape[-2:]))} and "
            f"{'x'.join(map(str, B.shape[-2:]))})"
        )
    if B.dtype != A.dtype and B.dtype.is_floating_point and A.dtype.is_floating_point:
        # PyTorch's kernel solves in A's dtype (float64 B with float32 A: a float32 result)
        B = B.to(A.dtype)  # noqa: N806
    if unitriangular:  # the strict triangle and ones (no diag_embed: vmap batches this)
        eye = constant(A.device.xp.eye(A.shape[-1], dtype=A._data.dtype), A.device)
        tri = (A.triu(1) if upper else A.tril(-1)) + eye
    else:
        tri = A.triu() if upper else A.tril()
    return solve(tri, B) if left else solve(tri.mT, B.mT).mT


@autocast_op("linalg_cholesky")
@on_input_device
@names_node("LinalgCholeskyExBackward0")
def cholesky(A, *, upper=False):  # noqa: N803
    """The lower-triangular ``L`` with ``A = L Lᵀ`` for symmetric positive-definite ``A``
    (its lower triangle is read); ``upper=True`` gives ``U = Lᵀ``."""
    _square(A, "cholesky")
    try:
        low = _d.Cholesky()(A)
    except LinAlgError:
        _ex.cholesky_failed(A)
    return low.mT if upper else low


def _differentiable(a) -> bool:
    return a.requires_grad and grad_mode.is_grad_enabled()


@autocast_op("linalg_qr")
@on_input_device
@names_node("LinalgQrBackward0")
def qr(A, mode="reduced"):  # noqa: N803
    """``(Q, R)`` with ``A = Q R``, Q orthonormal columns, R upper triangular.

    ``mode``: ``'reduced'`` (Q (…, m, k), R (…, k, n), k = min(m, n)), ``'complete'``
    (Q (…, m, m)) or ``'r'`` (an empty Q). Differentiable in ``'reduced'`` mode, and in
    ``'complete'`` when m ≤ n (as PyTorch).
    """
    _matrix(A, "qr")
    _full_precision(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
            "(default), 'r', or 'complete'"
        )
    m, n = A.shape[-2:]
    by_op = mode == "reduced" or (mode == "complete" and m <= n)
    if _differentiable(A) and not by_op:
        raise NotImplementedError(
            f"linalg.qr: the derivative with mode='{mode}' and A of shape {list(A.shape)} "
            "(PyTorch has none either); use mode='reduced'"
        )
    if by_op:  # the op also serves tensors that need no grad (and batched ones, under vmap)
        op = _d.QR()  # 'complete' with m <= n is the reduced factorisation
        q, r = op.unpack(op(A))
        return QRResult(q, r)
    xp = A.device.xp
    q, r = xp.linalg.qr(A._data, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        q = xp.zeros((0,), dtype=A._data.dtype)
    return QRResult(constant(q, A.device), constant(r, A.device))


@autocast_op("linalg_eigh")
@on_input_device
@names_node("LinalgEighBackward0")
def eigh(A, UPLO="L"):  # noqa: N803
    """``(eigenvalues, eigenvectors)`` of symmetric or Hermitian matrices, eigenvalues
    ascending (real also for complex ``A``); only the ``UPLO`` ('L' or 'U') triangle is read.
    Gradients need distinct eigenvalues (and, for complex ``A``, a loss that does not depend on
    the eigenvectors' phases)."""
    _square(A, "eigh", kernel="linalg_eigh_cpu")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    op = _d.Eigh(UPLO)
    w, v = op.unpack(op(A))
    return EighResult(w.real if A.is_complex() else w, v)


@autocast_op("linalg_eig")
@on_input_device
@names_node("LinalgEigBackward0")
def eig(A):  # noqa: N803
    """``(eigenvalues, eigenvectors)`` of general square matrices, complex (complex64 for
    float32 input, complex128 for float64), eigenvectors of norm 1, as ``torch.linalg.eig``.
    Gradients need distinct eigenvalues and a loss that does not depend on the eigenvectors'
    phases (which are arbitrary), as PyTorch's."""
    _square(A, "eig")
    _full_precision(A, "eig")
    op = _d.Eig(dtypes.to_complex(A.dtype).numpy)
    w, v = op.unpack(op(A))
    return EigResult(w, v)


@autocast_op("linalg_eigvals")
@names_node("LinalgEigBackward0")
def eigvals(A):  # noqa: N803
    """The eigenvalues of general square matrices, complex (see :func:`eig`)."""
    return eig(A).eigenvalues


@autocast_op("linalg_eigvalsh")
@names_node("LinalgEighBackward0")
def eigvalsh(A, UPLO="L"):  # noqa: N803
    """The eigenvalues of symmetric matrices, ascending."""
    return eigh(A, UPLO).eigenvalues


@autocast_op("linalg_svd")
@on_input_device
@names_node("LinalgSvdBackward0")
def svd(A, full_matrices=True):  # noqa: N803
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending. ``full_matrices=True`` (the
    default, as PyTorch) pads U and Vh to square; those extra columns carry no gradient.
    Gradients need distinct non-zero singular values, and a loss that does not depend on the
    signs (for complex ``A``, the phases) of the singular vectors."""
    check_bool_arg(full_matrices, "linalg_svd", "full_matrices", 1)
    _matrix(A, "svd")
    _full_precision(A, "svd")
    op = _d.SVD()
    u, s, vh = op.unpack(op(A))
    m, n = A.shape[-2:]
    if full_matrices and m != n:
        from ._linalg_ex import _like

        xp = A.device.xp
        fu, _, fvh = xp.linalg.svd(A._all_elements(), full_matrices=True)  # (vmap: every sample)
        k = min(m, n)
        if m > k:
            u = cat([u, _like(A, xp.ascontiguousarray(fu[..., :, k:]))], -1)
        if n > k:
            vh = cat([vh, _like(A, xp.ascontiguousarray(fvh[..., k:, :]))], -2)
    return SVDResult(u, s.real if A.is_complex() else s, vh)


@autocast_op("linalg_svdvals")
@names_node("LinalgSvdBackward0")
def svdvals(A):  # noqa: N803
    """The singular values of ``A``, descending."""
    return svd(A, full_matrices=False).S


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements by default): 2, 1, inf,
    -inf, 0 or any real number.

    Example:
        >>> minigrad.linalg.vector_norm(minigrad.tensor([3.0, 4.0]))  # tensor(5.)
    """
    x = norm_input(x, dtype)  # (complex: the real norm of the magnitudes)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return _norm(x, ord, dim, keepdim)


def _matrix_norm_node(A, ord="fro", dim=(-2, -1), keepdim=False, **kwargs) -> str:  # noqa: N803
    """PyTorch's last node of a matrix norm: the vector norm for 'fro'; the singular values'
    sum (nuc), largest (2) or smallest (-2), moved back into place with ``keepdim``; the
    largest or smallest absolute sum for ±1 and ±inf."""
    if ord == "fro":
        return "LinalgVectorNormBackward0"
    if ord in ("nuc", 2, -2) and keepdim:
        return "PermuteBackward0"
    if ord == "nuc":
        return "SumBackward1"
    return "AmaxBackward0" if ord > 0 else "AminBackward0"


@on_input_device
@names_node(_matrix_norm_node)
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: N803
    """The matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'`` (sum of singular
    values), 2 / -2 (largest / smallest singular value), 1 / -1 (max / min column abs-sum),
    inf / -inf (max / min row abs-sum)."""
    if dtype is not None:
        A = A.to(dtype)  # noqa: N806
    _matrix(A, "matrix_norm")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    d0, d1 = (normalize_dim(d, A.ndim, "matrix_norm") for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if ord == "fro":
        return _norm(A, 2, (d0, d1), keepdim)
    rest = [d for d in range(A.ndim) if d not in (d0, d1)]
    moved = A.permute(*rest, d0, d1)
    if ord in ("nuc", 2, -2):
        _full_precision(A, "matrix_norm")
        s = svdvals(moved)
        out = s.sum(-1) if ord == "nuc" else _largest(s) if ord == 2 else s.amin(-1)
    elif ord in (1, -1):
        sums = moved.abs().sum(-2)
        out = _largest(sums) if ord == 1 else sums.amin(-1)
    elif ord in (math.inf, -math.inf):
        sums = moved.abs().sum(-1)
        out = _largest(sums) if ord > 0 else sums.amin(-1)
    else:
        raise RuntimeError(
            f"linalg.matrix_norm: Order {ord} not supported (valid: 'fro', 'nuc', 2, -2, 1, -1, "
            "inf, -inf)"
        )
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out


def _largest(values):
    """The largest of the non-negative ``values`` along the last dim; 0 where it is empty, as
    PyTorch's matrix norms of an empty matrix (the smallest of none raises, as its amin)."""
    return values.amax(-1) if values.shape[-1] else values.sum(-1)


@accepts_axis
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: N803
    """A vector or matrix norm, chosen as PyTorch does: by ``dim`` (an int: vector, a
    2-tuple: matrix) or, without ``dim``, by ``A.ndim`` when ``ord`` is given (1-D: vector,
    2-D: matrix); with neither, the 2-norm of all elements."""
    if dtype is not None:
        A = A.to(dtype)  # noqa: N806
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
        raise RuntimeError(
            f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dim}"
        )
    if ord is None:
        return vector_norm(A, 2, None, keepdim)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim)
    raise RuntimeError(
        f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D"
    )


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (the last by default), broadcasting."""
    return _cross(input, other, dim)


def matrix_power(A, n):  # noqa: N803
    """``A`` multiplied by itself ``n`` times (the inverse's powers for negative ``n``;
    the identity for 0), by repeated squaring."""
    _square(A, "matrix_power", matmul_only=n >= 0, integers=n >= 0)
    if n >= 2:  # (PyTorch's integer matmuls; no bool one)
        refuse_dtype(A.dtype, "addmm_impl_cpu_", "linalg.matrix_power", bools_only=True)
    power = inv(A) if n < 0 else A
    n, result = abs(n), None
    while n:
        if n & 1:
            result = power if result is None else matmul(result, power)
        n >>= 1
        if n:
            power = matmul(power, power)
    if result is None:
        eye = constant(A.device.xp.eye(A.shape[-1], dtype=A._data.dtype), A.device)
        return eye.expand(*A.shape).clone()
    return result.clone() if result is A else result  # (n = 1: a new tensor, as PyTorch's)


def multi_dot(tensors):
    """The product of a chain of matrices, multiplied in the order with the fewest scalar
    multiplications, as ``torch.linalg.multi_dot``: the first tensor may be 1-D (a row vector)
    and the last 1-D (a column vector), and the result drops those dimensions; the others must
    be 2-D.

    Example:
        >>> minigrad.linalg.multi_dot([minigrad.ones(2, 3), minigrad.ones(3, 4), minigrad.ones(4)])
        tensor([12., 12.])
    """
    if isinstance(tensors, Tensor):  # (its rows would be read as the chain of matrices)
        raise TypeError(
            "linalg_multi_dot(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            "Tensor"
        )
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        ends = i in (0, len(tensors) - 1)
        if t.ndim != 2 and not (ends and t.ndim == 1):
            which = "the first tensor" if i == 0 else "the last tensor" if ends else f"tensor {i}"
            allowed = "1D or 2D" if ends else "2D"
            raise RuntimeError(f"multi_dot(): {which} must be {allowed} but got {t.ndim}D")
    row, column = tensors[0].ndim == 1, tensors[-1].ndim == 1
    chain = [tensors[0].unsqueeze(0) if row else tensors[0], *tensors[1:-1]]
    chain.append(tensors[-1].unsqueeze(1) if column else tensors[-1])
    for i, (a, b) in enumerate(zip(chain, chain[1:])):
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                f"{list(tensors[i + 1].shape)} cannot be multiplied"
            )
    split = _chain_order([m.shape[0] for m in chain] + [chain[-1].shape[1]])
    out = _chain_product(chain, split, 0, len(chain) - 1)
    if row:
        out = out.squeeze(0)
    return out.squeeze(-1) if column else out


def _chain_order(dims: list) -> dict:
    """Where to split each sub-chain (i, j) of matrices dims[k] x dims[k + 1] so that the whole
    product takes the fewest scalar multiplications (the textbook dynamic programme)."""
    n = len(dims) - 1
    cost = {(i, i): 0 for i in range(n)}
    split = {}
    for length in range(2, n + 1):
        for i in range(n - length + 1):
            j = i + length - 1
            cost[i, j], split[i, j] = min(
                (cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                for k in range(i, j)
            )
    return split


def _chain_product(chain, split, i, j):
    if i == j:
        return chain[i]
    k = split[i, j]
    return matmul(_chain_product(chain, split, i, k), _chain_product(chain, split, k + 1, j))


def chain_matmul(*matrices):
    """``torch.chain_matmul`` (deprecated there too): :func:`multi_dot` of 2-D matrices."""

    warn_user(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. "
        "Use torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather "
        "than multiple parameters.",
        UserWarning,
    )
    for i, m in enumerate(tensor_args(matrices, "chain_matmul")):
        if m.ndim != 2:
            raise RuntimeError(f"chain_matmul(): tensor {i} must be 2D but got {m.ndim}D")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


# -- branch methods: matrix_exp, pinv, lstsq ---------------------------------------------------
LstsqResult = return_types.linalg_lstsq


def _taylor_degree(norm: float, array_dtype) -> int:
    """The fewest Taylor terms (at most 18) whose next term's bound ``norm^k / k!`` is below
    the dtype's rounding: 9 products in float32 and 15 in float64 for a norm of 1/2, not 17
    (each product is a node that backward walks: a circuit of 2x2 rotations ran 2.7x faster)."""
    if not math.isfinite(norm):
        return 18
    eps = float(np.finfo(array_dtype).eps)  # (a complex dtype's is its real part's)
    bound, k = norm, 1
    while k < 18 and bound >= eps * 0.25:
        k += 1
        bound *= norm / k
    return k


@on_input_device
@names_node("LinalgMatrixExpBackward0")
def matrix_exp(A):  # noqa: N803
    """``exp(A)`` of square matrices by scaling and squaring a degree-18 Taylor polynomial
    (differentiable through its matmuls): ``A / 2^s`` has norm below 1/2, then ``s`` squarings."""
    _square(A, "matrix_exp", matmul_only=True)
    if A.dtype.itemsize == 2:  # float16/bfloat16: the squarings would compound the rounding
        return matrix_exp(A.float()).to(A.dtype)
    if A.numel() == 0:
        return A.clone()
    xp = A.device.xp  # the largest 1-norm of the batch (of every sample under vmap)
    size = xp.abs(A._all_elements()).sum(-2).max()
    # s is read on the host, not the norm: a captured step replays while s is unchanged
    with np.errstate(all="ignore"):
        s = xp.where((size > 0.5) & xp.isfinite(size), xp.ceil(xp.log2(size / 0.5)), 0.0)
    s = int(s)
    x = A / (2.0**s)
    eye = constant(A.device.xp.eye(A.shape[-1], dtype=A._data.dtype), A.device)
    result, term = eye + x, x
    # the degree from the bound 1/2 on x's norm, not the norm: a captured step replays it
    for k in range(2, _taylor_degree(0.5, A._data.dtype) + 1):
        term = matmul(term, x) / k
        result = result + term
    for _ in range(s):
        result = matmul(result, result)
    return result


def _positional_tolerance(op: str, name: str, value, atol, rtol, hermitian, relative: bool):
    """PyTorch's older overload ``op(A, tol, hermitian=False)`` (``pinv``'s ``rcond``, a
    relative tolerance; ``matrix_rank``'s ``tol``, an absolute one) as ``(atol, rtol)``; it
    cannot be mixed with ``atol=``/``rtol=``. Tolerance tensors get a trailing dim, so that
    they broadcast with the batch of singular values."""
    check_bool_arg(hermitian, op, "hermitian")
    if value is not None:
        if atol is not None or rtol is not None:
            raise TypeError(f"{op}() takes either '{name}' or atol=/rtol=, not both")
        atol, rtol = (0.0, value) if relative else (value, 0.0)
    # a tolerance tensor broadcasts with A's batch dims: one value per matrix
    return tuple(t.unsqueeze(-1) if isinstance(t, Tensor) and t.ndim else t for t in (atol, rtol))


@names_node("LinalgPinvBackward0")
def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):  # noqa: N803
    """The Moore-Penrose pseudo-inverse from the SVD, singular values below
    ``max(atol, rtol * largest)`` treated as zero (``rtol`` defaults to eps·max(m, n) when
    ``atol`` is not given, as PyTorch). ``pinv(A, rcond)``: PyTorch's older overload,
    ``rtol=rcond, atol=0``. Gradients need distinct non-zero singular values."""
    atol, rtol = _positional_tolerance("pinv", "rcond", rcond, atol, rtol, hermitian, True)
    _matrix(A, "pinv")
    _full_precision(A, "pinv")
    u, s, vh = svd(A, full_matrices=False)
    m, n = A.shape[-2:]
    if rtol is None:
        eps = float(np.finfo(A._data.dtype).eps)
        rtol = eps * max(m, n) if atol is None or atol <= 0 else 0.0
    cutoff = s.detach().amax(-1, keepdim=True) * rtol if s.shape[-1] else s.detach()
    if atol is not None:
        cutoff = cutoff.clamp(min=atol)
    keep = s > cutoff
    inv_s = (keep * s + (~keep)).reciprocal() * keep
    return matmul(vh.mH * inv_s.unsqueeze(-2), u.mH)


@autocast_op("linalg_matrix_rank")
def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):  # noqa: N803
    """The numerical rank of ``A`` (batched over leading dims, int64): how many singular values
    (absolute eigenvalues with ``hermitian``) exceed ``max(atol, rtol * largest)``, with
    ``pinv``'s defaults (``rtol`` eps·max(m, n) when ``atol`` is not given), as PyTorch.
    ``matrix_rank(A, tol)``: PyTorch's older overload, ``atol=tol, rtol=0``.

    Example:
        >>> minigrad.linalg.matrix_rank(minigrad.ones(3, 3))  # tensor(1)
    """
    atol, rtol = _positional_tolerance("matrix_rank", "tol", tol, atol, rtol, hermitian, False)
    _matrix(A, "matrix_rank")
    _full_precision(A, "matrix_rank")
    if A.numel() == 0:  # rank 0, before hermitian's square check (PyTorch's empty shortcut)
        return A.new_zeros(A.shape[:-2], dtype=dtypes.int64)
    with grad_mode.no_grad():
        s = eigvalsh(A).abs() if hermitian else svdvals(A)
        m, n = A.shape[-2:]
        if rtol is None:
            eps = float(np.finfo(A._data.dtype).eps)
            rtol = eps * max(m, n) if atol is None or atol <= 0 else 0.0
        cutoff = s.amax(-1, keepdim=True) * rtol if s.shape[-1] else s
        if atol is not None:
            cutoff = cutoff.clamp(min=atol)
        return (s > cutoff).sum(-1)


@autocast_op("linalg_lstsq")
@names_node("LinalgLstsqBackward0")
def lstsq(A, B, rcond=None, *, driver=None):  # noqa: N803
    """The least-squares solution of ``A X = B`` (the minimum-norm one for rank-deficient
    ``A``). The other fields follow PyTorch's CPU drivers: ``gelsy`` (the default) gives
    ``rank`` only; ``gelsd``/``gelss`` also ``singular_values``, and ``residuals`` (the squared
    residual norms) when ``A`` is tall and of full rank; ``gels`` gives ``residuals`` for tall
    ``A`` and no ``rank`` (it assumes full rank; here rank-deficient ``A`` still gets the
    minimum-norm solution)."""
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError(
            "torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, "
            f"gelss), got {driver!r}"
        )
    _matrix(A, "lstsq")
    _full_precision(A, "lstsq")
    if B.ndim == 0:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    vector = B.ndim == A.ndim - 1
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-2]:
        raise RuntimeError(
            f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got "
            f"{A.shape[-2]} and {rhs.shape[-2]}"
        )
    eps = float(np.finfo(A._data.dtype).eps)
    rcond = eps * max(A.shape[-2:]) if rcond is None else rcond
    solution = matmul(pinv(A, rtol=rcond), rhs)
    with grad_mode.no_grad():
        sv = svdvals(A)
        rank = (sv > sv.amax(-1, keepdim=True) * rcond).sum(-1) if sv.shape[-1] else sv.sum(-1)
    empty = A.new_zeros(0)
    residuals = empty  # (rank is read on the host only for these drivers: vmap runs gelsy)
    if driver in ("gelsd", "gelss", "gels") and A.shape[-2] > A.shape[-1]:
        if driver == "gels" or bool((rank == A.shape[-1]).all()):
            residuals = (matmul(A, solution) - rhs).pow(2).sum(-2)
    solution = solution.squeeze(-1) if vector else solution
    rank = empty.long() if driver == "gels" else rank.long()
    singular_values = sv if driver in ("gelsd", "gelss") else empty
    return LstsqResult(solution, residuals, rank, singular_values)


__all__ += ["lstsq", "matrix_exp", "pinv"]


# -- branch linalg2: LU, the *_ex functions, LinAlgError, Householder products, cond, ... -----
from ._linalg_ex import cholesky_ex, inv_ex, solve_ex  # noqa: E402
from ._linalg_lu import lu, lu_factor, lu_factor_ex, lu_solve, refuse_lu_dtype  # noqa: E402
from ._linalg_more import (  # noqa: E402
    cond,
    diagonal,
    householder_product,
    tensorinv,
    tensorsolve,
    vecdot,
)
from ._linalg_more import linalg_vander as vander  # noqa: E402

__all__ += ["LinAlgError", "cholesky_ex", "inv_ex", "lu", "lu_factor", "lu_factor_ex", "lu_solve"]
__all__ += ["solve_ex", "cond", "diagonal", "householder_product", "tensorinv", "tensorsolve"]
__all__ += ["vander", "vecdot", "cross", "matrix_power"]
from ._linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve  # noqa: E402

__all__ += ["ldl_factor", "ldl_factor_ex", "ldl_solve"]

from . import _out  # noqa: E402

_out.install(globals(), _out.LINALG_NAMES)  # PyTorch's out= on each function that has it
