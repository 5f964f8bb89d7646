"""MaskedTensor, as ``torch.masked.maskedtensor``."""

from . import _ops_refs
from .core import MaskedTensor, as_masked_tensor, is_masked_tensor, masked_tensor

_ops_refs.install()
