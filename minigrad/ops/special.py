"""Special functions as differentiable ops: lgamma, digamma, polygamma, erfc, erfcx, erfinv,
ndtr, ndtri, log_ndtr, the modified Bessel functions i0/i0e/i1/i1e, sinc, entr, xlog1py and
mvlgamma (composed from lgamma).

Forwards go through :meth:`ArrayBackend.special` (minigrad's own kernels on NumPy,
``cupyx.scipy.special`` on CuPy). Backwards are written with these same tensor functions
(digamma's derivative is polygamma(1), ...), so every order of derivative exists.
"""

from __future__ import annotations

import math

from ..autograd.graph import names_node
from ._size import check_int64
from .base import Op
from .elementwise import binary, operand_dtype, unary, unary_function, where
from .unary import cos, exp, log, log1p, sign

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _no_bfloat16(dtype, name: str) -> None:
    """Raise as PyTorch, which has no bfloat16 kernel for ``name``."""
    if dtype.name == "bfloat16":
        raise NotImplementedError(f"\"{name}\" not implemented for 'BFloat16'")


class _Special(Op):
    """A one-input special function computed by the backend (``scipy_name``)."""

    save_inputs = True
    scipy_name = ""
    half = True  # False: PyTorch has no float16/bfloat16 CPU kernel, so neither do we

    def forward(self, x):
        if not self.half and x.dtype.name in ("float16", "bfloat16"):
            name = "Half" if x.dtype.name == "float16" else "BFloat16"
            raise NotImplementedError(f"\"{self.scipy_name}_cpu\" not implemented for '{name}'")
        return self.device.backend.special(self.scipy_name, x)


class Lgamma(_Special):
    """y = log|Γ(x)|; dy/dx = digamma(x)"""

    scipy_name = "gammaln"

    def backward(self, gy):
        (x,) = self.saved
        return gy * digamma(x)


class Digamma(_Special):
    """y = ψ(x); dy/dx = polygamma(1, x)"""

    scipy_name = "digamma"

    def backward(self, gy):
        (x,) = self.saved
        return gy * polygamma(1, x)


class Polygamma(Op):
    """y = ψ⁽ⁿ⁾(x); dy/dx = ψ⁽ⁿ⁺¹⁾(x)"""

    save_inputs = True

    def __init__(self, n: int):
        self.n = n

    def forward(self, x):
        if self.n == 0:
            return self.device.backend.special("digamma", x)
        return self.device.backend.special("polygamma", x, self.n)

    def backward(self, gy):
        (x,) = self.saved
        return gy * polygamma(self.n + 1, x)


class Erfc(_Special):
    """y = 1 - erf(x) (no cancellation for large x); dy/dx = -2/√π · exp(-x²)"""

    scipy_name = "erfc"

    def backward(self, gy):
        (x,) = self.saved
        return gy * (-2.0 / _SQRT_PI) * exp(-(x * x))


class Erfcx(_Special):
    """y = exp(x²)·erfc(x); dy/dx = 2x·y - 2/√π"""

    backward_name = "SpecialErfcxBackward0"
    scipy_name = "erfcx"
    half = False

    def backward(self, gy):
        (x,) = self.saved
        return gy * (2.0 * x * erfcx(x) - 2.0 / _SQRT_PI)


class Erfinv(_Special):
    """y = erf⁻¹(x); dy/dx = √π/2 · exp(y²)"""

    save_inputs = False
    save_output = True
    scipy_name = "erfinv"

    def backward(self, gy):
        (y,) = self.saved
        return gy * (0.5 * _SQRT_PI) * exp(y * y)


class Ndtr(_Special):
    """y = Φ(x) = ½·erfc(-x/√2); dy/dx = exp(-x²/2)/√(2π)"""

    backward_name = "MulBackward1"  # PyTorch composes ndtr: its last node is the ½·(...)
    scipy_name = "ndtr"

    def backward(self, gy):
        (x,) = self.saved
        return gy * exp(-0.5 * x * x) / _SQRT_2PI


class Ndtri(_Special):
    """y = Φ⁻¹(x); dy/dx = √(2π) · exp(y²/2)"""

    backward_name = "SpecialNdtriBackward0"
    save_inputs = False
    save_output = True
    scipy_name = "ndtri"
    half = False

    def backward(self, gy):
        (y,) = self.saved
        return gy * _SQRT_2PI * exp(0.5 * y * y)


class LogNdtr(_Special):
    """y = log Φ(x); dy/dx = exp(-x²/2 - y)/√(2π) (finite far into the lower tail)"""

    backward_name = "SpecialLogNdtrBackward0"
    save_output = True
    scipy_name = "log_ndtr"
    half = False

    def backward(self, gy):
        x, y = self.saved
        return gy * exp(-0.5 * x * x - y) / _SQRT_2PI


class I0(_Special):
    """y = I₀(x); dy/dx = I₁(x)"""

    scipy_name = "i0"

    def backward(self, gy):
        (x,) = self.saved
        return gy * i1(x)


class I0e(_Special):
    """y = exp(-|x|)·I₀(x); dy/dx = i1e(x) - sign(x)·y"""

    backward_name = "SpecialI0EBackward0"
    save_output = True
    scipy_name = "i0e"

    def backward(self, gy):
        x, y = self.saved
        return gy * (i1e(x) - sign(x) * y)


def _over_x(x, numerator, at_zero):
    """numerator/x, with ``at_zero`` (the limit) where x = 0."""
    zero = x == 0
    return where(zero, at_zero, numerator / where(zero, 1.0, x))


class I1(_Special):
    """y = I₁(x); dy/dx = I₀(x) - y/x (½ at 0)"""

    backward_name = "SpecialI1Backward0"
    save_output = True
    scipy_name = "i1"

    def backward(self, gy):
        x, y = self.saved
        _no_bfloat16(x.dtype, "i1_backward")
        return gy * where(x == 0, 0.5, i0(x) - _over_x(x, y, 0.0))


class I1e(_Special):
    """y = exp(-|x|)·I₁(x); dy/dx = i0e(x) - y·(sign(x) + 1/x) (½ at 0)"""

    backward_name = "SpecialI1EBackward0"
    save_output = True
    scipy_name = "i1e"

    def backward(self, gy):
        x, y = self.saved
        _no_bfloat16(x.dtype, "i1e_backward")
        return gy * where(x == 0, 0.5, i0e(x) - sign(x) * y - _over_x(x, y, 0.0))


class Sinc(Op):
    """y = sin(πx)/(πx) (1 at 0); dy/dx = (cos(πx) - y)/x (0 at 0)"""

    save_inputs = True
    save_output = True

    def forward(self, x):
        return self.xp.sinc(x)

    def backward(self, gy):
        x, y = self.saved
        return gy * _over_x(x, cos(math.pi * x) - y, 0.0)


class Entr(Op):
    """y = -x·log(x) (0 at 0, -inf below); dy/dx = -(1 + log x)"""

    backward_name = "SpecialEntrBackward0"
    save_inputs = True

    def forward(self, x):
        xp = self.xp
        inside = -x * xp.log(xp.where(x > 0, x, 1.0))  # log of positives only: no warnings
        y = xp.where(x > 0, inside, xp.where(x == 0, 0.0, -xp.inf)).astype(x.dtype, copy=False)
        return xp.where(xp.isnan(x), x, y)

    def backward(self, gy):
        (x,) = self.saved
        return gy * -(1.0 + log(x))


class Xlog1py(Op):
    """z = x·log1p(y), 0 where x = 0 (unless y is NaN); dz/dx = log1p(y) (0 where x = 0),
    dz/dy = x/(1 + y) (as PyTorch)"""

    backward_name = "SpecialXlog1PyBackward0"
    save_inputs = True

    def forward(self, x, y):
        xp = self.xp
        with_log = (x * xp.log1p(y)).astype(operand_dtype(x, y), copy=False)
        return xp.where((x == 0) & ~xp.isnan(y), xp.zeros_like(with_log), with_log)

    def backward(self, gz):
        x, y = self.saved
        return where(x == 0, 0.0, gz * log1p(y)), gz * x / (1.0 + y)


# -- functions --------------------------------------------------------------------------------

lgamma = unary_function(Lgamma, "lgamma")
digamma = unary_function(Digamma, "digamma")
erfc = unary_function(Erfc, "erfc")
erfcx = unary_function(Erfcx, "erfcx")
erfinv = unary_function(Erfinv, "erfinv")
ndtr = unary_function(Ndtr, "ndtr")
ndtri = unary_function(Ndtri, "ndtri")
log_ndtr = unary_function(LogNdtr, "log_ndtr")
i0 = unary_function(I0, "i0")
i0e = unary_function(I0e, "i0e")
i1 = unary_function(I1, "i1")
i1e = unary_function(I1e, "i1e")
sinc = unary_function(Sinc, "sinc")
entr = unary_function(Entr, "entr")


def polygamma(n: int, input):
    """ψ⁽ⁿ⁾(input), the n-th derivative of digamma (n = 0 is digamma itself).

    Example: ``polygamma(1, tensor([1.0]))`` is π²/6.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    check_int64(n, "polygamma", "n")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return unary(Polygamma(n), input, True)


def xlog1py(input, other):
    """input·log1p(other), with 0 where input is 0 (the convention of entropy terms)."""
    return binary(Xlog1py(), input, other, floating=True)


@names_node("MvlgammaBackward0")
def mvlgamma(input, p: int):
    """The multivariate log-gamma of dimension p: p(p-1)/4·log π + Σ_{i<p} lgamma(x - i/2).

    Defined for x > (p-1)/2; like PyTorch 2.x, other x are not checked (no device sync).
    """
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1, got {p!r}")
    total = lgamma(input)
    for i in range(1, p):
        total = total + lgamma(input - 0.5 * i)
    return total + p * (p - 1) / 4 * math.log(math.pi)
