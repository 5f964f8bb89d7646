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


def test_ffjord_cnf(programs):
    ours, theirs = _both(programs, "ffjord_cnf")  # divergence by autograd, RK4 by hand; float64
    assert close(ours.train_nll, theirs.train_nll, 1e-10)
    assert ours.train_nll[-1] < ours.train_nll[0]
    assert ours.eval_nll_exact == pytest.approx(theirs.eval_nll_exact, rel=1e-10)
    assert close([ours.hutch_mean_gap, ours.hutch_std], [theirs.hutch_mean_gap, theirs.hutch_std])
    assert ours.hutch_mean_gap < 0.05  # Hutchinson is unbiased: its mean is near the trace
    assert ours.left_fraction == theirs.left_fraction
    assert ours.sample_spread == pytest.approx(theirs.sample_spread, rel=1e-10)
    assert ours.grad_norm == pytest.approx(theirs.grad_norm, rel=1e-10)
    assert ours.total_nfe == theirs.total_nfe == 256


def test_lstnet_forecast(programs):
    ours, theirs = _both(programs, "lstnet_forecast")  # Conv2d over series, skip-GRU, highway
    assert ours.sample_shape == theirs.sample_shape == (24, 4)
    assert ours.n_params == theirs.n_params
    assert close(ours.train_losses, theirs.train_losses, 1e-5, 1e-6)  # float32 training
    assert close(ours.clip_norms, theirs.clip_norms, 1e-4, 1e-6)
    assert ours.final_rse == pytest.approx(theirs.final_rse, rel=1e-4)
    assert ours.final_corr == pytest.approx(theirs.final_corr, rel=1e-5)
    assert ours.final_rse < 0.5 * ours.naive_rse


def test_welch_hilbert_fir(programs):
    ours, theirs = _both(programs, "welch_hilbert_fir")  # stft PSD, fft Hilbert, sinc FIR; f64
    assert ours.peak_freqs == theirs.peak_freqs == [12.5, 37.5]
    assert ours.total_power == pytest.approx(theirs.total_power, rel=1e-12)
    assert ours.envelope_err == pytest.approx(theirs.envelope_err, rel=1e-9, abs=1e-14)
    assert ours.envelope_err < 0.01 and ours.inst_freq_median == pytest.approx(25.0, rel=1e-5)
    assert ours.inst_freq_median == pytest.approx(theirs.inst_freq_median, rel=1e-12)
    assert ours.phase_span == pytest.approx(theirs.phase_span, rel=1e-12)
    assert close([ours.gain_12, ours.gain_37], [theirs.gain_12, theirs.gain_37], 1e-9)
    assert ours.suppression == pytest.approx(theirs.suppression, rel=1e-9)
    assert (
        ours.sg_rmse == pytest.approx(theirs.sg_rmse, rel=1e-12) and ours.sg_rmse < ours.noisy_rmse
    )
    assert ours.sg_sum == pytest.approx(1.0, rel=1e-12)
    assert ours.estimated_delay == theirs.estimated_delay == 17
    assert close(ours.fir_losses, theirs.fir_losses, 1e-9) and ours.fir_losses[-1] < 0.01


def test_laplace_bayes_logreg(programs):
    ours, theirs = _both(programs, "laplace_bayes_logreg")  # slogdet evidence, autograd hessian
    assert close(ours.evidence, theirs.evidence, 1e-11) and (ours.degree, ours.alpha) == (3, 1.0)
    assert close([ours.pred_mean, ours.pred_std], [theirs.pred_mean, theirs.pred_std], 1e-11)
    assert ours.pred_std[0] > ours.pred_std[3]  # more uncertain away from the data
    assert ours.posterior_entropy == pytest.approx(theirs.posterior_entropy, rel=1e-12)
    assert ours.weights_logprob == pytest.approx(theirs.weights_logprob, rel=1e-12)
    assert close(ours.w_map, theirs.w_map, 1e-10) and ours.hessian_gap < 1e-12
    assert ours.log_evidence_laplace == pytest.approx(theirs.log_evidence_laplace, rel=1e-11)
    assert close([ours.probit_pred, ours.map_pred], [theirs.probit_pred, theirs.map_pred], 1e-11)
    assert close(ours.mc_pred, theirs.mc_pred, 1e-11)  # the same rsample draws
    assert close(ours.mc_pred, ours.probit_pred, 0, 0.01)  # the probit approximation holds
    assert close([ours.z_scores, ours.tail], [theirs.z_scores, theirs.tail], 1e-10)


def test_linear_recommenders(programs):
    ours, theirs = _both(programs, "linear_recommenders")  # EASE inv, svd, batched ALS solves
    assert ours.density == theirs.density
    assert close(ours.results, theirs.results, 1e-10)
    assert ours.results["ease"][0] > ours.results["popular"][0]
    assert ours.results["ials"][0] > ours.results["popular"][0]
    assert close(ours.ease_b_stats, theirs.ease_b_stats, 1e-10) and ours.ease_b_stats[1] == 0
    assert close(ours.top_singular, theirs.top_singular, 1e-12)
    assert close(ours.als_loss, theirs.als_loss, 1e-10)
    assert all(a >= b for a, b in zip(ours.als_loss, ours.als_loss[1:]))  # ALS never goes up


def test_particle_filter(programs):
    ours, theirs = _both(programs, "particle_filter")  # searchsorted, multinomial, logsumexp
    assert close(ours.means, theirs.means, 1e-10)
    assert ours.loglik == pytest.approx(theirs.loglik, rel=1e-12) and ours.n_res == theirs.n_res
    assert ours.loglik_m == pytest.approx(theirs.loglik_m, rel=1e-12)
    assert ours.n_res_m == theirs.n_res_m
    assert close([ours.rmse_sys, ours.rmse_multi], [theirs.rmse_sys, theirs.rmse_multi], 1e-10)
    assert close(ours.profile, theirs.profile, 1e-12) and ours.best_q == theirs.best_q
    assert close(ours.kalman_means, theirs.kalman_means, 1e-12)
    assert ours.kalman_gap == pytest.approx(theirs.kalman_gap, rel=1e-9) and ours.kalman_gap < 0.2
    assert ours.loglik_gap < 0.5  # the particle estimate of the exact Kalman likelihood


def test_dmd_koopman(programs):
    ours, theirs = _both(programs, "dmd_koopman")  # complex svd/eig/lstsq, latent operator
    assert close(ours.freqs, [1.0, 2.3, 2.8], 1e-3)  # the three modes' frequencies
    assert close(ours.freqs, theirs.freqs, 1e-9) and close(ours.growth, theirs.growth, 0, 1e-9)
    assert ours.recon_err == pytest.approx(theirs.recon_err, rel=1e-10) and ours.recon_err < 0.05
    assert close(ours.energy, theirs.energy, 1e-10)
    assert close(ours.koopman_losses, theirs.koopman_losses, 1e-5, 1e-7)  # float32 training
    assert ours.koopman_losses[-1] < 0.2 * ours.koopman_losses[0]
    assert close(ours.K_moduli, theirs.K_moduli, 1e-5)


def test_sliced_wasserstein(programs):
    ours, theirs = _both(programs, "sliced_wasserstein")  # sort, quantile, icdf, maximize=True
    assert close(ours.sw_losses, theirs.sw_losses, 1e-5, 1e-6)  # float32 generator
    assert ours.sw_losses[-1] < 0.4 * ours.sw_losses[0]
    assert close([ours.radius_mean, ours.radius_std], [theirs.radius_mean, theirs.radius_std])
    assert ours.sw_unequal == pytest.approx(theirs.sw_unequal, rel=1e-12)
    assert (
        close(ours.max_sliced, theirs.max_sliced, 1e-10)
        and ours.max_sliced[-1] > ours.max_sliced[0]
    )
    assert ours.best_angle == pytest.approx(theirs.best_angle, rel=1e-10)
    assert ours.w2_quantile == pytest.approx(theirs.w2_quantile, rel=1e-12)
    assert ours.w2_quantile == pytest.approx(ours.w2_closed, rel=0.05)
    assert close(ours.bary_stats, theirs.bary_stats, 1e-12) and close(
        ours.bary_stats, [1 / 3, 1], 0, 0.05
    )


def test_mmoe_multitask(programs):
    ours, theirs = _both(programs, "mmoe_multitask")  # sparse embeddings + SparseAdam, plateau
    assert ours.grad_is_sparse is theirs.grad_is_sparse is True
    assert close(ours.history, theirs.history, 1e-4, 1e-6)  # float32 training
    assert ours.lrs == theirs.lrs and ours.lrs[-1] < ours.lrs[0]
    assert (ours.stopped_epoch, ours.best_epoch) == (theirs.stopped_epoch, theirs.best_epoch)
    assert ours.stopped_epoch < 11  # early stopping fired
    assert ours.reloaded_auc == pytest.approx(ours.best_auc, rel=1e-12)  # the best checkpoint
    assert ours.reloaded_auc == pytest.approx(theirs.reloaded_auc, rel=1e-6) and ours.best_auc > 0.9
    assert close(ours.gate_means, theirs.gate_means, 1e-4, 1e-6)


def test_entity_embeddings_kfold(programs):
    ours, theirs = _both(programs, "entity_embeddings_kfold")  # unique/bucketize, Subset folds
    assert ours.emb_sizes == theirs.emb_sizes == [(30, 15), (7, 4), (2, 1), (4, 2)]
    assert ours.fold_epochs == theirs.fold_epochs and min(ours.fold_epochs) < 7  # stopped early
    assert close(ours.fold_scores, theirs.fold_scores, 1e-4, 1e-6)  # float32 training
    rmspe = [ours.oof_rmspe, ours.test_rmspe, ours.single_rmspe, ours.baseline_rmspe]
    assert close(
        rmspe,
        [theirs.oof_rmspe, theirs.test_rmspe, theirs.single_rmspe, theirs.baseline_rmspe],
        1e-4,
    )
    assert ours.test_rmspe < ours.single_rmspe and ours.test_rmspe < ours.baseline_rmspe
    assert close(ours.sim_stats, theirs.sim_stats, 1e-5)
