"""A twentieth round of PyTorch programs (b), on scientific and applied machine-learning code
(physics-informed networks through torch.func, neural operators, equivariant and periodic
molecular graphs, tabular and recommender models, time-series decomposition, ordinal and
survival losses, spline flows, Bayesian layers), run with ``torch`` bound to minigrad and with
PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_burgers_func_pinn(programs):
    ours, theirs = _both(programs, "burgers_func_pinn")  # vmap(jacrev/hessian), LBFGS wolfe
    assert ours.residual_gap < 1e-5 and ours.residual_shape == theirs.residual_shape == (32,)
    assert close(ours.adam_losses, theirs.adam_losses, 1e-5, 1e-6)
    assert ours.adam_losses[-1] < 0.5 * ours.adam_losses[0]
    assert close(ours.lbfgs_losses, theirs.lbfgs_losses, 1e-4, 1e-6)
    assert ours.func_evals == theirs.func_evals and ours.final_loss < ours.lbfgs_losses[0]
    assert close(ours.first_layer_grad, theirs.first_layer_grad, 1e-3, 1e-6)
    assert close(ours.u_grid, theirs.u_grid, 1e-4, 1e-6)  # the hard constraints hold at t = 0


def test_fno2d_poisson(programs):
    ours, theirs = _both(programs, "fno2d_poisson")  # rfft2/irfft2(s=), cfloat weights, einsum
    assert ours.weight_dtype == theirs.weight_dtype == "torch.complex64"
    assert ours.n_params == theirs.n_params
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.1 * ours.losses[0]
    # real norms of complex grads too. Training amplifies last-bit differences ~1e4-fold here
    # (measured on an AVX-512 CPU: the program in float64 agrees with PyTorch to 3e-15 at step 1
    # and 1.5e-12 at step 17; in float32 1e-7 and 3.1e-4 there), so the first 8 steps (1e-5 at
    # most) to 1e-4 and all to 2e-3
    assert close(ours.grad_norms[:8], theirs.grad_norms[:8], 1e-4)
    assert close(ours.grad_norms, theirs.grad_norms, 2e-3)
    assert close(ours.spectral_grad_sample, theirs.spectral_grad_sample, 1e-3, 1e-8)
    assert ours.test_error == pytest.approx(theirs.test_error, rel=1e-4) and ours.test_error < 0.3
    assert ours.fine_shape == theirs.fine_shape == (4, 32, 32, 1)


def test_painn_equivariant(programs):
    ours, theirs = _both(programs, "painn_equivariant")  # vector features, index_add_, forces
    assert ours.n_edges == theirs.n_edges == 72
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.5 * ours.losses[0]
    assert close(ours.update_grad_sample, theirs.update_grad_sample, 1e-3, 1e-7)
    assert close(ours.energies, theirs.energies, 1e-4, 1e-6)
    assert max(ours.energy_gap, ours.force_gap, ours.vector_gap) < 1e-5  # rotation equivariant


def test_cgcnn_periodic(programs):
    ours, theirs = _both(programs, "cgcnn_periodic")  # minimum image, scatter_reduce mean/amax
    assert ours.n_edges == theirs.n_edges and ours.min_image_max < 2.2
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.05 * ours.losses[0]
    assert close(ours.embedding_grad, theirs.embedding_grad, 1e-3, 1e-7)
    assert close(ours.running_mean, theirs.running_mean, 1e-4)
    assert close(ours.eval_pred, theirs.eval_pred, 1e-4) and ours.mae == pytest.approx(theirs.mae)
    assert ours.probe == theirs.probe == [3.5, 5.0]  # include_self=True counts the 5 in the mean


def test_node_entmax(programs):
    ours, theirs = _both(programs, "node_entmax")  # entmax15 Function: sort, cumsum, gather
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert close(ours.grad_norms, theirs.grad_norms, 1e-3, 1e-7)
    assert (
        close(ours.selector_sums, [1.0] * 12, 1e-5) and ours.selector_zeros == theirs.selector_zeros
    )
    assert ours.n_trainable == theirs.n_trainable == 120 and not ours.frozen_codes
    assert close(ours.entmax_probe, theirs.entmax_probe, 1e-6) and ours.entmax_probe[0][2] == 0.0
    assert close(ours.softmax_probe, theirs.softmax_probe, 1e-6) and ours.gradcheck_ok


def test_din_attention(programs):
    ours, theirs = _both(programs, "din_attention")  # Dice, masked softmax, pad_sequence
    assert ours.history_shape == theirs.history_shape == (64, 6)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.8 * ours.losses[0]
    assert ours.pad_grad == theirs.pad_grad == 0.0  # padding_idx rows get no gradient
    assert close(ours.dice_alpha, theirs.dice_alpha, 1e-3, 1e-6)
    assert ours.test_auc == pytest.approx(theirs.test_auc) and ours.train_auc > 0.8
    assert ours.masked_weight == 0.0 and close(ours.row_sums, [1.0] * 4, 1e-6)


def test_ordinal_deephit(programs):
    ours, theirs = _both(programs, "ordinal_deephit")  # CORAL, CORN (cumprod), DeepHit ranking
    assert close(ours.coral_losses, theirs.coral_losses, 1e-4, 1e-6)
    assert close(ours.corn_losses, theirs.corn_losses, 1e-4, 1e-6)
    assert ours.corn_losses[-1] < 0.5 * ours.corn_losses[0] and ours.corn_monotone
    assert ours.coral_mae == theirs.coral_mae and ours.corn_mae == theirs.corn_mae < 0.5
    assert close(ours.coral_bias, theirs.coral_bias, 1e-4, 1e-6)
    assert close(ours.deephit_losses, theirs.deephit_losses, 1e-4, 1e-6)
    assert close(ours.nll_parts, theirs.nll_parts, 1e-4) and close(
        ours.rank_parts, theirs.rank_parts, 1e-4
    )
    assert ours.n_comparable == theirs.n_comparable and ours.c_index == theirs.c_index > 0.8


def test_neural_spline_flow(programs):
    ours, theirs = _both(programs, "neural_spline_flow")  # searchsorted, masked assignment, gather
    assert close(ours.nlls, theirs.nlls, 1e-4, 1e-6) and ours.nlls[-1] < ours.nlls[0] - 0.4
    assert close(ours.conditioner_grad, theirs.conditioner_grad, 1e-3, 1e-7)
    assert ours.inverse_gap < 1e-5 and ours.logdet_gap < 1e-5
    assert ours.tail_identity and theirs.tail_identity  # identity outside [-B, B]
    assert close(ours.z_probe, theirs.z_probe, 1e-4, 1e-5)
    assert close(ours.logdet_probe, theirs.logdet_probe, 1e-3, 1e-4)  # float32 cancellation
    assert ours.test_nll == pytest.approx(theirs.test_nll, rel=1e-4)


def test_dcrnn_sparse(programs):
    ours, theirs = _both(programs, "dcrnn_sparse")  # sparse COO, torch.sparse.mm/sum, DCGRU
    assert ours.nnz == theirs.nnz == 16 and ours.layout == theirs.layout == "torch.sparse_coo"
    assert close(ours.support_sums, [1.0] * 6, 1e-6)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.9 * ours.losses[0]
    assert close(ours.grad_norms, theirs.grad_norms, 1e-4, 1e-6)
    assert close(ours.weight_grad_sample, theirs.weight_grad_sample, 1e-3, 1e-7)
    assert ours.eval_mae == pytest.approx(theirs.eval_mae, rel=1e-4)


def test_timesnet_dlinear(programs):
    ours, theirs = _both(programs, "timesnet_dlinear")  # rfft periods, NumPy-int reshape, AvgPool1d
    assert ours.periods == theirs.periods == [6, 8] and ours.period_type == "ndarray"
    assert ours.amplitude_shape == theirs.amplitude_shape == (16, 2)
    assert close(ours.dlinear_losses, theirs.dlinear_losses, 1e-4, 1e-6)
    assert ours.dlinear_losses[-1] < 0.15 * ours.dlinear_losses[0]
    assert close(ours.trend_weight_sample, theirs.trend_weight_sample, 1e-4, 1e-6)
    assert close(ours.timesnet_losses, theirs.timesnet_losses, 1e-4, 1e-6)
    assert ours.timesnet_losses[-1] < 0.5 * ours.timesnet_losses[0]
    assert close(ours.token_grad, theirs.token_grad, 1e-3, 1e-6)
    assert ours.forecast_shape == theirs.forecast_shape == (16, 8, 2)


def test_bayes_flipout(programs):
    ours, theirs = _both(programs, "bayes_flipout")  # normal_/uniform_ noise, flipout signs, KL
    assert list(ours.results) == list(theirs.results) == ["reparam", "flipout", "local"]
    for name, (losses, kls, rho_grad, entropy) in theirs.results.items():
        assert close(ours.results[name][0], losses, 1e-4, 1e-6), name
        assert close(ours.results[name][1], kls, 1e-4) and kls[-1] < 0.9 * kls[0], name
        assert close(ours.results[name][2], rho_grad, 1e-3, 1e-8), name
        assert close(ours.results[name][3], entropy, 1e-3, 1e-6), name
    assert ours.closed_form == pytest.approx(theirs.closed_form, rel=1e-5) and ours.kl_gap < 1e-4
    assert ours.flip_signs == theirs.flip_signs and ours.eps_sample == theirs.eps_sample
