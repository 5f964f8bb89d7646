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
def test_optimizer_steps_equal_pytorchs_to_rounding(name, kwargs):
    # PyTorch's CPU kernels round a·x + y once (a fused multiply-add); minigrad's steps round
    # twice, on purpose: emulating the fused rounding with float64 passes cost 10% of the small
    # MLP's training step, and forward and backward differ at rounding level anyway
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
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("start, end, steps", [(-1, 1, 16), (-3.3, 2.1, 101), (1e-3, 5.0, 33)])
def test_linspace_gives_pytorchs_float32_values(start, end, steps):
    # PyTorch counts up from start for the first half and down from end for the rest, one
    # rounding per value: a disc drawn with ``yy**2 + xx**2 < r`` then has the same pixels
    ours = minigrad.linspace(start, end, steps).numpy()
    np.testing.assert_array_equal(ours, torch.linspace(start, end, steps).numpy())
    wide = minigrad.linspace(start, end, steps, dtype=minigrad.float64).numpy()
    reference = torch.linspace(start, end, steps, dtype=torch.float64).numpy()
    np.testing.assert_allclose(wide, reference, rtol=0, atol=4e-16 * max(abs(start), abs(end)))
