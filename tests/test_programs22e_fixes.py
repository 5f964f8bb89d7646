"""Regressions for the minigrad bugs the twenty-second round of programs (helper e) found, each
checked against PyTorch's behaviour."""

import pytest

import minigrad
import minigrad.nn.functional as F


def test_batch_norm_eps_checked_as_pytorchs():
    """F.batch_norm refuses eps <= 0 in training and eps < 0 in evaluation (NFNet's scaled
    weight standardization passes eps through it); it computed with them. The batch-size
    check comes first; torch.batch_norm (ATen's) takes any eps."""
    x = minigrad.randn(4, 3)
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, but"):
        F.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive during training, but got -0.1"):
        F.batch_norm(x, minigrad.zeros(3), minigrad.ones(3), training=True, eps=-0.1)
    with pytest.raises(ValueError, match="batch_norm eps must be non-negative, but got -1.0"):
        F.batch_norm(x, minigrad.zeros(3), minigrad.ones(3), eps=-1.0)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        F.batch_norm(minigrad.randn(1, 3), None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(minigrad.randn(0, 3), None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        minigrad.nn.BatchNorm1d(3, eps=0.0)(x)
    evaluated = F.batch_norm(x, minigrad.zeros(3), minigrad.ones(3), eps=0.0)
    assert minigrad.equal(evaluated, x)  # eval with eps = 0 is allowed
    out = minigrad.batch_norm(x, None, None, None, None, True, 0.1, 0.0, False)
    assert out.shape == (4, 3) and out.var(0, unbiased=False).sub(1).abs().max() < 1e-5
