"""A twelfth round of PyTorch programs, on reinforcement learning, graphs, science and training
infrastructure (distributional and twin-critic RL, evolution strategies, graph networks with
sampling and equivariance, molecular and operator-learning models, user-written optimizers,
cross-validation, model surgery and checkpoint averaging), run with ``torch`` bound to minigrad
and with PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_c51_distributional(programs):
    ours, theirs = _both(programs, "c51_distributional")  # index_add_ projection, floor/ceil
    assert close(ours.losses, theirs.losses, 1e-3, 1e-4)
    assert max(ours.mass_errors) < 1e-6  # the projected target is a distribution
    assert close(ours.start_q, theirs.start_q, 1e-3, 1e-4)
    assert close(ours.end_distribution, theirs.end_distribution, 1e-3, 1e-6)
    assert ours.greedy == theirs.greedy == [1] * 6  # walk right for the larger mean return
    top = sorted(range(51), key=lambda i: -ours.end_distribution[i])[:2]
    assert sorted(ours.atoms[i] for i in top) == pytest.approx([3.0, 7.0])  # bimodal return
    assert ours.losses[-1] < 0.5 * ours.losses[0]
