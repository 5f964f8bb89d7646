"""``minigrad.nn``: modules, parameters, containers, layers, losses, ``init`` and ``functional``.

Layers that live in other files of this package (convolution and pooling, attention and
transformer blocks, adapters) are found here as well: a class name not defined below is looked
up, on first use, in those files (see ``_providers.py``).
"""

from __future__ import annotations

from . import _providers, functional, init, utils
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import *  # noqa: F403
from .layers import __all__ as _layer_names
from .module import Module, RemovableHandle
from .parameter import Buffer, Parameter
from .summary import ModelSummary, summary

__all__ = [
    "Buffer",
    "Module",
    "ModuleDict",
    "ModuleList",
    "ModelSummary",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "RemovableHandle",
    "Sequential",
    "functional",
    "init",
    "summary",
    "utils",
    *_layer_names,
]


def __getattr__(name: str):
    """Find ``nn.Conv2d``, ``nn.MultiheadAttention``, ... in the files that define them."""
    if name[:1].isupper():
        try:
            value = _providers.find(name, lambda v: isinstance(v, type))
        except AttributeError:
            pass
        else:
            globals()[name] = value
            return value
    raise AttributeError(f"module 'minigrad.nn' has no attribute '{name}'")
