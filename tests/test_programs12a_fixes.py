"""Regression tests for what the twelfth program round (vision and generative models) found
different from PyTorch."""

import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn


@pytest.mark.parametrize("cls", [minigrad.optim.Adam, minigrad.optim.AdamW])
def test_adam_refuses_integer_betas_as_pytorch(cls):
    params = [nn.Parameter(minigrad.ones(2))]
    with pytest.raises(ValueError, match="betas must be either both floats or both Tensors"):
        cls(params, betas=(0, 0.99))  # StyleGAN2's betas, written with an integer 0
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        cls(params, betas=(0.9, 1))  # the range is checked first, as PyTorch
    assert cls(params, betas=(0.0, 0.99)).defaults["betas"] == (0.0, 0.99)
    minigrad.optim.NAdam(params, betas=(0, 0.99))  # only Adam and AdamW check the type


@pytest.mark.parametrize(
    "activation", [F.relu, lambda t: F.leaky_relu(t, 0.2), lambda t: t.clone().relu_()]
)
def test_gradient_penalty_gives_zero_not_none_before_relu(activation):
    """PyTorch's relu/leaky_relu backward depends on the input with a zero derivative, so the
    parameters before the activation get zero gradients from an R1 or gradient penalty (and
    Adam then steps on them), not None."""
    bias = nn.Parameter(minigrad.tensor([0.1, -0.2, 0.3]))
    x = minigrad.tensor([0.5, -1.5, 2.0], requires_grad=True)
    (gx,) = minigrad.autograd.grad(activation(x * 2 + bias).sum(), x, create_graph=True)
    gx.pow(2).sum().backward()
    assert bias.grad is not None and bias.grad.tolist() == [0.0, 0.0, 0.0]
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_relu_plain_backward_keeps_no_link():
    x = minigrad.tensor([1.0, -1.0], requires_grad=True)
    (gx,) = minigrad.autograd.grad(F.relu(x).sum(), x)
    assert not gx.requires_grad and gx.tolist() == [1.0, 0.0]


def test_numpy_scatter_add_on_flat_positions_equals_add_at():
    """The CPU scatter-add (gather's and grid_sample's backward) adds on one flat index: the
    same sums in the same order as ``np.add.at`` with the tuple key, negative indices and
    repeats included, and the same IndexError out of range."""
    np = pytest.importorskip("numpy")
    backend = minigrad.backend.NumpyBackend()
    rng = np.random.default_rng(0)
    target = rng.standard_normal((5, 3, 7)).astype(np.float32)
    key = (
        np.arange(5).reshape(5, 1, 1),
        np.array([[[0], [-1], [1]]]),
        rng.integers(-7, 7, (5, 3, 9)),
    )
    values = rng.standard_normal((5, 3, 9)).astype(np.float32)
    ours, expected = target.copy(), target.copy()
    backend.scatter_add(ours, key, values)
    np.add.at(expected, key, values)
    assert np.array_equal(ours, expected)
    for key in [(np.array([5]), np.array([0]), np.array([0])), (np.array([[0]]), slice(None))]:
        ours, expected = target.copy(), target.copy()
        try:
            np.add.at(expected, key, 1.0)
        except IndexError:
            with pytest.raises(IndexError):
                backend.scatter_add(ours, key, 1.0)
        else:
            backend.scatter_add(ours, key, 1.0)
            assert np.array_equal(ours, expected)
    before = float(target[2, 1, 0])
    view = target.transpose(2, 1, 0)  # not C-contiguous: np.add.at on the key as it is
    backend.scatter_add(view, (np.array([0, 0]), np.array([1, 1]), np.array([2, 2])), 1.0)
    assert target[2, 1, 0] == np.float32(before) + np.float32(2.0)  # written through the view


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_of_an_empty_batch(mode):
    """No proposals in a batch (Mask R-CNN's loss with no positives): N = 0 samples nothing,
    as PyTorch, and the backward gives empty gradients (it reshaped with -1 and failed)."""
    x = minigrad.zeros(0, 2, 5, 5, requires_grad=True)
    grid = minigrad.zeros(0, 3, 4, 2, requires_grad=True)
    y = F.grid_sample(x, grid, mode=mode, align_corners=False)
    y.sum().backward()
    assert tuple(y.shape) == (0, 2, 3, 4)
    assert tuple(x.grad.shape) == (0, 2, 5, 5) and tuple(grid.grad.shape) == (0, 3, 4, 2)
    empty_grid = F.grid_sample(minigrad.ones(2, 2, 5, 5), minigrad.zeros(2, 0, 4, 2))
    assert tuple(empty_grid.shape) == (2, 2, 0, 4)
