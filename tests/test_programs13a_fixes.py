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
