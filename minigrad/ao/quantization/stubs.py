"""Markers of where quantization starts and ends in an eager-mode model, as
``torch.ao.quantization.stubs``: identities until ``convert`` swaps them for
``Quantize``/``DeQuantize``."""

from __future__ import annotations

from ...nn.modules.module import Module


class QuantStub(Module):
    """Where float values become quantized: an observer is attached by ``prepare``; ``convert``
    makes it a ``Quantize`` with the observed qparams."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class DeQuantStub(Module):
    """Where quantized values become float again (``convert`` makes it a ``DeQuantize``)."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class QuantWrapper(Module):
    """``module`` between a QuantStub and a DeQuantStub (its qconfig on all three)."""

    def __init__(self, module):
        super().__init__()
        qconfig = getattr(module, "qconfig", None)
        self.add_module("quant", QuantStub(qconfig))
        self.add_module("dequant", DeQuantStub(qconfig))
        self.add_module("module", module)
        self.train(module.training)

    def forward(self, X):  # noqa: N803 - PyTorch's argument name
        return self.dequant(self.module(self.quant(X)))
