"""The eager fast paths of a training step (cross-entropy's array backward, the engine's
adoption of leaf gradients, the grad setter, the optimizer loop) agree with the general paths
they stand in for, bit for bit, and still refuse what the general paths refuse."""

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F


def _logits(dtype=minigrad.float32, device="cpu"):
    rng = np.random.default_rng(0)
    return minigrad.tensor(rng.standard_normal((6, 4)), dtype=dtype, device=device)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [minigrad.float32, minigrad.float64])
def test_cross_entropy_array_backward_equals_the_tensor_backward(reduction, dtype):
    """A plain backward (arrays) and a create_graph backward (tensor ops) give the same bits."""
    target = minigrad.tensor([0, 3, -100, 1, 2, 3])
    grads = []
    for create_graph in (False, True):
        x = _logits(dtype).requires_grad_()
        loss = F.cross_entropy(x, target, reduction=reduction)
        upstream = loss.detach() * 0 + 0.7 if reduction != "none" else minigrad.ones(6, dtype=dtype)
        (g,) = minigrad.autograd.grad(loss, x, upstream, create_graph=create_graph)
        grads.append(g.detach().numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_cross_entropy_every_target_ignored_gives_nan_loss_and_zero_grad():
    x = _logits().requires_grad_()
    loss = F.cross_entropy(x, minigrad.tensor([-100] * 6))
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((6, 4), np.float32))


def test_cross_entropy_still_refuses_out_of_range_targets():
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(_logits(), minigrad.tensor([0, 1, 2, 3, 4, 0]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(_logits(), minigrad.tensor([0, 1, 2, 3, -1, 0]))


def test_leaf_gradient_is_adopted_and_distinct_per_leaf():
    """Each parameter's .grad is its own buffer (no copy needed, none shared)."""
    layer = minigrad.nn.Linear(4, 3)
    F.cross_entropy(layer(_logits()), minigrad.tensor([0, 1, 2, 0, 1, 2])).backward()
    w, b = layer.weight.grad, layer.bias.grad
    assert w._data.base is None and b._data.base is None
    assert not np.shares_memory(w._data, b._data)


def test_grad_setter_still_checks_shape_dtype_and_device():
    p = minigrad.zeros(3, requires_grad=True)
    p.grad = minigrad.ones(3)
    with pytest.raises(RuntimeError, match="size"):
        p.grad = minigrad.ones(4)
    with pytest.raises(RuntimeError, match="dtype"):
        p.grad = minigrad.ones(3, dtype=minigrad.float64)
    with pytest.raises(RuntimeError, match="device"):
        p.grad = minigrad.ones(3, device="fakegpu")
    with pytest.raises(TypeError, match="Tensor or None"):
        p.grad = np.ones(3, np.float32)


def test_size_indexing():
    s = minigrad.Size([2, 3, 4])
    assert s[1] == 3 and s[-1] == 4
    assert type(s[1:]) is minigrad.Size and s[1:] == (3, 4)


def test_optimizer_step_restores_grad_mode_and_runs_on_each_device(device):
    p = minigrad.ones(3, device=device, requires_grad=True)
    p.grad = minigrad.full((3,), 2.0, device=device)
    opt = minigrad.optim.SGD([p], lr=0.5)
    opt.step()
    assert minigrad.is_grad_enabled()
    np.testing.assert_array_equal(p.detach().cpu().numpy(), np.zeros(3, np.float32))
    with minigrad.no_grad():
        opt.step()
        assert not minigrad.is_grad_enabled()


def test_plain_sgd_loop_matches_pytorch_on_mixed_parameters():
    """The group-wide plain SGD loop: real float32/float64 parameters in it, a complex one and
    a sparse gradient handed to the general loop, in one group, as PyTorch updates them."""
    torch = pytest.importorskip("torch")
    values = [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.arange(3, dtype=np.float64),
        np.array([1 + 2j, -1j], dtype=np.complex64),
    ]
    grads = [v * 0.5 + 1 for v in values]
    ours = [minigrad.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = minigrad.tensor(g), torch.tensor(g)
    emb = minigrad.nn.Embedding(4, 2, sparse=True)
    emb(minigrad.tensor([1, 3])).sum().backward()
    before = emb.weight.detach().numpy().copy()
    minigrad.optim.SGD(ours + [emb.weight], lr=0.25).step()
    torch.optim.SGD(theirs, lr=0.25).step()
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
        assert p._version == 1
    moved = emb.weight.detach().numpy() != before
    assert moved[[1, 3]].all() and not moved[[0, 2]].any()


def test_sgd_subclass_update_and_zero_grad_of_a_grad_property_override_still_run():
    """A subclass's own ``_update`` is still called (the plain loop steps aside), and
    zero_grad resets a parameter whose class overrides ``grad`` through that property."""
    calls = []

    class Counting(minigrad.optim.SGD):
        def _update(self, p, state, group):
            calls.append(p)
            super()._update(p, state, group)

    p = minigrad.ones(2, requires_grad=True)
    p.grad = minigrad.ones(2)
    Counting([p], lr=1.0).step()
    assert calls == [p] and p.detach().tolist() == [0.0, 0.0]

    class Shadowed(minigrad.Tensor):
        seen = None

        @property
        def grad(self):
            return type(self).seen

        @grad.setter
        def grad(self, value):
            type(self).seen = value

    q = Shadowed._make(np.ones(2, np.float32), p.device, True)
    q.grad = minigrad.ones(2)
    opt = minigrad.optim.SGD([q], lr=1.0)
    opt.zero_grad()
    assert Shadowed.seen is None
