"""``autograd.graph.saved_tensors_hooks``, ``save_on_cpu`` and ``disable_saved_tensors_hooks``:
what the hooks see, gradients (first and second order) equal to PyTorch's with the hooks on."""

import numpy as np
import pytest

import minigrad
from minigrad.autograd.graph import (
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)


def _model(lib, x, w):
    h = (x @ w).tanh()
    return (h * h.exp()).sum() + (w.sin() * x.sum()).sum()


def _run(lib, hooks, create_graph=False):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    w = lib.tensor(rng.normal(size=(4, 2)), requires_grad=True)
    with hooks(lib):
        loss = _model(lib, x, w)
    gx, gw = lib.autograd.grad(loss, (x, w), create_graph=create_graph)
    results = [gx, gw]
    if create_graph:
        results += list(lib.autograd.grad((gx * gx).sum() + gw.sum(), (x, w)))
    return [r.detach().numpy() for r in results]


def _copying_hooks(lib):
    return lib.autograd.graph.saved_tensors_hooks(lambda t: t.clone() * 1, lambda t: t)


@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_through_hooks_equal_torchs_and_the_plain_ones(create_graph):
    torch = pytest.importorskip("torch")
    ours = _run(minigrad, _copying_hooks, create_graph)
    theirs = _run(torch, _copying_hooks, create_graph)
    plain = _run(minigrad, lambda lib: _Nothing(), create_graph)
    for a, b, c in zip(ours, theirs, plain):
        np.testing.assert_allclose(a, b, rtol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-12)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_pack_runs_at_save_and_unpack_at_backward_with_what_pack_returned():
    events = []

    def pack(t):
        events.append(("pack", tuple(t.shape)))
        return {"kept": t.detach().clone()}

    def unpack(box):
        events.append(("unpack",))
        return box["kept"]

    x = minigrad.randn(5, requires_grad=True)
    with saved_tensors_hooks(pack, unpack):
        y = x.exp()  # saves its output
    assert events == [("pack", (5,))]
    y.sum().backward()
    assert events == [("pack", (5,)), ("unpack",)]
    np.testing.assert_allclose(x.grad.numpy(), x.exp().detach().numpy(), rtol=1e-6)


def test_custom_function_saved_tensors_pass_through_the_hooks():
    class Square(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    seen = []
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: seen.append(t) or t.clone(), lambda t: t):
        y = Square.apply(x)
    y.sum().backward()
    assert len(seen) == 1 and x.grad.tolist() == [2.0, 4.0]


def test_innermost_hooks_win_and_the_hooks_end_with_the_block():
    outer, inner = [], []
    x = minigrad.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: outer.append(1) or t, lambda t: t):
        with saved_tensors_hooks(lambda t: inner.append(1) or t, lambda t: t):
            x.sin()
        x.cos()
    x.tan()
    assert (len(outer), len(inner)) == (1, 1)


def test_save_on_cpu_keeps_saved_tensors_on_the_host(device):
    kept = []
    x = minigrad.randn(4, 3, device=device, requires_grad=True)
    with save_on_cpu():
        hooks = minigrad.autograd.graph._saved_hooks._state.stack[-1]
        pack, unpack = hooks
        with saved_tensors_hooks(lambda t: kept.append(pack(t)) or kept[-1], unpack):
            loss = (x.exp() * x).sum()
    assert kept and all(t.device.type == "cpu" for _, t in kept)
    loss.backward()
    want = (x.exp() * (x + 1)).detach().cpu().numpy()
    np.testing.assert_allclose(x.grad.cpu().numpy(), want, rtol=1e-5)
    assert x.grad.device == x.device


def test_errors_as_torch():
    x = minigrad.randn(3, requires_grad=True)
    with disable_saved_tensors_hooks("saved tensors must stay here"):
        with pytest.raises(RuntimeError, match="must stay here"):
            with saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with saved_tensors_hooks(lambda t: t, lambda t: "not a tensor"):
        y = x.exp()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.sum().backward()


def test_a_copy_made_by_pack_is_safe_from_in_place_changes_but_the_tensor_itself_is_not():
    x = minigrad.randn(3, requires_grad=True)
    with saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
        y = x * 1
        z = y.sin()
    y.add_(1)  # the saved copy keeps the value sin saw
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x.detach().cos().numpy(), rtol=1e-6)
    with saved_tensors_hooks(lambda t: t, lambda t: t):
        y = x * 1
        z = y.sin()
    y.add_(1)  # PyTorch computes with the changed value here; minigrad refuses
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
