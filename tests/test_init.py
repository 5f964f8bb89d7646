"""nn.init: in-place fills under no_grad, PyTorch's gains and fans, distributions, generators."""

import math

import numpy as np
import pytest
from helpers import to_numpy

import minigrad
import minigrad.nn as nn
from minigrad.nn import init


def test_calculate_gain_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name in ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    for slope in [None, 0.2, math.sqrt(5)]:
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope)
        )
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "big")


def test_fans_match_pytorch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 5), (8, 4, 3, 3), (6, 2, 5)]:
        ours = init._calculate_fan_in_and_fan_out(minigrad.empty(*shape))
        assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(minigrad.empty(3))
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(minigrad.empty(3, 3), mode="fan_avg")


def test_inits_work_in_place_on_parameters(device):
    p = nn.Parameter(minigrad.empty(64, 32, device=device))
    for fn in (
        init.uniform_,
        init.normal_,
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.trunc_normal_,
        init.orthogonal_,
        init.zeros_,
        init.ones_,
        init.eye_,
    ):
        assert fn(p) is p
        assert p.is_leaf and p.requires_grad and p.device.type == device
    assert init.constant_(p, 0.5) is p and to_numpy(p).min() == 0.5


def test_distributions():
    minigrad.manual_seed(0)
    w = minigrad.empty(400, 300)
    bound = math.sqrt(6 / 700)
    values = init.xavier_uniform_(w).numpy()
    assert values.max() <= bound and values.min() >= -bound
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert init.xavier_normal_(w, gain=2.0).numpy().std() == pytest.approx(
        2 * math.sqrt(2 / 700), rel=0.02
    )
    std = math.sqrt(2) / math.sqrt(300)
    assert init.kaiming_normal_(w, nonlinearity="relu").numpy().std() == pytest.approx(
        std, rel=0.02
    )
    std_out = math.sqrt(2) / math.sqrt(400)
    kaiming = init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu").numpy()
    assert kaiming.std() == pytest.approx(std_out, rel=0.02) and np.abs(
        kaiming
    ).max() <= std_out * math.sqrt(3)
    normal = init.normal_(w, mean=1.0, std=0.5).numpy()
    assert normal.mean() == pytest.approx(1.0, abs=0.01) and normal.std() == pytest.approx(
        0.5, rel=0.02
    )
    truncated = init.trunc_normal_(w, std=1.0, a=-0.5, b=1.0).numpy()
    assert truncated.min() >= -0.5 and truncated.max() <= 1.0 and truncated.std() > 0.3


def test_orthogonal_and_eye():
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        q = init.orthogonal_(minigrad.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        small = q if q.shape[0] >= q.shape[1] else q.T
        np.testing.assert_allclose(small.T @ small, 4.0 * np.eye(small.shape[1]), atol=1e-5)
    np.testing.assert_array_equal(init.eye_(minigrad.empty(2, 3)).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(minigrad.empty(2, 2, 2))


def test_generator_makes_inits_reproducible():
    gen = minigrad.Generator().manual_seed(7)
    a = init.kaiming_uniform_(minigrad.empty(5, 4), generator=gen).numpy().copy()
    gen.manual_seed(7)
    b = init.kaiming_uniform_(minigrad.empty(5, 4), generator=gen).numpy()
    np.testing.assert_array_equal(a, b)
    minigrad.manual_seed(3)
    first = nn.Linear(4, 3).weight.detach().numpy().copy()
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.detach().numpy(), first)


def test_init_records_no_graph():
    p = nn.Parameter(minigrad.zeros(3, 3))
    init.normal_(p)
    assert p.grad_fn is None
    (p * 2).sum().backward()
    assert p.grad.tolist() == [[2.0] * 3] * 3


@pytest.mark.parametrize(
    "make, fan_in",
    [(lambda: nn.Linear(50, 40), 50), (lambda: nn.Conv2d(4, 30, 3, groups=2), 2 * 9)],
)
def test_layer_default_init_has_pytorch_bounds(make, fan_in):
    """kaiming_uniform(a=√5) gives weights in ±1/√fan_in, and so is the bias drawn."""
    layer = make()
    bound = 1 / np.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound  # spread over the whole range, not zeros
