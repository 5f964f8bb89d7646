"""A twentieth round of PyTorch programs, from popular repositories' training scripts and course
notebooks (micrograd, LLMs-from-scratch, CS231n, Dive into Deep Learning, Deep Learning with
PyTorch, MIT 6.S191, fast.ai), run with ``torch`` bound to minigrad and with PyTorch itself
and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_micrograd_engine(programs):
    ours, theirs = _both(programs, "micrograd_engine")  # float64 leaves, reversed operators
    assert ours.sanity == theirs.sanity == [-20.0, -20.0, 46.0, 46.0, "torch.float64"]
    assert close(ours.more, theirs.more, 1e-12) and close(ours.more[::2], ours.more[1::2], 1e-12)
    assert close(ours.pt_losses, theirs.pt_losses, 1e-5, 1e-6)
    assert close(ours.pt_losses, ours.mg_losses, 1e-5, 1e-6)  # torch agrees with the engine
    assert ours.pt_losses[-1] < 0.5 * ours.pt_losses[0]
    assert ours.pt_acc == theirs.pt_acc == ours.mg_acc
    assert close(ours.first_weight_grad, theirs.first_weight_grad, 1e-5, 1e-7)


def test_llms_from_scratch_lora(programs):
    ours, theirs = _both(programs, "llms_from_scratch_lora")  # triu mask buffer, LoRA wrappers
    assert ours.total_params == theirs.total_params == 8288
    assert ours.generated == theirs.generated  # greedy decoding from the same weights
    assert close(ours.pretrain_losses, theirs.pretrain_losses, 1e-5, 1e-6)
    assert ours.trainable_ft == theirs.trainable_ft and ours.lora_modules == theirs.lora_modules
    assert ours.trainable_lora == theirs.trainable_lora == 2376
    assert ours.lora_start_gap == theirs.lora_start_gap == 0.0  # B starts at zero
    assert close(ours.cls_losses, theirs.cls_losses, 1e-5, 1e-6)  # dropout masks agree too
    assert ours.cls_losses[-1] < 0.7 * ours.cls_losses[0] and ours.accuracy == theirs.accuracy
    assert ours.b_grad_norm == pytest.approx(theirs.b_grad_norm, rel=1e-5)


def test_cs231n_pytorch_notebook(programs):
    ours, theirs = _both(programs, "cs231n_pytorch_notebook")  # np.sqrt scaling, SubsetRandom
    assert ours.flatten_shape == (2, 6) and ours.test_scores_shape == (64, 4)
    assert ours.weight_dtype == theirs.weight_dtype == "torch.float32"
    for part in ("part2_losses", "part3_losses", "part4_losses"):
        assert close(getattr(ours, part), getattr(theirs, part), 1e-5, 1e-6), part
    assert ours.part2_losses[-1] < 0.5 * ours.part2_losses[0]
    accuracies = [ours.part2_acc, ours.part3_acc, ours.part4_acc]
    assert accuracies == [theirs.part2_acc, theirs.part3_acc, theirs.part4_acc]
    assert close(ours.momentum_buffer, theirs.momentum_buffer, 1e-5, 1e-7)


def test_dlwpt_real_world_data(programs):
    ours, theirs = _both(programs, "dlwpt_real_world_data")  # loadtxt, scatter_ one-hots, views
    assert ours.wine_shape == (40, 12) and ours.wine_dtype == theirs.wine_dtype == "torch.float32"
    assert ours.shared_memory == theirs.shared_memory == 7.0  # from_numpy shares memory
    assert ours.onehot_rows == theirs.onehot_rows and ours.bad_info == theirs.bad_info
    assert close(ours.normalized_std, [1.0] * 4, 1e-6)
    assert close(ours.group_means, theirs.group_means, 1e-5)
    assert ours.sulfur_scores == theirs.sulfur_scores
    assert ours.bikes_layout == theirs.bikes_layout == ((72, 17), (17, 1))
    assert ours.daily_layout == theirs.daily_layout == ((3, 24, 17), (408, 17, 1))
    assert ours.transposed_layout == theirs.transposed_layout == ((3, 17, 24), (408, 1, 17), False)
    assert close(ours.first_row, theirs.first_row, 1e-6)
    assert ours.temp_range == theirs.temp_range == (0.0, 1.0)  # the view saw the rescaling
    assert close(ours.daily_final, theirs.daily_final, 1e-5, 1e-6)
    assert ours.weather_counts == theirs.weather_counts
    assert ours.letter_summary == theirs.letter_summary == ((106, 128), 106.0, 2.0)
    assert ours.word_indices == theirs.word_indices and ours.word_shape == theirs.word_shape


def test_d2l_nlp_applications(programs):
    ours, theirs = _both(programs, "d2l_nlp_applications")  # _flat_weights_names, bmm attention
    assert ours.flat_names == theirs.flat_names and len(ours.flat_names) == 16
    assert close(ours.sentiment_losses, theirs.sentiment_losses, 1e-5, 1e-6)
    assert ours.sentiment_losses[-1] < 0.5 * ours.sentiment_losses[0]
    assert ours.embedding_frozen and theirs.embedding_frozen
    assert ours.trainable == theirs.trainable == 2882
    assert ours.predictions == theirs.predictions == ["positive", "negative"]
    assert ours.attention_shapes == theirs.attention_shapes == [(2, 6, 8), (2, 4, 8)]
    assert close(ours.nli_losses, theirs.nli_losses, 1e-5, 1e-6)
    assert ours.nli_losses[-1] < 0.8 * ours.nli_losses[0]
    assert ours.nli_predictions == theirs.nli_predictions
    assert close(ours.attend_grad, theirs.attend_grad, 1e-4, 1e-7)


def test_build_nanogpt(programs):
    ours, theirs = _both(programs, "build_nanogpt")  # NANOGPT_SCALE_INIT, accumulation, top-k
    assert ours.tied and theirs.tied and ours.proj_std == pytest.approx(theirs.proj_std, rel=1e-6)
    assert ours.model.group_sizes == theirs.model.group_sizes == (10, 7424, 18, 448)
    assert ours.model.fused == theirs.model.fused == (True, False)  # AdamW has fused=, not on CPU
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert close(ours.norms, theirs.norms, 1e-5, 1e-6) and ours.lrs == theirs.lrs
    assert ours.accum_type == theirs.accum_type == "Tensor"  # 0.0 += a tensor is a tensor
    assert ours.hellaswag[0] == theirs.hellaswag[0]
    assert close(ours.hellaswag[1], theirs.hellaswag[1], 1e-5)
    assert ours.samples == theirs.samples  # topk, multinomial(generator=), gather


def test_d2l_fcn_segmentation(programs):
    ours, theirs = _both(programs, "d2l_fcn_segmentation")  # numpy-array index, range-range fill
    assert ours.batch_info == theirs.batch_info == ((5, 3, 16, 16), (5, 16, 16), "torch.int64", 5)
    assert ours.label_counts == theirs.label_counts  # the same crops and labels
    assert ours.trans_conv_results[0] == ours.trans_conv_results[1] == theirs.trans_conv_results[0]
    assert ours.up_shape == theirs.up_shape == (40, 40, 3) and ours.kernel_offdiag == 0.0
    assert ours.upsample_gap < 1e-6 and theirs.upsample_gap < 1e-6  # bilinear kernel = interpolate
    assert ours.out_shape == theirs.out_shape == (1, 4, 16, 16)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.8 * ours.losses[0]
    assert ours.colored_info == theirs.colored_info == ((16, 16, 3), "torch.int64")
    assert ours.pixel_accuracy == theirs.pixel_accuracy


def test_mit6s191_dbvae(programs):
    ours, theirs = _both(programs, "mit6s191_dbvae")  # inference_mode().numpy(), np.histogram
    assert close(ours.classifier_losses, theirs.classifier_losses, 1e-5, 1e-6)
    assert ours.classifier_losses[-1] < 0.5 * ours.classifier_losses[0]
    assert close(ours.dbvae_losses, theirs.dbvae_losses, 1e-5, 1e-6)
    assert close(ours.sample_probs, theirs.sample_probs, 1e-4)
    assert close(ours.dark_weight, theirs.dark_weight, 1e-4)
    assert ours.dark_weight[1] > 6 / 32  # the rare darker faces are drawn more than their share
    assert ours.recon_shape == theirs.recon_shape == (16, 3, 16, 16)
    assert ours.class_loss_faces == pytest.approx(theirs.class_loss_faces, rel=1e-4)
    assert ours.accuracy == theirs.accuracy and ours.inference_flags == (True, False)


def test_cs231n_rnn_captioning(programs):
    ours, theirs = _both(programs, "cs231n_rnn_captioning")  # linspace checks, argmax(axis=)
    assert ours.step_error < 1e-6 and theirs.step_error < 1e-6
    assert close(ours.next_h_sample, theirs.next_h_sample, 1e-6)
    assert max(ours.backward_errors) < 1e-5 and max(ours.lstm_errors) < 1e-5
    assert close(ours.rnn_forward_sample, theirs.rnn_forward_sample, 1e-6)
    assert ours.embedding_shape == theirs.embedding_shape == (2, 4, 3)
    assert ours.masked_loss == pytest.approx(theirs.masked_loss, rel=1e-6)
    for cell in ("rnn", "lstm"):
        assert close(ours.histories[cell], theirs.histories[cell], 1e-5, 1e-5), cell
        assert ours.histories[cell][-1] < 0.3 * ours.histories[cell][0], cell
    assert ours.samples == theirs.samples and ours.samples["rnn"][2] == "a red dog <END>"


def test_dlwpt_luna_classifier(programs):
    ours, theirs = _both(programs, "dlwpt_luna_classifier")  # 3-D affine_grid, [None, i, mask]
    assert close(ours.augmented_stats, theirs.augmented_stats, 1e-5)
    assert ours.identity_gap < 1e-3 and theirs.identity_gap < 1e-3  # eye(4): the chunk itself
    assert ours.fans == theirs.fans == (27, 108)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)
    assert close(ours.epoch_metrics, theirs.epoch_metrics, 1e-4, 1e-5)
    assert ours.epoch_metrics[-1]["loss/all"] < 0.5 * ours.epoch_metrics[0]["loss/all"]
    assert ours.epoch_metrics[-1]["auc"] == 1.0
    assert ours.running_var == pytest.approx(theirs.running_var, rel=1e-5)


def test_mit6s191_lab1(programs):
    ours, theirs = _both(programs, "mit6s191_lab1")  # tensor([x]) of a 1-element tensor
    assert ours.ranks == theirs.ranks == [0, 0, 1, 1, 2, 4] and ours.dtypes == theirs.dtypes
    assert ours.indexing == theirs.indexing and ours.e_out == theirs.e_out == 6.0
    assert (
        close(ours.dense_out, theirs.dense_out, 1e-6) and ours.identity_out == theirs.identity_out
    )
    assert close(ours.sequential_out, theirs.sequential_out, 1e-6)
    assert ours.dy_dx == theirs.dy_dx and ours.dy_dx[0] == ours.dy_dx[1]
    assert close(ours.minimisation, theirs.minimisation, 1e-6) and ours.minimisation[-1] == (1,)
    assert ours.untrained_loss == pytest.approx(theirs.untrained_loss, rel=1e-6)
    assert close(ours.music_losses, theirs.music_losses, 1e-5, 1e-6)
    assert ours.music_losses[-1] < 0.7 * ours.music_losses[0]
    assert ours.generated_text == theirs.generated_text  # idx2char[one-element tensor]


def test_dlwpt_luna_segmentation(programs):
    ours, theirs = _both(programs, "dlwpt_luna_segmentation")  # bool-label dice, save/load
    assert ours.label_dtype_sum == theirs.label_dtype_sum == "torch.int64"
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert close(ours.recalls, theirs.recalls, 1e-5) and ours.recalls[-1] > 0.9
    assert ours.sha1_length == 40 and ours.loaded == theirs.loaded
    assert ours.loaded == ["UNetWrapper", "Adam", 4, 30, (0.9, 0.999)]
    assert ours.reload_gap == theirs.reload_gap == 0.0
    assert close(ours.val_dice, theirs.val_dice, 1e-5) and min(ours.val_dice) > 0.7
    assert ours.num_batches_tracked == theirs.num_batches_tracked == 8


def test_nanogpt_resume(programs):
    ours, theirs = _both(programs, "nanogpt_resume")  # memmap batches, checkpoint resume, crop
    assert close(ours.first_log, theirs.first_log, 1e-5, 1e-6)
    assert close(ours.straight_log, theirs.straight_log, 1e-5, 1e-6)
    assert ours.resumed_log == ours.straight_log  # the resumed run is the uninterrupted one
    assert ours.resume == theirs.resume and ours.resume[:2] == [8, "Tensor"]
    assert ours.num_params == theirs.num_params == 3824 and ours.mfu == theirs.mfu
    assert ours.cropped == theirs.cropped == [(8, 16), "Parameter", 3824]
    assert ours.too_long == theirs.too_long
    assert ours.samples == theirs.samples  # temperature, top-k masking, multinomial


def test_d2l_framework(programs):
    ours, theirs = _both(programs, "d2l_framework")  # backward() under no_grad, grad[:] *=
    assert ours.hparams == theirs.hparams and ours.w_type == theirs.w_type == ["Tensor", True, True]
    assert close(ours.errors, theirs.errors, 1e-4, 1e-6) and abs(ours.errors[1]) < 0.05
    assert close(ours.regression_board, theirs.regression_board, 1e-5, 1e-6)
    assert ours.regression_board["val_loss"][-1][1] < 0.01
    assert close(ours.lm_board, theirs.lm_board, 1e-5, 1e-5)
    assert ours.lm_board["val_ppl"][-1][1] < 0.9 * ours.lm_board["val_ppl"][0][1]
    assert close(ours.clip_norms, theirs.clip_norms, 1e-5, 1e-6)
    assert 0 < sum(n > 0.15 for n in ours.clip_norms) < len(ours.clip_norms)  # clipped sometimes
    assert ours.lm_modules == theirs.lm_modules == ["rnn", "linear"]  # set by save_hyperparameters
    assert ours.lm_accuracy == theirs.lm_accuracy and ours.prediction == theirs.prediction
