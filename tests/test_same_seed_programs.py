"""Regression tests from a same-seed sweep of the PyTorch programs in ``tests/programs``: each
program run with ``torch`` bound to minigrad and with PyTorch, from the same seed, must print
the same numbers up to float rounding. Each test here pins one op whose divergence a program
showed, compared with PyTorch on the inputs that exposed it."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _both(fn):
    """``fn(lib)`` run with minigrad and with PyTorch: two lists of NumPy arrays."""
    return [
        [t.detach().numpy() if hasattr(t, "detach") else np.asarray(t) for t in fn(lib)]
        for lib in (minigrad, torch)
    ]


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 1, 28, 28), (1, 2, 11, 19), (1, 1, 4, 5, 6)])
def test_affine_grid_and_grid_sample_round_as_pytorch(size, align_corners):
    # spatial_transformer.py: an identity theta puts the sampling positions on pixel centres,
    # where the gradient in theta depends on which neighbours the floor picks, so on the last
    # bit of the grid (PyTorch's float32 steps and its fused unnormalisation)
    nd = len(size) - 2

    def run(lib):
        x = lib.tensor(np.random.default_rng(0).standard_normal(size, dtype=np.float32))
        x.requires_grad_()
        shift = np.random.default_rng(1).standard_normal((size[0], nd, nd + 1)) * 0.1
        theta = lib.eye(nd, nd + 1).repeat(size[0], 1, 1).requires_grad_()
        moved = lib.tensor(shift.astype(np.float32)) + lib.eye(nd, nd + 1)
        F = lib.nn.functional
        grid = F.affine_grid(theta, size, align_corners=align_corners)
        out = F.grid_sample(x, grid, align_corners=align_corners)
        (out * lib.linspace(-1, 1, out.numel()).reshape(out.shape)).sum().backward()
        moved_grid = F.affine_grid(moved, size, align_corners=align_corners)
        return [grid, out, x.grad, theta.grad, moved_grid]

    (grid, out, gx, gt, moved), (grid_t, out_t, gx_t, gt_t, moved_t) = _both(run)
    np.testing.assert_array_equal(grid, grid_t)
    np.testing.assert_array_equal(moved, moved_t)  # x*t0 + y*t1 + t2, left to right
    np.testing.assert_allclose(out, out_t, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gx, gx_t, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gt, gt_t, rtol=1e-5, atol=1e-4)


def test_random_pruning_prunes_pytorchs_entries():
    # pruning.py: random_unstructured prunes the entries that draw the *highest* numbers
    prune_mods = pytest.importorskip("torch.nn.utils.prune")  # noqa: F841 - torch's submodule
    import minigrad.nn.utils.prune  # noqa: F401

    def run(lib):
        lib.manual_seed(0)
        prune = lib.nn.utils.prune
        conv, fc = lib.nn.Conv2d(3, 8, 3), lib.nn.Linear(5, 4)
        prune.random_unstructured(conv, "weight", amount=0.3)
        prune.random_structured(conv, "weight", amount=0.4, dim=0)  # on top of the first mask
        pairs = [(conv, "bias"), (fc, "weight")]
        prune.global_unstructured(pairs, pruning_method=prune.RandomUnstructured, amount=7)
        return [conv.weight_mask, conv.bias_mask, fc.weight_mask, lib.rand(2)]

    for mine, theirs in zip(*_both(run)):
        np.testing.assert_array_equal(mine, theirs)


def test_retain_grad_follows_an_in_place_change():
    # found bisecting unet_segmentation.py with forward hooks: retain_grad() on a module's output
    # that a ReLU(inplace=True) then overwrites gives the gradient of the latest value
    def run(lib):
        x = lib.tensor([-1.0, 2.0, 3.0], requires_grad=True)
        weights = lib.tensor([1.0, 10.0, 100.0])
        y = x * 2
        y.retain_grad()
        lib.nn.ReLU(inplace=True)(y)
        base = x * 1
        base.retain_grad()
        base[:2].mul_(5)  # through a view: the base's history changes
        ((y + base) * weights).sum().backward()
        return [y.grad, base.grad, x.grad]

    for mine, theirs in zip(*_both(run)):
        np.testing.assert_array_equal(mine, theirs)


def test_random_structured_pruning_draws_on_the_cpu_for_any_device():
    # as PyTorch: the channels' numbers come from the CPU generator, so a model on a GPU (here
    # the fakegpu stand-in) prunes the channels the same seed prunes on the CPU
    import minigrad.nn.utils.prune as prune

    masks = []
    for device in ("cpu", "fakegpu"):
        minigrad.manual_seed(0)
        conv = minigrad.nn.Conv2d(3, 8, 3).to(device)
        prune.random_structured(conv, "weight", amount=0.4, dim=0)
        assert conv.weight_mask.device.type == device
        masks.append(conv.weight_mask.cpu().numpy())
    np.testing.assert_array_equal(*masks)
