"""Module ``__getattr__`` for torchvision names minigrad.vision does not have yet."""

from __future__ import annotations

from .._unsupported import UnsupportedAttributeError


def missing_names(module: str, names: str):
    """A module ``__getattr__`` for ``module`` (``__name__``): torchvision's ``names`` that
    minigrad lacks raise ``NotImplementedError`` naming them; others an ``AttributeError``."""
    missing = frozenset(names.split())
    public = module.replace("minigrad.vision", "torchvision")

    def module_getattr(name: str):
        if name in missing:
            raise UnsupportedAttributeError(
                f"{public}.{name} is not implemented in minigrad.vision"
            )
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return module_getattr
