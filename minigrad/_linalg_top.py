"""The linear-algebra functions PyTorch keeps at top level and as Tensor methods (``torch.lu``,
``lu_unpack``, ``lu_solve``, ``geqrf``, ``orgqr``, ``ormqr``, ``nuclear_norm``,
``frobenius_norm``, ``svd_lowrank``, ``pca_lowrank``), and the ones PyTorch 1.9 removed
(``lstsq``, ``solve``, ``eig``, ``symeig``, ``matrix_rank``), which raise as PyTorch's do.

Each imports :mod:`minigrad.linalg` when called: the Tensor class (below it) uses them as
methods.
"""

from __future__ import annotations

from ._warnings import warn_deprecated_linalg, warn_user
from .ops.base import autocast_op


@autocast_op("lu")
def lu(A, pivot=True, get_infos=False):  # noqa: N803 - PyTorch's argument name
    """``(LU, pivots)`` (with ``info`` when ``get_infos``): deprecated ``torch.lu`` and
    ``Tensor.lu``, see :func:`minigrad.linalg.lu_factor_ex`; PyTorch's kernel under both warns
    once per process, and so does this."""
    from ._linalg_lu import lu_legacy
    from .ops.base import check_bool_arg

    warn_deprecated_linalg("lu")
    check_bool_arg(pivot, "lu", "pivot")
    return lu_legacy(A, pivot, get_infos)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):  # noqa: N803
    """``(P, L, U)`` from :func:`minigrad.linalg.lu_factor`'s results."""
    from ._linalg_lu import lu_unpack as unpack

    return unpack(LU_data, LU_pivots, unpack_data, unpack_pivots)


@autocast_op("lu_solve")
def lu_solve(b, LU_data, LU_pivots):  # noqa: N803
    """``torch.lu_solve(b, LU_data, LU_pivots)``: the ``x`` with ``A x = b`` from A's LU."""
    from ._linalg_lu import lu_solve_legacy

    warn_deprecated_linalg("lu_solve")
    return lu_solve_legacy(b, LU_data, LU_pivots)


@autocast_op("geqrf")
def geqrf(input):
    """``(a, tau)``: LAPACK's geqrf (see :func:`minigrad._linalg_more.geqrf`)."""
    from ._linalg_more import geqrf as householder_qr

    return householder_qr(input)


@autocast_op("orgqr")
def orgqr(input, input2):
    """Q from :func:`geqrf`'s reflectors: :func:`minigrad.linalg.householder_product`."""
    from ._linalg_more import householder_product

    return householder_product(input, input2)


@autocast_op("ormqr")
def ormqr(input, input2, input3, left=True, transpose=False):
    """``Q @ input3`` (or ``input3 @ Q``, with ``Qᴴ`` when ``transpose``) for the Q of the
    reflectors ``input``, ``input2``."""
    from ._linalg_more import ormqr as multiply

    return multiply(input, input2, input3, left, transpose)


def _deprecated_norm(name: str, replacement: str):
    warn_user(
        f"{name} is deprecated and it is just left for JIT compatibility. It will be removed in "
        f"a future PyTorch release. Please use {replacement} instead",
        UserWarning,
    )


def nuclear_norm(input, dim=None, keepdim=False):
    """``torch.nuclear_norm`` (deprecated there): ``linalg.matrix_norm(input, 'nuc', ...)``."""
    from ._linalg_more import nuclear_norm as norm

    _deprecated_norm("nuclear_norm", "`linalg.matrix_norm(A, 'nuc', dim, keepdim)`")
    return norm(input, dim, keepdim)


def frobenius_norm(input, dim, keepdim=False):
    """``torch.frobenius_norm`` (deprecated there): ``linalg.vector_norm(input, 2, dim, ...)``."""
    from ._linalg_more import frobenius_norm as norm

    _deprecated_norm("frobenius_norm", "`linalg.vector_norm(A, 2., dim, keepdim)`")
    return norm(input, dim, keepdim)


def svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803
    """``(U, S, V)``: a randomized rank-``q`` SVD, see :mod:`minigrad._linalg_lowrank`."""
    from ._linalg_lowrank import svd_lowrank as randomized

    return randomized(A, q, niter, M)


def pca_lowrank(A, q=None, center=True, niter=2):  # noqa: N803
    """``(U, S, V)``: a randomized PCA, see :mod:`minigrad._linalg_lowrank`."""
    from ._linalg_lowrank import pca_lowrank as randomized

    return randomized(A, q, center, niter)


def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None, **kw):  # noqa: N803
    """``(E, X)``: k extreme eigenpairs by LOBPCG, see :mod:`minigrad._linalg_lowrank`."""
    from ._linalg_lowrank import lobpcg as iterate

    return iterate(A, k, B, X, n, iK, niter, tol, largest, **kw)


_REMOVED = {
    "lstsq": "torch.linalg.lstsq(A, B) (its arguments are reversed, and it returns the "
    "solution, residuals, rank and singular values rather than the QR decomposition)",
    "solve": "torch.linalg.solve(A, B) (its arguments are reversed; for the LU factorization "
    "see torch.linalg.lu_factor, with torch.linalg.lu_solve)",
    "eig": "torch.linalg.eig(A) or torch.linalg.eigvals(A), which return complex tensors",
    "symeig": "torch.linalg.eigh(A, UPLO='U' if upper else 'L') or torch.linalg.eigvalsh "
    "(which read the lower triangle by default)",
    "matrix_rank": "torch.linalg.matrix_rank(A, hermitian=...) (the parameter 'symmetric' is "
    "now 'hermitian')",
}


def _removed(name: str):
    def removed(*args, **kwargs):
        raise RuntimeError(
            f"This function was deprecated since version 1.9 and is now removed. torch.{name} "
            f"is replaced by {_REMOVED[name]}."
        )

    removed.__name__ = removed.__qualname__ = name
    removed.__doc__ = "Removed in PyTorch 1.9: raises RuntimeError pointing to its replacement."
    return removed


lstsq, solve, eig, symeig, matrix_rank = (_removed(n) for n in _REMOVED)
