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

    minigrad._warnings._said_once.discard("TypedStorage")
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


@pytest.mark.parametrize(
    "name", ["sum", "mean", "std", "var", "amax", "logsumexp", "max", "median", "nansum", "mode"]
)
def test_reductions_take_numpy_keepdims(name):
    """d2l writes ``A / A.sum(axis=1, keepdims=True)``: PyTorch's argument parser takes
    NumPy's ``keepdims`` (and ``axis``) for ``keepdim`` (and ``dim``)."""
    values = [[1.0, 5.0, 2.0, 2.0], [4.0, 3.0, 3.0, 0.0]]
    results = []
    for lib in (minigrad, torch):
        a = lib.tensor(values)
        out = getattr(a, name)(axis=1, keepdims=True)
        function = getattr(lib, name)(a, 1, keepdims=True)
        out, function = (o[0] if isinstance(o, tuple) else o for o in (out, function))
        assert tuple(out.shape) == tuple(function.shape) == (2, 1)
        results.append(out.flatten().tolist())
    assert results[0] == pytest.approx(results[1])
    with pytest.raises(TypeError, match="keepdim"):
        minigrad.ones(2, 2).sum(1, keepdim=True, keepdims=True)


def test_statistics_take_numpy_axis():
    a = [[1.0, float("nan"), 2.0], [4.0, 3.0, 3.0]]
    for name, args in [("nanmean", ()), ("quantile", (0.5,)), ("nanmedian", ())]:
        ours = getattr(minigrad, name)(minigrad.tensor(a), *args, axis=1, keepdims=True)
        theirs = getattr(torch, name)(torch.tensor(a), *args, axis=1, keepdims=True)
        ours, theirs = (o[0] if isinstance(o, tuple) else o for o in (ours, theirs))
        assert ours.flatten().tolist() == pytest.approx(theirs.flatten().tolist(), nan_ok=True)
    ours = minigrad.aminmax(minigrad.tensor(a[1:]), axis=1, keepdims=True)
    assert ours.min.tolist() == [[3.0]] and ours.max.tolist() == [[4.0]]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, a: a.unsqueeze(axis=1),
        lambda lib, a: lib.softmax(a, axis=1),
        lambda lib, a: a.log_softmax(axis=0),
        lambda lib, a: a.cumprod(axis=1),
        lambda lib, a: lib.stack(a.chunk(2, axis=1), axis=0),
        lambda lib, a: lib.stack(a.unbind(axis=1)),
        lambda lib, a: a.sort(axis=1, descending=True)[0],
        lambda lib, a: a.argsort(axis=0),
        lambda lib, a: a.topk(1, axis=1).indices,
        lambda lib, a: a.gather(axis=1, index=lib.tensor([[1], [0]])),
        lambda lib, a: a.index_select(axis=1, index=lib.tensor([2, 0])),
        lambda lib, a: lib.count_nonzero(a - 2, axis=0),
        lambda lib, a: a.repeat_interleave(2, axis=0),
        lambda lib, a: lib.diff(a, axis=1),
        lambda lib, a: a.cummax(axis=1)[0],
        lambda lib, a: a.logcumsumexp(axis=1),
        lambda lib, a: lib.take_along_dim(a, lib.tensor([[0], [3]]), axis=1),
        lambda lib, a: a.kthvalue(2, axis=1, keepdims=True)[0],
        lambda lib, a: a.select(axis=1, index=2),
        lambda lib, a: lib.linalg.norm(a, axis=1, keepdims=True),
        lambda lib, a: a.unsqueeze(0).squeeze(axis=0),
    ],
)
def test_dim_taking_ops_take_numpy_axis(call):
    """PyTorch's argument parser takes ``axis=`` wherever an op has a ``dim`` (and
    ``keepdims=`` for ``keepdim``): ported NumPy code and d2l use them."""
    values = [[1.0, 5.0, 2.0, 2.0], [4.0, 3.0, 3.0, 0.0]]
    ours = call(minigrad, minigrad.tensor(values))
    theirs = call(torch, torch.tensor(values))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.flatten().tolist() == pytest.approx(theirs.flatten().tolist())
