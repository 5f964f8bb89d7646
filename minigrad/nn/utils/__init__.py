"""``minigrad.nn.utils``: gradient clipping (from ``nn.clip_grad``) and parameter vectors."""

from __future__ import annotations

from ...ops import cat


def clip_grad_norm_(
    parameters, max_norm: float, norm_type=2.0, error_if_nonfinite: bool = False, foreach=None
):
    """Scale gradients so that their total norm is at most ``max_norm``; returns the norm.

    See :func:`minigrad.nn.utils.clip_grad.clip_grad_norm_`.
    """
    from .clip_grad import clip_grad_norm_ as clip

    return clip(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    from .clip_grad import clip_grad_value_ as clip

    return clip(parameters, clip_value, foreach)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor.

    Example:
        >>> vec = nn.utils.parameters_to_vector(model.parameters())
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place)."""
    from ...autograd.grad_mode import no_grad

    start = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[start : start + n].reshape(p.shape))
            start += n
    if start != vec.numel():
        raise RuntimeError(
            f"vector_to_parameters: vec has {vec.numel()} elements, parameters {start}"
        )
