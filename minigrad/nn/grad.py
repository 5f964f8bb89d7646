"""``minigrad.nn.grad``: PyTorch's path (``torch.nn.grad``) for a convolution's input and weight
gradients, which live with the convolutions in :mod:`minigrad.nn.functional.conv_grad`."""

from .functional import conv_grad as _conv_grad
from .functional.conv_grad import *  # noqa: F403 - the same names, at PyTorch's path

__all__ = _conv_grad.__all__
