"""Elementwise ops: arithmetic, unary math, activations, comparisons; PyTorch type promotion.

Each class is one primitive with its derivative in the docstring. Backward is written with
Tensor ops so that it can be differentiated again; broadcasting is undone by the engine.
"""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..autograd import grad_mode, graph
from .base import Op, constant, scalar_tensor

# -- type promotion -----------------------------------------------------------------------------


def promote(*operands, floating: bool = False):
    """Cast tensor operands to the dtype PyTorch would compute in; scalars stay Python numbers.

    ``floating=True`` lifts integer and bool results to the default float dtype (true division,
    ``exp`` of an integer tensor, ...).
    """
    if len(operands) == 2 and _already_promoted(*operands, floating):
        return operands  # the common case, checked without building anything
    tensor_cls = graph.Tensor
    operands = tuple(x.item() if isinstance(x, np.generic) else x for x in operands)
    tensors = [x for x in operands if isinstance(x, tensor_cls)]
    first = tensors[0]._data.dtype
    if all(t._data.dtype == first for t in tensors) and all(
        isinstance(x, tensor_cls) or _scalar_fits(x, first) for x in operands
    ):
        target = dtypes.from_numpy(first)
    else:
        target = dtypes.result_type(*operands)
    if floating and not target.is_floating_point:
        target = dtypes.get_default_dtype()
    return tuple(
        x.to(target) if isinstance(x, tensor_cls) and x._data.dtype != target.numpy else x
        for x in operands
    )


def _already_promoted(a, b, floating: bool) -> bool:
    """True when a binary op's operands need no cast: same-dtype tensors, or a float tensor
    with a Python float or int."""
    tensor_cls = graph.Tensor
    if isinstance(a, tensor_cls):
        kind = a._data.dtype.kind
        if isinstance(b, tensor_cls):
            return a._data.dtype == b._data.dtype and (kind == "f" or not floating)
        return kind == "f" and type(b) in (float, int)
    return isinstance(b, tensor_cls) and b._data.dtype.kind == "f" and type(a) in (float, int)


def _scalar_fits(x, np_dtype) -> bool:
    """True if a Python scalar does not change the dtype of a tensor of ``np_dtype``."""
    kind = np_dtype.kind
    if isinstance(x, bool):
        return True
    if isinstance(x, int):
        return kind in "iuf"
    if isinstance(x, float):
        return kind == "f"
    if isinstance(x, complex):
        return False
    raise TypeError(f"expected a Tensor or a Python number, got {type(x).__name__}")


def unary(op: Op, x, floating: bool = True):
    """Run a one-input op; integer inputs of floating functions are computed in float32."""
    if floating and x._data.dtype.kind not in "f":
        x = x.to(dtypes.get_default_dtype())
    return op(x)


def binary(op: Op, a, b, floating: bool = False):
    return op(*promote(a, b, floating=floating))


# -- arithmetic ----------------------------------------------------------------------------------


class Add(Op):
    """z = a + b; dz/da = dz/db = 1"""

    def forward(self, a, b):
        return a + b

    def backward(self, gz):
        return gz, gz


class Sub(Op):
    """z = a - b; dz/da = 1, dz/db = -1"""

    def forward(self, a, b):
        return a - b

    def backward(self, gz):
        return gz, (-gz if self.next_functions[1] is not None else None)


class Mul(Op):
    """z = a * b; dz/da = b, dz/db = a"""

    save_inputs = True

    def forward(self, a, b):
        return a * b

    def backward(self, gz):
        a, b = self.saved_tensors
        need_a, need_b = self.needs_input_grad
        return (gz * b if need_a else None), (gz * a if need_b else None)


class Div(Op):
    """z = a / b; dz/da = 1/b, dz/db = -a/b²"""

    save_inputs = True

    def forward(self, a, b):
        return a / b

    def backward(self, gz):
        a, b = self.saved_tensors
        need_a, need_b = self.needs_input_grad
        ga = gz / b if need_a else None
        gb = -gz * a / (b * b) if need_b else None
        return ga, gb


class Neg(Op):
    """z = -a; dz/da = -1"""

    def forward(self, a):
        return -a

    def backward(self, gz):
        return -gz


class Pow(Op):
    """z = a ** b; dz/da = b·a^(b-1) (0 where b = 0), dz/db = z·log(a) (0 where a = 0 and b ≥ 0)"""

    save_inputs = True
    save_output = True

    def forward(self, a, b):
        return a**b

    def backward(self, gz):
        a, b, z = self.saved_tensors
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        if need_a:
            if isinstance(b, graph.Tensor):
                ga = where(b == 0, 0.0, gz * b * a ** (b - 1))
            else:
                ga = gz * b * a ** (b - 1) if b != 0 else gz * 0.0
        if need_b:
            if isinstance(a, graph.Tensor):
                ga_mask = (a == 0) & (b >= 0)
                gb = where(ga_mask, 0.0, gz * z * where(ga_mask, 1.0, a).log())
            else:
                gb = gz * z * math.log(a) if a != 0 else gz * 0.0
        return ga, gb


class FloorDivide(Op):
    """z = floor(a / b); not differentiable (as in PyTorch)."""

    differentiable = False

    def forward(self, a, b):
        return self.xp.floor_divide(a, b)


class Remainder(Op):
    """z = a - floor(a / b)·b (sign of b, as Python and torch.remainder); dz/da = 1, dz/db = -floor(a/b)"""

    save_inputs = True

    def forward(self, a, b):
        return self.xp.remainder(a, b)

    def backward(self, gz):
        a, b = self.saved_tensors
        need_b = self.needs_input_grad[1]
        return gz, (-gz * (a / b).floor() if need_b else None)


class Maximum(Op):
    """z = max(a, b); the gradient goes to the larger input, split in half on ties (as PyTorch)"""

    save_inputs = True
    ufunc_name, wins = "maximum", "greater"

    def forward(self, a, b):
        return getattr(self.xp, self.ufunc_name)(a, b)

    def backward(self, gz):
        a, b = (x._data if isinstance(x, graph.Tensor) else x for x in self.saved_tensors)
        xp = gz.device.xp
        share_a = xp.where(a == b, 0.5, getattr(xp, self.wins)(a, b)).astype(gz._data.dtype)
        share_a = constant(share_a, gz.device)
        need_a, need_b = self.needs_input_grad
        return (gz * share_a if need_a else None), (gz * (1.0 - share_a) if need_b else None)


class Minimum(Maximum):
    """z = min(a, b); the gradient goes to the smaller input, split in half on ties"""

    ufunc_name, wins = "minimum", "less"


class Where(Op):
    """z = cond ? a : b; dz/da = cond, dz/db = not cond"""

    save_inputs = True

    def forward(self, cond, a, b):
        return self.xp.where(cond, a, b)

    def backward(self, gz):
        cond = self.saved_tensors[0]
        _, need_a, need_b = self.needs_input_grad
        return (
            None,
            where(cond, gz, 0.0) if need_a else None,
            where(cond, 0.0, gz) if need_b else None,
        )


class Cast(Op):
    """z = a converted to another dtype; the engine casts the gradient back to a's dtype"""

    def __init__(self, np_dtype):
        self.np_dtype = np_dtype

    def forward(self, a):
        return a.astype(self.np_dtype)

    def backward(self, gz):
        return gz


# -- unary math ----------------------------------------------------------------------------------


class Exp(Op):
    """y = exp(x); dy/dx = y"""

    save_output = True

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * y


class Log(Op):
    """y = log(x); dy/dx = 1/x"""

    save_inputs = True

    def forward(self, x):
        return self.xp.log(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / x


class Log1p(Op):
    """y = log(1 + x); dy/dx = 1/(1 + x)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.log1p(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy / (x + 1.0)


class Expm1(Op):
    """y = exp(x) - 1; dy/dx = y + 1"""

    save_output = True

    def forward(self, x):
        return self.xp.expm1(x)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (y + 1.0)


class Sqrt(Op):
    """y = √x; dy/dx = 1/(2y)"""

    save_output = True

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy / (2.0 * y)


class Rsqrt(Op):
    """y = 1/√x; dy/dx = -y³/2"""

    save_output = True

    def forward(self, x):
        return 1.0 / self.xp.sqrt(x)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (-0.5) * y * y * y


class Abs(Op):
    """y = |x|; dy/dx = sign(x) (0 at 0, as PyTorch)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.abs(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * x.sign()


class Sin(Op):
    """y = sin(x); dy/dx = cos(x)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.sin(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * x.cos()


class Cos(Op):
    """y = cos(x); dy/dx = -sin(x)"""

    save_inputs = True

    def forward(self, x):
        return self.xp.cos(x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return -gy * x.sin()


class Tan(Op):
    """y = tan(x); dy/dx = 1 + y²"""

    save_output = True

    def forward(self, x):
        return self.xp.tan(x)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (1.0 + y * y)


class Tanh(Op):
    """y = tanh(x); dy/dx = 1 - y²"""

    save_output = True

    def forward(self, x):
        return self.xp.tanh(x)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * (1.0 - y * y)


class Sigmoid(Op):
    """y = 1/(1 + e^-x); dy/dx = y(1 - y)"""

    save_output = True

    def forward(self, x):
        xp = self.xp
        e = xp.exp(-xp.abs(x))  # never overflows: stable for |x| large
        return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy * y * (1.0 - y)


class Erf(Op):
    """y = erf(x); dy/dx = 2/√π · exp(-x²)"""

    save_inputs = True

    def forward(self, x):
        return self.device.backend.erf(x).astype(x.dtype, copy=False)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return gy * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()


class ReLU(Op):
    """y = max(x, 0); dy/dx = 1 where x > 0 (relu'(0) = 0, as PyTorch)"""

    save_output = True

    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        (y,) = self.saved_tensors
        if not grad_mode.is_grad_enabled():  # a plain backward: one pass, no graph
            return constant(gy._data * (y._data > 0), gy.device)
        return where(y > 0, gy, 0.0)


class LeakyReLU(Op):
    """y = x if x > 0 else slope·x; dy/dx = 1 or slope"""

    save_inputs = True

    def __init__(self, negative_slope: float):
        self.negative_slope = negative_slope

    def forward(self, x):
        return self.xp.where(x > 0, x, x * self.negative_slope)

    def backward(self, gy):
        (x,) = self.saved_tensors
        return where(x > 0, gy, gy * self.negative_slope)


class ELU(Op):
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


class GELU(Op):
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


class SiLU(Op):
    """y = x·σ(x); dy/dx = σ(x)(1 + x(1 - σ(x)))"""

    save_inputs = True

    def forward(self, x):
        return x * Sigmoid.forward(self, x)

    def backward(self, gy):
        (x,) = self.saved_tensors
        s = x.sigmoid()
        return gy * s * (1.0 + x * (1.0 - s))


class Softplus(Op):
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


class Clamp(Op):
    """y = min(max(x, lo), hi); dy/dx = 1 where lo ≤ x ≤ hi, else 0 (as PyTorch)"""

    save_inputs = True

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return self.xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        (x,) = self.saved_tensors
        inside = None
        if self.lo is not None:
            inside = x >= self.lo
        if self.hi is not None:
            inside = (x <= self.hi) if inside is None else inside & (x <= self.hi)
        return where(inside, gy, 0.0)


class _ZeroGrad(Op):
    """A piecewise-constant function: its gradient is zero wherever it is defined."""

    save_inputs = True

    def backward(self, gy):
        return gy * 0.0


class Sign(_ZeroGrad):
    """y = sign(x); dy/dx = 0"""

    def forward(self, x):
        return self.xp.sign(x)


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


# -- comparisons and logic: no gradient ----------------------------------------------------------


class Compare(Op):
    """A comparison or logical function: bool result, never requires grad."""

    differentiable = False

    def __init__(self, ufunc_name: str):
        self.ufunc_name = ufunc_name

    def forward(self, *arrays):
        return getattr(self.xp, self.ufunc_name)(*arrays)

    @classmethod
    def name(cls) -> str:
        return "Compare"


def compare(ufunc_name: str, a, b=None):
    """``a <op> b`` elementwise as a bool tensor (``equal``, ``less``, ``logical_and``, ...)."""
    if b is None:
        return Compare(ufunc_name)(a)
    if isinstance(a, graph.Tensor) and isinstance(b, graph.Tensor) and a.dtype is not b.dtype:
        a, b = promote(a, b)
    return Compare(ufunc_name)(a, b)


# -- functions (the public entry points; Tensor methods call these) ---------------------------


def add(a, b, alpha=1):
    return binary(Add(), a, b if alpha == 1 else b * alpha)


def sub(a, b, alpha=1):
    return binary(Sub(), a, b if alpha == 1 else b * alpha)


def mul(a, b):
    return binary(Mul(), a, b)


def div(a, b, rounding_mode=None):
    if rounding_mode is None:
        return binary(Div(), a, b, floating=True)
    if rounding_mode == "floor":
        return binary(FloorDivide(), a, b)
    if rounding_mode == "trunc":
        return binary(Div(), a, b, floating=True).trunc().to(dtypes.result_type(a, b))
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def floor_divide(a, b):
    return binary(FloorDivide(), a, b)


def remainder(a, b):
    return binary(Remainder(), a, b)


def pow(a, b):  # noqa: A001 - PyTorch's name
    return binary(Pow(), a, b)


def maximum(a, b):
    return binary(Maximum(), a, b)


def minimum(a, b):
    return binary(Minimum(), a, b)


def where(condition, input, other):  # noqa: A002 - PyTorch's argument names
    """``input`` where ``condition`` is true, else ``other`` (tensors or scalars, broadcast)."""
    tensor_cls = graph.Tensor
    if not isinstance(condition, tensor_cls) or condition.dtype is not dtypes.bool:
        raise TypeError(f"where: condition must be a bool tensor, got {_describe(condition)}")
    if isinstance(input, tensor_cls) or isinstance(other, tensor_cls):
        input, other = promote(input, other)
    else:
        input = scalar_tensor(input, dtypes.result_type(input, other), condition.device)
    return Where()(condition, input, other)


def _describe(x) -> str:
    return f"a tensor of {x.dtype}" if isinstance(x, graph.Tensor) else type(x).__name__


def masked_fill(input, mask, value):  # noqa: A002
    """``input`` with ``value`` where ``mask`` is true (``mask`` broadcasts against input)."""
    if isinstance(value, graph.Tensor):
        if value.ndim:
            raise RuntimeError(
                f"masked_fill only supports a 0-dimensional value tensor, got shape {list(value.shape)}"
            )
        value = value.to(input.dtype)
    out = where(mask, value, input)
    if out.shape != input.shape:
        raise RuntimeError(
            f"masked_fill: mask of shape {list(mask.shape)} is not broadcastable to the input's "
            f"shape {list(input.shape)}"
        )
    return out


def clamp(input, min=None, max=None):  # noqa: A002
    """Limit values to [min, max]; tensor bounds use maximum/minimum."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    tensor_cls = graph.Tensor
    if isinstance(min, tensor_cls) or isinstance(max, tensor_cls):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    if input.dtype.is_floating_point:
        min = None if min is None else float(min)
        max = None if max is None else float(max)
    return Clamp(min, max)(input)


def _unary_function(op_cls, name: str, floating: bool = True):
    """The public function for a one-input op, documented by the op's derivative line."""

    def function(input):  # noqa: A002
        return unary(op_cls(), input, floating)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name}: {op_cls.__doc__}"
    return function


exp = _unary_function(Exp, "exp")
log = _unary_function(Log, "log")
log1p = _unary_function(Log1p, "log1p")
expm1 = _unary_function(Expm1, "expm1")
sqrt = _unary_function(Sqrt, "sqrt")
rsqrt = _unary_function(Rsqrt, "rsqrt")
sin = _unary_function(Sin, "sin")
cos = _unary_function(Cos, "cos")
tan = _unary_function(Tan, "tan")
tanh = _unary_function(Tanh, "tanh")
sigmoid = _unary_function(Sigmoid, "sigmoid")
erf = _unary_function(Erf, "erf")
silu = _unary_function(SiLU, "silu")
abs = _unary_function(Abs, "abs", floating=False)  # noqa: A001
relu = _unary_function(ReLU, "relu", floating=False)
sign = _unary_function(Sign, "sign", floating=False)
floor = _unary_function(Floor, "floor", floating=False)
ceil = _unary_function(Ceil, "ceil", floating=False)
trunc = _unary_function(Trunc, "trunc", floating=False)


def neg(input):  # noqa: A002
    if input.dtype is dtypes.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. Use `~` or logical_not() instead."
        )
    return Neg()(input)


def round(input, decimals=0):  # noqa: A001, A002
    return Round(decimals)(input)


def square(input):  # noqa: A002
    return mul(input, input)


def reciprocal(input):  # noqa: A002
    return div(1.0, input)


def leaky_relu(input, negative_slope=0.01):  # noqa: A002
    return unary(LeakyReLU(negative_slope), input)


def elu(input, alpha=1.0):  # noqa: A002
    return unary(ELU(alpha), input)


def gelu(input, approximate="none"):  # noqa: A002
    return unary(GELU(approximate), input)


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    return unary(Softplus(beta, threshold), input)


def logical_not(input):  # noqa: A002
    return Compare("logical_not")(input)


def isnan(input):  # noqa: A002
    return Compare("isnan")(input)


def isinf(input):  # noqa: A002
    return Compare("isinf")(input)


def isfinite(input):  # noqa: A002
    return Compare("isfinite")(input)
