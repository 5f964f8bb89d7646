"""The ops that run on quantized tensors (minigrad._quantized): an op's forward fails on a
quantized record, and :class:`minigrad.ops.base.Op` calls :func:`_fallback` (registered in
``base.record_fallbacks``), which runs the ops PyTorch runs on quantized tensors on their
values and requantizes, and refuses any other by name."""

from __future__ import annotations

import numpy as np  # quantized tensors live on the CPU: their kernels run on NumPy

from ._quantized import (
    QuantizedArray,
    _per_tensor,
    _wrap,
    dequantize,
    quantize_array,
)
from .ops import base as _base

# -- ops on quantized tensors ---------------------------------------------------------------------
# The ops whose every output value is one of the input values (or zero) for quantized inputs,
# so that requantizing with the input's parameters is exact: found by class name, because
# several live in layers above this one (pooling in minigrad.nn).
GRID_PRESERVING = {
    "ReLUOp", "Reshape", "GetItem", "Permute", "Clone", "MaxPool", "Contiguous", "Expand",
    "Squeeze", "Unsqueeze", "Flatten", "Narrow", "Select", "Slice",
}  # fmt: skip
# Ops that average: run on the integers (less the zero point) and rounded to the input's grid, as
# PyTorch's integer kernels round (see _average_on_grid).
GRID_AVERAGING = {"AvgPool", "AdaptiveAvgPool"}
# Ops joining several quantized tensors: the result takes the first one's parameters (the
# others requantized to them), as PyTorch's quantized cat.
JOINING = {"Cat", "Stack"}


# PyTorch's fixed output grids, (scale, zero point) by quantized dtype, of the activations whose
# range is fixed: [0, 1] (sigmoid, hardsigmoid; qint32's values above 0.5 saturate, as there) and
# [-1, 1] (tanh).
UNIT_GRIDS = {"quint8": (2.0**-8, 0), "qint8": (2.0**-8, -128), "qint32": (2.0**-32, 0)}
SYMMETRIC_GRIDS = {"quint8": (2.0**-7, 128), "qint8": (2.0**-7, 0), "qint32": (2.0**-31, 0)}


def _sigmoid(v):  # (exp correctly rounded, as the C library's: a qint32 grid sees its last bit)
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-v.astype(np.float64)).astype(np.float32))


def _tanh(v):
    return np.tanh(v.astype(np.float64)).astype(np.float32)


def _hardsigmoid(v):
    return np.clip(v + np.float32(3.0), 0.0, 6.0).astype(np.float32) / np.float32(6.0)


# name -> (the float32 kernel on the dequantized values as PyTorch's quantized CPU kernel computes
# it, the fixed grids of its result, whether that kernel dequantizes with a fused multiply-add
# as its vectorized paths do). Sweep of every quint8/qint8 value over 10 scales and 4 zero points
# (61,440 results): PyTorch's integers; qint32 (600 values, 54,000 results; a 2^-32 grid shows
# the float32 result's last bit) differs in 48, by one float32 ulp, where the C library's exp and
# tanh round otherwise.
FIXED_RANGE = {
    "sigmoid": (_sigmoid, UNIT_GRIDS, False),
    "tanh": (_tanh, SYMMETRIC_GRIDS, True),
    "hardsigmoid": (_hardsigmoid, UNIT_GRIDS, True),
}
_FIXED_OPS = {"SigmoidOp": "sigmoid", "TanhOp": "tanh"}  # (the op classes torch.sigmoid/tanh run)


def _premultiplied(x: QuantizedArray):
    """The float32 values of per-tensor ``x`` as PyTorch's vectorized quantized kernels
    dequantize them: ``fma(float32(q), scale, float32(-zero_point · scale))``, one rounding
    (float64 holds the product of two float32s exactly)."""
    scale = np.float32(x.scale)
    premul = np.float32(-np.float32(x.zero_point) * scale)
    q = x.int_repr.astype(np.float32).astype(np.float64)
    return (q * np.float64(scale) + np.float64(premul)).astype(np.float32)


def fixed_range(name: str, input, scale=None, zero_point=None, inplace: bool = False):
    """``name`` (a key of ``FIXED_RANGE``) of the per-tensor quantized ``input``, as PyTorch's
    quantized kernel: computed in float32 on the dequantized values and quantized to
    ``(scale, zero_point)``, by default the op's fixed grid for the input's dtype, whatever the
    input's parameters (sigmoid of quint8: 1/256 and 0; tanh: 2/256 and 128). ``inplace``
    writes the result into ``input``."""
    x = input._data
    if x.per_channel:
        raise RuntimeError(
            f"quantized.{name}: Expected quantizer->qscheme() == kPerTensorAffine to be true, "
            f"but got false (the input is {x.scheme})"
        )
    kernel, grids, fused = FIXED_RANGE[name]
    if scale is None:
        scale, zero_point = grids[x.qdtype.name]
    values = _premultiplied(x) if fused else x.dequantized()
    q = quantize_array(kernel(values), scale, zero_point, x.qdtype)
    record = QuantizedArray(q, x.qdtype, x.scheme, scale, zero_point, None)
    if inplace:
        input._data = record
        return input
    return _wrap(record, input.device)


def _fallback(op, args):
    """An op applied to a quantized tensor: computed on its dequantized values and requantized
    with its parameters for the ops of ``GRID_PRESERVING``/``GRID_AVERAGING``, to their fixed
    grid for sigmoid and tanh (:func:`fixed_range`), else refused."""
    from .autograd import grad_mode, graph

    name = type(op).__name__
    tensor_cls = graph.Tensor
    quantized = [a for a in args if isinstance(a, tensor_cls) and type(a._data) is QuantizedArray]
    if name in _FIXED_OPS and len(args) == 1:
        return fixed_range(_FIXED_OPS[name], quantized[0])
    source = quantized[0]._data
    joining = name in JOINING and len(quantized) == len(
        [a for a in args if isinstance(a, tensor_cls)]
    )  # fmt: skip
    known = name in GRID_PRESERVING or name in GRID_AVERAGING
    if not joining and (not known or len(quantized) != 1):
        raise NotImplementedError(
            f"{op.label()}: minigrad does not run this op on quantized tensors (as PyTorch's "
            "QuantizedCPU backend has no such kernel); call .dequantize() first"
        )
    if name in GRID_AVERAGING and not source.per_channel:
        return _average_on_grid(op, source, args, quantized[0])
    plain = [dequantize(a) if isinstance(a, tensor_cls) else a for a in args]
    with grad_mode.no_grad():
        result = op(*plain)
    if source.per_channel and result.shape != tuple(source.shape):
        raise NotImplementedError(
            f"{op.label()}: minigrad runs shape-changing ops on per-tensor quantized tensors "
            f"only (this one is {source.scheme}); call .dequantize() first"
        )
    if source.per_channel:
        shape = [1] * result.ndim
        shape[source.axis] = -1
        scale, zp = source.scale.reshape(shape), source.zero_point.reshape(shape)
    else:
        scale, zp = source.scale, source.zero_point
    q = quantize_array(result._data, scale, zp, source.qdtype)
    return _wrap(source.with_values(q), result.device)


def on_dequantized(fn, input, *args, **kwargs):
    """``fn`` (an averaging pool, which checks dtypes before any op sees the record) applied
    to a per-tensor quantized ``input`` on its integer grid (:func:`_average_on_grid`)."""
    source = _per_tensor(input, getattr(fn, "__name__", "op"))
    return _average_on_grid(lambda x: fn(x, *args, **kwargs), source, (input,), input)


def _average_on_grid(fn, source: QuantizedArray, args, input):
    """``fn`` (an averaging op) applied to a per-tensor quantized ``input`` as PyTorch's integer
    kernels compute it: the mean of ``q - zero_point`` (padding counts as zero), plus the zero
    point, rounded half to even. Rounding the float mean of the dequantized values instead can
    put a mean that lies on a tie (a 2x2 window whose sum is 2 mod 4) one step the other way."""
    from .autograd import grad_mode, graph

    xp = input.device.xp
    shifted = source.int_repr.astype(xp.float64) - source.zero_point
    plain = graph.Tensor._make(shifted, input.device)
    with grad_mode.no_grad():
        result = fn(*[plain if a is input else a for a in args])
    low, high = source.qdtype.bounds
    q = xp.clip(xp.rint(result._data + source.zero_point), low, high)
    return _wrap(source.with_values(q.astype(source.qdtype.storage)), result.device)


_base.record_fallbacks[QuantizedArray] = _fallback
