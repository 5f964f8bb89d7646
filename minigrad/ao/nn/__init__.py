"""Modules for quantization, as ``torch.ao.nn``: fused (:mod:`.intrinsic`), QAT (:mod:`.qat`)
and quantized (:mod:`.quantized`) layers."""

from . import intrinsic, qat, quantized
from .intrinsic import qat as _intrinsic_qat
from .intrinsic import quantized as _intrinsic_quantized

__all__ = ["intrinsic", "qat", "quantized"]
