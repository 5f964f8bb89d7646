"""Gradient clipping: clip_grad_norm_ and clip_grad_value_ against torch.nn.utils."""

import math

import numpy as np
import pytest

import minigrad
from minigrad.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from minigrad.testing.fake_device import HostTransfers

SHAPES = [(3, 4), (5,), ()]


def _grads(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) * scale for shape in SHAPES]


def _params(module, grads, device=None, dtype="float64"):
    kwargs = {} if device is None else {"device": device}
    params = []
    for g in grads:
        p = module.zeros(g.shape, dtype=getattr(module, dtype), requires_grad=True, **kwargs)
        p.grad = module.tensor(g, dtype=getattr(module, dtype), **kwargs)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", -math.inf, 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = _grads()
    ours, theirs = _params(minigrad, grads), _params(torch, grads)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type, foreach=False)
    assert total.shape == () and total.dtype == minigrad.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    torch = pytest.importorskip("torch")
    grads = _grads(seed=1)
    ours, theirs = _params(minigrad, grads), _params(torch, grads)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value, foreach=False)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clips_to_max_norm_by_hand():
    p = minigrad.zeros(2, requires_grad=True)
    p.grad = minigrad.tensor([3.0, 4.0])
    total = clip_grad_norm_(p, max_norm=1.0)  # a single tensor is accepted
    assert total.item() == 5.0
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert p.grad.dtype == minigrad.float32


def test_params_without_grad_are_skipped_and_none_gives_zero():
    a, b = minigrad.zeros(2, requires_grad=True), minigrad.zeros(3, requires_grad=True)
    a.grad = minigrad.tensor([0.0, 2.0])
    assert clip_grad_norm_([a, b], 1.0).item() == 2.0 and b.grad is None
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 1.0], rtol=1e-5)
    assert clip_grad_norm_(iter([b]), 1.0).item() == 0.0
    clip_grad_value_([b], 1.0)
    assert b.grad is None


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_error_if_nonfinite():
    p = minigrad.zeros(2, requires_grad=True)
    p.grad = minigrad.tensor([1.0, math.nan])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = minigrad.tensor([1.0, math.inf])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, norm_type="inf", error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_([p], 1.0).item())  # no error unless asked for


def test_get_total_norm_and_clip_grads_with_norm():
    params = _params(minigrad, _grads())
    total = get_total_norm([p.grad for p in params])
    expected = math.sqrt(sum(float((g**2).sum()) for g in _grads()))
    assert total.item() == pytest.approx(expected, rel=1e-12)
    clip_grads_with_norm_(params, 1.0, total)
    assert get_total_norm([p.grad for p in params]).item() == pytest.approx(1.0, rel=1e-5)


def test_clipping_bumps_the_gradient_version():
    p = minigrad.zeros(2, requires_grad=True)
    p.grad = minigrad.tensor([3.0, 4.0])
    before = p.grad._version
    clip_grad_norm_([p], 1.0)
    assert p.grad._version > before


def test_runs_on_each_device_without_host_transfers(device):
    grads = _grads(scale=3.0)
    params = _params(minigrad, grads, device=device)
    reference = _params(minigrad, grads)
    before = HostTransfers.count
    total = clip_grad_norm_(params, 1.0)
    clip_grad_value_(params, 0.2)
    assert HostTransfers.count == before, "clipping copied data to the host"
    assert total.device == device
    expected = clip_grad_norm_(reference, 1.0)
    clip_grad_value_(reference, 0.2)
    np.testing.assert_allclose(total.cpu().item(), expected.item(), rtol=1e-12)
    for p, q in zip(params, reference):
        assert p.grad.device == device
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-12)
