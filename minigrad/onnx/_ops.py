"""How each traced op becomes ONNX nodes (opset 17): one converter per op class name.

A converter gets a :class:`Call` (the op, its inputs' value names and shapes, the result) and
returns the name of its output value. Ops without a converter make the export raise
``NotImplementedError`` naming them.
"""

from __future__ import annotations

import math

import numpy as np

from ._graph import INT64_MAX, dynamic_shape

CONVERTERS = {}


class Call:
    """One traced op being converted."""

    def __init__(self, g, op, op2, args, names, result, result2):
        self.g, self.op, self.op2 = g, op, op2
        self.args, self.names = args, names
        self.result, self.result2 = result, result2

    @property
    def name(self) -> str:
        return self.op.name()

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
    quotient = c.g.node("Div", [c.input(0), c.input(1)])
    return quotient if c.dtype.kind in "iu" else c.g.node("Floor", [quotient])


@converter("Remainder")
def _remainder(c):
    """a - floor(a / b)·b: the sign of b, as Python's and PyTorch's remainder."""
    if c.dtype.kind != "f":
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
    return c.g.node("ReduceSum", [c.input(0), c.g.ints(c.op.dims)], keepdims=int(c.op.keepdim))


def _reduce_attr(onnx_op):
    def convert(c):
        if not c.op.dims:
            return c.g.node("Identity", [c.input(0)])
        return c.g.node(onnx_op, [c.input(0)], axes=list(c.op.dims), keepdims=int(c.op.keepdim))

    return convert


CONVERTERS["Amax"] = _reduce_attr("ReduceMax")
CONVERTERS["Amin"] = _reduce_attr("ReduceMin")
CONVERTERS["LogSumExp"] = _reduce_attr("ReduceLogSumExp")
CONVERTERS["Norm2"] = _reduce_attr("ReduceL2")


@converter("Prod")
def _prod(c):
    if c.op.dim is None:
        flat = c.g.node("Reshape", [c.input(0), c.g.ints([-1])])
        return c.g.node("ReduceProd", [flat], axes=[0], keepdims=0)
    return c.g.node("ReduceProd", [c.input(0)], axes=[int(c.op.dim)], keepdims=int(c.op.keepdim))


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


# -- movement ---------------------------------------------------------------------------------


@converter("Reshape")
def _reshape(c):
    shape2 = c.op2.shape if c.op2 is not None else None
    target = dynamic_shape(c.op.shape, shape2, c.shape(0), "Reshape")
    return c.g.node("Reshape", [c.input(0), c.g.ints(target)])


@converter("Permute")
def _permute(c):
    return c.g.node("Transpose", [c.input(0)], perm=[int(d) for d in c.op.dims])


@converter("Expand")
def _expand(c):
    shape, ins = list(c.op.shape), c.shape(0)
    # Broadcasting keeps an input dim wherever the target says 1, so copied dims stay dynamic.
    lead = len(shape) - len(ins)
    target = [1 if i >= lead and ins[i - lead] == s else s for i, s in enumerate(shape)]
    if c.op2 is not None:
        for i, (a, b) in enumerate(zip(shape, c.op2.shape)):
            if a != b and target[i] != 1:
                c.unsupported("a dynamic expanded size not taken from its input")
    return c.g.node("Expand", [c.input(0), c.g.ints(target)])


@converter("Tril", "Triu")
def _trilu(c):
    k = c.g.const(np.asarray(c.op.diagonal, np.int64))
    return c.g.node("Trilu", [c.input(0), k], upper=int(c.name == "Triu"))


@converter("Flip")
def _flip(c):
    g, x = c.g, c.input(0)
    dims = list(c.op.dims)
    n = len(dims)
    return g.node(
        "Slice",
        [x, g.ints([-1] * n), g.ints([-INT64_MAX] * n), g.ints(dims), g.ints([-1] * n)],
    )


@converter("GetItem")
def _getitem(c):
    g, x = c.g, c.input(0)
    key = list(c.op.key)
    key2 = list(c.op2.key) if c.op2 is not None else key
    shape = c.shape(0)
    if any(isinstance(k, np.ndarray) for k in key):
        c.unsupported("index arrays (advanced indexing)")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        fill = len(shape) - sum(1 for k in key if k is not None and k is not Ellipsis)
        key[at : at + 1] = [slice(None)] * fill
        key2[at : at + 1] = [slice(None)] * fill
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = out_dim = 0
    for k, k2 in zip(key, key2):
        if k is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(k, (int, np.integer)):
            if k != k2 and (k < 0) == (k2 < 0):
                c.unsupported("an index that depends on a dynamic axis")
            starts.append(int(k))
            ends.append(int(k) + 1 if k != -1 else INT64_MAX)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif isinstance(k, slice):
            start, stop, step = k.start, k.stop, k.step
            size = shape[dim]
            if (start, stop, step) != (None, None, None):
                step = 1 if step is None else int(step)
                if stop is not None and k2.stop != stop and stop >= size:
                    stop = None  # a slice to the end of a dynamic dim
                if k2.start != start and start is not None:
                    c.unsupported("a slice start that depends on a dynamic axis")
                starts.append(int(start) if start is not None else (0 if step > 0 else -1))
                far = INT64_MAX if step > 0 else -INT64_MAX
                ends.append(int(stop) if stop is not None else far)
                axes.append(dim)
                steps.append(step)
            out_dim += 1
        else:
            c.unsupported(f"index {k!r}")
        dim += 1
    if axes:
        x = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        x = g.node("Squeeze", [x, g.ints(squeeze)])
    if unsqueeze:
        x = g.node("Unsqueeze", [x, g.ints(unsqueeze)])
    if not (axes or squeeze or unsqueeze):
        x = g.node("Identity", [x])
    return x


@converter("Cat")
def _cat(c):
    return c.g.node("Concat", [c.input(i) for i in range(len(c.args))], axis=int(c.op.dim))


@converter("Pad")
def _pad(c):
    rank = len(c.shape(0))
    pairs = [(0, 0)] * rank
    w = list(c.op.widths)
    for i in range(len(w) // 2):  # widths come last dim first, as F.pad
        pairs[rank - 1 - i] = (w[2 * i], w[2 * i + 1])
    pads = [p[0] for p in pairs] + [p[1] for p in pairs]
    value = c.g.const(np.asarray(c.op.value, c.dtype))
    return c.g.node("Pad", [c.input(0), c.g.ints(pads), value], mode="constant")


# -- linear algebra and layers ---------------------------------------------------------------


@converter("MatMul")
def _matmul(c):
    return c.g.node("MatMul", [c.input(0), c.input(1)])


@converter("Einsum")
def _einsum(c):
    eq = ",".join(c.op.inputs) + "->" + c.op.output
    return c.g.node("Einsum", [c.input(i) for i in range(len(c.args))], equation=eq)


@converter("Linear")
def _linear(c):
    g, x, w = c.g, c.input(0), c.input(1)
    has_bias = c.args[2] is not None
    if len(c.shape(0)) == 2:
        ins = [x, w] + ([c.input(2)] if has_bias else [])
        return g.node("Gemm", ins, transB=1)
    y = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    return g.node("Add", [y, c.input(2)]) if has_bias else y


@converter("Embedding")
def _embedding(c):
    indices = c.g.index_value(c.op.indices, c.op2.indices if c.op2 is not None else None)
    return c.g.node("Gather", [c.input(0), indices], axis=0)


def _window_attrs(geom, shape):
    size = shape[2:]
    after = [max(0, p - n - b) for p, n, b in zip(geom.padded, size, geom.pad)]
    return {
        "kernel_shape": list(geom.kernel),
        "strides": list(geom.stride),
        "pads": list(geom.pad) + after,
        "dilations": list(geom.dilation),
    }


@converter("Convolution")
def _conv(c):
    ins = [c.input(0), c.input(1)] + ([c.input(2)] if c.args[2] is not None else [])
    return c.g.node("Conv", ins, group=int(c.op.groups), **_window_attrs(c.op.geom, c.shape(0)))


@converter("MaxPool")
def _max_pool(c):
    return c.g.node("MaxPool", [c.input(0)], **_window_attrs(c.op.geom, c.shape(0)))


@converter("AvgPool")
def _avg_pool(c):
    attrs = _window_attrs(c.op.geom, c.shape(0))
    if any(d != 1 for d in attrs.pop("dilations")):
        c.unsupported("dilation")
    divisor = c.op.divisor
    if not np.isscalar(divisor) or divisor != math.prod(c.op.geom.kernel):
        c.unsupported("count_include_pad=False or divisor_override")
    return c.g.node("AveragePool", [c.input(0)], count_include_pad=1, **attrs)


@converter("LayerNorm", "BatchNorm", "GroupNorm")
def _normalize(c):
    """(x - mean)/√(var + eps)·w + b with the statistics over the op's axes (biased var)."""
    g, x, dt = c.g, c.input(0), c.dtype
    axes = list(c.op.axes)
    centered = g.node("Sub", [x, g.node("ReduceMean", [x], axes=axes, keepdims=1)])
    var = g.node("ReduceMean", [g.node("Mul", [centered, centered])], axes=axes, keepdims=1)
    std = g.node("Sqrt", [g.node("Add", [var, g.const(np.asarray(c.op.eps, dt))])])
    y = g.node("Div", [centered, std])
    if c.args[1] is not None:
        y = g.node("Mul", [y, c.input(1)])
    if c.args[2] is not None:
        y = g.node("Add", [y, c.input(2)])
    return y


def _attention_weights(c):
    g, dt = c.g, c.dtype
    q, k = c.input(0), c.input(1)
    rank = len(c.shape(1))
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    s = g.node("MatMul", [q, g.node("Transpose", [k], perm=perm)])
    s = g.node("Mul", [s, g.const(np.asarray(c.op.scale, dt))])
    mask_at = len(c.args) - 1
    if c.args[mask_at] is not None:
        if c.op.mask_is_bool:
            s = g.node("Where", [c.input(mask_at, np.bool_), s, g.const(np.asarray(-np.inf, dt))])
        else:
            s = g.node("Add", [s, c.input(mask_at)])
        # A row with no allowed key gives zeros, as minigrad (and PyTorch's SDPA) do.
        m = g.node("ReduceMax", [s], axes=[-1], keepdims=1)
        finite = g.node("Not", [g.node("IsInf", [m])])
        s = g.node("Sub", [s, g.node("Where", [finite, m, g.const(np.zeros((), dt))])])
        e = g.node("Exp", [s])
        total = g.node("ReduceSum", [e, g.ints([-1])], keepdims=1)
        safe = g.node("Max", [total, g.const(np.asarray(np.finfo(dt).tiny, dt))])
        return g.node("Div", [e, safe])
    return g.node("Softmax", [s], axis=-1)


@converter("AttentionWeights")
def _attention(c):
    return _attention_weights(c)


@converter("ScaledDotProductAttention")
def _sdpa(c):
    if c.op.keep is not None:
        c.unsupported("dropout (export in eval mode)")
    p = _attention_weights(c)
    return c.g.node("MatMul", [p, c.input(2)])


@converter("LSTMCell")
def _lstm_cell(c):
    """[h', c'] = [σ(o)·tanh(c'), σ(f)·c + σ(i)·tanh(g)] from gates [i f g o] (N, 4H)."""
    g = c.g
    gates, cell = c.input(0), c.input(1)
    hidden = c.shape(1)[-1]
    i, f, gg, o = g.node("Split", [gates, g.ints([hidden] * 4)], outputs=4, axis=1)
    i, f, o = (g.node("Sigmoid", [t]) for t in (i, f, o))
    c_new = g.node("Add", [g.node("Mul", [f, cell]), g.node("Mul", [i, g.node("Tanh", [gg])])])
    h_new = g.node("Mul", [o, g.node("Tanh", [c_new])])
    zero = g.ints([0])
    return g.node(
        "Concat",
        [g.node("Unsqueeze", [h_new, zero]), g.node("Unsqueeze", [c_new, zero])],
        axis=0,
    )


@converter("GRUCell")
def _gru_cell(c):
    """h' = (1 - z)·n + z·h with r, z = σ(gi + gh), n = tanh(gi_n + r·gh_n), gates [r z n]."""
    g = c.g
    gi, gh, h = c.input(0), c.input(1), c.input(2)
    hidden = c.shape(2)[-1]
    sizes = g.ints([hidden] * 3)
    i_r, i_z, i_n = g.node("Split", [gi, sizes], outputs=3, axis=1)
    h_r, h_z, h_n = g.node("Split", [gh, sizes], outputs=3, axis=1)
    r = g.node("Sigmoid", [g.node("Add", [i_r, h_r])])
    z = g.node("Sigmoid", [g.node("Add", [i_z, h_z])])
    n = g.node("Tanh", [g.node("Add", [i_n, g.node("Mul", [r, h_n])])])
    one_minus_z = g.node("Sub", [g.const(np.ones((), c.dtype)), z])
    return g.node("Add", [g.node("Mul", [one_minus_z, n]), g.node("Mul", [z, h])])
