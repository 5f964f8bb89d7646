"""``minigrad.special``, laid out as ``torch.special``: the special functions under SciPy's and
PyTorch's names (``gammaln``, ``psi``, ``expit``, ``ndtr``, ...), the Bessel and Airy functions,
the orthogonal polynomials, the incomplete gamma functions and the Hurwitz zeta function.

Every function here is differentiable to any order (see :mod:`minigrad.ops.special`).

Example:
    >>> import minigrad
    >>> minigrad.special.gammaln(minigrad.tensor([4.0]))  # log 3! = 1.7918
"""

from __future__ import annotations

from . import dtypes
from .ops import (
    digamma,
    entr,
    erf,
    erfc,
    erfcx,
    erfinv,
    exp2,
    expm1,
    i0,
    i0e,
    i1,
    i1e,
    log1p,
    log_ndtr,
    logit,
    logsumexp,
    mvlgamma,
    ndtr,
    ndtri,
    polygamma,
    sigmoid,
    sinc,
    xlog1py,
    xlogy,
)
from .ops import lgamma as gammaln
from .ops import log_softmax as _log_softmax
from .ops import round as _round
from .ops import softmax as _softmax
from .ops.special_bessel import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    spherical_bessel_j0,
)
from .ops.special_poly import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    gammainc,
    gammaincc,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    zeta,
)

expit = sigmoid
psi = digamma
multigammaln = mvlgamma

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln",
    "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py",
    "xlogy",
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
    "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1", "spherical_bessel_j0", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
    "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p", "gammainc",
    "gammaincc", "zeta",
]  # fmt: skip


def softmax(input, dim, *, dtype=None):
    """``torch.special.softmax``: softmax along ``dim`` (computed in ``dtype`` if given)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """``torch.special.log_softmax``: log-softmax along ``dim`` (in ``dtype`` if given)."""
    return _log_softmax(input, dim, dtype=dtype)


def round(input, *, decimals=0):
    """``torch.special.round``: round half to even, to ``decimals`` places. Integer tensors
    are refused, as PyTorch's kernel does (``torch.round`` returns them as they are)."""
    if not (input.is_floating_point() or input.is_complex()):
        raise NotImplementedError(
            f"\"round_vml_cpu\" not implemented for '{dtypes.scalar_type_name(input.dtype)}'"
        )
    return _round(input, decimals=decimals)
