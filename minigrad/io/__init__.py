"""Reading and writing tensors and objects: minigrad's own checkpoint format."""

from .checkpoint import load, save

__all__ = ["load", "save"]
