"""A twenty-second round of PyTorch programs (helper e): training tricks, optimizers and API
corners — PyTorch's own Adafactor, Lion and SophiaG and schedule-free SGD/AdamW as Optimizer
subclasses, GaLore's SVD-projected Adam, NFNet's scaled weight standardization and adaptive
gradient clipping, a ViT with stochastic depth, LayerScale and R-Drop, class-balanced focal
losses, gradient centralization as optimizer step hooks, generators / ``fork_rng`` /
seeded DataLoader workers, sampler pipelines, an OptNet QP layer and a CG solve with implicit
backwards, and NeuralSort/Sinkhorn soft sorting — each run with ``torch`` bound to minigrad and
with PyTorch and compared value by value. Float32 training is compared at 1e-5 relative (the
runs drift by a few ulps per step: up to 1.5e-6 measured); the float64 programs (OptNet, CG)
at 1e-10. R-Drop's KL between two nearly equal dropout passes is a sum of p (log p - log q)
terms that cancel: the float32 roundings grow to 8e-6 relative (6e-8 absolute at the first
step), so it is compared at 1e-4 relative, 1e-7 absolute."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def _same(ours, theirs, *names):
    for name in names:
        assert getattr(ours, name) == getattr(theirs, name), name


def test_adafactor_builtin(programs):
    ours, theirs = _both(programs, "adafactor_builtin")  # factored state, groups, resume
    _same(ours, theirs, "defaults", "state_layout", "step_dtype", "group_hparams")
    assert ours.state_layout["fc1.weight"][0] == ("col_var", (1, 64))
    assert close(ours.losses + ours.cont, theirs.losses + theirs.cont, 1e-5, 1e-6)
    assert ours.resumed == ours.cont and ours.resumed_equal
    assert ours.maximize_gap == theirs.maximize_gap == 0.0
    assert close(ours.quad_loss, theirs.quad_loss, 1e-5)
    assert max(ours.cont[-4:]) < min(ours.losses[:4])  # it learns


def test_sophia_lion(programs):
    ours, theirs = _both(programs, "sophia_lion")  # sign updates, GNB hessian, state dicts
    assert close(ours.results, theirs.results, 1e-5, 1e-6)
    assert ours.resumed == {k: v[20:] for k, v in ours.results.items()}  # resume is exact
    assert ours.state_summary == theirs.state_summary
    assert ours.sophia_step == theirs.sophia_step == [40.0]
    _same(ours, theirs, "copy_groups", "copy_defaults_keys")  # deepcopy via __setstate__
    assert "differentiable" in ours.copy_defaults_keys and ours.copy_state_equal
    assert close(ours.hessian_mean, theirs.hessian_mean, 1e-5)
    for losses in ours.results.values():
        assert losses[-1] < 0.2 * ours.uniform_loss


def test_schedule_free(programs):
    ours, theirs = _both(programs, "schedule_free")  # y/z/x sequences, train()/eval()
    assert close(ours.results, theirs.results, 1e-5, 1e-7)
    assert ours.foreach_equals_loop and theirs.foreach_equals_loop
    assert close([ours.x_eval, ours.y_back], [theirs.x_eval, theirs.y_back], 1e-6)
    assert abs(ours.x_eval - ours.x_by_hand) < 1e-6 and abs(ours.y_back - ours.y_by_hand) < 1e-6
    assert close(ours.round_trip, theirs.round_trip, 1e-6) and ours.z_equal
    assert ours.not_train_error == theirs.not_train_error == "Not in train mode!"
    assert ours.k_steps == 30 and ours.train_mode_after is False
    for history in ours.results.values():
        assert history[-1] < 0.7 * history[0]


def test_galore_adam(programs):
    ours, theirs = _both(programs, "galore_adam")  # svd every T steps, low-rank moments
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.first_basis_row, theirs.first_basis_row, 1e-4, 1e-6)
    _same(ours, theirs, "basis_changes", "moment_shapes", "moment_numel")
    assert ours.moment_shapes["0.weight"] == (32, 4) and ours.moment_numel < ours.full_numel / 3
    assert max(ours.orthonormal_gaps) < 1e-5
    assert ours.losses[-1] < 0.5 * ours.losses[0]


def test_nfnet_agc(programs):
    ours, theirs = _both(programs, "nfnet_agc")  # scaled WS via F.batch_norm, AGC
    _same(ours, theirs, "zero_eps_error", "inplace_error", "clip_counts", "betas")
    assert close(ours.weight_stats, theirs.weight_stats, 1e-5, 1e-6)
    assert close(ours.init_out_std, theirs.init_out_std, 1e-5)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.skip_gains, theirs.skip_gains, 1e-4, 1e-9)
    assert ours.accuracy == theirs.accuracy and ours.accuracy > 0.9


def test_rdrop_vit_layerscale(programs):
    ours, theirs = _both(programs, "rdrop_vit_layerscale")  # DropPath, LayerScale, R-Drop
    assert ours.drop_path_reprs == theirs.drop_path_reprs
    assert close(ours.ce_losses, theirs.ce_losses, 1e-5, 1e-6)
    assert close(ours.kl_losses, theirs.kl_losses, 1e-4, 1e-7)  # cancellation: 8e-6 measured
    assert close(ours.gammas, theirs.gammas, 1e-5, 1e-7)
    assert close([ours.masked_kl, ours.full_kl], [theirs.masked_kl, theirs.full_kl], 1e-4)
    assert abs(ours.eval_kl) < 1e-5 and ours.masked_kl < ours.full_kl
    assert ours.accuracy == theirs.accuracy and ours.accuracy > 0.7


def test_focal_class_balanced(programs):
    ours, theirs = _both(programs, "focal_class_balanced")  # CB weights, focal, smoothing
    assert close(ours.histories, theirs.histories, 1e-5, 1e-6)
    assert ours.recalls == theirs.recalls
    assert ours.recalls["cb_smooth_ce"][2] > ours.recalls["plain"][2]  # the rare class
    assert ours.smoothing_gap < 1e-6 and ours.smoothing_grad_gap < 1e-6
    assert ours.focal_gamma0_gap < 1e-6 and ours.modulator_stable
    for history in ours.histories.values():
        assert history[-1] < 0.7 * history[0]


def test_gradient_centralization(programs):
    ours, theirs = _both(programs, "gradient_centralization")  # step pre-hooks, global hook
    for name in ("loss_sub", "loss_hook", "loss_plain", "loss_adamw", "loss_after"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-5, 1e-6), name
    assert ours.same_weights and ours.loss_sub == ours.loss_hook
    assert ours.mean_drift_gc < 1e-6 < 0.05 < ours.mean_drift_plain  # GC keeps row means
    assert close(ours.moved_after_remove, theirs.moved_after_remove, 1e-4)
    assert ours.calls_total == theirs.calls_total == (10, ["AdamW"])
    assert ours.bias_moved and ours.accuracy == theirs.accuracy


def test_rng_generators_workers(programs):
    ours, theirs = _both(programs, "rng_generators_workers")  # fork_rng, states, workers
    _same(ours, theirs, "after_fork", "state_shape", "seed_reported", "draws", "order")
    _same(ours, theirs, "order_other_seed", "worker_ids", "in_main", "order_main")
    assert ours.forked_kept and ours.not_protected and ours.replayed and ours.copy_agrees
    assert ours.seed_roundtrip and ours.default_initial == theirs.default_initial
    assert ours.same_run == (True, True) and ours.workers_differ
    assert ours.order == ours.order_main != ours.order_other_seed


def test_imbalanced_samplers(programs):
    ours, theirs = _both(programs, "imbalanced_samplers")  # weighted, batch, subset samplers
    for name in (
        "concat_info",
        "split_sizes",
        "split_first",
        "no_repl",
        "list_index_error",
        "first_batch_shapes",
        "batches_per_epoch",
        "folds",
        "random_sampler_draws",
        "stack_batch",
        "recalls",
        "fold_scores",
        "getitems_batches",
        "jitter_batch",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.drawn_minority_share == theirs.drawn_minority_share > 0.4
    assert close(ours.balanced_losses, theirs.balanced_losses, 1e-5, 1e-6)
    assert close(ours.plain_losses, theirs.plain_losses, 1e-5, 1e-6)
    assert ours.recalls["balanced"][1] > ours.recalls["plain"][1]
    assert ours.getitems_calls == theirs.getitems_calls == 2  # one __getitems__ per batch
    assert ours.getitems_calls == theirs.getitems_calls == 2  # one __getitems__ per batch


def test_optnet_qp_layer(programs):
    ours, theirs = _both(programs, "optnet_qp_layer")  # interior point + KKT backward
    assert close(ours.losses, theirs.losses, 1e-10, 1e-12)
    assert ours.active == theirs.active and ours.feasible and ours.kkt_residual < 1e-10
    assert max(ours.implicit_vs_unrolled) < 1e-9 and ours.gradcheck_ok and theirs.gradcheck_ok
    assert ours.grad_fn_name == theirs.grad_fn_name == "QPFunctionBackward"
    assert ours.grads_finite and ours.losses[-1] < 0.2 * ours.losses[0]


def test_soft_sort_ranking(programs):
    ours, theirs = _both(programs, "soft_sort_ranking")  # NeuralSort, Sinkhorn, soft ranks
    assert ours.hard_is_perm and ours.sorted_by_hard == ours.true_sorted
    for name in ("row_sums", "st_grad", "soft_sorted_values", "losses", "spearman"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-5, 1e-6), name
    assert max(ours.sink_marginals) < 1e-5 and abs(ours.sink_grad_sum - 18.0) < 1e-4
    assert ours.top1 == theirs.top1 and ours.exact_rank_rate == theirs.exact_rank_rate
    assert ours.spearman[-1] > 0.85 > ours.spearman[0]


def test_cg_implicit_backward(programs):
    ours, theirs = _both(programs, "cg_implicit_backward")  # CG forward and adjoint
    assert ours.solve_gap < 1e-12 and max(ours.grad_gaps) < 1e-12
    assert ours.gradcheck_ok and ours.cg_iters == theirs.cg_iters
    assert ours.save_int_error == theirs.save_int_error  # "... argument 1 is of type int"
    assert close(ours.losses, theirs.losses, 1e-10, 1e-12)
    assert close(
        [ours.learned_ridge, ours.chord_weight_mean, ours.ring_weight_mean],
        [theirs.learned_ridge, theirs.chord_weight_mean, theirs.ring_weight_mean],
        1e-10,
    )
    assert ours.losses[-1] < 0.6 * ours.noisy_mse  # it denoises
    assert ours.chord_weight_mean < ours.ring_weight_mean
