"""Parameters as one flat vector and back (``torch.nn.utils.convert_parameters``)."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops import cat


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor.

    Example:
        >>> vec = nn.utils.parameters_to_vector(model.parameters())
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place)."""
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
