"""``F.linear_cross_entropy``: cross-entropy of ``input @ weightᵀ (+ bias)`` against targets,
densely or in batch chunks whose logits are recomputed in backward (memory O(chunk · C))."""

from __future__ import annotations

import math

from ... import dtypes
from ..._warnings import warn_user
from ...autograd import no_grad
from ...ops import cat
from ._cross_entropy import cross_entropy
from .basic import linear

__all__ = ["linear_cross_entropy"]


def linear_cross_entropy(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options=None,
):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``, as PyTorch.

    Args:
        input: (in_features,) or (N, in_features).
        linear_weight: (C, in_features), or (C, d_1, ..., d_K, in_features) for K-dimensional
            targets (batched input only).
        target: class indices (), (N) or (N, d_1, ..., d_K), or class probabilities.
        linear_bias: (C,) or (C, d_1, ..., d_K).
        weight: (C,) class weights.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        ignore_index: class index ignored (None: -100, as cross_entropy).
        label_smoothing: in [0, 1].
        options: a :class:`~minigrad.nn.LinearCrossEntropyOptions` to compute in batch chunks:
            each chunk's logits are recomputed in backward instead of kept, so memory is
            O(chunk · C) rather than O(N · C). Values and gradients equal the dense path's.

    Example:
        >>> loss = F.linear_cross_entropy(hidden, lm_head.weight, tokens,
        ...                               options=nn.LinearCrossEntropyOptions())
    """
    if input.ndim not in (1, 2):
        raise RuntimeError(
            f"linear_cross_entropy: expected input with dimensionality 1 or 2, got {input.ndim}"
        )
    if linear_weight.ndim > 2 and input.ndim != 2:
        raise RuntimeError(
            "linear_cross_entropy: a K-dimensional linear_weight needs (N, in) input"
        )
    ignore = -100 if ignore_index is None else int(ignore_index)
    kwargs = dict(weight=weight, ignore_index=ignore, label_smoothing=label_smoothing)
    if options is not None and _chunkable(input, linear_weight, target, label_smoothing):
        return _chunked(input, linear_weight, linear_bias, target, reduction, kwargs, options)
    logits = _logits(input, linear_weight, linear_bias)
    return cross_entropy(logits, target, reduction=reduction, **kwargs)


def _logits(input, linear_weight, linear_bias):
    """(N, C, d_1, ..., d_K) (or (C,) unbatched) logits of the linear map."""
    out_shape = tuple(linear_weight.shape[:-1])
    flat_w = linear_weight.reshape(math.prod(out_shape), linear_weight.shape[-1])
    flat_b = None if linear_bias is None else linear_bias.reshape(-1)
    logits = linear(input, flat_w, flat_b)
    return logits.reshape(*input.shape[:-1], *out_shape)


def _chunkable(input, linear_weight, target, label_smoothing) -> bool:
    """Whether the chunked path applies (as PyTorch's: else a warning and the dense path)."""
    ok = (
        input.ndim == 2
        and linear_weight.ndim == 2
        and target.dtype is dtypes.int64
        and label_smoothing == 0
    )
    if not ok:
        warn_user(
            "linear_cross_entropy: ``options`` ignored; the chunked path needs 2-D input and "
            f"weight, int64 class targets and label_smoothing == 0 (got input {list(input.shape)},"
            f" linear_weight {list(linear_weight.shape)}, target dtype {target.dtype}, "
            f"label_smoothing={label_smoothing})"
        )
    return ok


def _chunked(input, linear_weight, linear_bias, target, reduction, kwargs, options):
    from ...utils.checkpoint import checkpoint  # recompute each chunk's logits in backward

    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"linear_cross_entropy: {reduction} is not a valid value for reduction")
    rows, features = input.shape
    step = options.chunk_rows(rows, features, linear_weight.shape[0])
    part = "none" if reduction == "none" else "sum"

    def chunk_loss(x, w, b, t):
        return cross_entropy(linear(x, w, b), t, reduction=part, **kwargs)

    pieces = [
        checkpoint(
            chunk_loss,
            input[i : i + step],
            linear_weight,
            linear_bias,
            target[i : i + step],
            use_reentrant=False,
        )
        for i in range(0, rows, step)
    ]
    if reduction == "none":
        return cat(pieces, 0)
    total = pieces[0]
    for p in pieces[1:]:
        total = total + p
    if reduction == "sum":
        return total
    return total / _mean_denominator(target, kwargs["weight"], kwargs["ignore_index"], total)


def _mean_denominator(target, weight, ignore_index, like):
    """Σ weight[target] over the targets not ignored (their count without class weights)."""
    with no_grad():
        keep = target != ignore_index
        if weight is None:
            return keep.sum().to(like.dtype)
        safe = target.masked_fill(~keep, 0)
        return (weight[safe] * keep.to(weight.dtype)).sum().to(like.dtype)
