"""Fake quantization for quantization-aware training: round to a quantization grid in the
forward, pass the gradient straight through inside the grid's range (zero outside), as
PyTorch's ``fake_quantize_per_tensor_affine`` and ``fake_quantize_per_channel_affine``.

Numerics follow PyTorch's CPU kernels bit for bit: the scale is a float32, the input is
multiplied by its float32 reciprocal, rounded half to even (``rint``), shifted by the zero
point and clamped; the result is ``(q - zero_point) * scale`` rounded to float32.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .base import Op, autocast_op, constant


class FakeQuantizePerTensorAffine(Op):
    """y = (clamp(rint(x / s) + z, qmin, qmax) - z) · s; dy/dx = 1 where the rounded value lies
    in [qmin, qmax], else 0 (straight-through estimator, as PyTorch)"""

    backward_name = "FakeQuantizePerTensorAffineCachemaskBackward0"

    def __init__(self, scale: float, zero_point: int, quant_min: int, quant_max: int):
        self.scale, self.zero_point = np.float32(scale), int(zero_point)
        self.quant_min, self.quant_max = quant_min, quant_max

    def forward(self, x):
        out, mask = _fake_quantize(
            self.xp, x, self.scale, self.zero_point, self.quant_min, self.quant_max, False, True
        )
        self.keep(mask=mask)
        return out

    def backward(self, gy):
        return self.formula(_straight_through, gy, constant(self.kept_arrays["mask"], self.device))


class FakeQuantizePerChannelAffine(Op):
    """Per-channel fake quantization along ``axis`` with one (scale, zero point) per channel;
    dy/dx = 1 where the rounded value lies in [qmin, qmax], else 0 (as PyTorch)"""

    backward_name = "FakeQuantizePerChannelAffineCachemaskBackward0"

    def __init__(self, scale, zero_point, axis: int, quant_min: int, quant_max: int):
        self.scale, self.zero_point, self.axis = scale, zero_point, axis
        self.quant_min, self.quant_max = quant_min, quant_max

    def forward(self, x):
        shape = [1] * x.ndim
        shape[self.axis] = -1
        scale = self.scale.reshape(shape)
        zero_point = self.zero_point.reshape(shape)
        float_zp = zero_point.dtype.kind == "f"
        out, mask = _fake_quantize(
            self.xp, x, scale, zero_point, self.quant_min, self.quant_max, float_zp, False
        )
        self.keep(mask=mask)
        return out

    def backward(self, gy):
        return self.formula(_straight_through, gy, constant(self.kept_arrays["mask"], self.device))


def _straight_through(ns, gy, mask):
    return gy * mask


def _fake_quantize(xp, x, scale, zero_point, quant_min, quant_max, float_zp, per_tensor):
    """The fake-quantized array and the mask of entries whose rounded value is in range.

    A float zero point (the learnable variants' form) is added before rounding; an integer
    one after, as PyTorch's kernels do."""
    work = xp.float64 if x.dtype == xp.float64 else xp.float32  # float16 computes in float32
    inv = (xp.float32(1.0) / xp.asarray(scale, dtype=xp.float32)).astype(work)
    scaled = x.astype(work, copy=False) * inv
    if float_zp:
        zero_point = zero_point.astype(work)
    q = xp.rint(scaled + zero_point) if float_zp else xp.rint(scaled) + zero_point
    mask = (q >= quant_min) & (q <= quant_max)
    shifted = xp.clip(q, quant_min, quant_max).astype(xp.float64) - zero_point
    out = shifted * xp.asarray(scale, dtype=xp.float32).astype(xp.float64)
    if per_tensor:  # PyTorch's per-tensor kernel rounds (q - z)·s to float32 for every dtype
        out = out.astype(xp.float32)
    return out.astype(x.dtype, copy=False), mask.astype(x.dtype)


def _check_range(op: str, quant_min: int, quant_max: int) -> None:
    if quant_min > quant_max:
        raise RuntimeError(
            f"{op}: `quant_min` should be less than or equal to `quant_max` (got quant_min="
            f"{quant_min}, quant_max={quant_max})"
        )


def _check_zero_point(op: str, zero_point, quant_min: int, quant_max: int) -> None:
    low, high = (zero_point, zero_point) if np.ndim(zero_point) == 0 else _bounds(zero_point)
    if low < quant_min or high > quant_max:
        raise RuntimeError(
            f"{op}: `zero_point` must be between `quant_min` and `quant_max` (got zero_point="
            f"{zero_point}, quant_min={quant_min}, quant_max={quant_max})"
        )


def _bounds(array) -> tuple:
    host = np.asarray(array.get() if hasattr(array, "get") else array)
    return (host.min(), host.max()) if host.size else (0, 0)


def _check_channel_dim(op: str, input, axis) -> None:
    """PyTorch reads the input's size along ``axis`` first: a 0-d input is its IndexError."""
    if input.ndim == 0:
        raise backend.DimensionError(
            f"{op}: Dimension specified as {axis} but tensor has no dimensions"
        )


def _check_input(op: str, input) -> None:
    if not input.is_floating_point():
        raise NotImplementedError(
            f"{op}: input must be a floating point tensor (float16, bfloat16, float32 or "
            f"float64), got {input.dtype}"
        )


def _scalar(value, op: str, name: str):
    """A Python number from a number or a one-element tensor (PyTorch's tensor-qparams form)."""
    if hasattr(value, "item"):
        if value.numel() != 1:
            raise RuntimeError(f"{op}: {name} must be a one-element tensor, got {value.numel()}")
        return value.item()
    return value


@autocast_op("fake_quantize_per_tensor_affine")
def fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max):
    """Round ``input`` to the affine grid ``scale · (q - zero_point)``, ``q`` an integer in
    ``[quant_min, quant_max]``, and back to float; the gradient passes where ``q`` was not
    clamped. ``scale`` and ``zero_point`` are numbers or one-element tensors.

    Example:
        >>> fake_quantize_per_tensor_affine(tensor([0.26, 3.0]), 0.5, 0, -4, 3)
        tensor([0.5000, 1.5000])
    """
    op = "fake_quantize_per_tensor_affine"
    _check_input(op, input)
    scale, zero_point = _scalar(scale, op, "scale"), _scalar(zero_point, op, "zero_point")
    _check_range(op, quant_min, quant_max)
    _check_zero_point(op, int(zero_point), quant_min, quant_max)
    return FakeQuantizePerTensorAffine(scale, zero_point, quant_min, quant_max)(input)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis, quant_min, quant_max):
    """Fake quantization with one ``scale[c]``/``zero_point[c]`` per index ``c`` of dim
    ``axis``: ``scale`` a 1-D float32 tensor, ``zero_point`` a 1-D int32 or float tensor (a
    float zero point is added before rounding, as PyTorch's learnable form).

    Example:
        >>> fake_quantize_per_channel_affine(x, tensor([0.1, 0.2]), tensor([0, 0],
        ...     dtype=int32), 1, -128, 127)  # x of shape (N, 2)
    """
    op = "fake_quantize_per_channel_affine"
    _check_channel_dim(op, input, axis)
    _check_input(op, input)
    _check_range(op, quant_min, quant_max)
    if scale.ndim != 1:
        raise RuntimeError(f"{op}: scale should be a 1-D tensor, got {scale.ndim} dims")
    if scale.dtype.name != "float32":
        raise RuntimeError(f"{op}: Scale must be Float (float32), found {scale.dtype}")
    if zero_point.dtype.name not in ("int32", "float32", "float16"):
        raise RuntimeError(
            f"{op}: Zero-point must be Int32, Float or Half, found {zero_point.dtype}"
        )
    if not isinstance(axis, int) or not 0 <= axis < max(input.ndim, 1):
        raise RuntimeError(
            f"{op}: `axis` must be between 0 and number of dimensions of input ({input.ndim}), "
            f"got {axis}"
        )
    if scale.shape != zero_point.shape or scale.shape[0] != input.shape[axis]:
        raise RuntimeError(
            f"{op}: dimensions of scale {list(scale.shape)} and zero-point "
            f"{list(zero_point.shape)} are not consistent with input tensor "
            f"{list(input.shape)} along axis {axis}"
        )
    _check_zero_point(op, zero_point._data, quant_min, quant_max)
    zp_array = zero_point._data
    return FakeQuantizePerChannelAffine(scale._data, zp_array, axis, quant_min, quant_max)(input)


class FakeQuantizeLearnablePerTensorAffine(Op):
    """Fake quantization with learnable ``scale`` and ``zero_point`` (LSQ): forward as
    :class:`FakeQuantizePerTensorAffine` with the zero point rounded and clamped; gradients
    as PyTorch's: dx straight through, d scale = ((x̂ - x)/s inside, q_bound - z outside) and
    d zero_point = (0 inside, -s outside), each times ``grad_factor`` and summed"""

    save_inputs = True
    axis = None

    def __init__(self, quant_min: int, quant_max: int, grad_factor: float, axis=None):
        self.quant_min, self.quant_max, self.grad_factor = quant_min, quant_max, grad_factor
        self.axis = axis

    def _broadcast(self, array, ndim):
        if self.axis is None:
            return array.reshape(())
        shape = [1] * ndim
        shape[self.axis] = -1
        return array.reshape(shape)

    def forward(self, x, scale, zero_point):
        xp, qmin, qmax = self.xp, self.quant_min, self.quant_max
        zp = xp.clip(xp.rint(zero_point.astype(xp.float32)), qmin, qmax).astype(xp.int64)
        scale32 = scale.astype(xp.float32)
        out, _ = _fake_quantize(
            xp, x, self._broadcast(scale32, x.ndim), self._broadcast(zp, x.ndim), qmin, qmax,
            False, self.axis is None,
        )  # fmt: skip
        return out

    def backward(self, gy):
        x, scale, zero_point = self.saved
        xp, qmin, qmax = self.xp, self.quant_min, self.quant_max
        s = self._broadcast(scale._data.astype(xp.float32), x.ndim)
        # the backward's zero point: z + 0.5 truncated after clamping, as PyTorch's kernel
        zb = xp.clip(zero_point._data.astype(xp.float32) + xp.float32(0.5), qmin, qmax)
        zb = self._broadcast(zb.astype(xp.int64).astype(xp.float32), x.ndim)
        xq = xp.rint(x._data.astype(xp.float32) * (xp.float32(1.0) / s) + zb)
        outside = (xq < qmin) | (xq > qmax)
        inside = constant((~outside).astype(x._data.dtype), self.device)
        bound = constant((xp.where(xq < qmin, qmin, qmax) - zb).astype(x._data.dtype), self.device)
        shifted = constant((xq - zb).astype(x._data.dtype), self.device)
        s_t = scale.reshape(s.shape)
        g = gy * self.grad_factor
        x_hat = shifted * s_t
        d_scale = g * (inside * ((x_hat - x) / s_t) + (1 - inside) * bound)
        d_zero = g * ((inside - 1) * s_t)
        return gy * inside, self._reduce(d_scale, scale), self._reduce(d_zero, zero_point)

    def _reduce(self, grad, like):
        if self.axis is None:
            return grad.sum().reshape(like.shape)
        dims = tuple(d for d in range(grad.ndim) if d != self.axis)
        return grad.sum(dims) if dims else grad


class FakeQuantizeLearnablePerChannelAffine(FakeQuantizeLearnablePerTensorAffine):
    """Per-channel fake quantization with learnable scales and zero points along ``axis``;
    gradients as :class:`FakeQuantizeLearnablePerTensorAffine`'s, summed per channel"""


def _learnable_checks(op, input, scale, zero_point, quant_min, quant_max):
    _check_input(op, input)
    _check_range(op, quant_min, quant_max)
    for name, t in (("scale", scale), ("zero_point", zero_point)):
        if not t.is_floating_point():
            raise RuntimeError(f"{op}: {name} must be a floating point tensor, got {t.dtype}")


def _fake_quantize_learnable_per_tensor_affine(
    input, scale, zero_point, quant_min, quant_max, grad_factor=1.0
):
    """Fake quantization whose ``scale`` and ``zero_point`` (one-element float tensors) get
    gradients (learned step size quantization), as PyTorch's function of this name."""
    op = "_fake_quantize_learnable_per_tensor_affine"
    _learnable_checks(op, input, scale, zero_point, quant_min, quant_max)
    if scale.numel() != 1 or zero_point.numel() != 1:
        raise RuntimeError(f"{op}: scale and zero_point must have one element each")
    fn = FakeQuantizeLearnablePerTensorAffine(quant_min, quant_max, float(grad_factor))
    return fn(input, scale, zero_point)


def _fake_quantize_learnable_per_channel_affine(
    input, scale, zero_point, axis, quant_min, quant_max, grad_factor=1.0
):
    """Per-channel fake quantization with learnable 1-D ``scale`` and ``zero_point`` along
    ``axis``, as PyTorch's function of this name."""
    op = "_fake_quantize_learnable_per_channel_affine"
    _check_channel_dim(op, input, axis)
    _learnable_checks(op, input, scale, zero_point, quant_min, quant_max)
    if not isinstance(axis, int) or not 0 <= axis < max(input.ndim, 1):
        raise RuntimeError(f"{op}: `axis` must be between 0 and {input.ndim - 1}, got {axis}")
    if scale.shape != (input.shape[axis],) or zero_point.shape != (input.shape[axis],):
        raise RuntimeError(
            f"{op}: scale and zero_point must be 1-D of length {input.shape[axis]} (input "
            f"dim {axis}), got {list(scale.shape)} and {list(zero_point.shape)}"
        )
    fn = FakeQuantizeLearnablePerChannelAffine(quant_min, quant_max, float(grad_factor), axis)
    return fn(input, scale, zero_point)
