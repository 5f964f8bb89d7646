"""``minigrad.quantization``: the older name of :mod:`minigrad.ao.quantization` (PyTorch keeps
``torch.quantization`` as an alias); the same objects under both names."""

import sys as _sys

from ..ao.quantization import *  # noqa: F403
from ..ao.quantization import (
    __all__,
    fake_quantize,
    fuse_modules,
    observer,
    qconfig,
    quantization_mappings,
    quantize,
    stubs,
)

for _name in ("fake_quantize", "observer", "qconfig", "quantization_mappings", "stubs"):
    _sys.modules[f"{__name__}.{_name}"] = _sys.modules[f"minigrad.ao.quantization.{_name}"]
