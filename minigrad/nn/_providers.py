"""Finding names that the other files of ``minigrad.nn`` define (convolution, pooling,
attention, transformer blocks, adapters), so that ``nn.Conv2d`` and ``F.conv2d`` work without
this package importing every file up front.

A file's public names are its ``__all__``, or, without one, the names it defines itself.
"""

from __future__ import annotations

import importlib
import pkgutil

# The files of the module system, layers and functional: everything they define is imported
# explicitly by ``nn/__init__.py`` and ``nn/functional/__init__.py``.
_OWN = {"clip_grad", "containers", "functional", "init", "layers", "module", "parameter"}
_OWN |= {"hooks", "summary", "utils"}


def find(name: str, wanted) -> object:
    """The value of ``name`` in the first provider file that defines it and where
    ``wanted(value)`` holds; AttributeError if none does."""
    package = importlib.import_module("minigrad.nn")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name in _OWN:
            continue
        module = importlib.import_module(f"minigrad.nn.{info.name}")
        public = getattr(module, "__all__", None)
        if public is not None and name not in public:
            continue
        value = getattr(module, name, None)
        if value is None:
            continue
        if public is None and getattr(value, "__module__", None) != module.__name__:
            continue
        if wanted(value):
            return value
    raise AttributeError(name)
