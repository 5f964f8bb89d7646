"""``torch._higher_order_ops.associative_scan`` (Hugging Face's Mamba imports it): the
inclusive scan of a pytree with an associative function, in log-depth, against running loops
and PyTorch's eager ``combine_mode="generic"``, with its gradients and PyTorch's refusals."""

import pytest

import minigrad
from minigrad._higher_order_ops import associative_scan


def _scan(fn, xs, dim=0, **kw):
    return associative_scan(fn, xs, dim, combine_mode="generic", **kw)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 13])
def test_sums_and_products_are_the_running_ones(n):
    x = minigrad.rand(3, n, dtype=minigrad.float64) + 0.5
    assert minigrad.allclose(_scan(lambda a, b: a + b, x, 1), x.cumsum(1))
    assert minigrad.allclose(_scan(lambda a, b: a * b, x, -1), x.cumprod(1))
    flipped = _scan(lambda a, b: a + b, x, 1, reverse=True)
    assert minigrad.allclose(flipped, x.flip([1]).cumsum(1).flip([1]))


def test_a_linear_recurrence_as_mamba_scans_it():
    a, b = (
        minigrad.rand(2, 7, 3, dtype=minigrad.float64),
        minigrad.rand(2, 7, 3, dtype=minigrad.float64),
    )
    _, h = _scan(lambda left, right: (left[0] * right[0], right[0] * left[1] + right[1]), (a, b), 1)
    state, states = minigrad.zeros(2, 3, dtype=minigrad.float64), []
    for t in range(7):
        state = a[:, t] * state + b[:, t]
        states.append(state)
    assert minigrad.allclose(h, minigrad.stack(states, 1))


def test_a_generic_combine_is_mapped_over_the_elements():
    m = minigrad.rand(6, 2, 2, dtype=minigrad.float64)
    out = _scan(lambda a, b: b @ a, m, 0)
    product = m[0]
    for i in range(1, 6):
        product = m[i] @ product
    assert minigrad.allclose(out[-1], product)


def test_gradients_pass_gradcheck():
    x = minigrad.rand(6, dtype=minigrad.float64, requires_grad=True)
    assert minigrad.autograd.gradcheck(lambda t: _scan(lambda a, b: a * b + a, t, 0), (x,))


def test_values_and_gradients_are_pytorchs():
    torch = pytest.importorskip("torch")
    from torch._higher_order_ops.associative_scan import associative_scan as theirs

    values = [0.5, 1.5, 2.0, 0.25, 3.0]
    results = []
    for lib, scan in ((minigrad, associative_scan), (torch, theirs)):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = scan(lambda a, b: a * b, x, 0, reverse=True, combine_mode="generic")
        y.sum().backward()
        results.append((y.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"combine_mode": "pointwise"}, ValueError, "need to be on CUDA or XPU"),
        ({"combine_mode": "fused"}, ValueError, "Combine_mode must either"),
        ({"combine_mode": "generic", "reverse": 1}, RuntimeError, "Reverse must be a bool"),
    ],
)
def test_refusals_are_pytorchs(kwargs, error, words):
    with pytest.raises(error, match=words):
        associative_scan(lambda a, b: a + b, minigrad.ones(3), 0, **kwargs)
    with pytest.raises(ValueError, match="scan dimension > 0"):
        _scan(lambda a, b: a + b, minigrad.ones(0), 0)
