"""Activation functions as fused ops: sigmoid, ReLU and its relatives, GELU, SiLU, softplus.

Each keeps what its derivative needs from forward; ReLU and GELU also have a plain-backward
path on arrays, used when no graph of the backward is being built.
"""

from __future__ import annotations

import math

from ..autograd import grad_mode
from .base import Op, constant
from .elementwise import unary, unary_function, where
from .unary import Erf


class SigmoidOp(Op):
    """y = 1/(1 + e^-x); dy/dx = y(1 - y)"""

    save_output = True

    def forward(self, x):
        xp = self.xp
        e = xp.exp(-xp.abs(x))  # never overflows: stable for |x| large
        return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * y * (1.0 - y)


class ReLUOp(Op):
    """y = max(x, 0); dy/dx = 1 where x > 0 (relu'(0) = 0, as PyTorch)"""

    save_output = True

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        (y,) = self.saved_tensors
        if not grad_mode.is_grad_enabled():  # a plain backward: one pass, no graph
            return constant(gy._data * (y._data > 0), gy.device)
        return where(y > 0, gy, 0.0)


class LeakyReLUOp(Op):
    """y = x if x > 0 else slope·x; dy/dx = 1 or slope"""

    save_inputs = True

    def __init__(self, negative_slope: float):
        self.negative_slope = negative_slope

    def forward(self, x):
        return self.xp.where(x > 0, x, x * self.negative_slope)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return where(x > 0, gy, gy * self.negative_slope)


class ELUOp(Op):
    """y = x if x > 0 else α(eˣ - 1); dy/dx = 1 or α·eˣ"""

    save_inputs = True

    def __init__(self, alpha: float):
        self.alpha = alpha

    def forward(self, x):
        xp = self.xp
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy):
        (x,) = self.saved_tensors
        return where(x > 0, gy, gy * self.alpha * x.clamp(max=0.0).exp())


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELUOp(Op):
    """y = x·Φ(x) (exact) or 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) ('tanh');
    dy/dx = Φ(x) + x·φ(x) (exact) or the derivative of the tanh form

    Forward keeps Φ(x) (or the tanh) so that a plain backward is a few in-place passes; under
    ``create_graph`` backward is built from tensor ops instead, to be differentiable again.
    """

    save_inputs = True

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        xp = self.xp
        if self.approximate == "tanh":
            inner = xp.multiply(x, x, out=xp.empty_like(x))  # out=: an array even for 0-d x
            inner *= 0.044715
            inner += 1.0
            inner *= x
            inner *= _SQRT_2_OVER_PI
            self.kept = t = xp.tanh(inner, out=inner)
            return (t + 1.0) * x * 0.5
        cdf = self.device.backend.erf(xp.multiply(x, 1.0 / math.sqrt(2.0), out=xp.empty_like(x)))
        cdf += 1.0
        cdf *= 0.5
        self.kept = cdf = cdf.astype(x.dtype, copy=False)
        return x * cdf

    def release(self) -> None:
        self.kept = None
        super().release()

    def backward(self, gy):
        (x,) = self.saved_tensors
        if not grad_mode.is_grad_enabled():
            return constant(self._slope(x._data) * gy._data, gy.device)
        if self.approximate == "tanh":
            x2 = x * x
            t = (_SQRT_2_OVER_PI * (x + 0.044715 * x2 * x)).tanh()
            dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x2)
            return gy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)
        cdf = 0.5 * (1.0 + Erf()(x * (1.0 / math.sqrt(2.0))))
        pdf = _INV_SQRT_2PI * (-0.5 * x * x).exp()
        return gy * (cdf + x * pdf)

    def _slope(self, x):
        """dy/dx as an array, from the values forward kept."""
        xp = self.xp
        slope = xp.multiply(x, x, out=xp.empty_like(x))  # out=: an array even for 0-d x
        if self.approximate == "tanh":
            t = self.kept
            slope *= 3 * 0.044715 * _SQRT_2_OVER_PI
            slope += _SQRT_2_OVER_PI  # d(inner)/dx
            slope *= 1.0 - t * t
            slope *= x
            slope += t
            slope += 1.0
            slope *= 0.5
            return slope
        slope *= -0.5
        xp.exp(slope, out=slope)
        slope *= _INV_SQRT_2PI
        slope *= x
        slope += self.kept
        return slope


class SiLUOp(Op):
    """y = x·σ(x); dy/dx = σ(x)(1 + x(1 - σ(x)))"""

    save_inputs = True

    def forward(self, x):
        return x * SigmoidOp.forward(self, x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        s = x.sigmoid()
        return gy * s * (1.0 + x * (1.0 - s))


class SoftplusOp(Op):
    """y = log(1 + e^(βx))/β (y = x where βx > threshold); dy/dx = σ(βx) (1 past the threshold)"""

    save_inputs = True

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        xp = self.xp
        bx = x * self.beta
        return xp.where(bx > self.threshold, x, xp.logaddexp(0, bx) / self.beta).astype(x.dtype)

    def backward(self, gy):
        (x,) = self.saved_tensors
        bx = x * self.beta
        return where(bx > self.threshold, gy, gy * bx.sigmoid())


# -- functions --------------------------------------------------------------------------------


sigmoid = unary_function(SigmoidOp, "sigmoid")
silu = unary_function(SiLUOp, "silu")
relu = unary_function(ReLUOp, "relu", floating=False, bools=False)


def leaky_relu(input, negative_slope=0.01):  # noqa: A002
    return unary(LeakyReLUOp(negative_slope), input)


def elu(input, alpha=1.0):  # noqa: A002
    return unary(ELUOp(alpha), input)


def gelu(input, approximate="none"):  # noqa: A002
    return unary(GELUOp(approximate), input)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    return unary(SoftplusOp(beta, threshold), input)
