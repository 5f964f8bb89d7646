"""The allowlist of classes and functions that loading may rebuild (``weights_only=True``).

Loading a checkpoint never runs code from the file, but a file may name classes (a saved
``nn.Module``, an optimizer, a user's ``class Net``) and functions (an activation held by a
layer). With ``weights_only=True`` (the default) a name is only turned into an object when it
is allowed, as in ``torch.load``:

- PyTorch's default allowlist (``torch._weights_only_unpickler._get_allowed_globals``) in
  minigrad's names: tensors and ``nn.Parameter``, layouts and memory formats, ``OrderedDict``,
  ``Counter``, ``set``, ``complex`` and ``bytearray``; dtypes, devices, plain containers and
  scalars need no name. A whole ``nn.Module`` or optimizer, a ``defaultdict``, a ``frozenset``,
  a function or a NumPy array is refused, as PyTorch refuses it;
- what the caller allowlists with :func:`add_safe_globals` or the :func:`safe_globals`
  context manager, as with ``torch.serialization``.

Anything else is a :class:`pickle.UnpicklingError` in PyTorch's words ("Weights only load
failed ... Unsupported global: GLOBAL minigrad.nn.modules.linear.Linear was not an allowed
global by default"). ``weights_only=False`` lifts the allowlist: any importable name is then
imported, for files you trust.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import importlib
import pickle
import sys

from .._public_name import public_path, shown

__all__ = [
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "global_name",
    "is_allowed",
    "require",
    "resolve",
    "safe_globals",
    "unsupported",
]

# name -> object, in the order they were added (a dict keeps it)
_allowed: dict[str, object] = {}
# Modules whose globals are refused even when allowlisted (PyTorch's ``_blocklisted_modules``):
# ``os.system`` pickles as ``posix.system``.
BLOCKED_MODULES = ("sys", "os", "posix", "nt")


@functools.cache
def _defaults() -> dict[str, object]:
    """PyTorch's default allowlist, in minigrad's names (built on first use: it imports nn)."""
    from .._memory_format import layout, memory_format
    from ..nn.parameter import Parameter
    from ..tensor import Tensor

    objs = (Tensor, Parameter, layout, memory_format, collections.OrderedDict)
    objs += (collections.Counter, set, complex, bytearray)
    return {".".join(global_name(obj)): obj for obj in objs}


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


def is_allowed(name: str) -> bool:
    """True if ``weights_only`` loading may build the global ``module.qualname`` ``name``."""
    return name in _allowed or name in _defaults()


def resolve(module: str, qualname: str, *, weights_only: bool = True, where: str = "the file"):
    """The object a file names as ``module.qualname``, if it is allowed.

    Raises:
        pickle.UnpicklingError: with ``weights_only=True``, the name is neither in PyTorch's
            default allowlist nor allowlisted by the caller (PyTorch's message); or the name
            does not exist.
    """
    name = f"{module}.{qualname}"
    if weights_only and module in BLOCKED_MODULES:
        raise blocked(module, qualname, where)
    obj = _allowed.get(name) or _defaults().get(name)
    if obj is not None:
        return obj
    if weights_only:
        raise unsupported(module, qualname)
    # Importing a __main__ module runs a program (minigrad/__main__.py runs the CLI): never.
    if module.endswith(".__main__"):
        raise pickle.UnpicklingError(f"{where} names the global {name}, of a program's __main__")
    return _import(module, qualname, where)


def require(module: str, qualname: str, weights_only: bool) -> None:
    """Refuse, as :func:`resolve` does, a global the file implies without naming an object to
    build (a ``defaultdict`` or ``frozenset`` container, a NumPy array's rebuilders)."""
    if weights_only and not is_allowed(f"{module}.{qualname}"):
        raise unsupported(module, qualname)


def unsupported(module: str, qualname: str) -> pickle.UnpicklingError:
    """PyTorch's ``weights_only`` error for a global outside the allowlist, in the names the
    program uses (``torch.`` under :mod:`minigrad.as_torch`)."""
    top = shown()
    path = qualname if module == "builtins" else public_path(f"{module}.{qualname}")
    return pickle.UnpicklingError(
        f"Weights only load failed. This file can still be loaded, to do so you have two "
        f"options, do those steps only if you trust the source of the checkpoint. \n\t(1) "
        f"Re-running `{top}.load` with `weights_only` set to `False` will likely succeed, but it "
        f"can result in arbitrary code execution. Do it only if you got the file from a trusted "
        f"source.\n\t(2) Alternatively, to load with `weights_only=True` please check the "
        f"recommended steps in the following error message.\n\tWeightsUnpickler error: "
        f"Unsupported global: GLOBAL {path} was not an allowed global by default. Please use "
        f"`{top}.serialization.add_safe_globals([{path}])` or the "
        f"`{top}.serialization.safe_globals([{path}])` context manager to allowlist this global "
        f"if you trust this class/function.\n\nCheck the documentation of {top}.load to learn "
        f"more about types accepted by default with weights_only."
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
