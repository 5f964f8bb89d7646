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


def _outputs(graph: Graph, what: str) -> list[Node]:
    """The nodes a pattern or replacement returns (one, or a tuple or list of them)."""
    (out,) = graph.find_nodes(op="output")
    value = out.args[0]
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if not values or not all(isinstance(v, Node) for v in values):
        raise NotImplementedError(
            f"replace_pattern: the {what} must return traced values (one, or a tuple of them); "
            f"constant outputs are not supported"
        )
    return values


class _Matcher:
    """Matches a pattern graph, node by node backwards from its outputs, against a graph."""

    def __init__(self, pattern: Graph):
        self.pattern = pattern
        self.anchors = _outputs(pattern, "pattern")
        self.anchor = self.anchors[0]
        self.inner = [n for n in pattern.nodes if n.op not in ("placeholder", "output")]

    def match_at(self, node: Node, graph: Graph) -> Match | None:
        """The match whose first output is ``node``, or None."""
        nodes_map: dict[Node, Node] | None = {}
        if not self._match_node(self.anchor, node, nodes_map):
            return None
        for anchor in self.anchors[1:]:  # the other outputs: the first consistent node
            nodes_map = self._extend(anchor, graph, nodes_map)
            if nodes_map is None:
                return None
        matched = {nodes_map[p] for p in self.inner}
        if len(matched) != len(self.inner):
            return None
        for p in self.inner:
            if p not in self.anchors and any(u not in matched for u in nodes_map[p].users):
                return None  # an inner value is used outside: replacing would lose it
        return Match(self.anchor, nodes_map)

    def _extend(self, anchor: Node, graph: Graph, nodes_map: dict) -> dict | None:
        if anchor in nodes_map:
            return nodes_map
        for gn in graph.nodes:
            trial = dict(nodes_map)
            if gn not in nodes_map.values() and self._match_node(anchor, gn, trial):
                return trial
        return None

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
    matcher = _Matcher(pattern_graph)
    if len(_outputs(replacement_graph, "replacement")) != len(matcher.anchors):
        raise ValueError(
            f"replace_pattern: the pattern returns {len(matcher.anchors)} values but the "
            f"replacement returns {len(_outputs(replacement_graph, 'replacement'))}"
        )
    matches: list[Match] = []
    taken: set[Node] = set()
    for node in list(gm.graph.nodes):
        match = matcher.match_at(node, gm.graph)
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
        new_outs = _substitute(
            gm.graph, match, matcher, p_inputs, r_inputs, replacement_graph, replaced
        )
        replaced.update(zip((match.nodes_map[a] for a in matcher.anchors), new_outs))
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
    anchors = [match.nodes_map[a] for a in matcher.anchors]
    users = {u for a in anchors for u in a.users}
    # the replacement goes just before the first user of what the match returns (as torch.fx
    # places it), or after the last of those when nothing uses them
    last = next(n for n in reversed(graph.nodes) if n in anchors)
    first_user = next((n for n in graph.nodes if n in users), last.next)
    with graph.inserting_before(first_user):
        new_outs = graph.graph_copy(replacement, val_map)
    if not isinstance(new_outs, (tuple, list)):
        new_outs = [new_outs]
    for anchor, new in zip(anchors, new_outs):
        anchor.replace_all_uses_with(new)
    for pn in reversed(matcher.inner):
        graph.erase_node(match.nodes_map[pn])
    return list(new_outs)
