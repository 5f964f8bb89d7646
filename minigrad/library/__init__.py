"""``minigrad.library``, as ``torch.library``: define custom operators (``custom_op``), give
them device kernels, an autograd formula and a fake impl, call them as
``minigrad.ops.<namespace>.<name>``, and check them with ``opcheck``.

``minigrad.ops`` is minigrad's package of built-in primitives; a module ``__getattr__`` there
looks a missing attribute up among the namespaces registered here, so ``minigrad.ops.mylib.foo``
works as ``torch.ops.mylib.foo`` while every built-in name keeps priority (no attribute is
ever set on the package). ``minigrad.library.ops.<namespace>`` reaches a namespace always, even
one named like a ``minigrad.ops`` module."""

from __future__ import annotations

import inspect

from ._legacy import Library, define, fallthrough_kernel, impl
from ._op import _UNSUPPORTED, CustomOpDef, registry
from ._opcheck import OpCheckError, opcheck
from ._schema import infer_schema, parse_schema

__all__ = [
    "CustomOpDef",
    "Library",
    "OpCheckError",
    "custom_op",
    "define",
    "fallthrough_kernel",
    "get_kernel",
    "impl",
    "infer_schema",
    "opcheck",
    "ops",
    "register_autocast",
    "register_autograd",
    "register_fake",
    "register_kernel",
]


def get_kernel(op, dispatch_key):
    """``torch.library.get_kernel``: the kernel an operator runs for one dispatch key.

    Raises:
        NotImplementedError: always; minigrad has no dispatcher (an op is one Python
            function per device, with no dispatch keys or keysets), so there is no per-key
            kernel to return (as ``Library.impl(with_keyset=True)``).
    """
    raise NotImplementedError(
        f"get_kernel({op!r}, {dispatch_key!r}): minigrad has no dispatcher, so no per-dispatch-"
        f"key kernels; call the operator itself (a custom op's kernels: register_kernel)"
    )


def _split_name(qualname) -> tuple[str, str]:
    if not isinstance(qualname, str) or qualname.count("::") != 1:
        raise ValueError(
            f"custom_op: expected a name of the form 'namespace::opname' (e.g. 'mylib::foo'), "
            f"got {qualname!r}"
        )
    namespace, name = qualname.split("::")
    base = name.split(".", 1)[0]
    if not (namespace.isidentifier() and base.isidentifier()):
        raise RuntimeError(
            f"custom_op: namespace and operator name must be Python identifiers, got {qualname!r}"
        )
    return namespace, name


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None):
    """Wrap a Python function as an operator ``namespace::opname``, as ``torch.library.custom_op``.

    Args:
        name: ``"mylib::foo"``; the op is also ``minigrad.ops.mylib.foo``.
        fn: the implementation; without it, ``custom_op`` returns a decorator.
        mutates_args: names of the Tensor arguments ``fn`` writes in place (``()`` for none, or
            ``"unknown"``). As in PyTorch it is not checked at call time; ``opcheck`` checks it.
        device_types: the device type(s) ``fn`` serves (``"cpu"``, ``"cuda"``); None for all.
        schema: the schema string; None infers it from ``fn``'s type annotations.

    Returns:
        A :class:`CustomOpDef`. Defining a name again replaces the earlier op, as PyTorch does.

    Example:
        >>> @minigrad.library.custom_op("mylib::mysin", mutates_args=())
        ... def mysin(x: Tensor) -> Tensor:
        ...     return minigrad.from_numpy(np.sin(x.numpy()))
        >>> mysin(minigrad.tensor([0.0]))
        tensor([0.])
    """

    def wrap(func):
        namespace, opname = _split_name(name)
        text = schema if schema is not None else infer_schema(func, mutates_args=mutates_args)
        if mutates_args == "unknown":
            mutated = tuple(parse_schema(text)[1])
        else:
            mutated = tuple(mutates_args)
        kinds = [device_types] if isinstance(device_types, str) else device_types
        op = CustomOpDef(namespace, opname, text, inspect.signature(func), func, mutated, kinds)
        registry[op._qualname] = op
        return op

    return wrap if fn is None else wrap(fn)


def _lookup(op, who: str, missing=RuntimeError) -> CustomOpDef:
    """The operator ``op`` names (an op, ``ops.<ns>.<name>``, or ``"ns::name"``); a name not
    defined raises ``missing``: AttributeError where PyTorch looks it up in ``torch.ops``."""
    if isinstance(op, CustomOpDef):
        return op
    if isinstance(op, _OpPacket):
        return op._op
    if isinstance(op, str):
        namespace, name = _split_name(op)
        if op in registry:
            return registry[op]
        if missing is AttributeError:
            raise AttributeError(f"'_OpNamespace' '{namespace}' object has no attribute '{name}'")
        raise RuntimeError(
            f"{who}: no operator {op!r}; define it first with minigrad.library.custom_op or "
            "minigrad.library.define"
        )
    raise TypeError(f"{who}: expected an operator or its 'namespace::name', got {type(op)}")


def register_autograd(op, backward, /, *, setup_context=None, lib=None) -> None:
    """``op.register_autograd(backward, setup_context=...)`` for an op or its name."""
    target = _lookup(op, "register_autograd", AttributeError)
    target.register_autograd(backward, setup_context=setup_context)


def register_autocast(op, device_type, cast_inputs, /, *, lib=None) -> None:
    """``op.register_autocast(device_type, cast_inputs)`` for an op or its name: inside an
    autocast region of ``device_type`` the op gets its floating inputs in ``cast_inputs`` and
    runs with autocast off."""
    _lookup(op, "register_autocast", AttributeError).register_autocast(device_type, cast_inputs)


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1, allow_override=True):
    """``op.register_fake(func)`` for an op or its name; a decorator without ``func``. A second
    registration replaces the first (PyTorch 2.13 does not raise either, even with
    ``allow_override=False``)."""
    target = _lookup(op, "register_fake")
    if func is None:
        return target.register_fake
    return target.register_fake(func)  # replaces an earlier one, as in PyTorch 2.13


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """``op.register_kernel(device_types, func)`` for an op or its name; a decorator without
    ``func``."""
    return _lookup(op, "register_kernel").register_kernel(device_types, func)


class _OpPacket:
    """``minigrad.ops.mylib.foo``: calls the op; ``.default`` is the op itself."""

    def __init__(self, op: CustomOpDef):
        self._op = op

    def __call__(self, *args, **kwargs):
        return self._op(*args, **kwargs)

    @property
    def default(self) -> _OpPacket:
        return self

    def overloads(self) -> list[str]:
        return ["default"]

    def __str__(self) -> str:
        return f"{self._op._namespace}.{self._op._name}.default"

    def __eq__(self, other):  # (each attribute access makes a packet: equal by their op)
        return isinstance(other, _OpPacket) and other._op is self._op

    def __hash__(self):
        return hash(self._op._qualname)

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='{self._op._namespace}.{self._op._name}')>"


class _OpNamespace:
    """``minigrad.ops.<namespace>``: its registered operators as attributes."""

    def __init__(self, name: str):
        self.name = name

    def __getattr__(self, opname: str):
        op = registry.get(f"{self.name}::{opname}")
        if op is None:
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{opname}'")
        return _OpPacket(op)

    def __repr__(self) -> str:
        return f"<minigrad.ops namespace {self.name!r}>"


class _Ops:
    """``minigrad.library.ops``: every namespace (an empty one until an op is defined in it)."""

    def __getattr__(self, namespace: str) -> _OpNamespace:
        if namespace.startswith("__"):
            raise AttributeError(namespace)
        return _OpNamespace(namespace)


ops = _Ops()


def namespace(name: str) -> _OpNamespace | None:
    """The namespace ``name`` if some op is registered in it, else None (``minigrad.ops``)."""
    prefix = name + "::"
    return _OpNamespace(name) if any(q.startswith(prefix) for q in registry) else None


def _unsupported(what: str):
    def raiser(*args, **kwargs):
        raise NotImplementedError(_UNSUPPORTED.format(what=what))

    raiser.__name__ = what
    raiser.__doc__ = f"PyTorch's ``torch.library.{what}``: not supported (raises)."
    return raiser


register_vmap = _unsupported("register_vmap")
register_torch_dispatch = _unsupported("register_torch_dispatch")
get_ctx = _unsupported("get_ctx")
triton_op = _unsupported("triton_op")
wrap_triton = _unsupported("wrap_triton")
