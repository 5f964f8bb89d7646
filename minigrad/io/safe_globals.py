"""The allowlist of classes and functions that loading may rebuild (``weights_only=True``).

Loading a checkpoint never runs code from the file, but a file may name classes (a saved
``nn.Module``, an optimizer, a user's ``class Net``) and functions (an activation held by a
layer). A name is only turned into an object when it is allowed:

- minigrad's own classes (anything defined under ``minigrad.``) and the pure functions of
  ``minigrad.nn.functional`` and ``minigrad.ops``; a few builtin types (``dict``, ``list``,
  ``set``, ...) that optimizers use as ``defaultdict`` factories;
- what the caller allowlists with :func:`add_safe_globals` or the :func:`safe_globals`
  context manager, as with ``torch.serialization``.

Anything else is an :class:`pickle.UnpicklingError` (PyTorch raises the same type) that names
the global and says how to allow it. ``weights_only=False`` lifts the allowlist: any
importable name is then imported, for files you trust.
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import sys

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "global_name",
    "resolve",
    "safe_globals",
]

# name -> object, in the order they were added (a dict keeps it)
_allowed: dict[str, object] = {}
_BUILTIN_TYPES = {t.__name__: t for t in (dict, list, set, frozenset, tuple, int, float, bool, str)}
_FUNCTION_MODULES = ("minigrad.nn.functional", "minigrad.ops")
# Modules whose globals are refused even when allowlisted (PyTorch's ``_blocklisted_modules``):
# ``os.system`` pickles as ``posix.system``.
BLOCKED_MODULES = ("sys", "os", "posix", "nt")


def global_name(obj) -> tuple[str, str]:
    """``(module, qualname)`` of a class or function, as a file records it.

    Raises:
        TypeError: ``obj`` has no importable name (a lambda, a class or function defined
            inside a function).
    """
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        raise TypeError(
            f"{obj!r} has no importable name (lambdas and classes or functions defined inside "
            f"a function cannot be saved); define it at the top level of a module"
        )
    return module, qualname


def add_safe_globals(safe_globals: list) -> None:
    """Allow loading to rebuild these classes and functions (``torch.serialization`` API).

    Args:
        safe_globals: classes or functions, or ``(obj, "module.Name")`` pairs to register an
            object under another name (for a class saved from a module that has since moved).

    Example:
        >>> minigrad.serialization.add_safe_globals([Net])
        >>> model = minigrad.load("net.mg")
    """
    for entry in safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise TypeError(
                    f"add_safe_globals: expected a class/function or an (obj, 'module.Name') "
                    f"pair, got {entry!r}"
                )
            obj, name = entry
        else:
            obj, name = entry, ".".join(global_name(entry))
        _allowed[name] = obj


def get_safe_globals() -> list:
    """The classes and functions added with :func:`add_safe_globals` (in order)."""
    return [obj if _default_name(obj) == name else (obj, name) for name, obj in _allowed.items()]


def clear_safe_globals() -> None:
    """Forget every class and function added with :func:`add_safe_globals`."""
    _allowed.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """A context in which loading may also rebuild ``safe_globals`` (as ``torch.serialization``).

    Example:
        >>> with minigrad.serialization.safe_globals([Net]):
        ...     model = minigrad.load("net.mg")
    """
    before = dict(_allowed)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _allowed.clear()
        _allowed.update(before)


def _default_name(obj) -> str | None:
    try:
        return ".".join(global_name(obj))
    except TypeError:
        return None


def resolve(module: str, qualname: str, *, weights_only: bool = True, where: str = "the file"):
    """The object a file names as ``module.qualname``, if it is allowed.

    Raises:
        pickle.UnpicklingError: the name is neither minigrad's own nor allowlisted (with
            ``weights_only=True``), or it does not exist.
    """
    name = f"{module}.{qualname}"
    if weights_only and module in BLOCKED_MODULES:
        raise blocked(module, qualname, where)
    if name in _allowed:
        return _allowed[name]
    if module == "builtins" and qualname in _BUILTIN_TYPES:
        return _BUILTIN_TYPES[qualname]
    # Importing a __main__ module runs a program (minigrad/__main__.py runs the CLI): never.
    own = (module == "minigrad" or module.startswith("minigrad.")) and "__main__" not in module
    if own or not weights_only:
        obj = _import(module, qualname, where)
        if not weights_only:
            return obj
        # Only what is defined under that name, not something reached through it (np.load).
        defined = (getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)) == (
            module,
            qualname,
        )
        if defined and (isinstance(obj, type) or module.startswith(_FUNCTION_MODULES)):
            return obj
    raise pickle.UnpicklingError(
        f"Weights only load failed: {where} names the global {name}, which is not an allowed "
        f"global by default (minigrad builds only its own classes and the globals you allow). "
        f"If you trust it, allow it with minigrad.serialization.add_safe_globals([{qualname}]) "
        f"or the minigrad.serialization.safe_globals([{qualname}]) context manager, or pass "
        f"weights_only=False if you trust the whole file."
    )


def blocked(module: str, qualname: str, where: str) -> pickle.UnpicklingError:
    """The error for a global of a :data:`BLOCKED_MODULES` module, in PyTorch's words."""
    return pickle.UnpicklingError(
        f"Weights only load failed: {where} names a global of a blocked module. Trying to load "
        f"unsupported GLOBAL {module}.{qualname} whose module {module} is blocked."
    )


def _import(module: str, qualname: str, where: str):
    try:
        obj = sys.modules.get(module) or importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as e:
        raise pickle.UnpicklingError(
            f"{where} names the global {module}.{qualname}, which cannot be found here ({e})"
        ) from e
    return obj
