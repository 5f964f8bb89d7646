"""The twenty-first round's course and book programs (Godoy's Step-by-Step, Zero to Mastery's
modular engine, deeplearning.ai's GANs, Aladdin Persson's from-scratch series), run with
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


def test_godoy_stepbystep(programs):
    ours, theirs = _both(programs, "godoy_stepbystep")  # LambdaLR range test, hooks, checkpoint
    assert ours.lr_track == theirs.lr_track and ours.lr_track[0] == 0.05
    assert close(ours.range_losses, theirs.range_losses, 1e-5, 1e-6)
    assert ours.restored_bias == pytest.approx(theirs.restored_bias, rel=1e-6)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.val_losses, theirs.val_losses, 1e-5, 1e-6)
    assert ours.losses[-1] < 0.5 * ours.losses[0]
    assert ours.resumed_epochs == theirs.resumed_epochs == 6
    assert close(ours.resumed_losses, theirs.resumed_losses, 1e-5, 1e-6)
    assert ours.hooked_shapes == theirs.hooked_shapes == {"hidden": (32, 8), "activation": (32, 8)}
    assert ours.dead_fraction == theirs.dead_fraction and ours.handles_left == 0
    assert close(ours.pred_head, theirs.pred_head, 1e-5, 1e-6)


def test_ztm_engine(programs):
    ours, theirs = _both(programs, "ztm_engine")  # engine.py steps, inference_mode, summary
    assert ours.layer_rows == theirs.layer_rows and ours.trainable_params == 789
    for key in ("train_loss", "test_loss"):
        assert close(ours.model_0_results[key], theirs.model_0_results[key], 1e-5, 1e-6), key
    for key in ("train_acc", "test_acc"):
        assert ours.model_0_results[key] == theirs.model_0_results[key], key
    assert ours.saved_name == "tinyvgg.pth" and ours.same_predictions is True
    assert ours.loaded_accuracy == theirs.loaded_accuracy and ours.inference_flag is False


def test_progan_fade_in(programs):
    ours, theirs = _both(programs, "progan_fade_in")  # WSConv2d, minibatch std, WGAN-GP
    assert ours.shapes == theirs.shapes == [(2, 3, 4, 4), (2, 3, 8, 8), (2, 3, 16, 16)]
    assert ours.critic_shapes == theirs.critic_shapes == [(2, 1)] * 3
    assert ours.scale_first == theirs.scale_first
    assert close(ours.alphas, theirs.alphas, 1e-12) and ours.alphas[-1] == 1
    assert close(ours.loss_critics, theirs.loss_critics, 1e-4, 1e-5)
    assert close(ours.loss_gens, theirs.loss_gens, 1e-4, 1e-5)
    assert close(ours.gps, theirs.gps, 1e-4, 1e-5)
    assert close(ours.sample_range, theirs.sample_range, 1e-4, 1e-5)
    assert ours.n_with_grad == theirs.n_with_grad
    assert ours.gen_grad_norm == pytest.approx(theirs.gen_grad_norm, rel=1e-4)


def test_dlai_conditional_gan(programs):
    ours, theirs = _both(programs, "dlai_conditional_gan")  # one-hot concat, weight clipping
    assert ours.input_dims == theirs.input_dims == (9, 4)
    assert ours.one_hot_dtype == theirs.one_hot_dtype == "torch.int64"
    assert ours.init_std == theirs.init_std
    assert close(ours.generator_losses, theirs.generator_losses, 1e-5, 1e-6)
    assert close(ours.discriminator_losses, theirs.discriminator_losses, 1e-5, 1e-6)
    assert close(ours.critic_losses, theirs.critic_losses, 1e-5, 1e-7)
    assert ours.max_abs_weight == theirs.max_abs_weight == pytest.approx(0.01, rel=1e-7)
    assert ours.sample_shape == theirs.sample_shape == (3, 1, 8, 8)
    assert close(ours.sample_means, theirs.sample_means, 1e-5, 1e-6)


def test_raschka_rnn_chapter(programs):
    ours, theirs = _both(programs, "raschka_rnn_chapter")  # packed LSTM, Categorical sampling
    assert ours.vocab == theirs.vocab and ours.padded_shape == theirs.padded_shape
    assert ours.first_lengths == theirs.first_lengths
    assert close(ours.sentiment_log, theirs.sentiment_log, 1e-5, 1e-6)
    assert ours.sentiment_log[-1][1] < ours.sentiment_log[0][1]
    assert ours.valid_accuracy == theirs.valid_accuracy
    assert close(ours.char_losses, theirs.char_losses, 1e-4, 1e-6)
    assert ours.char_losses[-1] < 0.5 * ours.char_losses[0]
    assert ours.generated == theirs.generated and ours.generated.startswith("the island")


def test_raschka_iris_smile_cnn(programs):
    ours, theirs = _both(programs, "raschka_iris_smile_cnn")  # Softmax + CE, add_module, BCELoss
    assert close(ours.loss_hist, theirs.loss_hist, 1e-5, 1e-6)
    assert ours.accuracy_hist == theirs.accuracy_hist
    assert ours.iris_test_accuracy == theirs.iris_test_accuracy and ours.iris_test_accuracy > 0.9
    assert ours.reloaded_equal is True and ours.feature_shape == theirs.feature_shape == (4, 16)
    assert close(ours.cnn_loss_hist, theirs.cnn_loss_hist, 1e-5, 1e-6)  # same crops and flips
    assert ours.cnn_valid_acc == theirs.cnn_valid_acc and ours.cnn_valid_acc[-1] == 1.0


def test_yolov3_loss_persson(programs):
    ours, theirs = _both(programs, "yolov3_loss_persson")  # in-place sigmoid on an output view
    assert ours.target_counts == theirs.target_counts
    assert close(ours.scaled_anchors.tolist(), theirs.scaled_anchors.tolist(), 1e-6)
    assert ours.out_shapes == theirs.out_shapes == [(4, 3, s, s, 8) for s in (2, 4, 8)]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-5)
    assert ours.losses[-1] < ours.losses[0]


def test_ztm_classification(programs):
    ours, theirs = _both(programs, "ztm_classification")  # round(sigmoid), from_numpy, meshgrid
    assert close(ours.log, theirs.log, 1e-5, 1e-6) and ours.log[-1][0] < ours.log[0][0]
    assert ours.circle_grid_sum == theirs.circle_grid_sum
    assert ours.circle_grid.dtype == theirs.circle_grid.dtype == "float32"
    assert close(ours.blob_log, theirs.blob_log, 1e-5, 1e-6)
    assert ours.blob_test_acc == theirs.blob_test_acc == 100.0
    assert ours.prob_row_sum == pytest.approx(1.0, abs=1e-6)
    assert ours.blob_grid_counts == theirs.blob_grid_counts


def test_godoy_square_sequences(programs):
    ours, theirs = _both(programs, "godoy_square_sequences")  # RNN/GRU/LSTM, pack_sequence
    for name in ("rnn", "gru", "lstm"):
        assert close(ours.results[name][0], theirs.results[name][0], 1e-5, 1e-6), name
        assert ours.results[name][1] == theirs.results[name][1], name
    assert ours.hidden_shapes == theirs.hidden_shapes == ((1, 16, 2), (1, 16, 2))
    assert ours.var_lengths == [2, 3, 4] and ours.batch_sizes == theirs.batch_sizes
    assert close(ours.packed_losses, theirs.packed_losses, 1e-5, 1e-6)
    assert ours.packed_accuracy == theirs.packed_accuracy > 0.8


def test_dlai_stylegan_components(programs):
    ours, theirs = _both(programs, "dlai_stylegan_components")  # AdaIN, noise, noise ascent
    assert ours.truncated_max == theirs.truncated_max and ours.truncated_max <= 0.7
    assert ours.gen_params == theirs.gen_params == 3234
    assert ours.image_shapes == theirs.image_shapes == [(6, 3, 16, 16)] * 3
    assert close(ours.image_stats, theirs.image_stats, 1e-5, 1e-6)
    assert ours.adain_check == theirs.adain_check == 0.0  # constant image: only the shift stays
    assert close(ours.scores, theirs.scores, 1e-4, 1e-7)
    assert ours.noise_shift == pytest.approx(theirs.noise_shift, rel=1e-4) and ours.noise_shift > 0
    assert ours.noise_grad_norm == pytest.approx(theirs.noise_grad_norm, rel=1e-4)


def test_godoy_seq2seq_attention(programs):
    ours, theirs = _both(programs, "godoy_seq2seq_attention")  # bmm attention, teacher forcing
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.test_loss == pytest.approx(theirs.test_loss, rel=1e-5)
    assert ours.alphas_shape == theirs.alphas_shape == (16, 1, 2)
    assert close(ours.first_alphas, theirs.first_alphas, 1e-5, 1e-6)
    assert ours.masked_alpha == theirs.masked_alpha == [1.0, 0.0]


def test_ztm_custom_datasets(programs):
    ours, theirs = _both(programs, "ztm_custom_datasets")  # PIL files, os.scandir, __index__
    assert ours.dir_summary == theirs.dir_summary
    assert ours.class_names == theirs.class_names == ["pizza", "steak", "sushi"]
    assert ours.image_info == theirs.image_info == ((3, 8, 8), "torch.float32", 0, (12, 12))
    assert close(ours.results["train_loss"], theirs.results["train_loss"], 1e-5, 1e-6)
    assert ours.results["test_acc"] == theirs.results["test_acc"]
    assert ours.title == theirs.title and ours.title.startswith("Pred: sushi")


def test_godoy_gradient_clipping_schedulers(programs):
    ours, theirs = _both(programs, "godoy_gradient_clipping_schedulers")  # hooks, CyclicLR
    assert ours.captured == theirs.captured == (3, (3, 10))
    assert ours.max_captured == pytest.approx(theirs.max_captured, rel=1e-6)
    for name in ("value_losses", "norm_losses", "hook_losses", "step_losses", "plateau_losses"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-5, 1e-6), name
    assert close(ours.total_norms, theirs.total_norms, 1e-5) and ours.total_norms[0] > 1.0
    assert ours.hook_grad_max == theirs.hook_grad_max == pytest.approx(0.1)  # clamped in backprop
    assert ours.step_lrs == theirs.step_lrs and ours.plateau_lrs == theirs.plateau_lrs
    assert ours.plateau_lrs[-1] < ours.plateau_lrs[0]
    assert close(ours.cyclic_lrs, theirs.cyclic_lrs, 1e-12) and close(
        ours.cyclic_losses, theirs.cyclic_losses, 1e-5, 1e-6
    )
    assert ours.cyclic_momentum == pytest.approx(theirs.cyclic_momentum, abs=1e-12)
