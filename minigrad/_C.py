# ruff: noqa: N999 - PyTorch's module name (torch._C)
"""The names PyTorch programs reach through ``torch._C`` for the ``__torch_function__``
protocol (``torch._C.DisableTorchFunctionSubclass``, ``torch._C._disabled_torch_function_impl``);
minigrad has no C extension, and this module holds nothing else but ``Generator`` (whose repr
names this module, as PyTorch's does)."""

from ._torch_function import DisableTorchFunction, DisableTorchFunctionSubclass
from ._torch_function import disabled_torch_function_impl as _disabled_torch_function_impl
from .backend import Generator

__all__ = [
    "DisableTorchFunction",
    "Generator",
    "DisableTorchFunctionSubclass",
    "_disabled_torch_function_impl",
]
