"""Quantized normalization and activation layers, as ``torch.ao.nn.quantized``'s: they take
a quantized tensor, compute the float layer on its values and quantize the result to their
own ``scale``/``zero_point`` (from the observer ``convert`` found on the float layer)."""

from __future__ import annotations

from .... import _quantized, _quantized_ops, dtypes, nn
from ....autograd.grad_mode import no_grad
from ....creation import tensor
from ....nn.modules.module import Module


class _FloatKernel:
    """Mixin: forward = quantize(float layer(dequantize(x))); ``from_float`` shares the float
    layer's parameters and buffers."""

    # PyTorch keeps the output qparams as buffers (saved in the state dict), except ELU's
    _BUFFERED = True

    def _set_qparams(self, scale, zero_point) -> None:
        """The output ``scale``/``zero_point``: 0-dim float32/int64 buffers, or plain numbers."""
        scale, zero_point = float(scale), int(zero_point)
        if not self._BUFFERED:
            self.scale, self.zero_point = scale, zero_point
            return
        self.register_buffer("scale", tensor(scale, dtype=dtypes.float32))
        self.register_buffer("zero_point", tensor(zero_point, dtype=dtypes.int64))

    def forward(self, input):
        with no_grad():
            out = super().forward(input.dequantize())
        qdtype = input.dtype if input.is_quantized else dtypes.quint8
        scale, zero_point = float(self.scale), int(self.zero_point)
        return _quantized.quantize_per_tensor(out, scale, zero_point, qdtype)

    def _get_name(self) -> str:
        return "Quantized" + type(self).__name__

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized layer of a prepared and calibrated float layer."""
        base = next(c for c in cls.__mro__[1:] if issubclass(c, Module) and c is not cls)
        if type(mod) is not base:
            raise AssertionError(
                f"quantized {cls.__name__}.from_float expects {base.__name__}, got "
                f"{type(mod).__name__}"
            )
        post = getattr(mod, "activation_post_process", None)
        if post is None:
            raise AssertionError(
                f"quantized {cls.__name__}.from_float: the module has no observer (run prepare "
                "and calibrate first)"
            )
        scale, zero_point = post.calculate_qparams()
        new = object.__new__(cls)
        new.__dict__.update(mod.__dict__)
        for name in ("_parameters", "_buffers", "_modules"):
            new.__dict__[name] = dict(mod.__dict__[name])
        new._modules.pop("activation_post_process", None)
        new.__dict__.pop("qconfig", None)
        new._set_qparams(scale.item(), zero_point.item())
        return new


def _set_affine(module, weight, bias) -> None:
    with no_grad():
        if weight is not None and module.weight is not None:
            module.weight.copy_(weight)
        if bias is not None and module.bias is not None:
            module.bias.copy_(bias)


class BatchNorm2d(_FloatKernel, nn.BatchNorm2d):
    """Quantized BatchNorm2d (inference: running statistics)."""

    def __init__(self, num_features, eps=1e-05, momentum=0.1, device=None, dtype=None):
        super().__init__(num_features, eps, momentum)
        self._set_qparams(1.0, 0)


class LayerNorm(_FloatKernel, nn.LayerNorm):
    """Quantized LayerNorm."""

    def __init__(
        self, normalized_shape, weight, bias, scale, zero_point, eps=1e-05,
        elementwise_affine=True, device=None, dtype=None,
    ):  # fmt: skip
        super().__init__(normalized_shape, eps, elementwise_affine)
        _set_affine(self, weight, bias)
        self._set_qparams(scale, zero_point)


class GroupNorm(_FloatKernel, nn.GroupNorm):
    """Quantized GroupNorm."""

    def __init__(
        self, num_groups, num_channels, weight, bias, scale, zero_point, eps=1e-05,
        affine=True, device=None, dtype=None,
    ):  # fmt: skip
        super().__init__(num_groups, num_channels, eps, affine)
        _set_affine(self, weight, bias)
        self._set_qparams(scale, zero_point)


class Hardswish(_FloatKernel, nn.Hardswish):
    """Quantized Hardswish."""

    def __init__(self, scale, zero_point, device=None, dtype=None):
        super().__init__()
        self._set_qparams(scale, zero_point)


class Sigmoid(nn.Sigmoid):
    """Quantized Sigmoid: PyTorch's quantized sigmoid kernel (float32 on the dequantized
    values), its result quantized to ``output_scale``/``output_zero_point`` (plain numbers,
    not buffers, as PyTorch's) in the input's dtype."""

    def __init__(self, output_scale: float, output_zero_point: int):
        super().__init__()
        self.output_scale, self.output_zero_point = output_scale, output_zero_point

    def forward(self, input):
        if not input.is_quantized:
            raise NotImplementedError(
                "quantized Sigmoid: the input must be a quantized tensor (quantize it first)"
            )
        scale, zero_point = float(self.output_scale), int(self.output_zero_point)
        return _quantized_ops.fixed_range("sigmoid", input, scale, zero_point)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized layer of a float Sigmoid whose observer has been calibrated."""
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(float(scale), int(zero_point))


class ELU(_FloatKernel, nn.ELU):
    """Quantized ELU."""

    _BUFFERED = False

    def __init__(self, scale, zero_point, alpha=1.0):
        super().__init__(alpha)
        self._set_qparams(scale, zero_point)


class LeakyReLU(_FloatKernel, nn.LeakyReLU):
    """Quantized LeakyReLU."""

    def __init__(self, scale, zero_point, negative_slope=0.01, inplace=False, device=None,
                 dtype=None):  # fmt: skip
        super().__init__(negative_slope, inplace)
        self._set_qparams(scale, zero_point)


class _InstanceNorm(_FloatKernel):
    def __init__(
        self, num_features, weight, bias, scale, zero_point, eps=1e-05, momentum=0.1,
        affine=False, track_running_stats=False, device=None, dtype=None,
    ):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats)
        _set_affine(self, weight, bias)
        self._set_qparams(scale, zero_point)


class InstanceNorm1d(_InstanceNorm, nn.InstanceNorm1d):
    """Quantized InstanceNorm1d."""


class InstanceNorm2d(_InstanceNorm, nn.InstanceNorm2d):
    """Quantized InstanceNorm2d."""


class InstanceNorm3d(_InstanceNorm, nn.InstanceNorm3d):
    """Quantized InstanceNorm3d."""
