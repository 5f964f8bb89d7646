"""``minigrad.cond`` met by symbolic tracing: each branch is traced into a GraphModule of its
own (``true_graph_0``, ``false_graph_0``, as torch.export names them) and the graph records one
``cond`` call taking the predicate, both branch modules and the operands, so that the traced
program still picks its branch at run time."""

from __future__ import annotations

from .graph import Graph
from .graph_module import GraphModule
from .node import map_aggregate
from .proxy import Proxy


def has_proxy(*values) -> bool:
    """Whether any of ``values`` (nests included) is a Proxy."""
    found = []
    map_aggregate(values, lambda x: found.append(x) if isinstance(x, Proxy) else x)
    return bool(found)


def _trace_branch(tracer, fn, operands: tuple, name: str) -> GraphModule:
    """``fn`` traced on placeholders for ``operands`` into a GraphModule over the root."""
    outer = tracer.graph
    tracer.graph = Graph(tracer_cls=getattr(outer, "_tracer_cls", None))
    try:
        args = [
            tracer.create_proxy("placeholder", f"arg{i}_1", (), {}) for i in range(len(operands))
        ]
        result = fn(*args)
        tracer.create_node("output", "output", (tracer.create_arg(result),), {})
        graph = tracer.graph
    finally:
        tracer.graph = outer
    for node in graph.nodes:
        for used in node.all_input_nodes:
            if used.graph is not graph:
                raise RuntimeError(
                    f"cond: the branch {getattr(fn, '__name__', fn)!r} reads {used.name}, a "
                    f"value traced outside it; pass every tensor a branch uses in operands"
                )
    branch = GraphModule(tracer.root, graph, "GraphModule")
    branch._cond_branch_name = name
    return branch


def trace_cond(pred, true_fn, false_fn, operands) -> Proxy:
    """Record ``cond(pred, true_fn, false_fn, operands)`` with traced branches."""
    proxies = [x for x in (pred, *operands) if isinstance(x, Proxy)]
    tracer = proxies[0].tracer
    if not hasattr(tracer, "root"):
        raise NotImplementedError("cond: tracing needs a minigrad.fx.Tracer")
    count = sum(n.target is _cond_target() for n in tracer.graph.nodes)
    operands = tuple(operands)
    branches = [
        _trace_branch(tracer, fn, operands, f"{kind}_graph_{count}")
        for kind, fn in (("true", true_fn), ("false", false_fn))
    ]
    return tracer.create_proxy("call_function", _cond_target(), (pred, *branches, operands), {})


def _cond_target():
    import minigrad

    return minigrad.cond


def is_branch(value) -> bool:
    """Whether ``value`` is a branch module (a GraphModule passed to a recorded ``cond``)."""
    return isinstance(value, GraphModule)


__all__ = ["has_proxy", "is_branch", "trace_cond"]
