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


def test_d2l_regularization(programs):
    ours, theirs = _both(programs, "d2l_regularization")  # l2_penalty, dropout_layer, groups
    for lambd in (0, 3):
        assert close(ours.scratch[lambd], theirs.scratch[lambd], 1e-4, 1e-6)
        assert close(ours.concise[lambd], theirs.concise[lambd], 1e-4, 1e-6)
    assert ours.scratch[3][1] < 0.7 * ours.scratch[0][1]  # weight decay: a smaller test loss
    assert ours.concise[3][2] < 0.5 * ours.concise[0][2]  # and a smaller weight norm
    assert ours.dropout_demo == theirs.dropout_demo and ours.dropout_demo[2] == [[0.0] * 8] * 2
    for name in ("scratch", "concise"):
        assert close(ours.dropout_losses[name], theirs.dropout_losses[name], 1e-4, 1e-6)
        assert ours.dropout_accuracy[name] == theirs.dropout_accuracy[name] > 0.85
        assert ours.eval_repeatable[name]
    assert close(ours.sigmoid_grad_ends, theirs.sigmoid_grad_ends, 1e-5, 1e-9)
    assert ours.product_magnitude == pytest.approx(theirs.product_magnitude, rel=1e-4)
    assert (
        ours.xavier_bound == pytest.approx(theirs.xavier_bound)
        and ours.xavier_bound <= (6 / 320) ** 0.5
    )


def test_d2l_batch_norm(programs):
    ours, theirs = _both(programs, "d2l_batch_norm")  # is_grad_enabled branch, moving averages
    assert ours.shapes == theirs.shapes and ours.shapes[8] == ("Flatten", (2, 32))
    assert ours.param_counts == [1275, 1275] and ours.buffers == [0, 9]
    for name in ("scratch", "concise"):
        assert close(ours.losses[name], theirs.losses[name], 1e-4, 1e-6)
    assert close(ours.losses["scratch"], ours.losses["concise"], 1e-5, 1e-6)
    assert ours.losses["scratch"][-1] < 0.1 * ours.losses["scratch"][0]
    assert close(ours.gamma_first, theirs.gamma_first, 1e-4, 1e-6)
    assert ours.gamma_gap < 1e-5 and ours.moving_mean_gap < 1e-6
    assert 1e-6 < ours.moving_var_gap < 1e-4  # biased batch variance against unbiased running
    assert ours.predict_gap < 3e-3 and ours.predict_gap == pytest.approx(theirs.predict_gap, 0.1)
    assert ours.accuracy == theirs.accuracy and ours.num_batches_tracked == 18


def test_d2l_builders_guide(programs):
    ours, theirs = _both(programs, "d2l_builders_guide")  # add_module, apply, tied, save/load
    assert (
        ours.output_shapes
        == theirs.output_shapes
        == {
            "mlp": (2, 10),
            "my_seq": (2, 10),
            "chimera": (),
        }
    )
    assert ours.chimera_value == pytest.approx(theirs.chimera_value, rel=1e-5)
    for name in ("mlp", "my_seq"):
        assert close(ours.outputs[name].tolist(), theirs.outputs[name].tolist(), 1e-5, 1e-7)
    assert ours.state_keys == ["weight", "bias"] and ours.bias_type == "Parameter"
    assert ours.grad_is_none and ours.all_params == theirs.all_params
    assert ours.rgnet_repr == theirs.rgnet_repr and ours.clone_repr == theirs.clone_repr
    assert close(ours.rgnet_out, theirs.rgnet_out, 1e-5, 1e-7) and ours.rgnet_bias == pytest.approx(
        theirs.rgnet_bias
    )
    for name in ("normal_init", "constant_init", "xavier_row", "fortytwo", "my_init_rows"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-6), name
    assert ours.edited_row == pytest.approx(theirs.edited_row) and ours.edited_row[0] == 42
    assert ours.tied_same and ours.tied_shares and ours.tied_param_count == 6
    assert close(ours.tied_grad, theirs.tied_grad, 1e-5, 1e-7)
    assert ours.centered == [-2.0, -1.0, 0.0, 1.0, 2.0] and abs(ours.centered_mean) < 1e-6
    assert close(ours.my_linear_weight, theirs.my_linear_weight, 1e-6)
    assert close([ours.my_linear_out, ours.my_net_out], [theirs.my_linear_out, theirs.my_net_out])
    assert ours.loaded == theirs.loaded and ours.clone_equal


def test_d2l_rnn_scratch(programs):
    ours, theirs = _both(programs, "d2l_rnn_scratch")  # one_hot(X.T), grad_clipping, detach_
    assert ours.scratch_shapes == [(10, 16), 1, (2, 32)]
    assert ours.concise_shapes == [(8, 4, 32), (1, 4, 32)]
    assert ours.untrained == theirs.untrained
    assert close(ours.scratch_ppl, theirs.scratch_ppl, 1e-4) and ours.scratch_ppl[-1] < 5
    assert close(ours.scratch_norms, theirs.scratch_norms, 1e-4, 1e-6)
    assert close(ours.concise_ppl, theirs.concise_ppl, 1e-3) and ours.concise_ppl[-1] < 1.5
    assert ours.scratch_prediction == theirs.scratch_prediction
    assert ours.concise_prediction == theirs.concise_prediction == "time machine by"


def test_d2l_attention(programs):
    ours, theirs = _both(programs, "d2l_attention")  # masked_softmax, LazyLinear, transpose_qkv
    assert ours.demo_mask == [[1, 0, 0], [4, 5, 0]] and ours.masked_zero_tail == [0.0, 0.0]
    assert close(ours.masked_1d.tolist(), theirs.masked_1d.tolist(), 1e-6)
    assert close(ours.masked_2d.tolist(), theirs.masked_2d.tolist(), 1e-6)
    assert close(ours.additive_weights, theirs.additive_weights, 1e-5, 1e-7)
    assert close(ours.additive_out.tolist(), theirs.additive_out.tolist(), 1e-5, 1e-6)
    assert ours.lazy_shapes == theirs.lazy_shapes == [(8, 2), (8, 20), (1, 8)]
    assert close(ours.dot_weights, theirs.dot_weights, 1e-5, 1e-7)
    assert close(ours.dot_out.tolist(), theirs.dot_out.tolist(), 1e-5, 1e-6)
    assert ours.mha_shape == (2, 4, 16) and ours.mha_weights_shape == (8, 4, 6)
    assert close(ours.mha_out.tolist(), theirs.mha_out.tolist(), 1e-5, 1e-6)
    assert close(ours.nw_losses, theirs.nw_losses, 1e-5) and ours.nw_losses[-1] < ours.nw_losses[0]
    assert ours.nw_width == pytest.approx(theirs.nw_width, rel=1e-5)
    assert close(ours.nw_prediction.tolist(), theirs.nw_prediction.tolist(), 1e-5, 1e-6)
    assert close(ours.ce_demo.tolist(), [2.3026, 1.1513, 0.0], 1e-4)
    assert close(ours.seq_loss.tolist(), theirs.seq_loss.tolist(), 1e-5)
    assert ours.pred_grad_masked == 0.0
    assert close(ours.pred_grad_sample, theirs.pred_grad_sample, 1e-5, 1e-7)


def test_cs231n_network_visualization(programs):
    ours, theirs = _both(programs, "cs231n_network_visualization")  # saliency, fooling, classvis
    assert close(ours.train_losses, theirs.train_losses, 1e-5, 1e-6)
    assert ours.saliency_shape == (5, 12, 12) and ours.params_have_no_grad
    assert close(ours.saliency.tolist(), theirs.saliency.tolist(), 1e-4, 1e-6)
    assert ours.fooling_steps == theirs.fooling_steps and ours.fooled_prediction == ours.target_y
    assert ours.fooling_diff == pytest.approx(theirs.fooling_diff, rel=1e-4)
    assert ours.jitter_gap == 0.0  # two torch.cat's of slices are a torch.roll
    assert close(ours.class_scores, theirs.class_scores, 1e-4, 1e-5)
    assert ours.class_scores[-1] > ours.class_scores[0] + 0.5
    assert close(ours.visualization.tolist(), theirs.visualization.tolist(), 1e-4, 1e-5)
    assert 0 <= ours.visualization_range[0] and ours.visualization_range[1] <= 1
    assert ours.visualization_class == theirs.visualization_class


def test_cs231n_layers_gradcheck(programs):
    ours, theirs = _both(programs, "cs231n_layers_gradcheck")  # numeric vs hand vs autograd
    assert set(ours.errors) == set(theirs.errors) and max(ours.errors.values()) < 1e-7
    assert close(ours.bn_test_stats, theirs.bn_test_stats, 1e-9)
    assert close(ours.dropout_means, theirs.dropout_means, 1e-9)
    assert ours.softmax_value == pytest.approx(theirs.softmax_value, rel=1e-12)
    for name in ("sgd_momentum", "adam"):
        assert close(ours.histories[name], theirs.histories[name], 1e-9)
    assert ours.histories["sgd_momentum"][-1] < 0.1 and ours.adam_t == 30
    assert close(ours.autograd_history, ours.histories["adam"], 1e-12) and ours.adam_gap < 1e-12


def test_cs224n_dependency_parser(programs):
    ours, theirs = _both(programs, "cs224n_dependency_parser")  # index_select lookup, legal mask
    assert ours.oracle_ok and ours.n_instances == theirs.n_instances
    assert ours.embedding_shape == (16, 8) and ours.lookup_shape == (4, 48)
    assert ours.uas_before == theirs.uas_before
    assert close(ours.losses, theirs.losses, 1e-4) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert ours.uas == theirs.uas and ours.uas[-1] > 0.95
    assert ours.embedding_grad_rows == theirs.embedding_grad_rows


def test_dlwpt_thermometer(programs):
    ours, theirs = _both(programs, "dlwpt_thermometer")  # storages, hand grads, no_grad updates
    assert ours.storage_facts == theirs.storage_facts
    assert ours.storage_facts[-1] == 9.0  # the transposed view shares the storage
    assert close(ours.manual_params.tolist(), theirs.manual_params.tolist(), 1e-5)
    assert close(ours.auto_params.tolist(), ours.manual_params.tolist(), 1e-5)
    assert ours.auto_loss == pytest.approx(ours.manual_loss, rel=1e-5)
    assert ours.diverged == pytest.approx(theirs.diverged, rel=1e-4) and ours.diverged > 1e15
    assert close(ours.first_grad, [4517.2969, 82.6], 1e-5)
    assert close(ours.sgd_result, theirs.sgd_result, 1e-5) and close(
        ours.adam_result, theirs.adam_result, 1e-4
    )
    assert ours.shuffled_indices.tolist() == theirs.shuffled_indices.tolist()
    assert close(ours.split_history, theirs.split_history, 1e-5)
    assert ours.grad_enabled == [True, False] and ours.linear_shapes == [(1, 1), (1,)]
    assert close(ours.linear_fit, theirs.linear_fit, 1e-4)
    assert ours.named == theirs.named and ours.seq_repr == theirs.seq_repr
    assert close(ours.seq_losses, theirs.seq_losses, 1e-4)
    assert close(ours.output_bias_grad, theirs.output_bias_grad, 1e-4)
    assert close(ours.seq_val, theirs.seq_val, 1e-4)


def test_dlwpt_birds_airplanes(programs):
    ours, theirs = _both(programs, "dlwpt_birds_airplanes")  # Module subclasses, hand L2, ResBlock
    assert ours.n_cifar2 == theirs.n_cifar2 == 33
    assert close(ours.mean.tolist(), theirs.mean.tolist(), 1e-6)
    assert close(ours.std.tolist(), theirs.std.tolist(), 1e-6)
    assert ours.numel_list == [49152, 64, 128, 2]
    assert close(ours.fc_history, theirs.fc_history, 1e-4) and ours.fc_history[-1] < 0.3
    assert ours.param_counts == theirs.param_counts and ours.param_counts["resdeep"] == 2914
    for name, (history, accuracy) in theirs.results.items():
        assert close(ours.results[name][0], history, 1e-3, 1e-5), name
        assert ours.results[name][1] == accuracy, name
    assert ours.results["batchnorm"][0][-1] < 0.5 * ours.results["batchnorm"][0][0]
    assert ours.shared_blocks  # n_blocks * [ResBlock(...)] repeats one block


def test_fastai_foundations(programs):
    ours, theirs = _both(programs, "fastai_foundations")  # callbacks, hooks + histc, LSUV, lerp_
    assert close(ours.lsuv, theirs.lsuv, 1e-4, 1e-6) and all(
        abs(s - 1) < 2e-3 for _, s in ours.lsuv
    )
    assert close(ours.sched_values, [0.05, 0.175, 0.3, 0.155, 0.01], 1e-6)
    assert close(ours.recorder.lrs, theirs.recorder.lrs, 1e-6)
    assert close(ours.recorder.losses, theirs.recorder.losses, 2e-3, 1e-5)
    assert ours.recorder.losses[-1] < 0.05 * ours.recorder.losses[0]
    assert close(ours.run.valid_losses, theirs.run.valid_losses, 2e-3, 1e-5)
    assert close(ours.layer_means, theirs.layer_means, 1e-3, 1e-5)
    assert close(ours.layer_stds, theirs.layer_stds, 1e-3, 1e-5)
    assert ours.first_hist == theirs.first_hist and ours.last_hist_total == theirs.last_hist_total
    assert ours.hooks_removed and ours.stopped == [True, 3, 0]
    assert ours.bn_buffers == ["0.2.vars", "0.2.means", "1.2.vars", "1.2.means"]
    assert close(ours.bn_recorder.losses, theirs.bn_recorder.losses, 1e-4, 1e-6)
    assert close([ours.bn_means, ours.bn_vars], [theirs.bn_means, theirs.bn_vars], 1e-4, 1e-6)


def test_d2l_modern_cnns(programs):
    ours, theirs = _both(programs, "d2l_modern_cnns")  # Lazy modules, layer_summary, apply_init
    assert ours.summaries == theirs.summaries and ours.resnet_summary == theirs.resnet_summary
    assert ours.summaries["inception"][1] == "Inception output shape:\t(2, 24, 16, 16)"
    assert ours.param_counts == theirs.param_counts
    for name, values in theirs.outputs.items():
        assert close(ours.outputs[name], values, 1e-4, 1e-5), name
    assert ours.lazy_before == ["LazyConv2d"] and ours.lazy_after == ["Conv2d"]
    assert ours.grouped_weight == (16, 4, 3, 3) and ours.bn_type == "BatchNorm2d"
    assert close(ours.resnet_losses, theirs.resnet_losses, 1e-4, 1e-6)
    assert ours.resnet_losses[-1] < 0.7 * ours.resnet_losses[0]
    assert ours.accuracy == theirs.accuracy


def test_d2l_anchor_boxes(programs):
    ours, theirs = _both(programs, "d2l_anchor_boxes")  # meshgrid, nonzero, argsort, unique
    assert ours.prior_shape == (1, 240, 4) and ours.roundtrip_gap < 1e-6
    assert close(ours.first_box, [0.15625, 0.0416667, 0.71875, 0.7916667], 1e-5)
    assert close(ours.Y.tolist(), theirs.Y.tolist(), 1e-6, 1e-7)
    assert close(ours.ious, theirs.ious, 1e-6)
    assert ours.target_classes == theirs.target_classes == [[0, 1, 2, 0, 2]]  # as the book's
    assert ours.target_mask == theirs.target_mask
    assert close(ours.target_offsets, theirs.target_offsets, 1e-5, 1e-5)
    assert close(ours.detections, theirs.detections, 1e-6) and len(ours.kept) == 2
    assert ours.random_keep == theirs.random_keep and ours.concat_shape == (2, 25300)
    assert close(ours.ssd_loss.tolist(), theirs.ssd_loss.tolist(), 1e-5)
    assert ours.positive_anchors == theirs.positive_anchors
    assert ours.feature_grad_norm == pytest.approx(theirs.feature_grad_norm, rel=1e-4)


def test_d2l_optimizers_scratch(programs):
    ours, theirs = _both(programs, "d2l_optimizers_scratch")  # p[:] -= ..., scheduler.__module__
    for name, (history, w) in theirs.scratch.items():
        assert close(ours.scratch[name][0], history, 1e-4, 1e-6), name
        assert close(ours.scratch[name][1], w, 1e-4, 1e-6), name
    for name, history in theirs.concise.items():
        assert close(ours.concise[name], history, 1e-4, 1e-6), name
    assert ours.scratch["adagrad"][0][-1] < 0.1 * ours.scratch["sgd"][0][0]
    assert ours.concise["adagrad"][-1] < 0.5
    assert ours.builtin_is_recognised and ours.last_lr == pytest.approx([0.0125])
    for name, (lrs, history) in theirs.schedules.items():
        assert close(ours.schedules[name][0], lrs, 1e-9), name
        assert close(ours.schedules[name][1], history, 1e-4, 1e-6), name


def test_cs231n_transformer_captioning(programs):
    ours, theirs = _both(programs, "cs231n_transformer_captioning")  # tril mask, padding_idx
    assert close(ours.pe_rows, theirs.pe_rows, 1e-6, 1e-7) and ours.pe_buffers == ["pe"]
    assert close(ours.masked_out.tolist(), theirs.masked_out.tolist(), 1e-5, 1e-6)
    assert ours.causal_gap == 0.0  # a later token never reaches an earlier one
    assert ours.param_count == theirs.param_count == 4906
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.3 * ours.losses[0]
    assert ours.null_row_grad == 0.0
    assert ours.sampled.tolist() == theirs.sampled.tolist()
    assert ours.decoded == ["a red dog runs", "a blue cat sleeps", "a red cat"]


def test_cs224n_nmt(programs):
    ours, theirs = _both(programs, "cs224n_nmt")  # packed bi-LSTM, masked_fill_ on .data, beam
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.losses[-1] < 0.6 * ours.losses[0]
    assert close(ours.grad_norms, theirs.grad_norms, 2e-3, 1e-5)
    assert ours.masks == [[0.0] * 5, [0.0, 0.0, 0.0, 1.0, 1.0], [0.0] + [1.0] * 4]
    assert sorted(ours.loaded["state_dict"]) == sorted(theirs.loaded["state_dict"])
    assert ours.best == theirs.best
    assert close(ours.beam_scores, theirs.beam_scores, 1e-3, 2e-4)


def test_d2l_preliminaries(programs):
    ours, theirs = _both(programs, "d2l_preliminaries")  # keepdims=, axis=[0, 1], Multinomial
    assert ours.basics == [12, (12,), (3, 4), (2, 3, 4), 3]
    assert close(ours.R.tolist(), theirs.R.tolist(), 1e-6)
    assert ours.operators == theirs.operators and close(ours.exp_x, theirs.exp_x, 1e-6)
    assert ours.concat_shapes == [(6, 4), (3, 8)] and ours.equal == theirs.equal
    assert ours.broadcast == [[0, 1], [1, 2], [2, 3]] and ours.slices == theirs.slices
    assert ours.new_object and ours.same_after_slice and ours.same_after_iadd
    assert ours.types == ["ndarray", True] and ours.scalars == [3.5, 3.5, 3]
    assert set(ours.linalg) == set(theirs.linalg)
    for name, value in theirs.linalg.items():
        assert close(ours.linalg[name], value, 1e-6), name
    assert ours.grads == theirs.grads and ours.control_flow == theirs.control_flow
    assert ours.one_roll == theirs.one_roll and ours.ten_rolls == theirs.ten_rolls
    assert close(ours.frequencies, theirs.frequencies, 1e-6)
    assert close(ours.estimate_rows, theirs.estimate_rows, 1e-6)
    assert ours.filled_rows == [[3.0, 1.0], [2.0, 0.0], [4.0, 0.5], [3.0, 0.5]]
    assert ours.np_back == theirs.np_back


def test_cs231n_gans(programs):
    ours, theirs = _both(programs, "cs231n_gans")  # np.prod(p.size()), ConvTranspose2d, LSGAN
    assert ours.noise_range == [True, True, True] and close(
        ours.noise.tolist(), theirs.noise.tolist()
    )
    assert close(ours.loss_values, theirs.loss_values, 1e-5)
    assert ours.count_type == theirs.count_type == "int64"
    for name, (counts, history, sample_mean, shape) in theirs.results.items():
        assert ours.results[name][0] == counts and ours.results[name][3] == shape == (4, 64)
        assert close(ours.results[name][1], history, 1e-3, 1e-5), name
        assert ours.results[name][2] == pytest.approx(sample_mean, rel=1e-3, abs=1e-5), name
    assert ours.results["dcgan"][0] == [649, 2061]
    assert ours.results["lsgan"][1][-1][0] < 0.1 * ours.results["lsgan"][1][0][0]
