"""Elementwise arithmetic, selection and comparisons, and PyTorch's type promotion.

Each class is one primitive with its derivative in the docstring. Backward is written with
Tensor ops so that it can be differentiated again, or once for arrays and tensors
(:meth:`Op.formula`) so that a plain backward runs it on arrays; broadcasting is undone by the
engine.
"""

from __future__ import annotations

import cmath
import functools
import math
import operator

import numpy as np

from .. import _dtype_limits, backend, dtypes
from .. import _torch_function as _tf
from .._result_layout import iterator_layout, pair_layout
from .._warnings import number_first_signatures, warn_deprecated_overload, warn_user
from ..autograd import graph
from ..autograd.graph import named_as
from .base import Op, check_alpha, constant, refuse_dtype, scalar_tensor, zero_link
from .complex import conjugates, holomorphic

# -- type promotion -----------------------------------------------------------------------------


def promote(*operands, floating: bool = False):
    """Cast tensor operands to the dtype PyTorch would compute in; scalars stay Python numbers.

    ``floating=True`` lifts integer and bool results to the default float dtype (true division,
    ``exp`` of an integer tensor, ...).
    """
    if len(operands) == 2 and _already_promoted(*operands, floating):
        return operands  # the common case, checked without building anything
    tensor_cls = graph.Tensor
    if any(type(x) is np.ndarray for x in operands):
        operands = _arrays_as_tensors(operands)
    if not any(isinstance(x, tensor_cls) for x in operands):  # add(1, 2): a 0-d tensor, as PyTorch
        operands = (_scalar_operand(operands[0]),) + operands[1:]
    operands = tuple(x.item() if isinstance(x, np.generic) else x for x in operands)
    for x in operands:
        check_int_scalar(x)
    tensors = [x for x in operands if isinstance(x, tensor_cls)]
    first = tensors[0]._data.dtype
    if all(t._data.dtype == first for t in tensors) and all(
        isinstance(x, tensor_cls) or _scalar_fits(x, first) for x in operands
    ):
        target = dtypes.from_numpy(first)
    else:
        target = dtypes.result_type(*operands)
    if floating and not (target.is_floating_point or target.is_complex):
        target = dtypes.get_default_dtype()
    if target._category == 1:  # integers: a Python int wraps into the dtype, as in PyTorch
        operands = tuple(_wrap(x, target) if type(x) is int else x for x in operands)
    return tuple(
        x.to(target) if isinstance(x, tensor_cls) and x._data.dtype != target.numpy else x
        for x in operands
    )


def _arrays_as_tensors(operands: tuple) -> tuple:
    """NumPy arrays among the operands as tensors on the tensor operand's device, as PyTorch
    takes them (``t * np.ones(3)``); they keep their dtype."""
    tensors = [x for x in operands if isinstance(x, graph.Tensor)]
    dev = tensors[0].device if tensors else backend.CPU
    return tuple(
        graph.Tensor._make(backend.as_array(x, None, dev), dev) if type(x) is np.ndarray else x
        for x in operands
    )


def _scalar_operand(x):
    """A number given where a tensor is expected, as a 0-d CPU tensor of PyTorch's default
    dtype for its kind; NumPy scalars count as Python numbers, as in PyTorch
    (``add(np.float64(1), np.float64(2))`` is float32)."""
    if isinstance(x, np.generic) and (x.dtype.kind in "biu" or dtypes.is_floating(x.dtype)):
        x = x.item()
    if isinstance(x, (bool, int, float)):
        dtype, value = dtypes.result_type(x), x
    else:
        raise TypeError(f"expected a Tensor or a number as an operand, got {type(x).__name__}")
    return scalar_tensor(value, dtype, backend.CPU)


def _wrap(value: int, target) -> int:
    """``value`` modulo 2**bits into ``target``'s range: ``uint8 + 300`` is ``uint8 + 44``, as
    PyTorch computes it (NumPy would raise OverflowError)."""
    lo, hi = dtypes.integer_limits(target)
    if lo <= value <= hi:
        return value
    return (value - lo) % (hi - lo + 1) + lo


def operand_dtype(a, b):
    """The dtype of a promoted binary op's result: its array operand's (the other may be a
    Python number, which must not widen float32 to float64 as NumPy's scalars would)."""
    return a.dtype if hasattr(a, "dtype") else b.dtype


def _already_promoted(a, b, floating: bool) -> bool:
    """True when a binary op's operands need no cast: same-dtype tensors, or a float tensor
    with a Python float or int."""
    tensor_cls = graph.Tensor
    if isinstance(a, tensor_cls):
        is_float = dtypes.is_floating(a._data.dtype)
        if isinstance(b, tensor_cls):
            return a._data.dtype == b._data.dtype and (is_float or not floating)
        return is_float and (type(b) is float or (type(b) is int and _INT_MIN <= b < _INT_END))
    return (
        isinstance(b, tensor_cls)
        and dtypes.is_floating(b._data.dtype)
        and (type(a) is float or (type(a) is int and _INT_MIN <= a < _INT_END))
    )


# PyTorch's Python-int scalars: int64 or uint64 (``t + 2**63`` wraps; ``t + 2**64`` raises)
_INT_MIN, _INT_END = -(2**63), 2**64


def check_int_scalar(value) -> None:
    """PyTorch's ``OverflowError`` for a Python int operand beyond 64 bits: NumPy would wrap it
    silently (``int64 + 2**70`` as ``+ 0``) or make a float of it."""
    if type(value) is int and not _INT_MIN <= value < _INT_END:
        raise OverflowError(
            f"int too big to convert: the scalar operand {value} is outside the 64-bit range "
            "PyTorch's tensor ops take (-2**63 to 2**64 - 1)"
        )


def _scalar_fits(x, np_dtype) -> bool:
    """True if a Python scalar does not change the dtype of a tensor of ``np_dtype``."""
    if isinstance(x, bool):
        return True
    if isinstance(x, int):
        return np_dtype.kind in "iuc" or dtypes.is_floating(np_dtype)
    if isinstance(x, float):
        return dtypes.is_differentiable(np_dtype)
    if isinstance(x, complex):
        return np_dtype.kind == "c"
    raise TypeError(f"expected a Tensor or a Python number, got {type(x).__name__}")


def unary(op: Op, x, floating: bool = True):
    """Run a one-input op; integer inputs of floating functions are computed in float32
    (quantized ones go to the op as they are: its quantized rule, or a refusal naming it)."""
    if floating and not dtypes.is_differentiable(x._data.dtype) and not x.is_quantized:
        x = x.to(dtypes.get_default_dtype())
    return op(x)


def binary(op: Op, a, b, floating: bool = False):
    tensor_cls = graph.Tensor
    if isinstance(a, tensor_cls):  # _already_promoted's commonest cases, without its calls:
        kind = a._data.dtype.kind  # a NumPy float tensor with a Python float or a tensor of
        if kind == "f":  # its dtype (is_floating's first test)
            if type(b) is float:
                return op(a, b)
            if isinstance(b, tensor_cls) and b._data.dtype == a._data.dtype:
                return op(a, b)
    if _already_promoted(a, b, floating):  # promote's first check, without its call
        return op(a, b)
    try:
        a, b = promote(a, b, floating=floating)
    except TypeError as e:  # a tensor-like operand (tensor + masked) takes the call, as PyTorch
        return _tf.operand_takes(_method_name(op), (a, b), e)
    return op(a, b)


def _method_name(op: Op) -> str:
    """The Tensor method of a binary op: ``FloorDivide`` -> ``floor_divide``."""
    name = type(op).__name__
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


# -- arithmetic ----------------------------------------------------------------------------------


class Add(Op):
    """z = a + b; dz/da = dz/db = 1"""

    supports_complex = True

    def forward(self, a, b):
        return pair_layout(self.xp, a + b, a, b)

    def backward(self, gz):
        return gz, gz


class Sub(Op):
    """z = a - b; dz/da = 1, dz/db = -1"""

    supports_complex = True

    def forward(self, a, b):
        return pair_layout(self.xp, a - b, a, b)

    def backward(self, gz):
        return gz, (self.formula(_neg_vjp, gz) if self.edges[1] is not None else None)

    def name(self) -> str:
        # PyTorch: ``1 - x`` (a number minus a tensor) is RsubBackward1
        return "RsubBackward1" if self.input_meta and self.input_meta[0] is None else "SubBackward0"


def _neg_vjp(ns, gz):
    return -gz


_NUMBERS = (float, int)


def _opmath(fn, a, b):
    """``fn(a, b)`` where one operand is a Python number: a float16/bfloat16 array is computed
    in float32 with the number unrounded, then rounded once, as PyTorch's kernels do with a
    scalar operand (rounding the number to 16 bits first moves many results by one step)."""
    array = b if type(a) in _NUMBERS else a
    dt = array.dtype
    if dt.itemsize != 2 or dt.kind not in "fV":  # not float16 or bfloat16 (ml_dtypes' kind V)
        return fn(a, b)
    if array is a:
        return fn(a.astype(np.float32), b).astype(dt)
    return fn(a, b.astype(np.float32)).astype(dt)


def opmath_forward(forward):
    """A one-input forward run as PyTorch's kernels run it on float16/bfloat16 data: in
    float32, rounded once at the end (composing 16-bit steps rounds after each). Arrays the
    forward keeps for backward are rounded to the input's dtype too."""

    @functools.wraps(forward)
    def run(self, x):
        dt = x.dtype
        if dt.itemsize != 2 or dt.kind not in "fV":  # not float16 or bfloat16
            return forward(self, x)
        out = forward(self, x.astype(np.float32)).astype(dt)
        if self._kept:
            self._kept = {k: v.astype(dt) for k, v in self._kept.items()}
        return out

    return run


class Mul(Op):
    """z = a * b; dz/da = b, dz/db = a (conjugated for complex tensors)"""

    save_inputs = "for_others"
    supports_complex = True

    def forward(self, a, b):
        if type(b) in _NUMBERS:  # (a size-1 dim's stride: as a + 1)
            if a.dtype.itemsize == 2:  # float16/bfloat16 (or int16): _opmath decides
                return pair_layout(self.xp, _opmath(operator.mul, a, b), a, b)
        elif type(a) in _NUMBERS:
            return pair_layout(self.xp, _opmath(operator.mul, a, b), a, b)
        return pair_layout(self.xp, a * b, a, b)

    def backward(self, gz):
        a, b = self.saved
        if gz._data.dtype.kind == "c":
            a, b = conjugates(a, b)
        edge_a, edge_b = self.edges  # (needs_input_grad, without its call)
        if edge_b is None:  # one factor needs a gradient (``x * 2``, ``x * mask``): one product
            return self.formula(_scaled_vjp, gz, b), None
        if edge_a is None:
            return None, self.formula(_scaled_vjp, gz, a)
        return self.formula(_mul_vjp, gz, a, b)


def _scaled_vjp(ns, gz, factor):
    return gz * factor


def _mul_vjp(ns, gz, a, b):
    return gz * b, gz * a


class Div(Op):
    """z = a / b; dz/da = 1/b, dz/db = -a/b² (conjugated for complex tensors)"""

    save_inputs = True
    supports_complex = True

    def forward(self, a, b):
        if type(b) in _NUMBERS:  # (a size-1 dim's stride: as a + 1; 2 / a is a reciprocal)
            return pair_layout(self.xp, _opmath(operator.truediv, a, b), a, b)
        if type(a) in _NUMBERS:
            return _opmath(operator.truediv, a, b)
        return pair_layout(self.xp, a / b, a, b)

    def backward(self, gz):
        a, b = self.saved
        if gz._data.dtype.kind == "c":
            a, b = conjugates(a, b)
        return self.formula(_div_vjp, gz, a, b, *self.needs_input_grad)


def _div_vjp(ns, gz, a, b, need_a, need_b):
    return (gz / b if need_a else None), (-gz * a / (b * b) if need_b else None)


def _log_of_scalar(a):
    """log of a Python number base: complex for a complex one, NaN for a negative real one
    (as PyTorch's real-valued log)."""
    if isinstance(a, complex):
        return cmath.log(a)
    return math.log(a) if a > 0 else math.nan


class Neg(Op):
    """z = -a; dz/da = -1"""

    supports_complex = True

    def forward(self, a):
        return -a

    def backward(self, gz):
        return self.formula(_neg_vjp, gz)


def _integer_pow(xp, a, b):
    """``a ** b`` for integer arrays, negative exponents included as PyTorch computes them
    (NumPy refuses those): 1 for a base of 1, ±1 for -1 (by the exponent's parity), else 0."""
    negative = b < 0
    if not negative.any():
        return a**b
    out = a ** xp.where(negative, 0, b)
    odd = (b % 2) != 0
    small = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0)).astype(out.dtype)
    return xp.where(negative, small, out)


def _integer_operand(x) -> bool:
    """An integer array, or a Python int (a scalar operand reaches the kernel as a number)."""
    dtype = getattr(x, "dtype", None)
    return dtype.kind in "iu" if dtype is not None else isinstance(x, int)


@holomorphic
class Pow(Op):
    """z = a ** b; dz/da = b·a^(b-1) (0 where b = 0), dz/db = z·log(a) (0 where a = 0 and b ≥ 0)"""

    save_inputs = True
    save_output = True
    input_names = ("self", "exponent")

    def forward(self, a, b):
        if self.input_meta and self.input_meta[1] is None:
            self.save_output = False  # tensor ** number keeps self alone, as PyTorch's node
        # (2 ** arange(3): the base reaches the kernel as a Python int)
        if hasattr(b, "dtype") and _integer_operand(b) and _integer_operand(a):
            return _integer_pow(self.xp, a, b)
        return a**b

    def backward(self, gz):
        a, b, *result = self.saved
        z = result[0] if result else None  # (read only where the exponent is a tensor)
        need_a, need_b = self.needs_input_grad
        ga = gb = None
        if need_a:
            if isinstance(b, graph.Tensor):
                ga = where(b == 0, 0.0, gz * b * a ** (b - 1))
            else:
                ga = gz * b * a ** (b - 1) if b != 0 else gz * 0.0
        if need_b:
            if isinstance(a, graph.Tensor):
                ga_mask = (a == 0) & ((b.real if b.is_complex() else b) >= 0)
                gb = where(ga_mask, 0.0, gz * z * where(ga_mask, 1.0, a).log())
            else:
                gb = gz * z * _log_of_scalar(a) if a != 0 else gz * 0.0
        return ga, gb

    def name(self) -> str:
        # PyTorch: tensor ** number, tensor ** tensor and number ** tensor are three nodes
        meta = self.input_meta or (0, 0)
        return "PowBackward2" if meta[0] is None else f"PowBackward{int(meta[1] is not None)}"


def check_integer_divisor(xp, a, b, op: str) -> None:
    """Integer division and modulo by zero raise, as in PyTorch (NumPy would return 0).

    Floating division by zero gives inf/nan as IEEE says; bool operands are refused, as
    PyTorch has no floor/trunc division or remainder kernel for bool. The check runs on every
    device (PyTorch's CUDA kernels do not check; there it costs a device-to-host sync).
    """
    kind = getattr(a, "dtype", getattr(b, "dtype", None)).kind
    if kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")
    if kind in "iu" and bool(xp.any(xp.asarray(b) == 0)):
        raise RuntimeError(f"ZeroDivisionError: integer division or modulo by zero in {op}")


class FloorDivide(Op):
    """z = floor(a / b); not differentiable (as in PyTorch). Integer division by zero raises."""

    differentiable = False

    def forward(self, a, b):
        check_integer_divisor(self.xp, a, b, "floor_divide")
        return self.xp.floor_divide(a, b)


class TruncDivide(Op):
    """z = a / b rounded toward zero, for integers, computed exactly (no float64 round trip,
    which would be off by one for |a| > 2**53); not differentiable."""

    differentiable = False

    def forward(self, a, b):
        xp = self.xp
        check_integer_divisor(xp, a, b, "div(rounding_mode='trunc')")
        q = xp.floor_divide(a, b)
        # floor and trunc differ by one where the quotient is negative and inexact
        inexact = (xp.remainder(a, b) != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0))
        return q + inexact.astype(q.dtype)


class Remainder(Op):
    """z = a - floor(a / b)·b (sign of b, as Python and torch.remainder); dz/da = 1, dz/db = -floor(a/b)"""

    save_inputs = True

    def forward(self, a, b):
        xp = self.xp
        check_integer_divisor(xp, a, b, "remainder")
        if not dtypes.is_floating(xp.result_type(a, b)):
            return xp.remainder(a, b)
        # C's fmod moved into the divisor's sign keeps the zero's sign as PyTorch prints it
        # (-2 % 2 is -0.0, 3 % -1.5 is 0.0), where NumPy's remainder gives the divisor's sign
        mod = xp.fmod(a, b)
        return xp.where((mod != 0) & ((mod < 0) != (xp.asarray(b) < 0)), mod + b, mod)

    def backward(self, gz):
        a, b = self.saved
        need_b = self.needs_input_grad[1]
        return gz, (-gz * (a / b).floor() if need_b else None)

    def name(self) -> str:
        return by_divisor(self, "Remainder")


def by_divisor(node, stem: str) -> str:
    """PyTorch's name of a remainder-like node: ``<stem>Backward0`` for a number divisor,
    ``<stem>Backward1`` for a tensor one (two overloads)."""
    meta = node.input_meta
    return f"{stem}Backward{int(bool(meta) and meta[1] is not None)}"


class Maximum(Op):
    """z = max(a, b); the gradient goes to the larger input, split in half on ties; where z is
    NaN, to both inputs in full (neither is smaller), as PyTorch"""

    save_inputs = True
    ufunc_name, wins, loses = "maximum", "greater", "less"

    def forward(self, a, b):
        return getattr(self.xp, self.ufunc_name)(a, b)

    def backward(self, gz):
        a, b = (x._data if isinstance(x, graph.Tensor) else x for x in self.saved)
        xp, dtype = gz.device.xp, gz._data.dtype
        tie, lose = a == b, getattr(xp, self.loses)

        def share(x, y):  # 1/2 on ties, 0 where x loses, else 1 (a NaN loses to nothing)
            return constant(xp.where(tie, 0.5, ~lose(x, y)).astype(dtype), gz.device)

        need_a, need_b = self.needs_input_grad
        return (gz * share(a, b) if need_a else None), (gz * share(b, a) if need_b else None)


class Minimum(Maximum):
    """z = min(a, b); the gradient goes to the smaller input, split in half on ties (to both
    where z is NaN)"""

    ufunc_name, wins, loses = "minimum", "less", "greater"


class Where(Op):
    """z = cond ? a : b; dz/da = cond, dz/db = not cond"""

    save_inputs = (0,)  # only the condition, as PyTorch: a and b may change in place afterwards
    supports_complex = True

    def forward(self, cond, a, b):
        out = self.xp.where(cond, a, b)
        if type(a) is float and out.dtype != b.dtype:  # NumPy: float before bfloat16 is float32
            out = out.astype(b.dtype)
        return iterator_layout(self.xp, out, cond, a, b)

    def backward(self, gz):
        if self.save_inputs is True:  # linked_where's: each gradient keeps its input in the graph
            cond, a, b = self.saved
            return self.formula(_linked_where_vjp, gz, cond, a, b, self.needs_input_grad)
        cond = self.saved[0]
        return self.formula(_where_vjp, gz, cond, self.needs_input_grad)


def _where_vjp(ns, gz, cond, needs):
    _, need_a, need_b = needs
    return (
        None,
        ns.where(cond, gz, 0.0) if need_a else None,
        ns.where(cond, 0.0, gz) if need_b else None,
    )


def _linked_where_vjp(ns, gz, cond, a, b, needs):
    _, ga, gb = _where_vjp(ns, gz, cond, needs)
    return None, None if ga is None else zero_link(ga, a), None if gb is None else zero_link(gb, b)


class Cast(Op):
    """z = a converted to another dtype; the engine casts the gradient back to a's dtype (a
    complex-to-real cast keeps the real part, with NumPy's warning, and its gradient is real)"""

    supports_complex = True

    backward_name = "ToCopyBackward0"

    def __init__(self, np_dtype):
        self.np_dtype = np_dtype

    def forward(self, a):
        if self.device.type != "cpu":
            self.device.backend.check_dtype(self.np_dtype)  # CuPy has no bfloat16
        if self.np_dtype.itemsize == 1 and self.np_dtype.name.startswith("float8"):
            return _dtype_limits.to_float8(a, self.np_dtype)  # PyTorch's rounding
        return a.astype(self.np_dtype)

    def backward(self, gz):
        return gz


# -- comparisons and logic: no gradient ----------------------------------------------------------


class Compare(Op):
    """A comparison or logical function: bool result, never requires grad. Complex numbers
    have no order: only the tests of equality and of the values' kind take them."""

    differentiable = False

    def __init__(self, ufunc_name: str):
        self.ufunc_name = ufunc_name
        self.supports_complex = ufunc_name in _COMPLEX_COMPARISONS

    def forward(self, *arrays):
        return getattr(self.xp, self.ufunc_name)(*arrays)

    @classmethod
    def name(cls) -> str:
        return "Compare"


_COMPLEX_COMPARISONS = frozenset(
    "equal not_equal isclose isnan isinf isfinite logical_and logical_or logical_xor logical_not".split()
)


def compare(ufunc_name: str, a, b=None):
    """``a <op> b`` elementwise as a bool tensor (``equal``, ``less``, ``logical_and``, ...)."""
    if b is None:
        return Compare(ufunc_name)(a)
    method = _COMPARE_METHODS.get(ufunc_name, ufunc_name)
    if not isinstance(b, graph.Tensor) and _tf.has_override((b,)):
        # a tensor-like operand (tensor < masked) takes the call, as in PyTorch (NumPy would
        # compare with the object and answer False)
        return _tf.operand_takes(method, (a, b), TypeError(f"{method}: {type(b).__name__}"))
    try:
        if isinstance(a, graph.Tensor) and isinstance(b, graph.Tensor) and a.dtype is not b.dtype:
            a, b = promote(a, b)
        elif ufunc_name.startswith("bitwise") or type(a) is int or type(b) is int:
            a, b = promote(a, b)  # a Python int wraps into an integer tensor's dtype, as PyTorch
        return Compare(ufunc_name)(a, b)
    except TypeError as e:
        return _tf.operand_takes(method, (a, b), e)


_COMPARE_METHODS = {
    "equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt",
    "greater_equal": "ge", "bitwise_and": "__and__", "bitwise_or": "__or__",
    "bitwise_xor": "__xor__",
}  # fmt: skip


# -- functions (the public entry points; Tensor methods call these) ---------------------------


def add(input, other, alpha=1):
    """``input + alpha * other`` (PyTorch's argument names, so ``x.add(other=y)`` works)."""
    if alpha == 1 if type(alpha) is int else False:  # ``a + b``: none of the checks below
        return binary(Add(), input, other)
    if type(alpha) is not int:
        other, alpha = _number_first("add", other, alpha)
        check_alpha(alpha, "alpha", input, other)
    if alpha != 1 and _both_half(input, other):  # as PyTorch's kernel: see _half_alpha
        return add(input.float(), other.float(), _half_alpha(alpha, input)).to(input.dtype)
    if alpha != 1 and isinstance(other, graph.Tensor):  # alpha·other in the result's dtype
        input, other = promote(input, other)
        if input.dtype is dtypes.bool:  # bool tensors: alpha as a bool, as PyTorch's kernel
            alpha = bool(alpha)
    return binary(Add(), input, other if alpha == 1 else other * alpha)


def sub(input, other, alpha=1):
    """``input - alpha * other``; refused for bool tensors, as in PyTorch (use ``~`` or
    logical_not)."""
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if type(alpha) is not int:
        other, alpha = _number_first("sub", other, alpha)
        check_alpha(alpha, "alpha", input, other)
    if alpha != 1 and _both_half(input, other):  # as PyTorch's kernel: see _half_alpha
        return sub(input.float(), other.float(), _half_alpha(alpha, input)).to(input.dtype)
    if alpha != 1 and isinstance(other, graph.Tensor):  # alpha·other in the result's dtype
        input, other = promote(input, other)
    return binary(Sub(), input, other if alpha == 1 else other * alpha)


def subtract(input, other, *args, alpha=1):
    """``torch.subtract``: :func:`sub` with PyTorch's overloads, ``subtract(input, tensor, *,
    alpha)`` and ``subtract(input, number, alpha)``: a third positional argument after a tensor
    ``other``, or a tensor there, raises ``TypeError`` (``sub``'s deprecated ``sub(x, number,
    y)`` is not ``subtract``'s: ``subtract(x, 0, y)`` gave ``x``)."""
    return sub(input, other, alpha=positional_alpha("subtract", other, args, alpha))


def positional_alpha(op: str, other, args: tuple, alpha):
    """``alpha`` of PyTorch's two overloads ``op(input, Tensor other, *, alpha)`` and
    ``op(input, Number other, Number alpha)`` (``subtract``, ``rsub``): ``args`` holds what
    came after ``other``; a positional alpha after a tensor ``other``, or a tensor alpha,
    raises PyTorch's ``TypeError``."""
    if not args:
        return alpha
    if len(args) > 1 or isinstance(other, graph.Tensor) or isinstance(args[0], graph.Tensor):
        raise TypeError(
            f"{op}() received an invalid combination of arguments: alpha is keyword-only after "
            f"a tensor other ({op}(input, other, *, alpha)); positional only as "
            f"{op}(input, number, number)"
        )
    return args[0]


def _number_first(name, other, alpha):
    """``(other, alpha)`` of a call in PyTorch's deprecated ``add(input, Number alpha, Tensor
    other)`` overload (``torch.add(x, 2, y)``), which is warned about and swapped, or as given."""
    if isinstance(alpha, graph.Tensor) and not isinstance(other, graph.Tensor):
        warn_deprecated_overload(
            name, *number_first_signatures(name, "alpha", "other", method=False)
        )
        return alpha, other
    return other, alpha


def _half_alpha(alpha, tensor) -> float:
    """PyTorch adds 16-bit tensors with ``alpha`` in float32 with alpha rounded to 16 bits
    (one rounding of the result, not one more for ``alpha * other``)."""
    return float(np.asarray(alpha, dtype=tensor._data.dtype).astype(np.float32))


def _both_half(a, b) -> bool:
    """Two tensors of one 16-bit float dtype (float16 or bfloat16)."""
    tensor_cls = graph.Tensor
    if not (isinstance(a, tensor_cls) and isinstance(b, tensor_cls)):
        return False
    dt = a._data.dtype
    return dt == b._data.dtype and dt.itemsize == 2 and dt.kind in "fV"


def _is_bool(x) -> bool:
    return isinstance(x, graph.Tensor) and x._data.dtype.kind == "b"


def mul(input, other):
    return binary(Mul(), input, other)


def div(input, other, rounding_mode=None):
    a, b = input, other
    if rounding_mode is None:
        return binary(Div(), a, b, floating=True)
    if rounding_mode == "floor":
        return binary(FloorDivide(), a, b)
    if rounding_mode == "trunc":
        a, b = promote(a, b)
        if not getattr(a, "dtype", getattr(b, "dtype", None)).is_floating_point:
            return TruncDivide()(a, b)
        return Div()(a, b).trunc()
    raise RuntimeError(  # (PyTorch's type and words)
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
        f"{rounding_mode!r}"
    )


def floor_divide(input, other):
    return binary(FloorDivide(), input, other)


def remainder(input, other):
    return binary(Remainder(), input, other)


def pow(input, exponent):
    refuse_two_bools(input, exponent, "pow", "pow")
    return binary(Pow(), input, exponent)


def refuse_two_bools(input, other, kernel: str, op: str) -> None:
    """PyTorch's NotImplementedError for two bool tensors where its kernel has no bool loop
    (``pow``, ``fmod_cpu``; a Python bool operand computes)."""
    if (
        getattr(input, "dtype", None) is dtypes.bool
        and getattr(other, "dtype", None) is dtypes.bool
    ):
        refuse_dtype(dtypes.bool, kernel, op, bools_only=True)


def maximum(input, other):
    """Elementwise max (NaN wins). Differs on purpose: ``other`` may be a Python number, which
    PyTorch refuses."""
    return binary(Maximum(), input, other)


def minimum(input, other):
    """Elementwise min (NaN wins); ``other`` may be a Python number, unlike in PyTorch."""
    return binary(Minimum(), input, other)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` is true, else ``other`` (tensors or scalars, broadcast).

    With only ``condition``, the indices of its true entries (``nonzero(as_tuple=True)``).
    """
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    return _where(Where(), condition, input, other)


def linked_where(condition, input, other):
    """``where(condition, input, other)`` as the last op of a function PyTorch differentiates as
    one node whose backward reads its input only through a mask (hardtanh, threshold, the
    shrinks, prelu): in a recorded backward each gradient keeps its input in the graph, with
    zero derivative (:func:`~minigrad.ops.base.zero_link`), as PyTorch's."""
    op = Where()
    op.save_inputs = True  # the values too, for zero_link (they share version checks, as PyTorch)
    return _where(op, condition, input, other)


def _where(op, condition, input, other):
    tensor_cls = graph.Tensor
    if not isinstance(condition, tensor_cls):
        raise TypeError(f"where: condition must be a bool tensor, got {_describe(condition)}")
    if condition.dtype is dtypes.uint8:  # still accepted by PyTorch, with this warning
        warn_user(
            "where received a uint8 condition tensor. This behavior is deprecated and will be "
            "removed in a future version of PyTorch. Use a boolean condition instead."
        )
        condition = condition.to(dtypes.bool)
    if condition.dtype is not dtypes.bool:  # PyTorch's words
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            + dtypes.scalar_type_name(condition.dtype)
        )
    if isinstance(input, tensor_cls) or isinstance(other, tensor_cls):
        input, other = promote(input, other)
    else:
        input = scalar_tensor(input, dtypes.result_type(input, other), condition.device)
    return op(condition, input, other)


def _describe(x) -> str:
    return f"a tensor of {x.dtype}" if isinstance(x, graph.Tensor) else type(x).__name__


def masked_fill(input, mask, value):
    """``input`` with ``value`` where ``mask`` is true (``input`` and ``mask`` broadcast).

    The result keeps ``input``'s dtype, as in PyTorch: the value is converted to it (2.5 in an
    int64 tensor is 2), and a value the dtype cannot hold raises (300 in a uint8 tensor).
    """
    if isinstance(mask, graph.Tensor) and mask.dtype is not dtypes.bool:  # a 0/1 float mask
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            + dtypes.cpp_type_name(mask.dtype)
        )
    overload = int(isinstance(value, graph.Tensor))  # PyTorch: MaskedFillBackward0 / 1
    if overload:
        if value.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        value = value.to(input.dtype)
    else:
        value = scalar_tensor(
            dtypes.checked_scalar(value, input.dtype, "masked_fill"), input.dtype, input.device
        )
    out = where(mask, value, input)  # (out of place, input and mask broadcast, as PyTorch's)
    return named_as(out, f"MaskedFillBackward{overload}")


def unary_function(op_cls, name: str, floating: bool = True, bools: bool = True):
    """The public function for a one-input op, documented by the op's derivative line.

    ``bools=False``: a bool input raises NotImplementedError, as PyTorch has no kernel for it
    (``abs``, ``floor``, ``relu`` of a bool tensor), instead of NumPy's silent answer.
    """

    def function(input):
        if not bools and input._data.dtype.kind == "b":
            raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
        if floating and input._data.dtype.kind not in "fc":  # (unary's test, without its call)
            return unary(op_cls(), input, floating)
        return op_cls()(input)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name}: {op_cls.__doc__}"
    return function


def neg(input):
    if input.dtype is dtypes.bool:
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. Use `~` or logical_not() instead."
        )
    return Neg()(input)


def logical_not(input):
    return Compare("logical_not")(input)


def isnan(input):
    return Compare("isnan")(input)


def isinf(input):
    return Compare("isinf")(input)


def isfinite(input):
    return Compare("isfinite")(input)
