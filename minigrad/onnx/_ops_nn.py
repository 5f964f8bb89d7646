"""Converters for linear algebra and layer ops: matmul, linear, embedding, convolution,
pooling, normalization, attention, recurrent cells (see :mod:`._ops`)."""

from __future__ import annotations

import math

import numpy as np

from ._ops import converter

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


@converter("LayerNorm")
def _layer_norm(c):
    """``LayerNormalization`` (opset 17) over the trailing axes, as PyTorch emits it."""
    g, rank, axes = c.g, len(c.shape(0)), sorted(a % len(c.shape(0)) for a in c.op.axes)
    if g.opset < 17 or axes != list(range(rank - len(axes), rank)):
        return _normalize(c)
    normalized = c.shape(0)[axes[0] :]
    if c.args[1] is None:
        scale = g.const(np.ones(normalized, c.dtype))
    else:
        scale = g.node("Reshape", [c.input(1), g.ints(normalized)])
    ins = [c.input(0), scale]
    if c.args[2] is not None:
        ins.append(g.node("Reshape", [c.input(2), g.ints(normalized)]))
    return g.node("LayerNormalization", ins, axis=axes[0], epsilon=float(c.op.eps))


def _instance_norm(c):
    """``InstanceNormalization`` where the statistics are per sample and channel (instance
    norm, and group norm on its (N, G, -1) view), as PyTorch emits both; else None."""
    shape, axes = c.shape(0), sorted(a % len(c.shape(0)) for a in c.op.axes)
    spatial = list(range(2, len(shape)))
    if len(shape) < 3 or (axes != spatial and not (shape[0] == 1 and axes == [0] + spatial)):
        return None
    g, channels, ins = c.g, shape[1], [c.input(0)]
    for k, fill in ((1, np.ones), (2, np.zeros)):
        if c.args[k] is None:
            ins.append(g.const(fill(channels, c.dtype)))
        elif c.args[k].numel() == channels and c.args[k].shape[-len(shape) + 1] == channels:
            ins.append(g.node("Reshape", [c.input(k), g.ints([channels])]))
        else:
            return None
    return g.node("InstanceNormalization", ins, epsilon=float(c.op.eps))


def _batch_norm(c):
    """``BatchNormalization`` in training mode (batch statistics; opset 14 on), as PyTorch
    emits for a training export; else None. Its running-statistics inputs do not change the
    output there and are given as zeros and ones."""
    shape, axes = c.shape(0), sorted(a % len(c.shape(0)) for a in c.op.axes)
    if c.name != "BatchNorm" or c.g.opset < 14 or len(shape) < 2:
        return None
    if axes != [0] + list(range(2, len(shape))):
        return None
    # Without weight and bias onnxruntime's default graph optimizations (seen with 1.32)
    # compute it with the running statistics as in eval mode: the arithmetic stays then.
    if c.args[1] is None or c.args[2] is None:
        return None
    g, channels, ins = c.g, shape[1], [c.input(0)]
    for k in (1, 2):
        if c.args[k].numel() != channels:
            return None
        ins.append(g.node("Reshape", [c.input(k), g.ints([channels])]))
    # Own initializers, not shared constants: onnxruntime may update them in place.
    for stat, fill in (("running_mean", np.zeros), ("running_var", np.ones)):
        ins.append(g.initializer(g.fresh(stat), fill(channels, c.dtype)))
    y, _, _ = g.node("BatchNormalization", ins, 3, epsilon=float(c.op.eps), training_mode=1)
    return y


@converter("BatchNorm", "GroupNorm")
def _normalize(c):
    """(x - mean)/√(var + eps)·w + b with the statistics over the op's axes (biased var)."""
    y = _instance_norm(c) if c.name != "LayerNorm" else None
    y = _batch_norm(c) if y is None and c.name != "LayerNorm" else y
    if y is not None:
        return y
    g, x, dt = c.g, c.input(0), c.dtype
    axes = list(c.op.axes)
    centered = g.node("Sub", [x, g.reduce("ReduceMean", x, axes, 1)])
    var = g.reduce("ReduceMean", g.node("Mul", [centered, centered]), axes, 1)
    std = g.node("Sqrt", [g.node("Add", [var, g.const(np.asarray(c.op.eps, dt))])])
    y = g.node("Div", [centered, std])
    if c.args[1] is not None:
        y = g.node("Mul", [y, c.input(1)])
    if c.args[2] is not None:
        y = g.node("Add", [y, c.input(2)])
    return y


def _attention_weights(c, mask_at: int):
    g, dt = c.g, c.dtype
    q, k = c.input(0), c.input(1)
    rank = len(c.shape(1))
    perm = list(range(rank - 2)) + [rank - 1, rank - 2]
    s = g.node("MatMul", [q, g.node("Transpose", [k], perm=perm)])
    s = g.node("Mul", [s, g.const(np.asarray(c.op.scale, dt))])
    if getattr(c.op, "causal", False):  # is_causal: no mask tensor, a fixed tril
        allowed = np.tri(c.shape(0)[-2], c.shape(1)[-2], dtype=np.bool_)
        s = g.node("Where", [g.const(allowed), s, g.const(np.asarray(-np.inf, dt))])
        return g.node("Softmax", [s], axis=-1)
    if c.args[mask_at] is not None:
        if c.op.mask_is_bool:
            s = g.node("Where", [c.input(mask_at, np.bool_), s, g.const(np.asarray(-np.inf, dt))])
        else:
            s = g.node("Add", [s, c.input(mask_at)])
        # A row with no allowed key gives zeros, as minigrad (and PyTorch's SDPA) do.
        m = g.reduce("ReduceMax", s, [-1], 1)
        finite = g.node("Not", [g.node("IsInf", [m])])
        s = g.node("Sub", [s, g.node("Where", [finite, m, g.const(np.zeros((), dt))])])
        e = g.node("Exp", [s])
        total = g.node("ReduceSum", [e, g.ints([-1])], keepdims=1)
        safe = g.node("Max", [total, g.const(np.asarray(np.finfo(dt).tiny, dt))])
        return g.node("Div", [e, safe])
    return g.node("Softmax", [s], axis=-1)


@converter("AttentionWeights")
def _attention(c):
    return _attention_weights(c, 2)  # (q, k, mask)


@converter("ScaledDotProductAttention")
def _sdpa(c):
    # (q, k, v, mask, keep): keep is the dropout mask, None in eval mode
    keep = c.args[4] if len(c.args) > 4 else getattr(c.op, "keep", None)
    if keep is not None:
        c.unsupported("dropout (export in eval mode)")
    p = _attention_weights(c, 3)
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


@converter("ZeroLink", "FirstOrderOnly")
def _zero_link(c):
    """The pooled output itself: the link to the pool's input only keeps it in a recorded
    backward's graph (with a zero derivative); FirstOrderOnly is an identity too."""
    return c.g.node("Identity", [c.input(0)])


@converter("Hardsigmoid")
def _hardsigmoid(c):
    return c.g.node("HardSigmoid", [c.input(0)], alpha=1.0 / 6.0, beta=0.5)


@converter("BinaryCrossEntropyWithLogits")
def _bce_with_logits(c):
    """(1 - t)·x + (1 + (p - 1)·t)·softplus(-x), weighted, then reduced (the op's formula; its
    weights are settings of the op, exported as constants)."""
    g, dt = c.g, c.dtype
    x, t, one = c.input(0), c.input(1), g.const(np.ones((), dt))
    softplus_neg = g.node("Softplus", [g.node("Neg", [x])])
    if c.op.pos_weight is not None:
        p = g.const(c.op.pos_weight.detach().cpu().numpy().astype(dt))
        factor = g.node("Add", [one, g.node("Mul", [g.node("Sub", [p, one]), t])])
        softplus_neg = g.node("Mul", [factor, softplus_neg])
    loss = g.node("Add", [g.node("Mul", [g.node("Sub", [one, t]), x]), softplus_neg])
    if c.op.weight is not None:
        loss = g.node("Mul", [loss, g.const(c.op.weight.detach().cpu().numpy().astype(dt))])
    if c.op.reduction == "none":
        return loss
    flat = g.node("Reshape", [loss, g.ints([-1])])
    if c.op.reduction == "sum":
        return g.node("ReduceSum", [flat, g.ints([0])], keepdims=0)
    return g.reduce("ReduceMean", flat, [0], 0)
