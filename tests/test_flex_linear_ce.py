"""F.linear_cross_entropy and nn.LinearCrossEntropyLoss (dense and chunked) against PyTorch."""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

torch = pytest.importorskip("torch")
N, IN, C = 7, 5, 9


def _opts(lib, kind):
    if kind is None:
        return None
    if kind == "auto":
        return lib.nn.LinearCrossEntropyOptions()
    return lib.nn.LinearCrossEntropyOptions(batch_chunk_size=kind, chunking_method=None)


@pytest.mark.parametrize("options", [None, 3, "auto"])
@pytest.mark.parametrize(
    "kw",
    [
        dict(reduction="mean"),
        dict(reduction="sum", bias=True),
        dict(reduction="none", ignore=True),
        dict(reduction="mean", weight=True, ignore=True, bias=True),
    ],
)
def test_linear_cross_entropy_matches_torch(kw, options):
    rng = np.random.default_rng(0)
    arrays = dict(x=rng.standard_normal((N, IN)), w=rng.standard_normal((C, IN)))
    if kw.get("bias"):
        arrays["b"] = rng.standard_normal(C)
    target = rng.integers(0, C, N)
    if kw.get("ignore"):
        target[[1, 4]] = 3
    m = {k: minigrad.tensor(v, requires_grad=True) for k, v in arrays.items()}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    cw = rng.random(C) if kw.get("weight") else None

    def run(lib, fn, p):
        extra = dict(ignore_index=3) if kw.get("ignore") else {}
        return fn(
            p["x"],
            p["w"],
            lib.tensor(target),
            linear_bias=p.get("b"),
            weight=None if cw is None else lib.tensor(cw),
            reduction=kw["reduction"],
            options=_opts(lib, options),
            **extra,
        )

    out_m = run(minigrad, F.linear_cross_entropy, m)
    out_t = run(torch, torch.nn.functional.linear_cross_entropy, t)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), rtol=1e-10)
    g = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for k in arrays:
        np.testing.assert_allclose(m[k].grad.numpy(), t[k].grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("probs", [False, True])
def test_module_k_dimensional_matches_torch(probs):
    rng = np.random.default_rng(1)
    tm = torch.nn.LinearCrossEntropyLoss(IN, C, out_features=(4, 3), bias=True, label_smoothing=0.1)
    mm = nn.LinearCrossEntropyLoss(IN, C, out_features=(4, 3), bias=True, label_smoothing=0.1)
    mm.load_state_dict({k: minigrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    assert list(mm.state_dict()) == list(tm.state_dict()) == ["linear.weight", "linear.bias"]
    x = rng.standard_normal((2, IN))
    if probs:
        target = rng.random((2, C, 4, 3))
        target /= target.sum(1, keepdims=True)
    else:
        target = rng.integers(0, C, (2, 4, 3))
    xm, xt = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_m = mm.double()(xm, minigrad.tensor(target))
    out_t = tm.double()(xt, torch.tensor(target))
    np.testing.assert_allclose(out_m.item(), out_t.item(), rtol=1e-10)
    out_m.backward()
    out_t.backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-9)
    grad_t = tm.linear.weight.grad.numpy()
    np.testing.assert_allclose(mm.linear.weight.grad.numpy(), grad_t, rtol=1e-9, atol=1e-12)
    assert repr(mm) == repr(tm)


def test_unbatched_fallback_and_errors():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(IN), rng.standard_normal((C, IN))
    out_m = F.linear_cross_entropy(minigrad.tensor(x), minigrad.tensor(w), minigrad.tensor(2))
    out_t = torch.nn.functional.linear_cross_entropy(
        torch.tensor(x), torch.tensor(w), torch.tensor(2)
    )
    np.testing.assert_allclose(out_m.item(), out_t.item(), rtol=1e-10)
    xm, wm = minigrad.randn(N, IN), minigrad.randn(C, IN)
    opts = nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ref = F.linear_cross_entropy(xm, wm, minigrad.zeros(N, dtype=minigrad.int64))
        out = F.linear_cross_entropy(
            xm, wm, minigrad.zeros(N, dtype=minigrad.int64), label_smoothing=0.2, options=opts
        )
    assert any("options" in str(w.message) for w in seen) and out.item() != ref.item()
    with pytest.raises(RuntimeError, match="dimensionality 1 or 2"):
        F.linear_cross_entropy(
            minigrad.randn(2, N, IN), wm, minigrad.zeros(2, N, dtype=minigrad.int64)
        )
    with pytest.raises(ValueError, match="batch_chunk_size"):
        nn.LinearCrossEntropyOptions(batch_chunk_size=0)
    with pytest.raises(ValueError, match="chunking_method"):
        nn.LinearCrossEntropyOptions(chunking_method="foo")
    assert nn.LinearCrossEntropyOptions().chunk_rows(1000, 64, 32000) == 1
    assert (
        nn.LinearCrossEntropyOptions(chunking_method="aspect_ratio").chunk_rows(1000, 64, 640)
        == 128
    )
