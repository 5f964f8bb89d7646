"""minigrad.fx against torch.fx: the same models traced by both give the same nodes (ops,
targets, names, argument structure) and the same generated code; GraphModules run and train
like the modules they come from."""

from __future__ import annotations

import copy
import math
from math import sqrt

import numpy as np
import pytest

import minigrad
import minigrad.fx as mfx
from minigrad import nn

try:
    import torch
    import torch.fx as tfx
except ImportError:  # the comparisons skip; the rest runs
    torch = tfx = None


def scale_by(x, k):
    """A leaf function: recorded as one call_function node by both libraries."""
    return x * k if k else x


mfx.wrap("scale_by")
if tfx is not None:
    tfx.wrap("scale_by")


def _models(lib):
    """The same model classes built on ``lib`` (minigrad or torch)."""
    lnn = lib.nn

    class MLP(lnn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lnn.Linear(4, 8)
            self.fc2 = lnn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu()).softmax(-1)

    class SmallCNN(lnn.Module):
        def __init__(self):
            super().__init__()
            self.features = lnn.Sequential(
                lnn.Conv2d(1, 4, 3, padding=1), lnn.BatchNorm2d(4), lnn.ReLU(), lnn.MaxPool2d(2)
            )
            self.head = lnn.Linear(4 * 4 * 4, 5)

        def forward(self, x):
            h = self.features(x)
            return self.head(h.view(h.size(0), -1))

    class Residual(lnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = lnn.Conv2d(3, 3, 3, padding=1, bias=False)
            self.bn1 = lnn.BatchNorm2d(3)
            self.conv2 = lnn.Conv2d(3, 3, 3, padding=1, bias=False)
            self.bn2 = lnn.BatchNorm2d(3)

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            out = self.bn2(self.conv2(out))
            out += x
            return out.relu()

    class Mixed(lnn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lnn.Linear(4, 4)
            self.scale = lnn.Parameter(lib.ones(4))
            self.register_buffer("offset", lib.zeros(4))

        def forward(self, x, y=None):
            h = self.fc(x) * self.scale + self.offset
            a, b = h.chunk(2, dim=1)
            n = x.shape[0]
            z = (a - b).reshape(n, -1).transpose(0, 1).T
            z = scale_by(z, 2) + self.fc.weight.sum() + self.scale[:2]
            return {"out": -(z.abs() ** 2) / 3, "shape": z.shape, "first": z[0, 1:]}

    return {"MLP": MLP, "SmallCNN": SmallCNN, "Residual": Residual, "Mixed": Mixed}


_INPUTS = {"MLP": (5, 4), "SmallCNN": (2, 1, 8, 8), "Residual": (2, 3, 4, 4), "Mixed": (3, 4)}


def _summary(graph, lib_name: str) -> list:
    """Each node as (op, target, name, args, kwargs) with library names made comparable."""

    def arg(a):
        if isinstance(a, (tuple, list)):
            return type(a)(arg(x) for x in a)
        if isinstance(a, dict):
            return {k: arg(v) for k, v in a.items()}
        if hasattr(a, "op") and hasattr(a, "users"):
            return ("node", a.name)
        return str(a).replace(lib_name, "LIB")

    rows = []
    for n in graph.nodes:
        target = str(n.target)
        if n.op == "call_function":
            mg = lib_name == "minigrad"
            target = n._pretty_target() if mg else tfx.node._get_qualified_name(n.target)
            target = target.replace("_operator.", "operator.").replace("builtins.", "")
        rows.append(
            (
                n.op,
                target.replace(lib_name, "LIB"),
                n.name,
                arg(n.args),
                arg(n.kwargs),
                len(n.users),
            )
        )
    return rows


def _copy_weights(tmod, mmod) -> None:
    targets = {**dict(mmod.named_parameters()), **dict(mmod.named_buffers())}
    with minigrad.no_grad():
        for name, value in tmod.state_dict().items():
            targets[name].copy_(minigrad.tensor(value.detach().numpy()))


@pytest.mark.parametrize("name", list(_INPUTS))
def test_graph_and_code_match_torch(name):
    pytest.importorskip("torch")
    mmod, tmod = _models(minigrad)[name](), _models(torch)[name]()
    mgm, tgm = mfx.symbolic_trace(mmod), tfx.symbolic_trace(tmod)
    assert _summary(mgm.graph, "minigrad") == _summary(tgm.graph, "torch")
    assert mgm.code.replace("minigrad", "torch") == tgm.code
    assert str(mgm.graph).replace("minigrad", "torch") == str(tgm.graph)
    assert type(mgm).__name__ == type(tgm).__name__ == name
    assert list(mgm.state_dict()) == list(tgm.state_dict())
    # same numbers with the same weights, in eval mode (batch-norm running statistics)
    _copy_weights(tmod, mmod)
    for m in (mmod, tmod, mgm, tgm):
        m.eval()
    x = np.random.default_rng(0).standard_normal(_INPUTS[name]).astype(np.float32)
    mx, tx = minigrad.tensor(x), torch.tensor(x)
    m_out, t_out = mgm(mx), tgm(tx)
    if isinstance(m_out, dict):
        assert tuple(m_out["shape"]) == tuple(t_out["shape"])
        m_out, t_out = m_out["out"], t_out["out"]
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(_INPUTS))
def test_traced_module_trains_like_original(name):
    model = _models(minigrad)[name]()
    gm = mfx.symbolic_trace(model)
    x = minigrad.randn(*_INPUTS[name])

    def loss_of(m):
        out = m(x)
        return (out["out"] if isinstance(out, dict) else out).square().sum()

    loss_of(model).backward()
    expected = {k: p.grad.clone() for k, p in model.named_parameters()}
    model.zero_grad()
    loss_of(gm).backward()
    for k, p in gm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), expected[k].numpy(), rtol=1e-5, atol=1e-6)
        assert p is model.get_parameter(k)  # shared with the root, not copied


class _Leaf(nn.Module):
    def forward(self, x):
        return x.abs() + 1


class _LeafTracer(mfx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, _Leaf) or super().is_leaf_module(m, qualname)


class _WithLeaf(nn.Module):
    def __init__(self):
        super().__init__()
        self.leaf = _Leaf()
        self.inner = nn.Sequential(nn.Linear(2, 2))

    def forward(self, x):
        return self.inner(self.leaf(x)) + self.leaf(x)


def test_custom_leaf_module_and_tracer_subclass():
    model = _WithLeaf()
    graph = _LeafTracer().trace(model)
    calls = [(n.op, n.target, n.name) for n in graph.nodes if n.op == "call_module"]
    assert calls == [
        ("call_module", "leaf", "leaf"),
        ("call_module", "inner.0", "inner_0"),
        ("call_module", "leaf", "leaf_1"),
    ]
    gm = mfx.GraphModule(model, graph)
    x = minigrad.randn(3, 2)
    np.testing.assert_allclose(gm(x).detach().numpy(), model(x).detach().numpy())
    # the default tracer goes into the custom module
    plain = mfx.symbolic_trace(model)
    assert [n.op for n in plain.graph.nodes].count("call_module") == 1


def test_control_flow_len_and_iteration_errors_as_torch():
    def branch(x):
        if x.sum() > 0:
            return x
        return -x

    def loop(x):
        return [v for v in x]

    def length(x):
        return len(x)

    with pytest.raises(mfx.TraceError, match="control flow"):
        mfx.symbolic_trace(branch)
    with pytest.raises(mfx.TraceError, match="cannot be iterated"):
        mfx.symbolic_trace(loop)
    with pytest.raises(RuntimeError, match="'len' is not supported"):
        mfx.symbolic_trace(length)
    assert issubclass(mfx.TraceError, ValueError)


def test_concrete_args_match_torch():
    pytest.importorskip("torch")

    def f_maker(lib):
        def f(x, flag, extra=None):
            if flag:
                x = x + 1
            if extra is not None:
                x = x * extra
            return x

        return f

    mgm = mfx.symbolic_trace(f_maker(minigrad), concrete_args={"flag": True, "extra": None})
    tgm = tfx.symbolic_trace(f_maker(torch), concrete_args={"flag": True, "extra": None})
    names = lambda g: [(n.op, n.name) for n in g.nodes]  # noqa: E731
    assert names(mgm.graph) == names(tgm.graph)
    x = minigrad.ones(2)
    np.testing.assert_allclose(mgm(x, True).numpy(), [2.0, 2.0])
    with pytest.raises(AssertionError, match="specialized"):
        mgm(x, False)
    with pytest.raises(AssertionError, match="specialized"):
        mgm(x, True, 3.0)


def test_graph_api_build_edit_and_codegen():
    g = mfx.Graph()
    x = g.placeholder("x")
    y = g.placeholder("y", default_value=2)
    add = g.call_function(minigrad.add, (x, y))
    relu = g.call_method("relu", (add,))
    out = g.output(relu)
    assert [n.name for n in g.nodes] == ["x", "y", "add", "relu", "output"]
    with pytest.raises(ValueError, match="unknown opcode 'call'"):
        g.create_node("call", "relu")
    assert add.users == {relu: None} and relu.all_input_nodes == [add]
    assert "%add : [num_users=1] = call_function[target=minigrad.add](args = (%x, %y)" in str(g)
    # insert before relu, rewire, erase
    with g.inserting_before(relu):
        neg = g.call_function(minigrad.neg, (add,))
    assert [n.name for n in g.nodes] == ["x", "y", "add", "neg", "relu", "output"]
    relu.replace_input_with(add, neg)
    assert set(add.users) == {neg}
    with pytest.raises(RuntimeError, match="still had 1 users"):
        g.erase_node(add)
    gm = mfx.GraphModule(nn.Module(), g)
    assert "neg = minigrad.neg(add);  add = None" in gm.code
    np.testing.assert_allclose(gm(minigrad.tensor([-3.0, 1.0])).numpy(), [1.0, 0.0])
    assert gm(minigrad.tensor([1.0]), 0.5).item() == 0.0
    # replace_all_uses_with + dead code elimination
    sig = g.call_method("sigmoid", (neg,))
    relu.prepend(sig)
    assert relu.replace_all_uses_with(sig) == [out]
    assert out.args == (sig,)
    assert g.eliminate_dead_code()
    assert [n.name for n in g.nodes] == ["x", "y", "add", "neg", "sigmoid", "output"]
    gm.recompile()
    assert gm(minigrad.tensor([0.0]), 0.0).item() == 0.5
    g.lint()


def test_graph_copy_deepcopy_and_node_copy():
    gm = mfx.symbolic_trace(_models(minigrad)["MLP"]())
    g2 = copy.deepcopy(gm.graph)
    assert str(g2) == str(gm.graph)
    assert all(a is not b for a, b in zip(g2.nodes, gm.graph.nodes))
    g3 = mfx.Graph()
    val_map = {}
    out = g3.graph_copy(gm.graph, val_map)
    g3.output(out)
    assert str(g3) == str(gm.graph) and len(val_map) == len(gm.graph.nodes) - 1
    gm2 = copy.deepcopy(gm)
    x = minigrad.randn(2, 4)
    np.testing.assert_allclose(gm2(x).detach().numpy(), gm(x).detach().numpy(), rtol=1e-6)
    assert gm2.fc1.weight is not gm.fc1.weight and type(gm2) is not type(gm)
    # editing the copy's graph leaves the original's forward alone
    (sm,) = [n for n in gm2.graph.nodes if n.target == "softmax"]
    sm.target = "log_softmax"
    gm2.recompile()
    assert "log_softmax" in gm2.code and "log_softmax" not in gm.code
    np.testing.assert_allclose(gm2(x).exp().detach().numpy(), gm(x).detach().numpy(), rtol=1e-5)


def test_lint_reports_use_before_definition_and_missing_targets():
    g = mfx.Graph()
    x = g.placeholder("x")
    a = g.call_method("relu", (x,))
    b = g.call_method("neg", (a,))
    g.output(b)
    b.append(a)  # a now comes after its user
    with pytest.raises(RuntimeError, match="used before defined"):
        g.lint()
    g2 = mfx.Graph()
    g2.output(g2.get_attr("missing"))
    gm = mfx.GraphModule({"missing": minigrad.ones(1)}, g2)
    gm.graph.lint()
    del gm.missing
    with pytest.raises(RuntimeError, match="nonexistent attribute missing"):
        gm.graph.lint()


def test_print_readable_and_tabular(capsys):
    gm = mfx.symbolic_trace(_models(minigrad)["MLP"]())
    text = gm.print_readable(print_output=False)
    assert text.startswith("class MLP(minigrad.nn.Module):\n    def forward(self, x):\n")
    gm.graph.print_tabular()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["opcode", "name", "target", "args", "kwargs"]
    assert lines[3].split()[:3] == ["call_module", "fc1", "fc1"]


def test_node_names_and_insertion_order_match_torch():
    pytest.importorskip("torch")
    targets = ["MyMod", "layers.0.conv", "ConvBN", "fc1", "add_1", "add", "2abc", "sum", "fooBar_3"]
    names = []
    for fx_lib in (mfx, tfx):
        g = fx_lib.Graph()
        x = g.placeholder("x")
        made = [g.create_node("call_module", t, (x,)).name for t in targets]
        with g.inserting_after(x):
            g.call_method("a", (x,))
            g.call_method("b", (x,))
        with g.inserting_before(None):
            g.call_method("first", ())
        names.append((made, [n.name for n in g.nodes]))
    assert names[0] == names[1]


def test_autowrapped_math_matches_torch():
    pytest.importorskip("torch")

    def f(x):
        return sqrt(x) + x.size(0)

    m_code, t_code = mfx.symbolic_trace(f).code, tfx.symbolic_trace(f).code
    assert m_code.replace("minigrad", "torch") == t_code
    assert sqrt is math.sqrt  # the globals are put back after tracing
    gm = mfx.symbolic_trace(f)
    assert gm(minigrad.tensor([4.0])) == 3.0
    assert mfx.symbolic_trace(gm).code == gm.code  # re-tracing keeps the leaf


def test_torch_function_protocol_records_calls():
    """Proxy.__torch_function__ as minigrad's dispatch calls it: functions become
    call_function nodes (nested lists of proxies included), Tensor methods call_method ones."""

    def f(x):
        P = type(x)
        cat = P.__torch_function__(minigrad.cat, (P,), ([x, x],), {"dim": 0})
        add = P.__torch_function__(minigrad.Tensor.__add__, (P,), (cat, 1))
        return P.__torch_function__(minigrad.nn.functional.relu, (P,), (add,), {})

    gm = mfx.symbolic_trace(f)
    rows = [(n.op, n.name, n._pretty_target()) for n in gm.graph.nodes]
    assert rows[1:4] == [
        ("call_function", "cat", "minigrad.cat"),
        ("call_method", "add", "add"),
        ("call_function", "relu", "minigrad.nn.functional.relu"),
    ]
    assert "cat = minigrad.cat([x, x], dim = 0);  x = None" in gm.code
    assert gm(minigrad.tensor([-1.0, 2.0])).tolist() == [0.0, 3.0, 0.0, 3.0]


def test_pickle_round_trip_and_dead_code_keeps_effects():
    import pickle

    gm = mfx.symbolic_trace(_models(minigrad)["Mixed"]())
    again = pickle.loads(pickle.dumps(gm))
    assert again.code == gm.code and type(again).__name__ == "Mixed"
    x = minigrad.randn(3, 4)
    np.testing.assert_allclose(again(x)["out"].detach().numpy(), gm(x)["out"].detach().numpy())
    g = mfx.Graph()
    x = g.placeholder("x")
    g.call_method("add_", (x, 1))  # in place: kept
    g.call_function(minigrad.randn, (3,))  # advances the generator: kept, as torch.fx
    g.call_method("exp", (x,))  # unused and pure: erased
    g.output(x)
    assert g.eliminate_dead_code()
    assert [n.name for n in g.nodes] == ["x", "add_", "randn", "output"]
    assert not g.eliminate_dead_code()


_ANNOTATED = """
class Annotated(lib.nn.Module):
    def forward(self, x: lib.Tensor, k: int = 2, y: typing.Optional[lib.Tensor] = None) -> lib.Tensor:
        return x * k

def quoted(x: 'lib.Tensor', n: typing.List[int]):
    return x
"""


def test_annotations_in_graph_and_code_match_torch():
    pytest.importorskip("torch")
    import typing

    results = []
    for lib in (minigrad, torch):
        scope = {"lib": lib, "typing": typing}
        exec(_ANNOTATED, scope)
        fx_lib = mfx if lib is minigrad else tfx
        for root in (scope["Annotated"](), scope["quoted"]):
            gm = fx_lib.symbolic_trace(root)
            text = gm.code + str(gm.graph)
            results.append(
                text.replace("minigrad.tensor.Tensor", "lib.Tensor").replace(lib.__name__, "lib")
            )
    assert results[:2] == results[2:]


def test_record_stack_traces_points_at_the_traced_line():
    def f(x):
        return x.relu() + 1

    tracer = mfx.Tracer()
    tracer.record_stack_traces = True
    graph = tracer.trace(f)
    (relu,) = graph.find_nodes(op="call_method", target="relu")
    assert relu.stack_trace.startswith('File "') and relu.stack_trace.endswith("x.relu() + 1")
    readable = mfx.GraphModule(nn.Module(), graph).print_readable(print_output=False)
    assert ", line " not in readable and "in f, code: return x.relu() + 1" in readable
    assert mfx.symbolic_trace(f).graph.find_nodes(op="call_method")[0].stack_trace is None


def test_varargs_and_varkwargs_match_torch():
    pytest.importorskip("torch")

    def f(x, *args):
        return x + args[0]

    def g(x, **kw):
        return x * kw["a"]

    for fn in (f, g):
        mgm, tgm = mfx.symbolic_trace(fn), tfx.symbolic_trace(fn)
        assert mgm.code == tgm.code and str(mgm.graph) == str(tgm.graph)
    two = minigrad.tensor([2.0])
    assert mfx.symbolic_trace(f)(two, two).item() == 4.0
    assert mfx.symbolic_trace(g)(two, a=two).item() == 4.0


def test_fx_reachable_from_the_top_level():
    # minigrad.fx without an import of it: minigrad's module __getattr__ loads it
    assert minigrad.__getattr__("fx") is mfx


@pytest.mark.parametrize("name", ["SmallCNN", "Mixed"])
def test_to_folder_writes_an_importable_module(name, tmp_path, monkeypatch):
    import importlib

    model = _models(minigrad)[name]()
    model.eval()
    gm = mfx.symbolic_trace(model)
    gm.to_folder(tmp_path / f"fx_saved_{name}", f"Saved{name}")
    monkeypatch.syspath_prepend(str(tmp_path))
    rebuilt = getattr(importlib.import_module(f"fx_saved_{name}"), f"Saved{name}")()
    rebuilt.eval()
    assert list(rebuilt.state_dict()) == list(gm.state_dict())
    x = minigrad.randn(*_INPUTS[name])
    out, expected = rebuilt(x), gm(x)
    if isinstance(out, dict):
        out, expected = out["out"], expected["out"]
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)


def test_to_folder_refuses_custom_submodules(tmp_path):
    model = _WithLeaf()
    gm = mfx.GraphModule(model, _LeafTracer().trace(model))
    with pytest.raises(NotImplementedError, match="submodule leaf"):
        gm.to_folder(tmp_path / "custom")


def _nested_readable(lib, fx_lib) -> str:
    class Outer(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = fx_lib.symbolic_trace(lambda x: x.relu())
            self.fc = lib.nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(self.inner(x))

    class KeepGraphModules(fx_lib.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, fx_lib.GraphModule) or super().is_leaf_module(m, qualname)

    model = Outer()
    gm = fx_lib.GraphModule(model, KeepGraphModules().trace(model), "Outer")
    return gm.print_readable(print_output=False).replace(lib.__name__, "lib")


def test_print_readable_nests_graph_modules_as_torch():
    pytest.importorskip("torch")
    assert _nested_readable(minigrad, mfx) == _nested_readable(torch, tfx)
