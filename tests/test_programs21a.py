"""A twenty-first round of PyTorch programs, from the official PyTorch tutorials and recipes
(chatbot, transfer learning, custom datasets, C++-extension LLTM, visualizing gradients,
swap_tensors, forced alignment, NumPy/SciPy extensions, the "Introduction to PyTorch" series,
inspecting parameters, saved-tensor hooks), run with ``torch`` bound to minigrad and with
PyTorch itself and compared value by value. Float32 training is compared at 1e-5 relative
(the runs drift by a few ulps per step: 2e-7 to 2e-5 measured)."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_chatbot_tutorial(programs):
    ours, theirs = _both(programs, "chatbot_tutorial")  # packed bi-GRU, Luong attention
    assert ours.vocab_summary == theirs.vocab_summary
    assert ours.vocab_summary == (32, 21, 12, ["hi i am chloe !", "hello chloe !"])
    assert ours.batch_example == theirs.batch_example and ours.batch_example[-1] == "torch.bool"
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.losses[-1] < 0.4 * ours.losses[0]
    assert ours.checkpoint_keys == theirs.checkpoint_keys
    assert ours.answers == theirs.answers and ours.answers[0].startswith("hello")
    assert close(ours.answer_scores, theirs.answer_scores, 1e-5, 1e-6)
    assert ours.attn_shapes == theirs.attn_shapes == {m: (3, 1, 5) for m in ours.attn_shapes}


def test_transfer_learning(programs):
    ours, theirs = _both(programs, "transfer_learning")  # frozen backbone, best weights reloaded
    assert close(ours.history, theirs.history, 1e-5, 1e-6)  # includes "torch.float64" accuracies
    assert ours.best_ft == theirs.best_ft == 1.0 and ours.best_conv == theirs.best_conv
    assert ours.ft_titles == theirs.ft_titles and ours.conv_titles == theirs.conv_titles
    assert ours.backbone_unchanged and theirs.backbone_unchanged and ours.conv1_grad_is_none
    assert ours.trainable == theirs.trainable == ["fc.weight", "fc.bias"]
    assert ours.ft_training_after == theirs.ft_training_after is False


def test_custom_dataset_transforms(programs):
    ours, theirs = _both(programs, "custom_dataset_transforms")  # PIL files, dict samples
    for name in ("raw_shapes", "tensor_index", "crop_summary", "sample_info", "batch_sizes"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.batch_sizes[-1] == ((2, 3, 16, 16), (2, 3, 2))
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)


def test_lltm_extension(programs):
    ours, theirs = _both(programs, "lltm_extension")  # hand-written backward, (1, n) bias grad
    assert ours.outputs_agree == ours.grads_agree == [True, True]
    assert theirs.grads_agree == [True, True] and ours.gradcheck_ok and theirs.gradcheck_ok
    assert ours.bias_grad_shape == theirs.bias_grad_shape == (15,)
    assert ours.grad_fn_name == theirs.grad_fn_name == "LLTMFunctionBackward"
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.losses["python"], ours.losses["extension"], 1e-5, 1e-6)


def test_visualizing_gradients(programs):
    ours, theirs = _both(programs, "visualizing_gradients")  # leaf flags, hooks on outputs
    for name in ("flags", "no_grad_error", "retain_error", "no_grad_flags", "nonleaf_warning"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.first_grads == theirs.first_grads and ours.retained == theirs.retained
    assert ours.loss_grad == 1.0 and ours.retains_after == theirs.retains_after
    assert (
        close(ours.flows, theirs.flows, 1e-5, 1e-9) and ours.hooked_layers == theirs.hooked_layers
    )
    assert ours.flows[(False, 0)][0][1] < 1e-4 * ours.flows[(True, 0)][0][1]  # BN unvanishes


def test_swap_tensors_recipe(programs):
    ours, theirs = _both(programs, "swap_tensors_recipe")  # module_load, swap on conversion
    assert ours.swapped == theirs.swapped == ([0, 1, 2], [0, 1])
    assert ours.optimizer_sees_new_weight is theirs.optimizer_sees_new_weight is False
    assert ours.conversions == theirs.conversions and ours.loads == theirs.loads
    assert ours.outcomes == theirs.outcomes and ours.meta_state == theirs.meta_state
    assert close(ours.weight_grad, theirs.weight_grad, 1e-5, 1e-7)


def test_forced_alignment(programs):
    ours, theirs = _both(programs, "forced_alignment")  # trellis, backtrack, merge_words
    assert close(ours.ctc_losses, theirs.ctc_losses, 1e-4, 1e-5)
    assert close(ours.trellis_corner, theirs.trellis_corner, 1e-4)
    assert ours.summary == theirs.summary and ours.summary[2] == ["THE", "CAT", "HAS", "TEA"]
    assert ours.aligned_starts == theirs.aligned_starts and max(ours.start_errors) <= 5
    assert close(ours.word_samples, theirs.word_samples, 1e-3)


def test_numpy_extensions(programs):
    ours, theirs = _both(programs, "numpy_extensions")  # input.new(ndarray), float64 grads
    assert ours.fft_summary == theirs.fft_summary
    assert close(ours.fft_values, theirs.fft_values, 1e-6)
    assert close(ours.conv_grads, theirs.conv_grads, 1e-5, 1e-6)
    assert ours.matches_conv2d and theirs.matches_conv2d and ours.test and theirs.test
    assert close(ours.fit_losses, theirs.fit_losses, 1e-5, 1e-6)


def test_intro_yt_tensors(programs):
    ours, theirs = _both(programs, "intro_yt_tensors")  # printed reprs, out=, numpy bridge
    assert ours.shown == theirs.shown  # every printed tensor, formatted as PyTorch prints it
    for name in ("seeds_repeat", "like_shapes", "broadcast_shapes", "out_kept", "squeezes"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert theirs.broadcast_error in ours.broadcast_error  # minigrad names the op first
    assert close(ours.reductions, theirs.reductions, 1e-6) and ours.svd_check[1]
    assert close(ours.svd_check, theirs.svd_check, 1e-5)
    assert ours.clone_independent == theirs.clone_independent == [True, False, 561.0]
    assert ours.shared_numpy == theirs.shared_numpy and ours.shared_numpy[1][1] == 17.0


def test_intro_yt_training(programs):
    ours, theirs = _both(programs, "intro_yt_training")  # running loss, best model, writer
    assert ours.tiny_repr == theirs.tiny_repr and ours.tiny_params == theirs.tiny_params
    assert close(ours.layer_demos, theirs.layer_demos, 1e-5, 1e-6)  # dropout masks agree
    assert float(ours.dummy_line.split(": ")[1]) == pytest.approx(
        float(theirs.dummy_line.split(": ")[1]), rel=1e-6
    )
    assert close([r[:2] for r in ours.report], [r[:2] for r in theirs.report], 1e-5, 1e-6)
    assert ours.best_epoch == theirs.best_epoch and ours.saved_correct == theirs.saved_correct
    assert ours.event_files and theirs.event_files


def test_inspecting_model_parameters(programs):
    ours, theirs = _both(programs, "inspecting_model_parameters")  # reprs and f"{x=}" lines
    assert ours.lines == theirs.lines
    assert ours.trainable == theirs.trainable == 268298
    assert dict(ours.cnn_layer_params) == dict(theirs.cnn_layer_params)
    assert close(ours.forward_shapes, theirs.forward_shapes, 1e-5)


def test_saved_tensors_hooks_tutorial(programs):
    ours, theirs = _both(programs, "saved_tensors_hooks_tutorial")  # pack/unpack, disk files
    assert ours.identity == theirs.identity == [True, True, True, False]
    assert ours.log == theirs.log  # the hooks' calls, in PyTorch's order
    assert ours.checks == theirs.checks == [True, True, 2, True, True, True]
    assert ours.cpu_grad_norm == pytest.approx(theirs.cpu_grad_norm, rel=1e-5)
    assert ours.first_access == theirs.first_access  # the unpacked leaf prints as a leaf
    assert ours.double_access == theirs.double_access == "Double access failed!"
    assert (ours.files_during, ours.files_after) == (theirs.files_during, theirs.files_after)
    assert ours.files_after == 0 and ours.disk_grad_norm == pytest.approx(theirs.disk_grad_norm)
    assert ours.raw_checks == theirs.raw_checks and ours.freed_error == theirs.freed_error


def test_gradcheck_mechanics(programs):
    ours, theirs = _both(programs, "gradcheck_mechanics")  # by hand, then gradcheck itself
    assert ours.jacobian_gap < 1e-8 and theirs.jacobian_gap < 1e-8  # difference noise only
    assert ours.functional_gap == theirs.functional_gap == 0.0
    assert close(ours.fast_mode_by_hand, theirs.fast_mode_by_hand, 1e-8)
    assert ours.wirtinger == theirs.wirtinger == [True, "torch.complex128", True]
    assert ours.checks == theirs.checks
    assert [ours.checks[k] for k in ("wrong", "wrong_fast", "float32_loose")] == [False] * 2 + [
        True
    ]
    assert ours.wrong_message == theirs.wrong_message and ours.wrong_is_runtime_error
    assert ours.float32_warning == theirs.float32_warning
