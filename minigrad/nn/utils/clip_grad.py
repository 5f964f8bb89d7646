"""Gradient clipping: scale gradients to a maximum total norm, or clamp them elementwise."""

from __future__ import annotations

import math
import sys

from ... import backend
from ..._sparse_coo import SparseCOO
from ..._warnings import warn_user
from ...autograd.graph import version_counter
from ...creation import tensor
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters) -> list:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _vector_norm(xp, x, p: float):
    """The ``p``-norm of all elements of array ``x``, as a 0-d array on its device (real for a
    complex ``x``: the norm of the magnitudes, as PyTorch's)."""
    x = xp.abs(x).ravel() if xp.iscomplexobj(x) else x.ravel()
    if p == 2.0:
        return xp.sqrt(xp.dot(x, x))
    if x.size == 0:
        return xp.zeros((), dtype=x.dtype)
    if p == math.inf:
        return xp.abs(x).max()
    if p == -math.inf:
        return xp.abs(x).min()
    if p == 0.0:
        return xp.asarray(xp.count_nonzero(x), dtype=x.dtype)
    if p == 1.0:
        return xp.abs(x).sum()
    return (xp.abs(x) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None) -> Tensor:
    """The ``norm_type``-norm of the norms of ``tensors``: their norm as one long vector.

    Args:
        tensors: a tensor or an iterable of tensors (usually gradients).
        norm_type: the order of the norm: a positive number, ``inf``, ``-inf`` or 0.
        error_if_nonfinite: raise if the norm is nan or inf (this reads the norm back to the
            host, a synchronization on the GPU).
        foreach: accepted for PyTorch compatibility; ignored.

    Returns:
        A 0-d tensor on the first tensor's device (``tensor(0.)`` when there are none).
    """
    tensors = _as_list(tensors)
    p = float(norm_type)
    if not tensors:
        return tensor(0.0)
    dtensors = sys.modules.get("minigrad.distributed.tensor._api")
    if dtensors is not None and any(isinstance(t, dtensors.DTensor) for t in tensors):
        total = dtensors.total_norm(tensors, p, lambda ts: get_total_norm(ts, p))
        _check_finite(total._local_tensor, p, error_if_nonfinite)
        return total
    first = tensors[0].device
    norms = []
    for t in tensors:
        if type(t._data) is SparseCOO:  # as PyTorch, whose vector norm has no sparse kernel
            raise NotImplementedError(
                "get_total_norm / clip_grad_norm_: sparse COO gradients are not supported (as "
                "in PyTorch); use dense gradients (nn.Embedding(sparse=False))"
            )
        with backend.on(t.device):  # each norm on its tensor's GPU, then gathered on the first
            norms.append(backend.to_device(_vector_norm(t.device.xp, t._data, p), t.device, first))
    xp = first.xp
    with backend.on(first):
        total = Tensor._make(xp.asarray(_vector_norm(xp, xp.stack(norms), p)), first)
    _check_finite(total, p, error_if_nonfinite)
    return total


def _check_finite(total: Tensor, p: float, error_if_nonfinite: bool) -> None:
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so it "
            f"cannot be clipped. To disable this error and scale the gradients by the "
            f"non-finite norm anyway, set `error_if_nonfinite=False`"
        )


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor, foreach=None) -> None:
    """Scale the gradients of ``parameters`` by ``min(1, max_norm / (total_norm + 1e-6))``.

    The factor stays on the device (no host synchronization): gradients are multiplied even
    when it is 1, as in PyTorch.
    """
    grads = _grads(parameters)
    if not grads:
        return
    if hasattr(total_norm, "_local_tensor"):  # DTensors: each rank scales its parts
        total_norm = total_norm._local_tensor
        grads = [getattr(g, "_local_tensor", g) for g in grads]
    xp = total_norm.device.xp
    with backend.on(total_norm.device):
        coef = xp.minimum(float(max_norm) / (total_norm._data + 1e-6), 1.0)
    for g in grads:
        with backend.on(g.device):
            factor = backend.to_device(coef, total_norm.device, g.device).astype(g._data.dtype)
            g.device.xp.multiply(g._data, factor, out=g._data)
        version_counter(g).value += 1


def clip_grad_norm_(
    parameters, max_norm: float, norm_type=2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """Scale gradients in place so that their total norm is at most ``max_norm``.

    The total norm is computed over all gradients together, as if concatenated into one
    vector; each gradient is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` to clip (those with
            ``.grad`` None are skipped).
        max_norm: the largest allowed total norm.
        norm_type: the order of the norm (default 2; ``inf`` for the largest magnitude).
        error_if_nonfinite: raise RuntimeError if the total norm is nan or inf.
        foreach: accepted for PyTorch compatibility; ignored.

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor.

    Example:
        >>> loss.backward()
        >>> clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    parameters = _as_list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` to clip.
        clip_value: the largest allowed magnitude.
        foreach: accepted for PyTorch compatibility; ignored.
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        with backend.on(g.device):
            g.device.xp.clip(g._data, -clip_value, clip_value, out=g._data)
        version_counter(g).value += 1


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated: :func:`clip_grad_norm_` (warns first, as PyTorch)."""
    warn_user(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
