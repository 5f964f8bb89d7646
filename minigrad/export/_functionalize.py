"""The functional form of an exported graph, as ``ExportedProgram.run_decompositions`` gives
it in PyTorch: no buffer input is changed in place; each updated buffer's new value is returned
first, as a BUFFER_MUTATION output."""

from __future__ import annotations

import copy

from ..fx import Graph, GraphModule, Node
from ..nn import functional as F
from ..nn.utils.stateless import functional_call
from ..tensor import Tensor
from .graph_signature import ExportGraphSignature, InputKind, OutputKind, OutputSpec, TensorArgument


def _in_place(node: Node) -> bool:
    name = node.target if node.op == "call_method" else ""
    return name.endswith("_") and not name.startswith("_") and bool(node.args)


def _mutated_args(node: Node, gm: GraphModule) -> list:
    """The tensor arguments that ``node`` changes in place."""
    if _in_place(node):
        return [node.args[0]]
    if node.op != "call_function":
        return []
    if node.target is F.batch_norm:
        training = node.args[5] if len(node.args) > 5 else node.kwargs.get("training", False)
        return list(node.args[1:3]) if training else []
    if node.target is functional_call:
        module = getattr(gm, node.args[0].target)
        return list(node.args[1].values()) if module.training else []
    return []


def functionalize(graph: Graph, signature: ExportGraphSignature, gm: GraphModule, flat: bool):
    """``(graph, signature)`` without in-place updates of buffer inputs (see module doc);
    ``flat``: the graph returns a flat tuple of outputs."""
    graph = copy.deepcopy(graph)
    buffers = {s.arg.name: s.target for s in signature.input_specs if s.kind is InputKind.BUFFER}
    current = {n: n for n in graph.find_nodes(op="placeholder") if n.name in buffers}
    owner = {n: n for n in current}  # a buffer's latest value -> the buffer
    for node in list(graph.nodes):
        if node.op in ("placeholder", "output"):
            continue
        for b, value in current.items():
            if value is not b and b in node.all_input_nodes:
                node.replace_input_with(b, value)
        for arg in _mutated_args(node, gm):
            b = owner.get(arg)
            # a method updating the latest value becomes its out-of-place form; a function
            # updating the input itself (F.batch_norm's statistics) updates a clone instead
            if b is not None and (current[b] is b or _in_place(node)):
                current[b] = _out_of_place(graph, node, arg)
                owner[current[b]] = b
    output = graph.find_nodes(op="output")[0]
    mutated = [b for b in current if current[b] is not b]
    if not mutated:
        return graph, signature
    value = output.args[0]  # a flat tuple (or, for a nest kept as the user's, that nest)
    users = value if flat else (value,)
    output.args = ((*(current[b] for b in mutated), *users),)
    specs = [OutputSpec(OutputKind.BUFFER_MUTATION, TensorArgument(current[b].name), buffers[b.name])
             for b in mutated]  # fmt: skip
    return graph, ExportGraphSignature(signature.input_specs, specs + signature.output_specs)


def _out_of_place(graph: Graph, node: Node, buffer: Node) -> Node:
    """The new value of ``buffer``, which ``node`` was about to change in place: ``node`` as its
    out-of-place method (``add_`` -> ``add``), or a clone that ``node`` changes instead."""
    if _in_place(node) and hasattr(Tensor, node.target[:-1]):
        with graph.inserting_before(node):
            new = graph.call_method(node.target[:-1], node.args, node.kwargs)
        node.replace_all_uses_with(new)
        graph.erase_node(node)
        return new
    with graph.inserting_before(node):
        clone = graph.call_method("clone", (buffer,))
    node.replace_input_with(buffer, clone)
    return clone
