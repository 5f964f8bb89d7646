"""Nested containers of tensors (tuples, lists, dicts) flattened to a list and rebuilt."""

from __future__ import annotations


def tree_flatten(tree):
    """``(leaves, spec)``: the leaves in order and what :func:`tree_unflatten` needs."""
    leaves = []

    def walk(node):
        if isinstance(node, (tuple, list)):
            children = [walk(c) for c in node]
            kind = type(node) if not hasattr(node, "_fields") else type(node)
            return ("seq", kind, children)
        if isinstance(node, dict):
            return ("dict", type(node), [(k, walk(v)) for k, v in node.items()])
        leaves.append(node)
        return ("leaf",)

    return leaves, walk(tree)


def tree_unflatten(leaves, spec):
    it = iter(leaves)

    def build(s):
        if s[0] == "leaf":
            return next(it)
        if s[0] == "seq":
            kind, children = s[1], [build(c) for c in s[2]]
            if hasattr(kind, "_fields"):
                return kind(*children)
            return kind(children)
        return s[1]((k, build(v)) for k, v in s[2])

    return build(spec)


def broadcast_prefix(prefix, tree, what: str) -> list:
    """One entry of ``prefix`` (an int/None, or a structure matching the top of ``tree``) per
    leaf of ``tree``, as ``in_dims`` / ``out_dims`` are matched to arguments."""
    out = []

    def walk(p, node):
        if p is None or isinstance(p, int):
            out.extend([p] * len(tree_flatten(node)[0]))
            return
        if isinstance(p, (tuple, list)) and isinstance(node, (tuple, list)):
            if len(p) != len(node):
                raise ValueError(
                    f"vmap: {what} has {len(p)} entries but the structure it describes has "
                    f"{len(node)}: {what} must be an int, None, or match the structure"
                )
            for pi, ni in zip(p, node):
                walk(pi, ni)
            return
        if isinstance(p, dict) and isinstance(node, dict):
            if set(p) != set(node):
                raise ValueError(f"vmap: {what} keys {sorted(p)} differ from {sorted(node)}")
            for k in node:
                walk(p[k], node[k])
            return
        raise ValueError(
            f"vmap: {what} must be an int, None, or a structure matching the inputs, got "
            f"{type(p).__name__} for a {type(node).__name__}"
        )

    walk(prefix, tree)
    return out
