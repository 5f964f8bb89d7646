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
# Ops that average: requantized with the input's parameters after a float computation, which
# can differ from PyTorch's integer kernels by one step where a mean lies on a rounding tie.
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
    """``fn`` applied to a per-tensor quantized ``input``'s values, requantized with its
    parameters (for functions PyTorch runs on quantized tensors that way, e.g. averaging
    pools, which check dtypes before any op sees the record)."""
    from .autograd import grad_mode

    source = _per_tensor(input, getattr(fn, "__name__", "op"))
    with grad_mode.no_grad():
        result = fn(dequantize(input), *args, **kwargs)
    q = quantize_array(result._data, source.scale, source.zero_point, source.qdtype)
    return _wrap(source.with_values(q), result.device)


_base.record_fallbacks[QuantizedArray] = _fallback
