"""Fixes found by the fourteenth round of course and textbook programs (d2l.ai, CS231n, CS224n,
Deep Learning with PyTorch, fast.ai-style loops), each checked against PyTorch."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


def test_normal_of_numbers_takes_requires_grad_and_layout():
    # d2l: w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    minigrad.manual_seed(0)
    torch.manual_seed(0)
    ours = minigrad.normal(0, 0.01, size=(2, 1), requires_grad=True)
    theirs = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    assert ours.requires_grad and ours.is_leaf and ours.grad_fn is None
    assert ours.flatten().tolist() == pytest.approx(theirs.flatten().tolist())
    assert minigrad.normal(0.0, 1.0, (3,), layout=minigrad.strided).shape == (3,)
    with pytest.raises(TypeError):  # the tensors' overloads take no requires_grad, as PyTorch's
        minigrad.normal(minigrad.zeros(2), 1.0, requires_grad=True)
    with pytest.raises(TypeError):
        torch.normal(torch.zeros(2), 1.0, requires_grad=True)


@pytest.mark.parametrize("make", ["randn", "rand", "normal"], ids=["randn", "rand", "normal"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_float_samplers_refuse_integer_dtypes(make, dtype):
    """PyTorch's samplers draw floats only; minigrad used to cast the draws to int64/bool."""

    def call(lib):
        args = (0.0, 1.0, (2,)) if make == "normal" else (2,)
        return getattr(lib, make)(*args, dtype=getattr(lib, dtype))

    with pytest.raises(NotImplementedError) as theirs:
        call(torch)
    with pytest.raises(NotImplementedError) as ours:
        call(minigrad)
    assert str(ours.value) == str(theirs.value)


def test_float_samplers_draw_complex():
    assert minigrad.randn(2, dtype=minigrad.complex64).dtype == minigrad.complex64
    assert minigrad.rand(2, dtype=minigrad.complex64).dtype == minigrad.complex64


def test_typed_storage_warns_once_with_pytorchs_words(recwarn):
    """Deep Learning with PyTorch's chapter 3 reads ``points.storage()`` many times: PyTorch
    warns once a process."""
    import warnings

    minigrad._strided._storage_warned.clear()
    x = minigrad.ones(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            x.storage()
    assert len(caught) == 1 and "This should only matter to you" in str(caught[0].message)


def test_lr_schedulers_live_in_torch_optim_lr_scheduler():
    """d2l's ``train`` tells a built-in scheduler from its own by ``scheduler.__module__ ==
    torch.optim.lr_scheduler.__name__``; PyTorch's schedulers are all in that one module."""
    ours = minigrad.optim.lr_scheduler
    for name in ours.__all__:
        theirs = getattr(torch.optim.lr_scheduler, name)
        assert theirs.__module__ == torch.optim.lr_scheduler.__name__
        assert getattr(ours, name).__module__ == ours.__name__, name
    assert ours._LRScheduler.__module__ == ours.__name__
