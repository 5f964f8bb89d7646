"""``convert_conv2d_weight_memory_format``/``convert_conv3d_weight_memory_format``, as
``torch.nn.utils.memory_format``: lay out the weights of a model's convolutions in a memory
format (``channels_last``), in place."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d


def _convert(module, memory_format, kinds):
    if isinstance(module, kinds):
        with no_grad():
            laid_out = module.weight.detach().clone(memory_format=memory_format)
            module.weight.data = laid_out
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Give every ``Conv2d``/``ConvTranspose2d`` weight in ``module`` (recursively) the layout
    ``memory_format`` (e.g. ``minigrad.channels_last``); returns ``module``.

    Example:
        >>> net = convert_conv2d_weight_memory_format(net, minigrad.channels_last)
    """
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """Give every ``Conv3d``/``ConvTranspose3d`` weight in ``module`` (recursively) the layout
    ``memory_format`` (e.g. ``minigrad.channels_last_3d``); returns ``module``."""
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
