"""``unflatten``: an exported program as a module with the original module hierarchy."""

from __future__ import annotations

from ..fx import GraphModule
from .exported_program import ExportedProgram


def unflatten(module: ExportedProgram, flat_args_adapter=None) -> GraphModule:
    """The program as a module whose submodules sit at their original paths (PyTorch's
    ``torch.export.unflatten``): the program's ``module()`` (input checks included), which binds
    each lifted tensor at its original path and keeps the layers the graph calls whole, under
    PyTorch's class name, ``UnflattenedModule``. Unlike PyTorch's, the submodules are plain
    containers of their tensors (the graph is not split into per-module graphs).

    Example:
        >>> unflat = minigrad.export.unflatten(ep)
        >>> unflat.encoder.layers[0]  # the layers, where the original model had them
    """
    if not isinstance(module, ExportedProgram):
        raise TypeError(f"unflatten: expected an ExportedProgram, got {type(module).__name__}")
    if flat_args_adapter is not None:
        raise NotImplementedError("unflatten: flat_args_adapter is not supported in minigrad")
    return module.module(_class_name="UnflattenedModule")
