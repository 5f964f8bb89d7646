"""The NumPy twins of the CUDA kernels in :mod:`minigrad._fused.cuda`: each is the same fused
computation (same formula, same order of operations, same intermediates) as one NumPy
function, run by the ``fakegpu`` stand-in so that the fused path is tested without a GPU.

Row kernels (softmax, layer norm, cross-entropy) work on 2-D C-contiguous (rows, n) arrays;
``T`` below is the arrays' dtype, in which the kernels also accumulate.
"""

from __future__ import annotations

import math

import numpy as np

from . import FusedKit

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def sgd(p, g, buf, sign, l2, lr, momentum, keep, nesterov, first):
    """Kernel ``mg_sgd`` / ``mg_sgd_momentum`` (in place on p and buf)."""
    grad = g * sign
    if l2 != 0:
        grad += l2 * p
    if buf is not None:
        if first:
            buf[...] = grad
        else:
            buf[...] = momentum * buf + keep * grad
        grad = grad + momentum * buf if nesterov else buf
    p -= lr * grad


def adam(p, g, m, v, vmax, sign, l2, decay, one_b1, b2, one_b2, eps, step, bc2):
    """Kernel ``mg_adam`` / ``mg_adam_amsgrad`` (in place on p, m, v, vmax)."""
    grad = g * sign
    if l2 != 0:
        grad += l2 * p
    p *= decay
    m += one_b1 * (grad - m)
    v[...] = b2 * v + one_b2 * grad * grad
    vh = v
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        vh = vmax
    p -= step * m / (np.sqrt(vh) / bc2 + eps)


def _erf(x):
    from .. import backend  # the CPU's erf (float32 to float32 accuracy, as CUDA's erff)

    return backend.get_backend("cpu").erf(x)


def gelu(x, tanh):
    """Kernels ``mg_gelu`` / ``mg_gelu_tanh``."""
    t = x.dtype.type
    if tanh:
        inner = t(_SQRT_2_OVER_PI) * (x + t(0.044715) * x * x * x)
        return t(0.5) * x * (t(1) + np.tanh(inner))
    return x * (t(0.5) * (t(1) + _erf(x * t(_SQRT1_2))))


def gelu_backward(gy, x, tanh):
    """Kernels ``mg_gelu_backward`` / ``mg_gelu_tanh_backward``."""
    t = x.dtype.type
    if tanh:
        th = np.tanh(t(_SQRT_2_OVER_PI) * (x + t(0.044715) * x * x * x))
        dinner = t(_SQRT_2_OVER_PI) * (t(1) + t(3 * 0.044715) * x * x)
        return gy * (t(0.5) * (t(1) + th) + t(0.5) * x * (t(1) - th * th) * dinner)
    cdf = t(0.5) * (t(1) + _erf(x * t(_SQRT1_2)))
    return gy * (cdf + x * (t(_INV_SQRT_2PI) * np.exp(t(-0.5) * x * x)))


def softmax(x, log):
    """Kernel ``softmax_forward`` (one row per block)."""
    m = x.max(axis=1, keepdims=True)
    s = np.exp(x - m).sum(axis=1, keepdims=True)
    if log:
        return x - m - np.log(s)
    return np.exp(x - m) * (1 / s)


def softmax_backward(gy, y, log):
    """Kernel ``softmax_backward``."""
    if log:
        return gy - np.exp(y) * gy.sum(axis=1, keepdims=True)
    return y * (gy - (gy * y).sum(axis=1, keepdims=True))


def layer_norm(x, w, b, eps):
    """Kernel ``layer_norm_forward``: (y, mean, rstd)."""
    n = x.shape[1]
    mean = x.sum(axis=1) / n
    centered = x - mean[:, None]
    rstd = 1 / np.sqrt((centered * centered).sum(axis=1) / n + eps)
    y = centered * rstd[:, None]
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y, mean, rstd


def layer_norm_backward(gy, x, w, mean, rstd, need_x, need_wb):
    """Kernels ``layer_norm_backward_x`` and ``layer_norm_backward_wb`` (column sums)."""
    n = x.shape[1]
    xhat = (x - mean[:, None]) * rstd[:, None]
    gx = gw = gb = None
    if need_x:
        g = gy if w is None else gy * w
        mean_g = g.sum(axis=1, keepdims=True) / n
        mean_gx = (g * xhat).sum(axis=1, keepdims=True) / n
        gx = (g - mean_g - xhat * mean_gx) * rstd[:, None]
    if need_wb:
        gw = None if w is None else (gy * xhat).sum(axis=0)
        gb = gy.sum(axis=0)
    return gx, gw, gb


def cross_entropy(x, target, weight, ignore_index, smoothing):
    """Kernel ``cross_entropy_forward``: (loss, mx, ls, w_t) per row."""
    t = x.dtype.type
    m, c = x.shape
    valid = target != ignore_index
    tc = np.clip(target, 0, c - 1)
    mx = x.max(axis=1)
    shifted = x - mx[:, None]
    ls = np.log(np.exp(shifted).sum(axis=1))
    w_t = np.where(valid, t(1) if weight is None else weight[tc], t(0)).astype(x.dtype)
    loss = (ls - shifted[np.arange(m), tc]) * w_t
    if smoothing:
        eps = t(smoothing)
        if weight is None:
            smooth = ls * t(c) - shifted.sum(axis=1)
        else:
            smooth = ls * weight.sum() - (shifted * weight).sum(axis=1)
        loss = (t(1) - eps) * loss + (eps / t(c)) * (smooth * valid.astype(x.dtype))
    return loss, mx, ls, w_t


def cross_entropy_backward(x, mx, ls, target, weight, ignore_index, smoothing, scale):
    """Kernel ``mg_cross_entropy_backward`` (elementwise over (M, C))."""
    t = x.dtype.type
    m, c = x.shape
    eps = t(smoothing)
    valid = (target != ignore_index).astype(x.dtype)[:, None]
    tc = np.clip(target, 0, c - 1)
    w_row = np.ones(c, dtype=x.dtype) if weight is None else weight
    wsum = t(c) if weight is None else weight.sum()
    w_t = valid * w_row[tc][:, None]
    q_sum = valid * (eps / t(c) * wsum) + (t(1) - eps) * w_t
    q = valid * (eps / t(c)) * w_row
    q[np.arange(m), tc] += ((t(1) - eps) * w_t)[:, 0]
    p = np.exp((x - mx[:, None]) - ls[:, None])
    return (p * q_sum - q) * scale.reshape(-1, 1)


class TwinKit(FusedKit):
    """The fused operations as their NumPy twins. ``unwrap``/``wrap`` convert the device's
    arrays to and from NumPy arrays (the stand-in's arrays hold NumPy data: in-place twins
    write through)."""

    def __init__(self, unwrap=lambda a: a, wrap=lambda a: a):
        self._unwrap, self._wrap = unwrap, wrap

    def _run(self, fn, *args):
        out = fn(*(self._unwrap(a) for a in args))
        if isinstance(out, tuple):
            return tuple(None if a is None else self._wrap(a) for a in out)
        return None if out is None else self._wrap(out)

    def _sgd(self, *args):
        self._run(sgd, *args)

    def _adam(self, *args):
        self._run(adam, *args)

    def gelu(self, x, tanh):
        return self._run(gelu, x, tanh)

    def gelu_backward(self, gy, x, tanh):
        return self._run(gelu_backward, gy, x, tanh)

    def softmax(self, x, log):
        return self._run(softmax, x, log)

    def softmax_backward(self, gy, y, log):
        return self._run(softmax_backward, gy, y, log)

    def layer_norm(self, x, w, b, eps):
        return self._run(layer_norm, x, w, b, eps)

    def layer_norm_backward(self, gy, x, w, mean, rstd, need_x, need_wb):
        return self._run(layer_norm_backward, gy, x, w, mean, rstd, need_x, need_wb)

    def cross_entropy(self, x, target, weight, ignore_index, smoothing):
        return self._run(cross_entropy, x, target, weight, ignore_index, smoothing)

    def cross_entropy_backward(self, x, mx, ls, target, weight, ignore_index, smoothing, scale):
        return self._run(
            cross_entropy_backward, x, mx, ls, target, weight, ignore_index, smoothing, scale
        )
