"""A seventh round of PyTorch programs as people write them (tutorial-style training scripts
and utilities in domains the earlier rounds left out), run with ``torch`` bound to minigrad and
with PyTorch itself, and compared value by value (the mechanism of ``tests/test_programs5.py``).
"""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")


def test_transformer_decoder_masks(programs):
    ours = programs("transformer_decoder_masks")  # causal + padding masks, greedy decoding
    theirs = programs("transformer_decoder_masks", torch=True)
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.losses[-1] < ours.losses[0]
    assert close(ours.first_logits, theirs.first_logits, 1e-3, 1e-4)
    assert ours.decoded == theirs.decoded and ours.mask_values == theirs.mask_values


def test_custom_function_ctx(programs):
    ours = programs("custom_function_ctx")  # needs_input_grad, mark_dirty, materialize_grads
    theirs = programs("custom_function_ctx", torch=True)
    assert ours.checks == theirs.checks == [True] * 4
    assert ours.flags == theirs.flags and ours.double_backward == theirs.double_backward
    assert (
        ours.calls_after_frozen == theirs.calls_after_frozen == {"weight_grad": 0, "input_grad": 1}
    )
    assert ours.dirty_version == theirs.dirty_version and ours.dirty_grad == theirs.dirty_grad
    assert ours.split_seen == theirs.split_seen == [(False, True)]
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.calls == theirs.calls


def test_dann_gradient_reversal(programs):
    ours = programs("dann_gradient_reversal")  # a reversal Function, ramped lambda, lr annealing
    theirs = programs("dann_gradient_reversal", torch=True)
    assert close(ours.label_losses, theirs.label_losses, 1e-3, 1e-5)
    assert close(ours.domain_losses, theirs.domain_losses, 1e-3, 1e-5)
    assert ours.lambdas == theirs.lambdas and ours.final_lr == theirs.final_lr
    assert ours.reversed_grad == theirs.reversed_grad == [-1.0] * 3
    assert ours.target_accuracy == theirs.target_accuracy > 0.9


def test_arcface(programs):
    ours = programs("arcface")  # normalize, the angular margin with its fallback, scatter_
    theirs = programs("arcface", torch=True)
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5)
    assert ours.accuracy == theirs.accuracy > 0.9
    assert close([ours.same_sim, ours.diff_sim], [theirs.same_sim, theirs.diff_sim], 1e-3, 1e-5)
    assert ours.mean_angle == pytest.approx(theirs.mean_angle, rel=1e-3)


def test_barlow_twins(programs):
    ours = programs("barlow_twins")  # cross-correlation, the off-diagonal view trick, LBFGS probe
    theirs = programs("barlow_twins", torch=True)
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5)
    assert close(ours.on_diags, theirs.on_diags, 1e-3, 1e-5)
    assert ours.off_diagonal_sample == theirs.off_diagonal_sample
    assert ours.probe_accuracy == theirs.probe_accuracy > 0.9


def test_byol(programs):
    ours = programs("byol")  # deepcopy target, _foreach_mul_/_foreach_add_ EMA, buffers lerp_
    theirs = programs("byol", torch=True)
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.taus == theirs.taus
    assert ours.target_grads == theirs.target_grads and all(ours.target_grads)
    assert ours.gap == pytest.approx(theirs.gap, rel=1e-3)
    assert close(ours.running_mean, theirs.running_mean, 1e-3, 1e-5)
    assert ours.batches_tracked == theirs.batches_tracked
    assert ours.foreach_values == theirs.foreach_values
    assert close(ours.foreach_norms, theirs.foreach_norms, 1e-6)


def test_hamiltonian_nn(programs):
    ours = programs("hamiltonian_nn")  # symplectic gradient with create_graph, RK4 rollouts
    theirs = programs("hamiltonian_nn", torch=True)
    assert close(ours.hnn_losses, theirs.hnn_losses, 1e-3, 1e-6)
    assert close(ours.base_losses, theirs.base_losses, 1e-3, 1e-6)
    assert close(ours.learned_H, theirs.learned_H, 1e-3, 1e-5)
    assert ours.hnn_drift == pytest.approx(theirs.hnn_drift, rel=1e-3, abs=1e-5)
    assert ours.hnn_error == pytest.approx(theirs.hnn_error, rel=1e-3)
