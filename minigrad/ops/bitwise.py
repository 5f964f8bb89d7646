"""Bitwise and integer functions (``bitwise_and`` ... ``bitwise_right_shift``, ``gcd``, ``lcm``)
and the float-bit helpers (``frexp``, ``ldexp``, ``nextafter``) and predicates (``isposinf``,
``isneginf``, ``isreal``); integer results carry no gradient, as in PyTorch."""

from __future__ import annotations

from .. import _torch_function as _tf
from .. import return_types
from ..autograd import graph
from ..autograd.graph import named_as, names_node
from .base import constant, method_on_batched, on_input_device, refuse_dtype
from .complex import complex_not_implemented
from .elementwise import Compare, compare, isinf, promote, where

FrexpResult = return_types.frexp


_KERNELS = {"bitwise_left_shift": "lshift", "bitwise_right_shift": "rshift"}


def _integral(name: str, *operands) -> None:
    """Refuse floating and complex operands with PyTorch's message, which names its kernel and
    the C++ dtype (``"lshift_cpu" not implemented for 'Float'``): bitwise ops need integers or
    bools."""
    from .. import dtypes

    tensors = [x for x in operands if isinstance(x, graph.Tensor)]
    for x in operands:
        dtype = x.dtype if isinstance(x, graph.Tensor) else None
        if dtype is None and isinstance(x, float):
            dtype = dtypes.get_default_dtype()  # a Python float promotes to the default dtype
        if dtype is not None and (dtype.is_floating_point or dtype.is_complex):
            device = "cuda" if any(t.device.type == "cuda" for t in tensors) else "cpu"
            raise NotImplementedError(
                f'"{_KERNELS.get(name, name)}_{device}" not implemented for '
                f"'{dtypes.scalar_type_name(dtype)}': it needs integer or bool tensors"
            )


def _integer_function(ufunc: str, doc: str):
    """An elementwise function of two integer (or bool) tensors, refusing floats."""

    def fn(input, other):
        _integral(ufunc, input, other)
        return compare(ufunc, input, other)

    fn.__name__ = fn.__qualname__ = ufunc
    fn.__doc__ = doc
    return fn


bitwise_and = _integer_function(
    "bitwise_and", "Elementwise ``input & other`` of integer or bool tensors."
)
bitwise_or = _integer_function(
    "bitwise_or", "Elementwise ``input | other`` of integer or bool tensors."
)
bitwise_xor = _integer_function(
    "bitwise_xor", "Elementwise ``input ^ other`` of integer or bool tensors."
)
gcd = _integer_function(
    "gcd", "Elementwise greatest common divisor (non-negative) of integer tensors."
)
lcm = _integer_function(
    "lcm", "Elementwise least common multiple (non-negative) of integer tensors."
)


def bitwise_not(input):
    """Elementwise ``~input`` (logical not for bool tensors)."""
    _integral("bitwise_not", input)
    return compare("invert", input)


def bitwise_left_shift(input, other):
    """``input << other``; shifts outside [0, bits) give 0, as PyTorch."""
    return _shift("bitwise_left_shift", "left_shift", input, other)


def bitwise_right_shift(input, other):
    """``input >> other`` (arithmetic for signed types); shifts outside [0, bits) give 0 or -1
    (the sign), as PyTorch."""
    return _shift("bitwise_right_shift", "right_shift", input, other)


def _shift(name, ufunc, input, other):
    try:
        _integral(name, input, other)
        a, b = promote(input, other)
    except TypeError as e:  # a tensor-like operand takes the call, as in PyTorch
        method = "__lshift__" if ufunc == "left_shift" else "__rshift__"
        return _tf.operand_takes(method, (input, other), e)
    if not isinstance(a, graph.Tensor):
        a = b.new_full((), a)
    if not isinstance(b, graph.Tensor):
        b = a.new_full((), b)
    kernel = "lshift_cpu" if ufunc == "left_shift" else "rshift_cpu"
    refuse_dtype(a.dtype, kernel, name, bools_only=True)
    bits = a._data.dtype.itemsize * 8
    out_of_range = (b < 0) | (b >= bits)
    shifted = Compare(ufunc)(a, where(out_of_range, 0, b))
    fill = where(a < 0, -1, 0).to(a.dtype) if ufunc == "right_shift" else 0
    return where(out_of_range, fill, shifted)


@method_on_batched
@on_input_device
def frexp(input):
    """``input = mantissa * 2**exponent`` with |mantissa| in [0.5, 1) (int32 exponent); the
    mantissa is differentiable (``d mantissa / dx = 2**-exponent``)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, exponent = input.device.xp.frexp(input._data)
    exponent = constant(exponent.astype("int32"), input.device)
    return FrexpResult(input * (2.0 ** (-exponent.to(input.dtype))), exponent)


@complex_not_implemented
@names_node("LdexpBackward0")
def ldexp(input, other):
    """``input * 2**other`` (a float result; integer inputs give the default float dtype)."""
    if not isinstance(other, graph.Tensor):
        other = input.new_tensor(other)
    scale = 2.0 ** (other if other.dtype.is_floating_point else other.to(_float_of(input)))
    return input * scale


def _float_of(t):
    from .. import dtypes

    return t.dtype if t.dtype.is_floating_point else dtypes.get_default_dtype()


def nextafter(input, other):
    """The next representable float after ``input`` towards ``other`` (no gradient)."""
    for x in (input, other):
        if isinstance(x, graph.Tensor) and not x.dtype.is_floating_point:
            raise RuntimeError(f"\"nextafter\" not implemented for '{x.dtype}': it needs floats")
    return compare("nextafter", input, other)


def isposinf(input):
    """True where ``input`` is +inf."""
    return isinf(input) & (input > 0)


def isneginf(input):
    """True where ``input`` is -inf."""
    return isinf(input) & (input < 0)


def isreal(input):
    """True where the imaginary part is 0 (everywhere for real tensors)."""
    if input.is_complex():
        return input.imag == 0
    return compare("equal", input, input) | compare("not_equal", input, input)


def sgn(input):
    """``z / |z|`` for complex tensors (0 at 0, with gradient 0 there, as PyTorch); the sign
    (:func:`sign`) of real ones."""
    if not input.is_complex():
        return input.sign()
    magnitude = input.abs()
    zero = magnitude == 0
    return where(zero, 0.0, input / (magnitude + zero))


def fix(input):
    """Round towards zero (:func:`trunc`)."""
    return input.trunc()


def clamp_min(input, min):
    """``clamp(input, min=min)``."""
    return named_as(input.clamp(min=min), f"ClampMinBackward{int(isinstance(min, graph.Tensor))}")


def clamp_max(input, max):
    """``clamp(input, max=max)``."""
    return named_as(input.clamp(max=max), f"ClampMaxBackward{int(isinstance(max, graph.Tensor))}")
