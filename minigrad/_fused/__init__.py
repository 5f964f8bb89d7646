"""Fused GPU kernels: one launch where the unfused path runs several array calls.

What is fused: the optimizer updates (SGD with momentum/Nesterov/weight decay; Adam/AdamW with
AMSGrad), GELU (both forms, forward and backward), softmax and log-softmax over the last dim,
layer norm (forward and backward) and cross-entropy on class indices (forward and backward,
with ``ignore_index``, class weights and label smoothing).

How it is chosen: ``device.backend.fused`` is the :class:`FusedKit` of the device's backend, or
None. The CPU has none (NumPy's calls are the fast path there); a CuPy device has
:class:`~minigrad._fused.cuda.CudaKit` (CUDA source compiled by CuPy on first use, never at
import); the ``fakegpu`` stand-in has :class:`~minigrad._fused.twins.TwinKit`, which runs each
kernel's NumPy twin: the same fused computation, in one NumPy function, so that tests on
machines without a GPU check the fused formulas against the unfused path. Callers ask
:meth:`FusedKit.supports` first; anything the kernels do not handle (float16, bfloat16, mixed
dtypes, empty arrays) takes the unfused path, never a wrong answer.

Derivatives: each fused backward is another implementation of its op's one derivative
formula (``Op.formula``), for the plain backward on arrays. Under ``create_graph`` the op's
differentiable formula runs on tensors as before, so higher-order gradients are unchanged.

:func:`disabled` switches the kernels off (for comparisons and benchmarks).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_state = {"enabled": True}
_kits: dict = {}


def kit(backend):
    """The fused kernels of ``backend`` (cached), or None when it has none or they are off."""
    if not _state["enabled"]:
        return None
    found = _kits.get(backend.name)
    if found is None:
        found = _kits[backend.name] = backend.make_fused_kit()
    return found


@contextlib.contextmanager
def disabled():
    """A context in which every op takes its unfused path (process-wide, not per thread)."""
    previous, _state["enabled"] = _state["enabled"], False
    try:
        yield
    finally:
        _state["enabled"] = previous


def is_enabled() -> bool:
    return _state["enabled"]


class FusedKit:
    """The fused operations, on backend arrays. Subclasses implement the underscored kernels;
    the public methods turn the optimizers' hyperparameters into the kernels' scalars (once,
    here, for both implementations)."""

    def supports(self, *arrays) -> bool:
        """True if the kernels handle these arrays (None entries are skipped): all of one
        dtype, float32 or float64, and none empty."""
        dtype = None
        for a in arrays:
            if a is None:
                continue
            if a.dtype not in _FLOATS or a.size == 0 or (dtype is not None and a.dtype != dtype):
                return False
            dtype = a.dtype
        return dtype is not None

    # -- optimizers (in place) ------------------------------------------------------------------
    def sgd_(self, p, g, buf, *, lr, momentum, dampening, weight_decay, nesterov, maximize, first):
        """One SGD step on ``p`` (and its momentum buffer ``buf``, None without momentum);
        ``first``: ``buf`` is new and takes the gradient itself."""
        t = p.dtype.type
        self._sgd(
            p, g, buf, t(-1 if maximize else 1), t(weight_decay), t(lr), t(momentum),
            t(1 - dampening), bool(nesterov), bool(first),
        )  # fmt: skip

    def adam_(self, p, g, m, v, vmax, *, lr, betas, eps, weight_decay, decoupled, maximize, step):
        """One Adam/AdamW step on ``p``, ``m``, ``v`` (and ``vmax`` with AMSGrad, else None)."""
        t = p.dtype.type
        beta1, beta2 = betas
        l2, decay = (0.0, 1 - lr * weight_decay) if decoupled else (weight_decay, 1.0)
        self._adam(
            p, g, m, v, vmax, t(-1 if maximize else 1), t(l2), t(decay), t(1 - beta1),
            t(beta2), t(1 - beta2), t(eps), t(lr / (1 - beta1**step)),
            t(math.sqrt(1 - beta2**step)),
        )  # fmt: skip

    # -- the kernels ------------------------------------------------------------------------------
    def _sgd(self, p, g, buf, sign, l2, lr, momentum, keep, nesterov, first):
        raise NotImplementedError

    def _adam(self, p, g, m, v, vmax, sign, l2, decay, one_b1, b2, one_b2, eps, step, bc2):
        raise NotImplementedError

    def gelu(self, x, tanh: bool):
        """GELU of ``x`` (the tanh approximation if ``tanh``)."""
        raise NotImplementedError

    def gelu_backward(self, gy, x, tanh: bool):
        """``gy·gelu'(x)``."""
        raise NotImplementedError

    def softmax(self, x, log: bool):
        """Softmax (or log-softmax) of ``x`` over its last dim."""
        raise NotImplementedError

    def softmax_backward(self, gy, y, log: bool):
        """The input gradient of softmax (or log-softmax) from its output ``y``."""
        raise NotImplementedError

    def layer_norm(self, x, w, b, eps: float):
        """Layer norm of the rows of 2-D ``x`` (``w``, ``b`` of length n, or None): returns
        ``(y, mean, rstd)``, the last two per row."""
        raise NotImplementedError

    def layer_norm_backward(self, gy, x, w, mean, rstd, need_x: bool, need_wb: bool):
        """``(gx, gw, gb)`` of :meth:`layer_norm` (None where not needed; gw None without w)."""
        raise NotImplementedError

    def cross_entropy(self, x, target, weight, ignore_index: int, smoothing: float):
        """Per-row cross-entropy of logits ``x`` (M, C) and int64 class indices ``target``
        (M,): returns ``(loss, mx, ls, w_t)``, each of length M: the losses, the row maxima,
        ls = log Σ exp(x - mx), and the target weights (0 where ignored). log Σ exp(x) is
        mx + ls, kept apart so that backward's x - mx is exact for large logits."""
        raise NotImplementedError

    def cross_entropy_backward(self, x, mx, ls, target, weight, ignore_index, smoothing, scale):
        """``(softmax(x)·Σq - q)·scale`` with q the (smoothed, weighted) target distribution;
        ``scale`` has one element or one per row."""
        raise NotImplementedError
