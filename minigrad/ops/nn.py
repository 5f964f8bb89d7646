"""Fused ops for neural networks that Tensor methods need too: softmax and log-softmax.

Composing them from exp/sum/log would overflow for large logits and build four nodes; here
each is one node with a closed-form backward written with Tensor ops. float16 inputs are
computed in float32 and rounded once (the sum of 70,000 float16 terms needs it).
"""

from __future__ import annotations

import warnings

from .base import Op, normalize_dim
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
        dtype, x = x.dtype, x.astype(accumulator(x.dtype), copy=False)
        y = self.xp.exp(x - x.max(axis=self.dim, keepdims=True))
        y /= y.sum(axis=self.dim, keepdims=True)
        return y.astype(dtype, copy=False)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return y * (gy - (gy * y).sum(self.dim, keepdim=True))


class LogSoftmaxOp(Op):
    """y = (x - m) - log Σ exp(x - m) along dim, m = max; dy/dx · g = g - exp(y)·Σ g"""

    save_output = True

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x):
        if x.size == 0:
            return x.copy()
        xp = self.xp
        dtype, x = x.dtype, x.astype(accumulator(x.dtype), copy=False)
        shifted = x - x.max(axis=self.dim, keepdims=True)
        shifted -= xp.log(xp.exp(shifted).sum(axis=self.dim, keepdims=True))
        return shifted.astype(dtype, copy=False)

    def backward(self, gy):
        (y,) = self.saved_tensors
        return gy - y.exp() * gy.sum(self.dim, keepdim=True)


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        f"dim=X as an argument.",
        UserWarning,
        stacklevel=4,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(op_cls, name, input, dim, dtype):
    if dtype is not None:
        input = input.to(dtype)
    elif not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    if dim is None:
        dim = _softmax_dim(name, input.ndim)
    dim = normalize_dim(dim, input.ndim, name)
    if input.ndim == 0:
        return op_cls(0)(input.reshape(1)).reshape(())
    return op_cls(dim)(input)


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


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably: finite for logits of any size.

    Example:
        >>> F.log_softmax(minigrad.tensor([[1000.0, 0.0]]), dim=1)
        tensor([[    0., -1000.]])
    """
    return _softmax_like(LogSoftmaxOp, "log_softmax", input, dim, dtype)
