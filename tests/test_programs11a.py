"""An eleventh round of PyTorch programs, on the training infrastructure scripts lean on
(``torch.library`` custom ops, ``torch.utils.benchmark``, global defaults and determinism,
inference mode, generators and RNG state, state-dict loading, module and autograd hooks,
optimizer hooks and schedulers, foreach EMA, ensembles and compile options), run with
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


def _names(dtypes):
    return [str(d).rsplit(".", 1)[-1] for d in dtypes]  # minigrad.float64 / torch.float64


def test_custom_op_library(programs):
    ours, theirs = _both(programs, "custom_op_library")  # custom_op, register_fake/_autograd
    assert ours.grad_ok and ours.opcheck_results == theirs.opcheck_results
    assert ours.value_gap < 1e-12 and ours.ops_gap == 0.0
    assert close(ours.grad_sample, theirs.grad_sample, 1e-7, 1e-8)
    assert close(ours.clamped_norms, [1.0] * 4, 1e-6) and ours.row_norm_max <= 2.0 + 1e-5
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.twin_losses, ours.losses, 1e-5, 1e-6)  # custom op == built-in ops
    assert close(ours.bias_after, theirs.bias_after, 1e-4, 1e-5)
    assert ours.losses[-1] < 0.5 * ours.losses[0]


def test_benchmark_timer(programs):
    ours, theirs = _both(programs, "benchmark_timer")  # Timer, blocked_autorange, Compare
    assert ours.agree and ours.dot_sample == theirs.dot_sample
    assert ours.fields == theirs.fields  # dedented stmt, title, number_per_run, ...
    assert ours.positive and ours.mean_matches_times and ours.adaptive_ok
    assert ours.block_sizes_equal and ours.blocked_total
    assert ours.table_shape == theirs.table_shape  # the Compare table, numbers masked
    assert ours.row_names == theirs.row_names and ours.descriptions == theirs.descriptions


def test_default_dtype_device(programs):
    ours, theirs = _both(programs, "default_dtype_device")  # set_default_dtype/device, meta
    assert ours.flags == theirs.flags == [True, True, True, False]
    assert ours.hist == theirs.hist == [1.0, 2.0, 0.0, 0.0, 3.0]
    assert _names(ours.dtypes) == _names(theirs.dtypes)
    assert _names(ours.param_dtypes) == ["float64"]
    assert close(ours.losses32, theirs.losses32, 1e-5, 1e-6)
    assert close(ours.losses64, theirs.losses64, 1e-12, 1e-14)
    assert ours.losses64[-1] < 0.3 * ours.losses64[0]
    assert ours.draw_gap == theirs.draw_gap and ours.draw_gap < 1e-6
    assert ours.meta_info == theirs.meta_info and ours.materialized_equal
    assert ours.after_ctx_device == "cpu" and _names(ours.restored[:1]) == ["float32"]
    assert ours.restored[1] is False


def test_inference_mode_serving(programs):
    ours, theirs = _both(programs, "inference_mode_serving")  # inference tensors vs no_grad
    assert ours.errors == theirs.errors  # saved for backward, in place, _version, requires_grad
    assert ours.flags == theirs.flags
    assert ours.mean_norm == pytest.approx(theirs.mean_norm, rel=1e-6)  # written, then refused
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.mode_gap == 0.0 and ours.predictions == theirs.predictions
