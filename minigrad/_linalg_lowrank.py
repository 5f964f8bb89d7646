"""Randomized low-rank SVD and PCA (``torch.svd_lowrank``, ``torch.pca_lowrank``), after Halko,
Martinsson and Tropp (2011): a Gaussian sketch of A's range refined by ``niter`` power
iterations, then an exact SVD of the small projected matrix. Differentiable through the QR and
SVD they are built from. Results are random (they use minigrad's generator): they match
PyTorch's in distribution and in the low-rank reconstruction, not value for value.
"""

from __future__ import annotations

from .creation import randn


def _range_basis(A, q: int, niter: int):  # noqa: N803 - PyTorch's argument name
    """An orthonormal basis (…, m, ≤q) approximately spanning A's dominant column space."""
    from . import linalg

    sketch = randn(A.shape[-1], q, dtype=A.dtype, device=A.device)
    basis = linalg.qr(A @ sketch).Q
    for _ in range(niter):
        basis = linalg.qr(A.mH @ basis).Q
        basis = linalg.qr(A @ basis).Q
    return basis


def svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803
    """``(U, S, V)`` with ``A - M ≈ U diag(S) Vᴴ`` of rank ``min(q, m, n)`` (``V``, not
    ``Vh``, as PyTorch's): U (…, m, k), S (…, k), V (…, n, k). Exact when ``A - M`` has rank
    at most q; ``niter`` power iterations sharpen the others.

    Example:
        >>> U, S, V = minigrad.svd_lowrank(A, q=3)
        >>> approx = U @ minigrad.diag_embed(S) @ V.mT
    """
    from . import linalg

    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"svd_lowrank: expected a floating point or complex A, got {A.dtype}")
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    if M is not None:
        A = A - M  # noqa: N806
    m, n = A.shape[-2:]
    if m < n:  # sketch the smaller side: the SVD of Aᴴ, swapped back
        v, s, u = svd_lowrank(A.mH, q, niter)
        return u, s, v
    basis = _range_basis(A, q, niter)
    u, s, vh = linalg.svd(basis.mH @ A, full_matrices=False)
    return basis @ u, s, vh.mH


def pca_lowrank(A, q=None, center=True, niter=2):  # noqa: N803
    """``(U, S, V)``: :func:`svd_lowrank` of ``A`` less its column means (with ``center``):
    the columns of V are the principal directions, ``S² / (m - 1)`` the variances along them.
    ``q`` defaults to ``min(6, m, n)``."""
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    if not (isinstance(q, int) and 0 <= q <= min(m, n)):
        raise ValueError(
            f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}"
        )
    if niter < 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(-2, keepdim=True)  # noqa: N806
    return svd_lowrank(A, q, niter)
