"""minigrad.utils._pytree against torch.utils._pytree: flatten, specs, maps, serialization."""

from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple

import pytest

import minigrad.utils._pytree as mp

torch = pytest.importorskip("torch")
tp = pytest.importorskip("torch.utils._pytree")

Point = namedtuple("Point", "x y")


def _trees():
    return [
        {"b": [1, (2, 3)], "a": None, "c": Point(4, 5)},
        OrderedDict(z=1, a=[2]),
        defaultdict(list, {1: 7, 0: (8,)}),
        deque([8, 9], maxlen=3),
        [(), [], {}, None],
        5,
        None,
    ]


@pytest.mark.parametrize("tree", _trees())
def test_flatten_repr_and_roundtrip_match_torch(tree):
    leaves, spec = mp.tree_flatten(tree)
    t_leaves, t_spec = tp.tree_flatten(tree)
    assert leaves == t_leaves
    assert repr(spec) == repr(t_spec)
    assert mp.treespec_pprint(spec) == tp.treespec_pprint(t_spec)
    assert spec.num_leaves == t_spec.num_leaves and spec.num_nodes == t_spec.num_nodes
    assert mp.tree_unflatten(leaves, spec) == tree
    if not isinstance(tree, dict) or "c" not in tree:  # unregistered namedtuples cannot dump
        assert mp.treespec_dumps(spec) == tp.treespec_dumps(t_spec)
        assert mp.treespec_loads(tp.treespec_dumps(t_spec)) == spec


def test_spec_equality_and_leafspec():
    assert mp.tree_structure({"a": [1, 2]}) == mp.tree_structure({"a": [5, 6]})
    assert mp.tree_structure({"a": [1, 2]}) != mp.tree_structure({"a": (5, 6)})
    assert mp.tree_structure({"a": 1, "b": 2}) != mp.tree_structure({"b": 1, "a": 2})
    assert mp.tree_structure(OrderedDict(a=1)) != mp.tree_structure({"a": 1})
    assert hash(mp.tree_structure([1, 2])) == hash(mp.tree_structure([3, 4]))
    assert mp.LeafSpec() == mp.tree_structure(3) and repr(mp.LeafSpec()) == "*"
    assert mp.tree_structure([1]).child(0).is_leaf()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert isinstance(mp.tree_structure(3), mp.LeafSpec) == isinstance(
            tp.tree_structure(3), tp.LeafSpec
        )


def test_maps_and_predicates_match_torch():
    tree = [1, "a", 2.0, {"k": (3, None)}]
    for mod in (mp, tp):
        assert mod.tree_leaves(tree) == [1, "a", 2.0, 3, None]
    f = lambda x: x * 10  # noqa: E731
    assert mp.tree_map_only(int, f, tree) == tp.tree_map_only(int, f, tree)
    assert mp.tree_map_only((int, float), f, tree) == tp.tree_map_only((int, float), f, tree)
    pred = lambda x: isinstance(x, str)  # noqa: E731
    assert mp.tree_map_only(pred, str.upper, tree) == tp.tree_map_only(pred, str.upper, tree)
    assert mp.tree_map(lambda x, y: (x, y), [1, 2], [[3], (4, 5)]) == [(1, [3]), (2, (4, 5))]
    assert mp.tree_all(lambda x: x > 0, [1, (2,)]) and not mp.tree_any(lambda x: x > 5, [1])
    assert mp.tree_all_only(int, lambda x: x > 0, [1, -2.0])
    assert not mp.tree_any_only(float, lambda x: x > 0, [1, -2.0])
    is_leaf = lambda x: isinstance(x, list) and len(x) == 1  # noqa: E731
    assert mp.tree_leaves([1, [2]], is_leaf=is_leaf) == tp.tree_leaves([1, [2]], is_leaf=is_leaf)
    seen = []
    assert mp.tree_map_(seen.append, tree) is tree and len(seen) == 5


def test_tensors_are_leaves():
    import minigrad

    x, y = minigrad.ones(2), minigrad.zeros(3)
    out = mp.tree_map_only(minigrad.Tensor, lambda t: t + 1, {"x": x, "n": 3, "y": [y]})
    assert out["n"] == 3 and out["x"].tolist() == [2.0, 2.0] and out["y"][0].tolist() == [1.0] * 3


def test_mismatch_errors_match_torch():
    spec = mp.tree_structure({"a": [1, 2]})
    for mod, s in ((mp, spec), (tp, tp.tree_structure({"a": [1, 2]}))):
        with pytest.raises(ValueError, match="length 3 but the spec refers to a pytree that"):
            mod.tree_unflatten([1, 2, 3], s)
        with pytest.raises(ValueError, match="Node arity mismatch; expected 2, but got 1"):
            mod.tree_map(lambda x, y: x, [1, 2], [3])
        with pytest.raises(ValueError, match="Node type mismatch"):
            mod.tree_map(lambda x, y: x, [1, 2], (3, 4))
        with pytest.raises(ValueError, match="missing key"):
            s.flatten_up_to({"b": [1, 2]})
    with pytest.raises(NotImplementedError, match="_register_namedtuple"):
        mp.treespec_dumps(mp.tree_structure(Point(1, 2)))
    with pytest.raises(ValueError, match="Unknown protocol 2"):
        mp.treespec_loads("[2, {}]")


def test_register_pytree_node_and_paths():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    mp.register_pytree_node(
        Pair,
        lambda p: ([p.a, p.b], None),
        lambda c, _: Pair(*c),
        serialized_type_name="tests.Pair",
        flatten_with_keys_fn=lambda p: (
            [(mp.GetAttrKey("a"), p.a), (mp.GetAttrKey("b"), p.b)],
            None,
        ),
    )
    leaves, spec = mp.tree_flatten([Pair(1, [2, 3])])
    assert leaves == [1, 2, 3] and repr(spec.child(0)).startswith("TreeSpec(Pair, None, [*,")
    assert mp.treespec_loads(mp.treespec_dumps(spec)) == spec
    with pytest.raises(ValueError, match="already registered"):
        mp.register_pytree_node(Pair, lambda p: ([], None), lambda c, _: Pair(0, 0))
    paths = mp.tree_leaves_with_path({"a": [1, Point(2, 3)], "p": Pair(4, 5)})
    assert [mp.keystr(k) for k, _ in paths] == [
        "['a'][0]",
        "['a'][1].x",
        "['a'][1].y",
        "['p'].a",
        "['p'].b",
    ]
    tree = {"a": [1, Point(2, 3)]}
    for k, v in mp.tree_leaves_with_path(tree):
        assert mp.key_get(tree, k) == v
    assert mp.tree_map_with_path(lambda k, v: mp.keystr(k), [7]) == ["[0]"]


def test_func_transforms_share_the_implementation():
    from minigrad.func import _pytree as fp

    assert fp.tree_flatten is mp.tree_flatten and fp.tree_unflatten is mp.tree_unflatten


def test_size_and_return_types_are_nodes_as_in_torch():
    import minigrad

    mine, theirs = minigrad.ones(2, 2).max(0), torch.ones(2, 2).max(0)
    assert repr(mp.tree_structure(mine)) == repr(tp.tree_structure(theirs))
    assert type(mp.tree_unflatten([1, 2], mp.tree_structure(mine))) is type(mine)
    assert [mp.keystr(k) for k, _ in mp.tree_leaves_with_path(mine)] == ["[0]", "[1]"]
    size_spec = mp.tree_structure(minigrad.Size([2, 3]))
    assert repr(size_spec) == repr(tp.tree_structure(torch.Size([2, 3])))
    assert mp.tree_unflatten([4, 5], size_spec) == (4, 5)
    assert mp.treespec_dumps(size_spec) == tp.treespec_dumps(tp.tree_structure(torch.Size([2, 3])))
