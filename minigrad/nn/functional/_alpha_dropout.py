"""Alpha dropout for SELU networks: dropped values are set to SELU's negative saturation and
an affine map keeps the mean and variance (PyTorch's ``alpha_dropout``)."""

from __future__ import annotations

import math

from ... import backend
from ...ops.base import check_bool_arg, constant
from ._utils import maybe_inplace
from .basic import _check_p

# -SELU_SCALE·SELU_ALPHA: the value SELU tends to for x → -∞ (PyTorch's constant)
_ALPHA = 1.7580993408473766


def _alpha_dropout(input, p: float, training: bool, inplace: bool, mask_shape: tuple, name):
    """y = x·keep·a + (keep - 1)·_ALPHA·a + _ALPHA·a·p with a = 1/√((_ALPHA²·p + 1)(1 - p)):
    kept values a·x + _ALPHA·a·p, dropped ones -_ALPHA·a·(1 - p) (PyTorch's formula)."""
    _check_p(p)
    check_bool_arg(training, name, "train", 2)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}: expected a floating point input, got {input.dtype}")
    if p == 1.0:
        return maybe_inplace(lambda x: x * 0.0, input, inplace)
    np_dtype, dev = input._data.dtype, input.device
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))

    def make(shape):
        with backend.on(dev):  # the mask is made on the input's GPU
            keep = backend.default_generator(dev).bernoulli(shape, 1.0 - p).astype(np_dtype)
            return constant(keep, dev)

    keep = backend.per_sample_draw(make, mask_shape)
    shift = (keep - 1.0) * (_ALPHA * a) + _ALPHA * a * p
    scale = keep * a
    return maybe_inplace(lambda x: x * scale + shift, input, inplace, ("AddBackward0",) * 2)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Alpha dropout of each element with probability ``p`` (training only): the output keeps
    zero mean and unit variance for SELU activations.

    Example:
        >>> y = F.alpha_dropout(F.selu(x), 0.1, training=True)
    """
    return _alpha_dropout(input, p, training, inplace, tuple(input.shape), "alpha_dropout")


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Alpha dropout of whole channels: one draw per (N, C) entry of an (N, C, *) input."""
    _check_p(p)
    if training and p != 0.0 and input.numel() and input.ndim < 2:
        raise RuntimeError(
            "feature_alpha_dropout: Feature dropout requires at least 2 dimensions in the "
            f"input, got shape {list(input.shape)}"
        )
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _alpha_dropout(input, p, training, inplace, mask_shape, "feature_alpha_dropout")
