"""A fourteenth round of PyTorch programs, as course assignments and textbooks write them
(d2l.ai's from-scratch chapters, CS231n and CS224n assignments, Deep Learning with PyTorch,
fast.ai-style training loops), run with ``torch`` bound to minigrad and with PyTorch itself;
minigrad's generator follows PyTorch's streams, so the two runs are compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_d2l_linear_regression(programs):
    ours, theirs = _both(programs, "d2l_linear_regression")  # normal(requires_grad=), no_grad sgd
    assert ours.first_batch_shapes == theirs.first_batch_shapes == [(10, 2), (10, 1)]
    assert ours.concise_first_shapes == [(10, 2), (10, 1)]
    assert close(ours.scratch_losses, theirs.scratch_losses, 1e-5, 1e-7)
    assert close(ours.concise_losses, theirs.concise_losses, 1e-5, 1e-7)
    assert close(ours.w_error, theirs.w_error, 1e-5, 1e-6) and ours.b_error == pytest.approx(
        theirs.b_error, rel=1e-5
    )
    assert close(ours.w_concise.tolist(), theirs.w_concise.tolist(), 1e-5)
    assert ours.concise_losses[-1] < 0.05 and ours.scratch_losses[-1] < 0.1 * ours.scratch_losses[0]
    assert ours.scratch_leaf_grads_zero and not ours.concise_grad_is_none


def test_d2l_softmax_regression(programs):
    ours, theirs = _both(programs, "d2l_softmax_regression")  # y_hat[range(n), y], Accumulator
    assert ours.picked == pytest.approx([0.1, 0.5]) and ours.demo_accuracy == 0.5
    assert close(ours.demo_ce, theirs.demo_ce, 1e-6) and close(ours.row_sums, [1.0, 1.0], 1e-6)
    assert ours.initial_accuracy == theirs.initial_accuracy
    assert close(ours.scratch_history, theirs.scratch_history, 1e-4, 1e-6)
    assert close(ours.concise_history, theirs.concise_history, 1e-4, 1e-6)
    assert ours.predictions == theirs.predictions and ours.net_was_eval
    assert ours.scratch_history[-1][2] > 0.8 and ours.concise_history[-1][2] > 0.8
