"""minigrad.fx's Interpreter, Transformer, ShapeProp, replace_pattern, split_module and
re-tracing, compared
with torch.fx where both have the feature."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from test_fx import _models

import minigrad
import minigrad.fx as mfx
from minigrad import nn
from minigrad.fx.passes.shape_prop import ShapeProp

try:
    import torch
    import torch.fx as tfx
    from torch.fx.passes.shape_prop import ShapeProp as TorchShapeProp
except ImportError:
    torch = tfx = None


def _net(lib):
    lnn = lib.nn

    class Net(lnn.Module):
        def __init__(self):
            super().__init__()
            self.conv = lnn.Conv2d(2, 3, 3)
            self.fc = lnn.Linear(12, 4)

        def forward(self, x, w):
            h = self.conv(x).relu().flatten(1)
            a = (h @ w).relu()
            b = (a.neg() @ w.t()).relu()
            return self.fc(b) + a.sum(-1, keepdim=True), a.shape

    return Net()


def _inputs(lib):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((12, 12)).astype(np.float32)
    return lib.tensor(x), lib.tensor(w)


def test_interpreter_runs_and_can_be_overridden():
    gm = mfx.symbolic_trace(_net(minigrad))
    x, w = _inputs(minigrad)
    expected = gm(x, w)[0]
    np.testing.assert_allclose(
        mfx.Interpreter(gm).run(x, w)[0].detach().numpy(), expected.detach().numpy()
    )

    class Recorder(mfx.Interpreter):
        def __init__(self, module):
            super().__init__(module)
            self.seen = []

        def call_module(self, target, args, kwargs):
            self.seen.append(target)
            return super().call_module(target, args, kwargs)

        def call_method(self, target, args, kwargs):
            if target == "relu":
                return args[0].sigmoid()
            return super().call_method(target, args, kwargs)

    rec = Recorder(gm)
    out = rec.run(x, w)[0]
    assert rec.seen == ["conv", "fc"]
    assert not np.allclose(out.detach().numpy(), expected.detach().numpy())
    # values are freed after their last use; the output's survive
    assert len(rec.env) < len(gm.graph.nodes) / 2
    with pytest.raises(RuntimeError, match="Expected positional argument for parameter w"):
        mfx.Interpreter(gm).run(x)
    # initial_env skips nodes with known values
    (conv,) = gm.graph.find_nodes(op="call_module", target="conv")
    forced = mfx.Interpreter(gm).run(x, w, initial_env={conv: minigrad.zeros(2, 3, 2, 2)})
    base = gm.fc(minigrad.zeros(2, 12))
    np.testing.assert_allclose(forced[0].detach().numpy(), base.detach().numpy(), rtol=1e-6)


def test_transformer_rewrites_into_a_new_graph_module():
    gm = mfx.symbolic_trace(_net(minigrad))

    class ReluToSigmoid(mfx.Transformer):
        def call_method(self, target, args, kwargs):
            return super().call_method("sigmoid" if target == "relu" else target, args, kwargs)

    new = ReluToSigmoid(gm).transform()
    assert [n.target for n in new.graph.nodes if n.op == "call_method"].count("relu") == 0
    assert [n.name for n in new.graph.nodes][:2] == ["x", "w"]
    x, w = _inputs(minigrad)
    expected = gm.fc((-((gm.conv(x).sigmoid().flatten(1) @ w).sigmoid()) @ w.t()).sigmoid())
    a = (gm.conv(x).sigmoid().flatten(1) @ w).sigmoid()
    expected = expected + a.sum(-1, keepdim=True)
    np.testing.assert_allclose(new(x, w)[0].detach().numpy(), expected.detach().numpy(), rtol=1e-5)
    assert new.conv is gm.conv


def test_shape_prop_matches_torch():
    pytest.importorskip("torch")
    mgm, tgm = mfx.symbolic_trace(_net(minigrad)), tfx.symbolic_trace(_net(torch))
    ShapeProp(mgm).propagate(*_inputs(minigrad))
    TorchShapeProp(tgm).propagate(*_inputs(torch))
    for mn, tn in zip(mgm.graph.nodes, tgm.graph.nodes):
        assert mn.name == tn.name
        tm, mm = tn.meta.get("tensor_meta"), mn.meta.get("tensor_meta")
        if isinstance(tm, tuple) and not hasattr(tm, "shape"):
            tm, mm = tm[0], mm[0]
        if tm is None:
            assert mm is None
            continue
        assert tuple(mm.shape) == tuple(tm.shape), mn.name
        assert str(mm.dtype).split(".")[-1] == str(tm.dtype).split(".")[-1]
        assert mm.requires_grad == tm.requires_grad and tuple(mm.stride) == tuple(tm.stride)


def _pattern(x, w):
    return (x @ w).relu()


def _replacement(x, w):
    return (x @ w).clamp(min=0)


def test_replace_pattern_matches_torch():
    pytest.importorskip("torch")
    mgm, tgm = mfx.symbolic_trace(_net(minigrad)), tfx.symbolic_trace(_net(torch))
    m_matches = mfx.replace_pattern(mgm, _pattern, _replacement)
    t_matches = tfx.replace_pattern(tgm, _pattern, _replacement)
    assert len(m_matches) == len(t_matches) == 2
    assert [m.anchor.name for m in m_matches] == [m.anchor.name for m in t_matches]

    def rows(g):
        return [
            (n.op, str(n.target) if n.op != "call_function" else n.target.__name__, n.name)
            for n in g.nodes
        ]

    assert rows(mgm.graph) == rows(tgm.graph)
    assert mgm.code.replace("minigrad", "torch") == tgm.code
    x, w = _inputs(minigrad)
    before = mfx.symbolic_trace(_net(minigrad))
    before.load_state_dict(mgm.state_dict())
    np.testing.assert_allclose(
        mgm(x, w)[0].detach().numpy(), before(x, w)[0].detach().numpy(), rtol=1e-6
    )


def test_replace_pattern_skips_matches_whose_inner_values_escape():
    def f(x, w):
        m = x @ w
        return m.relu() + m

    gm = mfx.symbolic_trace(f)
    assert mfx.replace_pattern(gm, _pattern, _replacement) == []
    with pytest.raises(ValueError, match="same inputs"):
        mfx.replace_pattern(gm, _pattern, lambda x: x)


def test_retracing_a_graph_module_gives_the_same_graph():
    gm = mfx.symbolic_trace(_net(minigrad))
    again = mfx.symbolic_trace(gm)
    assert str(again.graph) == str(gm.graph)
    assert again.code == gm.code


def test_graph_module_from_dict_root_and_submodule_surgery():
    g = mfx.Graph()
    x = g.placeholder("x")
    h = g.call_module("block.lin", (x,))
    g.output(g.call_function(minigrad.Tensor.__add__, (h, g.get_attr("bias"))))
    lin = nn.Linear(3, 3)
    gm = mfx.GraphModule({"block.lin": lin, "bias": minigrad.ones(3)}, g, "Built")
    assert type(gm).__name__ == "Built" and gm.block.lin is lin
    assert list(gm.state_dict()) == ["bias", "block.lin.weight", "block.lin.bias"]
    x0 = minigrad.randn(2, 3)
    np.testing.assert_allclose(gm(x0).detach().numpy(), (lin(x0) + 1).detach().numpy(), rtol=1e-6)
    assert gm.add_submodule("block.act", nn.Tanh())
    with gm.graph.inserting_after(h):
        act = gm.graph.call_module("block.act", (h,))
    h.replace_all_uses_with(act, delete_user_cb=lambda user: user is not act)
    gm.recompile()
    np.testing.assert_allclose(
        gm(x0).detach().numpy(), (lin(x0).tanh() + 1).detach().numpy(), rtol=1e-6
    )
    assert gm.delete_submodule("block.act") and not gm.delete_submodule("block.act")
    with pytest.raises(RuntimeError, match="referenced target missing"):
        mfx.GraphModule({}, _graph_with_attr("missing"))


def _graph_with_attr(name):
    g = mfx.Graph()
    g.output(g.get_attr(name))
    return g


def _fuse_conv_bn(gm):
    """The torch.fx tutorial's conv+batch-norm fusion, written against minigrad.fx."""
    modules = dict(gm.named_modules())
    for node in list(gm.graph.nodes):
        if node.op != "call_module" or not isinstance(modules[node.target], nn.BatchNorm2d):
            continue
        conv_node = node.args[0]
        if conv_node.op != "call_module" or not isinstance(modules[conv_node.target], nn.Conv2d):
            continue
        conv, bn = modules[conv_node.target], modules[node.target]
        scale = bn.weight / (bn.running_var + bn.eps).sqrt()
        with minigrad.no_grad():
            bias = conv.bias if conv.bias is not None else minigrad.zeros(conv.out_channels)
            fused = nn.Conv2d(
                conv.in_channels, conv.out_channels, conv.kernel_size, padding=conv.padding
            )
            fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
            fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
        parent, _, name = conv_node.target.rpartition(".")
        setattr(gm.get_submodule(parent), name, fused)
        node.replace_all_uses_with(conv_node)
        gm.graph.erase_node(node)
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return gm


def test_conv_bn_fusion_surgery_keeps_eval_results():
    for name, shape in (("SmallCNN", (2, 1, 8, 8)), ("Residual", (2, 3, 4, 4))):
        model = _models(minigrad)[name]()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                with minigrad.no_grad():
                    m.running_mean.copy_(minigrad.randn(m.num_features))
                    m.running_var.copy_(minigrad.rand(m.num_features) + 0.5)
                    m.weight.copy_(minigrad.randn(m.num_features))
        model.eval()
        fused = _fuse_conv_bn(mfx.symbolic_trace(model))
        assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
        assert "bn" not in fused.code
        x = minigrad.randn(*shape)
        np.testing.assert_allclose(
            fused(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-4, atol=1e-5
        )


def test_transformer_code_matches_torch():
    pytest.importorskip("torch")
    import operator

    codes = []
    for lib, fx_lib in ((minigrad, mfx), (torch, tfx)):

        class AddToMul(fx_lib.Transformer):
            def call_function(self, target, args, kwargs):
                target = operator.mul if target is operator.add else target
                return super().call_function(target, args, kwargs)

            def call_method(self, target, args, kwargs):
                return super().call_method("sigmoid" if target == "relu" else target, args, kwargs)

        new = AddToMul(fx_lib.symbolic_trace(_net(lib))).transform()
        codes.append(new.code.replace(lib.__name__, "lib"))
    assert codes[0] == codes[1]


def _two_out_pattern(x):
    a = x.relu()
    return a.neg(), a.exp()


def _two_out_replacement(x):
    a = x.sigmoid()
    return a.neg(), a.exp()


def test_replace_pattern_with_several_outputs_matches_torch():
    pytest.importorskip("torch")

    def f(x):
        y = (x * 2).relu()
        n = y.neg()
        e = y.exp()
        return n + e, n * 2, x.relu().neg()

    codes = []
    for fx_lib in (mfx, tfx):
        gm = fx_lib.symbolic_trace(f)
        matches = fx_lib.replace_pattern(gm, _two_out_pattern, _two_out_replacement)
        codes.append((len(matches), gm.code.replace("minigrad", "torch")))
        if fx_lib is mfx:
            x = minigrad.randn(3)
            s = (x * 2).sigmoid()
            np.testing.assert_allclose(gm(x)[0].numpy(), (-s + s.exp()).numpy(), rtol=1e-6)
    assert codes[0] == codes[1] and codes[0][0] == 1


def test_feature_extractor_pattern():
    """torchvision's create_feature_extractor recipe: a Tracer subclass tagging nodes with the
    module they came from, the graph's output swapped for inner nodes, dead code removed."""

    class NodePathTracer(mfx.Tracer):
        def __init__(self):
            super().__init__()
            self.current = ""
            self.qualnames = {}

        def call_module(self, m, forward, args, kwargs):
            outer, self.current = self.current, self.path_of_module(m)
            try:
                return super().call_module(m, forward, args, kwargs)
            finally:
                self.current = outer

        def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, *rest):
            proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, *rest)
            self.qualnames[proxy.node] = self.current
            return proxy

    model = _models(minigrad)["SmallCNN"]()
    model.eval()
    tracer = NodePathTracer()
    graph = tracer.trace(model)
    wanted = {"features.1": "bn", "features.3": "pooled"}
    picked = {
        wanted[tracer.qualnames[n]]: n for n in graph.nodes if tracer.qualnames.get(n) in wanted
    }
    (output,) = graph.find_nodes(op="output")
    output.args = (picked,)
    graph.eliminate_dead_code()
    extractor = mfx.GraphModule(model, graph, "Extractor")
    assert "head" not in extractor.code and not hasattr(extractor, "head")
    x = minigrad.randn(2, 1, 8, 8)
    feats = extractor(x)
    expected = model.features[3](model.features[2](feats["bn"]))
    assert feats["bn"].shape == (2, 4, 8, 8)
    np.testing.assert_allclose(feats["pooled"].detach().numpy(), expected.detach().numpy())


def test_graph_module_runs_on_each_device(device):
    model = _models(minigrad)["Residual"]().to(device)
    gm = mfx.symbolic_trace(model)
    x = minigrad.randn(2, 3, 4, 4, device=device)
    out = gm(x)
    assert out.device == x.device
    np.testing.assert_allclose(
        out.detach().cpu().numpy(), model(x).detach().cpu().numpy(), rtol=1e-5
    )
    ShapeProp(gm).propagate(x)
    (add,) = gm.graph.find_nodes(op="call_function")
    assert tuple(add.meta["tensor_meta"].shape) == (2, 3, 4, 4)


def _split_models(lib):
    class Chain(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(4, 4)
            self.b = lib.nn.Linear(4, 4)
            self.w = lib.nn.Parameter(lib.ones(4))

        def forward(self, x, y):
            h = self.a(x) + y
            z = h.relu() * self.w
            return self.b(z) + h

    class Branches(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.ReLU())
            self.w = lib.nn.Parameter(lib.ones(4))

        def forward(self, x):
            h = self.seq(x)
            a, b = h.chunk(2, -1)
            return a * self.w[:2] + b.exp(), b.exp(), h

    chain = {"a": 0, "add": 0, "relu": 1, "mul": 1, "b": 2, "add_1": 2}
    branches = {"seq_0": 0, "seq_1": 0, "chunk": 1, "getitem": 1, "getitem_1": 1}
    branches.update({"getitem_2": 2, "mul": 2, "exp": 1, "exp_1": 3, "add": 3})
    return [(Chain(), chain, 2), (Branches(), branches, 1)]


def _partition_of(parts: dict, node) -> int:
    return parts[node.name]


def test_split_module_matches_torch():
    pytest.importorskip("torch")
    from torch.fx.passes.split_module import split_module as torch_split

    from minigrad.fx.passes.split_module import split_module

    cases = zip(_split_models(minigrad), _split_models(torch))
    for (mmod, parts, n_inputs), (tmod, _, _) in cases:
        results = []
        for model, split, fx_lib in ((mmod, split_module, mfx), (tmod, torch_split, tfx)):
            qualnames = {}
            callback = functools.partial(_partition_of, parts)
            sm = split(fx_lib.symbolic_trace(model), model, callback, qualnames)
            subs = sorted(n for n, _ in sm.named_children())
            codes = [sm.code] + [getattr(sm, s).code for s in subs]
            results.append((codes, qualnames, list(sm.state_dict())))
            if fx_lib is mfx:
                inputs = [minigrad.randn(2, 4) for _ in range(n_inputs)]
                got, want = sm(*inputs), model(*inputs)
                for g, w in zip(
                    got if isinstance(got, tuple) else [got],
                    want if isinstance(want, tuple) else [want],
                ):
                    np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-6)
        assert results[0] == results[1]
