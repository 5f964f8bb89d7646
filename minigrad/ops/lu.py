"""LU with partial pivoting (LAPACK's getrf, written on ``xp`` arrays: minigrad needs no SciPy),
its differentiable op, the permutation matrices its pivots stand for, and the unblocked
Cholesky (potf2) that reports where a matrix stops being positive-definite.

Pivots are 1-based int32 row swaps, as LAPACK's and PyTorch's: row ``i`` was swapped with row
``pivots[i] - 1`` at step ``i``.
"""

from __future__ import annotations

import math

from .base import constant
from .decompositions import Solve, _Packed
from .joining import cat


def _abs1(xp, a):
    """|re| + |im| for complex arrays (LAPACK's i?amax measure), |a| for real ones."""
    return xp.abs(a.real) + xp.abs(a.imag) if a.dtype.kind == "c" else xp.abs(a)


BLOCK = 64  # panel width of the blocked LU (matrices with min(m, n) up to it run unblocked)


def getrf(xp, a):
    """``(lu, pivots, info)`` of a batch of (m, n) matrices ``a`` (…, m, n): the partially
    pivoted LU in one array (L's unit diagonal implied), 1-based int32 pivots (…, min(m, n)),
    and int32 ``info`` (…): the 1-based index of the first exactly-zero pivot, 0 when none.
    Vectorised over the batch; a Python loop over the columns only. Past ``BLOCK`` columns
    it works in panels, as LAPACK's getrf: each panel is factorised column by column, then
    the rows to its right are solved against it and the trailing matrix updated by one
    matrix product (the same pivots; sums in another order)."""
    *batch, m, n = a.shape
    k = min(m, n)
    count = math.prod(batch)
    lu = xp.array(a, copy=True).reshape(count, m, n)
    pivots = xp.empty((count, k), dtype=xp.int32)
    info = xp.zeros(count, dtype=xp.int32)
    if k <= BLOCK:
        info = _columns(xp, lu, pivots, info, 0, k, n)
    else:
        for start in range(0, k, BLOCK):
            stop = min(start + BLOCK, k)
            info = _columns(xp, lu, pivots, info, start, stop, stop)
            if stop < n:
                _update_right(xp, lu, start, stop)
    return (
        lu.reshape(a.shape),
        pivots.reshape(tuple(batch) + (k,)),
        info.reshape(tuple(batch)),
    )


def _columns(xp, lu, pivots, info, start: int, stop: int, width: int):
    """Factorise columns ``start:stop`` of the batch ``lu`` (count, m, n) in place, one at a
    time: choose the pivot, swap whole rows, scale, and update columns up to ``width``.
    Returns the updated ``info``."""
    m = lu.shape[1]
    rows = xp.arange(lu.shape[0])
    for j in range(start, stop):
        p = j + xp.argmax(_abs1(xp, lu[:, j:, j]), axis=1)  # the first largest, as i?amax
        pivots[:, j] = p + 1
        row_j = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = row_j
        pivot = lu[:, j, j]
        zero = pivot == 0
        info = xp.where(zero & (info == 0), j + 1, info).astype(xp.int32)
        if j + 1 < m:  # a zero pivot leaves its column as it is, as getrf does
            scale = xp.where(zero, 1, 1 / xp.where(zero, 1, pivot))
            lu[:, j + 1 :, j] *= scale[:, None]
            lu[:, j + 1 :, j + 1 : width] -= (
                lu[:, j + 1 :, j : j + 1] * lu[:, j : j + 1, j + 1 : width]
            )
    return info


def _update_right(xp, lu, start: int, stop: int):
    """After the panel ``start:stop``: U₁₂ = L₁₁⁻¹ A₁₂ (unit lower L₁₁, by rows) and
    A₂₂ -= L₂₁ U₁₂."""
    right = lu[:, start:stop, stop:]
    for i in range(1, stop - start):
        right[:, i] -= xp.matmul(lu[:, start + i, start : start + i][:, None, :], right[:, :i])[
            :, 0
        ]
    lu[:, stop:, stop:] -= xp.matmul(lu[:, stop:, start:stop], right)


def permutation_indices(xp, pivots, m: int):
    """``perm`` (…, m) with ``(Pᵀ A)[i] = A[perm[i]]`` for the row swaps ``pivots`` (…, k)."""
    batch = pivots.shape[:-1]
    flat = pivots.reshape(math.prod(batch), pivots.shape[-1]).astype(xp.int64) - 1
    perm = xp.broadcast_to(xp.arange(m), (flat.shape[0], m)).copy()
    rows = xp.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        here = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = here
    return perm.reshape(tuple(batch) + (m,))


def permutation_matrix(xp, pivots, m: int, dtype):
    """``P`` (…, m, m) with ``A = P L U`` for the 1-based row swaps ``pivots`` (…, k)."""
    perm = permutation_indices(xp, pivots, m)
    eye = xp.eye(m, dtype=dtype)
    return xp.swapaxes(eye[perm], -1, -2)  # Pᵀ's row i is e_{perm[i]}


def _eye(like, m: int, n: int):
    return constant(like.device.xp.eye(m, n, dtype=like._data.dtype), like.device)


def unpack_factors(lu):
    """``(L, U)`` from a packed LU (…, m, n): L (…, m, k) unit lower, U (…, k, n) upper
    (differentiable in ``lu``)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    low = lu[..., :, :k].tril(-1) + _eye(lu, m, k)
    return low, lu[..., :k, :].triu()


def _right_solve(x, u):
    """``X U⁻ᴴ`` as ``(U⁻¹ Xᴴ)ᴴ``."""
    return Solve()(u, x.mH).mH


def _square_lu_backward(low, up, gl, gu):
    """``L⁻ᴴ (tril(Lᴴ dL, -1) + triu(dU Uᴴ)) U⁻ᴴ``: the gradient of Pᵀ A for square L, U."""
    inner = (low.mH @ gl).tril(-1) + (gu @ up.mH).triu()
    return _right_solve(Solve()(low.mH, inner), up)


class LUFactor(_Packed):
    """LU, pivots = lu_factor(A) (A = P L U, LU = L - I + U packed; pivots carry no gradient);
    for square A, dA = P L⁻ᴴ (tril(Lᴴ dL, -1) + triu(dU Uᴴ)) U⁻ᴴ; a wide A = P L [U₁ U₂] adds
    dA₂ = P L⁻ᴴ dU₂ and dL -= L⁻ᴴ dU₂ U₂ᴴ; a tall Pᵀ A = [L₁; L₂] U adds dA₂ = dL₂ U⁻ᴴ and
    dU -= L₂ᴴ dL₂ U⁻ᴴ (A of full rank). The output packs LU, the pivots and getrf's info (as
    numbers of A's dtype: exact) per matrix, so that vmap batches them as it does QR's parts."""

    backward_name = "LinalgLuFactorExBackward0"
    supports_complex = True

    def forward(self, a):
        lu, pivots, info = getrf(self.xp, a)
        return self.pack(
            a.shape[:-2], lu, pivots.astype(lu.dtype), info[..., None].astype(lu.dtype)
        )

    def backward(self, g):
        (out,) = self.saved
        lu, pivots, _ = self.unpack(out)
        g = self.unpack(g)[0]
        m, n = lu.shape[-2:]
        k = min(m, n)
        low, up = unpack_factors(lu)
        gl, gu = g[..., :, :k].tril(-1), g[..., :k, :].triu()
        if m == n:
            grad = _square_lu_backward(low, up, gl, gu)
        elif m < n:
            up1, up2 = up[..., :k], up[..., k:]
            g2 = Solve()(low.mH, gu[..., k:])  # L⁻ᴴ dU₂
            grad = _square_lu_backward(low, up1, gl - g2 @ up2.mH, gu[..., :k])
            grad = cat([grad, g2], -1)
        else:
            low1, low2 = low[..., :k, :], low[..., k:, :]
            g2 = _right_solve(gl[..., k:, :], up)  # dL₂ U⁻ᴴ
            grad = _square_lu_backward(low1, up, gl[..., :k, :], gu - low2.mH @ g2)
            grad = cat([grad, g2], -2)
        xp = lu.device.xp
        swaps = xp.rint(pivots._data.real).astype(xp.int64)
        p = constant(permutation_matrix(xp, swaps, m, lu._data.dtype), lu.device)
        return p @ grad


def potf2(xp, a):
    """``(low, info)``: the unblocked lower Cholesky factor of a batch ``a`` (…, n, n) and int32
    ``info`` (…), the order of the first leading minor that is not positive-definite (0 when
    all are). Where it fails, ``low`` holds the columns done so far, the failing diagonal value
    and the rest of ``a``'s lower triangle, as LAPACK's potf2 leaves them."""
    *batch, n, _ = a.shape
    low = xp.tril(xp.array(a, copy=True)).reshape(math.prod(batch), n, n)
    info = xp.zeros(low.shape[0], dtype=xp.int32)
    for j in range(n):
        row = low[:, j, :j]
        d = low[:, j, j].real - (row * row.conj()).real.sum(-1)
        bad = (info == 0) & ~(d > 0)
        info = xp.where(bad, j + 1, info).astype(xp.int32)
        live = info == 0
        diagonal = xp.where(live, xp.sqrt(xp.where(live, d, 1)), d)
        low[:, j, j] = xp.where(bad | live, diagonal, low[:, j, j])
        if j + 1 < n:
            below = (
                low[:, j + 1 :, j] - xp.matmul(low[:, j + 1 :, :j], row.conj()[..., None])[..., 0]
            )
            below = below / xp.where(live, low[:, j, j], 1)[:, None]
            low[:, j + 1 :, j] = xp.where(live[:, None], below, low[:, j + 1 :, j])
    return low.reshape(a.shape), info.reshape(tuple(batch))
