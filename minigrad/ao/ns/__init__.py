"""Numeric Suite, as ``torch.ao.ns``: comparing a float model with its quantized version
(:mod:`._numeric_suite` for eager mode; :mod:`.fx.utils` for the error measures)."""

from . import _numeric_suite, fx

__all__ = ["_numeric_suite", "fx"]
