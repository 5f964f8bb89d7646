"""Focused tests for what the twentieth round of programs (b) (tests/test_programs20b.py) found
different from PyTorch, each compared with PyTorch itself."""

import pytest

import minigrad


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("reduce", ["max", "min"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_takes_max_and_min_forward_only(reduce, include_self):
    torch = pytest.importorskip("torch")

    def forward(t):
        src = t.tensor([[-1.0, 4.0], [-3.0, 2.0], [5.0, -6.0]])
        index = t.tensor([[0, 1], [0, 1], [2, 1]])
        return t.zeros(3, 2).scatter_reduce(0, index, src, reduce, include_self=include_self)

    assert forward(minigrad).tolist() == forward(torch).tolist()

    def backward(t):
        src = t.tensor([-1.0, -3.0], requires_grad=True)
        out = t.zeros(2).scatter_reduce(0, t.tensor([0, 0]), src, reduce, include_self=False)
        out.sum().backward()

    assert _error(minigrad, backward) == _error(torch, backward)
    unknown = lambda t: t.zeros(2).scatter_reduce(0, t.tensor([0]), t.ones(1), reduce="add")  # noqa: E731
    assert _error(minigrad, unknown)[0] == _error(torch, unknown)[0] == "RuntimeError"
