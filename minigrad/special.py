"""``minigrad.special``, laid out as ``torch.special``: the special functions under SciPy's and
PyTorch's names (``gammaln``, ``psi``, ``expit``, ``ndtr``, ...).

Every function here is differentiable to any order (see :mod:`minigrad.ops.special`).

Example:
    >>> import minigrad
    >>> minigrad.special.gammaln(minigrad.tensor([4.0]))  # log 3! = 1.7918
"""

from __future__ import annotations

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

expit = sigmoid
psi = digamma
multigammaln = mvlgamma

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln",
    "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py",
    "xlogy",
]  # fmt: skip


def softmax(input, dim, *, dtype=None):
    """``torch.special.softmax``: softmax along ``dim`` (computed in ``dtype`` if given)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """``torch.special.log_softmax``: log-softmax along ``dim`` (in ``dtype`` if given)."""
    return _log_softmax(input, dim, dtype=dtype)


def round(input, *, decimals=0):
    """``torch.special.round``: round half to even, to ``decimals`` places."""
    return _round(input, decimals)
