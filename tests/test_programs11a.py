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
    assert ours.grad_ok and theirs.grad_ok
    assert ours.value_gap < 1e-12 and ours.ops_gap == 0.0
    assert close(ours.grad_sample, theirs.grad_sample, 1e-7, 1e-8)
    assert close(ours.clamped_norms, theirs.clamped_norms, 1e-6) and max(ours.clamped_norms) <= 1
    assert ours.row_norm_max <= 2.0 + 1e-5
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.twin_losses, ours.losses, 1e-5, 1e-6)  # custom op == built-in ops
    assert close(ours.bias_after, theirs.bias_after, 1e-4, 1e-5)
    assert ours.losses[-1] < 0.7 * ours.losses[0]


def test_benchmark_timer(programs):
    ours, theirs = _both(programs, "benchmark_timer")  # Timer, blocked_autorange, Compare
    assert ours.agree and close(ours.dot_sample, theirs.dot_sample, 1e-5)  # float32 sums, 4 places
    assert ours.fields == theirs.fields  # dedented stmt, title, number_per_run, ...
    assert ours.positive and ours.mean_matches_times and ours.adaptive_ok
    assert ours.block_sizes_equal and ours.blocked_total
    assert ours.table_shape == theirs.table_shape  # the Compare table, numbers masked
    assert ours.row_names == theirs.row_names and ours.descriptions == theirs.descriptions


def test_default_dtype_device(programs):
    ours, theirs = _both(programs, "default_dtype_device")  # set_default_dtype/device, meta
    assert ours.flags == theirs.flags == [True, True, True, False]
    assert ours.hist == theirs.hist == [1.0, 2.0, 0.0, 0.0, 3.0]
    assert ours.filled == theirs.filled == [True, True, [2**63 - 1] * 2, True]
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


def test_generator_data_loading(programs):
    ours, theirs = _both(programs, "generator_data_loading")  # Generators, samplers, workers
    assert (ours.perm, ours.draws, ours.uniform) == (theirs.perm, theirs.draws, theirs.uniform)
    assert ours.global_untouched and theirs.global_untouched
    assert ours.unseeded_info == theirs.unseeded_info
    assert ours.split_indices == theirs.split_indices
    assert ours.sampler_orders == theirs.sampler_orders
    assert ours.epoch_a == ours.epoch_b == theirs.epoch_a and ours.epoch_c == theirs.epoch_c
    assert ours.epoch_c != ours.epoch_a and ours.initial_seed == theirs.initial_seed == 0
    assert ours.worker_ids == theirs.worker_ids and {0, 1} <= set(sum(ours.worker_ids, []))
    assert ours.first_rows == theirs.first_rows  # NumPy jitter seeded by seed_worker
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)


def test_rng_resume_mid_epoch(programs):
    ours, theirs = _both(programs, "rng_resume_mid_epoch")  # get/set_rng_state, fork_rng
    assert ours.resume_gap == 0.0 and ours.weight_gap == 0.0  # an exact continuation
    assert close(ours.full_losses, theirs.full_losses, 1e-5, 1e-6)
    assert close(ours.resumed_losses, theirs.resumed_losses, 1e-5, 1e-6)
    assert ours.lr_now == theirs.lr_now and ours.rng_state_info == theirs.rng_state_info
    assert ours.after_fork == ours.replayed == theirs.after_fork


def test_state_dict_loading(programs):
    ours, theirs = _both(programs, "state_dict_loading")  # strict=False, assign=True, mmap
    assert ours.key_list == theirs.key_list and ours.calls_value == theirs.calls_value == 1
    assert ours.size_error == theirs.size_error  # "torch.Size([...])" under as_torch too
    assert ours.seen == theirs.seen and ours.report_fields == theirs.report_fields
    assert ours.report_repr_start == theirs.report_repr_start == "_IncompatibleKeys"
    assert ours.copied and ours.strict_fields == [[], []]
    assert ours.meta_before and ours.assigned == theirs.assigned == [False, True, True, True]
    assert ours.saved_keys == theirs.saved_keys and ours.pre_hook_calls == [""]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.lazy_out == pytest.approx(theirs.lazy_out, rel=1e-5)
    assert ours.lazy_out == pytest.approx(ours.pretrained_out, rel=1e-6)


def test_hooks_kwargs_mutation(programs):
    ours, theirs = _both(programs, "hooks_kwargs_mutation")  # with_kwargs, always_call, ...
    assert ours.log == theirs.log and ("always", True) in ours.log
    assert close(ours.clipped, theirs.clipped, 1e-5, 1e-6)
    assert ours.accumulations == theirs.accumulations == {n: 8 for n in theirs.accumulations}
    assert ours.first_ready == theirs.first_ready and len(ours.first_ready) == 8
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.mutation_grad_gap < 1e-6 and ours.h_after and ours.plain_error is True


def test_optimizer_hooks_groups(programs):
    ours, theirs = _both(programs, "optimizer_hooks_groups")  # add_param_group, plateau, hooks
    assert ours.lrs == theirs.lrs and len(ours.lrs[-1]) == 2  # warmup, unfreeze, halvings
    assert ours.events == theirs.events and ours.event_counts == theirs.event_counts
    assert ours.note == theirs.note == "groups=2" and ours.loaded_notes == theirs.loaded_notes
    assert ours.group_keys == theirs.group_keys
    assert ours.momentum_sizes == theirs.momentum_sizes
    assert close(ours.train_losses, theirs.train_losses, 1e-5, 1e-6)
    assert close(ours.val_losses, theirs.val_losses, 1e-5, 1e-6)
    assert ours.resume_gap == 0.0 and ours.val_losses[-1] < ours.val_losses[0]


def test_grad_accum_ema_foreach(programs):
    ours, theirs = _both(programs, "grad_accum_ema_foreach")  # foreach EMA, clip, flat params
    assert ours.skipped == theirs.skipped and len(ours.skipped) == 1  # the non-finite step
    assert close(ours.losses, theirs.losses, 1e-6, 1e-7)
    assert close(ours.norms, theirs.norms, 1e-5, 1e-7) and ours.decays == theirs.decays
    assert ours.ema_gap == pytest.approx(theirs.ema_gap, rel=1e-4)
    assert close(ours.ema_norms, theirs.ema_norms, 1e-5, 1e-5)
    assert ours.avg_sample == theirs.avg_sample and ours.n_averaged == theirs.n_averaged == 4
    assert ours.flat_info == theirs.flat_info and ours.restored_gap == 0.0
    assert close(ours.curve, theirs.curve, 1e-5, 1e-6)


def test_ensemble_compile(programs, monkeypatch):
    # PyTorch's inductor takes 10-20 s to compile on the CPU: its run is eager (compile passes
    # the function through), while minigrad's captures and replays the whole step
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch, "compile", lambda fn=None, **kw: fn or (lambda f: f))
    ours, theirs = _both(programs, "ensemble_compile")  # stack_module_state, vmap, compile
    assert ours.train_step.eager_reason is None  # captured (fullgraph=True would raise)
    assert ours.stacked_shapes == theirs.stacked_shapes
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert close(ours.mean_list, theirs.mean_list, 1e-4, 1e-5)
    assert ours.spread_inside == pytest.approx(theirs.spread_inside, rel=1e-5)
    assert ours.spread_outside == pytest.approx(theirs.spread_outside, rel=1e-5)
    assert ours.loop_gap < 1e-6


def test_assert_close_checks(programs):
    ours, theirs = _both(programs, "assert_close_checks")  # assert_close messages, make_tensor
    assert ours.results == theirs.results
    for key, message in theirs.messages.items():
        assert ours.messages[key] == message, key  # torch.Size([2, 3]) under as_torch too
    assert ours.sample_ok and theirs.sample_ok


def test_training_flags_clipping(programs):
    ours, theirs = _both(programs, "training_flags_clipping")  # global hooks, total-norm clip
    assert ours.flags == theirs.flags == ["high", True, True] and ours.restored == theirs.restored
    assert ours.scales == theirs.scales and ours.hook_removed and ours.calls_after_remove == 30
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert close(ours.norms, theirs.norms, 1e-5, 1e-6)
    assert ours.clipped_max == pytest.approx(theirs.clipped_max, rel=1e-6)
    assert ours.anomaly == theirs.anomaly == ["SqrtOfNegativeBackward"]
    assert ours.anomaly_enabled_after is theirs.anomaly_enabled_after is False


def test_distributed_sampler_shards(programs):
    ours, theirs = _both(programs, "distributed_sampler_shards")  # DistributedSampler, set_epoch
    assert ours.shards == theirs.shards and ours.shards[0] != ours.shards[1]
    assert ours.lengths == theirs.lengths == [7, 7, 7] and ours.padded == theirs.padded == 1
    assert ours.covered == list(range(20)) and ours.trimmed == theirs.trimmed
    assert ours.first_ids == theirs.first_ids
    assert ours.step_gaps[0] < 1e-6  # the averaged gradients equal the union's
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert sum(ours.losses[-3:]) < sum(ours.losses[:3])
