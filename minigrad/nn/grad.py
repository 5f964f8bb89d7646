"""``minigrad.nn.grad``: PyTorch's path (``torch.nn.grad``) for a convolution's input and weight
gradients, which live with the convolutions in :mod:`minigrad.nn.functional.conv_grad`."""

from .functional.conv_grad import (
    conv1d_input,
    conv1d_weight,
    conv2d_input,
    conv2d_weight,
    conv3d_input,
    conv3d_weight,
)

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "conv3d_input",
    "conv3d_weight",
]
