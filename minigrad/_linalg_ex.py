"""``minigrad.linalg``'s ``*_ex`` functions (``inv_ex``, ``solve_ex``, ``cholesky_ex``: results
with a LAPACK-style ``info`` instead of an error) and the :class:`LinAlgError` messages that
``inv``, ``solve`` and ``cholesky`` raise, worded as PyTorch's.
"""

from __future__ import annotations

from . import return_types
from .autograd.graph import names_node
from .ops import decompositions as _d
from .ops.base import autocast_op, constant, on_input_device
from .ops.decompositions import LinAlgError
from .ops.elementwise import where
from .ops.lu import potf2

InvExResult = return_types.linalg_inv_ex
SolveExResult = return_types.linalg_solve_ex
CholeskyExResult = return_types.linalg_cholesky_ex


def raise_for_info(info, op: str, describe, error=LinAlgError):
    """Raise ``error`` for the first matrix of the batch whose ``info`` (an int array) is
    non-zero, as ``"{op}: (Batch element i): {describe(info_i)}"`` (no batch part for a single
    matrix); nothing when every ``info`` is 0."""
    flat = [int(v) for v in info.reshape(-1).tolist()]
    bad = next((i for i, v in enumerate(flat) if v), None)
    if bad is None:
        return
    batch = f"(Batch element {bad}): " if info.ndim else ""
    raise error(f"{op}: {batch}{describe(flat[bad])}")


def singular_inverse(k: int) -> str:
    return (
        f"The diagonal element {k} is zero, the inversion could not be completed because the "
        "input matrix is singular."
    )


def singular_solve(_k: int) -> str:
    return "The solver failed because the input matrix is singular."


def not_positive_definite(k: int) -> str:
    return (
        "The factorization could not be completed because the input is not positive-definite "
        f"(the leading minor of order {k} is not positive-definite)."
    )


def lu_info(A):  # noqa: N803 - PyTorch's argument name
    """getrf's ``info`` for each matrix of ``A`` (an int32 tensor of the batch's shape)."""
    from ._linalg_lu import _factor

    return _factor(A.detach())[2]


def _all_regular(info) -> bool:
    """True when every ``info`` is 0, or under vmap (which gives no access to the values:
    results at singular matrices are then what the solve gives)."""
    data = info._data
    return getattr(type(data), "tolist", None) is None or not data.any()


def _replace_failed(A, info):  # noqa: N803
    """``A`` with the matrices whose ``info`` is non-zero replaced by identities, so that the
    op can run on the rest (the results at failed places are unspecified, as PyTorch's)."""
    xp = A.device.xp
    failed = _like(A, xp.asarray(info != 0)[..., None, None])
    eye = constant(xp.eye(A.shape[-1], dtype=A._data.dtype), A.device)
    return where(failed, eye, A), failed


@autocast_op("linalg_inv_ex")
@on_input_device
@names_node("LinalgInvExBackward0")
def inv_ex(A, *, check_errors=False):  # noqa: N803
    """``(inverse, info)``: the inverse of each square matrix and int32 ``info``, 0 where it
    is invertible and the (1-based) index of LU's first zero pivot where it is singular (NaN
    there in ``inverse``). ``check_errors=True`` raises :class:`LinAlgError` instead."""
    from .linalg import _square

    _square(A, "inv_ex")
    info = lu_info(A)
    if check_errors and not _all_regular(info):
        raise_for_info(info._data, "linalg.inv_ex", singular_inverse)
    if _all_regular(info):
        return InvExResult(_d.inverse(A), info)
    safe, failed = _replace_failed(A, info._data)
    return InvExResult(where(failed, float("nan"), _d.inverse(safe)), info)


@on_input_device
@names_node("LinalgSolveExBackward0")
def solve_ex(A, B, *, left=True, check_errors=False):  # noqa: N803
    """``(result, info)``: :func:`~minigrad.linalg.solve` with int32 ``info`` as
    :func:`inv_ex`'s (NaN results for singular ``A``); ``check_errors=True`` raises
    :class:`LinAlgError` instead."""
    from .linalg import _square, solve

    _square(A, "solve_ex")
    info = lu_info(A)
    if check_errors and not _all_regular(info):
        raise_for_info(info._data, "torch.linalg.solve_ex", singular_solve)
    if _all_regular(info):
        return SolveExResult(solve(A, B, left=left), info)
    safe, failed = _replace_failed(A, info._data)
    result = solve(safe, B, left=left)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    failed = failed[..., 0] if vector else failed
    return SolveExResult(where(failed, float("nan"), result), info)


@autocast_op("linalg_cholesky_ex")
@on_input_device
@names_node("LinalgCholeskyExBackward0")
def cholesky_ex(A, *, upper=False, check_errors=False):  # noqa: N803
    """``(L, info)``: the Cholesky factor and int32 ``info``, 0 where ``A`` is positive-definite
    and otherwise the order of its first leading minor that is not (there ``L`` holds the
    partial factorisation, as LAPACK leaves it). ``check_errors=True`` raises
    :class:`LinAlgError` instead."""
    from .linalg import _square

    _square(A, "cholesky_ex")
    try:
        low = _d.Cholesky()(A)
        info = A.device.xp.zeros(A.shape[:-2], dtype="int32")
    except LinAlgError:
        partial, info = potf2(A.device.xp, A._all_elements())  # (every sample's under vmap)
        if check_errors:
            raise_for_info(info, "linalg.cholesky_ex", not_positive_definite)
        safe, failed = _replace_failed(A, info)
        low = where(failed, _like(A, partial), _d.Cholesky()(safe))
        return CholeskyExResult(low.mH if upper else low, _like(A, info))
    return CholeskyExResult(low.mH if upper else low, constant(info, A.device))


def _like(A, array):  # noqa: N803
    """``array`` (computed on ``A``'s values: under vmap, on every sample's) as a tensor
    batched as ``A`` is."""
    from .func._batched import rewrap

    return rewrap(A, constant(array, A.device))


def cholesky_failed(A):  # noqa: N803
    """Raise PyTorch's message for ``linalg.cholesky`` of a matrix that is not positive-definite."""
    raise_for_info(potf2(A.device.xp, A._data)[1], "linalg.cholesky", not_positive_definite)
    raise LinAlgError("linalg.cholesky: the input is not positive-definite")


__all__ = ["LinAlgError", "cholesky_ex", "inv_ex", "solve_ex"]
