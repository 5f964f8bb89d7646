"""Elementwise math of one tensor: exp, log, roots, trigonometry, erf, clamp, and the
piecewise-constant functions (sign, round, floor, ...) whose gradient is zero.

Derivatives are written once for arrays and tensors (:meth:`Op.formula`), so that a plain
backward runs them on arrays; abs keeps a tensor formula (NumPy's sign of NaN differs).
"""

from __future__ import annotations

import math

from .. import dtypes
from ..autograd import forward_ad, grad_mode, graph
from ..autograd.graph import named_as
from .base import Op
from .complex import complex_abs, holomorphic
from .elementwise import div, maximum, minimum, mul, opmath_forward, unary_function, where


@holomorphic
class Exp(Op):
    """y = exp(x); dy/dx = y"""

    save_output = True

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, gy):
        (y,) = self.saved
        return self.formula(_exp_vjp, gy, y)


def _exp_vjp(ns, gy, y):
    return gy * y


@holomorphic
class Log(Op):
    """y = log(x); dy/dx = 1/x"""

    save_inputs = True

    def forward(self, x):
        return self.xp.log(x)

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_log_vjp, gy, x)


def _log_vjp(ns, gy, x):
    return gy / x


@holomorphic
class Log1p(Op):
    """y = log(1 + x); dy/dx = 1/(1 + x)"""

    backward_name = "Log1PBackward0"
    save_inputs = True

    def forward(self, x):
        return self.xp.log1p(x)

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_log1p_vjp, gy, x)


def _log1p_vjp(ns, gy, x):
    return gy / (x + 1.0)


@holomorphic
class Expm1(Op):
    """y = exp(x) - 1; dy/dx = y + 1"""

    save_output = True

    def forward(self, x):
        return self.xp.expm1(x)

    def backward(self, gy):
        (y,) = self.saved
        return self.formula(_expm1_vjp, gy, y)


def _expm1_vjp(ns, gy, y):
    return gy * (y + 1.0)


@holomorphic
class Sqrt(Op):
    """y = √x; dy/dx = 1/(2y)"""

    save_output = True

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, gy):
        (y,) = self.saved
        return self.formula(_sqrt_vjp, gy, y)


def _sqrt_vjp(ns, gy, y):
    return gy / (2.0 * y)


@holomorphic
class Rsqrt(Op):
    """y = 1/√x; dy/dx = -y³/2"""

    save_output = True

    @opmath_forward
    def forward(self, x):
        return 1.0 / self.xp.sqrt(x)

    def backward(self, gy):
        (y,) = self.saved
        return self.formula(_rsqrt_vjp, gy, y)


def _rsqrt_vjp(ns, gy, y):
    return gy * (-0.5) * y * y * y


class Abs(Op):
    """y = |x|; dy/dx = sign(x) (0 at 0, as PyTorch)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.abs(x)

    def backward(self, gy):
        (x,) = self.saved
        return gy * x.sign()  # a tensor formula: NumPy's sign of NaN is NaN, minigrad's 0


@holomorphic
class Sin(Op):
    """y = sin(x); dy/dx = cos(x)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.sin(x)

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_sin_vjp, gy, x)


def _sin_vjp(ns, gy, x):
    return gy * ns.cos(x)


@holomorphic
class Cos(Op):
    """y = cos(x); dy/dx = -sin(x)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.cos(x)

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_cos_vjp, gy, x)


def _cos_vjp(ns, gy, x):
    return -gy * ns.sin(x)


@holomorphic
class Tan(Op):
    """y = tan(x); dy/dx = 1 + y²"""

    save_output = True

    def forward(self, x):
        return self.xp.tan(x)

    def backward(self, gy):
        (y,) = self.saved
        return self.formula(_tan_vjp, gy, y)


def _tan_vjp(ns, gy, y):
    return gy * (1.0 + y * y)


@holomorphic
class TanhOp(Op):
    """y = tanh(x); dy/dx = 1 - y²"""

    save_output = True

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        (y,) = self.saved
        return self.formula(_tanh_vjp, gy, y)


def _tanh_vjp(ns, gy, y):
    return gy * (1.0 - y * y)


class Erf(Op):
    """y = erf(x); dy/dx = 2/√π · exp(-x²)"""

    save_inputs = True

    def forward(self, x):
        return self.device.backend.erf(x).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_erf_vjp, gy, x)


def _erf_vjp(ns, gy, x):
    return gy * (2.0 / math.sqrt(math.pi)) * ns.exp(-(x * x))


class Clamp(Op):
    """y = min(max(x, lo), hi); dy/dx = 1 where lo ≤ x ≤ hi, else 0 (as PyTorch)"""

    backward_name = "ClampBackward1"
    save_inputs = True

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        # NumPy's clip of bfloat16 with two Python bounds returns float32
        return self.xp.clip(x, self.lo, self.hi).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_clamp_vjp, gy, x, self.lo, self.hi)


def _clamp_vjp(ns, gy, x, lo, hi):
    inside = None
    if lo is not None:
        inside = x >= lo
    if hi is not None:
        inside = (x <= hi) if inside is None else inside & (x <= hi)
    return ns.where(inside, gy, 0.0)


class _ZeroGrad(Op):
    """A piecewise-constant function: its gradient is zero wherever it is defined."""

    save_inputs = True

    def backward(self, gy):
        return self.formula(_zero_vjp, gy)


def _zero_vjp(ns, gy):
    return gy * 0.0


class Sign(_ZeroGrad):
    """y = sign(x) (0 for NaN; a bool tensor is its own sign, as PyTorch); dy/dx = 0"""

    def forward(self, x):
        if x.dtype.kind == "b":
            return x.copy()
        y = self.xp.sign(x)
        if dtypes.is_floating(x.dtype):
            y = self.xp.where(self.xp.isnan(x), self.xp.zeros_like(x), y)
        return y


class Round(_ZeroGrad):
    """y = round(x, decimals) (half to even, as PyTorch); dy/dx = 0"""

    def __init__(self, decimals: int = 0):
        self.decimals = decimals

    def forward(self, x):
        return self.xp.round(x, self.decimals)


class Floor(_ZeroGrad):
    """y = ⌊x⌋; dy/dx = 0"""

    def forward(self, x):
        return self.xp.floor(x)


class Ceil(_ZeroGrad):
    """y = ⌈x⌉; dy/dx = 0"""

    def forward(self, x):
        return self.xp.ceil(x)


class Trunc(_ZeroGrad):
    """y = x rounded toward zero; dy/dx = 0"""

    def forward(self, x):
        return self.xp.trunc(x)


# -- functions --------------------------------------------------------------------------------


exp = unary_function(Exp, "exp")
log = unary_function(Log, "log")
log1p = unary_function(Log1p, "log1p")
expm1 = unary_function(Expm1, "expm1")
sqrt = unary_function(Sqrt, "sqrt")
rsqrt = unary_function(Rsqrt, "rsqrt")
sin = unary_function(Sin, "sin")
cos = unary_function(Cos, "cos")
tan = unary_function(Tan, "tan")
tanh = unary_function(TanhOp, "tanh")
erf = unary_function(Erf, "erf")
_real_abs = unary_function(Abs, "abs", floating=False, bools=False)


def abs(input):
    """Elementwise |x|: the magnitude of complex numbers (a real tensor); for real tensors
    dy/dx = sign(x) (0 at 0, as PyTorch)."""
    if input._data.dtype.kind == "c":
        return complex_abs(input)
    return _real_abs(input)


sign = unary_function(Sign, "sign", floating=False)
floor = unary_function(Floor, "floor", floating=False, bools=False)
ceil = unary_function(Ceil, "ceil", floating=False, bools=False)
trunc = unary_function(Trunc, "trunc", floating=False, bools=False)


def round(input, *, decimals=0):
    """Round half to even; ``decimals`` (keyword-only, as PyTorch's: ``round(x, 2)`` is
    refused) rounds to that many decimal places."""
    if input.dtype is dtypes.bool:
        raise NotImplementedError("\"round\" not implemented for 'Bool'")
    return Round(decimals)(input)


def square(input):
    """x * x; a bool tensor squares to int64, as ``torch.square`` (which is ``pow(x, 2)``)."""
    if input.dtype is dtypes.bool:
        input = input.to(dtypes.int64)
    return named_as(mul(input, input), "PowBackward0")


def reciprocal(input):
    return named_as(div(1.0, input), "ReciprocalBackward0")


def _clamp_tensors(input, min, max):
    """clamp with tensor bounds: max(input, min), then min(·, max). Its gradient is PyTorch's
    (not maximum's and minimum's, which split ties): input gets it where min <= input <= max,
    min where input < min (and min < max), max where input > max (or max < min); a NaN
    result gives none. The value is the exact maximum/minimum; the routing is a ``where``."""
    out = input
    with grad_mode.no_grad():
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
    bounds = [b for b in (input, min, max) if b is not None]
    if not forward_ad.active and not (
        grad_mode.is_grad_enabled() and any(b.requires_grad for b in bounds)
    ):
        return out
    valid = ~out.isnan()
    keep = valid
    if min is not None:
        keep = keep & (input >= min)
    if max is not None:
        keep = keep & (input <= max)
    routed = out
    if max is not None:
        above = input > max
        routed = where(valid & (above | (max < min) if min is not None else above), max, routed)
    if min is not None:
        below = input < min
        routed = where(valid & (below & (min < max) if max is not None else below), min, routed)
    return where(keep, input, routed)


def clamp(input, min=None, max=None):
    """Limit values to [min, max]; tensor bounds use maximum/minimum."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensor_cls = graph.Tensor
    mixed = isinstance(min, tensor_cls) != isinstance(max, tensor_cls)
    if mixed and min is not None and max is not None:
        kinds = ", ".join(type(b).__name__ for b in (min, max))
        raise TypeError(  # (PyTorch has a Tensor-bounds and a Number-bounds overload, no mix)
            f"clamp() received an invalid combination of arguments - got bounds ({kinds}), but "
            "expected one of:\n * (Tensor input, Tensor min = None, Tensor max = None)\n"
            " * (Tensor input, Number min = None, Number max = None)"
        )
    if isinstance(min, tensor_cls) or isinstance(max, tensor_cls):
        return named_as(_clamp_tensors(input, min, max), "ClampBackward0")
    bounds = [b for b in (min, max) if b is not None]
    target = dtypes.result_type(input, *bounds)
    if target is not input.dtype:  # an int tensor with a float bound: computed in float32
        input = input.to(target)
    if input.dtype.is_floating_point:
        min = None if min is None else float(min)
        max = None if max is None else float(max)
    else:  # bounds converted as PyTorch's Scalar: -5 wraps to 251 in uint8, 300 overflows
        min = None if min is None else dtypes.checked_scalar(min, input.dtype, "clamp")
        max = None if max is None else dtypes.checked_scalar(max, input.dtype, "clamp")
    return Clamp(min, max)(input)
