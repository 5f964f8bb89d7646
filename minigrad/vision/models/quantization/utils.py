"""The helpers torchvision's quantizable models share (``torchvision.models.quantization.
utils``): ReLU6 → ReLU swaps, fusing in train (QAT) or eval mode, and ``quantize_model``, the
builders' ``quantize=True`` path (post-training static quantization calibrated on one random
image, no weights needed)."""

from __future__ import annotations

import minigrad
from minigrad import nn
from minigrad.ao import quantization as tq

from .._weights import check_no_weights

__all__ = ["quantize_model"]


class _Stubbed:
    """Mixin of the quantizable classification models: a QuantStub before and a DeQuantStub
    after the base model's ``_forward_impl``, made after the base's ``__init__`` (so the
    modules and state-dict keys come in torchvision's order)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quant = tq.QuantStub()
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self._forward_impl(self.quant(x)))


def _replace_relu(module: nn.Module) -> None:
    """Every ``ReLU``/``ReLU6`` (exact types) becomes a fresh ``ReLU(inplace=False)``: fusion
    patterns know ReLU only, and one ReLU module shared by several layers cannot fuse."""
    reassign = {}
    for name, mod in module.named_children():
        _replace_relu(mod)
        if type(mod) is nn.ReLU or type(mod) is nn.ReLU6:
            reassign[name] = nn.ReLU(inplace=False)
    for key, value in reassign.items():
        module._modules[key] = value


def quantize_model(model: nn.Module, backend: str) -> None:
    """Quantize ``model`` in place as torchvision does: the backend's qconfig (per-channel
    weights for fbgemm, per-tensor for qnnpack), ``fuse_model``, ``prepare``, one forward of a
    random 1×3×299×299 image to calibrate, ``convert``."""
    dummy = minigrad.rand(1, 3, 299, 299)
    if backend not in minigrad.backends.quantized.supported_engines:
        raise RuntimeError("Quantized backend not supported ")
    minigrad.backends.quantized.engine = backend
    model.eval()
    if backend == "fbgemm":
        model.qconfig = tq.QConfig(
            activation=tq.default_observer, weight=tq.default_per_channel_weight_observer
        )
    elif backend == "qnnpack":
        model.qconfig = tq.QConfig(
            activation=tq.default_observer, weight=tq.default_weight_observer
        )
    model.fuse_model()
    tq.prepare(model, inplace=True)
    model(dummy)
    tq.convert(model, inplace=True)


def _quantizable(name: str, weights, quantize: bool, kwargs: dict, build):
    """The shared tail of the quantizable builders: refuse weights (as every builder), pop
    ``progress`` and ``backend`` (default fbgemm), build, swap ReLUs, quantize when asked."""
    check_no_weights(f"quantization.{name}", weights, kwargs)
    kwargs.pop("progress", None)
    backend = kwargs.pop("backend", "fbgemm")
    model = build(**kwargs)
    _replace_relu(model)
    if quantize:
        quantize_model(model, backend)
    return model


def _fuse_modules(model: nn.Module, modules_to_fuse, is_qat: bool | None, **kwargs):
    """``fuse_modules_qat`` when ``is_qat`` (default: the model is training), else
    ``fuse_modules``."""
    if is_qat is None:
        is_qat = model.training
    method = tq.fuse_modules_qat if is_qat else tq.fuse_modules
    return method(model, modules_to_fuse, **kwargs)
