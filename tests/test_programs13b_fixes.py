"""Regression tests for what the thirteenth round's recommendation, language, speech, time
series and tabular programs (tests/test_programs13b.py) found wrong in minigrad, one focused
test per fix, each compared with PyTorch."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


def _ellipsis_einsum_grads(lib):
    lib.manual_seed(0)
    q = lib.randn(2, 3, 4, dtype=lib.float64, requires_grad=True)
    w = lib.randn(5, 4, dtype=lib.float64, requires_grad=True)
    a = lib.randn(2, 1, 3, 4, dtype=lib.float64, requires_grad=True)
    b = lib.randn(3, 4, 2, dtype=lib.float64, requires_grad=True)
    y = lib.einsum("...id,jd->...ij", q, w)  # Performer's random features
    z = lib.einsum("...ij,...jk", a, b)  # implicit output, broadcast batch dims
    k = lib.einsum("...nd,...ne->...de", y, y)  # linear attention's context
    loss = (y.sin() * 3).sum() + (z * z).sum() + k.mean()
    grads = lib.autograd.grad(loss, (q, w, a, b), create_graph=True)
    second = lib.autograd.grad(sum(g.pow(2).sum() for g in grads), (q, b))
    return [t.detach().flatten().tolist() for t in (y, z, *grads, *second)]


def test_einsum_with_ellipsis_has_gradients():
    # Performer's softmax kernel is einsum("...id,jd->...ij", x, proj): minigrad raised
    # NotImplementedError for gradients through '...'; it is now spelled with unused letters
    ours, theirs = _ellipsis_einsum_grads(minigrad), _ellipsis_einsum_grads(torch)
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, rel=1e-10, abs=1e-12)


def test_einsum_ellipsis_needs_enough_dims():
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match="einsum"):
            lib.einsum("...ijk,k->...ij", lib.ones(2, 3), lib.ones(3))
