"""Iterative and randomized spectral methods: ``torch.lobpcg`` (see :mod:`minigrad.ops.lobpcg`),
and the randomized low-rank SVD and PCA (``torch.svd_lowrank``, ``torch.pca_lowrank``), after Halko,
Martinsson and Tropp (2011): a Gaussian sketch of A's range refined by ``niter`` power
iterations, then an exact SVD of the small projected matrix. Differentiable through the QR and
SVD they are built from. Results are random (they use minigrad's generator): they match
PyTorch's in distribution and in the low-rank reconstruction, not value for value.
"""

from __future__ import annotations

import numpy as np  # host-side constants only (finfo)

from .autograd.graph import names_node
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


@names_node("LOBPCGAutogradFunctionBackward")
def lobpcg(
    A,  # noqa: N803 - PyTorch's argument names
    k=None,
    B=None,  # noqa: N803
    X=None,  # noqa: N803
    n=None,
    iK=None,  # noqa: N803
    niter=None,
    tol=None,
    largest=None,
    method=None,
    tracker=None,
    ortho_iparams=None,
    ortho_fparams=None,
    ortho_bparams=None,
):
    """``(E, X)``: the ``k`` largest (``largest=False``: smallest) eigenvalues of the symmetric
    ``A`` (…, m, m), or of ``A x = λ B x``, and their eigenvectors (…, m, k), by LOBPCG from the
    start ``X`` (random ``n`` columns by default, ``n = k``), preconditioned by ``iK``; at most
    ``niter`` steps (1000 by default, -1: until converged) until the relative residuals are
    below ``tol`` (√eps). E is descending for the largest, ascending for the smallest.
    Differentiable in ``A`` (not ``B``, as PyTorch's). Differs on purpose: ``method`` 'basic'
    and 'ortho' run the same (robust) Rayleigh-Ritz, so ``ortho_*params`` are unused, and
    ``tracker`` is not supported.

    Example:
        >>> E, X = minigrad.lobpcg(A @ A.mT, k=2)   # the two largest eigenpairs
    """
    from .ops.lobpcg import LOBPCG

    _check_lobpcg(A, B, X, iK, method, tracker)
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(
            f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller "
            f"than 3 x the number of requested eigenpairs (={n})"
        )
    if X is None:
        X = randn(*A.shape[:-2], m, n, dtype=A.dtype, device=A.device)  # noqa: N806
    eps = float(np.finfo(A._data.dtype).eps)
    niter = 1000 if niter is None else (1 << 30 if niter < 0 else niter)
    op = LOBPCG(
        k,
        True if largest is None else largest,
        eps**0.5 if tol is None else tol,
        niter,
    )
    args = (A, X.detach()) + (
        (B, iK.detach() if iK is not None else None) if B is not None or iK is not None else ()
    )
    values, vectors = op.unpack(op(*args))
    return values, vectors


def _check_lobpcg(A, B, X, iK, method, tracker):  # noqa: N803
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"lobpcg: A must be square, got shape {list(A.shape)}")
    if not A.dtype.is_floating_point or A.dtype.itemsize < 4:
        raise RuntimeError(f"lobpcg: A must be float32 or float64, got {A.dtype}")
    for name, t in (("B", B), ("iK", iK)):
        if t is not None and tuple(t.shape) != tuple(A.shape):
            raise ValueError(
                f"lobpcg: {name} must have A's shape {list(A.shape)}, got {list(t.shape)}"
            )
    if X is not None and (X.ndim < 2 or X.shape[-2] != A.shape[-1]):
        raise ValueError(f"lobpcg: X must be (…, {A.shape[-1]}, n), got {list(X.shape)}")
    if method not in (None, "basic", "ortho"):
        raise ValueError(f"lobpcg: method must be 'basic' or 'ortho', got {method!r}")
    if tracker is not None:
        raise NotImplementedError("lobpcg: tracker (a per-iteration callback) is not supported")
