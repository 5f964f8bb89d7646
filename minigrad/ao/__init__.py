"""Architecture optimization, as ``torch.ao``: quantization (:mod:`.quantization`), its
modules (:mod:`.nn`) and the Numeric Suite (:mod:`.ns`)."""

from . import nn, ns, quantization

__all__ = ["nn", "ns", "quantization"]
