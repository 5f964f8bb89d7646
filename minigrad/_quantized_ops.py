"""The ops that run on quantized tensors (minigrad._quantized): an op's forward fails on a
quantized record, and :class:`minigrad.ops.base.Op` calls :func:`_fallback` (registered in
``base.record_fallbacks``), which runs the ops PyTorch runs on quantized tensors on their
values and requantizes, and refuses any other by name."""

from __future__ import annotations

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


def _fallback(op, args):
    """An op applied to a quantized tensor: computed on its dequantized values and requantized
    with its parameters for the ops of ``GRID_PRESERVING``/``GRID_AVERAGING``, else refused."""
    from .autograd import grad_mode, graph

    name = type(op).__name__
    tensor_cls = graph.Tensor
    quantized = [a for a in args if isinstance(a, tensor_cls) and type(a._data) is QuantizedArray]
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
