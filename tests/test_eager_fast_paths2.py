"""The eager step's shortcuts give the results of the general paths they skip, bit for bit:
cross-entropy with every class index kept, Module calls without hooks, linear's engine-held
gradients, the root gradient of backward, and the scalar pair sampler of small normal fills."""

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


def _ce(x, t, **kwargs):
    xm = minigrad.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xm, minigrad.tensor(t), **kwargs)
    loss.backward()
    return loss.detach().numpy().tobytes(), xm.grad.numpy().tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("target_dtype", [np.int64, np.uint8])
def test_cross_entropy_with_every_target_kept_equals_the_weighted_path(dtype, target_dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 5)).astype(dtype)
    t = rng.integers(0, 5, 7).astype(target_dtype)
    ones = minigrad.ones(5, dtype=minigrad.float32 if dtype == np.float32 else minigrad.float64)
    assert _ce(x, t) == _ce(x, t, weight=ones)  # class weights take the per-row path


def test_cross_entropy_ignore_index_inside_the_classes_is_still_ignored():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((6, 4))
    t = np.array([0, 1, 2, 3, 0, 1])
    xm, xt = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.cross_entropy(xm, minigrad.tensor(t), ignore_index=0).backward()
    torch.nn.functional.cross_entropy(xt, torch.tensor(t), ignore_index=0).backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert not xm.grad.numpy()[t == 0].any()


def test_cross_entropy_refuses_negative_targets_read_as_unsigned():
    x = minigrad.randn(3, 4)
    with pytest.raises(IndexError, match="Target -5 is out of bounds"):
        F.cross_entropy(x, minigrad.tensor([0, -5, 1]))


def test_module_call_without_hooks_still_honours_an_overridden_call_impl():
    calls = []

    class Traced(nn.Linear):
        def _call_impl(self, *args, **kwargs):
            calls.append(args[0].shape)
            return super()._call_impl(*args, **kwargs)

    Traced(3, 2)(minigrad.randn(4, 3))
    assert calls == [minigrad.Size([4, 3])]


def test_linear_gradients_are_adopted_and_accumulate_in_place_on_a_second_backward():
    layer = nn.Linear(3, 2)
    x = minigrad.randn(4, 3)
    layer(x).sum().backward()
    first = layer.weight.grad
    held = first.numpy().copy()
    layer(x).sum().backward()
    assert layer.weight.grad is first  # accumulated into the same buffer
    np.testing.assert_array_equal(first.numpy(), 2 * held)


def test_root_gradient_reaching_a_leaf_unchanged_is_its_own_buffer_each_time():
    x = minigrad.tensor(3.0, requires_grad=True)
    x.clone().backward()
    grad = x.grad
    x.clone().backward()
    assert x.grad is grad and grad.item() == 2.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_small_normal_fills_are_pytorchs(dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(5)
    minigrad.manual_seed(5)
    for n in (1, 2, 3, 7, 8, 9, 15, 1, 5):
        want = torch.empty(n, dtype=getattr(torch, dtype)).normal_(0.5, 2.0)
        got = minigrad.empty(n, dtype=getattr(minigrad, dtype)).normal_(0.5, 2.0)
        assert got.numpy().tobytes() == want.numpy().tobytes(), n
        assert minigrad.randn(n).numpy().tobytes() == torch.randn(n).numpy().tobytes(), n
