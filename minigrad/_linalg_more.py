"""More of ``minigrad.linalg``, composed from differentiable ops: Householder products
(``householder_product``/``orgqr``, ``ormqr``) and LAPACK's ``geqrf``, ``cond``, ``diagonal``,
``tensorinv``, ``tensorsolve``, ``vander``, ``vecdot``, and the older ``torch.nuclear_norm`` and
``torch.frobenius_norm``.
"""

from __future__ import annotations

import math

import numpy as np  # to tell NumPy's qr (batched) from CuPy's

from . import dtypes, return_types
from ._linalg_ex import _all_regular
from .autograd.graph import names_node
from .backend import DimensionError
from .ops.base import autocast_op, check_bool_arg, constant, on_input_device, refuse_dtype
from .ops.joining import stack

GeqrfResult = return_types.geqrf


def _float_input(x, op: str, name: str = "input", kernel: str | None = None):
    if kernel is not None:  # (PyTorch's kernel refuses other dtypes: NotImplementedError)
        refuse_dtype(x.dtype, kernel, op, low_precision=True)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as {name}. Got {x.dtype}"
        )


def _reflectors(A, k: int):  # noqa: N803 - PyTorch's argument name
    """The Householder vectors (…, m, k): A's first k columns below the diagonal, with an
    implied 1 on it and zeros above."""
    m = A.shape[-2]
    eye = constant(A.device.xp.eye(m, k, dtype=A._data.dtype), A.device)
    return A[..., :, :k].tril(-1) + eye


def _apply_reflectors(v, tau, c, *, left: bool, adjoint: bool):
    """``Q c``, ``Qᴴ c``, ``c Q`` or ``c Qᴴ`` for ``Q = H₀ H₁ … H_{k-1}``,
    ``Hᵢ = I - τᵢ vᵢ vᵢᴴ`` (each reflector applied as a rank-one update, differentiable)."""
    k = tau.shape[-1]
    order = range(k) if left == adjoint else reversed(range(k))
    for i in order:
        vi = v[..., :, i : i + 1]
        ti = tau[..., i : i + 1].unsqueeze(-1)
        if adjoint:
            ti = ti.conj()
        if left:
            c = c - ti * (vi @ (vi.mH @ c))
        else:
            c = c - ti * ((c @ vi) @ vi.mH)
    return c


@autocast_op("linalg_householder_product")
@on_input_device
@names_node("LinalgHouseholderProductBackward0")
def householder_product(A, tau):  # noqa: N803
    """The first n columns of ``H₀ H₁ … H_{k-1}`` (…, m, n), ``Hᵢ = I - τᵢ vᵢ vᵢᴴ`` with vᵢ
    the i-th column of ``A`` (…, m, n) below the diagonal and 1 on it (``tau`` (…, k),
    k ≤ n ≤ m): the Q of :func:`minigrad.geqrf`'s reflectors. Differentiable in both.

    Example:
        >>> a, tau = minigrad.geqrf(A)
        >>> Q = minigrad.linalg.householder_product(a, tau)   # linalg.qr(A).Q
    """
    op = "torch.linalg.householder_product"
    if A.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise RuntimeError(
            f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]"
        )
    if tau.ndim and n < tau.shape[-1]:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if tau.ndim != A.ndim - 1 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise (DimensionError if tau.ndim != A.ndim - 1 else RuntimeError)(
            f"{op}: Expected tau to have one dimension less than input and the same batch "
            f"dimensions, but got tau of shape {list(tau.shape)} and input of shape "
            f"{list(A.shape)}"
        )
    _float_input(A, op, kernel="orgqr_cpu")
    if tau.dtype != A.dtype:
        raise RuntimeError(f"{op}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")
    eye = constant(A.device.xp.eye(m, n, dtype=A._data.dtype), A.device)
    k = tau.shape[-1]
    return _apply_reflectors(_reflectors(A, k), tau, eye, left=True, adjoint=False)


def orgqr(input, tau):
    """``torch.orgqr``: :func:`householder_product` (Q from :func:`geqrf`'s reflectors)."""
    return householder_product(input, tau)


@on_input_device
@names_node("OrmqrBackward0")
def ormqr(input, tau, other, left=True, transpose=False):
    """``Q @ other`` for the (m, m) ``Q`` of the reflectors in ``input`` and ``tau`` (as
    :func:`householder_product`), ``other @ Q`` when ``left=False``, with ``Qᴴ`` when
    ``transpose``. Differentiable in all three."""
    op = "torch.ormqr"
    if input.ndim < 2 or other.ndim < 2:
        raise RuntimeError(f"{op}: input and other must have at least 2 dimensions.")
    if tau.ndim == 0:  # (PyTorch reads tau's last dim first)
        raise DimensionError(f"{op}: tau must have at least 1 dimension, got shape []")
    _float_input(input, op, kernel="ormqr_cpu")
    if tau.dtype != input.dtype or other.dtype != input.dtype:
        raise RuntimeError(
            f"{op}: Expected input, tau and other to have the same dtype, got {input.dtype}, "
            f"{tau.dtype} and {other.dtype}"
        )
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        which = "other.shape[-2]" if left else "other.shape[-1]"
        raise RuntimeError(f"{op}: {which} must be equal to input.shape[-2]")
    k = tau.shape[-1] if tau.ndim else 0
    if tau.ndim != input.ndim - 1 or k > min(other.shape[side], input.shape[-1]):
        raise RuntimeError(
            f"{op}: tau.shape[-1] must be at most min(other.shape[{side}], input.shape[-1]) "
            f"and tau must have one dimension less than input; got tau of shape "
            f"{list(tau.shape)} and input of shape {list(input.shape)}"
        )
    return _apply_reflectors(_reflectors(input, k), tau, other, left=left, adjoint=transpose)


@on_input_device
def geqrf(input):
    """``(a, tau)``: LAPACK's geqrf QR of each (m, n) matrix, R in ``a``'s upper triangle and
    the Householder vectors below it, with their scalars ``tau`` (…, min(m, n)) (see
    :func:`householder_product`). Not differentiable, as PyTorch's."""
    if input.ndim < 2:
        raise RuntimeError(f"torch.geqrf: input must have at least 2 dimensions, got {input.ndim}")
    refuse_dtype(input.dtype, "geqrf_cpu", "torch.geqrf", low_precision=True)
    from ._linalg_ex import _like

    xp = input.device.xp
    data = input._all_elements()  # (every sample's under vmap: the results are batched)
    if data.size == 0:
        k = min(input.shape[-2:])
        return GeqrfResult(input.detach().clone(), input.new_zeros(*input.shape[:-2], k))
    if xp is np or data.ndim == 2:
        h, tau = xp.linalg.qr(data, mode="raw")
        h = xp.swapaxes(h, -1, -2)
    else:  # CuPy's raw mode takes one matrix at a time
        flat = data.reshape((-1,) + data.shape[-2:])
        parts = [xp.linalg.qr(a, mode="raw") for a in flat]
        h = xp.stack([p[0].T for p in parts]).reshape(data.shape)
        tau = xp.stack([p[1] for p in parts]).reshape(data.shape[:-2] + (-1,))
    dtype = data.dtype
    return GeqrfResult(
        _like(input, xp.ascontiguousarray(h).astype(dtype, copy=False)),
        _like(input, xp.ascontiguousarray(tau).astype(dtype, copy=False)),
    )


# PyTorch's last node of a condition number: the singular values' ratio squeezed; ‖A‖·‖A⁻¹‖
# for other norms, with inf put where A is singular
_COND_NODES = {None: "SqueezeBackward1", 2: "SqueezeBackward1", -2: "SqueezeBackward1",
               "nuc": "MulBackward0"}  # fmt: skip


@autocast_op("linalg_cond")
@on_input_device
@names_node(lambda A, p=None: _COND_NODES.get(p, "NanToNumBackward0"))  # noqa: N803
def cond(A, p=None):  # noqa: N803
    """The condition number of ``A`` in the matrix norm ``p``: for ``None``/2/-2 the ratio of
    its largest and smallest singular values (any shape), otherwise ``‖A‖ₚ ‖A⁻¹‖ₚ`` for square
    ``A`` (``'fro'``, ``'nuc'``, inf, -inf, 1, -1); inf where ``A`` is singular. Real result."""
    from . import linalg

    norms = (None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1)
    if p not in norms:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor A must have at least 2 dimensions.")
    if p in (None, 2, -2):
        s = linalg.svdvals(A)
        if s.shape[-1] == 0:  # an empty matrix: 0, as PyTorch's
            return s.sum(-1)
        largest, smallest = s[..., 0], s[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.cond(ord={p}): A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )
    _float_input(A, "linalg.cond")
    inverse, info = linalg.inv_ex(A)
    result = linalg.matrix_norm(A, p) * linalg.matrix_norm(inverse, p)
    if _all_regular(info):
        return result
    singular = constant(info._data != 0, A.device)
    return result.masked_fill(singular, math.inf)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):  # noqa: N803
    """``A.diagonal(offset, dim1, dim2)``: the diagonals of a batch of matrices (the last two
    dims by default), as a view."""
    return A.diagonal(offset, dim1, dim2)


@autocast_op("linalg_tensorinv")
@names_node("ReshapeAliasBackward0")
def tensorinv(A, ind=2):  # noqa: N803
    """The tensor ``X`` with ``tensordot(X, A, ind) = I``: ``A`` (shape ``s[:ind] + s[ind:]``
    with equal products) inverted as a square matrix; the result has shape
    ``s[ind:] + s[:ind]``."""
    from . import linalg

    if not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {cols} != {rows}"
        )
    out = linalg.inv(A.reshape(rows, cols))
    return out.reshape(*A.shape[ind:], *A.shape[:ind])


@autocast_op("linalg_tensorsolve")
def tensorsolve(A, B, dims=None):  # noqa: N803
    """The ``X`` with ``tensordot(A, X, X.ndim) = B``, ``X`` of shape ``A.shape[B.ndim:]``;
    ``dims`` names dims of ``A`` moved to its end first."""
    from . import linalg

    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in dims], *dims)  # noqa: N806
    rest = tuple(A.shape[B.ndim :])
    rows, cols = math.prod(A.shape[: B.ndim]), math.prod(rest)
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}"
        )
    return linalg.solve(A.reshape(rows, cols), B.reshape(rows)).reshape(rest)


def _powers(x, n: int):
    """``[x⁰, x¹, …, xⁿ⁻¹]`` along a new last dim, by repeated products (no 0⁻¹ in the
    derivative of x⁰ at 0)."""
    powers = [x.new_ones(x.shape)]
    for _ in range(1, n):
        powers.append(powers[-1] * x)
    return stack(powers, -1) if powers else x.new_zeros(*x.shape, 0)


@names_node("CatBackward0")
def linalg_vander(x, *, N=None):  # noqa: N803
    """The Vandermonde matrices of ``x`` (…, n): columns ``x⁰, x¹, …, x^{N-1}`` (…, n, N),
    ``N`` defaulting to n (> 1)."""
    n = x.shape[-1] if x.ndim else 0
    n = n if N is None else N
    if n <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1 (got {n}).")
    if x.dtype in (dtypes.bool, dtypes.float16, dtypes.bfloat16):  # (no kernel in PyTorch)
        raise RuntimeError(
            "linalg.vander supports floating point, complex, and integer tensors, but got "
            f"{dtypes.scalar_type_name(x.dtype)}"
        )
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.long()  # integers give int64, as PyTorch's
    return _powers(x.reshape(1) if x.ndim == 0 else x, n)


@autocast_op("linalg_vecdot")
def vecdot(x, y, *, dim=-1):
    """``Σ conj(x)·y`` along ``dim`` (broadcasting): dot products of batches of vectors."""
    if x.dtype != y.dtype:
        raise RuntimeError(
            "linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
            f"{x.dtype} and y of type {y.dtype} instead"
        )
    _float_input(x, "linalg.vecdot")
    return ((x.conj() if x.is_complex() else x) * y).sum(dim)


def nuclear_norm(input, dim=None, keepdim=False):
    """``torch.nuclear_norm``: the sum of singular values over ``dim`` (the last two dims by
    default); ``nuclear_norm(input, True)`` keeps them, as PyTorch's overload."""
    from . import linalg

    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


@names_node("NormBackward1")
def frobenius_norm(input, dim, keepdim=False):
    """``torch.frobenius_norm``: the 2-norm of the entries over ``dim`` (one or two dims)."""
    from . import linalg

    check_bool_arg(keepdim, "frobenius_norm", "keepdim", 2)

    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) not in (1, 2):
        raise RuntimeError(f"frobenius_norm: expected one or two dims, got {list(dims)}")
    return linalg.vector_norm(input, 2, dims, keepdim)
