"""A sixteenth round of PyTorch programs, on domains the earlier rounds left out (option pricing
and hedging, portfolios, robotics and control, causal inference, federated, active and
semi-supervised learning, fairness, protein language models, symbolic music, soft
rasterization), run with ``torch`` bound to minigrad and with PyTorch itself and compared value
by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_mc_option_greeks(programs):
    ours, theirs = _both(programs, "mc_option_greeks")  # pathwise AAD greeks, double backward
    assert close(ours.mc_greeks, theirs.mc_greeks, 1e-9, 1e-12)
    assert ours.mc_price == pytest.approx(theirs.mc_price, rel=1e-10)
    assert close(ours.bs_greeks, theirs.bs_greeks, 1e-10) and ours.bs_price == theirs.bs_price
    assert abs(ours.mc_price - ours.bs_price) < 3 * ours.std_error  # Monte Carlo agrees with BS
    assert close(ours.mc_greeks[:1], ours.bs_greeks[:1], 0.02)  # delta within 2 %
    assert [ours.smooth_gamma, ours.bs_gamma] == pytest.approx(
        [theirs.smooth_gamma, theirs.bs_gamma]
    )
    assert ours.smooth_gamma == pytest.approx(ours.bs_gamma, rel=0.2)  # 2000 paths, smoothed
    assert close(ours.exotic, theirs.exotic, 1e-9) and ours.knocked_out == theirs.knocked_out
    assert ours.price32 == pytest.approx(theirs.price32, rel=1e-5)


def test_deep_hedging(programs):
    ours, theirs = _both(programs, "deep_hedging")  # entropic risk by logsumexp, OCE shortfall
    for name in ("entropic", "shortfall"):
        a, b = ours.results[name], theirs.results[name]
        assert close(a["losses"], b["losses"], 1e-4, 1e-6), name
        assert a["losses"][-1] < a["losses"][0], name
        assert close(
            [a["test_mean"], a["test_std"], a["q05"], a["w"]],
            [b["test_mean"], b["test_std"], b["q05"], b["w"]],
            1e-4,
            1e-6,
        ), name
        assert a["test_std"] < ours.no_hedge  # hedging reduces the P&L's spread
    assert close(ours.learned_first_hedge, theirs.learned_first_hedge, 1e-5)
    assert close(ours.bs_first_hedge, theirs.bs_first_hedge, 1e-6)
    assert ours.last_grad_norm == pytest.approx(theirs.last_grad_norm, rel=1e-3, abs=1e-7)


def test_sharpe_portfolio(programs):
    ours, theirs = _both(programs, "sharpe_portfolio")  # LSTM allocator, unfold windows, cov
    for name in ("long_only", "long_short"):
        a, b = ours.results[name], theirs.results[name]
        assert close(a["losses"], b["losses"], 1e-4, 1e-6) and a["losses"][-1] < a["losses"][0]
        assert close(a["mean_weights"], b["mean_weights"], 1e-4, 1e-6)
        assert a["gross"] == pytest.approx(1.0, rel=1e-5)  # weights normalised by gross exposure
    assert close(ours.results["long_only"]["weight_sums"], [1.0, 1.0], 1e-6)
    assert close(list(ours.sharpes.values()), list(theirs.sharpes.values()), 1e-5, 1e-6)
    assert close(ours.min_var_weights, theirs.min_var_weights, 1e-5, 1e-6)
    assert ours.tangency_grad_norm < 1e-6 and theirs.tangency_grad_norm < 1e-6


def test_robot_arm_ik(programs):
    ours, theirs = _both(programs, "robot_arm_ik")  # DH transforms, jacobian, DLS, LBFGS closure
    assert close(ours.adam_errors, theirs.adam_errors, 1e-9, 1e-12)
    assert ours.adam_errors[-1] < 0.1 * ours.adam_errors[0]
    assert close(ours.dls_errors, theirs.dls_errors, 1e-8, 1e-12) and ours.dls_errors[-1] < 0.01
    assert ours.manipulability == pytest.approx(theirs.manipulability, rel=1e-10)
    assert close(ours.singular_values, theirs.singular_values, 1e-10)
    assert ours.stretched_svals[1] == theirs.stretched_svals[1] == 0.0
    assert [ours.closure_calls, ours.lbfgs_n_iter] == [theirs.closure_calls, theirs.lbfgs_n_iter]
    assert (
        ours.lbfgs_error == pytest.approx(theirs.lbfgs_error, rel=1e-6) and ours.lbfgs_error < 1e-4
    )
    assert close(ours.reached_3d, theirs.reached_3d, 1e-10)
    assert tuple(ours.batch_3d) == (6, 3) and ours.orthonormal_gap < 1e-12


def test_lqr_mpc_sysid(programs):
    ours, theirs = _both(programs, "lqr_mpc_sysid")  # lstsq, Riccati by solve, BPTT, shooting MPC
    assert ours.lstsq_error == pytest.approx(theirs.lstsq_error, rel=1e-3, abs=1e-6)
    assert ours.lstsq_error < 0.01 and ours.gd_error < 0.1  # both identify the system
    assert close(ours.sysid_losses, theirs.sysid_losses, 1e-4, 1e-8)
    assert close(ours.closed_loop_eigs, theirs.closed_loop_eigs, 1e-5)
    assert max(ours.closed_loop_eigs) < 1.0  # the LQR gain stabilises the identified model
    assert close(ours.policy_costs, theirs.policy_costs, 1e-4, 1e-6)
    assert ours.lqr_cost == pytest.approx(theirs.lqr_cost, rel=1e-5)
    assert ours.lqr_cost < ours.policy_costs[-1] < 0.25 * ours.policy_costs[0]  # LQR is optimal
    assert close(ours.learned_gain, theirs.learned_gain, 1e-4)
    assert close(ours.mpc_actions, theirs.mpc_actions, 1e-4, 1e-6)
    assert close(ours.mpc_states, theirs.mpc_states, 1e-4, 1e-6)


def test_dragonnet(programs):
    ours, theirs = _both(programs, "dragonnet")  # two heads, propensity BCE, targeted epsilon
    assert ours.naive_ate == theirs.naive_ate and ours.true_ate == theirs.true_ate
    for name in ("tarnet", "dragonnet"):
        a, b = ours.results[name], theirs.results[name]
        assert (
            close(a["losses"], b["losses"], 1e-5, 1e-6) and a["losses"][-1] < 0.3 * a["losses"][0]
        )
        assert close(
            [a["plug_in"], a["targeted"], a["pehe"], a["epsilon"]],
            [b["plug_in"], b["targeted"], b["pehe"], b["epsilon"]],
            1e-5,
            1e-6,
        ), name
        # adjusting for the confounders beats the naive difference of means
        assert abs(a["plug_in"] - ours.true_ate) < abs(ours.naive_ate - ours.true_ate)
    assert ours.results["tarnet"]["epsilon"] == 0.0 and ours.results["dragonnet"]["epsilon"] != 0
    assert ours.tarnet_eps_grad is None and theirs.tarnet_eps_grad is None  # unused: Adam skips
    assert ours.propensity_auc_pairs == pytest.approx(theirs.propensity_auc_pairs, rel=1e-6)
    assert ours.propensity_auc_pairs > 0.75


def test_fedavg_fedprox(programs):
    ours, theirs = _both(programs, "fedavg_fedprox")  # deepcopy, state_dict averaging, Dirichlet
    assert ours.client_idx == theirs.client_idx and ours.shard_sizes == theirs.shard_sizes
    assert ours.state_keys == theirs.state_keys and ours.tracked_dtype == "torch.int64"
    for name in ("fedavg", "fedprox"):
        a, b = ours.results[name], theirs.results[name]
        assert close(a["history"], b["history"], 1e-5, 1e-6), name
        assert close(a["drifts"], b["drifts"], 1e-5, 1e-6), name
        assert a["tracked"] == b["tracked"] and isinstance(a["tracked"], int)
        assert close(a["running_mean"], b["running_mean"], 1e-5, 1e-6), name
        assert a["history"][-1][1] > 0.9 and a["history"][-1][0] < a["history"][0][0]
    # the proximal term keeps the clients closer to the global model
    assert all(
        p < a for p, a in zip(ours.results["fedprox"]["drifts"], ours.results["fedavg"]["drifts"])
    )


def test_bald_active_learning(programs):
    ours, theirs = _both(programs, "bald_active_learning")  # MC dropout, entr, logsumexp, topk
    for name in ("bald", "entropy", "random"):
        a, b = ours.results[name], theirs.results[name]
        assert a["picks"] == b["picks"], name  # the same points are queried
        assert a["accs"] == pytest.approx(b["accs"]) and a["n_labelled"] == b["n_labelled"] == 30
        assert close(a["scores"], b["scores"], 1e-5, 1e-6), name
        assert a["accs"][-1] > 0.9
    assert ours.bald_bounds[0] >= -1e-6 and ours.bald_bounds[1] >= -1e-6  # 0 <= MI <= entropy
    assert ours.bald_bounds[2] <= 1e-6  # entropy <= log C
    assert close(ours.bald_bounds, theirs.bald_bounds, 1e-4, 1e-6)


def test_fixmatch_mean_teacher(programs):
    ours, theirs = _both(programs, "fixmatch_mean_teacher")  # confidence masks, EMA AveragedModel
    assert close(ours.fixmatch_log, theirs.fixmatch_log, 1e-5, 1e-6)
    assert ours.fixmatch_log[-1][2] > ours.fixmatch_log[0][2]  # more pseudo-labels pass the bar
    assert ours.fixmatch_acc == pytest.approx(theirs.fixmatch_acc) and ours.fixmatch_acc > 0.7
    assert close(ours.mt_log, theirs.mt_log, 1e-5, 1e-6)
    assert [ours.student_acc, ours.teacher_acc] == pytest.approx(
        [theirs.student_acc, theirs.teacher_acc]
    )
    assert ours.n_averaged == theirs.n_averaged == 30
    # use_buffers=True: the teacher's BatchNorm statistics are an EMA of the student's
    assert close(ours.teacher_running_mean, theirs.teacher_running_mean, 1e-5, 1e-6)
    assert close(ours.student_running_mean, theirs.student_running_mean, 1e-5, 1e-6)
    assert ours.teacher_running_mean != ours.student_running_mean


def test_adversarial_debiasing(programs):
    ours, theirs = _both(programs, "adversarial_debiasing")  # projection update, reversal, hook
    for name in ("baseline", "projection", "reversal", "hook"):
        a, b = ours.results[name], theirs.results[name]
        assert [a["dp"], a["eo"], a["acc"]] == pytest.approx([b["dp"], b["eo"], b["acc"]]), name
        assert close(a["adv_losses"], b["adv_losses"], 1e-5, 1e-6), name
    r = ours.results
    assert r["reversal"] == r["hook"]  # a reversal Function and a sign-flipping hook agree
    # both push demographic parity well below the unconstrained predictor's
    assert r["projection"]["dp"] < 0.6 * r["baseline"]["dp"]
    assert r["reversal"]["dp"] < 0.6 * r["baseline"]["dp"]
    assert ours.reversal_hook_gap == 0.0


def test_protein_contact_lm(programs):
    ours, theirs = _both(programs, "protein_contact_lm")  # BERT masking, padding mask, einsum
    assert close(ours.mlm_losses, theirs.mlm_losses, 1e-5, 1e-6)
    assert close(ours.contact_losses, theirs.contact_losses, 1e-5, 1e-6)
    assert ours.contact_losses[-1] < 0.8 * ours.contact_losses[0]
    assert ours.precisions == pytest.approx(theirs.precisions)
    assert sum(ours.precisions) / len(ours.precisions) > ours.contact_rate  # beats chance
    assert ours.perplexity == pytest.approx(theirs.perplexity, rel=1e-5) and ours.perplexity < 20
    assert ours.symmetric_gap == 0.0 and ours.pad_embedding_norm == 0.0
    assert ours.n_masked == theirs.n_masked and ours.contact_rate == theirs.contact_rate


def test_music_relative_attention(programs):
    ours, theirs = _both(programs, "music_relative_attention")  # skewing by F.pad and reshape
    assert ours.skew_gap < 1e-6 and theirs.skew_gap < 1e-6  # skewing is the gather by distance
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.5 * ours.losses[0]
    assert ours.accuracy == pytest.approx(theirs.accuracy)
    assert ours.greedy_tokens == theirs.greedy_tokens
    assert ours.sampled_tokens == theirs.sampled_tokens  # multinomial draws PyTorch's samples
    assert ours.greedy_match == theirs.greedy_match


def test_soft_rasterizer(programs):
    ours, theirs = _both(programs, "soft_rasterizer")  # edge distances, soft z-buffer, union
    assert ours.inside_count == theirs.inside_count
    assert close(ours.first_vertex_grad, theirs.first_vertex_grad, 1e-5, 1e-8)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-7) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert close(ours.fitted_colors, theirs.fitted_colors, 1e-5, 1e-6)
    assert ours.fitted_colors[0][0] > 0.8  # the red triangle's colour is recovered
    assert ours.vertex_error == pytest.approx(theirs.vertex_error, rel=1e-5)
    assert ours.far_grad_norm == pytest.approx(theirs.far_grad_norm, rel=1e-5)
    assert ours.far_grad_norm > 0  # soft edges pass gradients from pixels outside the triangle


def test_fedopt_dp(programs):
    ours, theirs = _both(programs, "fedopt_dp")  # parameters_to_vector, pseudo-gradient Adam, DP
    for name in ("fedadam", "dp_fedadam"):
        a, b = ours.results[name], theirs.results[name]
        assert (
            close(a["losses"], b["losses"], 1e-5, 1e-6) and a["losses"][-1] < 0.6 * a["losses"][0]
        )
        assert a["clip_fractions"] == pytest.approx(b["clip_fractions"])
    assert ours.results["dp_fedadam"]["clip_fractions"][0] == 1.0  # every early update clipped
    assert ours.restored_step == theirs.restored_step == 4.0
    assert ours.restored_betas == theirs.restored_betas == [0.9, 0.99]  # load_state_dict wins
    assert ours.exp_avg_sq_sum == pytest.approx(theirs.exp_avg_sq_sum, rel=1e-5)
    assert ours.aliased_sum == theirs.aliased_sum == 48.0  # the parameters view the vector
