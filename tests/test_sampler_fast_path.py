"""In-place samplers written directly when nothing is recorded (``_fill_random``'s fast path):
the same numbers as PyTorch, and the same autograd bookkeeping as the recorded path (version
counters, views, leaves, saved tensors)."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

SAMPLERS = [
    ("uniform_", (-2.0, 3.0)),
    ("uniform_", ()),
    ("normal_", (1.0, 2.0)),
    ("exponential_", ()),
    ("bernoulli_", (0.3,)),
    ("random_", (0, 7)),
]


@pytest.mark.parametrize("size", [1, 16, 1000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numbers_are_pytorchs(size, dtype):
    """Each sampler in turn on one stream: PyTorch's numbers bit for bit."""
    minigrad.manual_seed(3), torch.manual_seed(3)
    m, t = (
        minigrad.empty(size, dtype=getattr(minigrad, dtype)),
        torch.empty(size, dtype=getattr(torch, dtype)),
    )
    for name, args in SAMPLERS:
        getattr(m, name)(*args), getattr(t, name)(*args)
        np.testing.assert_array_equal(m.numpy(), t.numpy(), err_msg=name)


def test_a_view_fills_its_base_and_bumps_the_shared_version():
    base = minigrad.zeros(4, 6)
    view = base[1:3, ::2]
    before = base._version
    view.uniform_()
    assert base._version == view._version == before + 1
    assert (base[1:3, ::2] == view).all() and (base[0] == 0).all() and (base[1:3, 1::2] == 0).all()


def test_a_leaf_that_requires_grad():
    """Refused under grad mode, as PyTorch; written under no_grad (nn.init's way)."""
    w = minigrad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.uniform_()
    with minigrad.no_grad():
        w[1:].normal_()
    assert w.requires_grad and w.grad_fn is None and (w[1:] != 0).all() and w[0] == 0


def test_a_saved_tensor_filled_in_place_is_refused_by_backward():
    x = minigrad.ones(3, requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()  # saves y
    with minigrad.no_grad():
        y.uniform_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
