"""The vectorized gamma sampler (one concentration for all elements) is the scalar loop's and
PyTorch's, number for number, and leaves the generator where they do."""

import numpy as np
import pytest

import minigrad
from minigrad import _torch_samplers
from minigrad._torch_random import TorchRandom
from minigrad._torch_rejection import (
    gamma_same_alpha,
    gamma_vectorizes,
    poisson_same_large_rate,
    poisson_same_small_rate,
)


def _scalar(gen, alphas):
    d = (alphas - alphas.dtype.type(_torch_samplers._THIRD)).astype(np.float64)
    c = 1.0 / np.sqrt(9.0 * d)
    n = alphas.size
    ones = [1.0] * n
    return np.array(_torch_samplers._gamma_loop(gen, alphas.tolist(), [False] * n, ones, d, c))


@pytest.mark.parametrize("alpha", [1.45, 2.5, 30.0])
@pytest.mark.parametrize("cached", [False, True])
def test_vectorized_gamma_equals_the_scalar_loop(alpha, cached):
    alphas = np.full(3001, alpha)
    d = float(alphas[0] - np.float64(_torch_samplers._THIRD))
    c = 1.0 / np.sqrt(9.0 * d)
    assert gamma_vectorizes(c)
    scalar, vectorized = TorchRandom(3), TorchRandom(3)
    if cached:  # an odd normal draw leaves a cached normal number
        scalar._normal_pairs(1), vectorized._normal_pairs(1)
    expected = _scalar(scalar, alphas)
    got = gamma_same_alpha(vectorized, alphas.size, d, c)
    assert np.array_equal(got, expected)
    assert np.array_equal(scalar.get_state(), vectorized.get_state())
    assert (
        scalar.normal((5,), np.float64, 0.0, 1.0).tolist()
        == vectorized.normal((5,), np.float64, 0.0, 1.0).tolist()
    )


def test_alpha_near_one_keeps_the_scalar_loop():
    assert not gamma_vectorizes(1.0 / np.sqrt(9.0 * (1.0 - 1.0 / 3)))


def test_standard_gamma_of_one_concentration_is_pytorchs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(5), minigrad.manual_seed(5)
    expected = torch._standard_gamma(torch.full((4000,), 2.5))
    got = minigrad._standard_gamma(minigrad.full((4000,), 2.5))
    assert np.array_equal(got.numpy(), expected.numpy())
    assert torch.rand(3).tolist() == minigrad.rand(3).tolist()


@pytest.mark.parametrize("rate", [0.5, 4.0, 9.5, 10.0, 250.0])
@pytest.mark.parametrize("cached", [False, True])
def test_vectorized_poisson_equals_the_scalar_loop(rate, cached):
    scalar, vectorized = TorchRandom(11), TorchRandom(11)
    if cached:
        scalar._normal_pairs(1), vectorized._normal_pairs(1)
    state = scalar.get_state()
    stream = _torch_samplers._DoubleStream(scalar, 16)
    expected = [_torch_samplers._poisson_one(rate, stream.uniform) for _ in range(2000)]
    stream.finish(state)
    vectorized_poisson = poisson_same_small_rate if rate < 10 else poisson_same_large_rate
    got = vectorized_poisson(vectorized, 2000, rate)
    assert got.tolist() == expected
    assert np.array_equal(scalar.get_state(), vectorized.get_state())
    assert (
        scalar.normal((3,), np.float64, 0.0, 1.0).tolist()
        == vectorized.normal((3,), np.float64, 0.0, 1.0).tolist()
    )


def test_poisson_of_one_rate_is_pytorchs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(2), minigrad.manual_seed(2)
    for rate in (4.0, 30.0):
        expected = torch.poisson(torch.full((3000,), rate))
        got = minigrad.poisson(minigrad.full((3000,), rate))
        assert np.array_equal(got.numpy(), expected.numpy())
    assert torch.rand(3).tolist() == minigrad.rand(3).tolist()
