"""A convolution's input or weight gradient for a given output gradient, without a recorded
forward: ``torch.nn.grad``'s functions (``minigrad.nn.grad``, also ``F.grad``, re-exports them).

Each is the vector-Jacobian product of the convolution with respect to one argument (a
convolution is linear in each), taken by :func:`minigrad.autograd.grad` on a convolution of a
zero placeholder; the result is differentiable (its node shows PyTorch's
``ConvolutionBackwardBackward0``) when grad mode is on and an argument requires grad.
"""

from __future__ import annotations

from ... import autograd
from ...autograd.grad_mode import enable_grad, is_grad_enabled
from ...autograd.graph import named_as
from ...creation import zeros
from .conv import conv1d, conv2d, conv3d

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "conv3d_input",
    "conv3d_weight",
]


def _vjp(conv, input, weight, grad_output, of_input: bool, args: tuple):
    """d(conv(input, weight))ᵀ·grad_output with respect to ``input`` (``of_input``) or
    ``weight``; the other argument is a zero placeholder of the given shape."""
    given = weight if of_input else input
    size = input if of_input else weight
    place = zeros(tuple(size), dtype=grad_output.dtype, device=grad_output.device)
    place.requires_grad_()
    differentiable = is_grad_enabled() and (given.requires_grad or grad_output.requires_grad)
    with enable_grad():
        x, w = (place, weight) if of_input else (input, place)
        out = conv(x, w, None, *args)
        (grad,) = autograd.grad(out, place, grad_output, create_graph=differentiable)
    return named_as(grad, "ConvolutionBackwardBackward0") if differentiable else grad.detach()


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of :func:`~minigrad.nn.functional.conv1d` with respect to its input of
    shape ``input_size`` (N, C_in, L), for ``grad_output`` (N, C_out, L_out)."""
    return _vjp(conv1d, input_size, weight, grad_output, True, (stride, padding, dilation, groups))


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of :func:`~minigrad.nn.functional.conv1d` with respect to its weight of
    shape ``weight_size``, for ``input`` and ``grad_output``."""
    return _vjp(conv1d, input, weight_size, grad_output, False, (stride, padding, dilation, groups))


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of :func:`~minigrad.nn.functional.conv2d` with respect to its input of
    shape ``input_size`` (N, C_in, H, W), for ``grad_output``."""
    return _vjp(conv2d, input_size, weight, grad_output, True, (stride, padding, dilation, groups))


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of :func:`~minigrad.nn.functional.conv2d` with respect to its weight of
    shape ``weight_size``, for ``input`` and ``grad_output``."""
    return _vjp(conv2d, input, weight_size, grad_output, False, (stride, padding, dilation, groups))


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of :func:`~minigrad.nn.functional.conv3d` with respect to its input of
    shape ``input_size`` (N, C_in, D, H, W), for ``grad_output``."""
    return _vjp(conv3d, input_size, weight, grad_output, True, (stride, padding, dilation, groups))


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of :func:`~minigrad.nn.functional.conv3d` with respect to its weight of
    shape ``weight_size``, for ``input`` and ``grad_output``."""
    return _vjp(conv3d, input, weight_size, grad_output, False, (stride, padding, dilation, groups))
