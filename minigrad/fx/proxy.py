"""``Proxy``: the stand-in value that symbolic tracing passes through user code; every operator,
method call, attribute read and (through ``__torch_function__``) every minigrad function applied
to it becomes a :class:`~minigrad.fx.Node` of the graph being traced."""

from __future__ import annotations

import dis
import inspect
import operator
import os
import sys
import traceback
from typing import Any

from ..backend import Device
from .node import Node, map_aggregate


class TraceError(ValueError):
    """Tracing met something a symbolic value cannot decide (data-dependent control flow,
    iterating a proxy of unknown length)."""


class TracerBase:
    """What :class:`Proxy` needs from a tracer: making nodes and turning values into arguments."""

    graph: Any
    # True: each node's meta["stack_trace"] says where the traced code made it.
    record_stack_traces = False

    def create_node(self, kind: str, target, args, kwargs, name=None, type_expr=None) -> Node:
        """Add a node to ``self.graph`` (hook point for subclasses)."""
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def proxy(self, node: Node) -> Proxy:
        """The Proxy that stands for ``node``."""
        return Proxy(node, self)

    def create_proxy(
        self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None
    ):
        """Record one operation: arguments become graph arguments, the node gets a Proxy."""
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        if not isinstance(args_, tuple) or not isinstance(kwargs_, dict):
            raise TypeError("create_proxy: args must be a tuple and kwargs a dict")
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        if self.record_stack_traces and kind != "placeholder" and "stack_trace" not in node.meta:
            here = os.path.dirname(os.path.abspath(__file__))
            frames = [f for f in traceback.extract_stack() if not f.filename.startswith(here)]
            # torch.fx's form: 'File "path", line N, in fn\n    code'
            node.meta["stack_trace"] = "".join(traceback.format_list(frames[-1:])).strip()
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, a: Any):
        """``a`` as a graph argument: proxies become their nodes, nests are rebuilt, plain
        constants stay; anything else raises NotImplementedError."""
        import minigrad

        if isinstance(a, Proxy):
            return a.node
        if isinstance(a, Node) or a is None or a is Ellipsis:
            return a
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            return type(a)(*(self.create_arg(e) for e in a))
        if isinstance(a, tuple):
            return tuple(self.create_arg(e) for e in a)
        if isinstance(a, list):
            return [self.create_arg(e) for e in a]
        if isinstance(a, dict):
            return {k: self.create_arg(v) for k, v in a.items()}
        if isinstance(a, slice):
            return slice(*(self.create_arg(p) for p in (a.start, a.stop, a.step)))
        constants = (minigrad.dtype, Device, minigrad.memory_format, minigrad.layout)
        if isinstance(a, (str, int, float, bool, complex, *constants)):
            return a
        if isinstance(a, type) or inspect.isroutine(a):
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj: Proxy) -> bool:
        """Called when a proxy decides control flow: raises :class:`TraceError`."""
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj: Proxy):
        """Called when a proxy is iterated outside ``a, b = proxy``: raises :class:`TraceError`."""
        raise TraceError(
            "Proxy object cannot be iterated. This can be attempted when the Proxy is used in a "
            "loop or as a *args or **kwargs function argument. See the torch.fx docs for what "
            "control flow can be traced."
        )

    def keys(self, obj: Proxy):
        """``obj.keys()`` (``**proxy`` unpacking) as a recorded method call."""
        return Attribute(obj, "keys")()


def _find_tracer(args, kwargs) -> TracerBase | None:
    found = []
    map_aggregate((args, kwargs), lambda x: found.append(x.tracer) if isinstance(x, Proxy) else x)
    return found[0] if found else None


class Proxy:
    """A value being traced: operations on it are recorded as nodes of ``tracer.graph``.

    Data-dependent control flow (``if proxy:``, ``for v in proxy:``) raises
    :class:`TraceError`; ``len(proxy)`` raises RuntimeError (wrap ``len`` to record it).
    """

    def __init__(self, node: Node, tracer: TracerBase | None = None):
        if tracer is None:
            tracer = _GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, name: str) -> Attribute:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # keep copy/pickle protocols off the graph
        return Attribute(self, name)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state) -> None:
        self.__dict__ = state

    def __deepcopy__(self, memo):
        return Proxy(self.node, self.tracer)

    def __call__(self, *args, **kwargs) -> Proxy:
        return self.tracer.create_proxy("call_method", "__call__", (self, *args), kwargs)

    def __iter__(self):
        frame = inspect.currentframe().f_back
        # a, b = proxy: the caller is at UNPACK_SEQUENCE (f_lasti counts 2-byte code units
        # before Python 3.11, bytes from 3.11 on)
        offset = frame.f_lasti if sys.version_info >= (3, 11) else 2 * frame.f_lasti
        inst = next((i for i in dis.get_instructions(frame.f_code) if i.offset >= offset), None)
        if inst is not None and inst.opname == "UNPACK_SEQUENCE":
            return (self[i] for i in range(inst.argval))
        return self.tracer.iter(self)

    def __bool__(self) -> bool:
        return self.tracer.to_bool(self)

    def __len__(self) -> int:
        raise RuntimeError(
            "'len' is not supported in symbolic tracing by default. If you want this call to be "
            "recorded, please call minigrad.fx.wrap('len') at module scope"
        )

    def keys(self):
        """``proxy.keys()``, as ``**proxy`` unpacking asks for it (a recorded method call)."""
        return self.tracer.keys(self)

    def __setitem__(self, key, value) -> None:
        self.tracer.create_proxy("call_function", operator.setitem, (self, key, value), {})

    @classmethod
    def __torch_function__(cls, orig_method, types, args=(), kwargs=None):
        """Record a minigrad function called on proxies as a ``call_function`` node (a Tensor
        method, such as ``Tensor.__add__`` of a real tensor and a proxy, as ``call_method``)."""
        kwargs = kwargs or {}
        tracer = _find_tracer(args, kwargs)
        if tracer is None:
            raise RuntimeError(f"__torch_function__: no Proxy among the arguments of {orig_method}")
        method = _tensor_method_name(orig_method)
        if method is not None:
            return tracer.create_proxy("call_method", method, tuple(args), kwargs)
        return tracer.create_proxy("call_function", orig_method, tuple(args), kwargs)


# The Tensor method torch.fx records for a real tensor's operator applied to a proxy
# (``buffer + proxy`` -> ``buffer.add(proxy)``); the others keep their dunder name.
TENSOR_OPERATOR_METHODS = {
    "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div",
    "__floordiv__": "__floordiv__", "__mod__": "remainder", "__pow__": "pow",
    "__matmul__": "matmul", "__and__": "__and__", "__or__": "__or__", "__xor__": "__xor__",
    "__lshift__": "__lshift__", "__rshift__": "__rshift__", "__eq__": "eq", "__ne__": "ne",
    "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__getitem__": "__getitem__",
}  # fmt: skip


def _tensor_method_name(fn) -> str | None:
    """The method name to record for a function of the Tensor class (``__add__`` -> ``add``,
    as torch.fx records ``buffer + proxy``), else None."""
    from ..tensor import Tensor

    for dunder, method in TENSOR_OPERATOR_METHODS.items():
        if getattr(Tensor, dunder) is fn:
            return method
    name = getattr(fn, "__name__", None)
    if isinstance(name, str) and getattr(Tensor, name, None) is fn:
        return name
    return None


class Attribute(Proxy):
    """``proxy.name``: a ``call_method`` node when called, else a ``getattr`` node (made on
    first use)."""

    def __init__(self, root: Proxy, attr: str):
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node = None

    @property
    def node(self) -> Node:
        """The ``getattr`` node, made the first time the attribute is used as a value."""
        if self._node is None:
            self._node = self.tracer.create_proxy(
                "call_function", getattr, (self.root, self.attr), {}
            ).node
        return self._node

    def __call__(self, *args, **kwargs) -> Proxy:
        return self.tracer.create_proxy("call_method", self.attr, (self.root, *args), kwargs)


class GraphAppendingTracer(TracerBase):
    """A tracer that appends the operations on its proxies to ``graph`` (the tracer of a Proxy
    made straight from a node; torch.fx's, for rewriting a graph by retracing with proxies).

    Example:
        >>> tracer = GraphAppendingTracer(new_graph)
        >>> out = relu_decomposition(Proxy(env[node.name], tracer))  # nodes added to new_graph
    """

    def __init__(self, graph):
        self.graph = graph
        self.scope, self.module_stack = None, {}


_GraphAppendingTracer = GraphAppendingTracer


_MAGIC = [
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "lshift", "rshift",
    "and_", "or_", "xor", "eq", "ne", "lt", "le", "gt", "ge",
]  # fmt: skip
_REFLECTABLE = {"add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "lshift",
                "rshift", "and_", "or_", "xor"}  # fmt: skip


def _install_operators() -> None:
    def forward(fn):
        def method(self, *args):
            return self.tracer.create_proxy("call_function", fn, (self, *args), {})

        return method

    def reflected(fn):
        def method(self, other):
            return self.tracer.create_proxy("call_function", fn, (other, self), {})

        return method

    for name in _MAGIC:
        fn = getattr(operator, name)
        dunder = name.rstrip("_")
        setattr(Proxy, f"__{dunder}__", forward(fn))
        if name in _REFLECTABLE:
            setattr(Proxy, f"__r{dunder}__", reflected(fn))
    for name in ("neg", "pos", "invert", "abs", "getitem"):
        setattr(Proxy, f"__{name}__", forward(getattr(operator, name)))


_install_operators()
