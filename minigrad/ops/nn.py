"""Fused ops for neural networks that Tensor methods need too: softmax and log-softmax.

Composing them from exp/sum/log would overflow for large logits and build four nodes; here
each is one node with a closed-form backward written with Tensor ops. float16 inputs are
computed in float32 and rounded once (the sum of 70,000 float16 terms needs it). On a GPU,
float32/float64 over the last dim run as fused kernels (``minigrad._fused``), forward and
plain backward.
"""

from __future__ import annotations

from .. import dtypes
from .._warnings import warn_user
from ..autograd import grad_mode
from ..autograd.graph import named_as, names_node
from .base import Op, accepts_axis, check_dtype_arg, constant, normalize_dim
from .reduce import accumulator


class SoftmaxOp(Op):
    """y = exp(x - m) / Σ exp(x - m) along dim, m = max (so exp never overflows);
    dy/dx · g = y·(g - Σ g·y)"""

    save_output = True

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        fused = _fused_softmax(self, x, False)
        if fused is not None:
            return fused
        dtype, x = x.dtype, x.astype(accumulator(x.dtype), copy=False)
        y = self.xp.exp(x - x.max(axis=self.dim, keepdims=True))
        y /= y.sum(axis=self.dim, keepdims=True)
        return _row_major(self.xp, y.astype(dtype, copy=False))

    def backward(self, gy):
        (y,) = self.saved
        fused = _fused_softmax_backward(self, gy, y, False)
        if fused is not None:
            return fused
        low = _low(y)
        if low is not None:  # as PyTorch's kernel: in float32, rounded once
            y, gy = y.float(), gy.float()
        gx = y * (gy - (gy * y).sum(self.dim, keepdim=True))
        return gx if low is None else gx.to(low)


class LogSoftmaxOp(Op):
    """y = (x - m) - log Σ exp(x - m) along dim, m = max; dy/dx · g = g - exp(y)·Σ g"""

    save_output = True

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        fused = _fused_softmax(self, x, True)
        if fused is not None:
            return fused
        xp = self.xp
        dtype, x = x.dtype, x.astype(accumulator(x.dtype), copy=False)
        shifted = x - x.max(axis=self.dim, keepdims=True)
        shifted -= xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        return _row_major(xp, shifted.astype(dtype, copy=False))

    def backward(self, gy):
        (y,) = self.saved
        fused = _fused_softmax_backward(self, gy, y, True)
        if fused is not None:
            return fused
        low = _low(y)
        if low is not None:  # as PyTorch's kernel: in float32, rounded once
            y, gy = y.float(), gy.float()
        gx = gy - y.exp() * gy.sum(self.dim, keepdim=True)
        return gx if low is None else gx.to(low)


def _low(t):
    """``t``'s dtype when it is float16 or bfloat16, else None."""
    return t.dtype if t.dtype in (dtypes.float16, dtypes.bfloat16) else None


def _row_major(xp, y):
    """PyTorch's (log-)softmax kernels write a fresh row-major result whatever the input's
    layout (a transposed or channels-last input), so ``view`` works on it as there."""
    return xp.ascontiguousarray(y)


def _fused_softmax(op, x, log: bool):
    """(Log-)softmax over the last dim as one GPU kernel (``minigrad._fused``), or None where
    the kernels do not apply (another dim, dtype or device): the caller computes it."""
    kit = op.device.backend.fused
    if kit is None or op.dim != x.ndim - 1 or not kit.supports(x):
        return None
    return kit.softmax(x.reshape(-1, x.shape[-1]), log).reshape(x.shape)


def _fused_softmax_backward(op, gy, y, log: bool):
    """The plain backward of :func:`_fused_softmax`'s ops as one kernel (the same formula as
    the op's differentiable backward, which runs under ``create_graph``), or None."""
    kit = op.device.backend.fused
    if kit is None or grad_mode.is_grad_enabled() or op.dim != y.ndim - 1:
        return None
    if not kit.supports(gy._data, y._data):
        return None
    n = y.shape[-1]
    gx = kit.softmax_backward(gy._data.reshape(-1, n), y._data.reshape(-1, n), log)
    return constant(gx.reshape(y.shape), y.device)


def _softmax_dim(name: str, ndim: int) -> int:
    warn_user(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        f"dim=X as an argument.",
        UserWarning,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(op_cls, name, input, dim, dtype):
    if dim is None:
        dim = _softmax_dim(name, input.ndim)
    dim = normalize_dim(dim, input.ndim, name)  # (PyTorch checks the dim before the dtype)
    check_dtype_arg(dtype, name)
    if dtype is not None:
        input = input.to(dtype)
    elif not input.dtype.is_floating_point:  # (PyTorch's error: no kernel for the dtype)
        kernel = f"{name}_lastdim" if dim == max(input.ndim - 1, 0) else name
        raise NotImplementedError(
            f"\"{kernel}_kernel_impl\" not implemented for '{dtypes.scalar_type_name(input.dtype)}' "
            f"({name} needs a floating point input, got {input.dtype}; pass dtype= to cast)"
        )
    if input.ndim == 0:
        return named_as(op_cls(0)(input.reshape(1)).reshape(()), op_cls.name())
    return op_cls(dim)(input)


@accepts_axis
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along ``dim``: exp(x) / Σ exp(x), computed stably (the max is subtracted).

    Args:
        input: tensor of any shape.
        dim: the dimension whose entries sum to 1.
        dtype: cast the input to this dtype first.

    Example:
        >>> F.softmax(minigrad.tensor([[1.0, 2.0, 3.0]]), dim=1)
        tensor([[0.0900, 0.2447, 0.6652]])
    """
    return _softmax_like(SoftmaxOp, "softmax", input, dim, dtype)


@accepts_axis
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably: finite for logits of any size.

    Example:
        >>> F.log_softmax(minigrad.tensor([[1000.0, 0.0]]), dim=1)
        tensor([[    0., -1000.]])
    """
    return _softmax_like(LogSoftmaxOp, "log_softmax", input, dim, dtype)


@accepts_axis
def tensor_softmax(input, dim, dtype=None):
    """``torch.softmax`` and ``Tensor.softmax``: :func:`softmax` with PyTorch's signature
    there, where ``dim`` is required and the third positional argument is ``dtype`` (in
    ``F.softmax`` it is ``_stacklevel``: ``torch.softmax(x, 0, torch.float64)`` would
    otherwise ignore the dtype)."""
    return _softmax_like(SoftmaxOp, "softmax", input, dim, dtype)


@accepts_axis
def tensor_log_softmax(input, dim, dtype=None):
    """``torch.log_softmax`` and ``Tensor.log_softmax``: :func:`log_softmax` with ``dim``
    required and ``dtype`` third, as :func:`tensor_softmax`."""
    return _softmax_like(LogSoftmaxOp, "log_softmax", input, dim, dtype)


# PyTorch's names (fx records, profilers and __torch_function__ tables read ``__name__``)
tensor_softmax.__name__ = tensor_softmax.__qualname__ = "softmax"
tensor_log_softmax.__name__ = tensor_log_softmax.__qualname__ = "log_softmax"


def _check_backward_data(name, grad_output, output, dim, input_dtype) -> int:
    """The checks of PyTorch's CPU kernels behind ``torch._softmax_backward_data`` and
    ``torch._log_softmax_backward_data``; returns ``dim`` made non-negative."""
    d = normalize_dim(dim, grad_output.ndim, f"_{name}_backward_data")
    grad_type = dtypes.scalar_type_name(grad_output.dtype)
    if not grad_output.dtype.is_floating_point:
        last = d == max(grad_output.ndim - 1, 0)
        kernel = f"{name}_backward_lastdim" if last else f"{name}_backward"
        raise NotImplementedError(f"\"{kernel}_kernel_impl\" not implemented for '{grad_type}'")
    found = output.dtype
    if grad_output.dtype == dtypes.float32 and input_dtype == dtypes.float16:
        found = dtypes.float16  # PyTorch allocates the result in half, as its CUDA kernel wants
    if found != grad_output.dtype:
        raise RuntimeError(
            f"expected scalar type {grad_type} but found {dtypes.scalar_type_name(found)}"
        )
    return d


@names_node("SoftmaxBackwardDataBackward0")
def _softmax_backward_data(grad_output, output, dim, input_dtype):
    """PyTorch's softmax backward as a function (custom autograd Functions such as DeBERTa's
    ``XSoftmax`` call it): ``output·(grad_output - Σ grad_output·output)`` along ``dim``, in
    the gradient's dtype (on the CPU ``input_dtype`` only takes part in the dtype checks), and
    differentiable in both tensors.

    Example:
        >>> y = minigrad.softmax(minigrad.tensor([1.0, 2.0]), 0)
        >>> minigrad._softmax_backward_data(minigrad.tensor([1.0, 0.0]), y, 0, y.dtype)
        tensor([ 0.1966, -0.1966])
    """
    d = _check_backward_data("softmax", grad_output, output, dim, input_dtype)
    return output * (grad_output - (grad_output * output).sum(d, keepdim=True))


@names_node("LogSoftmaxBackwardDataBackward0")
def _log_softmax_backward_data(grad_output, output, dim, input_dtype):
    """PyTorch's log-softmax backward as a function: ``grad_output - exp(output)·Σ
    grad_output`` along ``dim``, with :func:`_softmax_backward_data`'s dtype rules."""
    d = _check_backward_data("log_softmax", grad_output, output, dim, input_dtype)
    return grad_output - output.exp() * grad_output.sum(d, keepdim=True)
