"""``minigrad.quantization.quantize_fx``: the older name of
:mod:`minigrad.ao.quantization.quantize_fx` (as ``torch.quantization.quantize_fx``)."""

from ..ao.quantization.quantize_fx import *  # noqa: F403
from ..ao.quantization.quantize_fx import __all__  # noqa: F401
