"""minigrad.export: export, the graph signature, module(), save/load, refusals, and
comparisons with torch.export on an MLP, a CNN and a module with buffers."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.export import Dim, ExportedProgram, InputKind, OutputKind, export, load, save
from minigrad.fx import TraceError


def _scaled(lib=nn, zeros=mg.zeros, ones=mg.ones):
    """A Linear, a persistent buffer and a non-persistent one (in minigrad or torch)."""

    class Scaled(lib.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.Linear(4, 3)
            self.register_buffer("shift", zeros(3))
            self.register_buffer("scale", ones(3) * 2, persistent=False)

        def forward(self, x):
            return (self.fc(x) * self.scale + self.shift).relu()

    return Scaled()


def _mlp(lib=nn):
    return lib.Sequential(lib.Linear(4, 8), lib.Tanh(), lib.Linear(8, 2))


def _cnn(lib=nn):
    return lib.Sequential(
        lib.Conv2d(3, 4, 3), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(36, 2),
    ).eval()  # fmt: skip


def test_program_parts_and_module():
    m, x = _scaled(), mg.randn(2, 4)
    ep = export(m, (x,))
    assert isinstance(ep, ExportedProgram)
    sig = ep.graph_signature
    kinds = [(s.kind, s.arg.name, s.target, s.persistent) for s in sig.input_specs]
    assert kinds == [
        (InputKind.PARAMETER, "p_fc_weight", "fc.weight", None),
        (InputKind.PARAMETER, "p_fc_bias", "fc.bias", None),
        (InputKind.BUFFER, "b_shift", "shift", True),
        (InputKind.BUFFER, "b_scale", "scale", False),
        (InputKind.USER_INPUT, "x", None, None),
    ]
    assert sig.user_inputs == ("x",) and sig.user_outputs == ("relu",)
    assert [s.kind for s in sig.output_specs] == [OutputKind.USER_OUTPUT]
    assert sig.inputs_to_buffers == {"b_shift": "shift", "b_scale": "scale"}
    assert sig.non_persistent_buffers == ("scale",)
    assert set(ep.state_dict) == {"fc.weight", "fc.bias", "shift"}
    assert ep.graph is ep.graph_module.graph
    for inp in (x, 2 * x):  # another batch size needs a Dim (tests/test_programs9_fixes.py)
        np.testing.assert_allclose(
            ep.module()(inp).detach().numpy(), m(inp).detach().numpy(), rtol=1e-6
        )
    again = ep.run_decompositions()  # a new program; nothing to functionalize here
    assert again is not ep and again.graph_module.code == ep.graph_module.code
    assert str(again.graph_signature) == str(sig)
    text = str(ep)
    assert text.startswith("ExportedProgram:") and "b_scale: BUFFER target='scale'" in text
    with pytest.raises(RuntimeError, match="module()"):
        ep(x)


def test_arguments_and_dynamic_shapes():
    m, x = _mlp(), mg.randn(2, 4)
    batch = Dim("batch", min=1, max=64)
    ep = export(m, (x,), dynamic_shapes={"input": {0: batch}}, strict=True)
    assert ep.dynamic_shapes == {"input": {0: batch}} and ep.range_constraints == {}
    with pytest.raises(ValueError, match="not inputs of forward"):
        export(m, (x,), dynamic_shapes={"y": {0: batch}})
    with pytest.raises(ValueError, match="args must be a tuple"):
        export(m, x)
    with pytest.raises(TypeError, match="Module"):
        export(lambda t: t, (x,))
    with pytest.raises(ValueError, match="min"):
        Dim("b", min=5, max=2)


def test_data_dependent_control_flow():
    class Branch(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            return -x

    with pytest.raises(TraceError, match=r"data-dependent control flow at .*test_export.py"):
        export(Branch(), (mg.randn(3),))


@pytest.mark.parametrize("make", [_mlp, _cnn, _scaled])
def test_save_load(tmp_path, make):
    m = make()
    x = mg.randn(2, 3, 8, 8) if make is _cnn else mg.randn(2, 4)
    ep = export(m, (x,))
    save(ep, tmp_path / "m.mgexport")
    back = load(tmp_path / "m.mgexport")
    assert back.graph_module.code == ep.graph_module.code
    assert str(back.graph_signature) == str(ep.graph_signature)
    assert back.module().training == m.training
    np.testing.assert_allclose(back.module()(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)


def test_save_refuses_what_it_cannot_write(tmp_path):
    def local_fn(t):
        return t * 2

    ep = export(nn.Sequential(nn.Linear(2, 2)), (mg.randn(1, 2),))
    node = next(n for n in ep.graph.nodes if n.op == "call_function")  # F.linear
    with ep.graph.inserting_after(node):
        extra = ep.graph.call_function(local_fn, (node,))
    node.replace_all_uses_with(extra, delete_user_cb=lambda n: n is not extra)
    ep.graph_module.recompile()
    with pytest.raises(NotImplementedError, match="cannot be saved by name"):
        save(ep, tmp_path / "f.mgexport")
    with pytest.raises(ValueError, match="not a minigrad.export"):
        mg.save({"a": 1}, tmp_path / "other.pt")
        load(tmp_path / "other.pt")


def test_save_refuses_layers_not_rebuilt_from_repr(tmp_path):
    class MyReLU(nn.ReLU):  # a layer class outside minigrad.nn
        pass

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU()  # (a layer without tensors stays one call in the graph)

        def forward(self, x):
            return self.act(x)

    net = Net()
    ep = export(net, (mg.randn(1, 2),))
    ep.graph_module.act = MyReLU()
    with pytest.raises(NotImplementedError, match="submodule act"):
        save(ep, tmp_path / "f.mgexport")


torch = pytest.importorskip("torch")


def _to_torch(m, tm):
    state = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in m.state_dict().items()}
    tm.load_state_dict(state, strict=False)
    return tm


@pytest.mark.parametrize("name", ["mlp", "cnn", "buffers"])
def test_against_torch_export(name):
    if name == "buffers":
        m = _scaled()
        tm = _to_torch(m, _scaled(torch.nn, torch.zeros, torch.ones))
    else:
        make = _mlp if name == "mlp" else _cnn
        m, tm = make(), make(torch.nn)
        _to_torch(m, tm)
        tm.train(m.training)
    x = np.random.randn(2, 3, 8, 8) if name == "cnn" else np.random.randn(2, 4)
    x = x.astype(np.float32)
    ep = export(m, (mg.tensor(x),), dynamic_shapes=({0: Dim("batch")},))
    tdyn = ({0: torch.export.Dim("batch")},)
    tep = torch.export.export(tm, (torch.from_numpy(x),), dynamic_shapes=tdyn)
    specs = [(s.kind.name, s.arg.name, s.target) for s in ep.graph_signature.input_specs]
    tspecs = [(s.kind.name, s.arg.name, s.target) for s in tep.graph_signature.input_specs]
    assert specs[:-1] == tspecs[:-1] and specs[-1][0] == tspecs[-1][0] == "USER_INPUT"
    assert ep.graph_signature.parameters == tep.graph_signature.parameters
    assert ep.graph_signature.buffers == tep.graph_signature.buffers
    assert sorted(ep.state_dict) == sorted(tep.state_dict)
    kinds = [s.kind.name for s in ep.graph_signature.output_specs]
    assert kinds == [s.kind.name for s in tep.graph_signature.output_specs]
    for inp in (x, np.concatenate([x, x[:1]])):  # batch 2, then 3
        want = tep.module()(torch.from_numpy(inp)).detach().numpy()
        got = ep.module()(mg.tensor(inp)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def _exported_state_names(lib) -> list:
    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("b", lib.ones(2))  # registered before the layers
            self.fc, self.bn = lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2)

        def forward(self, x):
            return self.bn(self.fc(x).relu() + self.b)

    return list(lib.export.export(Model(), (lib.randn(4, 3),)).state_dict)


def test_state_dict_lists_parameters_then_buffers_as_pytorch():
    torch = pytest.importorskip("torch")
    assert _exported_state_names(mg) == _exported_state_names(torch)
