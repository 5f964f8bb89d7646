"""A thirteenth round of PyTorch programs, on reinforcement learning, graphs, science,
optimization, meta-learning and training infrastructure, run with ``torch`` bound to minigrad
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


def test_reptile_sine(programs):
    ours, theirs = _both(programs, "reptile_sine")  # state_dict interpolation, p.grad = delta
    assert close(ours.inner_losses, theirs.inner_losses, 1e-4, 1e-5)
    assert close(ours.outer_deltas, theirs.outer_deltas, 1e-4, 1e-7)
    assert close(ours.eval_losses, theirs.eval_losses, 1e-4, 1e-5)
    assert ours.eval_losses[-1] < 0.8 * ours.eval_losses[0]  # adapts to a new task
    assert ours.curve_error == pytest.approx(theirs.curve_error, rel=1e-4)
    assert ours.restored_gap == 0.0 and ours.state_dict_is_copy and theirs.state_dict_is_copy
    assert close(ours.meta_losses, theirs.meta_losses, 1e-4, 1e-5)
    assert close(ours.meta_weight_sample, theirs.meta_weight_sample, 1e-4, 1e-6)
    assert ours.grad_is_leafless


def test_dueling_per_dqn(programs):
    ours, theirs = _both(programs, "dueling_per_dqn")  # dueling head, double DQN, PER weights
    assert close(ours.losses, theirs.losses, 1e-6, 1e-9)
    assert close(ours.weight_ranges, theirs.weight_ranges, 1e-9)
    assert ours.tree_total == pytest.approx(theirs.tree_total, rel=1e-9)
    assert close(ours.q_table, theirs.q_table, 1e-6, 1e-9)
    assert ours.greedy == theirs.greedy and ours.greedy[1:] == [1] * 5  # walks to the reward
    assert ours.weights_dtype == theirs.weights_dtype == "torch.float64"
    assert ours.losses[-1] < 0.2 * ours.losses[0]


def test_diffpool(programs):
    ours, theirs = _both(programs, "diffpool")  # dense_diff_pool, DenseSAGEConv, masks, BN
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.4 * ours.losses[0]
    assert close(ours.link_losses, theirs.link_losses, 1e-4, 1e-7)
    assert close(ours.ent_losses, theirs.ent_losses, 1e-4, 1e-6)
    assert close(ours.assignment_rows, theirs.assignment_rows, 1e-3, 1e-5)
    assert close(ours.running_mean, theirs.running_mean, 1e-3, 1e-5)
    assert ours.accuracy == theirs.accuracy and ours.padding_gap == 0.0
    assert ours.pooled_adj_shape == theirs.pooled_adj_shape == (2, 3, 3)


def test_kfac(programs):
    ours, theirs = _both(programs, "kfac")  # forward pre-hooks, full backward hooks, eigh
    assert close(ours.sgd_losses, theirs.sgd_losses, 1e-4, 1e-6)
    assert close(ours.kfac_losses, theirs.kfac_losses, 1e-4, 1e-6)
    assert close(ours.kl_scales, theirs.kl_scales, 1e-4) and ours.kl_scales[0] < 1.0
    assert close(ours.factor_A.tolist(), theirs.factor_A.tolist(), 1e-4, 1e-6)
    assert close(ours.eigenvalues_G, theirs.eigenvalues_G, 1e-4, 1e-6)
    assert ours.kfac_losses[-1] < 0.5 * ours.sgd_losses[-1]  # the preconditioner pays off
    assert ours.saved_shapes == theirs.saved_shapes == [(128, 5), (128, 17)]
    assert ours.grad_shapes == theirs.grad_shapes == [(128, 16), (128, 2)]
    assert ours.factor_symmetric and ours.no_grad_kept and theirs.no_grad_kept


def test_force_matching(programs):
    ours, theirs = _both(programs, "force_matching")  # forces by autograd.grad, double backward
    assert close(ours.energy_losses, theirs.energy_losses, 1e-4, 1e-5)
    assert close(ours.force_losses, theirs.force_losses, 1e-4, 1e-5)
    assert ours.force_losses[-1] < 0.3 * ours.force_losses[0]
    assert ours.grad_norm == pytest.approx(theirs.grad_norm, rel=1e-3)
    assert close(ours.totals, theirs.totals, 1e-4, 1e-5) and ours.energy_drift < 0.01
    assert ours.net_force < 1e-5 and theirs.net_force < 1e-5


def test_vmc_oscillator(programs):
    ours, theirs = _both(programs, "vmc_oscillator")  # Laplacian by nested autograd.grad
    assert close(ours.energies, theirs.energies, 1e-9, 1e-12)
    assert close(ours.variances, theirs.variances, 1e-9, 1e-12)
    assert ours.acceptance == theirs.acceptance
    assert close(ours.widths, theirs.widths, 1e-9)
    assert ours.exact_energies == pytest.approx([1.5] * 8, abs=1e-12)
    assert abs(ours.energies[-1] - 1.5) < 0.25 and ours.variances[-1] < 0.1 * ours.variances[0]


def test_sindy_lorenz(programs):
    ours, theirs = _both(programs, "sindy_lorenz")  # gradient, combinations, lstsq, solve
    assert ours.support == theirs.support == [["x", "y"], ["x", "y", "xz"], ["z", "xy"]]
    assert close(ours.coef.tolist(), theirs.coef.tolist(), 1e-9, 1e-9)
    assert ours.coef_error < 0.2 and ours.ridge_gap < 0.02  # the Lorenz equations recovered
    assert close(ours.ridge.tolist(), theirs.ridge.tolist(), 1e-8, 1e-9)
    assert ours.residual == pytest.approx(theirs.residual, rel=1e-9)
    assert ours.trajectory_gap == pytest.approx(theirs.trajectory_gap, rel=1e-6)
    assert ours.pinv_gap < 1e-9 and ours.names == theirs.names and ours.n_terms == 10
    assert tuple(ours.combination_count) == tuple(theirs.combination_count) == (6, 2)


def test_lista(programs):
    ours, theirs = _both(programs, "lista")  # softshrink, matrix_norm(ord=2), ParameterList
    assert ours.L == pytest.approx(theirs.L, rel=1e-5) and ours.svd_gap < 1e-4
    assert close(ours.ista_objectives, theirs.ista_objectives, 1e-5, 1e-6)
    assert close(ours.fista_objectives, theirs.fista_objectives, 1e-5, 1e-6)
    assert ours.fista_objectives[0] < ours.ista_objectives[0]  # momentum helps
    assert ours.untrained_gap < 1e-5  # LISTA starts as four ISTA steps
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert ours.lista_code_error < 0.75 * ours.ista_code_error  # learning beats four ISTA steps
    assert close(ours.thresholds, theirs.thresholds, 1e-4, 1e-6)
    assert ours.sparsity == pytest.approx(theirs.sparsity)
    assert ours.softshrink_grad == theirs.softshrink_grad == [1, 0, 0, 0, 0, 0, 1]
    assert ours.shrink_grad == theirs.shrink_grad


def test_shampoo_adahessian(programs):
    ours, theirs = _both(programs, "shampoo_adahessian")  # eigh roots, Hutchinson by autograd
    for name in ("adam", "shampoo", "adahessian"):
        assert close(ours.histories[name], theirs.histories[name], 1e-3, 1e-5), name
        assert ours.histories[name][-1] < 0.1 * ours.histories[name][0], name
    assert ours.precond_shapes == theirs.precond_shapes == [(4, 4), (9, 9)]
    assert close(ours.inv_root_check.tolist(), theirs.inv_root_check.tolist(), 1e-2, 1e-2)
    assert close(ours.hessian_sample, theirs.hessian_sample, 2e-3, 1e-6)
    assert ours.kernel_trace_constant and theirs.kernel_trace_constant
    assert ours.grad_has_graph and theirs.grad_has_graph  # backward(create_graph=True)


def test_gflownet_tb(programs):
    ours, theirs = _both(programs, "gflownet_tb")  # masked Categorical, log Z param group
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)
    assert close(ours.log_zs, theirs.log_zs, 1e-4, 1e-5)
    assert ours.terminal_counts.tolist() == theirs.terminal_counts.tolist()  # the same paths
    assert sum(ours.losses[-5:]) < 0.2 * sum(ours.losses[:5])
    assert ours.l1_error < 0.4 and ours.high_reward_mass > 0.9  # samples follow the reward
    assert ours.corner_probs == theirs.corner_probs == [[0.0, 0.0, 1.0]]  # only "stop" is left


def test_learned_optimizer(programs):
    ours, theirs = _both(programs, "learned_optimizer")  # LSTMCell optimizer, truncated BPTT
    assert close(ours.meta_history, theirs.meta_history, 1e-4, 1e-5)
    assert close(ours.learned_final, theirs.learned_final, 1e-3, 1e-5)
    assert close(ours.sgd_final, theirs.sgd_final, 1e-5, 1e-6)
    assert close(ours.adam_final, theirs.adam_final, 1e-5, 1e-6)
    assert sum(ours.learned_final) < sum(ours.sgd_final)  # it learned to optimize
    assert sum(ours.meta_history[-5:]) < 0.5 * sum(ours.meta_history[:5])
    assert close(ours.preprocessed, theirs.preprocessed, 1e-6, 1e-7)
    assert close(ours.lstm_weight_sample, theirs.lstm_weight_sample, 1e-4, 1e-6)


def test_mpnn_set2set(programs):
    ours, theirs = _both(programs, "mpnn_set2set")  # NNConv bmm, index_reduce_ mean, Set2Set
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)
    assert sum(ours.losses[-4:]) < 0.5 * sum(ours.losses[:4])  # one epoch's four batches
    assert close(ours.val_errors, theirs.val_errors, 1e-4, 1e-5)
    assert ours.val_errors[-2] < 0.7 * ours.val_errors[0]
    assert close(ours.lrs, theirs.lrs, 1e-9) and ours.lrs[-1] < ours.lrs[0]
    assert close(ours.attention.tolist(), theirs.attention.tolist(), 1e-5, 1e-7)
    assert ours.attention_sums.tolist() == pytest.approx([1.0] * 32, abs=1e-6)
    assert ours.isolated.tolist() == theirs.isolated.tolist() == [[4, 4], [0, 0], [0, 0]]


def test_population_based_training(programs):
    ours, theirs = _both(programs, "population_based_training")  # exploit by state dicts
    assert close(ours.history, theirs.history, 1e-4, 1e-6)
    assert ours.exploits == theirs.exploits  # the same members copied each generation
    assert close(ours.final_hparams, theirs.final_hparams, 1e-12)
    assert close(ours.best_scores, theirs.best_scores, 1e-4, 1e-6)
    assert ours.best_scores[-1] < 0.4 * ours.best_scores[0]  # exploit and explore paid off
    assert ours.restored_hparams == theirs.restored_hparams and ours.resume_gap == 0.0
    assert ours.state_keys == theirs.state_keys
    # SGD without momentum keeps no state at all, so an empty state is "all copied"
    assert ours.momentum_buffers_copied and theirs.momentum_buffers_copied


def test_pets_cem(programs):
    ours, theirs = _both(programs, "pets_cem")  # baddbmm ensemble, softplus bounds, topk CEM
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < ours.losses[0]
    assert close(ours.logvar_bounds, theirs.logvar_bounds, 1e-5, 1e-6)
    assert ours.model_error == pytest.approx(theirs.model_error, rel=1e-3)
    assert ours.model_error < 0.03 and ours.log_prob_gap < 1e-5  # NLL = Normal.log_prob
    assert close(ours.plan_costs, theirs.plan_costs, 1e-3, 1e-5)
    assert close(ours.trajectory, theirs.trajectory, 1e-4, 1e-6)
    assert ours.trajectory == sorted(ours.trajectory) and ours.final_distance < 0.2  # to the goal


def test_imaml(programs):
    ours, theirs = _both(programs, "imaml")  # CG on (I + H / lam) v = g by double autograd.grad
    assert close(ours.fomaml_losses, theirs.fomaml_losses, 1e-4, 1e-6)
    assert close(ours.imaml_losses, theirs.imaml_losses, 2e-3, 1e-5)
    # float32 rounding decides the last CG residuals (1e-4 of the first): compare the first two
    assert close([r[:2] for r in ours.cg_residuals], [r[:2] for r in theirs.cg_residuals], 1e-2)
    assert all(r[3] < 0.05 * r[0] for r in ours.cg_residuals)  # CG converges
    assert close(ours.weight_sample, theirs.weight_sample, 2e-3, 1e-5)
    assert ours.hvp_gap < 1e-5 and ours.hvp_norm == pytest.approx(theirs.hvp_norm, rel=1e-3)


def test_ema_use_buffers(programs):
    ours, theirs = _both(programs, "ema_use_buffers")  # AveragedModel(use_buffers=True), cummin
    assert close(ours.train_losses, theirs.train_losses, 1e-4, 1e-6)
    assert close(ours.val_losses, theirs.val_losses, 1e-4, 1e-6)
    assert close(ours.ema_val_losses, theirs.ema_val_losses, 1e-4, 1e-6)
    assert ours.running_best == sorted(ours.running_best, reverse=True) and ours.best_epoch == 5
    assert close(ours.ema_running_mean, theirs.ema_running_mean, 1e-4, 1e-6)
    # without use_buffers the averaged copy keeps the model's own statistics until update_bn
    assert close(ours.params_running_mean_untouched, ours.first_mean[:4].tolist(), 1e-6, 1e-7)
    assert close(ours.recomputed_running_mean, theirs.recomputed_running_mean, 1e-4, 1e-6)
    assert ours.bn_momentum_restored == theirs.bn_momentum_restored == 0.1
    assert ours.ema_params_val == pytest.approx(theirs.ema_params_val, rel=1e-4)
    assert ours.n_averaged == theirs.n_averaged == 36 and ours.keys == theirs.keys
    assert ours.manual_gap == pytest.approx(theirs.manual_gap, rel=1e-3)


def test_iqn(programs):
    ours, theirs = _both(programs, "iqn")  # cosine tau embedding, quantile Huber loss, CVaR
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)
    assert sum(ours.losses[-10:]) < 0.8 * sum(ours.losses[:10])
    assert close(ours.quantiles.tolist(), theirs.quantiles.tolist(), 1e-3, 1e-5)
    assert close(ours.means, theirs.means, 1e-3, 1e-5)
    assert ours.spread[0][1] > 2 * ours.spread[0][0]  # the bimodal arm's quantiles spread out
    assert ours.risk_neutral_action == theirs.risk_neutral_action == [1, 1]
    assert ours.risk_averse_action == theirs.risk_averse_action == [0, 0]
    assert ours.monotone_fraction == theirs.monotone_fraction and ours.monotone_fraction > 0.8


def test_sparse_gat(programs):
    ours, theirs = _both(programs, "sparse_gat")  # sparse.softmax, sparse.mm, sparse grads
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert ours.test_accuracy == pytest.approx(theirs.test_accuracy) and ours.test_accuracy > 0.7
    assert ours.attention_gap < 1e-6  # the sparse edge softmax is the dense masked one
    assert ours.row_sums.tolist() == pytest.approx([1.0] * 60, abs=1e-6)
    assert close(ours.a_src_grad, theirs.a_src_grad, 1e-2, 1e-6)
    assert ours.n_edges == theirs.n_edges
