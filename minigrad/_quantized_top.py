"""The top-level ``torch.quantized_*`` functions on quantized tensors: max pooling (exact on
the input's grid, so the result keeps its ``scale``/``zero_point``) and batch normalization
(the float layer on the dequantized values, quantized to the given output grid)."""

from __future__ import annotations

from . import _quantized
from .autograd.grad_mode import no_grad
from .nn import functional as F


def _check(input, op: str) -> None:
    """PyTorch's refusal of a dense tensor: the op has kernels for quantized tensors only."""
    if not _quantized.is_quantized(input):
        raise NotImplementedError(
            f"Could not run 'aten::{op}' with arguments from the 'CPU' backend: it takes a "
            f"quantized tensor (minigrad.quantize_per_tensor), got a {input.dtype} tensor"
        )


def _max_pool(pool, op: str):
    def quantized_max_pool(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        _check(input, op)
        return pool(input, kernel_size, stride or None, padding, dilation, ceil_mode)

    quantized_max_pool.__name__ = quantized_max_pool.__qualname__ = op
    quantized_max_pool.__doc__ = (
        f"``{pool.__name__}`` of a quantized tensor (an empty ``stride``: the kernel size); "
        "the result keeps the input's scale and zero point."
    )
    return quantized_max_pool


quantized_max_pool1d = _max_pool(F.max_pool1d, "quantized_max_pool1d")
quantized_max_pool2d = _max_pool(F.max_pool2d, "quantized_max_pool2d")
quantized_max_pool3d = _max_pool(F.max_pool3d, "quantized_max_pool3d")


def quantized_batch_norm(
    input, weight, bias, mean, var, eps: float, output_scale: float, output_zero_point: int
):
    """Batch normalization of quantized ``input`` (N, C, ...) with the statistics ``mean``
    and ``var`` and the affine ``weight``/``bias`` (all float, size C), quantized to
    ``(output_scale, output_zero_point)`` in the input's dtype.

    Example:
        >>> qx = minigrad.quantize_per_tensor(minigrad.rand(2, 2, 2, 2), 1.5, 3, minigrad.quint8)
        >>> minigrad.quantized_batch_norm(qx, minigrad.ones(2), minigrad.zeros(2),
        ...                               minigrad.rand(2), minigrad.rand(2), 1e-5, 0.2, 2)
    """
    _check(input, "quantized_batch_norm")
    if weight is None:
        raise RuntimeError("Weight must be provided")
    if bias is None:
        raise RuntimeError("Bias must be provided")
    with no_grad():
        out = F.batch_norm(input.dequantize(), mean, var, weight, bias, False, 0.0, eps)
    return _quantized.quantize_per_tensor(out, output_scale, output_zero_point, input.dtype)
