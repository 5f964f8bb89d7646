"""Regression tests for the divergences found by running the programs of test_programs5..8 with
minigrad and with PyTorch from the same seed: each test pins the op that made the two runs
differ, compared with PyTorch on the same inputs."""

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

POOLS = {
    "2x2": lambda f, x: f.avg_pool2d(x, 2),
    "3x3 stride 2 pad 1": lambda f, x: f.avg_pool2d(x, 3, 2, 1),
    "pad without count_include_pad": lambda f, x: f.avg_pool2d(x, 3, 1, 1, False, False),
    "ceil_mode": lambda f, x: f.avg_pool2d(x, 2, 2, 0, True),
    "divisor_override": lambda f, x: f.avg_pool2d(x, 2, divisor_override=5),
    "adaptive uneven": lambda f, x: f.adaptive_avg_pool2d(x, (4, 3)),
    "adaptive 1": lambda f, x: f.adaptive_avg_pool2d(x, 1),
}


@pytest.mark.parametrize("pool", sorted(POOLS))
@pytest.mark.parametrize("qdtype, low, zero_point", [("quint8", 0, 3), ("qint8", -128, -37)])
def test_quantized_average_pools_round_as_pytorch(pool, qdtype, low, zero_point):
    # static_ptq_cnn: a 2x2 window whose sum is 2 mod 4 has its mean on a rounding tie; PyTorch
    # rounds the integer mean plus the zero point half to even, and the float mean of the
    # dequantized values had put 3% of the pooled values one step the other way
    ints = np.random.default_rng(0).integers(low, low + 256, (2, 3, 9, 10)).astype(np.float32)
    x, scale = (ints - zero_point) * 0.1, 0.1
    theirs = torch.quantize_per_tensor(
        torch.from_numpy(x), scale, zero_point, getattr(torch, qdtype)
    )
    ours = minigrad.quantize_per_tensor(
        minigrad.from_numpy(x), scale, zero_point, getattr(minigrad, qdtype)
    )
    expected = POOLS[pool](torch.nn.functional, theirs)
    got = POOLS[pool](F, ours)
    assert got.q_scale() == expected.q_scale() and got.q_zero_point() == expected.q_zero_point()
    assert np.array_equal(got.int_repr().numpy(), expected.int_repr().numpy())


def test_adaptive_avg_pool_divides_window_sums():
    # uneven windows: each window's sum over its count, as PyTorch (float32 within an ulp)
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 10)).astype(np.float32)
    ours = minigrad.from_numpy(x).requires_grad_()
    theirs = torch.from_numpy(x).requires_grad_()
    out, expected = (
        F.adaptive_avg_pool2d(ours, (4, 3)),
        torch.nn.functional.adaptive_avg_pool2d(theirs, (4, 3)),
    )
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), 1e-6, 3e-7)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), 1e-6, 1e-7)
