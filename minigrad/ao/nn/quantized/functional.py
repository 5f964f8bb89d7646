"""Functions on quantized tensors, as ``torch.ao.nn.quantized.functional``: linear and conv2d
computed as PyTorch's FBGEMM kernels compute them, in integers, then requantized.

The integer accumulator ``Σ (x_q - x_zp)(w_q - w_zp)`` is exact (float64 sums of products of
8-bit integers). Requantization follows FBGEMM's float path in float32:
``q = rint((acc + bias / (s_x·s_w)) · (s_x·s_w / s_out)) + zp_out``, clamped to quint8 (to
``zp_out`` from below when a ReLU is fused). FBGEMM's int16 saturation of its AVX2 kernels
(avoided by the 7-bit activations of PyTorch's default qconfigs) is not modelled.
"""

from __future__ import annotations

import numpy as np

from .... import _quantized, _quantized_ops, dtypes
from ....autograd.grad_mode import no_grad
from ....nn import functional as F
from ....tensor import Tensor

_QuantizedArray = _quantized.QuantizedArray


def _record(x, op: str, name: str = "input") -> _QuantizedArray:
    if type(x._data) is not _QuantizedArray:
        raise RuntimeError(
            f"{op}: {name} must be a quantized tensor (got a {x.dtype} tensor); quantize it "
            "first, e.g. with minigrad.quantize_per_tensor or a QuantStub"
        )
    return x._data


def _activation(x, op: str) -> _QuantizedArray:
    record = _record(x, op)
    if record.qdtype is not dtypes.quint8 or record.per_channel:
        raise NotImplementedError(
            f"{op}: minigrad's quantized kernels take per-tensor quint8 activations (as "
            f"FBGEMM), got {record.qdtype} {record.scheme}"
        )
    return record


def _centered(record: _QuantizedArray, axis_size: int = 0):
    """``q - zero_point`` in float64, and the scales per output channel (float32)."""
    q = record.int_repr.astype(np.float64)
    if not record.per_channel:
        scale = np.full(max(axis_size, 1), record.scale, dtype=np.float32)
        return q - record.zero_point, scale
    if record.axis != 0:
        raise NotImplementedError(
            f"minigrad's quantized kernels take weights quantized along dim 0, got axis "
            f"{record.axis}"
        )
    shape = (-1,) + (1,) * (q.ndim - 1)
    return q - record.zero_point.reshape(shape), record.scale.astype(np.float32)


def requantize(acc, x_scale, w_scales, bias, scale, zero_point, relu=False, channel_axis=-1):
    """FBGEMM's requantization of int32 accumulators ``acc`` (float64 array of integers) with
    per-output-channel weight scales ``w_scales`` along ``channel_axis``: a quint8 array."""
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    act_times_w = (np.float32(x_scale) * w_scales).reshape(shape)
    multiplier = act_times_w / np.float32(scale)
    raw = acc.astype(np.float32)
    if bias is not None:
        raw = raw + (bias.astype(np.float32).reshape(shape) / act_times_w)
    q = np.rint(raw * multiplier) + np.float32(zero_point)
    return np.clip(q, zero_point if relu else 0, 255).astype(np.uint8)


def _output(q, scale, zero_point):
    record = _QuantizedArray(
        q, dtypes.quint8, _quantized.per_tensor_affine, float(scale), int(zero_point)
    )
    return Tensor._make(record, _cpu())


def _cpu():
    from ....backend import device

    return device("cpu")


def _bias_array(bias):
    return None if bias is None else bias.detach().float()._data


def linear(input, weight, bias=None, scale=None, zero_point=None, *, relu=False):
    """``input @ weight.T + bias`` of a quint8 ``input`` and a qint8 ``weight`` (per tensor or
    per output channel), requantized to ``scale``/``zero_point`` (quint8)."""
    x = _activation(input, "quantized.linear")
    w = _record(weight, "quantized.linear", "weight")
    if scale is None:
        scale, zero_point = x.scale, x.zero_point
    xc = x.int_repr.astype(np.float64) - x.zero_point
    wc, w_scales = _centered(w, w.shape[0])
    acc = xc @ wc.T
    q = requantize(acc, x.scale, w_scales, _bias_array(bias), scale, zero_point, relu)
    return _output(q, scale, zero_point)


def _conv(dims, input, weight, bias, stride, padding, dilation, groups, padding_mode, scale,
          zero_point, dtype, relu):  # fmt: skip
    op = f"quantized.conv{dims}d"
    if padding_mode != "zeros":
        raise NotImplementedError(f"{op}: only padding_mode='zeros' is supported")
    if dtype is not dtypes.quint8:
        raise NotImplementedError(f"{op}: the output dtype must be quint8, got {dtype}")
    x = _activation(input, op)
    w = _record(weight, op, "weight")
    xc = x.int_repr.astype(np.float64) - x.zero_point
    wc, w_scales = _centered(w, w.shape[0])
    device = _cpu()
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    with no_grad():
        acc = conv(
            Tensor._make(xc, device), Tensor._make(wc, device), None, stride, padding,
            dilation, groups,
        )._data  # fmt: skip
    q = requantize(acc, x.scale, w_scales, _bias_array(bias), scale, zero_point, relu, 1)
    return _output(q, scale, zero_point)


def conv1d(
    input, weight, bias, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
    scale=1.0, zero_point=0, dtype=dtypes.quint8, *, relu=False,
):  # fmt: skip
    """1-D convolution of a quint8 ``input`` (N, C, L), as :func:`conv2d`."""
    return _conv(
        1, input, weight, bias, stride, padding, dilation, groups, padding_mode, scale,
        zero_point, dtype, relu,
    )  # fmt: skip


def conv2d(
    input, weight, bias, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
    scale=1.0, zero_point=0, dtype=dtypes.quint8, *, relu=False,
):  # fmt: skip
    """2-D convolution of a quint8 ``input`` (N, C, H, W) with a qint8 ``weight``, requantized
    to ``scale``/``zero_point``; padding is the input's zero point (a real zero)."""
    return _conv(
        2, input, weight, bias, stride, padding, dilation, groups, padding_mode, scale,
        zero_point, dtype, relu,
    )  # fmt: skip


def conv3d(
    input, weight, bias, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros",
    scale=1.0, zero_point=0, dtype=dtypes.quint8, *, relu=False,
):  # fmt: skip
    """3-D convolution of a quint8 ``input`` (N, C, D, H, W), as :func:`conv2d`."""
    return _conv(
        3, input, weight, bias, stride, padding, dilation, groups, padding_mode, scale,
        zero_point, dtype, relu,
    )  # fmt: skip


def relu6(input, inplace: bool = False):
    """``min(max(x, 0), 6)`` on a quantized tensor's grid (the integers clamped to the zero
    point and to 6 quantized)."""
    x = _record(input, "quantized.relu6")
    if x.per_channel:
        raise NotImplementedError("quantized.relu6: per-channel quantized inputs")
    low, high = x.qdtype.bounds
    six = np.clip(np.rint(np.float32(6.0) / np.float32(x.scale)) + x.zero_point, low, high)
    q = np.clip(x.int_repr, x.zero_point, six).astype(x.int_repr.dtype)
    return Tensor._make(x.with_values(q), input.device)


def hardsigmoid(input, inplace: bool = False):
    """``relu6(x + 3) / 6`` of a per-tensor quantized tensor, as PyTorch's quantized kernel:
    computed in float32 on the dequantized values and quantized to the fixed grid of [0, 1]
    (scale 1/256, zero point 0 for quint8; see ``_quantized_ops.UNIT_GRIDS``), whatever the
    input's parameters. ``inplace`` writes the result into ``input``."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.hardsigmoid' must be quantized!")
    return _quantized_ops.fixed_range("hardsigmoid", input, inplace=inplace)


def choose_qparams(x_min: float, x_max: float, qmin: int, qmax: int, preserve_sparsity=False):
    """FBGEMM's ``ChooseQuantizationParams``: ``(scale, zero_point)`` mapping
    ``[min(x_min, 0), max(x_max, 0)]`` onto ``[qmin, qmax]``, the zero point nudged to an
    integer (double precision inside, float32 bounds); ``preserve_sparsity`` makes a
    range around zero symmetric (zero point in the middle)."""
    f32 = _f32
    small = f32(6.1e-5)
    x_min, x_max = f32(x_min), f32(x_max)
    straddles = x_min < 0 < x_max and preserve_sparsity
    if straddles:
        low, high = -((qmax - qmin) // 2 + 1), (qmax - qmin) // 2
        widest = max(abs(x_min / low), abs(x_max / high))
        x_min, x_max = f32(widest * low), f32(widest * high)
    x_min, x_max = min(x_min, 0.0), max(x_max, 0.0)
    scale = (x_max - x_min) / (qmax - qmin)
    if f32(scale) == 0 or np.isinf(np.float32(1.0) / np.float32(scale)):
        scale = 0.1
    if scale < small:
        original, scale = scale, small
        if x_min == 0.0:
            x_max = f32(small * (qmax - qmin))
        elif x_max == 0.0:
            x_min = f32(-small * (qmax - qmin))
        else:
            amplifier = f32(small / original)
            x_min, x_max = f32(x_min * amplifier), f32(x_max * amplifier)
    from_min, from_max = qmin - x_min / scale, qmax - x_max / scale
    error_min = abs(qmin) - abs(x_min / scale)
    error_max = abs(qmax) - abs(x_max / scale)
    initial = from_min if error_min < error_max else from_max
    if straddles:
        initial = (qmin + qmax) / 2
    zero_point = qmin if initial < qmin else qmax if initial > qmax else int(np.rint(initial))
    return scale, zero_point  # (a double, as PyTorch's q_scale; kernels use it as a float)


def _f32(value) -> float:
    """``value`` rounded to float32 (as a C++ float variable holds it)."""
    return float(np.float32(value))


def linear_dynamic(input, weight, bias=None, reduce_range: bool = True, *, relu=False):
    """A float ``input`` times a qint8 ``weight``: the input quantized to quint8 with qparams
    from its own range (7-bit with ``reduce_range``, as FBGEMM), an integer product, and a
    float32 result ``acc · s_x·s_w + bias``."""
    if input.device.type != "cpu":
        raise NotImplementedError("quantized.linear_dynamic: minigrad runs it on the CPU only")
    w = _record(weight, "quantized.linear_dynamic", "weight")
    data = input.detach().float()._data
    x_min, x_max = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
    x_scale, x_zp = choose_qparams(x_min, x_max, 0, 127 if reduce_range else 255)
    xq = _quantized.quantize_array(data, x_scale, x_zp, dtypes.quint8, fused=True)
    wc, w_scales = _centered(w, w.shape[0])
    acc = (xq.astype(np.float64) - x_zp) @ wc.T
    out = acc.astype(np.float32) * (np.float32(x_scale) * w_scales)
    if bias is not None:
        out = out + _bias_array(bias)
    if relu:
        out = np.maximum(out, 0)
    return Tensor._make(out.astype(np.float32), input.device).to(input.dtype)
