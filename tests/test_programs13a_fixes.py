"""Regression tests for what the thirteenth program round (vision, generative, 3-D and video
models) found different from PyTorch."""

import pytest

import minigrad
from minigrad import nn


@pytest.mark.parametrize(
    ("flags", "reduction"),
    [
        ({"size_average": False}, "sum"),
        ({"reduce": False}, "none"),
        ({"size_average": True, "reduce": True}, "mean"),
    ],
)
def test_legacy_reduction_flags_warn_with_pytorchs_words(flags, reduction):
    """TRADES writes ``nn.KLDivLoss(size_average=False)``: the warning names the reduction to
    use instead, as PyTorch's ``_Reduction.legacy_get_string``, so filters written for PyTorch's
    text match."""
    message = f"please use reduction='{reduction}' instead."
    with pytest.warns(UserWarning, match=message.replace("(", r"\(").replace(".", r"\.")):
        loss = nn.KLDivLoss(**flags)
    assert loss.reduction == reduction
    with pytest.warns(UserWarning, match=f"reduction='{reduction}'"):
        nn.functional.mse_loss(minigrad.zeros(2), minigrad.ones(2), **flags)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("zeros", (2, 3)),
        ("ones", ((2, 3),)),
        ("empty", (2,)),
        ("full", ((2,), 1.5)),
        ("arange", (3,)),
        ("linspace", (0, 1, 3)),
        ("logspace", (0, 1, 3)),
        ("eye", (2,)),
        ("rand", (2,)),
        ("randn", (2,)),
        ("randint", (0, 5, (2,))),
        ("randperm", (3,)),
    ],
)
def test_factories_take_pytorchs_layout_keyword(name, args):
    """NetVLAD writes ``torch.zeros([N, K, C], dtype=x.dtype, layout=x.layout, device=...)``:
    the factories take ``layout`` (strided: the usual dense tensor) and refuse a sparse one by
    name rather than with a TypeError."""
    x = minigrad.ones(2)
    made = getattr(minigrad, name)(*args, layout=x.layout)
    assert made.layout is minigrad.strided
    assert made.shape == getattr(minigrad, name)(*args).shape
    with pytest.raises(NotImplementedError, match=f"{name}: layout .*sparse_coo"):
        getattr(minigrad, name)(*args, layout=minigrad.sparse_coo)
