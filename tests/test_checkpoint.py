"""Activation checkpointing: gradients equal the plain run's (dropout included), less memory."""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.utils.checkpoint import checkpoint, checkpoint_sequential


def _blocks(n=4, p=0.3):
    minigrad.manual_seed(0)
    return [nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Dropout(p)) for _ in range(n)]


def _grads(blocks, x, use_checkpoint):
    for b in blocks:
        b.zero_grad()
    x.grad = None
    minigrad.manual_seed(1)
    h = x
    for b in blocks:
        h = checkpoint(b, h, use_reentrant=False) if use_checkpoint else b(h)
    (h**2).sum().backward()
    grads = [p.grad for b in blocks for p in b.parameters()] + [x.grad]
    return [g.cpu().numpy().copy() for g in grads]


@pytest.mark.parametrize("device", ["cpu", "fakegpu"])
def test_gradients_equal_plain_run_with_dropout(device):
    blocks = [b.to(device) for b in _blocks()]
    x = minigrad.randn(5, 8, device=device, requires_grad=True)
    for a, b in zip(_grads(blocks, x, False), _grads(blocks, x, True)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_matches_torch_checkpoint():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    blocks = _blocks(3, p=0.0)
    tblocks = [
        torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Dropout(0.0))
        for _ in blocks
    ]
    with torch.no_grad():
        for b, t in zip(blocks, tblocks):
            for p, q in zip(b.parameters(), t.parameters()):
                q.copy_(torch.tensor(p.detach().numpy()))
    x = np.random.default_rng(0).normal(size=(4, 8))
    xm = minigrad.tensor(x, dtype=minigrad.float32, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    hm, ht = xm, xt
    for b, t in zip(blocks, tblocks):
        hm = checkpoint(b, hm, use_reentrant=False)
        ht = torch_checkpoint(t, ht, use_reentrant=False)
    hm.pow(2).sum().backward()
    ht.pow(2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    for b, t in zip(blocks, tblocks):
        for p, q in zip(b.parameters(), t.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_autograd_grad_create_graph_and_sequential():
    lin = nn.Linear(3, 3)
    z = minigrad.randn(2, 3, requires_grad=True)
    (g,) = minigrad.autograd.grad(
        checkpoint(lambda t: lin(t).tanh(), z, use_reentrant=False).sum(), z, create_graph=True
    )
    (g2,) = minigrad.autograd.grad(g.sum(), z)
    (h,) = minigrad.autograd.grad(lin(z).tanh().sum(), z, create_graph=True)
    (h2,) = minigrad.autograd.grad(h.sum(), z)
    np.testing.assert_allclose(g.detach().numpy(), h.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(g2.numpy(), h2.numpy(), rtol=1e-5, atol=1e-7)
    seq = nn.Sequential(*[nn.Linear(4, 4) for _ in range(6)])
    w = minigrad.randn(3, 4, requires_grad=True)
    checkpoint_sequential(seq, 3, w, use_reentrant=False).sum().backward()
    first = w.grad.numpy().copy()
    w.grad = None
    seq(w).sum().backward()
    np.testing.assert_allclose(first, w.grad.numpy(), rtol=1e-6)
    # without grad mode it is a plain call
    with minigrad.no_grad():
        assert checkpoint(lin, z, use_reentrant=False).grad_fn is None


def test_checkpointing_lowers_peak_memory():
    from benchmarks.transforms import checkpoint_memory

    m = checkpoint_memory(blocks=8, width=64, batch=256)
    assert m["ratio"] < 0.6, m


def test_per_sample_gradients_benchmark_runs():
    """vmap(grad) over 64 samples against one batched backward and against a loop of 64
    backward passes. Only the comparison with the loop is judged, and loosely: vmap is ~35x
    faster on an idle machine, but on a loaded shared one its large gradient writes suffer most
    (measured: down to ~3x)."""
    from benchmarks.transforms import per_sample_grads

    t = per_sample_grads(repeats=5)
    assert t["vmap_grad"] < t["loop"], t
