"""Architecture optimization, as ``torch.ao``: quantization (:mod:`.quantization`) and its
modules (:mod:`.nn`)."""

from . import nn, quantization

__all__ = ["nn", "quantization"]
