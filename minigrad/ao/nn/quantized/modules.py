"""Quantized modules, as ``torch.ao.nn.quantized``: what ``convert`` swaps float layers for.
They take and return quantized tensors (quint8 activations, qint8 weights) and compute as
PyTorch's FBGEMM kernels do (see :mod:`.functional`)."""

from __future__ import annotations

from .... import _quantized, dtypes
from ....creation import tensor
from ....nn.modules.container import Sequential
from ....nn.modules.module import Module
from . import functional as qF

_PER_CHANNEL = (_quantized.per_channel_affine, _quantized.per_channel_symmetric)


def _ntuple(value, n: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _quantize_weight(weight, observer):
    """``weight`` quantized with the qparams ``observer`` chose (it has seen the weight)."""
    scale, zero_point = observer.calculate_qparams()
    if observer.qscheme is _quantized.per_channel_affine_float_qparams:
        return _quantized.quantize_per_channel(
            weight, scale.float(), zero_point.float(), observer.ch_axis, observer.dtype
        )
    if observer.qscheme in _PER_CHANNEL:
        return _quantized.quantize_per_channel(
            weight, scale.double(), zero_point.long(), observer.ch_axis, observer.dtype
        )
    if observer.qscheme in (_quantized.per_tensor_affine, _quantized.per_tensor_symmetric):
        return _quantized.quantize_per_tensor(
            weight, float(scale.item()), int(zero_point.item()), observer.dtype
        )
    raise NotImplementedError(f"quantizing weights with {observer.qscheme} is not supported")


def _zero_weight(shape):
    """The placeholder qint8 weight of a new layer: zeros (scale 1), made from integers
    directly (quantizing a float zeros tensor costs a pass over it; from_float replaces it)."""
    from ....creation import zeros

    return _quantized._make_per_tensor_quantized_tensor(zeros(*shape, dtype=dtypes.int8), 1.0, 0)


def _weight_and_activation(mod, cls_name, float_types, fused_type=None, precomputed=False):
    """The float layer inside ``mod``, its weight observer (run on the weight) and its output
    observer, for ``from_float``."""
    if not isinstance(mod, float_types):
        names = [t.__name__ for t in float_types]
        raise AssertionError(f"{cls_name}.from_float only works for {names}, got {type(mod)}")
    if not hasattr(mod, "qconfig") or mod.qconfig is None:
        raise AssertionError("Input float module must have qconfig defined")
    activation = getattr(mod, "activation_post_process", None)
    if activation is None:
        raise AssertionError(
            f"{cls_name}.from_float: the module has no activation_post_process (run "
            "minigrad.ao.quantization.prepare and calibrate first)"
        )
    weight_observer = getattr(mod, "weight_fake_quant", None)  # a QAT layer's
    if hasattr(mod, "fold_bn"):  # QAT conv-bn: the batch norm goes into the weights first
        mod.fold_bn()
    if isinstance(mod, Sequential):  # a fused float module: the layer is its first member
        mod = mod[0]
    if weight_observer is None:
        weight_observer = mod.qconfig.weight()
    if not precomputed:
        weight_observer(mod.weight.detach())
    if weight_observer.dtype is not dtypes.qint8:
        raise AssertionError(f"Weight observer must have dtype qint8, got {weight_observer.dtype}")
    return mod, _quantize_weight(mod.weight.detach().float(), weight_observer), activation


class _QuantizedState:
    """``state_dict`` entries of a quantized layer, in plain tensors minigrad's checkpoints
    hold: the weight's integers, scales, zero points and axis (-1 per tensor), the float bias,
    the output ``scale``/``zero_point``. (PyTorch packs them in its own objects instead, so
    the keys are minigrad's.)"""

    _KEYS = ("weight.int_repr", "weight.scale", "weight.zero_point", "weight.axis")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        record = self._weight._data
        per_channel = record.per_channel
        values = (
            self._weight.int_repr(),
            tensor(record.scale if per_channel else [record.scale], dtype=dtypes.float64),
            tensor(record.zero_point if per_channel else [record.zero_point]),
            tensor(record.axis if per_channel else -1),
        )
        for key, value in zip(self._KEYS, values):
            destination[prefix + key] = value
        if self._bias is not None:
            destination[prefix + "bias"] = self._bias
        destination[prefix + "scale"] = tensor(float(self.scale), dtype=dtypes.float64)
        destination[prefix + "zero_point"] = tensor(int(self.zero_point))

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)
        keys = [*self._KEYS, "scale", "zero_point"] + (["bias"] if self._bias is not None else [])
        absent = [prefix + k for k in keys if prefix + k not in state_dict]
        if absent:
            missing.extend(absent)
            return
        used.update(prefix + k for k in keys)
        ints, scale, zero_point, axis = (state_dict[prefix + k] for k in self._KEYS)
        if int(axis.item()) < 0:
            weight = _quantized._make_per_tensor_quantized_tensor(
                ints, scale.item(), int(zero_point.item())
            )
        else:
            weight = _quantized._make_per_channel_quantized_tensor(
                ints, scale, zero_point, int(axis.item())
            )
        if tuple(weight.shape) != tuple(self._weight.shape):
            errors.append(
                f"size mismatch for {prefix}weight: copying a weight of shape "
                f"{list(weight.shape)}, the shape in current model is {list(self._weight.shape)}."
            )
            return
        bias = state_dict.get(prefix + "bias")
        self.set_weight_bias(weight, None if bias is None else bias.detach().clone())
        self.scale = float(state_dict[prefix + "scale"].item())
        self.zero_point = int(state_dict[prefix + "zero_point"].item())


class Quantize(Module):
    """Quantizes its float input with fixed ``scale``/``zero_point`` (what a ``QuantStub``
    becomes)."""

    def __init__(self, scale, zero_point, dtype, factory_kwargs=None):
        super().__init__()
        self.register_buffer("scale", tensor([float(scale)]))
        self.register_buffer("zero_point", tensor([int(zero_point)]))
        self.dtype = dtype

    def forward(self, X):  # noqa: N803 - PyTorch's argument name
        return _quantized.quantize_per_tensor(
            X, self.scale.item(), int(self.zero_point.item()), self.dtype
        )

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        post = mod.activation_post_process
        scale, zero_point = post.calculate_qparams()
        return Quantize(scale.float().item(), int(zero_point.long().item()), post.dtype)

    def extra_repr(self) -> str:
        return f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}"


class DeQuantize(Module):
    """Turns a quantized tensor back into float32 (what a ``DeQuantStub`` becomes)."""

    def forward(self, Xq):  # noqa: N803 - PyTorch's argument name
        return Xq.dequantize()

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return DeQuantize()


class ReLU6(Module):
    """``min(max(x, 0), 6)`` on a quantized tensor, keeping its qparams."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return qF.relu6(input, self.inplace)

    def _get_name(self) -> str:
        return "QuantizedReLU6"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return ReLU6(mod.inplace)


class Linear(_QuantizedState, Module):
    """A quantized linear layer: quint8 input, qint8 weight, float bias, quint8 output with
    ``scale``/``zero_point``."""

    _FLOAT_MODULE = None  # (nn.Linear, nnqat.Linear), set in quantization_mappings
    _RELU = False

    def __init__(self, in_features, out_features, bias_=True, dtype=dtypes.qint8):
        super().__init__()
        if dtype is not dtypes.qint8:
            raise NotImplementedError(f"quantized Linear: weights must be qint8, got {dtype}")
        from ....creation import zeros

        self.in_features, self.out_features = in_features, out_features
        weight = _zero_weight((out_features, in_features))
        self.set_weight_bias(weight, zeros(out_features) if bias_ else None)
        self.scale, self.zero_point = 1.0, 0

    def _get_name(self) -> str:
        return "QuantizedLinear"

    def set_weight_bias(self, w, b) -> None:
        """Set the quantized weight and the float bias (or None)."""
        self._weight, self._bias = w, (None if b is None else b.detach().float())

    def weight(self):
        return self._weight

    def bias(self):
        return self._bias

    def forward(self, x):
        return qF.linear(x, self._weight, self._bias, self.scale, self.zero_point, relu=self._RELU)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"scale={self.scale}, zero_point={self.zero_point}, qscheme={self._weight.qscheme()}"
        )

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized layer of a prepared and calibrated float (or QAT) layer."""
        float_types = cls._FLOAT_MODULE
        fused = float_types[-1] if cls._RELU else None
        mod, qweight, post = _weight_and_activation(
            mod, cls.__name__, float_types, fused, use_precomputed_fake_quant
        )
        scale, zero_point = post.calculate_qparams()
        qlinear = cls(mod.in_features, mod.out_features)
        qlinear.set_weight_bias(qweight, mod.bias)
        qlinear.scale, qlinear.zero_point = float(scale.item()), int(zero_point.item())
        return qlinear


class Conv2d(_QuantizedState, Module):
    """A quantized 2-D convolution: quint8 input, qint8 weight (per tensor or per output
    channel), float bias, quint8 output with ``scale``/``zero_point``."""

    _FLOAT_MODULE = None  # set in quantization_mappings
    _RELU = False
    _DIMS = 2

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
        groups=1, bias=True, padding_mode="zeros", device=None, dtype=None,
    ):  # fmt: skip
        super().__init__()
        from ....creation import zeros

        if padding_mode != "zeros":
            raise NotImplementedError(
                f"quantized Conv2d: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        n = self._DIMS
        self.kernel_size, self.stride = _ntuple(kernel_size, n), _ntuple(stride, n)
        self.padding, self.dilation = _ntuple(padding, n), _ntuple(dilation, n)
        self.groups, self.padding_mode = groups, padding_mode
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        weight = _zero_weight(shape)
        self.set_weight_bias(weight, zeros(out_channels) if bias else None)
        self.scale, self.zero_point = 1.0, 0

    def _get_name(self) -> str:
        return f"QuantizedConv{self._DIMS}d"

    set_weight_bias, weight, bias = Linear.set_weight_bias, Linear.weight, Linear.bias

    def forward(self, input):
        if input.ndim != self._DIMS + 2:
            raise ValueError(f"Input shape must be `(N, C, {', '.join('DHW'[3 - self._DIMS :])})`!")
        conv = (qF.conv1d, qF.conv2d, qF.conv3d)[self._DIMS - 1]
        return conv(
            input, self._weight, self._bias, self.stride, self.padding, self.dilation,
            self.groups, self.padding_mode, self.scale, self.zero_point, relu=self._RELU,
        )  # fmt: skip

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, scale={self.scale}, zero_point={self.zero_point}"
        )
        if any(self.padding):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self._bias is None:
            text += ", bias=False"
        return text

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized convolution of a prepared and calibrated float (or QAT) conv."""
        float_types = cls._FLOAT_MODULE
        fused = float_types[-1] if cls._RELU else None
        mod, qweight, post = _weight_and_activation(
            mod, cls.__name__, float_types, fused, use_precomputed_fake_quant
        )
        scale, zero_point = post.calculate_qparams()
        qconv = cls(
            mod.in_channels, mod.out_channels, mod.kernel_size, mod.stride, mod.padding,
            mod.dilation, mod.groups, mod.bias is not None, mod.padding_mode,
        )  # fmt: skip
        qconv.set_weight_bias(qweight, mod.bias)
        qconv.scale, qconv.zero_point = float(scale.item()), int(zero_point.item())
        return qconv


class Dropout(Module):
    """Dropout of a converted (inference) model: the identity on quantized tensors."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return input

    def _get_name(self) -> str:
        return "QuantizedDropout"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        return Dropout(mod.p, mod.inplace)


class Conv1d(Conv2d):
    """A quantized 1-D convolution (as :class:`Conv2d`, on (N, C, L) inputs)."""

    _DIMS = 1


class Conv3d(Conv2d):
    """A quantized 3-D convolution (as :class:`Conv2d`, on (N, C, D, H, W) inputs)."""

    _DIMS = 3
