"""Still more PyTorch programs (pytorch/examples scripts made tiny, HuggingFace- and
Lightning-style loops, torch.linalg/special/distributions/sparse/fft code, data utilities), run
with ``torch`` bound to minigrad and with PyTorch itself, and compared value by value (the
mechanism of ``tests/test_programs5.py``)."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_forward_forward(programs):
    ours = programs("forward_forward")  # layer-local goodness losses, detach between layers
    theirs = programs("forward_forward", torch=True)
    assert close(ours.layer_losses, theirs.layer_losses, 1e-3, 1e-4)
    assert ours.accuracy == pytest.approx(theirs.accuracy) and ours.accuracy > 0.6
    assert ours.overlay_ok


def test_mnist_rnn_rows(programs):
    ours = programs("mnist_rnn_rows")  # LSTM over image rows, Adadelta, StepLR
    theirs = programs("mnist_rnn_rows", torch=True)
    assert close(ours.train_losses, theirs.train_losses, 1e-3, 1e-4)
    assert close(ours.test_losses, theirs.test_losses, 1e-3, 1e-4)
    assert ours.accuracies == theirs.accuracies and ours.accuracies[-1] > 0.9
    assert close(ours.lrs, theirs.lrs, 1e-9)


def test_polynomial_regression(programs):
    ours = programs("polynomial_regression")  # cat of powers, smooth_l1_loss, param.data.add_
    theirs = programs("polynomial_regression", torch=True)
    assert close(ours.losses, theirs.losses, 1e-3, 1e-4) and ours.batches == theirs.batches
    assert ours.description == theirs.description and ours.actual == theirs.actual


def test_hf_trainer_resume(programs):
    ours = programs("hf_trainer_resume")  # AdamW groups, warmup LambdaLR, accumulation, resume
    theirs = programs("hf_trainer_resume", torch=True)
    assert close(ours.log, theirs.log, 1e-3, 1e-5)
    assert ours.log_matches and ours.resume_gap == 0.0  # resuming is exact
    assert ours.group_sizes == [2, 4] and ours.final_lrs == [0.0, 0.0]
    assert close(ours.logits_straight, theirs.logits_straight, 1e-3, 1e-5)


def test_lightning_loop(programs):
    ours = programs("lightning_loop")  # set_grad_enabled(phase), inference_mode, ReduceLROnPlateau
    theirs = programs("lightning_loop", torch=True)
    assert close(ours.train_losses, theirs.train_losses, 1e-3, 1e-5)
    assert close(ours.val_losses, theirs.val_losses, 1e-3, 1e-5) and ours.lrs == theirs.lrs
    assert ours.grad_flags == theirs.grad_flags == [True, False] * 8
    assert ours.restored_loss == pytest.approx(min(ours.val_losses))
    assert theirs.inference_flag and ours.inference_flag


def test_kalman_filter_and_solvers(programs):
    ours = programs("kalman_lstsq")  # solve, slogdet, inv, lstsq, lu_factor/lu_solve, cholesky
    theirs = programs("kalman_lstsq", torch=True)
    assert close(ours.nlls, theirs.nlls, 1e-8, 1e-8)
    assert ours.learned_noise_std == pytest.approx(theirs.learned_noise_std, rel=1e-8)
    assert ours.smooth_rmse < ours.filter_rmse < 0.15
    assert close(ours.smoothed_velocity, theirs.smoothed_velocity, 1e-8)
    assert close(ours.lstsq_velocity, theirs.lstsq_velocity, 1e-8)
    assert close(ours.chol_x_list, theirs.chol_x_list, 1e-8, 1e-12)
    assert max(ours.lstsq_gap, ours.lu_gap, ours.plu_gap, ours.chol_gap) < 1e-12


@pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning")  # PyTorch's run
def test_sparse_propagation(programs):
    ours = programs("sparse_propagation")  # sparse_coo_tensor, coalesce, sparse.sum, sparse.mm
    theirs = programs("sparse_propagation", torch=True)
    assert ours.nnz == theirs.nnz and ours.propagation_accuracy == theirs.propagation_accuracy
    assert ours.dense_gap < 1e-6 and ours.symmetric_gap < 1e-6
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.gcn_accuracy == 1.0
    assert close(ours.first_grad, theirs.first_grad, 1e-3, 1e-7)


def test_count_regression(programs):
    ours = programs("count_regression")  # NegativeBinomial, Poisson + LBFGS, lgamma, Dirichlet
    theirs = programs("count_regression", torch=True)
    assert close(ours.nb_losses, theirs.nb_losses, 1e-4)
    assert close(ours.nb_beta + [ours.dispersion], theirs.nb_beta + [theirs.dispersion], 1e-4)
    assert close(ours.poisson_beta, theirs.poisson_beta, 1e-4)
    assert close(ours.dm_losses, theirs.dm_losses, 1e-4) and ours.one_group_gap < 1e-6
    assert close(ours.alpha_hat, theirs.alpha_hat, 1e-3)
    assert close(ours.dirichlet_stats, theirs.dirichlet_stats, 1e-3)
    assert close(ours.multinomial_lp, theirs.multinomial_lp, 1e-4)
    assert close(ours.special_values, theirs.special_values, 1e-5)


def test_von_mises_kernel(programs):
    ours = programs("von_mises_kernel")  # special.i0/i0e/i1e, VonMises, erf family, entr, xlogy
    theirs = programs("von_mises_kernel", torch=True)
    assert close(ours.log_liks, theirs.log_liks, 1e-9)
    assert close(ours.fitted, theirs.fitted, 1e-8) and ours.density_gap < 1e-6
    assert close(ours.vm_mean, theirs.vm_mean, 1e-9)
    assert ours.smooth_error == pytest.approx(theirs.smooth_error, rel=1e-9)
    assert close(ours.special_values, theirs.special_values, 1e-7, 1e-12)


def test_gat_dense(programs):
    ours = programs("gat_dense")  # heads via broadcasting, where(-9e16), mT, early stopping
    theirs = programs("gat_dense", torch=True)
    assert close(ours.train_losses, theirs.train_losses, 1e-3, 1e-5)
    assert close(ours.val_losses, theirs.val_losses, 1e-3, 1e-5)
    assert ours.stopped_at == theirs.stopped_at and ours.test_accuracy == theirs.test_accuracy
    assert ours.row_sums_one


def test_actor_critic(programs):
    ours = programs("actor_critic")  # Categorical.log_prob, normalized returns, smooth_l1_loss
    theirs = programs("actor_critic", torch=True)
    assert ours.episode_lengths == theirs.episode_lengths
    assert close(ours.losses, theirs.losses, 1e-3, 1e-4)
    assert ours.running_reward == pytest.approx(theirs.running_reward)
    assert min(ours.right_probs) > 0.9  # it learned to walk right


def test_time_sequence_lstmcell(programs):
    ours = programs("time_sequence_lstmcell")  # double LSTMCells, split(1, 1), LBFGS, future
    theirs = programs("time_sequence_lstmcell", torch=True)
    assert close(ours.train_losses, theirs.train_losses, 1e-8, 1e-10)
    assert close(ours.test_losses, theirs.test_losses, 1e-8, 1e-10)
    assert ours.prediction_shape == (3, 69) and ours.param_dtype == "float64"


def test_saved_tensor_hooks_and_checkpoint(programs):
    ours = programs("saved_hooks_checkpoint")  # saved_tensors_hooks, save_on_cpu, checkpoint
    theirs = programs("saved_hooks_checkpoint", torch=True)
    assert close(ours.losses, theirs.losses, 1e-5)
    assert ours.checkpoint_gap == ours.reentrant_gap == ours.sequential_gap == 0.0
    assert ours.cpu_gap == 0.0 and 0 < ours.fp16_gap < 1e-2 and ours.pack_count > 0
    assert ours.kwarg_grad == pytest.approx(theirs.kwarg_grad, rel=1e-5)


def test_attention_masks(programs):
    ours = programs("attention_masks")  # sdpa bool/float/causal/gqa masks, MHA padding masks
    theirs = programs("attention_masks", torch=True)
    assert max(ours.bool_gap, ours.causal_gap, ours.float_gap, ours.gqa_gap) < 1e-5
    assert close(ours.sdpa_values, theirs.sdpa_values, 1e-4, 1e-6)
    assert close(ours.mha_values, theirs.mha_values, 1e-4, 1e-6)
    assert ours.per_head_shape == (3, 2, 6, 6) and ours.masked_weight_sum == 0.0
    assert ours.first_key_weight == 0.0
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.padding_invariance < 1e-5


def test_complex_fft_layers(programs):
    ours = programs("complex_fft_layers")  # rfft2/irfft2, view_as_complex, polar, fftshift
    theirs = programs("complex_fft_layers", torch=True)
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert ours.weight_grad_norm == pytest.approx(theirs.weight_grad_norm, rel=1e-3)
    assert ours.circular_gap < 1e-4
    assert close(ours.lowpass_values, theirs.lowpass_values, 1e-4, 1e-6)
    assert close(ours.complex_values, theirs.complex_values, 1e-5, 1e-6)


def test_bayesian_priors(programs):
    ours = programs("bayesian_priors")  # MixtureSameFamily, LKJCholesky, Wishart, flows, biject_to
    theirs = programs("bayesian_priors", torch=True)
    assert close(ours.gmm_losses, theirs.gmm_losses, 1e-4) and close(
        ours.gmm_stats, theirs.gmm_stats, 1e-3
    )
    assert close(ours.map_losses, theirs.map_losses, 1e-4) and ours.unit_diagonal
    assert close(ours.correlation, theirs.correlation, 1e-4, 1e-6)
    assert close(ours.fitted_matrices, theirs.fitted_matrices, 1e-4, 1e-6)
    assert close(ours.wishart_stats, theirs.wishart_stats, 1e-5)
    assert close(ours.flow_losses, theirs.flow_losses, 1e-4) and ours.roundtrip_gap < 1e-5
    assert close(ours.flow_params, theirs.flow_params, 1e-4)
    assert close(ours.binomial_entropy, theirs.binomial_entropy, 1e-5)
    assert close(ours.kls, theirs.kls, 1e-5)


def test_knn_classifier(programs):
    ours = programs("knn_classifier")  # cdist/topk/mode, unique, bucketize, histc, random_split
    theirs = programs("knn_classifier", torch=True)
    assert ours.accuracies == theirs.accuracies and ours.dist_check < 1e-5
    for name in ("class_counts", "consecutive_counts", "bin_counts", "right_bins", "positions"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.histc_counts == theirs.histc_counts and ours.unique_ok
    assert close(ours.histogram, theirs.histogram, 1e-6) and close(
        ours.class_means, theirs.class_means
    )
    assert ours.split_sizes == [70, 30] and ours.disjoint
    assert ours.same_seed_same_split and ours.different_seed_differs
    assert all(0.25 < f < 0.42 for f in ours.balanced_fractions)  # rebalanced from 60/25/15


def test_iterable_shards(programs):
    ours = programs("iterable_shards")  # IterableDataset, get_worker_info, ChainDataset, bags
    theirs = programs("iterable_shards", torch=True)
    assert ours.worker_info_in_main and ours.chained_same and ours.shard_sizes == [20, 20, 20]
    assert ours.batch_shapes == theirs.batch_shapes and ours.batches_per_epoch == 3
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)


def test_pca_and_least_squares(programs):
    ours = programs("pca_least_squares")  # pca_lowrank, svd, eigh, cov, lstsq(gelsd), pinv
    theirs = programs("pca_least_squares", torch=True)
    assert close(ours.pca_variances, theirs.pca_variances, 1e-8)
    assert max(ours.svd_gap, ours.eig_gap, ours.subspace_gap, ours.whitened_cov_gap) < 1e-10
    assert close(ours.ridge_weights, theirs.ridge_weights, 1e-8) and ours.ridge_gap < 1e-10
    assert close(ours.lstsq_fields, theirs.lstsq_fields, 1e-8) and ours.default_fields == [0, 0]
    assert ours.rank == theirs.rank == 3 and ours.min_norm_gap < 1e-10
    assert ours.min_norm == pytest.approx(theirs.min_norm, rel=1e-8)


def test_optimizer_in_backward_and_node_hooks(programs):
    ours = programs("optimizer_in_backward")  # post-accumulate hooks, grad_fn hooks, mmap load
    theirs = programs("optimizer_in_backward", torch=True)
    assert close(ours.plain_losses, theirs.plain_losses, 1e-4, 1e-6)
    assert ours.fused_losses == ours.plain_losses and ours.fused_gap == 0.0
    assert ours.grads_left == [False] * 4
    assert close(ours.hook_losses, theirs.hook_losses, 1e-4, 1e-6)
    assert ours.hook_losses == ours.function_losses and ours.reversal_gap == 0.0
    assert ours.hook_calls == theirs.hook_calls == 60 and ours.reload_gap == 0.0


def test_prebatched_numpy_loader(programs):
    ours = programs("prebatched_numpy_loader")  # batch_size=None + default_convert, to_empty
    theirs = programs("prebatched_numpy_loader", torch=True)
    assert ours.converted_types == theirs.converted_types
    assert ours.converted_dtypes == ["float32", "int64"] and ours.tuple_to_list == "list"
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.accuracy > 0.9
    assert ours.shapes_kept and ours.agreement == 0.0


def test_levenberg_marquardt(programs):
    ours = programs("levenberg_marquardt")  # jacrev over functional_call, jvp/vjp, hessian
    torch = pytest.importorskip("torch")
    validating = torch.distributions.Distribution._validate_args
    try:
        theirs = programs("levenberg_marquardt", torch=True)
    finally:  # PyTorch's compiler turns off distribution argument checks for the process
        torch.distributions.Distribution.set_default_validate_args(validating)
    assert close(ours.losses, theirs.losses, 1e-8, 1e-10) and ours.lams == theirs.lams
    assert ours.losses[-1] < 0.02 * ours.losses[0]
    assert ours.gn_gap < 1e-10 and ours.symmetric and ours.compiled_gap < 1e-12
    assert ours.curvature_gap == pytest.approx(theirs.curvature_gap, rel=1e-6)
    assert close(ours.fit, theirs.fit, 1e-8, 1e-10)


def test_legacy_checkpoint_migration(programs):
    ours = programs("legacy_checkpoint_migration")  # state-dict hooks rename and ignore keys
    theirs = programs("legacy_checkpoint_migration", torch=True)
    assert ours.state_keys == theirs.state_keys and ours.state_keys[-1] == "format_version"
    assert ours.result_text == theirs.result_text == "<All keys matched successfully>"
    assert ours.legacy_gap == ours.roundtrip_gap == 0.0 and ours.still_tied
    assert ours.versions == theirs.versions == [1, 2]
    assert close(ours.output_values, theirs.output_values, 1e-5, 1e-6)


def test_gradient_buckets(programs):
    ours = programs("gradient_buckets")  # register_multi_grad_hook buckets, leaf hooks in grad
    theirs = programs("gradient_buckets", torch=True)
    assert ours.bucket_sizes == theirs.bucket_sizes == [306, 112]
    assert ours.order_last_step == theirs.order_last_step
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert close(ours.ref_losses, theirs.ref_losses, 1e-4, 1e-6)
    assert ours.replica_gap == 0.0 and ours.reference_gap < 1e-6
    assert ours.clipped_max == pytest.approx(0.01) and ours.raw_max > 0.03
