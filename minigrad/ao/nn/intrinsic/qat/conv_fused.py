"""Conv + batch norm for quantization-aware training, as ``torch.ao.nn.intrinsic.qat``'s
``ConvBn2d``/``ConvBnReLU2d``: the batch norm's scale is folded into the weight before fake
quantization (so training sees the weights inference will use), and divided out again after
the convolution, where the batch norm itself runs (PyTorch's one-pass approximation)."""

from __future__ import annotations

import math

from .....creation import empty, zeros
from .....nn import functional as F
from .....nn import init
from .....nn.modules.batchnorm import BatchNorm2d
from .....nn.parameter import Parameter
from .....nn.utils.fusion import fuse_conv_bn_weights
from ....nn.qat.modules import Conv2d as _QATConv2d
from ..modules import ConvBn2d as _FloatConvBn2d
from ..modules import ConvBnReLU2d as _FloatConvBnReLU2d


class ConvBn2d(_QATConv2d):
    """QAT Conv2d with its BatchNorm2d (``self.bn``) folded in for fake quantization."""

    _FLOAT_MODULE = _FloatConvBn2d
    _FUSED = True  # converted as one unit (PyTorch's are _FusedModule subclasses)

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
        groups=1, bias=None, padding_mode="zeros", eps=1e-05, momentum=0.1, freeze_bn=False,
        qconfig=None,
    ):  # fmt: skip
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
            False, padding_mode, qconfig=qconfig,
        )  # fmt: skip
        self.bn = BatchNorm2d(out_channels, eps, momentum, True, True)
        if "weight_fake_quant" in self._modules:  # PyTorch's child order: bn first (printing)
            self._modules["weight_fake_quant"] = self._modules.pop("weight_fake_quant")
        if bias:
            self.bias = Parameter(empty(out_channels))
        self.reset_bn_parameters()
        self.freeze_bn = freeze_bn if self.training else True
        if self.training and not freeze_bn:
            self.update_bn_stats()
        else:
            self.freeze_bn_stats()

    def reset_bn_parameters(self):
        """PyTorch's draws, in its order (the conv's weight was drawn first, without a bias): the
        batch norm's weight uniform in [0, 1), then the conv's bias uniform in +-1/sqrt(fan_in),
        so that a model prepared for QAT draws what PyTorch's draws and later numbers match."""
        self.bn.reset_running_stats()
        init.uniform_(self.bn.weight)
        init.zeros_(self.bn.bias)
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def update_bn_stats(self):
        """Let the batch norm update its running statistics while training."""
        self.freeze_bn = False
        self.bn.training = True
        return self

    def freeze_bn_stats(self):
        """Keep the batch norm's running statistics fixed (it normalizes with them)."""
        self.freeze_bn = True
        self.bn.training = False
        return self

    def train(self, mode: bool = True):
        self.training = mode
        if not self.freeze_bn:
            for module in self.children():
                module.train(mode)
        return self

    def _forward(self, input):
        running_std = (self.bn.running_var + self.bn.eps).sqrt()
        scale_factor = self.bn.weight / running_std
        weight_shape = [-1] + [1] * (self.weight.ndim - 1)
        bias_shape = [1, -1] + [1] * (self.weight.ndim - 2)
        scaled = self.weight_fake_quant(self.weight * scale_factor.reshape(weight_shape))
        zero_bias = zeros(self.out_channels, dtype=input.dtype, device=input.device)
        conv = self._conv_forward(input, scaled, zero_bias)
        conv = conv / scale_factor.reshape(bias_shape)
        if self.bias is not None:
            conv = conv + self.bias.reshape(bias_shape)
        return self.bn(conv)

    def forward(self, input):
        return self._forward(input)

    def fold_bn(self) -> None:
        """Fold the batch norm's statistics into ``weight`` and ``bias`` (before convert)."""
        bn = self.bn
        self.weight, self.bias = fuse_conv_bn_weights(
            self.weight, self.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
        )

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT module of a fused float ``ConvBn2d`` (sharing its tensors)."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(
                f"qat.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}"
            )
        if not getattr(mod, "qconfig", None):
            raise AssertionError("Input float module must have a valid qconfig")
        conv, bn = mod[0], mod[1]
        qat = cls(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
            conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode, bn.eps,
            bn.momentum, False, mod.qconfig,
        )  # fmt: skip
        qat.weight, qat.bias = conv.weight, conv.bias
        qat.bn.weight, qat.bn.bias = bn.weight, bn.bias
        qat.bn.running_mean, qat.bn.running_var = bn.running_mean, bn.running_var
        qat.bn.num_batches_tracked = bn.num_batches_tracked
        return qat


class ConvBnReLU2d(ConvBn2d):
    """:class:`ConvBn2d` followed by ReLU."""

    _FLOAT_MODULE = _FloatConvBnReLU2d

    def forward(self, input):
        return F.relu(self._forward(input))


def freeze_bn_stats(mod) -> None:
    """For ``model.apply``: fix the running statistics of QAT conv-bn modules."""
    if type(mod) in (ConvBn2d, ConvBnReLU2d):
        mod.freeze_bn_stats()


def update_bn_stats(mod) -> None:
    """For ``model.apply``: let QAT conv-bn modules update their running statistics."""
    if type(mod) in (ConvBn2d, ConvBnReLU2d):
        mod.update_bn_stats()
