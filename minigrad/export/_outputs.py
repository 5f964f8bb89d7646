"""The outputs of an exported graph as PyTorch's: one flat tuple of leaves (``return
(linear_1,)``), with a JSON-able spec of the user's nest (tuples, lists, dicts) that
``module()`` rebuilds."""

from __future__ import annotations

from ..fx import Graph


def _is_plain(value) -> bool:
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    if type(value) in (tuple, list):
        return all(_is_plain(v) for v in value)
    return not isinstance(value, (tuple, list))  # (a named tuple keeps its nest)


def _spec(value, leaves: list):
    """``value`` with each leaf replaced by its index in ``leaves`` (which it fills), in
    PyTorch's pytree order."""
    if isinstance(value, dict):
        return {"dict": [[k, _spec(v, leaves)] for k, v in value.items()]}
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [_spec(v, leaves) for v in value]}
    leaves.append(value)
    return len(leaves) - 1


def flatten_output(graph: Graph):
    """Make ``graph`` return a flat tuple of its output's leaves; returns the spec of the nest
    (None, and the output left as it is, for a nest with named tuples or other containers)."""
    output = graph.find_nodes(op="output")[0]
    value = output.args[0]
    if not _is_plain(value):
        return None
    leaves: list = []
    spec = _spec(value, leaves)
    output.args = (tuple(leaves),)
    return spec


def unflatten_output(spec, leaves: list):
    """The user's nest from the flat ``leaves`` (a graph's values or the results)."""
    if isinstance(spec, int):
        return leaves[spec]
    ((kind, body),) = spec.items()
    if kind == "dict":
        return {k: unflatten_output(v, leaves) for k, v in body}
    items = [unflatten_output(v, leaves) for v in body]
    return tuple(items) if kind == "tuple" else items
