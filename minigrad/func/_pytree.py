"""Nested containers of tensors for the transforms: the pytrees of ``minigrad.utils._pytree``."""

from __future__ import annotations

from ..utils._pytree import tree_flatten, tree_unflatten

__all__ = ["broadcast_prefix", "tree_flatten", "tree_unflatten"]


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
