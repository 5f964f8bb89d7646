"""``minigrad.export``: whole-module capture into an :class:`ExportedProgram`, built on
minigrad.fx (PyTorch's ``torch.export``).

Example:
    >>> ep = minigrad.export.export(model, (x,))
    >>> print(ep)                        # code and graph signature
    >>> minigrad.export.save(ep, "model.mgexport")
    >>> minigrad.export.load("model.mgexport").module()(x)
"""

from ._export import Dim, export
from ._serialize import load, save
from ._unflatten import unflatten
from .exported_program import ExportedProgram
from .graph_signature import (
    ConstantArgument,
    ExportGraphSignature,
    InputKind,
    InputSpec,
    OutputKind,
    OutputSpec,
    TensorArgument,
)

__all__ = [
    "export", "Dim", "ExportedProgram", "save", "load", "ExportGraphSignature", "InputKind",
    "InputSpec", "OutputKind", "OutputSpec", "TensorArgument", "ConstantArgument", "unflatten",
]  # fmt: skip
