"""Behaviour kept by session 22's second overhead pass (perf22b): the type tests before
isinstance in Op.__call__, Op.formula and Node.save (numbers, None, bools, complex numbers and
Tensor subclasses as operands), Node.saved's release check, and the engine's test for nodes
with several outputs (by the length of their gradient buffer)."""

import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn


def _pair(values, dtype=np.float64):
    data = np.asarray(values, dtype=dtype)
    return (
        minigrad.tensor(data, requires_grad=True),
        torch.tensor(data, requires_grad=True),
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, lib: x * 2.5 + 0.5,
        lambda x, lib: 3 * x - 1,
        lambda x, lib: x * True + False,
        lambda x, lib: (x * x) / 2,
        lambda x, lib: x.mul(np.float64(1.5)),
    ],
    ids=["float", "int", "bool", "square", "numpy_scalar"],
)
def test_number_operands_match_torch(fn):
    xm, xt = _pair([[0.5, -1.25], [2.0, 3.5]])
    ym, yt = fn(xm, minigrad), fn(xt, torch)
    ym.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=0, atol=0)


def test_complex_number_operand_matches_torch():
    xm, xt = _pair([0.5, -2.0])
    ym, yt = xm * (2 + 1j), xt * (2 + 1j)
    (ym * ym.conj()).real.sum().backward()
    (yt * yt.conj()).real.sum().backward()
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy())


def test_parameter_operands_are_tensors():
    """A Tensor subclass (a Parameter) is no exact Tensor: it takes isinstance's path."""
    w = nn.Parameter(minigrad.tensor([1.0, -2.0], dtype=minigrad.float64))
    x = minigrad.tensor([3.0, 4.0], dtype=minigrad.float64, requires_grad=True)
    y = w * x + w
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 5.0])
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, -2.0])


def test_product_saves_no_number_as_tensor():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    node = (x * 2.0).grad_fn
    assert node.saved == (None, 2.0)  # the factor kept as the number it is, x not at all
    squared = (x * x).grad_fn
    assert all(t is x for t in squared.saved)


def test_saved_after_release_raises():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    node = y.grad_fn
    y.sum().backward(retain_graph=True)
    assert len(node.saved) == 2  # retained: still readable
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        _ = node.saved
    z = x + 1.0  # a node that saved nothing reads an empty tuple, before and after
    assert z.grad_fn.saved == ()
    z.sum().backward()
    assert z.grad_fn.saved == ()


def test_several_outputs_one_with_gradient_matches_torch():
    """A node with several outputs, only one of them used: the others get zeros."""
    xm, xt = _pair([[1.0, 5.0, 2.0], [7.0, 0.5, 3.0]])
    for x, lib in ((xm, minigrad), (xt, torch)):
        values, _ = lib.max(x, dim=1)
        a, b = lib.unbind(x * 3.0, dim=0)
        (values.sum() + (a * 2.0).sum()).backward()
    np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())
