"""``split_module``: cut a traced GraphModule into submodules (``submod_0``, ``submod_1``, ...)
chosen node by node, with a top-level graph that calls them in dependency order
(``torch.fx.passes.split_module``; pipeline stages, per-part compilation)."""

from __future__ import annotations

import operator
from collections.abc import Callable

from ...nn.modules.module import Module
from ..graph import Graph
from ..graph_module import GraphModule
from ..node import Node, map_arg


class _Partition:
    """The nodes given one id, the outside values they read and the values others read."""

    def __init__(self, name: str):
        self.name = name
        self.nodes: list[Node] = []
        self.inputs: dict[str, None] = {}
        self.outputs: dict[str, None] = {}
        self.dependencies: dict[str, None] = {}
        self.graph = Graph()
        self.env: dict[Node, Node] = {}
        self.targets: dict[str, Module] = {}


def _assign(m: GraphModule, split_callback: Callable) -> tuple[dict, dict]:
    partitions: dict[str, _Partition] = {}
    owner: dict[str, _Partition] = {}
    for node in m.graph.nodes:
        if node.op in ("placeholder", "get_attr", "output"):
            continue
        key = str(split_callback(node))
        part = partitions.setdefault(key, _Partition(f"submod_{key}"))
        part.nodes.append(node)
        owner[node.name] = part
    return partitions, owner


def _record_uses(m: GraphModule, owner: dict) -> None:
    """Which values each partition reads from outside and which it must hand out."""
    for node in m.graph.nodes:
        user = owner.get(node.name)
        for arg in node.all_input_nodes:
            source = owner.get(arg.name)
            if source is user:
                continue
            if source is not None:
                source.outputs.setdefault(arg.name)
                if user is not None:
                    user.dependencies.setdefault(source.name)
            if user is not None:
                user.inputs.setdefault(arg.name)


def _order(partitions: dict) -> list[_Partition]:
    """The partitions in an order that computes each one's inputs first."""
    by_name = {p.name: p for p in partitions.values()}
    done: list[_Partition] = []
    pending = list(partitions.values())
    while pending:
        ready = [p for p in pending if all(d in {q.name for q in done} for d in p.dependencies)]
        if not ready:
            raise RuntimeError(
                f"split_module: the partitions {[p.name for p in pending]} depend on each other "
                f"(a cycle); the split callback must give a partition order"
            )
        done += ready
        pending = [p for p in pending if p not in ready]
    return [by_name[p.name] for p in done]


def _build_partition(part: _Partition, m: GraphModule, qualname_map: dict | None) -> None:
    for name in part.inputs:
        part.env[name] = part.graph.placeholder(name)
    for node in part.nodes:
        args = map_arg(node.args, lambda n: part.env[n.name])
        kwargs = map_arg(node.kwargs, lambda n: part.env[n.name])
        target = node.target
        if node.op == "call_module":
            target = node.target.replace(".", "_")
            part.targets[target] = m.get_submodule(node.target)
            if qualname_map is not None:
                qualname_map[f"{part.name}.{target}"] = node.target
        new = part.graph.create_node(node.op, target, args, kwargs)
        new.meta = dict(node.meta)
        part.env[node.name] = new
    outs = [part.env[name] for name in part.outputs]
    part.graph.output(outs[0] if len(outs) == 1 else tuple(outs))


def split_module(
    m: GraphModule,
    root_m: Module,
    split_callback: Callable[[Node], int],
    qualname_map: dict | None = None,
    keep_original_order: bool = False,
    keep_original_node_name: bool = False,
) -> GraphModule:
    """Split ``m`` into ``submod_<id>`` GraphModules, ``id = split_callback(node)`` for each
    node; inputs and parameters (``get_attr``) stay in the top-level graph and are passed in.

    Example:
        >>> stages = split_module(gm, model, lambda node: 0 if node.name < "fc2" else 1)
        >>> stages.submod_0, stages.submod_1
    """
    if keep_original_order or keep_original_node_name:
        raise NotImplementedError(
            "split_module: keep_original_order and keep_original_node_name are not implemented"
        )
    partitions, owner = _assign(m, split_callback)
    _record_uses(m, owner)
    base = Graph()
    env: dict[str, Node] = {}
    for node in m.graph.find_nodes(op="placeholder"):
        env[node.name] = base.node_copy(node)
    for node in m.graph.find_nodes(op="get_attr"):
        env[node.name] = base.get_attr(node.target)
    submodules: dict = {}
    for part in _order(partitions):
        _build_partition(part, m, qualname_map)
        submodules[part.name] = GraphModule(part.targets, part.graph)
        call = base.call_module(part.name, tuple(env[name] for name in part.inputs))
        outs = list(part.outputs)
        if len(outs) == 1:
            env[outs[0]] = call
        for i, name in enumerate(outs if len(outs) > 1 else ()):
            env[name] = base.call_function(operator.getitem, (call, i))
    (output,) = m.graph.find_nodes(op="output")
    base.output(map_arg(output.args[0], lambda n: env[n.name]))
    root_attrs = {n.target: _fetch(root_m, n.target) for n in m.graph.find_nodes(op="get_attr")}
    return GraphModule({**submodules, **root_attrs}, base)


def _fetch(module: Module, target: str):
    obj = module
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj
