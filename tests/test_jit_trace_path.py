"""``jit.trace`` records the path taken for the example inputs, as PyTorch's: branches, loops
over sizes and dropout's training flag are frozen, tensor-to-Python conversions warn, and
``check_trace`` compares a second trace and the outputs."""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad import jit, nn

torch = pytest.importorskip("torch")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _t(x):
    return torch.tensor(np.asarray(x))


def _m(x):
    return minigrad.tensor(x.detach().numpy())


def _branchy(lib):
    class Branchy(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 3)

        def forward(self, x):
            y = self.fc(x) if x.sum() > 0 else -x  # a branch on a value
            for i in range(x.size(0)):  # a loop over a size
                y = y + i
            return y

    return Branchy()


def _same_weights(mine, theirs):
    with torch.no_grad():
        for (_, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters()):
            q.copy_(_t(p.detach()))


def test_the_branch_and_the_loop_are_frozen_as_in_pytorch():
    mine, theirs = _branchy(minigrad), _branchy(torch)
    _same_weights(mine, theirs)
    x = np.ones((2, 3), dtype=np.float32)
    with pytest.warns(jit.TracerWarning, match="Converting a tensor to a Python boolean"):
        traced = jit.trace(mine, minigrad.tensor(x))
    their_trace = _quiet(torch.jit.trace, theirs, _t(x), check_trace=False)  # (2 s the first time)
    other = -np.arange(12, dtype=np.float32).reshape(4, 3)  # the other branch, 4 rows
    got = traced(minigrad.tensor(other))
    np.testing.assert_allclose(got.detach().numpy(), their_trace(_t(other)).detach().numpy(),
                               rtol=1e-6)  # fmt: skip
    eager = mine(minigrad.tensor(other))  # the Python code takes the other branch
    assert not np.allclose(got.detach().numpy(), eager.detach().numpy())
    assert isinstance(traced, jit.TopLevelTracedModule) and "linear" in traced.code
    assert "sum" not in traced.code  # the predicate is not in the recording


def test_parameters_stay_shared_and_training_the_trace_trains_the_module():
    model = _branchy(minigrad)
    traced = _quiet(jit.trace, model, minigrad.ones(2, 3))
    assert traced.fc.weight is model.fc.weight
    before = model.fc.weight.detach().clone()
    opt = minigrad.optim.SGD(traced.parameters(), lr=0.1)
    traced(minigrad.ones(2, 3)).sum().backward()
    opt.step()
    assert not minigrad.equal(model.fc.weight, before)
    with minigrad.no_grad():
        model.fc.bias.fill_(5.0)  # the recording reads the live parameters
    assert traced(minigrad.ones(1, 3)).min().item() >= 4.0


def _dropper(lib):
    return lib.nn.Sequential(lib.nn.Linear(4, 64), lib.nn.Dropout(0.5))


def test_dropout_traced_in_training_stays_on_after_eval_as_in_pytorch():
    for lib in (minigrad, torch):
        model = _dropper(lib)
        with pytest.warns(Warning, match="does not match the corresponding output"):
            traced = (jit if lib is minigrad else torch.jit).trace(model, lib.ones(3, 4))
        traced.eval()
        out = traced(lib.ones(3, 4))
        assert (out == 0).sum().item() > 0  # training=True was baked in
        model.eval()
        quiet = _quiet((jit if lib is minigrad else torch.jit).trace, model, lib.ones(3, 4))
        assert (quiet(lib.ones(3, 4)) == 0).sum().item() == 0


def _conversions(x):
    n = float(x.sum()) + int(x[0]) + x.max().item() + x.tolist()[0] + len(x)
    total = 0
    for row in x:
        total = total + row
    return x * n + total


def test_the_conversions_warn_as_pytorchs_and_are_baked():
    caught = {}
    for lib, tracer in ((minigrad, jit), (torch, torch.jit)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            traced = tracer.trace(_conversions, lib.ones(3), check_trace=False)
        caught[lib] = sorted({str(w.message).split(" might")[0] for w in seen
                              if w.category.__name__ == "TracerWarning"})  # fmt: skip
        assert traced(lib.full((3,), 2.0)).tolist() == [24.0] * 3  # 2 * 9 baked + 2 + 2 + 2
    assert caught[minigrad] == caught[torch] and len(caught[minigrad]) == 6


def test_a_diverging_check_input_raises_as_pytorch():
    def f(x):
        return x * 2 if x.sum() > 0 else x - 1

    for tracer, error in ((jit, jit.TracingCheckError), (torch.jit, torch.jit.TracingCheckError)):
        with pytest.raises(error, match="Graphs differed across invocations"):
            _quiet(tracer.trace, f, (minigrad if tracer is jit else torch).ones(3),
                   check_inputs=[(-(minigrad if tracer is jit else torch).ones(3),)])  # fmt: skip
    traced = _quiet(jit.trace, f, minigrad.ones(3), check_inputs=[(minigrad.full((3,), 2.0),)])
    assert traced(-minigrad.ones(3)).tolist() == [-2.0] * 3  # the x * 2 path, frozen


def test_outputs_inputs_and_strict():
    with pytest.warns(jit.TracerWarning, match="list at the output"):
        out = jit.trace(lambda x: [x, x * 2], minigrad.ones(2))(minigrad.ones(2))
    assert isinstance(out, list) and out[1].tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="dict at the output"):
        jit.trace(lambda x: {"a": x}, minigrad.ones(2))
    assert jit.trace(lambda x: {"a": x + 1}, minigrad.ones(2), strict=False)(minigrad.zeros(2))[
        "a"
    ].tolist() == [1.0, 1.0]
    nested = jit.trace(lambda x: (x, (x * 2, x * 3)), minigrad.ones(1))(minigrad.ones(1))
    assert nested[1][1].tolist() == [3.0]
    with pytest.raises(RuntimeError, match="cannot be traced"):
        jit.trace(lambda x, n: x * n, (minigrad.ones(2), 3))
    with pytest.raises(RuntimeError, match="Only tensors"):
        jit.trace(lambda x: 3, minigrad.ones(2))
    pair = jit.trace(lambda xy: xy[0] + xy[1], ((minigrad.ones(2), minigrad.ones(2)),))
    assert pair((minigrad.ones(2), minigrad.zeros(2))).tolist() == [1.0, 1.0]
    kw = jit.trace(lambda x, y: x - y, example_kwarg_inputs={"x": minigrad.ones(1),
                                                             "y": minigrad.ones(1)})  # fmt: skip
    assert kw(x=minigrad.ones(1), y=minigrad.zeros(1)).tolist() == [1.0]


class _Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("calls", minigrad.zeros(()))
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        self.calls.add_(1)
        return self.fc(x) * minigrad.tensor(2.0)

    def encode(self, x):
        return x.relu()


def test_trace_module_in_place_updates_and_constants():
    model = _Counter()
    with pytest.warns(jit.TracerWarning, match="torch.tensor results are registered"):
        traced = jit.trace_module(
            model, {"forward": minigrad.ones(1, 2), "encode": minigrad.ones(2)}
        )
    calls = model.calls.item()  # (tracing and its check ran forward too, as PyTorch's)
    traced(minigrad.ones(1, 2))
    assert model.calls.item() == calls + 1  # the in-place update is in the recording
    assert traced.encode(-minigrad.ones(2)).tolist() == [0.0, 0.0]
    assert "relu" in type(traced)._recordings["encode"].code
    assert not jit.is_tracing()
    seen = []
    _quiet(jit.trace, lambda x: seen.append(jit.is_tracing()) or x, minigrad.ones(1))
    assert seen[0] is True


class _Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=True)
        self.norm = nn.LayerNorm(4)

    def forward(self, x):
        return self.norm(self.lstm(x)[0])


def test_a_layer_computing_outside_the_public_functions_is_called_whole():
    model = _Recurrent()
    traced = jit.trace(model, minigrad.randn(2, 5, 3))
    assert "self.lstm(" in traced.code and "layer_norm" in traced.code
    x = minigrad.randn(2, 5, 3)
    assert minigrad.allclose(traced(x), model(x), atol=1e-6)


def test_script_keeps_calling_python():
    model = _branchy(minigrad)
    scripted = jit.script(model)
    x = -minigrad.ones(1, 3)
    assert minigrad.equal(scripted(x), model(x))


def test_sizes_passed_to_ops_follow_the_input_as_in_pytorch():
    def flat(x):
        return x.view(x.size(0), -1)[:, : x.shape[1] // 2] * x.shape[2]

    got = jit.trace(flat, minigrad.ones(2, 3, 4))(minigrad.ones(5, 2, 4))
    want = _quiet(torch.jit.trace, flat, torch.ones(2, 3, 4), check_trace=False)(
        torch.ones(5, 2, 4)
    )
    assert tuple(got.shape) == tuple(want.shape) == (5, 1)
    assert got.tolist() == want.tolist()
    # while a loop over a size stays baked
    looped = jit.trace(lambda x: sum(x[i] for i in range(x.size(0))), minigrad.ones(2, 2))
    assert looped(minigrad.ones(4, 2)).tolist() == [2.0, 2.0]
