"""Regression tests for what the thirteenth round's third set of programs
(tests/test_programs13c.py) found differing from PyTorch in minigrad, each compared with
PyTorch."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("lib", [minigrad, torch])
def test_sgd_without_momentum_keeps_no_state(lib):
    # population based training copies optimizer state dicts between members and checks them
    p, q = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))
    plain = lib.optim.SGD([p], lr=0.1)
    heavy = lib.optim.SGD([q], lr=0.1, momentum=0.9)
    for _ in range(2):
        p.grad, q.grad = lib.ones(2), lib.ones(3)
        plain.step()
        heavy.step()
    assert dict(plain.state) == {} and plain.state_dict()["state"] == {}
    assert p.tolist() == pytest.approx([0.8, 0.8])
    assert list(heavy.state_dict()["state"]) == [0]
    assert heavy.state[q]["momentum_buffer"].tolist() == pytest.approx([1.9] * 3)
