"""``replace_pattern``: find every occurrence of a traced pattern in a GraphModule's graph and
put a traced replacement in its place (``torch.fx.subgraph_rewriter``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..nn.modules.module import Module
from .graph import Graph
from .graph_module import GraphModule, _copy_attr
from .node import Node


@dataclass
class Match:
    """One occurrence: ``anchor`` is the pattern's output node (as in torch.fx), and
    ``nodes_map`` maps each pattern node to the graph node it matched."""

    anchor: Node
    nodes_map: dict[Node, Node] = field(default_factory=dict)


def _graph_of(obj: Callable | Graph | GraphModule, what: str) -> Graph:
    if isinstance(obj, GraphModule):
        return obj.graph
    if isinstance(obj, Graph):
        return obj
    if callable(obj):
        from ._symbolic_trace import symbolic_trace

        return symbolic_trace(obj).graph
    raise TypeError(f"replace_pattern: {what} must be a function, Module or Graph, got {obj!r}")


def _single_output(graph: Graph, what: str) -> Node:
    (out,) = graph.find_nodes(op="output")
    value = out.args[0]
    if not isinstance(value, Node):
        raise NotImplementedError(
            f"replace_pattern: the {what} must return one traced value; patterns with several "
            f"outputs or constant outputs are not supported"
        )
    return value


class _Matcher:
    """Matches a pattern graph, node by node backwards from its output, against a graph."""

    def __init__(self, pattern: Graph):
        self.pattern = pattern
        self.anchor = _single_output(pattern, "pattern")
        self.inner = [n for n in pattern.nodes if n.op not in ("placeholder", "output")]

    def match_at(self, node: Node) -> Match | None:
        nodes_map: dict[Node, Node] = {}
        if not self._match_node(self.anchor, node, nodes_map):
            return None
        matched = {nodes_map[p] for p in self.inner}
        for p in self.inner:
            if p is not self.anchor and any(u not in matched for u in nodes_map[p].users):
                return None  # an inner value is used outside: replacing would lose it
        return Match(self.anchor, nodes_map)

    def _match_node(self, pn: Node, gn: Node, nodes_map: dict) -> bool:
        if pn in nodes_map:
            return nodes_map[pn] is gn
        if pn.op == "placeholder":
            nodes_map[pn] = gn
            return True
        if (pn.op, pn.target) != (gn.op, gn.target) or len(pn.args) != len(gn.args):
            return False
        if set(pn.kwargs) != set(gn.kwargs):
            return False
        nodes_map[pn] = gn
        pairs = [*zip(pn.args, gn.args), *((pn.kwargs[k], gn.kwargs[k]) for k in pn.kwargs)]
        return all(self._match_arg(a, b, nodes_map) for a, b in pairs)

    def _match_arg(self, pa, ga, nodes_map: dict) -> bool:
        if isinstance(pa, Node):
            return isinstance(ga, Node) and self._match_node(pa, ga, nodes_map)
        if isinstance(pa, (list, tuple)):
            return (
                type(pa) is type(ga)
                and len(pa) == len(ga)
                and all(self._match_arg(a, b, nodes_map) for a, b in zip(pa, ga))
            )
        return not isinstance(ga, Node) and type(pa) is type(ga) and pa == ga


def replace_pattern(gm: GraphModule, pattern, replacement) -> list[Match]:
    """Replace each non-overlapping occurrence of ``pattern`` in ``gm.graph`` by
    ``replacement`` (both functions or Modules, traced with :func:`symbolic_trace`, with the
    same inputs); recompiles ``gm`` and returns the matches.

    Example:
        >>> def pattern(x, w):
        ...     return (x @ w).relu()
        >>> def replacement(x, w):
        ...     return (x @ w).clamp(min=0)
        >>> replace_pattern(gm, pattern, replacement)
    """
    pattern_graph = _graph_of(pattern, "pattern")
    replacement_graph = _graph_of(replacement, "replacement")
    p_inputs = pattern_graph.find_nodes(op="placeholder")
    r_inputs = replacement_graph.find_nodes(op="placeholder")
    if len(p_inputs) != len(r_inputs):
        raise ValueError(
            f"replace_pattern: the pattern takes {len(p_inputs)} inputs but the replacement takes "
            f"{len(r_inputs)}; they must take the same inputs"
        )
    _single_output(replacement_graph, "replacement")
    matcher = _Matcher(pattern_graph)
    matches: list[Match] = []
    taken: set[Node] = set()
    for node in list(gm.graph.nodes):
        match = matcher.match_at(node)
        if match is None:
            continue
        inner = {match.nodes_map[p] for p in matcher.inner}
        if inner & taken:
            continue
        taken |= inner
        matches.append(match)
    if isinstance(replacement, Module):
        for rn in replacement_graph.nodes:
            if rn.op in ("get_attr", "call_module") and not _has_path(gm, rn.target):
                _copy_attr(replacement, gm, rn.target)
    replaced: dict[Node, Node] = {}  # an earlier match's anchor -> what took its place
    for match in matches:
        new_out = _substitute(
            gm.graph, match, matcher, p_inputs, r_inputs, replacement_graph, replaced
        )
        replaced[match.nodes_map[matcher.anchor]] = new_out
    gm.recompile()
    return matches


def _has_path(module: Module, target: str) -> bool:
    obj = module
    for part in target.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def _substitute(graph, match: Match, matcher: _Matcher, p_inputs, r_inputs, replacement, replaced):
    val_map = {}
    for p, r in zip(p_inputs, r_inputs):
        node = match.nodes_map[p]
        while node in replaced:
            node = replaced[node]
        val_map[r] = node
    anchor = match.nodes_map[matcher.anchor]
    # the replacement goes just before the anchor's first user (as torch.fx places it), or
    # where the anchor was when nothing uses it
    first_user = next((n for n in graph.nodes if n in anchor.users), anchor.next)
    with graph.inserting_before(first_user):
        new_out = graph.graph_copy(replacement, val_map)
    anchor.replace_all_uses_with(new_out)
    for pn in reversed(matcher.inner):
        graph.erase_node(match.nodes_map[pn])
    return new_out
