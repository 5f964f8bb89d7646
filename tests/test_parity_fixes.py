"""Differences from PyTorch found by running the test programs with both and comparing their
numbers: each test here runs the same seeded code with minigrad and with PyTorch."""

import io

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _square(x):
    return x**2


def _draws_after_gradgradcheck(lib):
    lib.manual_seed(0)
    x = lib.rand(3, 3, dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradgradcheck(_square, (x,))
    return lib.rand(4).tolist()


def test_gradgradcheck_draws_its_grad_outputs_from_the_global_generator():
    # v ~ U(-1, 1) from the seeded generator, as PyTorch: the numbers drawn afterwards agree
    assert _draws_after_gradgradcheck(minigrad) == _draws_after_gradgradcheck(torch)


def test_gradgradcheck_with_a_seed_leaves_the_global_generator_alone():
    minigrad.manual_seed(0)
    x = minigrad.rand(2, dtype=minigrad.float64, requires_grad=True)
    state = minigrad.get_rng_state()
    assert minigrad.autograd.gradgradcheck(_square, (x,), seed=3)
    assert minigrad.equal(minigrad.get_rng_state(), state)


class _Net(minigrad.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = minigrad.nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x).relu()


def test_export_save_and_load_draw_no_random_numbers():
    minigrad.manual_seed(0)
    ep = minigrad.export.export(_Net(), (minigrad.randn(2, 3),))
    state = minigrad.get_rng_state()
    buffer = io.BytesIO()
    minigrad.export.save(ep, buffer)
    buffer.seek(0)
    minigrad.export.load(buffer)
    assert minigrad.equal(minigrad.get_rng_state(), state)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("SGD", dict(lr=0.1, weight_decay=0.1)),
        ("ASGD", {}),
        ("Adamax", {}),
        ("Adamax", dict(betas=(0.3, 0.9))),  # lerp's weight 0.7: PyTorch's other formula
    ],
)
def test_optimizer_steps_are_bit_identical_to_pytorchs(name, kwargs):
    # PyTorch's add with alpha rounds once (a fused multiply-add); minigrad rounds the same way
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(500).astype(np.float32)
    grads = [rng.standard_normal(500).astype(np.float32) for _ in range(5)]
    results = []
    for lib in (minigrad, torch):
        p = lib.nn.Parameter(lib.from_numpy(w0.copy()))
        opt = getattr(lib.optim, name)([p], **kwargs)
        for g in grads:
            p.grad = lib.from_numpy(g.copy())
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_addcmul_and_lerp_round_as_pytorchs_kernels():
    # optimizers' in-place helpers; Adam's remaining gaps come from PyTorch's sqrt (MKL), which
    # is not correctly rounded on the CPU build (minigrad's NumPy sqrt is)
    from minigrad.optim import optimizer

    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(70_000).astype(np.float32) for _ in range(3))
    ta, tb, tc = (torch.from_numpy(v.copy()) for v in (a, b, c))
    ours = a.copy()
    optimizer.addcmul_(np, ours, b, c, 0.3)
    np.testing.assert_array_equal(ours, ta.clone().addcmul_(tb, tc, value=0.3).numpy())
    for weight in (0.1, 0.9):
        ours = a.copy()
        optimizer.lerp_(np, ours, b, weight)
        np.testing.assert_array_equal(ours, ta.clone().lerp_(tb, weight).numpy())


@pytest.mark.parametrize("start, end, steps", [(-1, 1, 16), (-3.3, 2.1, 101), (1e-3, 5.0, 33)])
def test_linspace_gives_pytorchs_float32_values(start, end, steps):
    # PyTorch counts up from start for the first half and down from end for the rest, one
    # rounding per value: a disc drawn with ``yy**2 + xx**2 < r`` then has the same pixels
    ours = minigrad.linspace(start, end, steps).numpy()
    np.testing.assert_array_equal(ours, torch.linspace(start, end, steps).numpy())
    wide = minigrad.linspace(start, end, steps, dtype=minigrad.float64).numpy()
    reference = torch.linspace(start, end, steps, dtype=torch.float64).numpy()
    np.testing.assert_allclose(wide, reference, rtol=0, atol=4e-16 * max(abs(start), abs(end)))
