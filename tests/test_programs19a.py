"""A nineteenth round of PyTorch programs, from PyTorch's official tutorials and recipes not yet
covered (channels-last memory format, scaled dot product attention, the Mario double DQN,
the performance tuning guide, distillation through an intermediate regressor, dynamic
parallelism in TorchScript, torch.compile against tracing and scripting), run with ``torch``
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


def test_channels_last_tutorial(programs):
    ours, theirs = _both(programs, "channels_last_tutorial")  # strides, formats kept by ops
    assert ours.strides == theirs.strides and ours.strides["channels_last"] == (3072, 1, 96, 3)
    assert ours.formats == theirs.formats and ours.special == theirs.special
    assert ours.view_error == theirs.view_error and ours.view_error.startswith("view size")
    assert ours.kept == theirs.kept and not ours.kept["instance_norm"]
    assert ours.padded == theirs.padded and ours.softmax_strides == theirs.softmax_strides
    assert ours.conv_weight_stride == theirs.conv_weight_stride
    assert ours.out_stride == theirs.out_stride
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.losses["torch.channels_last"][-1] < ours.losses["torch.channels_last"][0]
    assert ours.grads_format == theirs.grads_format and ours.weight_format


def test_sdpa_tutorial(programs):
    ours, theirs = _both(programs, "sdpa_tutorial")  # sdpa_kernel, CausalSelfAttention, jagged
    assert close(ours.basic.tolist(), theirs.basic.tolist(), 1e-5, 1e-6)
    assert (
        list(ours.backends)
        == list(theirs.backends)
        == ["SDPBackend.MATH", "SDPBackend.FLASH_ATTENTION"]
    )
    assert close(list(ours.backends.values()), list(theirs.backends.values()), 1e-5, 1e-6)
    assert ours.backend_gap < 1e-5
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.causal_gap == theirs.causal_gap == 0.0
    assert ours.lengths == theirs.lengths and ours.padded_shape == theirs.padded_shape
    assert close(ours.nested_sums, theirs.nested_sums, 1e-5, 1e-5) and ours.nested_gap < 1e-5
    assert ours.bias_repr == theirs.bias_repr and ours.bias_error == theirs.bias_error
    assert close(ours.bias_outputs, theirs.bias_outputs, 1e-5) and ours.last_query_gap < 1e-6


def test_mario_double_dqn(programs):
    ours, theirs = _both(programs, "mario_double_dqn")  # FrameStack by cat, deepcopy target
    assert ours.state_info == theirs.state_info == ((4, 8, 8), "torch.float32")
    assert ours.target_frozen == theirs.target_frozen and not any(ours.target_frozen)
    assert ours.episode_rewards == theirs.episode_rewards and ours.steps == theirs.steps == 36
    assert len(ours.losses) == 13 and close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert close(ours.q_values, theirs.q_values, 1e-4, 1e-6)
    assert ours.target_gap == pytest.approx(theirs.target_gap, rel=1e-3, abs=1e-6)
    assert ours.target_grads == theirs.target_grads and all(ours.target_grads)  # frozen: no grads
    assert ours.exploration_rate == pytest.approx(theirs.exploration_rate)


def test_performance_tuning_guide(programs):
    ours, theirs = _both(programs, "performance_tuning_guide")  # fused/foreach, inference_mode
    assert ours.settings == theirs.settings == [True, "high", False]
    assert ours.pin_warnings == theirs.pin_warnings and len(ours.pin_warnings) == 1
    assert ours.pinned == theirs.pinned == [False] * 2
    assert close(ours.gelus, theirs.gelus, 1e-5, 1e-6)
    assert ours.conv_biases == theirs.conv_biases == [None] * 3
    assert list(ours.runs) == list(theirs.runs) and len(ours.runs) == 6
    for name, losses in theirs.runs.items():
        assert close(ours.runs[name], losses, 1e-5, 1e-6), name
        assert close(ours.last_weights[name], theirs.last_weights[name], 1e-5, 1e-6), name
        kind = name.split()[0]  # the three implementations of one optimizer agree
        assert close(ours.runs[name], ours.runs[f"{kind} for-loop"], 1e-5, 1e-6), name
    assert close(ours.checkpointed, ours.runs["Adam for-loop"], 1e-6, 1e-7)
    assert ours.none_after_zero_grad and ours.none_by_hand
    assert ours.inference == theirs.inference == [False, True, False]
    assert ours.inference_error == theirs.inference_error
    assert ours.clone_ok == pytest.approx(theirs.clone_ok, rel=1e-5)
    assert ours.prof is None and theirs.prof is None and ours.profiler_off
    assert ours.accuracy == theirs.accuracy


def test_kd_intermediate_regressor(programs):
    ours, theirs = _both(programs, "kd_intermediate_regressor")  # MSE on regressed feature maps
    assert ours.accuracies == theirs.accuracies and ours.accuracies[0] == 100.0
    assert ours.accuracies[2] > ours.accuracies[1]  # the hint from the teacher's map helps
    assert (
        close(ours.mse_losses, theirs.mse_losses, 1e-5) and ours.mse_losses[-1] < ours.mse_losses[0]
    )
    assert ours.load_report == theirs.load_report
    assert ours.load_report == [["regressor.0.bias", "regressor.0.weight"], []]
    assert ours.total_params_deep == theirs.total_params_deep == "8,188"
    assert ours.total_params_light == theirs.total_params_light
    assert ours.teacher_map_shape == theirs.teacher_map_shape == (1, 8, 4, 4)
    assert ours.teacher_unchanged and ours.teacher_grads == theirs.teacher_grads


def test_jit_fork_parallelism(programs):
    ours, theirs = _both(programs, "jit_fork_parallelism")  # jit.fork/wait, forked LSTMs
    assert ours.fork_results == theirs.fork_results == [[-1.0], [-1.0]]
    assert ours.sums == theirs.sums == [6.0, 6.0]
    assert ours.out_shape == theirs.out_shape == (5, 2, 16)
    assert close(ours.eager_out.tolist(), theirs.eager_out.tolist(), 1e-5, 1e-6)
    assert ours.member_gap == 0.0 and ours.scripted_sums == theirs.scripted_sums == [6.0, 6.0]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert ours.grad_norm == pytest.approx(theirs.grad_norm, rel=1e-4)


# PyTorch's answers for compile_vs_trace (its torch.compile runs Inductor: ~15 s on one core,
# so the side-by-side run is marked slow; the fast test checks minigrad against these)
_TRACE_RESULTS = {
    "traced 1, 1": True,
    "traced 1, 2": False,  # the trace recorded one branch
    "fx 1, 1": True,
    "fx 1, 2": False,  # concrete_args specialised x
    "compile 1, 1": True,
    "compile 1, 2": True,
    "script 1, 1": True,
    "script 1, 2": True,
}
_FX_ERROR = ["TraceError", "symbolically traced variables cannot be used as inputs to control flow"]


def _check_compile_vs_trace(ours):
    assert ours.results == _TRACE_RESULTS and ours.fx_error == _FX_ERROR
    assert ours.tracer_warnings == ["TracerWarning", "TracerWarning"]
    assert ours.eval_gap < 1e-6 and ours.timings_positive
    assert close(ours.compiled_losses, ours.eager_losses, 1e-6, 1e-7)


def test_compile_vs_trace(programs):
    _check_compile_vs_trace(programs("compile_vs_trace"))  # trace, fx, script, compile


@pytest.mark.slow
def test_compile_vs_trace_with_pytorch(programs, monkeypatch):
    """PyTorch's side compiles with dynamo's eager backend: what the program checks of
    torch.compile (a guard failure recompiles, so both signs are right; compiled = eager) is
    dynamo's, and Inductor's code generation cost ~7 s more CPU (plus its compile workers')
    for numbers that only test PyTorch (``mode=`` picks Inductor's settings: dropped)."""
    ours = programs("compile_vs_trace")
    torch = pytest.importorskip("torch")
    inductor = torch.compile

    def eager_backend(model=None, **kwargs):
        kwargs.pop("mode", None)
        return inductor(model, backend="eager", **kwargs)

    monkeypatch.setattr(torch, "compile", eager_backend)
    theirs = programs("compile_vs_trace", torch=True)
    _check_compile_vs_trace(ours)
    _check_compile_vs_trace(theirs)
    assert close(ours.eager_losses, theirs.eager_losses, 1e-5, 1e-6)
    assert close(ours.eager_out.tolist(), theirs.eager_out.tolist(), 1e-5, 1e-6)
