"""A twelfth round of PyTorch programs, on vision and generative models (pix2pix, StyleGAN2's
modulated convolutions, Glow, energy-based models, guided diffusion, inpainting, detection
heads, optical flow, super-resolution), run with ``torch`` bound to minigrad and with PyTorch
itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_pix2pix(programs):
    ours, theirs = _both(programs, "pix2pix")  # U-Net skips by cat, PatchGAN, GANLoss + L1
    assert ours.patch_shape == theirs.patch_shape == (2, 1, 3, 3)
    assert close(ours.d_losses, theirs.d_losses, 1e-4, 1e-5)
    assert close(ours.g_gan, theirs.g_gan, 1e-4, 1e-5)
    assert close(ours.g_l1, theirs.g_l1, 1e-4, 1e-4) and ours.g_l1[-1] < 0.5 * ours.g_l1[0]
    assert ours.pixel_accuracy == pytest.approx(theirs.pixel_accuracy, abs=2e-3)
    assert ours.eval_l1 == pytest.approx(theirs.eval_l1, rel=1e-3)
    assert ours.d_grad_none and ours.n_params == theirs.n_params
