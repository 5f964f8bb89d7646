"""Window functions, triangle indices, unravel_index and the constants at the top level, against
PyTorch."""

import math

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", [0, 1, 2, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows_match_torch(name, length, periodic):
    ours = getattr(minigrad, name)(length, periodic, dtype=minigrad.float64)
    theirs = getattr(torch, name)(length, periodic, dtype=torch.float64)
    assert ours.dtype is minigrad.float64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


def test_window_options_and_errors():
    np.testing.assert_allclose(
        minigrad.hamming_window(6, True, 0.5, 0.4).numpy(),
        torch.hamming_window(6, True, 0.5, 0.4).numpy(),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        minigrad.kaiser_window(7, True, 5.0).numpy(),
        torch.kaiser_window(7, True, 5.0).numpy(),
        1e-5,
    )
    w = minigrad.hann_window(4, requires_grad=True, device="fakegpu")
    assert w.dtype is minigrad.float32 and w.requires_grad and w.device == "fakegpu:0"
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.hann_window(3, dtype=minigrad.int64)
    with pytest.raises(RuntimeError, match="non-negative"):
        minigrad.blackman_window(-1)


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("row, col, offset", [(3, 3, 0), (3, 4, 1), (4, 2, -1), (0, 3, 0)])
def test_triangle_indices_match_torch(name, row, col, offset):
    ours = getattr(minigrad, name)(row, col, offset)
    theirs = getattr(torch, name)(row, col, offset)
    assert ours.dtype is minigrad.int64 and ours.tolist() == theirs.tolist()
    assert getattr(minigrad, name)(3, 3, dtype=minigrad.int32).dtype is minigrad.int32


def test_constants():
    assert (minigrad.pi, minigrad.e, minigrad.inf) == (torch.pi, torch.e, torch.inf)
    assert math.isnan(minigrad.nan) and minigrad.newaxis is torch.newaxis is None
    assert minigrad.ones(2)[minigrad.newaxis].shape == (1, 2)


@pytest.mark.parametrize(
    "indices, shape",
    [([5, -1, 7, -7, 6], (2, 3)), ([[1, 4], [5, 0]], (2, 3)), (4, (2, 3)), ([3, 11], (4, 1, 3))],
)
def test_unravel_index_matches_torch(indices, shape):
    ours = minigrad.unravel_index(minigrad.tensor(indices), shape)
    theirs = torch.unravel_index(torch.tensor(indices), shape)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype is minigrad.int64 and a.tolist() == b.tolist()
    assert minigrad.unravel_index(minigrad.tensor([3]), ()) == torch.unravel_index(
        torch.tensor([3]), ()
    )
    with pytest.raises(TypeError, match="integer dtype"):
        minigrad.unravel_index(minigrad.tensor([1.0]), (2, 3))
