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


def test_adafactor_scalar_parameter_and_foreach():
    """A 0-d parameter (a learned temperature) crashed Adafactor's update (NumPy's maximum of
    0-d arrays is a scalar, no ``out=``); with ``foreach=True`` and decay it matches PyTorch."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        lib.manual_seed(0)
        p, q = lib.nn.Parameter(lib.randn(3, 4, 5)), lib.nn.Parameter(lib.randn(()))
        opt = lib.optim.Adafactor([p, q], foreach=True, weight_decay=0.1, lr=0.05)
        for _ in range(3):
            opt.zero_grad()
            ((p**2).sum() + q.sin()).backward()
            opt.step()
        results.append([t.detach().numpy().copy() for t in (p, q, opt.state[q]["variance"])])
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape and abs(ours - theirs).max() < 1e-6


def test_adafactor_refuses_complex_and_checks_in_pytorchs_words():
    """PyTorch's Adafactor takes real parameters only (minigrad stepped a complex one through
    real views) and words its hyperparameter errors its own way, in its own order."""
    p = minigrad.nn.Parameter(minigrad.ones(2, 2, dtype=minigrad.complex64))
    opt = minigrad.optim.Adafactor([p])
    p.grad = minigrad.ones(2, 2, dtype=minigrad.complex64)
    with pytest.raises(RuntimeError, match="Adafactor does not support complex parameters"):
        opt.step()
    real = [minigrad.nn.Parameter(minigrad.ones(2))]
    for kwargs, words in (
        ({"lr": -1.0, "d": 0.5}, "Learning rate should be >= 0 but is: -1.0"),
        ({"weight_decay": -1.0}, "weight_decay should be >= 0 but is: -1.0"),
        ({"eps": (None, -1.0), "d": 0.5}, "epsilon2 should be >= 0 but is: -1.0"),
        ({"d": 0.5, "weight_decay": -1.0}, "Clipping threshold d should be >= 1 but is: 0.5"),
    ):
        with pytest.raises(ValueError, match=words):
            minigrad.optim.Adafactor(real, **kwargs)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        minigrad.optim.Adafactor(real, lr=minigrad.tensor([0.1, 0.2]))
    opt = minigrad.optim.Adafactor(real, lr=minigrad.tensor(0.01))  # a one-element tensor lr
    with pytest.raises(ValueError, match="Learning rate should be >= 0 but is: -0.5 in param"):
        opt.add_param_group({"params": [minigrad.nn.Parameter(minigrad.ones(1))], "lr": -0.5})


def test_foreach_binary_refuses_a_tensor_of_dimensions_as_its_scalar():
    """``_foreach_add_(tensors, torch.tensor([1., 2.]))`` raised a broadcast error after changing
    the first tensor; PyTorch checks first: add/mul/div want a 0-d scalar tensor, the other
    binary ops have no tensor-scalar overload (a 0-d tensor is a number to them)."""
    tensors = [minigrad.zeros(2), minigrad.zeros(1)]
    with pytest.raises(RuntimeError, match="scalar tensor expected to be 0 dim but it has 1 dim"):
        minigrad._foreach_add_(tensors, minigrad.tensor([1.0, 2.0]))
    assert tensors[0].tolist() == [0.0, 0.0]  # nothing changed
    with pytest.raises(RuntimeError, match="it has 1 dimensions and 1 elements"):
        minigrad._foreach_mul(tensors, minigrad.tensor([2.0]))
    with pytest.raises(TypeError, match="_foreach_sub_.. received an invalid combination"):
        minigrad._foreach_sub_(tensors, minigrad.tensor([1.0, 2.0]))
    assert minigrad._foreach_maximum(tensors, minigrad.tensor(2.0))[1].tolist() == [2.0]
    assert minigrad._foreach_div(tensors, minigrad.tensor(2.0))[0].tolist() == [0.0, 0.0]
