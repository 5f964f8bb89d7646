"""Which module becomes which, as ``torch.ao.quantization.quantization_mappings``: float →
quantized (static), float → QAT, float → dynamically quantized."""

from __future__ import annotations

from ... import nn
from ..nn import intrinsic as nni
from ..nn import qat as nnqat
from ..nn import quantized as nnq
from ..nn.intrinsic import qat as nniqat
from ..nn.intrinsic import quantized as nniq
from ..nn.intrinsic.quantized import dynamic as nniqd
from ..nn.quantized import dynamic as nnqd
from .fake_quantize import (
    default_fixed_qparams_range_0to1_fake_quant,
    default_fixed_qparams_range_neg1to1_fake_quant,
)
from .stubs import DeQuantStub, QuantStub

DEFAULT_STATIC_QUANT_MODULE_MAPPINGS = {
    QuantStub: nnq.Quantize,
    DeQuantStub: nnq.DeQuantize,
    nn.Linear: nnq.Linear,
    nn.modules.linear.NonDynamicallyQuantizableLinear: nnq.Linear,
    nn.Conv1d: nnq.Conv1d,
    nn.Conv2d: nnq.Conv2d,
    nn.Conv3d: nnq.Conv3d,
    nn.ReLU6: nnq.ReLU6,
    nn.Dropout: nnq.Dropout,
    nn.Embedding: nnq.Embedding,
    nn.EmbeddingBag: nnq.EmbeddingBag,
    nnq.FloatFunctional: nnq.QFunctional,
    nn.BatchNorm2d: nnq.BatchNorm2d,
    nn.LayerNorm: nnq.LayerNorm,
    nn.GroupNorm: nnq.GroupNorm,
    nn.Hardswish: nnq.Hardswish,
    nn.ELU: nnq.ELU,
    nn.LeakyReLU: nnq.LeakyReLU,
    nn.InstanceNorm1d: nnq.InstanceNorm1d,
    nn.InstanceNorm2d: nnq.InstanceNorm2d,
    nn.InstanceNorm3d: nnq.InstanceNorm3d,
    nni.ConvReLU2d: nniq.ConvReLU2d,
    nni.LinearReLU: nniq.LinearReLU,
    nnqat.Linear: nnq.Linear,
    nnqat.Conv2d: nnq.Conv2d,
    nniqat.LinearReLU: nniq.LinearReLU,
    nniqat.ConvReLU2d: nniq.ConvReLU2d,
    nniqat.ConvBn2d: nnq.Conv2d,
    nniqat.ConvBnReLU2d: nniq.ConvReLU2d,
}
DEFAULT_QAT_MODULE_MAPPINGS = {
    nn.Linear: nnqat.Linear,
    nn.Conv2d: nnqat.Conv2d,
    nni.LinearReLU: nniqat.LinearReLU,
    nni.ConvReLU2d: nniqat.ConvReLU2d,
    nni.ConvBn2d: nniqat.ConvBn2d,
    nni.ConvBnReLU2d: nniqat.ConvBnReLU2d,
}
DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS = {
    nn.Linear: nnqd.Linear,
    nn.modules.linear.NonDynamicallyQuantizableLinear: nnqd.Linear,
    nni.LinearReLU: nniqd.LinearReLU,
    nn.Embedding: nnq.Embedding,
    nn.EmbeddingBag: nnq.EmbeddingBag,
    nn.LSTM: nnqd.LSTM,
    nn.GRU: nnqd.GRU,
    nn.LSTMCell: nnqd.LSTMCell,
    nn.GRUCell: nnqd.GRUCell,
    nn.RNNCell: nnqd.RNNCell,
}
# The fake-quantize prepare_qat attaches to these (in training mode) in place of the qconfig's
# activation one: their output range is fixed, so is its grid.
DEFAULT_MODULE_TO_ACT_POST_PROCESS = {
    nn.Hardsigmoid: default_fixed_qparams_range_0to1_fake_quant,
    nn.Sigmoid: default_fixed_qparams_range_0to1_fake_quant,
    nn.Softmax: default_fixed_qparams_range_0to1_fake_quant,
    nn.Tanh: default_fixed_qparams_range_neg1to1_fake_quant,
}
# Modules PyTorch maps that minigrad has no quantized form of yet: refused by name.
UNSUPPORTED = (
    nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
    nn.BatchNorm3d,
    nn.LSTM, nn.GRU, nn.LSTMCell, nn.GRUCell, nn.RNNCell,
    nn.PReLU,
    nni.ConvBn2d, nni.ConvBnReLU2d, nni.BNReLU2d,
)  # fmt: skip

# from_float checks the types it accepts
nnq.Linear._FLOAT_MODULE = (nn.Linear, nnqat.Linear)
nniq.LinearReLU._FLOAT_MODULE = (nniqat.LinearReLU, nni.LinearReLU)
nnq.Conv2d._FLOAT_MODULE = (nn.Conv2d, nnqat.Conv2d)  # (nniqat.ConvBn2d is a qat Conv2d)
nnq.Conv1d._FLOAT_MODULE, nnq.Conv3d._FLOAT_MODULE = (nn.Conv1d,), (nn.Conv3d,)
nniq.ConvReLU2d._FLOAT_MODULE = (nniqat.ConvReLU2d, nni.ConvReLU2d, nniqat.ConvBnReLU2d)
nnqd.Linear._FLOAT_MODULE = (nn.Linear, nni.LinearReLU)
nniqd.LinearReLU._FLOAT_MODULE = (nni.LinearReLU,)


def get_default_static_quant_module_mappings() -> dict:
    """A copy of the float → quantized module mapping ``convert`` uses."""
    return dict(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)


def get_default_qat_module_mappings() -> dict:
    """A copy of the float → QAT module mapping ``prepare_qat`` uses."""
    return dict(DEFAULT_QAT_MODULE_MAPPINGS)


def get_default_dynamic_quant_module_mappings() -> dict:
    """A copy of the float → dynamically quantized mapping ``quantize_dynamic`` uses."""
    return dict(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS)


def get_default_qconfig_propagation_list() -> set:
    """The module types that get a qconfig (and an observer) in eager-mode ``prepare``."""
    return (
        set(DEFAULT_STATIC_QUANT_MODULE_MAPPINGS)
        | set(DEFAULT_QAT_MODULE_MAPPINGS)
        | set(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS)
        | set(UNSUPPORTED)
    )


def _get_special_act_post_process(module):
    """The fixed-qparams fake-quantize constructor for ``module``'s type, or None."""
    return DEFAULT_MODULE_TO_ACT_POST_PROCESS.get(type(module))


def _has_special_act_post_process(module) -> bool:
    """Whether ``module`` gets a fixed-qparams fake-quantize: a training Hardsigmoid, Sigmoid,
    Softmax or Tanh (eval-mode ``prepare`` leaves them unobserved, as PyTorch's)."""
    return module.training and type(module) in DEFAULT_MODULE_TO_ACT_POST_PROCESS
