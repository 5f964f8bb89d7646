"""The twenty-first round's scientific, tabular, time-series and recommender programs (kernel
methods, reservoir computing, physics-informed networks, recommenders, ...), run with
``torch`` bound to minigrad and with PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_rff_kernel_ridge(programs):
    ours, theirs = _both(programs, "rff_kernel_ridge")  # cdist, cholesky_solve, eigh; float64
    assert ours.sigma == pytest.approx(theirs.sigma, rel=1e-12)
    assert ours.exact_mse == pytest.approx(theirs.exact_mse, rel=1e-9) and ours.exact_mse < 0.05
    assert close(ours.rff_errors, theirs.rff_errors, 1e-10) and close(
        ours.rff_mse, theirs.rff_mse, 1e-8
    )
    assert ours.rff_errors[256] < ours.rff_errors[16]  # the approximation improves with D
    assert ours.nystrom_rel == pytest.approx(theirs.nystrom_rel, rel=1e-8)
    assert close(ours.explained, theirs.explained, 1e-10)
    assert close(ours.kpca_abs_first, theirs.kpca_abs_first, 1e-8)
    assert close(ours.clf_losses, theirs.clf_losses, 1e-10) and ours.clf_acc == theirs.clf_acc


def test_neumf_hit_ratio(programs):
    ours, theirs = _both(programs, "neumf_hit_ratio")  # randint negatives, topk -> take
    assert (ours.n_train, ours.n_samples) == (theirs.n_train, theirs.n_samples)
    assert close(ours.epoch_losses, theirs.epoch_losses, 1e-5, 1e-6)
    assert ours.epoch_losses[-1] < 0.6 * ours.epoch_losses[0]
    assert ours.hr_history == theirs.hr_history and close(ours.ndcg_history, theirs.ndcg_history)


def test_echo_state_network(programs):
    ours, theirs = _both(programs, "echo_state_network")  # eigvals radius, ridge solve, float64
    assert ours.rho_after == pytest.approx(0.9, rel=1e-12)
    assert ours.esn.rho_before == pytest.approx(theirs.esn.rho_before, rel=1e-12)
    # the ridge system is ill conditioned (ridge 1e-6): solvers agree to ~1e-8
    assert ours.train_nrmse == pytest.approx(theirs.train_nrmse, rel=1e-6)
    assert ours.train_nrmse < 0.02 and ours.lstsq_gap < 1e-8 and theirs.lstsq_gap < 1e-8
    assert ours.readout_norm == pytest.approx(theirs.readout_norm, rel=1e-6)
    assert ours.one_step_nrmse == pytest.approx(theirs.one_step_nrmse, rel=1e-6)
    assert close(
        [ours.gen_nrmse_50, ours.gen_nrmse_all], [theirs.gen_nrmse_50, theirs.gen_nrmse_all], 1e-5
    )
    assert close(ours.generated_head, theirs.generated_head, 1e-6)


def test_sa_pinn_helmholtz(programs):
    ours, theirs = _both(programs, "sa_pinn_helmholtz")  # maximize=True, Laplacian, LBFGS; f64
    assert close(ours.adam_log, theirs.adam_log, 1e-10)
    assert close(ours.lambda_stats, theirs.lambda_stats, 1e-10)
    assert ours.n_lbfgs_evals == theirs.n_lbfgs_evals
    assert close(ours.lbfgs_losses, theirs.lbfgs_losses, 1e-9)
    assert ours.lbfgs_losses[-1] < 0.1 * ours.lbfgs_losses[0]
    assert close([ours.plain_res, ours.plain_bc], [theirs.plain_res, theirs.plain_bc], 1e-9)
    assert ours.rel_l2 == pytest.approx(theirs.rel_l2, rel=1e-6) and ours.rel_l2 < 0.1
