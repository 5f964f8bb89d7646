"""How each traced op becomes ONNX nodes (opset 13 and later): one converter per op class name.

A converter gets a :class:`Call` (the op, its inputs' value names and shapes, the result) and
returns the name of its output value. Ops without a converter make the export raise
``NotImplementedError`` naming them.
"""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes

CONVERTERS = {}


class Call:
    """One traced op being converted."""

    def __init__(self, g, op, op2, args, names, result, result2):
        self.g, self.op, self.op2 = g, op, op2
        self.args, self.names = args, names
        self.result, self.result2 = result, result2

    @property
    def name(self) -> str:
        return self.op.label()

    @property
    def dtype(self):
        return self.result._data.dtype if not isinstance(self.result, tuple) else None

    def shape(self, i: int) -> tuple:
        return tuple(self.args[i].shape)

    def input(self, i: int, dtype=None) -> str:
        """The value name of argument ``i``; a Python number becomes a constant of ``dtype``
        (default: the result's dtype); a tensor of another dtype than ``dtype`` is cast."""
        name, arg = self.names[i], self.args[i]
        dtype = np.dtype(dtype if dtype is not None else self.dtype)
        if name is None:
            return self.g.const(np.asarray(arg, dtype=dtype))
        if arg._data.dtype != dtype:
            return self.g.node("Cast", [name], to=_onnx_type(self.g, dtype))
        return name

    def unsupported(self, what: str):
        raise NotImplementedError(f"onnx export: {self.name} with {what} is not supported")


def _onnx_type(g, dtype) -> int:
    return g.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def converter(*names):
    def register(fn):
        for n in names:
            CONVERTERS[n] = fn
        return fn

    return register


# -- elementwise ----------------------------------------------------------------------------


def _binary(onnx_op):
    return lambda c: c.g.node(onnx_op, [c.input(0), c.input(1)])


for _name, _onnx in {
    "Add": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "Div": "Div",
    "Maximum": "Max",
    "Minimum": "Min",
}.items():
    CONVERTERS[_name] = _binary(_onnx)


@converter("Pow")
def _pow(c):
    return c.g.node("Pow", [c.input(0), c.input(1)])


def _unary(onnx_op):
    return lambda c: c.g.node(onnx_op, [c.input(0)])


for _name, _onnx in {
    "Neg": "Neg",
    "Exp": "Exp",
    "Log": "Log",
    "Sqrt": "Sqrt",
    "Abs": "Abs",
    "Sin": "Sin",
    "Cos": "Cos",
    "Tan": "Tan",
    "Tanh": "Tanh",
    "Erf": "Erf",
    "Sigmoid": "Sigmoid",
    "ReLU": "Relu",
    "Sign": "Sign",
    "Floor": "Floor",
    "Ceil": "Ceil",
    "Clone": "Identity",
}.items():
    CONVERTERS[_name] = _unary(_onnx)


@converter("Rsqrt")
def _rsqrt(c):
    return c.g.node("Reciprocal", [c.g.node("Sqrt", [c.input(0)])])


@converter("Log1p")
def _log1p(c):
    return c.g.node("Log", [c.g.node("Add", [c.input(0), c.g.const(np.ones((), c.dtype))])])


@converter("Expm1")
def _expm1(c):
    return c.g.node("Sub", [c.g.node("Exp", [c.input(0)]), c.g.const(np.ones((), c.dtype))])


@converter("Round")
def _round(c):
    if c.op.decimals:
        c.unsupported(f"decimals={c.op.decimals}")
    return c.g.node("Round", [c.input(0)])


@converter("Trunc")
def _trunc(c):
    x = c.input(0)
    return c.g.node("Mul", [c.g.node("Sign", [x]), c.g.node("Floor", [c.g.node("Abs", [x])])])


@converter("Clamp")
def _clamp(c):
    lo = "" if c.op.lo is None else c.g.const(np.asarray(c.op.lo, c.dtype))
    hi = "" if c.op.hi is None else c.g.const(np.asarray(c.op.hi, c.dtype))
    return c.g.node("Clip", [c.input(0), lo, hi])


@converter("Logit")
def _logit(c):
    """log(x / (1 - x)), x clipped to [eps, 1 - eps] first when eps is given."""
    x = c.input(0)
    if c.op.eps is not None:
        eps = c.op.eps
        x = c.g.node(
            "Clip",
            [x, c.g.const(np.asarray(eps, c.dtype)), c.g.const(np.asarray(1 - eps, c.dtype))],
        )
    one_minus = c.g.node("Sub", [c.g.const(np.ones((), c.dtype)), x])
    return c.g.node("Log", [c.g.node("Div", [x, one_minus])])


@converter("Cast")
def _cast(c):
    return c.g.node("Cast", [c.names[0]], to=_onnx_type(c.g, c.op.np_dtype))


_COMPARE = {
    "equal": "Equal",
    "less": "Less",
    "greater": "Greater",
    "less_equal": "LessOrEqual",
    "greater_equal": "GreaterOrEqual",
}


_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}
_BITWISE = {"bitwise_and": "BitwiseAnd", "bitwise_or": "BitwiseOr", "bitwise_xor": "BitwiseXor"}


@converter("Compare")
def _compare(c):
    g, kind = c.g, c.op.ufunc_name
    if len(c.args) == 1:  # the unary forms
        x = c.names[0]
        if kind in ("logical_not", "invert") and c.args[0]._data.dtype == np.bool_:
            return g.node("Not", [x])
        if kind == "logical_not":
            return g.node("Not", [g.node("Cast", [x], to=_onnx_type(g, np.bool_))])
        if kind == "invert":
            return g.node("BitwiseNot", [x])
        if kind == "isnan":
            return g.node("IsNaN", [x])
        if kind == "isinf":
            return g.node("IsInf", [x])
        if kind == "isfinite":
            bad = g.node("Or", [g.node("IsNaN", [x]), g.node("IsInf", [x])])
            return g.node("Not", [bad])
        c.unsupported(f"the unary form {kind}")
    common = np.result_type(*(a._data.dtype if c.names[i] else a for i, a in enumerate(c.args)))
    if kind in _LOGICAL:
        return g.node(_LOGICAL[kind], [c.input(0, np.bool_), c.input(1, np.bool_)])
    a, b = c.input(0, common), c.input(1, common)
    if kind in _BITWISE:
        if common == np.bool_:  # on bools, the logical ops
            return g.node(_LOGICAL["logical_" + kind[len("bitwise_") :]], [a, b])
        return g.node(_BITWISE[kind], [a, b])
    if kind == "not_equal":
        return g.node("Not", [g.node("Equal", [a, b])])
    if kind not in _COMPARE:
        c.unsupported(f"comparison {kind}")
    return g.node(_COMPARE[kind], [a, b])


@converter("FloorDivide")
def _floor_divide(c):
    g, a, b = c.g, c.input(0), c.input(1)
    if c.dtype.kind in "iu":  # ONNX's integer Div truncates: divide a - (a mod b) exactly
        return g.node("Div", [g.node("Sub", [a, g.node("Mod", [a, b])]), b])
    return g.node("Floor", [g.node("Div", [a, b])])


@converter("TruncDivide")
def _trunc_divide(c):
    """Integer division rounded toward zero: ONNX's integer Div."""
    return c.g.node("Div", [c.input(0), c.input(1)])


@converter("Remainder")
def _remainder(c):
    """a - floor(a / b)·b: the sign of b, as Python's and PyTorch's remainder."""
    if not dtypes.is_floating(c.dtype):
        return c.g.node("Mod", [c.input(0), c.input(1)])
    g, a, b = c.g, c.input(0), c.input(1)
    return g.node("Sub", [a, g.node("Mul", [g.node("Floor", [g.node("Div", [a, b])]), b])])


@converter("Where")
def _where(c):
    return c.g.node("Where", [c.input(0, np.bool_), c.input(1), c.input(2)])


# -- activations ------------------------------------------------------------------------------


@converter("LeakyReLU")
def _leaky_relu(c):
    return c.g.node("LeakyRelu", [c.input(0)], alpha=float(c.op.negative_slope))


@converter("ELU")
def _elu(c):
    return c.g.node("Elu", [c.input(0)], alpha=float(c.op.alpha))


@converter("SiLU")
def _silu(c):
    x = c.input(0)
    return c.g.node("Mul", [x, c.g.node("Sigmoid", [x])])


@converter("GELU")
def _gelu(c):
    g, x, dt = c.g, c.input(0), c.dtype
    if g.opset >= 20:  # the Gelu op, as PyTorch emits from opset 20
        return g.node("Gelu", [x], approximate=str(c.op.approximate))
    if c.op.approximate == "tanh":  # 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(np.asarray(0.044715, dt))])])
        t = g.node(
            "Tanh", [g.node("Mul", [inner, g.const(np.asarray(math.sqrt(2 / math.pi), dt))])]
        )
    else:  # 0.5·x·(1 + erf(x/√2))
        t = g.node("Erf", [g.node("Div", [x, g.const(np.asarray(math.sqrt(2.0), dt))])])
    half_x = g.node("Mul", [x, g.const(np.asarray(0.5, dt))])
    return g.node("Mul", [half_x, g.node("Add", [t, g.const(np.ones((), dt))])])


@converter("Softplus")
def _softplus(c):
    g, x, dt = c.g, c.input(0), c.dtype
    scaled = g.node("Mul", [x, g.const(np.asarray(c.op.beta, dt))])
    soft = g.node("Div", [g.node("Softplus", [scaled]), g.const(np.asarray(c.op.beta, dt))])
    linear = g.node("Greater", [scaled, g.const(np.asarray(c.op.threshold, dt))])
    return g.node("Where", [linear, x, soft])


@converter("Softmax")
def _softmax(c):
    return c.g.node("Softmax", [c.input(0)], axis=int(c.op.dim))


@converter("LogSoftmax")
def _log_softmax(c):
    return c.g.node("LogSoftmax", [c.input(0)], axis=int(c.op.dim))


# -- reductions -------------------------------------------------------------------------------


@converter("Sum")
def _sum(c):
    if not c.op.dims:  # a 0-d input: nothing to reduce
        return c.g.node("Identity", [c.input(0)])
    x, dims, keepdim = c.input(0), list(c.op.dims), int(c.op.keepdim)
    out = c.g.node("ReduceSum", [x, c.g.ints(dims)], keepdims=keepdim)
    c.g.sum_counts[out] = (x, dims, keepdim, math.prod(c.shape(0)[d] for d in dims))
    return out


def _reduce_attr(onnx_op):
    def convert(c):
        if not c.op.dims:
            return c.g.node("Identity", [c.input(0)])
        return c.g.reduce(onnx_op, c.input(0), c.op.dims, c.op.keepdim)

    return convert


CONVERTERS["Amax"] = _reduce_attr("ReduceMax")
CONVERTERS["Amin"] = _reduce_attr("ReduceMin")
CONVERTERS["LogSumExp"] = _reduce_attr("ReduceLogSumExp")
CONVERTERS["Norm2"] = _reduce_attr("ReduceL2")


@converter("Prod")
def _prod(c):
    if not c.shape(0):  # a 0-d input: nothing to reduce
        return c.g.node("Identity", [c.input(0)])
    if c.op.dim is None:
        flat = c.g.node("Reshape", [c.input(0), c.g.ints([-1])])
        return c.g.reduce("ReduceProd", flat, [0], 0)
    return c.g.reduce("ReduceProd", c.input(0), [c.op.dim], c.op.keepdim)


@converter("SumToSize")
def _sum_to_size(c):
    shape, target = c.shape(0), tuple(c.op.shape)
    lead = len(shape) - len(target)
    axes = list(range(lead)) + [
        lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1
    ]
    x = c.input(0)
    if axes:
        x = c.g.node("ReduceSum", [x, c.g.ints(axes)], keepdims=1)
    if lead:
        x = c.g.node("Reshape", [x, c.g.ints(target)])
    return x


@converter("Gather")
def _gather(c):
    """torch.gather: GatherElements on the part of x that the index spans in the other dims."""
    g, x, dim = c.g, c.input(0), int(c.op.dim)
    index = c.op.index
    shape = c.shape(0)
    cut = [i for i, (n, k) in enumerate(zip(shape, index.shape)) if i != dim and k < n]
    if cut:
        ends = [index.shape[i] for i in cut]
        x = g.node("Slice", [x, g.ints([0] * len(cut)), g.ints(ends), g.ints(cut)])
    idx = g.index_value(index, c.op2.index if c.op2 is not None else None)
    return g.node("GatherElements", [x, idx], axis=dim)


@converter("Cumsum")
def _cumsum(c):
    return c.g.node("CumSum", [c.input(0), c.g.const(np.asarray(c.op.dim, np.int64))])


from . import _ops_movement, _ops_nn  # noqa: E402, F401 - register their converters
