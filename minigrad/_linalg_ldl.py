"""``linalg.ldl_factor``/``ldl_factor_ex``/``ldl_solve``: the LDLᵀ (LDLᴴ with ``hermitian``)
factorisation of symmetric indefinite matrices with Bunch-Kaufman pivoting, in LAPACK's
(sytrf's) compact format and pivot convention, written on ``xp`` arrays. Not differentiable,
as PyTorch's.

The factor reads only the lower triangle. ``LD`` holds L's multipliers below the diagonal
and D's 1x1 and 2x2 blocks on it; ``pivots`` (1-based int32) are positive for a 1x1 block
(row and column k were swapped with ``pivots[k]``) and negative, twice, for a 2x2 block
(the block's second row was swapped with ``-pivots[k]``). The interchanges apply to the
trailing matrix only, so L is a product of permutations and unit block-triangular factors.
"""

from __future__ import annotations

import math

from . import dtypes, return_types
from .ops.base import constant, on_input_device
from .ops.lu import _abs1

LDLFactorResult = return_types.linalg_ldl_factor
LDLFactorExResult = return_types.linalg_ldl_factor_ex

ALPHA = (1 + math.sqrt(17)) / 8  # Bunch-Kaufman's threshold: bounds the growth of L


def _symmetric(xp, a, hermitian: bool):
    """The full matrix from ``a``'s lower triangle (conjugated above it when ``hermitian``)."""
    strict = xp.tril(a, -1)
    upper = xp.swapaxes(xp.conj(strict) if hermitian else strict, -1, -2)
    full = xp.tril(a) + upper
    if hermitian and full.dtype.kind == "c":
        n = full.shape[-1]
        diagonal = xp.arange(n)
        full[..., diagonal, diagonal] = full[..., diagonal, diagonal].real
    return full


def _choose_pivot(xp, s, k: int, hermitian: bool):
    """``(kp, kstep, zero)``: Bunch-Kaufman's choice at step ``k`` of the trailing matrix ``s``
    (as LAPACK's sytf2): a 1x1 pivot in place, a 1x1 pivot swapped in from row ``kp``, or a
    2x2 pivot with row ``kp``; ``zero`` when column k is zero (D is singular there)."""
    n = s.shape[-1]
    # The comparisons run on 0-d arrays and only their outcomes (and the pivot row) are read on
    # the host: a captured step replays while the choices stay the same.

    def diagonal(i):
        return xp.abs(s[i, i].real) if hermitian else _abs1(xp, s[i, i])

    absakk = diagonal(k)
    colmax, imax = xp.zeros_like(absakk), k
    if k < n - 1:
        column = _abs1(xp, s[k + 1 :, k])
        imax = k + 1 + int(xp.argmax(column))
        colmax = column[imax - k - 1]
    # (fmax, as Python's max(absakk, colmax), keeps absakk where colmax is NaN)
    if bool((xp.fmax(absakk, colmax) == 0) | xp.isnan(absakk)):
        return k, 1, True
    if bool(absakk >= ALPHA * colmax):
        return k, 1, False
    row = _abs1(xp, s[imax, k:])
    row[imax - k] = 0  # the largest off-diagonal entry of row (and column) imax
    rowmax = row.max()
    if bool(absakk >= ALPHA * colmax * (colmax / rowmax)):
        return k, 1, False
    if bool(diagonal(imax) >= ALPHA * rowmax):
        return imax, 1, False
    return imax, 2, False


def _block_inverse(xp, d):
    """The inverse of a 1x1 or 2x2 block."""
    if d.shape[0] == 1:
        return 1 / d
    det = d[0, 0] * d[1, 1] - d[0, 1] * d[1, 0]
    return xp.stack([xp.stack([d[1, 1], -d[0, 1]]), xp.stack([-d[1, 0], d[0, 0]])]) / det


def sytf2(xp, a, hermitian: bool):
    """``(ld, pivots, info)`` of one (n, n) matrix: see the module docstring; ``info`` is the
    1-based index of the first zero 1x1 block of D (0 when none)."""
    n = a.shape[-1]
    s = _symmetric(xp, a, hermitian)
    ld = xp.zeros_like(s)
    pivots, info, k = [0] * n, 0, 0
    while k < n:
        kp, kstep, zero = _choose_pivot(xp, s, k, hermitian)
        if zero:
            info = info or k + 1
        kk = k + kstep - 1
        if kp != kk:  # a symmetric interchange of the trailing matrix
            s[[kk, kp], k:] = s[[kp, kk], k:]
            s[k:, [kk, kp]] = s[k:, [kp, kk]]
        d = s[k : k + kstep, k : k + kstep]
        ld[k : k + kstep, k : k + kstep] = xp.tril(d)
        if not zero and k + kstep < n:
            below = s[k + kstep :, k : k + kstep]
            multipliers = below @ _block_inverse(xp, d)
            s[k + kstep :, k + kstep :] -= multipliers @ (below.conj().T if hermitian else below.T)
            if hermitian and s.dtype.kind == "c":
                rest = xp.arange(k + kstep, n)
                s[rest, rest] = s[rest, rest].real
            ld[k + kstep :, k : k + kstep] = multipliers
        pivots[k : k + kstep] = [kp + 1] if kstep == 1 else [-(kp + 1)] * 2
        k += kstep
    return ld, pivots, info


def _check_square(A, op: str):  # noqa: N803 - PyTorch's argument name
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by "
            f"{A.shape[-1]} matrices"
        )
    if not (A.dtype.is_complex or A.dtype.is_floating_point):
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {A.dtype}"
        )
    if A.dtype.itemsize == 2:  # (float16, bfloat16: PyTorch's kernel has neither)
        name = dtypes.scalar_type_name(A.dtype)
        raise NotImplementedError(f"{op}: \"ldl_factor_kernel_cpu\" not implemented for '{name}'")


@on_input_device
def ldl_factor_ex(A, *, hermitian=False, check_errors=False):  # noqa: N803
    """``(LD, pivots, info)``: the Bunch-Kaufman LDLᵀ (LDLᴴ with ``hermitian``) factorisation
    of each symmetric matrix (its lower triangle is read), in LAPACK's compact format (see
    :mod:`minigrad._linalg_ldl`); int32 ``info`` is the index of D's first zero 1x1 block (0
    when D is invertible). Not differentiable, as PyTorch's.

    Example:
        >>> LD, pivots, info = minigrad.linalg.ldl_factor_ex(A + A.mT)
    """
    op = "torch.linalg.ldl_factor_ex"
    _check_square(A, op)
    from ._linalg_ex import _like

    xp, n = A.device.xp, A.shape[-1]
    data = A._all_elements()  # (every sample's under vmap: the results are batched)
    batch = tuple(data.shape[:-2])
    flat = data.reshape((math.prod(batch), n, n))
    results = [sytf2(xp, a, hermitian and A.is_complex()) for a in flat]
    ld = xp.stack([r[0] for r in results]) if results else xp.zeros_like(flat)
    pivots = xp.asarray([r[1] for r in results], dtype=xp.int32).reshape(batch + (n,))
    info = xp.asarray([r[2] for r in results], dtype=xp.int32).reshape(batch)
    if check_errors:
        _raise_singular(info, op)
    return LDLFactorExResult(_like(A, ld.reshape(data.shape)), _like(A, pivots), _like(A, info))


def _raise_singular(info, op: str):
    from ._linalg_ex import raise_for_info

    def describe(k):
        return (
            f"D[{k},{k}] is exactly zero: the matrix is singular, and ldl_solve would divide "
            "by zero"
        )

    raise_for_info(info, op, describe, RuntimeError)


def ldl_factor(A, *, hermitian=False):  # noqa: N803
    """``(LD, pivots)`` of :func:`ldl_factor_ex`; a RuntimeError when D is singular."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)  # noqa: N806
    _raise_singular(info._all_elements(), "torch.linalg.ldl_factor")
    return LDLFactorResult(LD, pivots)


@on_input_device
def ldl_solve(LD, pivots, B, *, hermitian=False):  # noqa: N803
    """The ``X`` with ``A X = B`` from :func:`ldl_factor`'s ``LD`` and ``pivots``; batch dims
    broadcast. Not differentiable, as PyTorch's."""
    if B.ndim < 2:
        raise IndexError(
            f"ldl_solve: B must have at least 2 dimensions (got {B.ndim}): Dimension out of "
            "range (expected to be in range of [-1, 0], but got -2)"
        )
    _check_square(LD, "torch.linalg.ldl_solve")
    from .func import _array_fns

    if _array_fns.is_batched(LD, pivots, B):  # under vmap: one more leading batch dim
        return _array_fns.leading_batch(ldl_solve, (LD, pivots, B), (2, 1, 2), hermitian=hermitian)
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is {n} by {n} "
            f"but each b matrix is {B.shape[-2]} by {B.shape[-1]}"
        )
    if B.dtype != LD.dtype:
        raise RuntimeError(
            "torch.linalg.ldl_solve: Expected b and A to have the same dtype, but found b of "
            f"type {B.dtype} and A of type {LD.dtype} instead."
        )
    if pivots.dtype.is_floating_point or pivots.dtype.is_complex:
        raise RuntimeError(f"torch.linalg.ldl_solve: pivots must be integers, got {pivots.dtype}")
    xp = LD.device.xp
    batch = _broadcast_shape(LD.shape[:-2], B.shape[:-2], pivots.shape[:-1])
    ld = xp.broadcast_to(LD._data, batch + (n, n)).reshape((-1, n, n))
    piv = xp.broadcast_to(pivots._data, batch + (n,)).reshape((-1, n))
    b = xp.broadcast_to(B._data, batch + tuple(B.shape[-2:])).astype(LD._data.dtype)
    b = b.reshape((-1,) + tuple(B.shape[-2:]))
    conj = hermitian and LD.is_complex()
    host = [[int(p) for p in row] for row in piv.tolist()]
    out = [sytrs(xp, ld[i], host[i], b[i].copy(), conj) for i in range(ld.shape[0])]
    out = xp.stack(out) if out else b
    return constant(out.reshape(batch + tuple(B.shape[-2:])), LD.device)


def _broadcast_shape(*shapes) -> tuple:
    import numpy as np  # shapes only

    return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))


def sytrs(xp, ld, pivots: list, b, hermitian: bool):
    """Solve ``A X = b`` in place for one factorised matrix (``pivots`` as a host list)."""
    n = ld.shape[-1]

    def t(x):  # Lᵀ's (Lᴴ's) entries from L's
        return x.conj() if hermitian else x

    k = 0
    while k < n:  # L D Y = B: forward through the blocks, with their interchanges
        step = 1 if pivots[k] > 0 else 2
        kp = abs(pivots[k]) - 1
        kk = k + step - 1
        b[[kk, kp]] = b[[kp, kk]]
        block = slice(k, k + step)
        b[k + step :] -= ld[k + step :, block] @ b[block]
        d = ld[block, block]
        if step == 2:
            d = xp.stack([xp.stack([d[0, 0], t(d[1, 0])]), d[1]])
        b[block] = _block_inverse(xp, d.real if hermitian and step == 1 else d) @ b[block]
        k += step
    k = n - 1
    while k >= 0:  # Lᵀ X = Y: backward, undoing the interchanges
        step = 1 if pivots[k] > 0 else 2
        first = k - step + 1
        b[first : k + 1] -= t(ld[k + 1 :, first : k + 1]).T @ b[k + 1 :]
        kp = abs(pivots[k]) - 1
        b[[k, kp]] = b[[kp, k]]
        k -= step
    return b


__all__ = ["ldl_factor", "ldl_factor_ex", "ldl_solve"]
