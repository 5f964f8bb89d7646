"""torchvision's model registry: ``list_models``, ``get_model``, ``get_model_builder`` and
``get_model_weights``, so code that picks an architecture by name (``get_model("resnet50",
num_classes=10)``) runs. Builders join the registry through :func:`register_model`."""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Callable, Iterable
from types import ModuleType

__all__ = ["get_model", "get_model_builder", "get_model_weights", "list_models"]

BUILTIN_MODELS: dict[str, Callable] = {}


def register_model(weights: type[enum.Enum], name: str | None = None) -> Callable:
    """Decorator: record a builder under ``name`` (its function name by default) with its
    ``*_Weights`` enum."""

    def wrapper(fn: Callable) -> Callable:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        fn._weights_enum = weights
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def _patterns(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def list_models(
    module: ModuleType | None = None,
    include: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
) -> list[str]:
    """The sorted names of the registered models, of ``module`` only when given (the package
    holding the builders' files, e.g. ``torchvision.models``), kept when they match any
    ``include`` pattern (all when None) and dropped when they match any ``exclude`` pattern
    (``fnmatch`` wildcards)."""
    names = {
        key
        for key, fn in BUILTIN_MODELS.items()
        if module is None or fn.__module__.rsplit(".", 1)[0] == module.__spec__.name
    }
    chosen = names
    if include:
        chosen = set().union(*(fnmatch.filter(names, p) for p in _patterns(include)))
    if exclude:
        for pattern in _patterns(exclude):
            chosen = chosen - set(fnmatch.filter(names, pattern))
    return sorted(chosen)


def get_model_builder(name: str) -> Callable:
    """The builder registered under ``name`` (case-insensitive)."""
    try:
        return BUILTIN_MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name.lower()}") from None


def get_model(name: str, **config):
    """Build the model registered under ``name`` with keyword arguments ``config``."""
    return get_model_builder(name)(**config)


def get_model_weights(name: str | Callable) -> type[enum.Enum]:
    """The ``*_Weights`` enum of a model, by name or builder."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    weights = getattr(fn, "_weights_enum", None)
    if weights is None:
        raise ValueError("The method is missing the 'weights' argument.")
    return weights
