"""``torch.utils._pytree``: nested containers (tuples, lists, dicts, OrderedDicts,
defaultdicts, namedtuples, deques and registered classes) flattened to their leaves and rebuilt,
and functions mapped over the leaves (``tree_map(lambda t: t.to(device), batch)``), with
PyTorch's names and leaf order (dicts in insertion order; None is a leaf)."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable
from typing import Any


class _Node:
    """How one container type is taken apart and put back together."""

    def __init__(self, flatten_fn, unflatten_fn):
        self.flatten_fn, self.unflatten_fn = flatten_fn, unflatten_fn


SUPPORTED_NODES: dict[type, _Node] = {}


def register_pytree_node(cls: type, flatten_fn, unflatten_fn, **kwargs) -> None:
    """Let ``cls`` be a container: ``flatten_fn(obj) -> (children, context)`` and
    ``unflatten_fn(children, context) -> obj``. PyTorch's serialization keywords are accepted."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = _Node(flatten_fn, unflatten_fn)


register_pytree_node(tuple, lambda t: (list(t), None), lambda c, _: tuple(c))
register_pytree_node(list, lambda t: (list(t), None), lambda c, _: list(c))
register_pytree_node(dict, lambda d: (list(d.values()), list(d)), lambda c, k: dict(zip(k, c)))
register_pytree_node(
    OrderedDict, lambda d: (list(d.values()), list(d)), lambda c, k: OrderedDict(zip(k, c))
)
register_pytree_node(
    defaultdict,
    lambda d: (list(d.values()), (d.default_factory, list(d))),
    lambda c, ctx: defaultdict(ctx[0], zip(ctx[1], c)),
)
register_pytree_node(
    deque, lambda d: (list(d), d.maxlen), lambda c, maxlen: deque(c, maxlen=maxlen)
)


def _node_of(tree) -> tuple[type, _Node] | None:
    kind = type(tree)
    if kind in SUPPORTED_NODES:
        return kind, SUPPORTED_NODES[kind]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a namedtuple
        return kind, _Node(lambda t: (list(t), None), lambda c, _, k=kind: k(*c))
    return None


class TreeSpec:
    """The shape of a flattened tree: the container type, its context (dict keys, ...) and
    one spec per child. Specs of trees of the same structure are equal."""

    def __init__(self, type, context, children_specs: list):
        self.type, self.context, self.children_specs = type, context, children_specs
        self.num_leaves = sum(c.num_leaves for c in children_specs)
        self.num_children = len(children_specs)

    def is_leaf(self) -> bool:
        return False

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, TreeSpec)
            and other.is_leaf() == self.is_leaf()
            and (self.is_leaf() or (self.type, self.context) == (other.type, other.context))
            and self.children_specs == other.children_specs
        )

    def __repr__(self) -> str:
        name = getattr(self.type, "__name__", str(self.type))
        return f"TreeSpec({name}, {self.context!r}, {self.children_specs!r})"


class LeafSpec(TreeSpec):
    """The spec of a leaf."""

    def __init__(self):
        super().__init__(None, None, [])
        self.num_leaves = 1

    def is_leaf(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "*"


def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None):
    """``(leaves, treespec)``: the leaves in order and the structure to rebuild them into."""
    leaves: list = []

    def walk(node) -> TreeSpec:
        found = None if is_leaf is not None and is_leaf(node) else _node_of(node)
        if found is None:
            leaves.append(node)
            return LeafSpec()
        kind, how = found
        children, context = how.flatten_fn(node)
        return TreeSpec(kind, context, [walk(c) for c in children])

    spec = walk(tree)
    return leaves, spec


def tree_unflatten(leaves, treespec: TreeSpec):
    """The tree of ``treespec``'s structure with ``leaves`` in place of its leaves."""
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(
            f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers "
            f"to a pytree that holds {treespec.num_leaves} items ({treespec})."
        )
    it = iter(leaves)

    def build(spec: TreeSpec):
        if spec.is_leaf():
            return next(it)
        found = _node_of_type(spec.type)
        return found.unflatten_fn([build(c) for c in spec.children_specs], spec.context)

    return build(treespec)


def _node_of_type(kind: type) -> _Node:
    if kind in SUPPORTED_NODES:
        return SUPPORTED_NODES[kind]
    return _Node(None, lambda c, _, k=kind: k(*c))  # a namedtuple


def tree_leaves(tree, is_leaf=None) -> list:
    """The leaves of ``tree``, in order."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> TreeSpec:
    """The ``TreeSpec`` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """``tree``'s structure with ``func(leaf, *matching leaves of rests)`` at each leaf.

    Example:
        >>> batch = tree_map(lambda t: t.to("cuda"), {"x": x, "y": [y1, y2]})
    """
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_flatten_like(r, spec, is_leaf) for r in rests]
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def tree_map_(func, tree, *rests, is_leaf=None):
    """Call ``func`` on each leaf (and the matching leaves of ``rests``) for its side
    effects; returns ``tree``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_flatten_like(r, spec, is_leaf) for r in rests]
    for xs in zip(leaves, *others):
        func(*xs)
    return tree


def _flatten_like(tree, spec: TreeSpec, is_leaf) -> list:
    leaves, other = tree_flatten(tree, is_leaf)
    if other != spec:
        raise ValueError(f"Tree structure mismatch: expected {spec}, got {other}")
    return leaves


def tree_all(pred, tree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_leaves(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_leaves(tree, is_leaf)))


__all__ = [
    "LeafSpec",
    "TreeSpec",
    "register_pytree_node",
    "tree_all",
    "tree_any",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_map_",
    "tree_structure",
    "tree_unflatten",
]
