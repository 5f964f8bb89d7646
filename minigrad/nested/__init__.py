"""``minigrad.nested``: nested tensors, as ``torch.nested``: a batch of tensors of different
sizes held as one tensor.

A nested tensor is a :class:`~minigrad.Tensor` with ``is_nested`` true whose storage packs its
components' values into one array (see :mod:`minigrad._nested_record`). Two layouts, as
PyTorch's: ``minigrad.strided`` (components may differ in any dims) and ``minigrad.jagged``
(they differ in one ragged dim; the packed values keep the other dims, so ``nn.Linear``,
``layer_norm`` and elementwise ops run on them at once). Ops PyTorch supports on nested
tensors run here too and are differentiable: gradients reach the components
(:func:`as_nested_tensor`), the jagged values and the parameters. Other ops refuse nested
inputs by name, as PyTorch's do.
"""

from . import _rules, _tensor
from ._core import to_padded_tensor
from ._functions import (
    as_nested_tensor,
    masked_select,
    narrow,
    nested_tensor,
    nested_tensor_from_jagged,
)

_tensor.install()

__all__ = [
    "as_nested_tensor", "masked_select", "narrow", "nested_tensor", "nested_tensor_from_jagged",
    "to_padded_tensor",
]  # fmt: skip
_ = _rules
