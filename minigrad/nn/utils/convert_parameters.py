"""Parameters as one flat vector and back (``torch.nn.utils.convert_parameters``)."""

from __future__ import annotations

from ..._surface import typename
from ...ops import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor.

    Each is flattened with ``view(-1)``, as in PyTorch: a parameter that is not contiguous
    (a ``channels_last`` convolution weight) raises view's error rather than being copied.

    Example:
        >>> vec = nn.utils.parameters_to_vector(model.parameters())
    """
    return cat([p.view(-1) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Point each parameter's ``.data`` at its consecutive slice of ``vec``, as PyTorch does:
    the parameters then share ``vec``'s storage (a later write to ``vec`` shows in them) and
    take its dtype; elements left over at the end of ``vec`` are ignored, too few raise."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    start = 0
    for p in parameters:
        n = p.numel()
        p.data = vec[start : start + n].view_as(p).data
        start += n
