"""A traced module as PyTorch's: its own ``training`` flags (the trace freezes the mode it was
taken in; ``traced.eval()`` and ``model.eval()`` do not reach each other), shared parameters
and buffers, and ``jit.save``/``jit.load`` of the recording, loadable in a process that does not
have the model's class."""

import io
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import jit

torch = pytest.importorskip("torch")


def _jit(lib):
    return jit if lib is minigrad else torch.jit


def _net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.bn = nn.BatchNorm1d(4)
            self.drop = nn.Dropout(0.5)
            self.seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
            self.register_buffer("shift", lib.full((4,), 0.5), persistent=False)
            self.head = nn.Linear(4, 3)
            self.seq[0].weight = self.fc.weight  # tied

        def forward(self, x):
            return self.head(self.seq(self.drop(self.bn(self.fc(x)))) + self.shift)

    return Net()


def _same_weights(mine, theirs):
    with torch.no_grad():
        for (_, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))


def _trace(lib, model, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _jit(lib).trace(model, x, check_trace=False)


def _flags(module):
    return [(name, m.training) for name, m in module.named_modules()]


def test_the_flags_of_the_trace_and_the_model_are_their_own_as_in_pytorch():
    seen = {}
    for lib in (minigrad, torch):
        m = _net(lib)
        t = _trace(lib, m, lib.randn(8, 4))
        steps = []
        for step in ("t.eval()", "m.eval()", "m.train()", "t.train()", "t.fc.eval()",
                     "t.seq.eval()", "m.seq.eval()", "t.train(False)"):  # fmt: skip
            eval(step, {"t": t, "m": m})
            steps.append((step, _flags(m), _flags(t)))
        seen[lib] = steps
        assert t.fc is not m.fc and t.fc.weight is m.fc.weight
        assert t.bn.running_mean is m.bn.running_mean
    assert seen[minigrad] == seen[torch]


@pytest.mark.parametrize("traced_in", ["train", "eval"])
def test_batch_norm_keeps_the_mode_it_was_traced_in_as_pytorch(traced_in):
    rng = np.random.default_rng(1)
    x, later = (rng.standard_normal((8, 4)).astype(np.float32) for _ in range(2))
    mine, theirs = _net(minigrad), _net(torch)
    _same_weights(mine, theirs)
    outs = {}
    for lib, model in ((minigrad, mine), (torch, theirs)):
        model.drop.p = 0.0
        getattr(model, traced_in)()
        t = _trace(lib, model, lib.tensor(x))
        t.train(traced_in == "eval")  # flipped: the recording keeps the traced mode
        y = t(lib.tensor(later)).detach().numpy()
        outs[lib] = [y, model.bn.running_mean.detach().numpy(), model.bn.num_batches_tracked]
    for a, b in zip(outs[minigrad], outs[torch]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    moved = bool(outs[minigrad][1].any())
    assert moved == (traced_in == "train")  # batch statistics and updates only as traced


def test_a_layer_called_whole_runs_in_the_traced_mode():
    class Rec(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = minigrad.nn.LSTM(3, 3, num_layers=2, dropout=0.9, batch_first=True)

        def forward(self, x):
            return self.lstm(x)[0]

    model = Rec().eval()
    x = minigrad.randn(2, 5, 3)
    traced = jit.trace(model, x)
    assert "self.lstm(" in traced.code
    traced.train()
    assert minigrad.equal(traced(x), model(x))  # no dropout: traced in eval mode
    assert traced.lstm.training and not model.lstm.training  # the flags are left as set


def test_to_converts_shared_parameters_and_the_traces_buffers_as_pytorch():
    for lib in (minigrad, torch):
        m = _net(lib)
        t = _trace(lib, m, lib.randn(8, 4))
        t.to(lib.float64)
        assert m.fc.weight.dtype == t.fc.weight.dtype == lib.float64
        assert (m.bn.running_mean.dtype, t.bn.running_mean.dtype) == (lib.float32, lib.float64)


def test_state_dict_keys_are_pytorchs():
    keys = {}
    for lib in (minigrad, torch):
        t = _trace(lib, _net(lib), lib.randn(8, 4))
        keys[lib] = (list(t.state_dict()), [n for n, _ in t.named_parameters()])
    assert keys[minigrad] == keys[torch]
    assert "shift" in keys[minigrad][0]  # TorchScript keeps non-persistent buffers


_DEPLOY = """
import sys

import numpy as np
import torch

extra = {"config.txt": ""}
model = torch.jit.load(sys.argv[1], _extra_files=extra)
x = torch.from_numpy(np.load(sys.argv[2]))
with torch.no_grad():
    y = model(x)
    model.train()
    y_train = model(x)  # the same: the trace froze eval mode
    model.to(torch.float64)
    y64 = model(x.double())
np.savez(
    sys.argv[3], y=y.numpy(), train=y_train.numpy(), y64=y64.numpy(),
    keys=np.array(list(model.state_dict())),
    names=np.array([n for n, _ in model.named_parameters()]),
    extra=np.frombuffer(extra["config.txt"], np.uint8),
    kind=np.array([type(model).__name__, model.original_name]),
)
"""


def test_a_saved_trace_loads_without_the_models_class(tmp_path):
    """A PyTorch deployment script, run with ``python -m minigrad.as_torch`` in a process
    that never sees the model's class."""
    model = _net(minigrad).eval()
    x = minigrad.randn(5, 4)
    traced = jit.trace(model, x)
    path = tmp_path / "traced.pt"
    jit.save(traced, path, _extra_files={"config.txt": "lr=1"})
    assert minigrad.load(path, weights_only=True)["minigrad.jit"] == 2  # only minigrad's types
    np.save(tmp_path / "x.npy", x.numpy())
    (tmp_path / "deploy.py").write_text(_DEPLOY)
    repo = os.path.dirname(os.path.dirname(minigrad.__file__))
    env = {**os.environ, "PYTHONPATH": repo}
    args = [str(tmp_path / n) for n in ("deploy.py", "traced.pt", "x.npy", "out.npz")]
    run = subprocess.run([sys.executable, "-m", "minigrad.as_torch", *args], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    got = np.load(tmp_path / "out.npz")
    expected = model(x).detach().numpy()
    np.testing.assert_array_equal(got["y"], expected)
    np.testing.assert_array_equal(got["train"], expected)
    np.testing.assert_allclose(got["y64"], expected, rtol=1e-5, atol=1e-6)
    assert got["keys"].tolist() == list(traced.state_dict())
    assert got["names"].tolist() == [n for n, _ in traced.named_parameters()]
    assert got["extra"].tobytes() == b"lr=1"
    assert got["kind"].tolist() == ["RecursiveScriptModule", "Net"]


def _round_trip(traced):
    buffer = io.BytesIO()
    jit.save(traced, buffer)
    buffer.seek(0)
    return jit.load(buffer)


def test_the_loaded_module_as_pytorchs():
    model = _net(minigrad)
    x = minigrad.randn(6, 4)
    traced = _trace(minigrad, model, x)
    loaded = _round_trip(traced)
    theirs = _round_trip_torch(_trace(torch, _net(torch), torch.randn(6, 4)))
    assert _flags(loaded) == _flags(theirs)
    kinds = [type(m).__name__ for m in loaded.modules()]
    assert kinds == [type(m).__name__ for m in theirs.modules()]
    assert list(loaded.state_dict()) == list(theirs.state_dict())
    assert getattr(loaded.seq, "0").weight is loaded.fc.weight  # still tied (no [0], as PyTorch)
    assert loaded.code == traced.code and "linear" in loaded.code
    loaded.eval()  # the recording keeps dropout on and batch statistics, as PyTorch's
    assert not minigrad.equal(loaded(x), loaded(x))
    loaded.load_state_dict(traced.state_dict())
    assert [p.requires_grad for p in loaded.parameters()] == [True] * 7  # (one tied)
    loaded(x).sum().backward()
    assert loaded.head.weight.grad is not None
    y = minigrad.randn(2, 4)  # minigrad's layers and containers stay callable, as PyTorch's
    assert minigrad.equal(loaded.seq(y), model.seq(y)) and loaded.fc.original_name == "Linear"
    again = _round_trip(loaded)  # a loaded trace saves again
    assert again.code == loaded.code and list(again.state_dict()) == list(loaded.state_dict())


def _round_trip_torch(traced):
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    buffer.seek(0)
    return torch.jit.load(buffer)


def test_layers_called_whole_are_saved_as_layers():
    class Rec(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = minigrad.nn.LSTM(3, 4, num_layers=2, dropout=0.5, batch_first=True)
            self.norm = minigrad.nn.LayerNorm(4)

        def forward(self, x):
            return self.norm(self.lstm(x)[0])

    model = Rec().eval()
    x = minigrad.randn(2, 5, 3)
    loaded = _round_trip(jit.trace(model, x))
    assert isinstance(loaded.lstm, minigrad.nn.LSTM) and loaded.lstm.dropout == 0.5
    loaded.train()
    assert minigrad.equal(loaded(x), model(x))  # traced in eval mode: no dropout


def test_what_cannot_be_saved_raises_at_save_time():
    class Callback(minigrad.nn.Module):
        def forward(self, x):
            y = x.clone()
            y.apply_(lambda v: v * 2)  # a Python function in the recording
            return y

    class Array(minigrad.nn.Module):
        def forward(self, x):
            return x + np.ones(4, dtype=np.float32)  # a NumPy array baked in

    for module, what in ((Callback(), "type function"), (Array(), "constant of type ndarray")):
        traced = _trace(minigrad, module, minigrad.randn(2, 4))
        with pytest.raises(NotImplementedError, match=f"jit.save: cannot save .*{what}"):
            jit.save(traced, io.BytesIO())


def test_a_submodule_of_the_models_own_class_loads_with_its_state_only():
    class Block(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = minigrad.nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x).tanh()

    model = minigrad.nn.Sequential(Block(), minigrad.nn.ReLU())
    x = minigrad.randn(3, 2)
    traced = jit.trace(model, x)
    assert "self.fc(x)" in traced[0].code  # (a submodule's code calls its layers)
    loaded = _round_trip(traced)
    block = getattr(loaded, "0")  # (the top module is the recording: no [0], as PyTorch's)
    assert minigrad.equal(loaded(x), model(x)) and block.original_name == "Block"
    assert minigrad.equal(block.fc(x), model[0].fc(x))
    with pytest.raises(NotImplementedError, match="Block submodule was traced through"):
        block(x)


def _scaled(w):
    def fn(x, y):
        return x * w + y.relu()  # (w: a constant of the trace)

    return fn


def test_a_traced_function_saves_and_loads_as_pytorchs(tmp_path):
    seen = {}
    for lib in (minigrad, torch):
        fn = _scaled(lib.tensor([2.0, -1.0]))
        x, y = lib.randn(2), lib.randn(2)
        traced = _jit(lib).trace(fn, (x, y))
        path = str(tmp_path / f"{lib.__name__}.pt")
        traced.save(path)
        loaded = _jit(lib).load(path)
        assert bool((loaded(x, y) == fn(x, y)).all())
        seen[lib] = (type(loaded).__name__, loaded.original_name, list(loaded.state_dict()))
    assert seen[minigrad] == seen[torch]


@pytest.mark.parametrize(
    ("op", "field", "value"),
    [
        ("call_function", 2, "builtins.exec"),  # a function a trace does not call
        ("call_function", 2, "minigrad.load"),  # minigrad's, but not an op
        ("call_function", 2, "minigrad.__builtins__.exec"),  # a path into a dunder
        ("call_function", 2, "os.system"),  # a path outside minigrad
        ("call_function", 0, "x = __import__('os')"),  # code in a name
        ("call_method", 2, "__reduce_ex__"),  # not an op of Tensor
        ("call_method", 3, {"tuple": [{"node": 1}, {"dtype": "load"}]}),  # not a dtype
        ("get_attr", 2, "__class__"),  # not a saved tensor
        ("call_function", 4, {"dict": {"a=print(1),b": 1}}),  # code in a keyword
    ],
)
def test_loading_refuses_records_a_trace_does_not_make(op, field, value):
    class Net(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = minigrad.nn.Parameter(minigrad.ones(2))

        def forward(self, x):
            return minigrad.nn.functional.relu(x * self.scale).to(minigrad.float64)

    buffer = io.BytesIO()
    jit.save(jit.trace(Net(), minigrad.randn(2)), buffer)
    buffer.seek(0)
    payload = minigrad.load(buffer)
    meta = json.loads(payload["meta"])
    record = next(r for r in meta["methods"]["forward"]["records"] if r[1] == op)
    record[field] = value
    payload["meta"] = json.dumps(meta)
    edited = io.BytesIO()
    minigrad.save(payload, edited)
    edited.seek(0)
    with pytest.raises((RuntimeError, ValueError), match="corrupted|unknown dtype"):
        jit.load(edited)


def test_the_reprs_are_pytorchs():
    seen = {}
    for lib in (minigrad, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU())
        traced = _trace(lib, model, lib.ones(1, 2))
        buffer = io.BytesIO()
        _jit(lib).save(traced, buffer)
        buffer.seek(0)
        seen[lib] = (repr(traced), repr(_jit(lib).load(buffer)))
    assert seen[minigrad] == seen[torch]


def _hook_on(model) -> list:
    calls = []
    model.register_forward_pre_hook(lambda mod, args: calls.append("pre") or (args[0] + 1,))
    model.register_forward_hook(lambda mod, args, out: calls.append("post") or out * 10)
    return calls


def test_forward_hooks_are_baked_into_the_trace_as_pytorchs():
    seen = {}
    for lib in (minigrad, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2))
        calls = _hook_on(model)
        x = lib.ones(1, 2)
        traced = _jit(lib).trace(model, x)
        before = len(calls)
        out = traced(x)
        buffer = io.BytesIO()
        _jit(lib).save(traced, buffer)
        buffer.seek(0)
        loaded = _jit(lib).load(buffer)(x)
        expected = model(x)
        same = [bool((a - expected).abs().max() < 1e-6) for a in (out, loaded)]
        seen[lib] = (calls[before:-2], same)  # (the last two: the model's own call)
    assert seen[minigrad] == seen[torch] == ([], [True, True])
