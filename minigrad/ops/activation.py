"""Activation functions as fused ops: sigmoid, ReLU and its relatives, GELU, SiLU, softplus.

Each keeps what its derivative needs from forward. The derivatives of sigmoid, ReLU, leaky ReLU,
ELU and GELU are written once for arrays and tensors (:meth:`Op.formula`): a plain backward
runs them on arrays. On a GPU, GELU's forward and plain backward are fused kernels
(``minigrad._fused``) computing the same formulas.
"""

from __future__ import annotations

import math

import numpy as np  # (a host-side constant)

from .. import dtypes
from ..autograd import grad_mode
from .base import Op, check_number_arg, constant, no_derivative, zero_link
from .complex import holomorphic
from .elementwise import opmath_forward, unary, unary_function, where
from .unary import Erf


@holomorphic
class SigmoidOp(Op):
    """y = 1/(1 + e^-x); dy/dx = y(1 - y)"""

    save_output = True

    @opmath_forward
    def forward(self, x):
        xp = self.xp
        if x.dtype.kind == "c":  # no sign to split on: the formula as it stands
            return 1.0 / (1.0 + xp.exp(-x))
        e = xp.exp(-xp.abs(x))  # never overflows: stable for |x| large
        return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def backward(self, gy):
        (y,) = self.saved
        if y.dtype is dtypes.bfloat16:  # in float32, rounded once, as PyTorch's kernel
            return self.formula(_sigmoid_vjp, gy.float(), y.float()).to(y.dtype)
        return self.formula(_sigmoid_vjp, gy, y)


def _sixteen_bit(t) -> bool:
    return t.dtype in (dtypes.float16, dtypes.bfloat16)


def _sigmoid_vjp(ns, gy, y):
    return gy * (1.0 - y) * y  # PyTorch's order of products (float16 rounds after each)


class ReLUOp(Op):
    """y = max(x, 0); dy/dx = 1 where x > 0 (relu'(0) = 0, as PyTorch)"""

    backward_name = "ReluBackward0"
    save_output = True

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        (y,) = self.saved
        return self.formula(_relu_vjp, gy, y)


def _relu_vjp(ns, gy, y):
    return zero_link(gy * (y > 0), y)  # a product, not where(): faster on arrays


class LeakyReLUOp(Op):
    """y = x if x > 0 else slope·x; dy/dx = 1 or slope"""

    backward_name = "LeakyReluBackward0"
    save_inputs = True

    def __init__(self, negative_slope: float):
        self.negative_slope = negative_slope

    def forward(self, x):
        return self.xp.where(x > 0, x, x * self.negative_slope)

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_leaky_relu_vjp, gy, x, self.negative_slope)


def _leaky_relu_vjp(ns, gy, x, negative_slope):
    return zero_link(ns.where(x > 0, gy, gy * negative_slope), x)


class HardsigmoidOp(Op):
    """y = relu6(x + 3) / 6; dy/dx = 1/6 strictly inside (-3, 3), else 0 (0 at ±3 and for NaN,
    as PyTorch). PyTorch implements no derivative of this backward: differentiating the
    gradient raises, as there (:func:`~minigrad.ops.base.no_derivative`)"""

    save_inputs = True

    @opmath_forward
    def forward(self, x):
        return self.xp.clip(x + 3.0, 0.0, 6.0) / 6.0  # (PyTorch's order: a division by 6)

    def backward(self, gy):
        (x,) = self.saved
        if _sixteen_bit(x):  # in float32, rounded once, as PyTorch's kernel
            gx = self.formula(_hardsigmoid_vjp, gy.float(), x.float()).to(x.dtype)
        else:
            gx = self.formula(_hardsigmoid_vjp, gy, x)
        return no_derivative("hardsigmoid_backward", gx, gy, x)


_ONE_SIXTH = float(
    np.float32(1.0 / 6.0)
)  # PyTorch's kernel multiplies by 1.0f / 6.0f (float64 too)


def _hardsigmoid_vjp(ns, gy, x):
    return ns.where((x > -3.0) & (x < 3.0), gy * _ONE_SIXTH, 0.0)


class ELUOp(Op):
    """y = x if x > 0 else α(eˣ - 1); dy/dx = 1 or α·eˣ"""

    backward_name = "EluBackward0"
    save_inputs = True

    def __init__(self, alpha: float):
        self.alpha = alpha

    def forward(self, x):
        xp = self.xp
        return xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_elu_vjp, gy, x, self.alpha)


def _elu_vjp(ns, gy, x, alpha):
    return ns.where(x > 0, gy, gy * alpha * ns.exp(x.clip(max=0.0)))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELUOp(Op):
    """y = x·Φ(x) (exact) or 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) ('tanh');
    dy/dx = Φ(x) + x·φ(x) (exact) or 0.5(1 + t) + 0.5x(1 - t²)·√(2/π)(1 + 3·0.044715x²) ('tanh')

    Forward keeps Φ(x) (or the tanh t), so that backward needs no second erf; under
    ``create_graph`` backward recomputes it with tensor ops, to be differentiable again.
    """

    backward_name = "GeluBackward0"
    save_inputs = True

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise RuntimeError(
                f"approximate argument must be either none or tanh. (gelu: got {approximate!r})"
            )
        self.approximate = approximate

    @opmath_forward
    def forward(self, x):
        xp = self.xp
        kit = self.device.backend.fused
        if kit is not None and kit.supports(x):  # one kernel; backward recomputes Φ(x) or t
            return kit.gelu(x, self.approximate == "tanh")
        if self.approximate == "tanh":
            inner = xp.multiply(x, x, out=xp.empty_like(x))  # out=: an array even for 0-d x
            inner *= 0.044715
            inner += 1.0
            inner *= x
            inner *= _SQRT_2_OVER_PI
            t = xp.tanh(inner, out=inner)
            self.keep(inner=t)
            return (t + 1.0) * x * 0.5
        cdf = self.device.backend.erf(xp.multiply(x, 1.0 / math.sqrt(2.0), out=xp.empty_like(x)))
        cdf += 1.0
        cdf *= 0.5
        cdf = cdf.astype(x.dtype, copy=False)
        self.keep(inner=cdf)
        return x * cdf

    def backward(self, gy):
        (x,) = self.saved
        kit = self.device.backend.fused
        if kit is not None and not grad_mode.is_grad_enabled() and kit.supports(x._data, gy._data):
            # the formula of _gelu_vjp as one kernel (plain backward only: see minigrad._fused)
            return constant(
                kit.gelu_backward(gy._data, x._data, self.approximate == "tanh"), x.device
            )
        if _sixteen_bit(x):  # in float32, rounded once, as PyTorch's kernel
            xf = x.float()
            grad = self.formula(_gelu_vjp, gy.float(), xf, self._inner(xf), self.approximate)
            return grad.to(x.dtype)
        inner = self.reuse("inner", lambda: self._inner(x), x)
        return self.formula(_gelu_vjp, gy, x, inner, self.approximate)

    def _inner(self, x):
        """Φ(x), or the tanh of the 'tanh' form, with tensor ops (differentiable in x)."""
        if self.approximate == "tanh":
            return (_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh()
        return 0.5 * (1.0 + Erf()(x * (1.0 / math.sqrt(2.0))))


def _gelu_vjp(ns, gy, x, inner, approximate):
    """dy = gy·gelu'(x), from ``inner`` = Φ(x), or t = tanh(...) for the 'tanh' form."""
    if approximate == "tanh":
        t = inner
        dinner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
        return gy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)
    return gy * (inner + x * (_INV_SQRT_2PI * ns.exp(-0.5 * x * x)))


@holomorphic
class SiLUOp(Op):
    """y = x·σ(x); dy/dx = σ(x)(1 + x(1 - σ(x)))"""

    backward_name = "SiluBackward0"
    save_inputs = True

    @opmath_forward
    def forward(self, x):
        return x * SigmoidOp.forward(self, x)

    def backward(self, gy):
        (x,) = self.saved
        if _sixteen_bit(x):  # in float32, rounded once, as PyTorch's kernel
            xf = x.float()
            s = xf.sigmoid()
            return (gy.float() * s * (1.0 + xf * (1.0 - s))).to(x.dtype)
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
        (x,) = self.saved
        bx = x * self.beta
        return where(bx > self.threshold, gy, gy * bx.sigmoid())


# -- functions --------------------------------------------------------------------------------


sigmoid = unary_function(SigmoidOp, "sigmoid")
silu = unary_function(SiLUOp, "silu")
relu = unary_function(ReLUOp, "relu", floating=False, bools=False)


def leaky_relu(input, negative_slope=0.01):
    return unary(LeakyReLUOp(negative_slope), input)


def elu(input, alpha=1.0):
    return unary(ELUOp(alpha), input)


def hardsigmoid(input):
    return unary(HardsigmoidOp(), input)


def gelu(input, approximate="none"):
    return unary(GELUOp(approximate), input)


def softplus(input, beta=1.0, threshold=20.0):
    check_number_arg(beta, "softplus", "beta", "Number", 1)
    check_number_arg(threshold, "softplus", "threshold", "Number", 2)
    return unary(SoftplusOp(beta, threshold), input)
