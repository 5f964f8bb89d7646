"""A sixteenth round of PyTorch programs from popular courses and books (Karpathy's "Zero to
Hero" makemore lectures, the UvA deep learning tutorials, Raschka's book, fast.ai's lessons
written in plain PyTorch), run with ``torch`` bound to minigrad and with PyTorch itself and
compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_makemore_activations_bn(programs):
    ours, theirs = _both(programs, "makemore_activations_bn")  # retain_grad, histogram, % format
    assert close(ours.lossi, theirs.lossi, 1e-5, 1e-6) and ours.lossi[-1] < ours.lossi[0] - 0.05
    assert ours.n_params == theirs.n_params == 2664
    weights = [j for j, p in enumerate(theirs.parameters) if p.ndim == 2]
    assert close(
        [[r[j] for j in weights] for r in ours.ud],
        [[r[j] for j in weights] for r in theirs.ud],
        1e-4,
    )
    assert ours.activation_lines == theirs.activation_lines
    assert close(ours.saturations, theirs.saturations, 1e-6) and max(ours.saturations) < 0.15
    assert close(ours.hist_peaks, theirs.hist_peaks, 1e-4) and ours.hist_peaks[0][3] == 101
    assert close(ours.grad_stds, theirs.grad_stds, 1e-4, 1e-8)
    assert close(ours.grad_data_ratios, theirs.grad_data_ratios, 1e-4, 1e-8)
    assert close(ours.split_losses, theirs.split_losses, 1e-5) and ours.split_losses[0] < 2.7
    assert close(ours.running_var_sample, theirs.running_var_sample, 1e-5)


def test_makemore_wavenet(programs):
    ours, theirs = _both(programs, "makemore_wavenet")  # FlattenConsecutive, var over (0, 1)
    assert ours.shape_walk == theirs.shape_walk and ours.shape_walk[-1] == ("Linear", (4, 23))
    assert ours.shape_walk[5] == ("FlattenConsecutive", (4, 2, 32))
    assert ours.n_params == theirs.n_params == 1841
    assert close(ours.lossi, theirs.lossi, 1e-5, 1e-6)
    assert (
        close(ours.smoothed, theirs.smoothed, 1e-5) and ours.smoothed[-1] < ours.smoothed[0] - 0.08
    )
    assert close(ours.split_losses, theirs.split_losses, 1e-5)
    assert ours.running_mean_shape == theirs.running_mean_shape == (1, 1, 16)
    assert ours.samples == theirs.samples
