"""The older ``torch.library`` API on top of ``CustomOpDef``: ``define`` a schema, ``impl`` a
kernel per device type, and the ``Library`` object that groups both under one namespace."""

from __future__ import annotations

import weakref

from ._op import CustomOpDef, registry
from ._schema import parse_schema

# PyTorch's dispatch keys that mean "a kernel for every device" (None) or one device type
_KEYS = {
    "": None,
    "default": None,
    "CompositeExplicitAutograd": None,
    "CompositeImplicitAutograd": None,
    "cpu": "cpu",
    "CPU": "cpu",
    "cuda": "cuda",
    "CUDA": "cuda",
}


# namespaces held by a living Library(ns, "DEF"): PyTorch's one TORCH_LIBRARY block per namespace
_DEF_NAMESPACES: set[str] = set()


def fallthrough_kernel():
    """PyTorch's marker kernel that falls through to the next dispatch key (not supported)."""
    raise NotImplementedError("minigrad.library: fallthrough kernels are not supported")


def define(qualname, schema, *, lib=None, tags=()):
    """Declare operator ``qualname`` (``"mylib::foo"``) with ``schema`` (``"(Tensor x) ->
    Tensor"``) and no kernel yet; add kernels with :func:`impl`. Defining a name twice raises.

    Example:
        >>> minigrad.library.define("mylib::scale", "(Tensor x, float a) -> Tensor")
        >>> minigrad.library.impl("mylib::scale", "cpu", lambda x, a: x * a)
    """
    if isinstance(qualname, Library):  # PyTorch's older overload: define(lib, schema)
        return _define_in(qualname, schema)
    from . import _split_name

    namespace, name = _split_name(qualname)
    if qualname in registry:
        raise RuntimeError(
            f"Tried to register an operator ({qualname}{schema}) with the same name and "
            "overload name multiple times."
        )
    signature, mutated = parse_schema(schema)
    registry[qualname] = CustomOpDef(namespace, name, schema, signature, None, mutated, None)
    if lib is not None:
        lib._defined.append(qualname)


def impl(qualname, types, func=None, *, lib=None):
    """Register ``func`` as the kernel of ``qualname`` for the dispatch key(s) ``types``
    (``"cpu"``, ``"cuda"``, ``"CompositeExplicitAutograd"`` / ``"default"`` for every device,
    ``"Meta"`` for the fake impl); a decorator without ``func``."""
    if isinstance(qualname, Library):  # PyTorch's older overload: impl(lib, name, key="")
        return _impl_in(qualname, types, func or "")
    if func is None:
        return lambda f: impl(qualname, types, f, lib=lib)
    from . import _lookup

    op = _lookup(qualname, "impl")
    for key in [types] if isinstance(types, str) else list(types):
        if key == "Meta":
            op.register_fake(func)
        elif key in _KEYS:
            op.register_kernel(_KEYS[key], func)
        else:
            raise NotImplementedError(
                f"minigrad.library.impl: dispatch key {key!r} is not supported; use one of "
                f"{sorted(k for k in _KEYS if k)} or 'Meta' (autograd: register_autograd)"
            )
    return func


def _define_in(lib, schema: str):
    """``@define(lib, "name(Tensor x) -> Tensor")``: a decorator that defines the operator in
    ``lib``'s namespace with the decorated function as its kernel (under ``lib``'s key)."""

    def wrap(f):
        lib.impl(lib.define(schema), f)
        return f

    return wrap


def _impl_in(lib, name: str, dispatch_key: str):
    """``@impl(lib, "name", "CPU")``: a decorator registering the function as ``lib``'s kernel
    of ``name`` under ``dispatch_key``."""

    def wrap(f):
        lib.impl(name, f, dispatch_key)
        return f

    return wrap


class Library:
    """``Library(ns, kind)``: ``define`` schemas and ``impl`` kernels in namespace ``ns``.
    ``kind`` is ``"DEF"`` (the namespace must be new), ``"FRAGMENT"`` or ``"IMPL"``."""

    def __init__(self, ns: str, kind: str, dispatch_key: str = ""):
        if kind not in ("DEF", "IMPL", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind!r} (expected 'DEF', 'IMPL' or 'FRAGMENT')")
        if kind == "DEF" and ns in _DEF_NAMESPACES:
            raise RuntimeError(
                f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; use "
                "Library(ns, 'FRAGMENT') to add to it"
            )
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._defined: list[str] = []
        if kind == "DEF":  # the namespace is this object's while it lives (custom_op's are not)
            _DEF_NAMESPACES.add(ns)
            weakref.finalize(self, _DEF_NAMESPACES.discard, ns)

    def define(self, schema: str, alias_analysis: str = "", *, tags=()) -> str:
        """Declare ``"name(Tensor x) -> Tensor"`` in this namespace; returns ``name``."""
        if self.kind == "IMPL":
            raise RuntimeError(f"Library({self.ns!r}, 'IMPL') cannot define operators")
        name, paren, rest = schema.partition("(")
        define(f"{self.ns}::{name.strip()}", paren + rest, lib=self)
        return name.strip()

    def impl(self, op_name, fn, dispatch_key: str = "", *, with_keyset=False, allow_override=False):
        """Register kernel ``fn`` for ``op_name`` (in this namespace) under ``dispatch_key``."""
        if with_keyset:
            raise NotImplementedError("Library.impl(with_keyset=True): minigrad has no keysets")
        if isinstance(op_name, CustomOpDef):
            op_name = op_name._qualname
        qualname = op_name if "::" in op_name else f"{self.ns}::{op_name}"
        impl(qualname, dispatch_key or self.dispatch_key, fn)

    def fallback(self, fn, dispatch_key: str = "", *, with_keyset=False):
        raise NotImplementedError("Library.fallback: minigrad has no dispatcher fallbacks")

    def _destroy(self) -> None:
        for qualname in self._defined:
            registry.pop(qualname, None)
        self._defined.clear()
        if self.kind == "DEF":
            _DEF_NAMESPACES.discard(self.ns)

    def __repr__(self) -> str:
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})"
