"""Leftovers of the seventeenth session, each checked against PyTorch 2.13: error wording
(``bincount``, ``index_add_``, ``Tensor.unfold``)."""

import re

import pytest

import minigrad


def _raises_as_torch(torch, call):
    """``call(lib)`` raises the same exception type with PyTorch's words in minigrad."""
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value), match=re.escape(str(want.value))):
        call(minigrad)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.bincount(t.tensor([-1, 2]), minlength=-1),
        lambda t: t.zeros(3).index_add_(0, t.tensor([3]), t.ones(1)),
        lambda t: t.zeros(3).index_add_(0, t.tensor([-1]), t.ones(1)),
        lambda t: t.zeros(3, 2).index_add_(0, t.tensor([3]), t.ones(1, 2)),
        lambda t: t.zeros(3, 2).index_add_(-1, t.tensor([2]), t.ones(3, 1)),
        lambda t: t.zeros(3, 2).index_add_(0, t.tensor([3]), t.ones(1, 2), alpha=2),
        lambda t: t.zeros(3, 2).index_add_(0, t.tensor([3], dtype=t.int32), t.ones(1, 2)),
        lambda t: t.zeros(2, 3, 4).index_add(1, t.tensor([3]), t.ones(2, 1, 4)),
        lambda t: t.arange(6.0).unfold(0, 7, 1),
        lambda t: t.arange(6.0).unfold(0, 2, 0),
        lambda t: t.arange(6.0).unfold(0, -1, 1),
        lambda t: t.arange(6.0).unfold(-2, 2, 1),
        lambda t: t.tensor(5.0).unfold(0, 2, 1),
    ],
)
def test_error_words_as_pytorch(call):
    """PyTorch's CPU ``index_add_`` words an index out of range two ways: its scatter_add path
    (first or last dim of a 2-D-or-more input, int64 index, alpha 1) names the index."""
    _raises_as_torch(pytest.importorskip("torch"), call)
