"""``minigrad.utils.hooks``, as ``torch.utils.hooks``: the handle every ``register_*hook``
returns (tensors, graph nodes and modules share this one class)."""

from ..autograd.graph import RemovableHandle

__all__ = ["RemovableHandle"]
