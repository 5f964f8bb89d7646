"""PyTorch's fake quantization for quantization-aware training:
``fake_quantize_per_tensor_affine`` and ``fake_quantize_per_channel_affine``. The values are
quantized and dequantized as PyTorch's kernels do it (``nearbyint(x * (1 / scale)) + zero_point``
clamped to ``[quant_min, quant_max]``, then ``(q - zero_point) * scale``; halves round to even),
and the gradient is the straight-through estimator: the incoming gradient where ``x`` fell inside
the range, zero outside. Composed from tensor ops (the mask is a constant of the graph), so the
result is differentiable to any order (the second derivative is zero, as PyTorch's)."""

from __future__ import annotations

import numpy as np

from . import dtypes
from .autograd import grad_mode, graph


def _check_range(name: str, quant_min: int, quant_max: int) -> None:
    if quant_min > quant_max:
        raise RuntimeError(
            f"{name}: `quant_min` should be less than or equal to `quant_max` "
            f"(got {quant_min} and {quant_max})."
        )


def _check_input(name: str, input) -> None:
    if not isinstance(input, graph.Tensor) or not input.is_floating_point():
        kind = input.dtype if isinstance(input, graph.Tensor) else type(input).__name__
        raise RuntimeError(f"{name}: expected a floating-point input tensor, got {kind}")


def _straight_through(input, quantized, inside):
    """``quantized``'s values with ``input``'s gradient where ``inside`` (a bool tensor)."""
    if not (grad_mode.is_grad_enabled() and input.requires_grad):
        return quantized
    return quantized + (input - input.detach()) * inside


def _fake_quantize(input, scale, zero_point, quant_min, quant_max):
    """Quantize-dequantize ``input`` with broadcastable float32 ``scale`` and ``zero_point``."""
    x = input.detach()
    inv_scale = 1.0 / scale
    q = (x * inv_scale.to(x.dtype)).round() + zero_point.to(x.dtype)
    inside = (q >= quant_min) & (q <= quant_max)
    out = (q.clamp(quant_min, quant_max) - zero_point.to(x.dtype)) * scale.to(x.dtype)
    return _straight_through(input, out, inside)


def _scalar(value, kind: str, name: str):
    if isinstance(value, graph.Tensor):
        if value.numel() != 1:
            raise RuntimeError(
                f"{name}: `{kind}` must be a number or a one-element tensor, got a tensor of "
                f"shape {list(value.shape)}"
            )
        value = value.item()
    return value


def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min: int, quant_max: int):
    """Fake-quantize ``input`` with one ``scale`` and ``zero_point`` (numbers or one-element
    tensors), as ``torch.fake_quantize_per_tensor_affine``.

    Example:
        >>> y = minigrad.fake_quantize_per_tensor_affine(x, 0.1, 128, 0, 255)  # uint8 grid
    """
    name = "fake_quantize_per_tensor_affine"
    _check_input(name, input)
    _check_range(name, quant_min, quant_max)
    scale = float(_scalar(scale, "scale", name))
    zero_point = int(round(_scalar(zero_point, "zero_point", name)))
    if not quant_min <= zero_point <= quant_max:
        raise RuntimeError(f"{name}: `zero_point` must be between `quant_min` and `quant_max`.")
    # float32 scale and inverse, as PyTorch's kernel computes them
    scale_t = input.new_tensor(np.float32(scale), dtype=dtypes.float32)
    zero_t = input.new_tensor(zero_point, dtype=dtypes.float32)
    return _fake_quantize(input, scale_t, zero_t, quant_min, quant_max)


def fake_quantize_per_channel_affine(
    input, scale, zero_point, axis: int, quant_min: int, quant_max: int
):
    """Fake-quantize ``input`` with one ``scale`` and ``zero_point`` per slice along ``axis``
    (1-D tensors of ``input.shape[axis]`` entries: float32 scales, int32 zero points), as
    ``torch.fake_quantize_per_channel_affine``.

    Example:
        >>> s = w.abs().amax(1) / 127
        >>> wq = minigrad.fake_quantize_per_channel_affine(w, s, minigrad.zeros(4, dtype=minigrad.int32), 0, -128, 127)
    """
    name = "fake_quantize_per_channel_affine"
    _check_input(name, input)
    _check_range(name, quant_min, quant_max)
    if scale.dtype != dtypes.float32:
        raise RuntimeError(f"{name}: Scale must be Float, found {scale.dtype}")
    if zero_point.dtype != dtypes.int32:
        if zero_point.is_floating_point():
            raise NotImplementedError(
                f"{name}: floating-point zero points are not implemented in minigrad; give "
                "int32 zero points"
            )
        raise RuntimeError(
            f"{name}: Zero-point must be Int32, Float or Half, found {zero_point.dtype}"
        )
    axis = axis + input.ndim if axis < 0 else axis
    if not 0 <= axis < input.ndim:
        raise IndexError(f"{name}: `axis` {axis} is out of range for a {input.ndim}-d input")
    channels = input.shape[axis]
    if scale.shape != (channels,) or zero_point.shape != (channels,):
        raise RuntimeError(
            f"{name}: scale and zero_point must be 1-d with input.shape[axis] = {channels} "
            f"entries, got shapes {list(scale.shape)} and {list(zero_point.shape)}"
        )
    if bool(((zero_point < quant_min) | (zero_point > quant_max)).any()):
        raise RuntimeError(f"{name}: `zero_point` must be between `quant_min` and `quant_max`.")
    shape = [1] * input.ndim
    shape[axis] = channels
    scale_t = scale.detach().reshape(shape)
    zero_t = zero_point.to(dtypes.float32).reshape(shape)
    return _fake_quantize(input, scale_t, zero_t, quant_min, quant_max)


__all__ = ["fake_quantize_per_channel_affine", "fake_quantize_per_tensor_affine"]
