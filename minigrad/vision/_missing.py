"""Module ``__getattr__`` for torchvision names minigrad.vision does not have yet."""

from __future__ import annotations

from .._unsupported import UnsupportedAttributeError


def missing_names(module: str, names: str, package=("minigrad.vision", "torchvision")):
    """A module ``__getattr__`` for ``module`` (``__name__``): the library's ``names`` that
    minigrad lacks raise ``NotImplementedError`` naming them; others an ``AttributeError``.
    ``package`` is (minigrad's package, the library it stands in for): torchvision by default,
    ``("minigrad.audio", "torchaudio")`` for the audio package."""
    missing = frozenset(names.split())
    public = module.replace(*package)

    def module_getattr(name: str):
        if name in missing:
            raise UnsupportedAttributeError(f"{public}.{name} is not implemented in {package[0]}")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return module_getattr
