"""A sixteenth round of PyTorch programs, from the official documentation's notes and beginner
pages (autograd mechanics, broadcasting, numerical accuracy, reproducibility, serialization,
modules, ``torch.Size`` and type promotion, the "Learn the Basics" series), run with ``torch``
bound to minigrad and with PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_autograd_mechanics_note(programs):
    ours, theirs = _both(programs, "autograd_mechanics_note")  # version counter, threads, complex
    assert ours.versions == theirs.versions == [0, 1]
    assert ours.inplace_error_head == theirs.inplace_error_head and ours.names_version
    assert ours.sin_grad_ok and ours.input_modified_raises == theirs.input_modified_raises is True
    assert ours.frozen == theirs.frozen and ours.no_grad_flags == theirs.no_grad_flags
    assert ours.inference_flags == theirs.inference_flags
    assert ours.inference_use == theirs.inference_use
    assert ours.inference_inplace == theirs.inference_inplace
    assert ours.thread_grads == theirs.thread_grads == [i + 4.5 for i in range(10)]
    assert ours.shared_accumulated and theirs.shared_accumulated
    assert ours.flags == theirs.flags == {"worker": True, "main": False}  # thread-local mode
    assert close(ours.abs2_grad, theirs.abs2_grad, 1e-6, 1e-7) and ours.abs2_is_2z
    assert close(ours.abs_grad, theirs.abs_grad, 1e-6, 1e-7)
    assert close(ours.angle_grad, theirs.angle_grad, 1e-6, 1e-7)
    assert ours.complex_vs_real_gap < 1e-6 and ours.complex_loss == pytest.approx(
        theirs.complex_loss, rel=1e-6
    )
    assert ours.complex_grad_dtype == theirs.complex_grad_dtype == "torch.complex64"
    assert ours.complex_output_error == theirs.complex_output_error


def test_broadcasting_note(programs):
    ours, theirs = _both(programs, "broadcasting_note")  # broadcast_shapes, in-place shape rule
    for name in ("same", "lined_up", "result_shapes", "broadcast_shapes", "inplace_ok"):
        assert getattr(ours, name) == getattr(theirs, name), name
    for name in ("empty_error", "mismatch_error", "inplace_error", "mul_inplace_error"):
        assert getattr(theirs, name) in getattr(ours, name), name  # ours also names the op
    assert ours.shapes_error == theirs.shapes_error
    assert ours.add_table == theirs.add_table and ours.pointwise == theirs.pointwise
    assert ours.grad_shapes == theirs.grad_shapes == [[3], [1, 3], []]
    assert close(ours.bias_grad, theirs.bias_grad, 1e-6) and close(
        ours.bias_grad, ours.bias_grad_by_hand, 1e-6
    )
    assert close(ours.weight_grad, theirs.weight_grad, 1e-6)
    assert ours.scale_grad == pytest.approx(theirs.scale_grad, rel=1e-6)
    assert ours.expanded_strides == theirs.expanded_strides == [0, 1] and ours.shares_storage
    assert ours.broadcast_tensor_shapes == theirs.broadcast_tensor_shapes
    assert ours.expanded_write_error == theirs.expanded_write_error
    assert ours.expand_minus_one == theirs.expand_minus_one == [2, 4, 3]


def test_type_promotion_and_size(programs):
    ours, theirs = _both(programs, "type_promotion_size")  # result_type, can_cast, torch.Size
    assert ours.promoted == theirs.promoted
    for name in ("uint8_wrap", "true_div", "floor_div", "trunc_div", "remainder", "fmod"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.result_types == theirs.result_types and ours.promote == theirs.promote
    assert ours.can_cast == theirs.can_cast
    assert ours.inplace_dtypes == theirs.inplace_dtypes  # int32 into uint8 in place: allowed
    for mine, message in zip(ours.inplace_errors, theirs.inplace_errors, strict=True):
        assert mine.endswith(message)  # ours also names the op
    assert ours.out_values == theirs.out_values and ours.out_error.endswith(theirs.out_error)
    assert ours.size_facts == theirs.size_facts
    assert list(ours.batch_shape) == list(theirs.batch_shape) == [2, 3, 8]
    assert ours.reshaped == theirs.reshaped


def test_modules_note(programs):
    ours, theirs = _both(programs, "modules_note")  # global module hooks, state-dict hooks, meta
    for name in ("net_repr", "children", "module_types", "state_keys", "buffer_names", "calls"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.calls_after_remove == theirs.calls_after_remove == 8  # removed hooks stay quiet
    assert [n for n, _ in ours.grad_norms] == [n for n, _ in theirs.grad_norms]
    assert close([g for _, g in ours.grad_norms], [g for _, g in theirs.grad_norms], 1e-4)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.6 * ours.losses[0]
    assert ours.steps == theirs.steps == 32 and ours.eval_mean_unchanged
    assert close(ours.running_mean, theirs.running_mean, 1e-5, 1e-6)
    assert ours.saved_keys == theirs.saved_keys and ours.saved_keys[-1] == "format_version"
    assert ours.meta_device == "meta" and ours.load_report == theirs.load_report == [[], []]
    assert ours.reload_gap == 0.0 and ours.fresh_steps == theirs.fresh_steps == 0
    assert ours.size_error == theirs.size_error


def test_serialization_note(programs):
    ours, theirs = _both(programs, "serialization_note")  # state_dicts, nested containers, Size
    # Not compared: views_shared and storage_bytes. PyTorch saves storages, so a loaded view
    # still shares its base's memory and a saved slice carries its whole storage; minigrad's
    # format saves each tensor's own elements (minigrad/io/checkpoint.py says so).
    assert ours.original_untouched == theirs.original_untouched
    assert ours.small_values == theirs.small_values == [1, 2, 3, 4, 5]
    for name in ("param_names", "buffer_names", "bn_keys", "bn_tracked", "module_keys"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert close(ours.bn_running_mean, theirs.bn_running_mean, 1e-6, 1e-7)
    assert ours.module_gap == theirs.module_gap == 0.0
    assert ours.nested == theirs.nested and ours.nested["meta_shape_type"] == "Size"
    assert ours.weights_only_error is theirs.weights_only_error is True
    assert ours.allowed_width == theirs.allowed_width == ours.unsafe == 16


def test_numerical_accuracy_note(programs):
    ours, theirs = _both(programs, "numerical_accuracy_note")  # finfo, stable forms, TF32 flags
    assert ours.sums == theirs.sums == {"float32": 1.0, "float64": 2.0, "pairs": 0.0}
    assert ours.mean32 == theirs.mean32 and ours.mean64 == pytest.approx(theirs.mean64, rel=1e-15)
    assert ours.cumsum_last == theirs.cumsum_last  # float32 scanned in float64 on the CPU
    assert ours.finfo == theirs.finfo and ours.overflow == theirs.overflow
    assert ours.subnormal_facts == theirs.subnormal_facts and ours.nan_facts == theirs.nan_facts
    assert ours.stable.keys() == theirs.stable.keys()
    for name, value in theirs.stable.items():
        # (sigmoid(-100) in float32: PyTorch's 1 / (1 + inf) gives 0, minigrad the subnormal 4e-44)
        assert close(ours.stable[name], value, 1e-6, 1e-30), name
    assert ours.flags_before == theirs.flags_before and ours.flags_set == theirs.flags_set
    assert ours.tf32_cpu_gap == theirs.tf32_cpu_gap == 0.0  # TF32 changes nothing on a CPU
    assert ours.medium_precision == "medium" and ours.precision_error == theirs.precision_error
    assert ours.flags_after == theirs.flags_after == [False, "highest"]
    # LAPACK builds differ in how they lose digits on an ill-conditioned system: bounds only
    assert ours.cond == pytest.approx(theirs.cond, rel=1e-6)
    assert ours.err64 < 1e-5 and theirs.err64 < 1e-5 and ours.err32 > 1e-2 and theirs.err32 > 1e-2


def test_reproducibility_and_worker_seeds(programs):
    ours, theirs = _both(programs, "reproducibility_workers")  # seed_worker, generator=g
    assert ours.same_init and close(ours.init_sample, theirs.init_sample, 1e-6, 1e-7)
    assert ours.dropout_masks == theirs.dropout_masks and ours.initial == theirs.initial == 1
    assert ours.det_flags == theirs.det_flags == [False, True, False, True, False]
    assert ours.deterministic_sum == theirs.deterministic_sum
    assert ours.det_type_error == theirs.det_type_error == "TypeError"
    # every batch equal: indices, worker ids, torch/NumPy/random draws and worker seeds
    assert ours.run_one == theirs.run_one and ours.default_run == theirs.default_run
    assert ours.worker_seeds == theirs.worker_seeds and ours.workers_used == [0, 1]
    assert ours.worker_seeds[1] == ours.worker_seeds[0] + 1  # base_seed + worker_id
    assert ours.numpy_distinct and ours.default_numpy_distinct
    assert ours.default_torch_noise == theirs.default_torch_noise


def test_learn_the_basics(programs):
    ours, theirs = _both(programs, "learn_the_basics")  # custom Dataset, one-hot scatter_, save
    assert ours.sample_facts == theirs.sample_facts  # incl. the one-hot of a 0-dim index
    assert sum(ours.sample_facts[3]) == 1.0
    assert ours.batch_facts == theirs.batch_facts and ours.model_repr == theirs.model_repr
    assert ours.first_pred[0] == theirs.first_pred[0]
    assert ours.first_pred[1] == pytest.approx(theirs.first_pred[1], rel=1e-6)
    assert ours.layer_shapes == theirs.layer_shapes and ours.param_shapes == theirs.param_shapes
    assert close(ours.autograd_grads, theirs.autograd_grads, 1e-6, 1e-7)
    assert ours.requires == theirs.requires == [False, False]
    assert ours.jacobian_calls == theirs.jacobian_calls  # accumulated, then zeroed
    assert close(ours.train_losses, theirs.train_losses, 1e-5, 1e-6)
    assert close(ours.test_results, theirs.test_results, 1e-5, 1e-6)
    assert ours.test_results[-1][0] < 0.9 * ours.test_results[0][0]
    assert ours.reload_gaps == theirs.reload_gaps == [0.0, 0.0]
    assert ours.model3_type == theirs.model3_type == "NeuralNetwork"


def test_tensor_views_note(programs):
    ours, theirs = _both(programs, "tensor_views_note")  # views share data; reshape may copy
    for name in ("same_storage", "view_facts", "copy_facts", "view_error", "reshape_copies"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.written_through == theirs.written_through == pytest.approx(3.14)
    assert ours.reshape_views and ours.strides == theirs.strides
    assert ours.views == theirs.views  # diagonal and unfold are views too (views16)
    assert ours.shapes == theirs.shapes
    assert ours.unflatten_error == theirs.unflatten_error
    assert ours.view_size_error == theirs.view_size_error


def test_backward_hooks_note(programs):
    ours, theirs = _both(programs, "backward_hooks_note")  # hook order, in-place, grad() paths
    assert ours.order == theirs.order and ours.order[-1] == "post_accumulate"
    assert ours.payloads == theirs.payloads
    assert ours.retained == theirs.retained == [12.0, 24.0]  # retain_grad sees the doubled grad
    assert ours.leaf_grad == theirs.leaf_grad
    assert ours.grad_only_x == theirs.grad_only_x == [30.0, ["u"]]
    assert close(ours.inplace_hooks, theirs.inplace_hooks, 1e-6, 1e-6)
    assert ours.hook_error == theirs.hook_error and ours.removed == theirs.removed
