"""Fixes found by the sixteenth round's programs (tests/test_programs16b.py), each checked
against PyTorch: ``torch.histogram``'s default of 100 bins and its edges (PyTorch's linspace
in the input's dtype, which decides where a value on an edge falls), and the warning PyTorch gives once
when ``float()`` takes the value of a tensor that requires grad."""

import warnings

import pytest

import minigrad

torch = pytest.importorskip("torch")


def test_histogram_bins_default_to_100_with_pytorchs_edges():
    values = [0.5, -1.0, 2.0, 0.25, 0.0, 1.5]
    for lib in (minigrad, torch):
        hist, edges = lib.histogram(lib.tensor(values), density=True)
        assert (hist.shape, edges.shape) == ((100,), (101,))
    ours = minigrad.tensor(values).histogram(range=(-1.0, 1.0))
    theirs = torch.tensor(values).histogram(range=(-1.0, 1.0))
    assert ours.hist.tolist() == theirs.hist.tolist()
    assert ours.bin_edges.tolist() == theirs.bin_edges.tolist()  # float32 linspace: 0.0 in bin 49


def _float_warnings(lib, make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        float(make(lib))
    return [str(w.message).split(" (Triggered")[0] for w in caught]


def test_float_of_a_tensor_that_requires_grad_warns_once(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    leaf = minigrad.ones(1, requires_grad=True)
    with minigrad.no_grad():
        assert _float_warnings(minigrad, lambda t: leaf) == []  # grad mode off: no warning
    assert _float_warnings(minigrad, lambda t: t.ones(2).sum()) == []
    first = _float_warnings(minigrad, lambda t: leaf * 2)
    assert first == [
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
        "behavior.\nConsider using tensor.detach() first."
    ]
    assert _float_warnings(minigrad, lambda t: leaf) == []  # once a process, as PyTorch
    assert _float_warnings(minigrad, lambda t: leaf.detach()) == []
    assert int(leaf) == 1 and f"{leaf.sum():.1f}" == "1.0"
    minigrad.set_warn_always(True)
    try:
        assert len(_float_warnings(minigrad, lambda t: leaf)) == 1
    finally:
        minigrad.set_warn_always(False)
    theirs = _float_warnings(torch, lambda t: t.ones(1, requires_grad=True))
    assert theirs in ([], first)  # PyTorch's own once-a-process flag may be spent already


def test_lbfgs_takes_the_loss_value_without_the_warning(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    w = minigrad.tensor([1.5, -0.5], requires_grad=True)
    opt = minigrad.optim.LBFGS([w], lr=1, max_iter=5, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - 2) ** 2).sum()
        loss.backward()
        return loss

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.step(closure)
    assert [str(c.message) for c in caught] == []  # PyTorch's step runs under no_grad
    assert w.tolist() == pytest.approx([2.0, 2.0], abs=1e-4)
