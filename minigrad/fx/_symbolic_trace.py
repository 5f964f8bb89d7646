"""Symbolic tracing: ``Tracer`` runs a module's ``forward`` on :class:`~minigrad.fx.Proxy`
inputs and records what it does as a :class:`~minigrad.fx.Graph`; ``symbolic_trace`` wraps the
result in a :class:`~minigrad.fx.GraphModule`; ``wrap`` keeps chosen functions as leaves."""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import operator
import types
from collections.abc import Callable
from typing import Any

from ..nn.modules.container import Sequential
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor
from ._control_flow import is_branch
from .graph import Graph
from .proxy import TENSOR_OPERATOR_METHODS, Proxy, TraceError, TracerBase

# (globals dict, name) of each function registered with wrap(): patched while tracing.
_wrapped_fns_to_patch: dict[tuple[int, str], dict] = {}


def wrap(fn_or_name: str | Callable):
    """Record calls of a module-level function as one ``call_function`` node instead of tracing
    into it. Call at module scope, with the function or its name.

    Example:
        >>> def normalize(x, n):
        ...     return x / n if n else x   # control flow on a Python value
        >>> minigrad.fx.wrap("normalize")
    """
    name = fn_or_name if isinstance(fn_or_name, str) else getattr(fn_or_name, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"wrap: expected a function or its name, got {fn_or_name!r}")
    caller = inspect.currentframe().f_back
    if caller.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _wrapped_fns_to_patch[(id(caller.f_globals), name)] = caller.f_globals
    return fn_or_name


def _assert_is_none(value, msg: str) -> None:
    """Checks a concrete argument specialized to None (the call traced code keeps)."""
    if value is not None:
        raise AssertionError(msg)


def _assert(condition, msg: str) -> None:
    """Checks a concrete argument specialized to a value (the call traced code keeps)."""
    if not condition:
        raise AssertionError(msg)


_assert_is_none._fx_impure = _assert._fx_impure = True


class _Patcher:
    """Swaps attributes (or dict entries) for the length of a trace and puts every one back
    afterwards, removing those that were not there before."""

    _ABSENT = object()

    def __init__(self):
        self._undo: list[tuple[Any, str, Any, bool]] = []

    def patch(self, owner, name: str, value, is_dict: bool = False) -> None:
        store = owner if is_dict else owner.__dict__
        self._undo.append((owner, name, store.get(name, self._ABSENT), is_dict))
        if is_dict:
            owner[name] = value
        else:
            setattr(owner, name, value)

    def restore(self) -> None:
        for owner, name, old, is_dict in reversed(self._undo):
            if old is self._ABSENT and is_dict:
                del owner[name]
            elif old is self._ABSENT:
                delattr(owner, name)
            elif is_dict:
                owner[name] = old
            else:
                setattr(owner, name, old)
        self._undo.clear()


class Tracer(TracerBase):
    """Records a module or function as a :class:`Graph` by running it on proxies.

    Submodules for which :meth:`is_leaf_module` holds (minigrad's own layers, except
    ``Sequential``) become ``call_module`` nodes; other modules are traced into. Subclass and
    override ``is_leaf_module``, ``call_module``, ``create_arg`` or ``getattr`` to change that.

    Example:
        >>> class KeepBlocks(Tracer):
        ...     def is_leaf_module(self, m, name):
        ...         return isinstance(m, Block) or super().is_leaf_module(m, name)
        >>> graph = KeepBlocks().trace(model)
    """

    def __init__(
        self, autowrap_modules=(math,), autowrap_functions=(), param_shapes_constant=False
    ):
        if param_shapes_constant:
            raise NotImplementedError("Tracer(param_shapes_constant=True) is not implemented")
        self.param_shapes_constant = param_shapes_constant
        # functions recorded as leaves when the traced code reaches them by a global name
        # (``from math import sqrt``), as torch.fx's autowrap does
        self._autowrap_ids = {id(f) for f in autowrap_functions}
        for module in autowrap_modules:
            public = (v for k, v in vars(module).items() if not k.startswith("_"))
            self._autowrap_ids.update(id(v) for v in public if callable(v))
        self.root: Module | None = None
        self.graph: Graph | None = None

    # -- hooks --------------------------------------------------------------------------------
    def is_leaf_module(self, m: Module, module_qualified_name: str) -> bool:
        """Whether ``m`` is recorded as one ``call_module`` node (minigrad.nn layers are)."""
        return type(m).__module__.startswith("minigrad.nn") and not isinstance(m, Sequential)

    def path_of_module(self, mod: Module) -> str:
        """The qualified name of ``mod`` inside the root module."""
        path = self._module_paths.get(id(mod))
        if path is None:
            raise NameError("module is not installed as a submodule")
        return path

    def call_module(self, m: Module, forward: Callable, args: tuple, kwargs: dict):
        """Record a leaf module's call as a node, or trace into ``forward`` otherwise."""
        name = self.path_of_module(m)
        if not self.is_leaf_module(m, name):
            return forward(*args, **kwargs)
        return self.create_proxy("call_module", name, args, kwargs)

    def getattr(self, attr: str, attr_val, parameter_proxy_cache: dict):
        """What reading a module attribute gives while tracing: a ``get_attr`` proxy for a
        parameter of the root (one per parameter), the value itself otherwise."""
        if isinstance(attr_val, Parameter):
            for name, param in self.root.named_parameters():
                if param is attr_val:
                    if name not in parameter_proxy_cache:
                        parameter_proxy_cache[name] = self.create_proxy("get_attr", name, (), {})
                    return parameter_proxy_cache[name]
        return attr_val

    def create_arg(self, a: Any):
        """Like :meth:`TracerBase.create_arg`, plus parameters, buffers and tensor attributes of
        the root as ``get_attr`` nodes and other tensors as new constants
        (``_tensor_constant0``, ...)."""
        if isinstance(a, Parameter):
            for name, param in self.root.named_parameters():
                if param is a:
                    return self.create_node("get_attr", name, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, Tensor):
            name = self.tensor_attrs.get(id(a))
            if name is None:
                name = self._new_constant_name()
                setattr(self.root, name, a)
                self.tensor_attrs[id(a)] = name
            return self.create_node("get_attr", name, (), {})
        if is_branch(a):  # a traced branch of cond
            return a
        if isinstance(a, Module):
            raise NotImplementedError(
                f"symbolic tracing: a module ({type(a).__name__}) cannot be an argument of a "
                f"recorded call; call it instead"
            )
        return super().create_arg(a)

    def _new_constant_name(self) -> str:
        i = 0
        while hasattr(self.root, f"_tensor_constant{i}"):
            i += 1
        return f"_tensor_constant{i}"

    # -- tracing ------------------------------------------------------------------------------
    def trace(self, root: Module | Callable, concrete_args: dict | None = None) -> Graph:
        """Run ``root`` (a Module's ``forward``, or a function) on proxies; returns the graph.

        ``concrete_args`` fixes some arguments to Python values (a flag, None), so that code
        branching on them traces; the graph checks the value when it runs.
        """
        if isinstance(root, Module):
            self.root, fn = root, type(root).forward
        elif callable(root):
            self.root, fn = Module(), root
        else:
            raise TypeError(f"trace: expected a Module or a function, got {type(root).__name__}")
        self.graph = Graph(tracer_cls=type(self))
        self._module_paths: dict[int, str] = {}
        for name, module in self.root.named_modules(remove_duplicate=False):
            self._module_paths.setdefault(id(module), name)  # a shared module: its first name
        self.tensor_attrs = self._collect_tensor_attrs()
        patcher = _Patcher()
        try:
            self._patch(patcher, fn)
            args = self.create_args_for_root(fn, isinstance(root, Module), concrete_args)
            kwonly = self._keyword_only(fn, isinstance(root, Module))
            positional = args[: len(args) - len(kwonly)]
            keywords = dict(zip(kwonly, args[len(positional) :]))
            if isinstance(root, Module):
                positional.insert(0, self.root)
            result = _with_packed_parameters(fn)(*positional, **keywords)
            returns = getattr(inspect.unwrap(fn), "__annotations__", {}).get("return")
            self.create_node("output", "output", (self.create_arg(result),), {}, type_expr=returns)
        finally:
            patcher.restore()
        return self.graph

    @staticmethod
    def _keyword_only(fn, is_module: bool) -> list[str]:
        params = list(inspect.signature(fn).parameters.values())[int(is_module) :]
        return [p.name for p in params if p.kind is p.KEYWORD_ONLY]

    def _collect_tensor_attrs(self) -> dict[int, str]:
        found: dict[int, str] = {}
        for prefix, module in self.root.named_modules():
            dotted = prefix + "." if prefix else ""
            tensors = [*module._buffers.items()]
            tensors += [(k, v) for k, v in vars(module).items() if isinstance(v, Tensor)]
            for name, value in tensors:
                if isinstance(value, Tensor) and not isinstance(value, Parameter):
                    found.setdefault(id(value), dotted + name)
        return found

    def _patch(self, patcher: _Patcher, fn) -> None:
        tracer, cache, orig_call, orig_getattr = self, {}, Module.__call__, Module.__getattr__

        self._autowrapped: set[int] = set()

        def module_call(mod, *args, **kwargs):
            tracer._autowrap_globals(patcher, type(mod).forward)
            return tracer.call_module(mod, lambda *a, **k: orig_call(mod, *a, **k), args, kwargs)

        def module_getattr(mod, name):
            return tracer.getattr(name, orig_getattr(mod, name), cache)

        patcher.patch(Module, "__call__", module_call)
        patcher.patch(Module, "__getattr__", module_getattr)
        for dunder, method in TENSOR_OPERATOR_METHODS.items():
            patcher.patch(Tensor, dunder, _operator_with_proxies(getattr(Tensor, dunder), method))
        for (_, name), globs in _wrapped_fns_to_patch.items():
            original = globs.get(name, getattr(builtins, name, None))
            if original is not None:
                patcher.patch(globs, name, _leaf_function(original), is_dict=True)
        self._autowrap_globals(patcher, fn)

    def _autowrap_globals(self, patcher: _Patcher, fn) -> None:
        fn_globals = getattr(inspect.unwrap(fn), "__globals__", None)
        if fn_globals is None or id(fn_globals) in self._autowrapped:
            return
        self._autowrapped.add(id(fn_globals))
        for name, value in list(fn_globals.items()):
            if name.startswith("__"):
                continue
            if id(value) in self._autowrap_ids:
                patcher.patch(fn_globals, name, _leaf_function(value), is_dict=True)

    def create_args_for_root(self, fn, is_module: bool, concrete_args: dict | None) -> list:
        """Placeholders (or the concrete values) for ``fn``'s parameters, ``self`` aside."""
        params = list(inspect.signature(fn).parameters.values())
        annotations = getattr(inspect.unwrap(fn), "__annotations__", {})
        if is_module:
            params = params[1:]
        concrete_args = dict(concrete_args or {})
        unknown = set(concrete_args) - {p.name for p in params}
        if unknown:
            raise TypeError(f"trace: concrete_args names unknown parameters {sorted(unknown)}")
        args: list = []
        for p in params:
            if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                stars = "*" if p.kind is p.VAR_POSITIONAL else "**"
                args.append(self.create_proxy("placeholder", stars + p.name, (), {}))
                continue
            if p.name in concrete_args:
                args.append(self._concrete(p, concrete_args[p.name]))
                continue
            default = () if p.default is p.empty else (p.default,)
            hint = annotations.get(p.name)
            args.append(self.create_proxy("placeholder", p.name, default, {}, p.name, hint))
        return args

    def _concrete(self, param, value):
        """A placeholder that the graph checks against ``value``, which tracing uses."""
        self.graph._graph_namespace.reserve(param.name)
        default = () if param.default is param.empty else (param.default,)
        ph = self.create_proxy("placeholder", param.name, default, {}, name=param.name)
        ph.node.target = ph.node.name  # torch.fx renames the input: flag -> flag_1
        msg = f"{param.name} has been specialized to have value {value} but got another value"
        if value is None:
            self.create_proxy("call_function", _assert_is_none, (ph, msg), {})
        elif isinstance(value, (bool, int, float, str)):
            eq = self.create_proxy("call_function", operator.eq, (ph, value), {})
            self.create_proxy("call_function", _assert, (eq, msg), {})
        return value


def _with_packed_parameters(fn):
    """``fn`` itself, or when it has ``*args``/``**kwargs``, a copy taking them as ordinary
    parameters (so that tracing hands it one Proxy for each, as torch.fx does)."""
    code = getattr(fn, "__code__", None)
    packed = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS
    if code is None or not code.co_flags & packed:
        return fn
    if code.co_kwonlyargcount:
        raise NotImplementedError(
            f"symbolic tracing of {fn.__name__}: *args/**kwargs together with keyword-only "
            f"parameters is not implemented"
        )
    extra = bin(code.co_flags & packed).count("1")
    new_code = code.replace(co_flags=code.co_flags & ~packed, co_argcount=code.co_argcount + extra)
    copy = types.FunctionType(
        new_code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
    )
    copy.__annotations__ = getattr(fn, "__annotations__", {})
    return copy


def _operator_with_proxies(original: Callable, method: str) -> Callable:
    """A Tensor operator that records ``tensor.method(proxy)`` when its other operand is a
    Proxy (minigrad's dispatch leaves a plain tensor's operators to the tensor itself)."""

    @functools.wraps(original)
    def operator_(self, other):
        if isinstance(other, Proxy):
            return other.tracer.create_proxy("call_method", method, (self, other), {})
        return original(self, other)

    return operator_


def _leaf_function(original: Callable, wrapped: bool = True) -> Callable:
    """``original``, but recorded as one node when a Proxy is among its arguments (marked as
    a wrapped function, unless ``wrapped=False``, so generated code re-registers it)."""

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        proxies: list[Proxy] = []

        def find(x):
            if isinstance(x, Proxy):
                proxies.append(x)
            return x

        from .node import map_aggregate

        map_aggregate((args, kwargs), find)
        if not proxies:
            return original(*args, **kwargs)
        proxy = proxies[0].tracer.create_proxy("call_function", original, args, kwargs)
        if wrapped:
            proxy.node.meta["is_wrapped"] = True
        return proxy

    return wrapper


def symbolic_trace(root: Module | Callable, concrete_args: dict | None = None):
    """Trace ``root`` with :class:`Tracer` and return a :class:`GraphModule` running the graph.

    Example:
        >>> gm = symbolic_trace(model)
        >>> print(gm.graph)      # the recorded operations
        >>> print(gm.code)       # the generated forward
        >>> gm(x)                # same result as model(x)
    """
    from .graph_module import GraphModule

    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)


__all__ = ["Tracer", "symbolic_trace", "wrap", "TraceError"]
