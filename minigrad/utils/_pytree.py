"""Pytrees as ``torch.utils._pytree``: nested containers flattened to leaves and a TreeSpec.

Containers are the registered node types: tuple, list, dict (key order kept), namedtuples,
OrderedDict, defaultdict and deque, plus any class given to :func:`register_pytree_node`.
Everything else (``None`` included, as in PyTorch's Python pytree) is a leaf. The node type is
looked up by exact class, so a subclass of dict that is not registered is a leaf.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict, namedtuple
from collections.abc import Callable
from typing import Any, NamedTuple

from ._pytree_keys import GetAttrKey, MappingKey, SequenceKey, key_get, keystr

__all__ = [
    "GetAttrKey",
    "LeafSpec",
    "MappingKey",
    "SequenceKey",
    "TreeSpec",
    "key_get",
    "keystr",
    "register_pytree_node",
    "tree_all",
    "tree_all_only",
    "tree_any",
    "tree_any_only",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_is_leaf",
    "tree_iter",
    "tree_leaves",
    "tree_leaves_with_path",
    "tree_map",
    "tree_map_",
    "tree_map_only",
    "tree_map_only_",
    "tree_map_with_path",
    "tree_structure",
    "tree_unflatten",
    "treespec_dumps",
    "treespec_loads",
    "treespec_pprint",
]

PyTree = Any
DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL = 1


class NodeDef(NamedTuple):
    """How one container type is taken apart and rebuilt."""

    type: Any
    flatten_fn: Callable
    unflatten_fn: Callable
    flatten_with_keys_fn: Callable | None


class _SerializeNodeDef(NamedTuple):
    type: Any
    serialized_type_name: str
    to_dumpable_context: Callable | None
    from_dumpable_context: Callable | None


SUPPORTED_NODES: dict[Any, NodeDef] = {}
SUPPORTED_SERIALIZED_TYPES: dict[Any, _SerializeNodeDef] = {}
SERIALIZED_TYPE_TO_PYTHON_TYPE: dict[str, Any] = {}
_NAMEDTUPLE_NAMES: dict[type, str] = {}


def register_pytree_node(
    cls,
    flatten_fn,
    unflatten_fn,
    *,
    serialized_type_name: str | None = None,
    to_dumpable_context=None,
    from_dumpable_context=None,
    flatten_with_keys_fn=None,
) -> None:
    """Make ``cls`` a container: ``flatten_fn(obj) -> (children, context)`` and
    ``unflatten_fn(children, context) -> obj``.

    Example:
        >>> register_pytree_node(Point, lambda p: ([p.x, p.y], None), lambda c, _: Point(*c))
    """
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    if (to_dumpable_context is None) != (from_dumpable_context is None):
        raise ValueError(
            "register_pytree_node: to_dumpable_context and from_dumpable_context must both be "
            "given or both be None"
        )
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)
    if serialized_type_name is not None:
        entry = _SerializeNodeDef(
            cls, serialized_type_name, to_dumpable_context, from_dumpable_context
        )
        SUPPORTED_SERIALIZED_TYPES[cls] = entry
        SERIALIZED_TYPE_TO_PYTHON_TYPE[serialized_type_name] = cls


_register_pytree_node = register_pytree_node


def _register_namedtuple(cls, *, serialized_type_name: str) -> None:
    """Give namedtuple class ``cls`` a name, so that :func:`treespec_dumps` can write it."""
    _NAMEDTUPLE_NAMES[cls] = serialized_type_name
    SERIALIZED_TYPE_TO_PYTHON_TYPE[serialized_type_name] = cls


def register_dataclass(
    cls,
    *,
    field_names: list[str] | None = None,
    drop_field_names: list[str] | None = None,
    serialized_type_name: str | None = None,
) -> None:
    """Register a dataclass: its ``field_names`` are the children (default: the fields the
    constructor takes); ``drop_field_names`` are left out of the tree and take their defaults
    when it is rebuilt. Every constructor field must be in one of the two (ValueError)."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"register_dataclass: {cls} is not a dataclass")
    init_fields = {f.name for f in dataclasses.fields(cls) if f.init}
    dropped = set(drop_field_names or ())
    if field_names is None:
        names = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in dropped]
    else:
        names = list(field_names)
        missing = init_fields - set(names) - dropped
        if missing:
            raise ValueError(
                "field_names does not include all dataclass fields.\nMissing fields in "
                f"`field_names`: {missing}. If you want to include these fields in the pytree, "
                "please add them to `field_names`, otherwise please add them to "
                "`drop_field_names`."
            )
    register_pytree_node(
        cls,
        lambda obj: ([getattr(obj, n) for n in names], names),
        lambda values, ctx: cls(**dict(zip(ctx, values))),
        serialized_type_name=serialized_type_name,
        flatten_with_keys_fn=lambda obj: (
            [(GetAttrKey(n), getattr(obj, n)) for n in names],
            names,
        ),
    )


def is_namedtuple_class(cls) -> bool:
    """Whether ``cls`` is a class made by ``collections.namedtuple`` / ``typing.NamedTuple``."""
    return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")


def is_namedtuple_instance(obj) -> bool:
    """Whether ``obj`` is an instance of a namedtuple class."""
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj) -> bool:
    """Whether ``obj`` is a namedtuple class or instance."""
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def _node_type(tree):
    cls = type(tree)  # a registered class first (return types), then any namedtuple
    return cls if cls in SUPPORTED_NODES or not is_namedtuple_class(cls) else namedtuple


_get_node_type = _node_type  # PyTorch's name (Lightning's own flatten calls it)


def tree_is_leaf(tree, is_leaf=None) -> bool:
    """Whether ``tree`` is a leaf (not a registered container, or ``is_leaf`` says so)."""
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_type(tree) not in SUPPORTED_NODES


class TreeSpec:
    """The shape of a pytree: the node type, its context (keys, class, ...) and the children.

    Two specs are equal when types, contexts and children are; ``repr`` prints as PyTorch's.
    """

    def __init__(self, type, context, children_specs) -> None:
        self.type = type
        self._context = context
        self._children = list(children_specs)
        self.num_children = len(self._children)
        if type is None:
            self.num_leaves, self.num_nodes = 1, 1
        else:
            self.num_leaves = sum(c.num_leaves for c in self._children)
            self.num_nodes = 1 + sum(c.num_nodes for c in self._children)

    @property
    def context(self):
        return self._context

    @property
    def children_specs(self) -> list:
        return self._children

    def children(self) -> list:
        """The specs of the children, in order."""
        return list(self._children)

    def child(self, index: int) -> TreeSpec:
        """The spec of child ``index``."""
        return self._children[index]

    def is_leaf(self) -> bool:
        """Whether this spec stands for one leaf."""
        return self.type is None

    def __eq__(self, other) -> bool:
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return (
            self.type is other.type
            and self._context == other._context
            and self._children == other._children
        )

    def __hash__(self) -> int:
        return hash((id(self.type), self.num_nodes, self.num_leaves, tuple(self._children)))

    def __repr__(self) -> str:
        return self._repr(0)

    def _repr(self, indent: int) -> str:
        if self.type is None:
            return "*"
        name = "namedtuple" if self.type is namedtuple else self.type.__name__
        parts = [c._repr(indent + 2) for c in self._children]
        body = (",\n" + " " * (indent + 2)).join(parts)
        return f"TreeSpec({name}, {self._context!r}, [{body}])"

    def flatten_up_to(self, tree) -> list:
        """The subtrees of ``tree`` at this spec's leaves (``tree`` must hold this shape)."""
        out: list = []
        self._flatten_up_to(tree, out)
        return out

    def _flatten_up_to(self, tree, out: list) -> None:
        if self.type is None:
            out.append(tree)
            return
        kind = _node_type(tree)
        if kind is not self.type:
            expected = self.type
            raise ValueError(f"Node type mismatch; expected {expected}, but got {type(tree)}.")
        children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
        if len(children) != self.num_children:
            raise ValueError(
                f"Node arity mismatch; expected {self.num_children}, but got {len(children)}."
            )
        if context != self._context:
            if isinstance(tree, dict):
                want, got = set(_dict_keys(self.type, self._context)), set(tree)
                raise ValueError(
                    f"Node keys mismatch; missing key(s): {want - got}; extra key(s): {got - want}."
                )
            raise ValueError(
                f"Node context mismatch for type {self.type}; expected {self._context!r}, "
                f"but got {context!r}."
            )
        for spec, child in zip(self._children, children):
            spec._flatten_up_to(child, out)

    def unflatten(self, leaves):
        """The pytree of this shape holding ``leaves`` in order."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(
                f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec "
                f"refers to a pytree that holds {self.num_leaves} items ({self!r})."
            )
        return self._build(iter(leaves))

    def _build(self, it):
        if self.type is None:
            return next(it)
        children = [c._build(it) for c in self._children]
        return SUPPORTED_NODES[self.type].unflatten_fn(children, self._context)


class LeafSpec(TreeSpec):
    """The spec of one leaf (``*`` in a repr)."""

    def __init__(self) -> None:
        super().__init__(None, None, [])


def _dict_keys(kind, context):
    return context[1] if kind is defaultdict else context


def _dict_flatten(d: dict) -> tuple[list, list]:
    """A dict's values and, as the context, its keys (PyTorch's flatten function for dicts,
    which libraries reuse for dict-like classes)."""
    return list(d.values()), list(d.keys())


def _dict_unflatten(values, context) -> dict:
    return dict(zip(context, values))


def _dict_flatten_with_keys(d: dict) -> tuple[list, list]:
    """:func:`_dict_flatten` with each value paired with its :class:`MappingKey`."""
    values, context = _dict_flatten(d)
    return [(MappingKey(k), v) for k, v in zip(context, values)], context


def treespec_leaf() -> TreeSpec:
    """The spec of one leaf."""
    return LeafSpec()


def treespec_tuple(children=()) -> TreeSpec:
    """The spec of a tuple with the given children specs."""
    return TreeSpec(tuple, None, children)


def treespec_dict(mapping=None, **kwargs) -> TreeSpec:
    """The spec of a dict whose values have the given specs."""
    d = dict(mapping or {}, **kwargs)
    return TreeSpec(dict, list(d), list(d.values()))


def _flatten_into(tree, leaves: list, is_leaf) -> TreeSpec:
    if tree_is_leaf(tree, is_leaf):
        leaves.append(tree)
        return LeafSpec()
    kind = _node_type(tree)
    children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
    return TreeSpec(kind, context, [_flatten_into(c, leaves, is_leaf) for c in children])


def tree_flatten(tree: PyTree, is_leaf=None) -> tuple[list, TreeSpec]:
    """``(leaves, spec)``: the leaves in order and the shape :func:`tree_unflatten` rebuilds.

    Example:
        >>> tree_flatten({"a": [1, 2], "b": None})
        ([1, 2, None], TreeSpec(dict, ['a', 'b'], [...]))
    """
    leaves: list = []
    spec = _flatten_into(tree, leaves, is_leaf)
    return leaves, spec


def tree_unflatten(leaves, treespec: TreeSpec) -> PyTree:
    """The pytree of shape ``treespec`` holding ``leaves``."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(
            f"tree_unflatten(leaves, treespec): Expected `treespec` to be an instance of "
            f"TreeSpec but got item of type {type(treespec)}."
        )
    return treespec.unflatten(leaves)


def tree_iter(tree: PyTree, is_leaf=None):
    """An iterator over the leaves of ``tree``."""
    if tree_is_leaf(tree, is_leaf):
        yield tree
        return
    children, _ = SUPPORTED_NODES[_node_type(tree)].flatten_fn(tree)
    for child in children:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree: PyTree, is_leaf=None) -> list:
    """The leaves of ``tree`` in order."""
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree: PyTree, is_leaf=None) -> TreeSpec:
    """The TreeSpec of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree: PyTree, *rests, is_leaf=None) -> PyTree:
    """``tree`` with ``func`` applied to each leaf; with ``rests``, ``func`` takes the matching
    subtrees of each (whose structure must contain ``tree``'s)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(map(func, *columns))


def tree_map_(func, tree: PyTree, *rests, is_leaf=None) -> PyTree:
    """Call ``func`` on each leaf (for its side effects) and return ``tree`` itself."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(r) for r in rests]
    for args in zip(*columns):
        func(*args)
    return tree


def _only(type_or_pred, func):
    if isinstance(type_or_pred, (type, tuple)) or type(type_or_pred).__name__ == "UnionType":
        return lambda x: func(x) if isinstance(x, type_or_pred) else x
    if callable(type_or_pred):
        return lambda x: func(x) if type_or_pred(x) else x
    raise TypeError(
        f"tree_map_only: expected a type, tuple of types or predicate, got {type_or_pred!r}"
    )


def tree_map_only(type_or_types_or_pred, /, func, tree: PyTree, is_leaf=None) -> PyTree:
    """:func:`tree_map` over the leaves that are instances of the type(s) (or pass the
    predicate); other leaves are kept as they are."""
    return tree_map(_only(type_or_types_or_pred, func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types_or_pred, /, func, tree: PyTree, is_leaf=None) -> PyTree:
    """:func:`tree_map_` over the leaves of the given type(s) (or passing the predicate)."""
    return tree_map_(_only(type_or_types_or_pred, func), tree, is_leaf=is_leaf)


def tree_all(pred, tree: PyTree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred, tree: PyTree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types, /, pred, tree: PyTree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for every leaf of the given type(s)."""
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def tree_any_only(type_or_types, /, pred, tree: PyTree, is_leaf=None) -> bool:
    """Whether ``pred`` holds for some leaf of the given type(s)."""
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, type_or_types))


def treespec_pprint(treespec: TreeSpec) -> str:
    """The spec drawn as the pytree it describes, with ``*`` for each leaf."""
    return repr(tree_unflatten([_Star()] * treespec.num_leaves, treespec))


class _Star:
    def __repr__(self) -> str:
        return "*"


# isort: split
# key paths, JSON and the built-in node types, in their own file (they use the registry and
# TreeSpec above); importing it registers tuple, list, dict, namedtuple, OrderedDict, ...
from ._pytree_extra import (  # noqa: E402
    tree_flatten_with_path,
    tree_leaves_with_path,
    tree_map_with_path,
    treespec_dumps,
    treespec_loads,
)
