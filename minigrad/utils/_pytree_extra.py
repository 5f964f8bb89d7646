"""Key paths, JSON and the built-in node types of :mod:`minigrad.utils._pytree`
(``tree_flatten_with_path``, ``treespec_dumps``/``treespec_loads`` in PyTorch's format)."""

from __future__ import annotations

import importlib
import json
from collections import OrderedDict, defaultdict, deque, namedtuple

from ._pytree import (
    _NAMEDTUPLE_NAMES,
    DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL,
    SERIALIZED_TYPE_TO_PYTHON_TYPE,
    SUPPORTED_NODES,
    SUPPORTED_SERIALIZED_TYPES,
    LeafSpec,
    NodeDef,
    PyTree,
    TreeSpec,
    _node_type,
    register_pytree_node,
    tree_is_leaf,
    tree_structure,
)
from ._pytree_keys import GetAttrKey, MappingKey, SequenceKey

__all__ = [
    "tree_flatten_with_path",
    "tree_leaves_with_path",
    "tree_map_with_path",
    "treespec_dumps",
    "treespec_loads",
]


def _keyed_children(tree):
    node = SUPPORTED_NODES[_node_type(tree)]
    if node.flatten_with_keys_fn is None:
        raise ValueError(
            f"Did not find a flatten_with_keys_fn for type: {type(tree)}. Please pass a "
            "flatten_with_keys_fn argument to register_pytree_node."
        )
    return node.flatten_with_keys_fn(tree)[0]


def tree_flatten_with_path(tree: PyTree, is_leaf=None) -> tuple[list, TreeSpec]:
    """``([(key_path, leaf), ...], spec)``: each leaf with the keys that reach it."""
    return tree_leaves_with_path(tree, is_leaf), tree_structure(tree, is_leaf)


def tree_leaves_with_path(tree: PyTree, is_leaf=None) -> list:
    """``[(key_path, leaf), ...]`` for every leaf of ``tree``."""
    out: list = []

    def walk(node, path):
        if tree_is_leaf(node, is_leaf):
            out.append((path, node))
            return
        for key, child in _keyed_children(node):
            walk(child, (*path, key))

    walk(tree, ())
    return out


def tree_map_with_path(func, tree: PyTree, *rests, is_leaf=None) -> PyTree:
    """:func:`tree_map` where ``func`` also receives each leaf's key path first."""
    pairs, spec = tree_flatten_with_path(tree, is_leaf)
    columns = [spec.flatten_up_to(r) for r in rests]
    values = [func(path, leaf, *more) for (path, leaf), *more in zip(pairs, *columns)]
    return spec.unflatten(values)


def _spec_to_json(spec: TreeSpec) -> dict:
    if spec.type is None:
        return {"type": None, "context": None, "children_spec": []}
    if spec.type is namedtuple:
        cls = spec.context
        if cls not in _NAMEDTUPLE_NAMES:
            raise NotImplementedError(
                f"Can't serialize TreeSpec of namedtuple class {cls} because we didn't "
                "register a serializated_type_name. Please register using "
                "`_register_namedtuple`."
            )
        name, context = "collections.namedtuple", _NAMEDTUPLE_NAMES[cls]
    else:
        entry = SUPPORTED_SERIALIZED_TYPES.get(spec.type)
        if entry is None:
            raise NotImplementedError(
                f"No registered serialization name for {spec.type} found. Please update your "
                "_register_pytree_node call with a `serialized_type_name` kwarg."
            )
        name = entry.serialized_type_name
        dump = entry.to_dumpable_context
        context = json.dumps(spec.context) if dump is None else dump(spec.context)
    children = [_spec_to_json(c) for c in spec.children_specs]
    return {"type": name, "context": context, "children_spec": children}


def _json_to_spec(obj: dict) -> TreeSpec:
    if obj["type"] is None:
        return LeafSpec()
    name = obj["type"]
    if name == "collections.namedtuple":
        kind, context = namedtuple, SERIALIZED_TYPE_TO_PYTHON_TYPE[obj["context"]]
    else:
        if name not in SERIALIZED_TYPE_TO_PYTHON_TYPE:
            raise NotImplementedError(
                f"No registered type for serialized name {name!r}; register the type with "
                "register_pytree_node(..., serialized_type_name=...)"
            )
        kind = SERIALIZED_TYPE_TO_PYTHON_TYPE[name]
        load = SUPPORTED_SERIALIZED_TYPES[kind].from_dumpable_context
        context = json.loads(obj["context"]) if load is None else load(obj["context"])
    return TreeSpec(kind, context, [_json_to_spec(c) for c in obj["children_spec"]])


def treespec_dumps(treespec: TreeSpec, protocol: int | None = None) -> str:
    """The spec as a JSON string (types by their registered serialized names)."""
    protocol = DEFAULT_TREESPEC_SERIALIZATION_PROTOCOL if protocol is None else protocol
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return json.dumps([protocol, _spec_to_json(treespec)])


def treespec_loads(serialized: str) -> TreeSpec:
    """The spec written by :func:`treespec_dumps`."""
    protocol, obj = json.loads(serialized)
    if protocol != 1:
        raise ValueError(f"Unknown protocol {protocol}. Available protocols: [1]")
    return _json_to_spec(obj)


def _defaultdict_to_dumpable(context):
    factory, keys = context
    return {
        "default_factory_module": factory.__module__,
        "default_factory_name": factory.__qualname__,
        "dict_context": keys,
    }


def _defaultdict_from_dumpable(obj):
    module = importlib.import_module(obj["default_factory_module"])
    return [getattr(module, obj["default_factory_name"]), obj["dict_context"]]


def _register_builtins() -> None:
    seq_keys = lambda s: ([(SequenceKey(i), v) for i, v in enumerate(s)], None)  # noqa: E731
    map_keys = lambda d: ([(MappingKey(k), v) for k, v in d.items()], list(d))  # noqa: E731
    builtins = [
        (tuple, lambda t: (list(t), None), lambda c, _: tuple(c), seq_keys, "builtins.tuple"),
        (list, lambda t: (list(t), None), lambda c, _: list(c), seq_keys, "builtins.list"),
        (dict, lambda d: (list(d.values()), list(d)), lambda c, k: dict(zip(k, c)), map_keys,
         "builtins.dict"),
        (OrderedDict, lambda d: (list(d.values()), list(d)),
         lambda c, k: OrderedDict(zip(k, c)), map_keys, "collections.OrderedDict"),
        (deque, lambda d: (list(d), d.maxlen), lambda c, m: deque(c, maxlen=m), seq_keys,
         "collections.deque"),
    ]  # fmt: skip
    for cls, flat, unflat, keyed, name in builtins:
        register_pytree_node(
            cls, flat, unflat, serialized_type_name=name, flatten_with_keys_fn=keyed
        )
    register_pytree_node(
        defaultdict,
        lambda d: (list(d.values()), [d.default_factory, list(d)]),
        lambda c, ctx: defaultdict(ctx[0], zip(ctx[1], c)),
        serialized_type_name="collections.defaultdict",
        to_dumpable_context=_defaultdict_to_dumpable,
        from_dumpable_context=_defaultdict_from_dumpable,
        flatten_with_keys_fn=lambda d: (
            [(MappingKey(k), v) for k, v in d.items()],
            [d.default_factory, list(d)],
        ),
    )
    SUPPORTED_NODES[namedtuple] = NodeDef(
        namedtuple,
        lambda t: (list(t), type(t)),
        lambda c, cls: cls(*c),
        lambda t: ([(GetAttrKey(f), v) for f, v in zip(t._fields, t)], type(t)),
    )

    _register_minigrad_types()


def _register_minigrad_types() -> None:
    """``minigrad.Size`` (rebuilt as a tuple) and the return types, each its own node type
    (``TreeSpec(max, None, ...)``), as PyTorch registers ``torch.Size`` and its structseqs."""
    from .. import return_types
    from ..ops._size import Size

    seq_keys = lambda s: ([(SequenceKey(i), v) for i, v in enumerate(s)], None)  # noqa: E731
    register_pytree_node(
        Size,
        lambda s: (list(s), None),
        lambda c, _: tuple(c),
        serialized_type_name="torch.Size",  # (PyTorch's name: specs it writes load here)
        flatten_with_keys_fn=seq_keys,
    )
    for cls in return_types.all_return_types:
        register_pytree_node(
            cls,
            lambda t: (list(t), None),
            lambda c, _, cls=cls: cls(*c),
            flatten_with_keys_fn=seq_keys,  # (PyTorch's paths into its structseqs: [0], [1])
        )


_register_builtins()
