"""Focused tests for what the eighteenth round of programs (tests/test_programs18.py) found
different from PyTorch, each compared with PyTorch itself."""

import pytest

import minigrad


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.quantile(t.rand(5), 1.5),  # a Python q: named with its value
        lambda t: t.quantile(t.arange(5), -0.5),  # checked before the dtype
        lambda t: t.nanquantile(t.rand(5), float("nan")),  # named quantile() too
        lambda t: t.nanquantile(t.arange(3), 0.5),
        lambda t: t.quantile(t.rand(5), t.tensor([0.5, float("nan")])),  # NaN in a q tensor
    ],
)
def test_quantile_q_out_of_range(call):
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = _error(minigrad, call), _error(torch, call)
    assert mine == pytorchs and message.startswith(pytorch_message)  # (ours may add the dtype)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.tensor([0.0, 1.0]),
        lambda t: t.tensor([True, False]),
        lambda t: t.tensor([[0.5]], dtype=t.float64),  # the dtype is refused before the shape
        lambda t: t.tensor([[0, 1]]),
        lambda t: t.tensor([0, -1]),
    ],
)
def test_bincount_refuses_floats_with_pytorchs_error(make):
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = (
        _error(lib, lambda t: t.bincount(make(t))) for lib in (minigrad, torch)
    )
    assert mine == pytorchs and message.startswith(pytorch_message)
