"""The storage of a quantized tensor: a record of (integer array, quantization parameters) that
stands where a dense tensor keeps its array (``Tensor._data``), as PyTorch's QTensor.

A quantized tensor is an ordinary :class:`~minigrad.Tensor` whose ``_data`` is a
:class:`QuantizedArray`. The record answers ``shape``, ``dtype`` (``minigrad.qint8``, ...),
``ndim`` and ``size``, so metadata works unchanged, and refuses to act as an array (NumPy sees
``__array_ufunc__ = None`` and an ``__array__`` that raises). An op's forward therefore fails
on it, and :class:`minigrad.ops.base.Op` hands it to :func:`_fallback` (registered in
``base.record_fallbacks``; dense tensors pay nothing): the ops PyTorch runs on quantized
tensors whose value stays on the input's grid (relu, pooling, reshapes, indexing) run on the
dequantized values and are requantized with the input's parameters, which is exact for them;
any other op is refused by name, as PyTorch refuses it.

Numerics are PyTorch's CPU kernels': ``q = clamp(rint(x · float32(1/scale)) + zero_point)``
in float32 and ``x = (q - zero_point) · scale``.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes
from ._storage_record import StorageRecord


class qscheme:  # noqa: N801 - PyTorch spells it in lower case
    """A quantization scheme such as ``minigrad.per_tensor_affine``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"minigrad.{self.name}"

    def __reduce__(self):
        return (_scheme, (self.name,))


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")
SCHEMES = (
    per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric,
    per_channel_affine_float_qparams,
)  # fmt: skip


def _scheme(name: str) -> qscheme:
    return next(s for s in SCHEMES if s.name == name)


class QuantizedArray(StorageRecord):
    """``int_repr`` (an int8/uint8/int32 array), the quantized ``qdtype``, the ``scheme``, and
    the parameters: ``scale`` (float) and ``zero_point`` (int) per tensor, or 1-D float64
    ``scale`` and int64 ``zero_point`` arrays along ``axis`` per channel."""

    __slots__ = ("int_repr", "qdtype", "scheme", "scale", "zero_point", "axis")

    def __init__(self, int_repr, qdtype, scheme, scale, zero_point, axis=None):
        self.int_repr, self.qdtype, self.scheme = int_repr, qdtype, scheme
        self.scale, self.zero_point, self.axis = scale, zero_point, axis

    @property
    def shape(self) -> tuple:
        return self.int_repr.shape

    @property
    def dtype(self):
        return self.qdtype

    @property
    def itemsize(self) -> int:
        return self.int_repr.itemsize

    @property
    def nbytes(self) -> int:
        return self.int_repr.nbytes

    @property
    def flags(self):
        return self.int_repr.flags  # (layout questions: is_contiguous, memory formats)

    @property
    def strides(self) -> tuple:
        return self.int_repr.strides

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    def with_values(self, int_repr) -> QuantizedArray:
        """A record of the same parameters holding ``int_repr``."""
        return QuantizedArray(
            int_repr, self.qdtype, self.scheme, self.scale, self.zero_point, self.axis
        )

    def copy(self) -> QuantizedArray:
        """A record with a copy of the integers (``clone``)."""
        return self.with_values(self.int_repr.copy())

    def astype(self, dtype, copy: bool = True):
        raise TypeError(
            "a quantized tensor converts to another dtype only through .dequantize() "
            f"(it holds {self.qdtype} values)"
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a quantized tensor has no dense array: call .dequantize() (or .int_repr()) first "
            "(this op takes float tensors only)"
        )

    def tolist(self):
        raise TypeError("tolist() of a quantized tensor: call .dequantize() first")

    def dequantized(self):
        """The float32 values ``(q - zero_point) · scale``."""
        q = self.int_repr
        if self.axis is None:
            shifted = q.astype(np.float32) - np.float32(self.zero_point)
            return shifted * np.float32(self.scale)
        shape = [1] * q.ndim
        shape[self.axis] = -1
        zp, scale = self.zero_point.reshape(shape), self.scale.reshape(shape)
        if self.scheme is per_channel_affine_float_qparams:  # float zero points, float32
            shifted = q.astype(np.float32) - zp.astype(np.float32)
            return shifted * scale.astype(np.float32)
        return ((q - zp) * scale).astype(np.float32)  # in float64 (the scales' type), as PyTorch

    def __repr__(self) -> str:
        return f"QuantizedArray(shape={self.shape}, dtype={self.qdtype}, scheme={self.scheme})"


def is_quantized(t) -> bool:
    """Whether tensor ``t`` holds quantized values (``Tensor.is_quantized``)."""
    return type(t._data) is QuantizedArray


# -- array-level quantization --------------------------------------------------------------------
def quantize_array(x, scale, zero_point, qdtype, fused: bool = False):
    """The integers of float array ``x`` on the grid ``(scale, zero_point)`` of ``qdtype``
    (scale and zero point broadcast against ``x``), as PyTorch's CPU kernels compute them:
    ``rint(x · float32(1/scale) + zero_point)`` in float32, the product and the sum rounded
    once (``fused``: FBGEMM's fused multiply-add, PyTorch's per-tensor 8-bit path) or each."""
    low, high = qdtype.bounds
    inv = np.float32(1.0) / np.asarray(scale, dtype=np.float32)
    x = x.astype(np.float32, copy=False)
    if fused:  # the float64 product of two float32s is exact: one rounding, as an FMA
        q = x.astype(np.float64) * inv.astype(np.float64) + np.asarray(zero_point, np.float64)
    else:
        q = x * inv + np.asarray(zero_point, dtype=np.float32)
    q = np.rint(q.astype(np.float32))
    if high > 2**24:  # qint32: float32 rounds its bound up to 2**31, which would wrap
        q = q.astype(np.float64)
    return np.clip(q, low, high).astype(qdtype.storage)


def _wrap(record: QuantizedArray, device):
    from .autograd import graph

    return graph.Tensor._make(record, device)


def _require_cpu(t, op: str) -> None:
    if t.device.type != "cpu":
        raise NotImplementedError(
            f"{op}: minigrad's quantized tensors live on the CPU only (got a tensor on "
            f"{t.device}); move it with .cpu() first"
        )


def _quantized_dtype(dtype, op: str):
    if not isinstance(dtype, dtypes.QuantizedDtype):
        raise RuntimeError(
            f"{op}: dtype must be a quantized dtype (minigrad.quint8, qint8 or qint32), got {dtype}"
        )
    return dtype


def _require_float(t, op: str) -> None:
    if t.dtype is not dtypes.float32:
        raise RuntimeError(f"{op}: Quantize only works on Float (float32) tensors, got {t.dtype}")


def _require_quantized(t, op: str) -> QuantizedArray:
    if type(t._data) is not QuantizedArray:
        raise RuntimeError(f"{op}: expected a quantized tensor, got a {t.dtype} tensor")
    return t._data


# -- public functions ----------------------------------------------------------------------------
def quantize_per_tensor(input, scale, zero_point, dtype):
    """Quantize a float32 tensor to ``dtype`` (quint8, qint8, qint32) with one ``scale`` and
    ``zero_point``: ``q = clamp(round(x / scale) + zero_point)``, ties to even. A list of
    tensors gives a list (``scale``/``zero_point`` then tensors of one value each).

    Example:
        >>> quantize_per_tensor(tensor([-1.0, 0.0, 1.0, 2.0]), 1.0, 8, quint8).int_repr()
        tensor([ 7,  8,  9, 10], dtype=minigrad.uint8)
    """
    op = "quantize_per_tensor"
    if isinstance(input, (list, tuple)):
        return [
            quantize_per_tensor(t, float(s), int(z), dtype)
            for t, s, z in zip(input, scale.tolist(), zero_point.tolist())
        ]
    qdtype = _quantized_dtype(dtype, op)
    _require_cpu(input, op)
    _require_float(input, op)
    scale = float(scale.item() if hasattr(scale, "item") else scale)
    zero_point = int(zero_point.item() if hasattr(zero_point, "item") else zero_point)
    low, high = qdtype.bounds
    if not low <= zero_point <= high:
        raise RuntimeError(f"{op}: zero_point {zero_point} is out of range [{low}, {high}]")
    if not scale > 0 or math.isinf(scale):
        raise RuntimeError(f"{op}: scale must be a positive finite number, got {scale}")
    fused = qdtype.itemsize == 1
    q = quantize_array(input._data, scale, zero_point, qdtype, fused)
    return _wrap(QuantizedArray(q, qdtype, per_tensor_affine, scale, zero_point), input.device)


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """Quantize a float32 tensor with one ``scales[c]``/``zero_points[c]`` per index ``c`` of
    dim ``axis`` (``per_channel_affine``).

    Example:
        >>> q = quantize_per_channel(w, tensor([0.1, 0.2]), tensor([0, 0]), 0, qint8)
    """
    op = "quantize_per_channel"
    qdtype = _quantized_dtype(dtype, op)
    _require_cpu(input, op)
    _require_float(input, op)
    if not 0 <= axis < input.ndim:
        raise RuntimeError(
            f"{op}: axis {axis} is out of range for a tensor of {input.ndim} dimensions"
        )
    if scales.ndim != 1 or zero_points.ndim != 1 or scales.shape[0] != input.shape[axis]:
        raise RuntimeError(
            f"{op}: expected 1-D scales and zero_points of length {input.shape[axis]} (the size "
            f"of dim {axis}), got {list(scales.shape)} and {list(zero_points.shape)}"
        )
    shape = [1] * input.ndim
    shape[axis] = -1
    if zero_points.dtype.is_floating_point:  # float zero points: embedding tables' rows
        scale = np.asarray(scales._data, dtype=np.float32)
        zero_point = np.asarray(zero_points._data, dtype=np.float32)
        q = quantize_array(input._data, scale.reshape(shape), zero_point.reshape(shape), qdtype)
        record = QuantizedArray(
            q, qdtype, per_channel_affine_float_qparams, scale, zero_point, axis
        )
        return _wrap(record, input.device)
    scale = np.asarray(scales._data, dtype=np.float64)
    zero_point = np.asarray(zero_points._data).astype(np.int64)
    q = quantize_array(input._data, scale.reshape(shape), zero_point.reshape(shape), qdtype)
    record = QuantizedArray(q, qdtype, per_channel_affine, scale, zero_point, axis)
    return _wrap(record, input.device)


def quantize_per_tensor_dynamic(input, dtype, reduce_range: bool):
    """Quantize with a scale and zero point chosen from ``input``'s own range (FBGEMM's
    ``ChooseQuantizationParams``, 7 bits with ``reduce_range``), for quint8 or qint8."""
    from .ao.nn.quantized.functional import choose_qparams  # (the kernels' package, above)

    qdtype = _quantized_dtype(dtype, "quantize_per_tensor_dynamic")
    if qdtype is dtypes.qint32:
        raise RuntimeError("quantize_per_tensor_dynamic: dtype must be quint8 or qint8")
    _require_float(input, "quantize_per_tensor_dynamic")
    low, high = qdtype.bounds
    if reduce_range:
        low, high = low // 2, high // 2
    data = input.detach()
    x_min, x_max = (data.min().item(), data.max().item()) if data.numel() else (0.0, 0.0)
    scale, zero_point = choose_qparams(x_min, x_max, low, high)
    return quantize_per_tensor(input, scale, zero_point, dtype)


def dequantize(tensor):
    """The float32 values of a quantized tensor (a float tensor comes back unchanged; a list
    of tensors, one of them quantized at least, gives a list)."""
    if isinstance(tensor, (list, tuple)):
        if not any(type(getattr(t, "_data", None)) is QuantizedArray for t in tensor):
            raise NotImplementedError(  # PyTorch's list kernel exists for quantized tensors only
                "Could not run 'aten::dequantize.tensors' with arguments from the 'CPU' backend: "
                "dequantize of a list takes quantized tensors"
            )
        return [dequantize(t) for t in tensor]
    if type(tensor._data) is not QuantizedArray:
        return tensor
    from .autograd import graph

    return graph.Tensor._make(tensor._data.dequantized(), tensor.device)


def _make_per_tensor_quantized_tensor(input, scale, zero_point):
    """A quantized tensor whose integers are ``input``'s (uint8 → quint8, int8 → qint8,
    int32 → qint32)."""
    qdtype = dtypes.QUANTIZED_OF_STORAGE.get(input.dtype.name)
    if qdtype is None:
        raise RuntimeError(
            f"_make_per_tensor_quantized_tensor: input must be uint8, int8 or int32, got "
            f"{input.dtype}"
        )
    record = QuantizedArray(
        input._data.copy(), qdtype, per_tensor_affine, float(scale), int(zero_point)
    )
    return _wrap(record, input.device)


def _make_per_channel_quantized_tensor(input, scale, zero_point, axis):
    """A per-channel quantized tensor whose integers are ``input``'s."""
    qdtype = dtypes.QUANTIZED_OF_STORAGE.get(input.dtype.name)
    if qdtype is None:
        raise RuntimeError(
            f"_make_per_channel_quantized_tensor: input must be uint8, int8 or int32, got "
            f"{input.dtype}"
        )
    scales = np.asarray(scale._data, dtype=np.float64)
    zero_points = np.asarray(zero_point._data).astype(np.int64)
    record = QuantizedArray(
        input._data.copy(), qdtype, per_channel_affine, scales, zero_points, axis
    )
    return _wrap(record, input.device)


# -- Tensor methods ------------------------------------------------------------------------------
def int_repr(self):
    """The integers a quantized tensor stores (uint8 for quint8, int8, int32)."""
    record = _require_quantized(self, "int_repr")
    from .autograd import graph

    return graph.Tensor._make(record.int_repr.copy(), self.device)


def q_scale(self) -> float:
    """The scale of a per-tensor quantized tensor."""
    record = _per_tensor(self, "q_scale")
    return record.scale


def q_zero_point(self) -> int:
    """The zero point of a per-tensor quantized tensor."""
    return _per_tensor(self, "q_zero_point").zero_point


def q_per_channel_scales(self):
    """The float64 scales of a per-channel quantized tensor."""
    from .autograd import graph

    return graph.Tensor._make(_per_channel(self, "q_per_channel_scales").scale.copy(), self.device)


def q_per_channel_zero_points(self):
    """The int64 zero points of a per-channel quantized tensor."""
    from .autograd import graph

    record = _per_channel(self, "q_per_channel_zero_points")
    return graph.Tensor._make(record.zero_point.copy(), self.device)


def q_per_channel_axis(self) -> int:
    """The dim along which a per-channel quantized tensor has its parameters."""
    return _per_channel(self, "q_per_channel_axis").axis


def qscheme_of(self) -> qscheme:
    """The quantization scheme of a quantized tensor (``Tensor.qscheme()``)."""
    return _require_quantized(self, "qscheme").scheme


def _per_tensor(t, op: str) -> QuantizedArray:
    record = _require_quantized(t, op)
    if record.per_channel:
        raise RuntimeError(f"{op}: expected a per-tensor quantized tensor, got {record.scheme}")
    return record


def _per_channel(t, op: str) -> QuantizedArray:
    record = _require_quantized(t, op)
    if not record.per_channel:
        raise RuntimeError(f"{op}: expected a per-channel quantized tensor, got {record.scheme}")
    return record


def quantized_repr(t) -> str:
    """PyTorch's repr of a quantized tensor: the dequantized values, then the size, dtype,
    scheme and parameters."""
    from . import _format
    from .autograd import graph

    record = t._data
    text = "tensor(" + _format.format_array(record.dequantized())
    suffix = [f"size={tuple(record.shape)}", f"dtype={record.qdtype}"]
    suffix.append(f"quantization_scheme={record.scheme}")
    if record.per_channel:
        make = graph.Tensor._make
        suffix.append(f"scale={make(record.scale, t.device)!r}")
        suffix.append(f"zero_point={make(record.zero_point, t.device)!r}")
        suffix.append(f"axis={record.axis}")
    else:
        suffix += [f"scale={record.scale!r}", f"zero_point={record.zero_point}"]
    return _format._add_suffixes(text, suffix, len("tensor(")) + ")"


# isort: split
# the ops that run on quantized tensors, registered with Op's failure path
from ._quantized_ops import on_dequantized  # noqa: E402, F401
