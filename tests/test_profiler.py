"""minigrad.profiler (torch.profiler): events of ops, backward nodes and ranges; tables,
traces and schedules."""

import json

import pytest

import minigrad
from minigrad import nn
from minigrad.autograd import engine
from minigrad.ops import base
from minigrad.profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)


def _step(model, x):
    with record_function("forward_pass"):
        loss = model(x).relu().sum()
    loss.backward()


def _model():
    minigrad.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))


def test_ops_backward_nodes_and_ranges_are_events_with_self_times():
    model, x = _model(), minigrad.randn(5, 8)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        _step(model, x)
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["Linear"].count == 2 and rows["AddmmBackward0"].count == 2
    assert rows["Tanh"].count == 1 and rows["SumBackward0"].count == 1
    outer = rows["forward_pass"]
    inner = sum(rows[k].cpu_time_total for k in ("Linear", "Tanh", "ReLU", "Sum"))
    assert outer.cpu_time_total >= inner > 0
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - inner, abs=1e-6)
    shaped = {(r.key, str(r.input_shapes)) for r in prof.key_averages(group_by_input_shape=True)}
    assert ("Linear", str([[5, 8], [16, 8], [16]])) in shaped
    assert base.interposer is None and engine.node_hook is None  # nothing left installed


def test_table_sorts_limits_and_names_its_columns():
    model, x = _model(), minigrad.randn(5, 8)
    with profile() as prof:
        _step(model, x)
    averages = prof.key_averages()
    table = averages.table(sort_by="self_cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert "Self CPU %" in lines[1] and "# of Calls" in lines[1]
    assert len(lines) == 3 + 3 + 2 and lines[-1].startswith("Self CPU time total:")
    first = max(averages, key=lambda r: r.self_cpu_time_total).key
    assert lines[3].startswith(first)
    with pytest.raises(AttributeError, match="unknown sort_by"):
        averages.table(sort_by="no_such_column")


def test_profile_memory_counts_the_bytes_of_new_outputs():
    """profile_memory=True: each op's new arrays (float32 (5, 16) = 320 B for Linear), views
    of inputs count nothing, and a range holds its children's bytes in CPU Mem only."""
    model, x = _model(), minigrad.randn(5, 8)
    with profile(profile_memory=True) as prof:
        with record_function("outer"):
            y = model(x)
            y.view(20)
    rows = {r.key: r for r in prof.key_averages()}
    assert rows["Linear"].self_cpu_memory_usage == 320 + 80 and rows["Tanh"].cpu_memory_usage == 320
    view = [r for k, r in rows.items() if k not in ("Linear", "Tanh", "outer")]
    assert view and all(r.self_cpu_memory_usage == 0 for r in view)
    assert rows["outer"].self_cpu_memory_usage == 0 and rows["outer"].cpu_memory_usage == 720
    table = prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=2)
    lines = table.splitlines()
    assert "CPU Mem" in lines[1] and "Self CPU Mem" in lines[1]
    assert lines[3].startswith("Linear") and "400 B" in lines[3]
    with profile() as prof:  # without profile_memory: no memory columns, no counts
        model(x)
    assert "CPU Mem" not in prof.key_averages().table()
    assert all(r.cpu_memory_usage == 0 for r in prof.key_averages())


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    model, x = _model(), minigrad.randn(5, 8)
    with profile(on_trace_ready=tensorboard_trace_handler(str(tmp_path / "tb"), "w")) as prof:
        _step(model, x)
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    events = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert {e["ph"] for e in events} == {"X"} and all(e["dur"] >= 0 for e in events)
    assert "forward_pass" in {e["name"] for e in events}
    (written,) = (tmp_path / "tb").iterdir()
    assert written.name.startswith("w.") and written.name.endswith(".pt.trace.json")


def test_schedule_records_only_active_steps_and_hands_over_each_cycle():
    model, x = _model(), minigrad.randn(5, 8)
    traces = []
    plan = schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)

    def ready(p):
        traces.append(sum(r.count for r in p.key_averages() if r.key == "forward_pass"))

    with profile(schedule=plan, on_trace_ready=ready) as prof:
        for _ in range(12):
            _step(model, x)
            prof.step()
    assert traces == [2, 2]  # two cycles, each recording its two active steps
    assert [plan(i) for i in range(6)] == [
        ProfilerAction.NONE, ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
        ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE,
    ]  # fmt: skip
    torch = pytest.importorskip("torch")
    theirs = torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    assert [plan(i).name for i in range(20)] == [theirs(i).name for i in range(20)]


def test_record_function_outside_a_profile_and_as_decorator():
    @record_function("helper")
    def helper(t):
        return t * 2

    assert helper(minigrad.ones(2)).tolist() == [2.0, 2.0]  # no profile: nothing recorded
    with profile() as prof:
        helper(minigrad.ones(2))
    assert [r.key for r in prof.key_averages()] == ["Mul", "helper"]
    assert minigrad.profiler.profile is profile  # minigrad.profiler, as torch.profiler


def test_the_autograd_profiler_path_and_signature():
    import minigrad.autograd.profiler as legacy

    x = minigrad.randn(3, requires_grad=True)
    with legacy.profile(record_shapes=True) as prof:
        with legacy.record_function("scaled"):
            (x * 2).sum().backward()
    assert "scaled" in prof.table(sort_by="cpu_time_total") and prof.self_cpu_time_total > 0
    with legacy.profile(enabled=False) as off:
        (x * 2).sum()
    assert off is None and minigrad.autograd.profiler is legacy  # as PyTorch: None when off
