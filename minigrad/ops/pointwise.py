"""Elementwise functions composed from primitives: lerp, nan_to_num, isclose, and the
logical connectives (bool results)."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd import graph
from .base import on_input_device
from .elementwise import Compare, compare, isinf, isnan, promote, where


def logical_and(input, other):
    """Elementwise ``input and other`` (non-zero is true) as a bool tensor."""
    return compare("logical_and", input, other)


def logical_or(input, other):
    """Elementwise ``input or other`` (non-zero is true) as a bool tensor."""
    return compare("logical_or", input, other)


def logical_xor(input, other):
    """Elementwise exclusive or (non-zero is true) as a bool tensor."""
    return compare("logical_xor", input, other)


def lerp(input, end, weight):
    """``input + weight * (end - input)``; for weights ≥ 0.5 computed from ``end``'s side
    (``end - (end - input) * (1 - weight)``), as PyTorch, so that weight 1 gives ``end`` exactly.

    Example:
        >>> minigrad.lerp(minigrad.zeros(2), minigrad.ones(2), 0.25)  # tensor([0.25, 0.25])
    """
    delta = end - input
    if isinstance(weight, graph.Tensor):
        return where(weight.abs() < 0.5, input + weight * delta, end - delta * (1 - weight))
    return input + weight * delta if abs(weight) < 0.5 else end - delta * (1 - weight)


@on_input_device
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (the dtype's largest
    and lowest finite values by default). The gradient passes where the input is finite."""
    if not input.dtype.is_floating_point:
        return input.clone()
    info = np.finfo(input._data.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    infinite = isinf(input)  # masks from ops (not the arrays), so that vmap batches them
    out = where(isnan(input), nan, input)
    out = where(logical_and(infinite, input > 0), posinf, out)
    return where(logical_and(infinite, input < 0), neginf, out)


@on_input_device
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (equal infinities are close;
    NaNs only with ``equal_nan``) as a bool tensor."""
    if isinstance(input, graph.Tensor) and isinstance(other, graph.Tensor):
        if input.dtype is not other.dtype:
            raise RuntimeError(
                f"isclose: {input.dtype} did not match {other.dtype} (both need the same dtype)"
            )
    a, b = promote(input, other)
    if a.dtype is dtypes.bool:
        return Compare("equal")(a, b)
    return Compare("isclose")(a, b, rtol, atol, equal_nan)  # an op, so that vmap batches it


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True when every element of ``input`` is close to ``other`` (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())
