"""A twenty-first round of PyTorch programs (c), in the modern PyTorch 2.x idioms of 2025-26 code
(torchtitan, gpt-fast, torchtune, the PyTorch recipes): DTensor and tensor parallelism in a
world of one, the compiled optimizer with a tensor learning rate and the compiler's stances,
``StackDataset`` with per-loader generators, ``ModuleTracker`` with ``FlopCounterMode``, Llama-3
decoding with GQA and ``index_copy_``, optimizer ``foreach``/``fused`` flags, ``nn.Buffer`` and
swap-on-conversion, device-agnostic code, activation-checkpoint wrappers and
``torch.distributed.checkpoint``; each run with ``torch`` bound to minigrad and with PyTorch
itself, compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_dtensor_world_of_one(programs):
    ours, theirs = _both(programs, "dtensor_world_of_one")  # mesh, Shard/Replicate, TP plan
    assert ours.world == theirs.world == (0, 1, True) and ours.finished is theirs.finished is False
    assert ours.mesh_info == theirs.mesh_info == (1, 1, ("tp",), "cpu")
    assert ours.dtensor_info == theirs.dtensor_info == (True, (8, 4), (8, 4), "S(0)", "R")
    assert ours.roundtrip_equal and theirs.roundtrip_equal
    assert ours.summed == pytest.approx(theirs.summed, rel=1e-5)  # float32 sums of 32 terms
    assert ours.weight_types == theirs.weight_types == ["DTensor"]
    assert (ours.w1_placement, ours.w2_placement) == (theirs.w1_placement, theirs.w2_placement)
    assert close(ours.split_losses, theirs.split_losses, 1e-5, 1e-6)
    assert ours.split_losses == ours.plain_losses and ours.max_weight_gap == 0.0
    assert ours.grad_is_dtensor and theirs.grad_is_dtensor


def test_compiled_optimizer_tensor_lr(programs, monkeypatch):
    # PyTorch's inductor takes tens of seconds on this CPU: its run is eager (compile passes the
    # function through; set_stance and mark_dynamic are PyTorch's own), minigrad's captures
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch, "compile", lambda fn=None, **kw: fn or (lambda f: f))
    ours, theirs = _both(programs, "compiled_optimizer_tensor_lr")
    assert ours.lr_is_tensor and theirs.lr_is_tensor
    assert close(ours.lrs, theirs.lrs, 1e-6, 1e-9) and ours.twin_lrs == theirs.twin_lrs
    assert ours.lrs[:5] != [ours.lrs[4]] * 5  # get_last_lr kept each step's value
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.losses, ours.twin_losses, 1e-5, 1e-6) and ours.max_param_gap < 1e-6
    assert ours.log_calls == theirs.log_calls == [(i, False) for i in range(6)]
    assert ours.compiling_outside is theirs.compiling_outside is False
    assert ours.eval_loss == pytest.approx(theirs.eval_loss, rel=1e-5)
    assert ours.eval_loss == pytest.approx(ours.eager_eval, rel=1e-6) == ours.after_reset
    assert ours.state_keys == theirs.state_keys and ours.step_dtype == theirs.step_dtype


def test_stack_dataset_generators(programs):
    ours, theirs = _both(programs, "stack_dataset_generators")  # StackDataset, own generators
    for name in ("sample_keys", "pair_shapes", "lengths", "split_sizes", "val_indices"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.batch_structure == theirs.batch_structure
    assert ours.epoch_a == theirs.epoch_a and ours.replayed and theirs.replayed
    assert ours.collated_info == theirs.collated_info
    assert ours.drawn == theirs.drawn and ours.batches == theirs.batches
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.val_accuracy == theirs.val_accuracy


def test_module_tracker_flops(programs):
    ours, theirs = _both(programs, "module_tracker_flops")  # ModuleTracker, FlopCounterMode
    assert ours.trace == theirs.trace  # the modules around each probe, forward and backward
    assert ours.trace["attention"][0][1][-1] == "TinyLM.layers.0.attn"
    assert ours.outside == theirs.outside == ["Global"]
    assert ours.between == theirs.between and ours.after == theirs.after
    assert ours.total_flops == theirs.total_flops and ours.module_flops == theirs.module_flops
    assert ours.op_names == theirs.op_names
    assert ours.dense_flops == theirs.dense_flops and ours.attention_flops > 0


def test_llama3_gqa_index_copy(programs):
    ours, theirs = _both(programs, "llama3_gqa_index_copy")  # polar RoPE, GQA, index_copy_
    assert ours.generated == theirs.generated  # sampled from the same seeded generator
    assert ours.prefill_gap < 1e-5 and ours.cache_gap < 1e-5
    assert ours.flags == theirs.flags == (True, False, False)
    assert ours.freqs_info == theirs.freqs_info == ((24, 4), "torch.complex64")
    assert close(ours.logit_sample, theirs.logit_sample, 1e-4, 1e-5)


def test_optim_impl_flags(programs):
    ours, theirs = _both(programs, "optim_impl_flags")  # foreach/fused, Chained/SequentialLR
    for name in ("adamw_losses", "sgd_losses", "ams_losses", "max_losses"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-5, 1e-6), name
    assert max(ours.impl_gaps.values()) < 1e-6  # the three implementations agree
    assert ours.group_info == theirs.group_info and ours.ams_state_keys == theirs.ams_state_keys
    assert ours.chained_lrs == theirs.chained_lrs and ours.sequential_lrs == theirs.sequential_lrs
    assert close(ours.chained_losses, theirs.chained_losses, 1e-5, 1e-6)
    assert close(ours.sequential_losses, theirs.sequential_losses, 1e-5, 1e-6)


def test_module_buffers_swap(programs):
    ours, theirs = _both(programs, "module_buffers_swap")  # nn.Buffer, swap on conversion
    for name in ("buffer_names", "state_keys", "buffer_types", "converted", "swapped"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.same_object and ours.converted[-1]  # the optimizer still holds the parameter
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.running[0] == theirs.running[0] == 6
    assert close(ours.running[1], theirs.running[1], 1e-5, 1e-6)
    assert ours.assigned == theirs.assigned and ours.shares_tensors == theirs.shares_tensors
    assert ours.gap == theirs.gap == 0.0
    assert ours.replaced == theirs.replaced and ours.keep_vars_info == theirs.keep_vars_info


def test_device_agnostic_accelerator(programs):
    ours, theirs = _both(programs, "device_agnostic_accelerator")  # accelerator API, autocast
    assert ours.choice == theirs.choice and ours.default_info == theirs.default_info
    assert ours.param_device == theirs.param_device == "cpu"
    assert ours.autocast_dtypes == theirs.autocast_dtypes
    # bfloat16 forward: the first step agrees exactly, later ones drift by a rounding flip
    assert ours.losses[0] == pytest.approx(theirs.losses[0], rel=1e-3)
    assert close(ours.losses, theirs.losses, 2e-3) and ours.losses[-1] < ours.losses[0]
    assert ours.scale_info == theirs.scale_info == (False, 1.0)
    assert ours.accuracy == pytest.approx(theirs.accuracy, abs=0.05)


def test_torchtitan_activation_ckpt(programs):
    ours, theirs = _both(programs, "torchtitan_activation_ckpt")  # wrappers, context_fn
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert len(set(ours.losses)) == 1  # checkpointing changes no number
    assert ours.grad_gaps == theirs.grad_gaps == dict.fromkeys(ours.grad_gaps, 0.0)
    assert ours.wrapped_kinds == theirs.wrapped_kinds == ["CheckpointWrapper"] * 4
    assert ours.names_match and ours.state_keys_match and theirs.state_keys_match
    assert ours.counted_once == theirs.counted_once == 4  # not again while recomputing
    assert close(ours.drop_losses, theirs.drop_losses, 1e-5, 1e-6)
    assert close(ours.head_grad, theirs.head_grad, 1e-4, 1e-6)


def test_dcp_stateful_resume(programs):
    ours, theirs = _both(programs, "dcp_stateful_resume")  # dcp.save/load, format_utils
    assert close(ours.straight, theirs.straight, 1e-5, 1e-6)
    assert ours.resumed == ours.straight and ours.resume_gap == 0.0
    assert ours.folders == theirs.folders == ["step-2", "step-4"]
    assert ours.resumed_step == theirs.resumed_step == 4.0
    assert ours.full_keys == theirs.full_keys and ours.stored == theirs.stored
    assert ours.weight_info == theirs.weight_info == ([16, 6], "torch.float32")
    assert ours.plain_keys == theirs.plain_keys and ours.plain_step == theirs.plain_step == 4.0


def test_torchtitan_tp_plan(programs):
    ours, theirs = _both(programs, "torchtitan_tp_plan")  # SequenceParallel, loss_parallel
    assert ours.placements == theirs.placements and ours.pred_info == theirs.pred_info
    assert ours.pred_info == ("DTensor", "S(2)", (3, 6, 24))
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.losses, ours.ref_losses, 1e-5, 1e-6) and ours.weight_gap < 1e-5


def test_cpu_fp16_autocast_scaler(programs):
    ours, theirs = _both(programs, "cpu_fp16_autocast_scaler")  # float16 autocast, GradScaler
    assert ours.dtypes_seen == theirs.dtypes_seen  # which ops autocast lowers on the CPU
    assert ours.losses[0] == theirs.losses[0]  # the float16 forward rounds as PyTorch's
    assert ours.first_gap == pytest.approx(theirs.first_gap, rel=1e-3)
    # later steps: float16 gradients (float32 sums in another order) flip roundings
    assert close(ours.losses, theirs.losses, 1e-3) and close(ours.norms, theirs.norms, 2e-3)
    assert close(ours.twin_losses, theirs.twin_losses, 1e-5, 1e-6)
    assert ours.scales == theirs.scales and ours.conv_grad_dtype == theirs.conv_grad_dtype
