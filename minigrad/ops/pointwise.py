"""Elementwise functions composed from primitives: lerp, nan_to_num, isclose, addcmul/addcdiv,
logit, fmax/fmin, float_power, the logical connectives and the predicates
(``signbit``, ``isin``, ``heaviside``: results without gradient)."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from .._warnings import number_first_overload
from ..autograd import grad_mode, graph
from ..autograd.graph import names_node
from .base import (
    Op,
    check_number_arg,
    coefficient,
    constant,
    method_on_batched,
    on_input_device,
    refuse_dtype,
)
from .complex import complex as complex_of
from .complex import complex_not_implemented, real_only
from .elementwise import Compare, check_int_scalar, compare, isinf, isnan, promote, where


def logical_and(input, other):
    """Elementwise ``input and other`` (non-zero is true) as a bool tensor."""
    return compare("logical_and", input, other)


def logical_or(input, other):
    """Elementwise ``input or other`` (non-zero is true) as a bool tensor."""
    return compare("logical_or", input, other)


def logical_xor(input, other):
    """Elementwise exclusive or (non-zero is true) as a bool tensor."""
    return compare("logical_xor", input, other)


def in_float32(fn, *operands):
    """``fn(*operands)`` computed in float32 and rounded once when the tensor operands are all
    float16 or all bfloat16, as PyTorch's fused kernels compute (a composition of 16-bit ops
    rounds after each step); other dtypes as they are."""
    tensors = [t for t in operands if isinstance(t, graph.Tensor)]
    dtype = tensors[0].dtype if tensors else None
    if dtype not in (dtypes.float16, dtypes.bfloat16) or any(t.dtype is not dtype for t in tensors):
        return fn(*operands)
    return fn(*(t.float() if isinstance(t, graph.Tensor) else t for t in operands)).to(dtype)


@names_node(lambda input, end, weight: f"LerpBackward{int(isinstance(weight, graph.Tensor))}")
def lerp(input, end, weight):
    """``input + weight * (end - input)``; for weights ≥ 0.5 computed from ``end``'s side
    (``end - (end - input) * (1 - weight)``), as PyTorch, so that weight 1 gives ``end`` exactly;
    float16/bfloat16 in float32, rounded once.

    Example:
        >>> minigrad.lerp(minigrad.zeros(2), minigrad.ones(2), 0.25)  # tensor([0.25, 0.25])
    """
    _lerp_dtypes(input, end, weight)
    return in_float32(_lerp, input, end, weight)


def _lerp_dtypes(input, end, weight) -> None:
    """PyTorch's lerp takes operands of one floating-point dtype (its words for each)."""
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, graph.Tensor) and t.dtype is not input.dtype:
            raise RuntimeError(
                f"expected dtype {dtypes.cpp_type_name(input.dtype)} for `{name}` but got dtype "
                f"{dtypes.cpp_type_name(t.dtype)}"
            )
    kernel = "lerp_kernel_tensor" if isinstance(weight, graph.Tensor) else "lerp_kernel_scalar"
    refuse_dtype(input.dtype, kernel, "lerp")


def _lerp(input, end, weight):
    delta = end - input
    if isinstance(weight, graph.Tensor):
        return where(weight.abs() < 0.5, input + weight * delta, end - delta * (1 - weight))
    return input + weight * delta if abs(weight) < 0.5 else end - delta * (1 - weight)


@on_input_device
@names_node("NanToNumBackward0")
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (the dtype's largest
    and lowest finite values by default). The gradient passes where the input is finite.
    Complex tensors have each part replaced on its own, as in PyTorch."""
    for i, (name, value) in enumerate((("nan", nan), ("posinf", posinf), ("neginf", neginf))):
        check_number_arg(value, "nan_to_num", name, position=i + 1)
    if input.dtype.is_complex:
        parts = (nan_to_num(part, nan, posinf, neginf) for part in (input.real, input.imag))
        return complex_of(*parts)
    if not input.dtype.is_floating_point:
        return input.clone()
    info = np.finfo(input._data.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    infinite = isinf(input)  # masks from ops (not the arrays), so that vmap batches them
    out = where(isnan(input), nan, input)
    out = where(logical_and(infinite, input > 0), posinf, out)
    return where(logical_and(infinite, input < 0), neginf, out)


@on_input_device
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (equal infinities are close;
    NaNs only with ``equal_nan``) as a bool tensor."""
    if isinstance(input, graph.Tensor) and isinstance(other, graph.Tensor):
        if input.dtype is not other.dtype:
            raise RuntimeError(
                f"{dtypes.scalar_type_name(input.dtype)} did not match "
                f"{dtypes.scalar_type_name(other.dtype)} (isclose: both need the same dtype)"
            )
    a, b = promote(input, other)
    if a.dtype is dtypes.bool:
        return Compare("equal")(a, b)
    return Compare("isclose")(a, b, rtol, atol, equal_nan)  # an op, so that vmap batches it


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


@names_node("AddcmulBackward0")
@number_first_overload("addcmul", "value", "tensor1, tensor2", method=False)
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2`` (an optimizer's building block); float16/bfloat16
    in float32, rounded once."""
    result = dtypes.result_type(input, tensor1, tensor2)
    refuse_dtype(result, "addcmul_cpu_out", "addcmul", bools_only=True)
    value = coefficient(value, input, tensor1, tensor2, op="addcmul")
    return in_float32(lambda a, b, c: a + value * b * c, input, tensor1, tensor2)


@names_node("AddcdivBackward0")
@number_first_overload("addcdiv", "value", "tensor1, tensor2", method=False)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``; integer tensors are refused, as PyTorch."""
    if not (tensor1.dtype.is_floating_point or tensor2.dtype.is_floating_point):
        raise RuntimeError(
            "addcdiv: integer division of tensors is no longer supported; give tensor1 or "
            "tensor2 a floating dtype"
        )
    return in_float32(lambda a, b, c: a + value * b / c, input, tensor1, tensor2)


@real_only
def logit(input, eps=None):
    """``log(p / (1 - p))``, the inverse of sigmoid; ``eps`` clamps p to [eps, 1 - eps] first."""
    check_number_arg(eps, "logit", "eps", position=1)
    return Logit(eps)(_floating(input))


class Logit(Op):
    """y = log(x / (1 - x)), x clamped to [eps, 1 - eps] first when ``eps`` is given;
    dy/dx = 1 / (x (1 - x)), and as PyTorch's backward: NaN outside [0, 1] without ``eps``
    (where the forward is NaN too), 0 outside [eps, 1 - eps] with it."""

    backward_name = "LogitBackward0"
    save_inputs = True

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x):
        if self.eps is not None:
            x = self.xp.clip(x, self.eps, 1.0 - self.eps).astype(x.dtype, copy=False)
        return self.xp.log(x / (1.0 - x))

    def backward(self, gy):
        (x,) = self.saved
        return self.formula(_logit_vjp, gy, x, self.eps)


def _logit_vjp(ns, gy, x, eps):
    lo, hi, outside = (0.0, 1.0, float("nan")) if eps is None else (eps, 1.0 - eps, 0.0)
    return ns.where((x >= lo) & (x <= hi), gy / (x * (1.0 - x)), outside)


@names_node("FracBackward0")
def frac(input):
    """The fractional part, ``input - trunc(input)`` (sign of input); d/dx = 1."""
    if not input.dtype.is_floating_point:
        refuse_dtype(input.dtype, "frac_cpu", "frac")
        raise NotImplementedError(
            f"\"frac_cpu\" not implemented for '{dtypes.scalar_type_name(input.dtype)}' (as in "
            f"PyTorch, frac takes real floating-point tensors)"
        )
    return input - input.trunc()


@real_only
@names_node("Deg2RadBackward0")
def deg2rad(input):
    """Degrees to radians (integer tensors give the default float dtype)."""
    return _floating(input) * (np.pi / 180.0)


@real_only
@names_node("Rad2DegBackward0")
def rad2deg(input):
    """Radians to degrees (integer tensors give the default float dtype)."""
    return _floating(input) * (180.0 / np.pi)


def _floating(input):
    """``input``, or ``input`` in the default float dtype when it is an integer or bool tensor."""
    return input if input.dtype.is_floating_point else input.to(dtypes.get_default_dtype())


@complex_not_implemented
def float_power(input, exponent):
    """``input ** exponent`` computed in float64, as ``torch.float_power``."""
    cast = [x.to(dtypes.float64) if isinstance(x, graph.Tensor) else x for x in (input, exponent)]
    if not isinstance(cast[0], graph.Tensor):
        return cast[1].new_full((), cast[0]) ** cast[1]
    return cast[0] ** cast[1]


def positive(input):
    """``input`` itself (``+x``); refused for bool tensors, as PyTorch."""
    if input.dtype is dtypes.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@names_node("FmaxBackward0")
def fmax(input, other):
    """Elementwise maximum that ignores NaN (NaN only where both are); the gradient goes to
    ``input`` at ties, as PyTorch."""
    a, b = promote(input, other)
    return where((a >= b) | b.isnan(), a, b)


@names_node("FminBackward0")
def fmin(input, other):
    """Elementwise minimum that ignores NaN (NaN only where both are); the gradient goes to
    ``input`` at ties, as PyTorch."""
    a, b = promote(input, other)
    return where((a <= b) | b.isnan(), a, b)


@method_on_batched
@on_input_device
def signbit(input):
    """True where the sign bit is set (negative numbers, -0.0 and negative NaN)."""
    return constant(input.device.xp.signbit(input._data), input.device)


def heaviside(input, values):
    """The step function: 0 below zero (and for NaN), 1 above, ``values`` at zero (no gradient,
    as PyTorch's derivative for heaviside is not implemented)."""
    if input.dtype is not values.dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype} "
            f"and {values.dtype})"
        )
    with grad_mode.no_grad():
        return where(input == 0, values, (input > 0).to(input.dtype))


@on_input_device
def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """A bool tensor of ``elements``' shape: True where the element is among ``test_elements``
    (a tensor or a scalar)."""
    if any(
        x is True or x is False or isinstance(x, graph.Tensor) and x.dtype is dtypes.bool
        for x in (elements, test_elements)
    ):
        raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    for x in (elements, test_elements):  # (NumPy would wrap or float an int beyond 64 bits)
        check_int_scalar(x)
    if getattr(type(elements), "_methods_batch", False) or getattr(
        type(test_elements), "_methods_batch", False
    ):  # under vmap
        from ..func import _array_fns

        return _array_fns.isin(elements, test_elements, invert=invert)
    dev = elements.device if isinstance(elements, graph.Tensor) else test_elements.device
    xp = dev.xp  # (either argument may be a number: the tensor says the device)
    tests = test_elements._data if isinstance(test_elements, graph.Tensor) else test_elements
    data = elements._data if isinstance(elements, graph.Tensor) else xp.asarray(elements)
    found = xp.isin(data, tests, assume_unique=assume_unique, invert=invert)
    return constant(found, dev)
