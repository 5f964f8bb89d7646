"""More normalizations, composed from differentiable ops: instance norm (batch norm over a
(1, N·C, *) view, as PyTorch computes it), RMS norm, and local response normalization."""

from __future__ import annotations

import math

from ... import backend, dtypes, ops
from ..._typeinfo import finfo
from ...autograd.grad_mode import no_grad
from ...creation import arange
from ...ops.base import refuse_dtype
from ...ops.complex import real_only
from .normalization import batch_norm

_REDUCED = (dtypes.float16, dtypes.bfloat16)


@real_only
def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Normalize each (sample, channel) of an (N, C, *) input over its spatial dims, then
    scale and shift per channel.

    With ``use_input_stats`` the statistics are each instance's own and the running ones (if
    given) are updated in place with their mean over the batch; otherwise the running
    statistics normalize.

    Example:
        >>> y = F.instance_norm(minigrad.randn(2, 3, 5))
    """
    # (PyTorch's order: the spatial size in training, the rank, then the dtype)
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(
            "instance_norm: Expected more than 1 spatial element when training, got input "
            f"size {list(input.shape)}"
        )
    if input.ndim < 2:
        raise backend.DimensionError(
            f"instance_norm: expected input of shape (N, C, *), got {list(input.shape)}"
        )
    refuse_dtype(input.dtype, "batch_norm", "instance_norm")
    n, c = input.shape[0], input.shape[1]
    repeated = [None if t is None else t.repeat(n) for t in (running_mean, running_var)]
    wb = [None if t is None else t.repeat(n) for t in (weight, bias)]
    flat = input.reshape((1, n * c) + tuple(input.shape[2:]))
    out = batch_norm(flat, *repeated, *wb, use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():  # the batch's mean of the per-instance running statistics
            for running, updated in zip((running_mean, running_var), repeated):
                if running is not None:
                    running.copy_(updated.reshape(n, c).mean(0))
    return out.reshape(input.shape)


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None):
    """x / √(mean(x², trailing dims) + eps) · weight, over the trailing ``normalized_shape``.

    ``eps=None`` uses the machine epsilon of the computing dtype (float16 and bfloat16 inputs
    are computed in float32, as PyTorch does).

    Example:
        >>> y = F.rms_norm(minigrad.randn(2, 5, 8), (8,))
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if weight is not None and tuple(weight.shape) != shape:  # (PyTorch's order of checks)
        raise RuntimeError(
            f"rms_norm: Expected weight to be of same shape as normalized_shape, but got weight "
            f"of shape {list(weight.shape)} and normalized_shape = {list(shape)}"
        )
    if input.ndim < k:  # (PyTorch's ValueError and words)
        raise ValueError(
            f"rms_norm: Input tensor must have at least {k} dimensions, but got {input.ndim}"
        )
    if tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"rms_norm: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}"
        )
    refuse_dtype(input.dtype, "rms_norm", "rms_norm")
    x = input.float() if input.dtype in _REDUCED else input
    if eps is None:
        eps = finfo(x.dtype).eps
    dims = tuple(range(input.ndim - k, input.ndim))
    out = x * (x * x).mean(dims, keepdim=True).add(eps).rsqrt()
    if weight is not None:  # scaled before the cast: one rounding, the input's dtype (PyTorch)
        out = out * weight
    return out.to(input.dtype)


def _channel_window_sum(x, before: int, after: int):
    """Σ of x (N, C, *) over channels c - before … c + after for each c (zeros past the ends)."""
    channels = x.shape[1]
    padded = ops.pad(x.movedim(1, -1), (before, after))
    total = padded.narrow(-1, 0, channels)
    for start in range(1, before + after + 1):
        total = total + padded.narrow(-1, start, channels)
    return total.movedim(-1, 1)


@real_only
def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """x / (k + alpha·mean(x² over ``size`` neighbouring channels))^beta on (N, C, *) inputs;
    the window covers channels c - size//2 … c + (size-1)//2, zeros past the ends counted.

    Example:
        >>> y = F.local_response_norm(minigrad.randn(2, 6, 4, 4), size=3)
    """
    if input.ndim < 3:
        raise ValueError(
            "local_response_norm: Expected 3D or higher dimensionality input (got "
            f"{input.ndim} dimensions)"
        )
    if input.dtype is not dtypes.int64:  # (PyTorch average-pools int64 in int64: ALLOWED)
        kernel = "avg_pool2d" if input.ndim == 3 else "avg_pool3d_out_frame"
        refuse_dtype(input.dtype, kernel, "local_response_norm")
    if input.numel() == 0:
        return input
    mean = _channel_window_sum(input * input, size // 2, (size - 1) // 2) / size
    return input / (mean * alpha + k).pow(beta)


@real_only
def cross_map_lrn2d(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
    """``nn.CrossMapLRN2d``'s function: x·(k + alpha/size·Σ x² over nearby channels)^-beta.

    PyTorch's forward sums channels c - p + 1 … c + p - 1 with p = (size - 1)//2 + 1, and
    from channel p on it also keeps channel 0 in the sum (its running window never drops it);
    this computes the same values, with their exact gradient. (PyTorch's own backward is not
    the derivative of its forward, so gradients differ from PyTorch's where C > p.)
    """
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    pre = (size - 1) // 2 + 1
    square = input * input
    total = _channel_window_sum(square, pre - 1, pre - 1)
    keeps_first = (arange(input.shape[1], device=input.device) >= pre).to(input.dtype)
    total = total + square.narrow(1, 0, 1) * keeps_first.reshape(1, -1, 1, 1)
    return input * (total * (alpha / size) + k).pow(-beta)
