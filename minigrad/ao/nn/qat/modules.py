"""Modules for quantization-aware training, as ``torch.ao.nn.qat``: float layers whose weight
passes through a fake-quantize module (``qconfig.weight()``) in every forward."""

from __future__ import annotations

from ....nn import functional as F
from ....nn.modules.conv import Conv2d as _Conv2d
from ....nn.modules.linear import Linear as _Linear


def _check_float(cls, mod):
    if type(mod) is not cls._FLOAT_MODULE:
        raise AssertionError(
            f"qat.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}, got "
            f"{type(mod).__name__}"
        )
    if getattr(mod, "qconfig", None) is None:
        raise AssertionError("Input float module must have a valid qconfig")


class Linear(_Linear):
    """Linear with fake-quantized weights: ``F.linear(x, weight_fake_quant(weight), bias)``."""

    _FLOAT_MODULE = _Linear

    def __init__(self, in_features, out_features, bias=True, qconfig=None, device=None,
                 dtype=None):  # fmt: skip
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        if qconfig is None:
            raise AssertionError("qconfig must be provided for QAT module")
        self.qconfig = qconfig
        self.weight_fake_quant = qconfig.weight()

    def forward(self, input):
        return F.linear(input, self.weight_fake_quant(self.weight), self.bias)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT layer sharing ``mod``'s parameters (``mod`` carries a qconfig)."""
        if type(mod).__name__ == "LinearReLU" and cls._FLOAT_MODULE is not _Linear:
            mod_linear = mod[0]
        else:
            _check_float(cls, mod)
            mod_linear = mod
        qat = cls(mod_linear.in_features, mod_linear.out_features, mod_linear.bias is not None,
                  qconfig=mod.qconfig)  # fmt: skip
        qat.weight, qat.bias = mod_linear.weight, mod_linear.bias
        return qat

    def to_float(self):
        """A plain Linear with this layer's parameters."""
        linear = _Linear(self.in_features, self.out_features, self.bias is not None)
        linear.weight, linear.bias = self.weight, self.bias
        return linear


class Conv2d(_Conv2d):
    """Conv2d with fake-quantized weights."""

    _FLOAT_MODULE = _Conv2d

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
        groups=1, bias=True, padding_mode="zeros", qconfig=None, device=None, dtype=None,
    ):  # fmt: skip
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device=device, dtype=dtype,
        )  # fmt: skip
        if qconfig is None:
            raise AssertionError("qconfig must be provided for QAT module")
        self.qconfig = qconfig
        self.weight_fake_quant = qconfig.weight()

    def forward(self, input):
        return self._conv_forward(input, self.weight_fake_quant(self.weight), self.bias)

    def _conv_forward(self, input, weight, bias):
        self._check_input(input)
        input, padding = self._padded(input)
        return F.conv2d(input, weight, bias, self.stride, padding, self.dilation, self.groups)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT convolution sharing ``mod``'s parameters."""
        if type(mod).__name__ == "ConvReLU2d" and cls._FLOAT_MODULE is not _Conv2d:
            conv = mod[0]
        else:
            _check_float(cls, mod)
            conv = mod
        qat = cls(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode,
            qconfig=mod.qconfig,
        )  # fmt: skip
        qat.weight, qat.bias = conv.weight, conv.bias
        return qat

    def to_float(self):
        """A plain Conv2d with this layer's parameters."""
        conv = _Conv2d(
            self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
            self.dilation, self.groups, self.bias is not None, self.padding_mode,
        )  # fmt: skip
        conv.weight, conv.bias = self.weight, self.bias
        return conv
