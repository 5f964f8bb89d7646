"""grad_fn names against PyTorch's: the rows of tests/grad_fn_names.py, op by op."""

from __future__ import annotations

import pytest
from grad_fn_names import CASES, names

import minigrad
import minigrad.nn.functional as F
from minigrad.autograd.graph import is_node_subclass
from minigrad.ops.base import Op

# Rows whose grad_fn minigrad names differently, and why (none now: every row matches). Each
# is checked to still differ, so that a row leaves this list when its name comes to match.
DIFFERENT: dict = {}


@pytest.fixture(scope="module")
def table():
    torch = pytest.importorskip("torch")
    import torch.nn.functional as tF

    return names(minigrad, F), names(torch, tF)


@pytest.mark.parametrize("row", [row for row, _ in CASES])
def test_grad_fn_name_matches_pytorch(table, row):
    ours, theirs = table[0][row], table[1][row]
    assert not ours.startswith("<") and not theirs.startswith("<"), (ours, theirs)
    if row in DIFFERENT:
        assert ours != theirs, f"{row} now matches PyTorch ({ours}): drop it from DIFFERENT"
    else:
        assert ours == theirs


def test_most_rows_match():
    assert set(DIFFERENT) <= {row for row, _ in CASES}
    assert len(DIFFERENT) * 3 < len(CASES)


@pytest.mark.parametrize(
    "key, expected",
    [
        ((1,), "SelectBackward0"),
        ((slice(None),), "SliceBackward0"),
        ((slice(None), 1), "SelectBackward0"),
        ((1, slice(None)), "SelectBackward0"),
        ((slice(1, None), slice(None)), "SliceBackward0"),
        ((slice(None), slice(None)), "AliasBackward0"),
        ((Ellipsis,), "AliasBackward0"),
        ((Ellipsis, 1), "SelectBackward0"),
        ((slice(None), None), "UnsqueezeBackward0"),
        ((None, 1), "SelectBackward0"),
        ((slice(1, None), None, slice(None)), "UnsqueezeBackward0"),
        (([0, 1],), "IndexBackward0"),
        ((1, [0, 1]), "IndexBackward0"),
    ],
)
def test_indexing_names_its_last_step(key, expected):
    key = key[0] if len(key) == 1 else key  # x[:] is a slice (PyTorch's x[(slice(None),)] an alias)
    x = minigrad.randn(3, 4, 5, requires_grad=True)
    assert x[key].grad_fn.name() == expected
    torch = pytest.importorskip("torch")
    assert torch.randn(3, 4, 5, requires_grad=True)[key].grad_fn.name() == expected


@pytest.mark.parametrize(
    "a, b, expected",
    [((3, 4), (4, 5), "MmBackward0"), ((3, 4), (4,), "MvBackward0"), ((4,), (4,), "DotBackward0")],
)
def test_matmul_names_follow_the_operands(a, b, expected):
    x = minigrad.randn(*a, requires_grad=True) @ minigrad.randn(*b)
    assert x.grad_fn.name() == expected


def test_names_depending_on_arguments():
    x = minigrad.rand(3, 4, requires_grad=True) + 0.5
    assert (x**2).grad_fn.name() == "PowBackward0"
    assert (x**x).grad_fn.name() == "PowBackward1"
    assert (2**x).grad_fn.name() == "PowBackward2"
    assert (1 - x).grad_fn.name() == "RsubBackward1"
    assert (x - 1).grad_fn.name() == "SubBackward0"
    assert x.sum().grad_fn.name() == "SumBackward0"
    assert x.sum(0).grad_fn.name() == "SumBackward1"
    assert x.sum(1, keepdim=True).grad_fn.name() == "SumBackward1"
    assert x.prod().grad_fn.name() == "ProdBackward0"
    assert x.prod(1).grad_fn.name() == "ProdBackward1"
    assert x.unbind(0)[0].grad_fn.name() == "UnbindBackward0"
    assert x.chunk(2, 1)[0].grad_fn.name() == "SplitBackward0"
    soft = minigrad.softmax(minigrad.randn(3, 4), 1)
    assert F.cross_entropy(x, soft).grad_fn.name() == "DivBackward1"


def test_the_label_keeps_the_ops_own_name():
    """Forward errors and exports read ``label()``, not PyTorch's backward name (graph
    pictures show the backward name, as torchviz)."""
    x = minigrad.randn(3, 4, requires_grad=True)
    node = F.linear(x, minigrad.randn(5, 4), minigrad.randn(5)).grad_fn
    assert node.name() == "AddmmBackward0" and node.label() == "Linear"
    assert F.relu(x).grad_fn.label() == "ReLU" and x.view(12).grad_fn.label() == "Reshape"
    assert repr(F.relu(x).grad_fn).startswith("<ReluBackward0 object at 0x")


def _op_classes(cls=Op):
    for sub in cls.__subclasses__():
        if not is_node_subclass(sub):  # (the classes of recorded nodes)
            yield sub
            yield from _op_classes(sub)


def test_backward_names_are_pytorch_style():
    for cls in _op_classes():
        named = cls.backward_name
        plain = named and named.rpartition("::")[2]  # (torch::autograd::CopySlices)
        assert named is None or (plain[0].isupper() and " " not in named), cls
        if named is not None:
            assert cls.name() == named
