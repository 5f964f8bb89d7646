"""Ops on meta tensors (minigrad._meta_device): an op's forward fails on a meta record, and
:class:`minigrad.ops.base.Op` calls :func:`_meta_rule` (registered in
``base.record_fallbacks``), which finds the result's shape and dtype by running the op's
forward on data-less stand-ins (or, for an op with a ``meta_shape(*inputs)`` method returning
``(shape, dtype)``, by that rule: a convolution's stand-in run would allocate its im2col
columns), and refuses ops whose result shape depends on values."""

from __future__ import annotations

import numpy as np

from . import backend
from ._meta_device import META, MetaArray
from .ops import base as _base

# The ops (by class name: several live in layers above this one) whose result shape and dtype
# depend only on their inputs' shapes and dtypes, so running them on stand-in values is exact.
SHAPE_ONLY = {
    "Reshape", "Permute", "Expand", "Squeeze", "Unsqueeze", "Flatten", "Narrow", "Select",
    "Slice", "GetItem", "Contiguous", "Clone", "Cast", "Cat", "Stack", "SumToSize",
    "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Abs", "Exp", "Exp2", "Expm1", "Log", "Log2",
    "Log10", "Log1p", "Sqrt", "Sin", "Cos", "Sinh", "Cosh", "Maximum", "Minimum", "Where",
    "FloorDivide", "TruncDivide", "LogAddExp", "TanhOp", "SigmoidOp", "ReLUOp", "GELUOp",
    "SiLUOp", "LeakyReLUOp", "SoftmaxOp", "LogSoftmaxOp", "LogSumExp",
    "Compare", "Clamp", "Ceil", "Floor", "Round", "Trunc", "Sign", "Rsqrt", "Erf", "Erfc",
    "Tan", "Atan", "Asin", "Acos", "Atan2", "Hypot", "Fmod", "Remainder", "Sinc", "Real",
    "Imag", "Conj", "ConjView", "ELUOp", "SoftplusOp", "Flip", "Tril", "Triu", "Pad",
    "Sum", "Amax", "Amin", "Prod", "Norm2", "MatMul", "LinearOp", "Einsum", "LayerNormOp",
    "GroupNormOp", "Convolution", "MaxPool", "AvgPool", "Diagonal", "UnfoldWindows", "ViewAsReal",
    "ScaledDotProductAttention", "AttentionWeights", "HardsigmoidOp",
}  # fmt: skip


def _stand_in(t):
    """A CPU tensor of ``t``'s shape and dtype that owns one element (a zero-strided view):
    ones for floats (no log(0)), zeros for integers (a valid index)."""
    from .autograd import graph

    record = t._data
    fill = np.zeros((), record.dtype) if record.dtype.kind in "biu" else np.ones((), record.dtype)
    return graph.Tensor._make(np.broadcast_to(fill, record.shape), backend.CPU)


def _as_meta(result):
    from .autograd import graph

    if isinstance(result, graph.Tensor):
        return graph.Tensor._make(MetaArray(result.shape, result._data.dtype), META)
    return type(result)(_as_meta(r) for r in result)


def _meta_rule(op, args):
    """``op`` on meta tensors: a meta result of the shape and dtype the op gives (no values;
    recorded in the graph as any result); NotImplementedError naming the op outside
    :data:`SHAPE_ONLY`."""
    from .autograd import grad_mode, graph

    name = type(op).__name__
    if name not in SHAPE_ONLY:
        raise NotImplementedError(
            f"{op.label()}: minigrad does not run this op on meta tensors (only shape-level ops: "
            "views, elementwise, matmul/linear, sum/mean, cat/stack; minigrad._meta_ops."
            "SHAPE_ONLY lists them)"
        )
    tensor_cls = graph.Tensor
    for a in args:
        if (
            isinstance(a, tensor_cls)
            and a.device.type not in ("meta", "cpu")
            or (isinstance(a, tensor_cls) and a.device.type == "cpu" and a.ndim)
        ):
            raise RuntimeError(
                f"{op.label()}: Tensor on device {a.device} is not on the expected device meta!"
            )
    shape_rule = getattr(op, "meta_shape", None)  # ops whose stand-in run would be too large
    if shape_rule is not None:
        return _recorded(op, args, graph.Tensor._make(MetaArray(*shape_rule(*args)), META))
    plain = [_stand_in(a) if type(getattr(a, "_data", None)) is MetaArray else a for a in args]
    try:
        with grad_mode.no_grad(), np.errstate(all="ignore"):
            result = op(*plain)
    except (ValueError, TypeError, IndexError, RuntimeError) as error:
        if "broadcast" in str(error) or "shape" in str(error) or "size" in str(error):
            raise
        raise NotImplementedError(
            f"{op.label()}: minigrad could not find this op's result shape on meta tensors "
            f"({error})"
        ) from error
    return _recorded(op, args, _as_meta(result))


def _recorded(op, args, result):
    """``result`` with ``op`` as its ``grad_fn`` where :meth:`Op.__call__` recorded the op
    (an input requires grad), keeping what the op's backward reads, as PyTorch's meta tensors
    carry autograd graphs (``grad_fn=<ConvolutionBackward0>``). Tuple results stay bare."""
    from .autograd import graph

    if not op.edges or not isinstance(result, graph.Tensor) or result._data.dtype.kind not in "fc":
        return result
    out = graph.Tensor._make(result._data, META, True, op)
    op.backward = _meta_backward(op.backward, op.name())
    if op.save_inputs:
        saved = args if op.save_inputs is True else op._inputs_to_save(args)
        op.save(saved + (out,) if op.save_output else saved)
    elif op.save_output:
        op.save((out,))
    return out


def _meta_backward(backward, name: str):
    """``backward`` of a node recorded on meta tensors, whose formulas may need values:
    NotImplementedError naming the node where they do (PyTorch propagates only shapes)."""

    def run(*grads):
        try:
            return backward(*grads)
        except NotImplementedError as error:
            raise NotImplementedError(
                f"{name}: minigrad cannot run this backward on meta tensors ({error})"
            ) from error

    return run


def _meta_call(fn, args, kwargs):
    """A :func:`~minigrad.ops.base.shape_only` function on meta tensors: run on stand-ins,
    its result made meta (no values, as PyTorch's meta kernels)."""
    from .autograd import grad_mode

    plain = [_stand_in(a) if type(getattr(a, "_data", None)) is MetaArray else a for a in args]
    with grad_mode.no_grad(), np.errstate(all="ignore"):
        return _as_meta(fn(*plain, **kwargs))


_base.record_fallbacks[MetaArray] = _meta_rule
_base.shape_only_calls[MetaArray] = _meta_call
