"""``Interpreter`` runs a GraphModule's graph node by node (override a method per opcode to
change what a node does); ``Transformer`` runs it on proxies to produce a new GraphModule."""

from __future__ import annotations

from typing import Any

from ..nn.modules.module import Module
from .graph import Graph
from .graph_module import GraphModule
from .node import Node, map_aggregate, map_arg
from .proxy import Proxy, TracerBase


class Interpreter:
    """Runs ``module.graph`` one node at a time.

    ``run(*args)`` calls :meth:`run_node` for each node, which calls the method named after the
    node's opcode (``placeholder``, ``get_attr``, ``call_function``, ``call_method``,
    ``call_module``, ``output``) with the node's target and its arguments' values. Subclass
    and override those to observe or change execution.

    Example:
        >>> class NegateRelu(Interpreter):
        ...     def call_function(self, target, args, kwargs):
        ...         if target is minigrad.relu:
        ...             return -super().call_function(target, args, kwargs)
        ...         return super().call_function(target, args, kwargs)
        >>> NegateRelu(gm).run(x)
    """

    def __init__(
        self, module: Module, garbage_collect_values: bool = True, graph: Graph | None = None
    ):
        self.module = module
        self.submodules = dict(module.named_modules())
        self.graph = graph if graph is not None else module.graph
        self.env: dict[Node, Any] = {}
        self.garbage_collect_values = garbage_collect_values
        self.user_to_last_uses: dict[Node, list[Node]] = {}
        if garbage_collect_values:
            seen: set[Node] = set()
            for node in reversed(self.graph.nodes):
                for arg in node.all_input_nodes:
                    if arg not in seen:
                        seen.add(arg)
                        self.user_to_last_uses.setdefault(node, []).append(arg)

    def run(self, *args, initial_env: dict | None = None, enable_io_processing: bool = True):
        """Run the graph on ``args``; returns what its output node returns.

        ``initial_env`` maps nodes to values already known (those nodes are not run).
        """
        self.env = dict(initial_env or {})
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            try:
                self.env[node] = self.run_node(node)
            except Exception as e:
                note = f"While executing {node.format_node()}"
                if hasattr(e, "add_note") and note not in getattr(e, "__notes__", ()):
                    e.add_note(note)
                raise
            if self.garbage_collect_values:
                for dead in self.user_to_last_uses.get(node, ()):
                    self.env.pop(dead, None)
            if node.op == "output":
                return self.env[node]
        return None

    def run_node(self, n: Node):
        """Run one node: fetch its arguments' values and call the method for its opcode."""
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)

    # -- one method per opcode ----------------------------------------------------------------------
    def placeholder(self, target: str, args: tuple, kwargs: dict):
        """The next positional input (or the placeholder's default)."""
        if target.startswith("*"):
            return list(self.args_iter)
        try:
            return next(self.args_iter)
        except StopIteration:
            if args:
                return args[0]
            raise RuntimeError(
                f"Expected positional argument for parameter {target}, but one was not passed in!"
            ) from None

    def get_attr(self, target: str, args: tuple, kwargs: dict):
        """The module attribute at dotted ``target``."""
        return self.fetch_attr(target)

    def call_function(self, target, args: tuple, kwargs: dict):
        """``target(*args, **kwargs)``."""
        return target(*args, **kwargs)

    def call_method(self, target: str, args: tuple, kwargs: dict):
        """``args[0].target(*args[1:], **kwargs)``."""
        self_obj, *rest = args
        return getattr(self_obj, target)(*rest, **kwargs)

    def call_module(self, target: str, args: tuple, kwargs: dict):
        """The submodule at ``target``, called on the arguments."""
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target, args: tuple, kwargs: dict):
        """The graph's result."""
        return args[0]

    # -- helpers ------------------------------------------------------------------------------
    def fetch_attr(self, target: str):
        """The object at dotted ``target`` inside ``self.module``."""
        obj = self.module
        parts = target.split(".")
        for i, part in enumerate(parts):
            if not hasattr(obj, part):
                raise RuntimeError(f"Node referenced nonexistent target {'.'.join(parts[: i + 1])}")
            obj = getattr(obj, part)
        return obj

    def fetch_args_kwargs_from_env(self, n: Node) -> tuple[tuple, dict]:
        """``n``'s arguments with each input node replaced by its value."""
        return self.map_nodes_to_values(n.args, n), self.map_nodes_to_values(n.kwargs, n)

    def map_nodes_to_values(self, args, n: Node):
        """``args`` with each node replaced by its computed value."""

        def value(node: Node):
            if node not in self.env:
                raise RuntimeError(
                    f"Node {n} referenced nonexistent value {node}! Run Graph.lint()"
                )
            return self.env[node]

        return map_arg(args, value)


class _TransformerTracer(TracerBase):
    def __init__(self, graph: Graph):
        self.graph = graph
        self.root = None
        self.tensor_attrs: dict = {}

    def is_leaf_module(self, m, qualname) -> bool:
        return True


class Transformer(Interpreter):
    """Builds a new GraphModule by running the graph on proxies: override ``call_function``,
    ``call_module``, ... to return other values (proxies of other operations), then call
    :meth:`transform`.

    Example:
        >>> class ReluToSigmoid(Transformer):
        ...     def call_method(self, target, args, kwargs):
        ...         if target == "relu":
        ...             target = "sigmoid"
        ...         return super().call_method(target, args, kwargs)
        >>> new_gm = ReluToSigmoid(gm).transform()
    """

    def __init__(self, module: GraphModule):
        super().__init__(module)
        self.new_graph = Graph()
        self.tracer = _TransformerTracer(self.new_graph)
        self.tracer.root = module

    def placeholder(self, target: str, args: tuple, kwargs: dict) -> Proxy:
        """A placeholder of the new graph, with the same name and default."""
        if args:
            return Proxy(self.new_graph.placeholder(target, default_value=args[0]), self.tracer)
        return Proxy(self.new_graph.placeholder(target), self.tracer)

    def get_attr(self, target: str, args: tuple, kwargs: dict) -> Proxy:
        """A ``get_attr`` node of the new graph."""
        return self.tracer.create_proxy("get_attr", target, args, kwargs)

    def call_module(self, target: str, args: tuple, kwargs: dict) -> Proxy:
        """A ``call_module`` node of the new graph."""
        return self.tracer.create_proxy("call_module", target, args, kwargs)

    def call_function(self, target, args: tuple, kwargs: dict) -> Proxy:
        """A ``call_function`` node of the new graph."""
        return self.tracer.create_proxy("call_function", target, args, kwargs)

    def transform(self) -> GraphModule:
        """Run the transformation; returns the new GraphModule (sharing the old one's
        submodules and parameters)."""
        result = super().run(enable_io_processing=False)
        if result is not None:
            self.new_graph.output(
                map_aggregate(result, lambda v: v.node if isinstance(v, Proxy) else v)
            )
        return GraphModule(self.module, self.new_graph)
