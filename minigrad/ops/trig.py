"""Inverse trigonometric and hyperbolic functions, ``atan2``, the base-2/base-10 logarithms and
exponential, and the two-input functions whose composition would lose range or precision
(``hypot``, ``logaddexp``, ``xlogy``, ``copysign``, ``fmod``): one op each, as the rest of ``unary.py``."""

from __future__ import annotations

import math

import numpy as np

from .base import Op, kernel_dtypes
from .complex import holomorphic
from .elementwise import (
    binary,
    by_divisor,
    check_integer_divisor,
    operand_dtype,
    refuse_two_bools,
    unary_function,
    where,
)


@holomorphic
class Asin(Op):
    """y = asin(x); dy/dx = 1/√(1 - x²)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.arcsin(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * (1.0 - x * x).rsqrt()


@holomorphic
class Acos(Op):
    """y = acos(x); dy/dx = -1/√(1 - x²)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.arccos(x)

    def backward(self, gy):
        (x,) = self.saved
        return -gy * (1.0 - x * x).rsqrt()


@holomorphic
class Atan(Op):
    """y = atan(x); dy/dx = 1/(1 + x²)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.arctan(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy / (1.0 + x * x)


@holomorphic
class Sinh(Op):
    """y = sinh(x); dy/dx = cosh(x)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.sinh(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * x.cosh()


@holomorphic
class Cosh(Op):
    """y = cosh(x); dy/dx = sinh(x)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.cosh(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * x.sinh()


@holomorphic
class Asinh(Op):
    """y = asinh(x); dy/dx = 1/√(x² + 1)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.arcsinh(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * (x * x + 1.0).rsqrt()


@holomorphic
class Acosh(Op):
    """y = acosh(x); dy/dx = 1/√(x² - 1)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.arccosh(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * (x * x - 1.0).rsqrt()


@holomorphic
class Atanh(Op):
    """y = atanh(x); dy/dx = 1/(1 - x²)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.arctanh(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy / (1.0 - x * x)


@holomorphic
class Log2(Op):
    """y = log₂(x); dy/dx = 1/(x·ln 2)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.log2(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy / (x * math.log(2.0))


@holomorphic
class Log10(Op):
    """y = log₁₀(x); dy/dx = 1/(x·ln 10)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.log10(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy / (x * math.log(10.0))


@holomorphic
class Exp2(Op):
    """y = 2ˣ; dy/dx = y·ln 2"""

    save_output = True

    def forward(self, x):
        return self.xp.exp2(x)

    def backward(self, gy):
        (y,) = self.saved
        return gy * y * math.log(2.0)


class Atan2(Op):
    """z = atan2(y, x), the angle of (x, y); dz/dy = x/(x² + y²), dz/dx = -y/(x² + y²)
    (0 at the origin, as PyTorch, where the formula would give 0/0)"""

    save_inputs = True

    def forward(self, y, x):
        return self.xp.arctan2(y, x)

    def backward(self, gz):
        y, x = self.saved
        r2 = x * x + y * y
        origin = r2 == 0
        scale = where(origin, 0.0, gz / where(origin, 1.0, r2))
        return scale * x, -scale * y


class Hypot(Op):
    """z = √(x² + y²) without overflow; dz/dx = x/z, dz/dy = y/z"""

    save_inputs = True
    save_output = True

    def forward(self, x, y):
        return self.xp.hypot(x, y)

    def backward(self, gz):
        x, y, z = self.saved
        scale = gz / z
        return scale * x, scale * y


class LogAddExp(Op):
    """z = log(eˣ + eʸ); dz/dx = e^(x - z), dz/dy = e^(y - z)"""

    backward_name = "LogaddexpBackward0"
    save_inputs = True
    save_output = True

    def forward(self, x, y):
        return self.xp.logaddexp(x, y)

    def backward(self, gz):
        x, y, z = self.saved
        return gz * (x - z).exp(), gz * (y - z).exp()


class LogAddExp2(Op):
    """z = log₂(2ˣ + 2ʸ); dz/dx = 2^(x - z), dz/dy = 2^(y - z)"""

    backward_name = "Logaddexp2Backward0"
    save_inputs = True
    save_output = True

    def forward(self, x, y):
        return self.xp.logaddexp2(x, y)

    def backward(self, gz):
        x, y, z = self.saved
        return gz * (x - z).exp2(), gz * (y - z).exp2()


class Xlogy(Op):
    """z = x·log(y), 0 where x = 0 (unless y is NaN); dz/dx = log(y) (0 where x = 0),
    dz/dy = x/y (as PyTorch)"""

    save_inputs = True

    def forward(self, x, y):
        xp = self.xp
        with np.errstate(divide="ignore", invalid="ignore"):  # log(y < 0) = nan, silently
            with_log = (x * xp.log(y)).astype(operand_dtype(x, y), copy=False)
        return xp.where((x == 0) & ~xp.isnan(y), xp.zeros_like(with_log), with_log)

    def backward(self, gz):
        x, y = self.saved
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0), 0/0: silently, as PyTorch
            return where(x == 0, 0.0, gz * y.log()), gz * x / y


class Copysign(Op):
    """z = |x| with the sign of y (also of -0.0); dz/dx = z/x (0 at x = 0, as PyTorch), dz/dy = 0"""

    save_inputs = True
    save_output = True

    def forward(self, x, y):
        return self.xp.copysign(x, y)

    def backward(self, gz):
        x, _, z = self.saved
        return where(x == 0, 0.0, gz * z / x), gz * 0.0


class Fmod(Op):
    """z = x - trunc(x/y)·y, the C remainder (sign of x); dz/dx = 1, dz/dy = -trunc(x/y)"""

    save_inputs = True

    def forward(self, x, y):
        check_integer_divisor(self.xp, x, y, "fmod")
        return self.xp.fmod(x, y)

    def backward(self, gz):
        x, y = self.saved
        return gz, -gz * (x / y).trunc()

    def name(self) -> str:
        return by_divisor(self, "Fmod")


# -- functions --------------------------------------------------------------------------------


asin = unary_function(Asin, "asin")
acos = unary_function(Acos, "acos")
atan = unary_function(Atan, "atan")
sinh = unary_function(Sinh, "sinh")
cosh = unary_function(Cosh, "cosh")
asinh = unary_function(Asinh, "asinh")
acosh = unary_function(Acosh, "acosh")
atanh = unary_function(Atanh, "atanh")
log2 = unary_function(Log2, "log2")
log10 = unary_function(Log10, "log10")
exp2 = unary_function(Exp2, "exp2")


def atan2(input, other):
    """The angle of the point (other, input) in (-π, π], elementwise (``torch.atan2``)."""
    return binary(Atan2(), input, other, floating=True)


@kernel_dtypes("hypot_cpu", pair=True)
def hypot(input, other):
    """√(input² + other²) elementwise, without intermediate overflow."""
    return binary(Hypot(), input, other, floating=True)


@kernel_dtypes("logaddexp_cpu", pair=True)
def logaddexp(input, other):
    """log(exp(input) + exp(other)) elementwise, stable for large magnitudes."""
    return binary(LogAddExp(), input, other, floating=True)


@kernel_dtypes("logaddexp2_cpu", pair=True)
def logaddexp2(input, other):
    """log₂(2^input + 2^other) elementwise."""
    return binary(LogAddExp2(), input, other, floating=True)


def xlogy(input, other):
    """input·log(other), with 0 where input is 0 (the convention of entropy terms)."""
    return binary(Xlogy(), input, other, floating=True)


def copysign(input, other):
    """``|input|`` with the sign of ``other``, elementwise (integer inputs give floats)."""
    return binary(Copysign(), input, other, floating=True)


def fmod(input, other):
    """The remainder of input/other with the sign of input (C's fmod; ``remainder`` follows
    the divisor's sign)."""
    refuse_two_bools(input, other, "fmod_cpu", "fmod")
    return binary(Fmod(), input, other, floating=False)
