"""LU with partial pivoting, as PyTorch: ``linalg.lu_factor``/``lu_factor_ex``/``lu``/
``lu_solve`` and the older ``torch.lu``, ``torch.lu_unpack``, ``torch.lu_solve``. The factor is
:class:`~minigrad.ops.lu.LUFactor` (differentiable twice); the rest is composed from it,
triangular solves and permutation matrices. Pivots are 1-based int32, as LAPACK's.

Example:
    >>> LU, pivots = minigrad.linalg.lu_factor(A)
    >>> X = minigrad.linalg.lu_solve(LU, pivots, B)   # A X = B
"""

from __future__ import annotations

from collections import namedtuple

from . import _linalg_ex as _ex
from . import return_types
from .autograd.graph import names_node
from .creation import arange
from .dtypes import int32, scalar_type_name
from .ops.base import constant, on_input_device
from .ops.lu import LUFactor, permutation_matrix, unpack_factors

LUFactorResult = return_types.linalg_lu_factor
LUFactorExResult = return_types.linalg_lu_factor_ex
LUResult = return_types.linalg_lu
LUUnpackResult = return_types.lu_unpack
LUWithInfoResult = namedtuple("_lu_with_info", ["LU", "pivots", "info"])


def _swap_rows(pivots, b, undo=False):
    """``Pᵀ b`` (``P b`` with ``undo``) for the row swaps ``pivots`` (…, k) of b (…, m, c):
    one product with the permutation matrix, or under vmap (whose pivots have no host values)
    each swap as the rank-one update ``b - d (dᵀ b)``, d = e_j - e_p, in tensor ops."""
    m = b.shape[-2]
    values = _host(pivots._data)
    if values is not None:
        xp = b.device.xp
        p = constant(permutation_matrix(xp, values, m, b._data.dtype), b.device)
        return (p if undo else p.mT) @ b
    rows = arange(m, device=b.device).unsqueeze(-1)
    order = reversed(range(pivots.shape[-1])) if undo else range(pivots.shape[-1])
    for j in order:
        target = (pivots[..., j : j + 1] - 1).unsqueeze(-1)  # (…, 1, 1)
        d = (rows == j).to(b.dtype) - (rows == target).to(b.dtype)
        b = b - d @ (d.mT @ b)
    return b


def _host(data):
    """``data``'s values, or None under vmap (whose batched arrays give no element access)."""
    return data if getattr(type(data), "tolist", None) is not None else None


def refuse_lu_dtype(A, op: str) -> None:  # noqa: N803 - PyTorch's argument name
    """PyTorch's NotImplementedError where its CPU LU kernel (under ``lu_factor``, ``lu`` and
    ``det``) has no implementation for ``A``'s dtype: integers, bool, float16, bfloat16."""
    if not (A.dtype.is_complex or (A.dtype.is_floating_point and A.dtype.itemsize > 2)):
        raise NotImplementedError(
            f"{op}: \"lu_cpu\" not implemented for '{scalar_type_name(A.dtype)}' (float32, "
            "float64, complex64 or complex128 are)"
        )


def _check_lu_input(A, op: str, pivot: bool):  # noqa: N803 - PyTorch's argument name
    if A.ndim < 2:
        raise RuntimeError(
            f"{op}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead"
        )
    refuse_lu_dtype(A, op)
    if not pivot:
        raise RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU")


def _zero_pivot(k: int) -> str:
    return (
        f"U[{k},{k}] is zero and using it on lu_solve would result in a division by zero. If "
        "you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
        "linalg.lu_factor_ex(A, pivot)"
    )


def _factor(A):  # noqa: N803
    """``(LU, pivots, info)`` from the LU op (pivots and info int32, without gradient)."""
    op = LUFactor()
    lu, pivots, info = op.unpack(op(A))
    if A.is_complex():
        pivots, info = pivots.real, info.real
    return lu, pivots.detach().to(int32), info.detach().squeeze(-1).to(int32)


@on_input_device
@names_node("LinalgLuFactorExBackward0")
def lu_factor_ex(A, *, pivot=True, check_errors=False):  # noqa: N803
    """``(LU, pivots, info)``: the LU factorisation ``A = P L U`` of each (m, n) matrix, L and U
    packed in one tensor (…, m, n) (L's unit diagonal implied), 1-based int32 ``pivots``
    (…, min(m, n)) and int32 ``info`` (…), the index of U's first zero diagonal entry (0 when
    none). Differentiable in ``A`` (for full-rank ``A``)."""
    _check_lu_input(A, "linalg.lu_factor_ex", pivot)
    lu, pivots, info = _factor(A)
    if check_errors and _host(info._data) is not None:
        _ex.raise_for_info(info._data, "torch.linalg.lu_factor_ex", _zero_pivot, RuntimeError)
    return LUFactorExResult(lu, pivots, info)


@names_node("LinalgLuFactorExBackward0")
def lu_factor(A, *, pivot=True):  # noqa: N803
    """``(LU, pivots)`` of :func:`lu_factor_ex`; a RuntimeError when some U has a zero on its
    diagonal (use :func:`lu_factor_ex` or :func:`lu` for singular matrices), as PyTorch.

    Example:
        >>> LU, pivots = minigrad.linalg.lu_factor(minigrad.tensor([[0.0, 1.0], [2.0, 3.0]]))
        >>> pivots  # tensor([2, 2], dtype=minigrad.int32)
    """
    _check_lu_input(A, "linalg.lu_factor", pivot)
    lu, pivots, info = _factor(A)
    if _host(info._data) is not None:  # (under vmap the check is skipped)
        _ex.raise_for_info(info._data, "torch.linalg.lu_factor", _zero_pivot, RuntimeError)
    return LUFactorResult(lu, pivots)


@on_input_device
@names_node("LuUnpackBackward0")
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):  # noqa: N803
    """``(P, L, U)`` from :func:`lu_factor`'s packed ``LU_data`` (…, m, n) and ``LU_pivots``:
    the permutation matrix P (…, m, m), unit lower L (…, m, k) and upper U (…, k, n), with
    ``A = P L U``; the parts not asked for are empty. Differentiable in ``LU_data``."""
    if LU_pivots.dtype.name != "int32":
        raise RuntimeError(
            "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
            f"dtype (got {LU_pivots.dtype}).\nNote: this function is intended to be used with "
            "the output produced by torch.linalg.lu_factor"
        )
    m, n = LU_data.shape[-2:]
    if LU_pivots.ndim < 1 or LU_pivots.shape[-1] != min(m, n):
        raise RuntimeError(
            f"torch.lu_unpack: LU_pivots of shape {list(LU_pivots.shape)} do not fit LU_data of "
            f"shape {list(LU_data.shape)}: expected (…, {min(m, n)})"
        )
    values = _host(LU_pivots._data)
    if values is not None and values.size and (int(values.min()) < 1 or int(values.max()) > m):
        raise RuntimeError(
            "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you "
            "properly pass the result of lu_factor?"
        )
    empty = LU_data.new_zeros(0)
    if unpack_pivots:
        eye = constant(LU_data.device.xp.eye(m, dtype=LU_data._data.dtype), LU_data.device)
        p = _swap_rows(LU_pivots, eye.expand(*LU_pivots.shape[:-1], m, m), undo=True)
    else:
        p = empty
    low, up = unpack_factors(LU_data) if unpack_data else (empty, empty)
    return LUUnpackResult(p, low, up)


@on_input_device
@names_node("LinalgLuBackward0")
def lu(A, *, pivot=True):  # noqa: N803
    """``(P, L, U)`` with ``A = P L U`` (P a permutation, L unit lower (…, m, k), U upper
    (…, k, n), k = min(m, n)); singular ``A`` is factorised too. Differentiable in ``A``
    (full rank).

    Example:
        >>> P, L, U = minigrad.linalg.lu(A)
        >>> (P @ L @ U - A).abs().max()  # ~1e-16 in float64
    """
    _check_lu_input(A, "linalg.lu", pivot)
    lu_data, pivots, _ = lu_factor_ex(A)
    return LUResult(*lu_unpack(lu_data, pivots))


@on_input_device
@names_node("LinalgLuSolveBackward0")
def lu_solve(LU, pivots, B, *, left=True, adjoint=False):  # noqa: N803
    """The ``X`` with ``A X = B`` (``X A = B`` when ``left=False``; ``Aᴴ`` in place of ``A``
    with ``adjoint``) given ``A``'s :func:`lu_factor`. Batch dims broadcast. Differentiable in
    ``LU`` and ``B``."""
    from .linalg import solve_triangular

    if LU.ndim < 2 or LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(
            "torch.linalg.lu_solve: A must be batches of square matrices, but they are "
            f"{' by '.join(map(str, LU.shape[-2:]))} matrices"
        )
    if B.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if LU.dtype != B.dtype:
        raise RuntimeError(
            "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
            f"{LU.dtype} and B of type {B.dtype} instead"
        )
    n = LU.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(
            f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
            f"{'x'.join(map(str, B.shape[-2:]))})"
        )
    if not left:  # X A = B is Aᴴ Xᴴ = Bᴴ
        return lu_solve(LU, pivots, B.mH, adjoint=not adjoint).mH
    if not adjoint:  # X = U⁻¹ L⁻¹ Pᵀ B
        y = solve_triangular(LU, _swap_rows(pivots, B), upper=False, unitriangular=True)
        return solve_triangular(LU, y, upper=True)
    # Aᴴ = Uᴴ Lᴴ Pᵀ: X = P L⁻ᴴ U⁻ᴴ B
    y = solve_triangular(LU.mH, B, upper=False)
    return _swap_rows(pivots, solve_triangular(LU.mH, y, upper=True, unitriangular=True), True)


def lu_solve_legacy(b, LU_data, LU_pivots):  # noqa: N803
    """``torch.lu_solve(b, LU_data, LU_pivots)``: :func:`lu_solve` with its older argument
    order (deprecated in PyTorch)."""
    return lu_solve(LU_data, LU_pivots, b)


def lu_legacy(A, pivot=True, get_infos=False):  # noqa: N803
    """``torch.lu`` and ``Tensor.lu``: ``(LU, pivots)`` of :func:`lu_factor_ex` (``(LU,
    pivots, info)`` with ``get_infos``)."""
    _check_lu_input(A, "torch.lu", pivot)
    lu_data, pivots, info = lu_factor_ex(A)
    if get_infos:
        return LUWithInfoResult(lu_data, pivots, info)
    return lu_data, pivots
