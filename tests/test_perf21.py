"""Results of the eager fast paths of session 21's overhead pass (no timing here): saved-tensor
attributes of nodes without ``Node.__getattr__``, binary ops' layout check, the engine's
gradient loop by index."""

import numpy as np
import pytest

import minigrad
from minigrad._result_layout import iterator_layout, pair_layout


def test_node_class_has_no_getattr_hook():
    # a __getattr__ anywhere in Node's classes leaves every attribute read of every op and
    # backward step unspecialized in CPython 3.11 (the reason the saved slots are descriptors)
    for cls in type(minigrad.ones(1, requires_grad=True).exp().grad_fn).__mro__:
        assert "__getattr__" not in vars(cls), cls


def test_saved_attributes_read_what_the_node_saved():
    x = minigrad.randn(3, requires_grad=True)
    y = minigrad.randn(3, requires_grad=True)
    node = (x * y).grad_fn
    assert node._saved_self is x and node._saved_other is y
    assert type(node._raw_saved_other).__name__ == "RawSavedTensor"
    e = x.exp()
    assert np.array_equal(e.grad_fn._saved_result.detach().numpy(), e.detach().numpy())
    w = minigrad.randn(2, 3, requires_grad=True)
    lin = minigrad.nn.functional.linear(x.reshape(1, 3), w, minigrad.zeros(2)).grad_fn
    assert lin._saved_weight is w
    assert not hasattr(lin, "_saved_bias") and not hasattr(node, "_saved_result")
    with pytest.raises(AttributeError, match="'MulBackward0' object has no attribute '_saved_w"):
        node._saved_weight  # noqa: B018
    with pytest.raises(AttributeError, match="has no attribute 'not_there'"):
        node.not_there  # noqa: B018


def test_dir_lists_only_the_saved_attributes_of_the_node():
    x = minigrad.randn(3, requires_grad=True)
    names = [n for n in dir((x * 2.0 * x).grad_fn) if n.startswith(("_saved_", "_raw_saved_"))]
    assert sorted(names) == ["_raw_saved_other", "_raw_saved_self", "_saved_other", "_saved_self"]
    assert "_saved_weight" not in dir(x.exp().grad_fn)


def test_saved_attributes_after_release_raise_as_before():
    x = minigrad.randn(3, requires_grad=True)
    y = x * x
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        node._saved_self  # noqa: B018


def _operands():
    a = np.arange(12.0).reshape(3, 4)
    nchw = np.arange(24.0).reshape(1, 2, 3, 4)
    return [
        a,
        a.T.copy().T,  # transposed layout, same shape
        a[:, ::1].copy(order="F"),
        np.arange(24.0).reshape(3, 8)[:, ::2],  # gaps
        2.5,
        3,
        True,
        np.float32(1.5),
        np.array(2.0),
        nchw,
        np.ascontiguousarray(nchw.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),  # channels-last
        np.arange(3.0).reshape(1, 3).T,  # row-major by flag, a size-1 dim's stride differs
        np.ones((3, 1)),
        np.arange(4.0),
    ]


def test_pair_layout_agrees_with_iterator_layout():
    ops = _operands()
    for a in ops:
        for b in ops:
            try:
                out = np.add(a, b)
            except ValueError:
                continue  # shapes that do not broadcast
            if not isinstance(out, np.ndarray):
                continue
            fast = pair_layout(np, out.copy(), a, b)
            full = iterator_layout(np, out.copy(), a, b)
            assert fast.strides == full.strides and np.array_equal(fast, full), (a, b)


def test_binary_results_keep_pytorch_layouts():
    t = minigrad.arange(12.0).reshape(3, 4).t()  # transposed
    r = minigrad.ones(4, 3)
    assert (t + r).stride() == (1, 4) and (r + t).stride() == (3, 1)
    assert (t * 2.0).stride() == (1, 4) and (t - 1).stride() == (1, 4)


class _ThreeInputs(minigrad.autograd.Function):
    @staticmethod
    def forward(ctx, a, k, b):
        ctx.k = k
        return a * k + b

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None, g * 2


def test_engine_passes_each_gradient_to_its_input():
    a = minigrad.ones(3, requires_grad=True)
    b = minigrad.ones(3, requires_grad=True)
    _ThreeInputs.apply(a, 3.0, b).sum().backward()
    assert a.grad.tolist() == [3.0] * 3 and b.grad.tolist() == [2.0] * 3
    x = minigrad.ones(2, requires_grad=True)
    y = x * minigrad.full((2,), 5.0)
    y.grad_fn.register_hook(lambda gi, go: [gi[0] * 10, gi[1]])  # a list back from a hook
    y.sum().backward()
    assert x.grad.tolist() == [50.0, 50.0]
