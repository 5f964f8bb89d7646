"""Tests of minigrad.viz: DOT structure, names, module boxes, depth, rendering and its errors."""

from __future__ import annotations

import re
import shutil
import time

import pytest

import minigrad
import minigrad.viz as viz

NODE = re.compile(r"^\s*(n\d+) \[", re.M)
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+)", re.M)
SAVED = re.compile(r"^\s*(s\d+) \[", re.M)


def nodes(dot: str) -> list:
    return NODE.findall(dot)


def edges(dot: str) -> list:
    return EDGE.findall(dot)


def label_of(dot: str, node_id: str) -> str:
    line = next(x for x in dot.splitlines() if x.strip().startswith(f"{node_id} ["))
    return re.sub(r"<[^>]+>", " ", line.split("label=", 1)[1].split("> ", 1)[0])


def titles(dot: str) -> list:
    """The bold title of every box, in order."""
    return re.findall(r"^\s*n\d+ \[label=<<B>([^<]*)</B>", dot, re.M)


# -- a stand-in for nn.Module with PyTorch's hook API (so these tests need no minigrad.nn) --------
class Handle:
    def __init__(self, hooks: dict, key: int):
        self.hooks, self.key = hooks, key

    def remove(self) -> None:
        self.hooks.pop(self.key, None)


class FakeModule:
    """Just enough of nn.Module: children, parameters, forward pre-hooks and forward hooks."""

    def __init__(self):
        self.children, self.params, self.pre_hooks, self.hooks = {}, {}, {}, {}
        self.next_key = 0

    def add(self, name: str, module: FakeModule) -> FakeModule:
        self.children[name] = module
        return module

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self.children.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self):
        for prefix, module in self.named_modules():
            for name, p in module.params.items():
                yield (f"{prefix}.{name}" if prefix else name), p

    def _hook(self, table: dict, hook) -> Handle:
        self.next_key += 1
        table[self.next_key] = hook
        return Handle(table, self.next_key)

    def register_forward_pre_hook(self, hook) -> Handle:
        return self._hook(self.pre_hooks, hook)

    def register_forward_hook(self, hook) -> Handle:
        return self._hook(self.hooks, hook)

    def __call__(self, *args):
        for hook in list(self.pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args)
        for hook in list(self.hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out


class Linear(FakeModule):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.params["weight"] = (minigrad.randn(n_out, n_in) * n_in**-0.5).requires_grad_()
        self.params["bias"] = minigrad.zeros(n_out, requires_grad=True)

    def forward(self, x):
        return x @ self.params["weight"].t() + self.params["bias"]


class ReLU(FakeModule):
    def forward(self, x):
        return x.relu()


class Sequential(FakeModule):
    def __init__(self, **modules):
        super().__init__()
        for name, m in modules.items():
            self.add(name, m)

    def forward(self, x):
        for m in self.children.values():
            x = m(x)
        return x


class Block(FakeModule):
    """A residual block: x + mlp(x), with nested children."""

    def __init__(self, n: int):
        super().__init__()
        self.mlp = self.add("mlp", Sequential(fc=Linear(n, n), act=ReLU()))

    def forward(self, x):
        return x + self.mlp(x)


class Net(FakeModule):
    def __init__(self, n: int = 4, blocks: int = 2):
        super().__init__()
        self.blocks = [self.add(f"block{i}", Block(n)) for i in range(blocks)]
        self.head = self.add("head", Linear(n, 1))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def mlp_step():
    minigrad.manual_seed(0)
    model = Sequential(fc1=Linear(3, 5), act=ReLU(), fc2=Linear(5, 2))
    x, y = minigrad.randn(4, 3), minigrad.randn(4, 2)
    with viz.trace_modules(model) as trace:
        loss = ((model(x) - y) ** 2).mean()
    return model, trace, loss


# -- structure ------------------------------------------------------------------------------------
def test_counts_match_the_expression():
    a, b, c = (minigrad.randn(3, requires_grad=True) for _ in range(3))
    dot = viz.to_dot((a * b + c).sum())
    # 3 ops (Mul, Add, Sum) + 3 leaves + 1 output; one edge per op input, one into the output
    assert len(nodes(dot)) == 7
    assert len(edges(dot)) == 6
    assert sorted(titles(dot)) == [
        "AddBackward0",
        "MulBackward0",
        "SumBackward0",
        "output",
        "tensor",
        "tensor",
        "tensor",
    ]
    assert dot.startswith("digraph minigrad {\n") and dot.endswith("}\n")


def test_an_input_used_twice_gives_two_edges():
    x = minigrad.randn(3, requires_grad=True)
    dot = viz.to_dot((x * x).sum(), params={"x": x})
    assert len(nodes(dot)) == 4 and len(edges(dot)) == 4
    assert titles(dot).count("x") == 1


def test_names_shapes_and_dtypes():
    w = minigrad.randn(2, 3, dtype=minigrad.float64, requires_grad=True)
    x = minigrad.randn(5, 3, dtype=minigrad.float64)
    dot = viz.to_dot((x @ w.t()).relu().sum(), params={"fc.weight": w})
    assert "fc.weight" in titles(dot)
    assert "(2, 3) float64" in dot and "(5, 2) float64" in dot
    assert {"MmBackward0", "ReluBackward0", "SumBackward0"} <= set(titles(dot))
    assert "float64" not in viz.to_dot((x @ w.t()).sum(), show_shapes=False)


def test_params_from_an_object_with_named_parameters():
    model, _, loss = mlp_step()
    dot = viz.to_dot(loss, params=model)
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        assert name in titles(dot)


def test_output_is_deterministic():
    def build():
        minigrad.manual_seed(1)
        return mlp_step()

    one, two = build(), build()
    assert viz.to_dot(one[2], module=one[1]) == viz.to_dot(two[2], module=two[1])


def test_tensor_without_graph_is_one_node():
    dot = viz.to_dot(minigrad.zeros(2, 3))
    assert len(nodes(dot)) == 1 and not edges(dot)
    assert "no graph" in dot
    leaf = minigrad.zeros(2, requires_grad=True)
    dot = viz.to_dot(leaf, params={"w": leaf})
    assert len(nodes(dot)) == 1 and titles(dot) == ["w"]


def test_several_outputs_share_their_graph():
    x = minigrad.randn(3, requires_grad=True)
    h = x.exp()
    dot = viz.to_dot(h.sum(), h.mean(), params={"x": x})
    assert titles(dot).count("ExpBackward0") == 1
    assert {"output 0", "output 1"} <= set(titles(dot))
    assert viz.to_dot([h.sum(), h.mean()]) == viz.to_dot(h.sum(), h.mean())


def test_grad_norm_after_backward_and_heat_legend():
    model, _, loss = mlp_step()
    assert "grad norm" not in viz.to_dot(loss, params=model)
    assert "no .grad yet" in viz.to_dot(loss, params=model, grad_heat=True)
    loss.backward()
    norm = float(model.children["fc1"].params["weight"].grad.norm())
    dot = viz.to_dot(loss, params=model, grad_heat=True)
    assert f"grad norm {norm:.2e}" in dot
    assert "gradient norm (log scale)" in dot and "legend [" in dot
    fills = set(re.findall(r'fillcolor="(#[0-9a-f]{6})"', dot))
    assert len(fills) >= 4  # parameter boxes get colours of their own


def test_nonfinite_and_zero_grads_are_flagged():
    w = minigrad.ones(2, requires_grad=True)
    z = minigrad.ones(2, requires_grad=True)
    (w * float("inf") + z * 0).sum().backward()
    dot = viz.to_dot((w + z).sum(), params={"w": w, "z": z}, grad_heat=True)
    assert "nan/inf" in dot and ">0<" in dot


def test_saved_tensors_and_freed_graph():
    a = minigrad.randn(3, requires_grad=True)
    b = minigrad.randn(3, requires_grad=True)
    y = (a * b).tanh().sum()
    dot = viz.to_dot(y, params={"a": a, "b": b}, show_saved=True)
    saved = SAVED.findall(dot)
    assert len(saved) == 3  # Mul keeps a and b, Tanh its output
    assert "saved a" in dot and "saved output" in dot
    assert len(nodes(dot)) == len(nodes(viz.to_dot(y)))  # saved boxes are extra
    y.backward()
    dot = viz.to_dot(y, show_saved=True)
    assert not SAVED.findall(dot) and dot.count("saved: freed") == 2


def test_saved_tensor_changed_in_place_is_flagged():
    a = minigrad.randn(3, requires_grad=True)
    h = a * 2
    y = (h * h).sum()
    with minigrad.no_grad():
        h.add_(1)
    assert "changed in place" in viz.to_dot(y, show_saved=True)


def test_second_order_graph():
    x = minigrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    (g,) = minigrad.autograd.grad(y, x, create_graph=True)
    dot = viz.to_dot(y, g, params={"x": x, "y": y, "dy/dx": g}, show_saved=True)
    assert {"y", "dy/dx", "x"} <= set(titles(dot))
    assert titles(dot).count("x") == 1  # one box for x, shared by both graphs
    assert len(nodes(dot)) > len(nodes(viz.to_dot(y)))
    (g * g).sum().backward()
    assert "grad norm" in viz.to_dot(g, params={"x": x})


def test_custom_function_with_two_outputs():
    class Two(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2, (x * 3).sum()

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    x = minigrad.randn(3, requires_grad=True)
    a, b = Two.apply(x)
    dot = viz.to_dot(a.sum() + b, show_saved=True)
    assert "TwoBackward" in titles(dot)
    assert "0: (3,) float32" in dot and "1: () float32" in dot
    assert '[label="0"' in dot and '[label="1"' in dot  # which output each edge carries


def test_long_chain_is_walked_without_recursion():
    x = minigrad.randn(4, requires_grad=True)
    h = x
    for _ in range(5000):
        h = h * 1.0
    start = time.perf_counter()
    dot = viz.to_dot(h.sum())
    took = time.perf_counter() - start
    print(f"to_dot of a 5,001-op chain: {took * 1000:.0f} ms")
    assert len(nodes(dot)) == 5001 + 1 + 1 and len(edges(dot)) == 5001 + 1
    assert took < 10  # a sanity bound only; the DOT takes well under a second


# -- module boxes ---------------------------------------------------------------------------------
def clusters(dot: str) -> list:
    """``(depth, title)`` of each cluster, depth from its indentation."""
    out = []
    for match in re.finditer(r"^(\t+)subgraph cluster_\d+ \{\n\t+graph \[label=<<B>([^<]*)", dot,
                             re.M):  # fmt: skip
        out.append((len(match.group(1)) - 1, match.group(2)))
    return out


def test_ops_sit_in_the_box_of_their_module():
    _, trace, loss = mlp_step()
    dot = viz.to_dot(loss, module=trace)
    assert clusters(dot) == [(0, "Sequential"), (1, "fc1"), (1, "act"), (1, "fc2")]
    assert trace.modules["fc1"] == "Linear"
    body = dot.split("subgraph cluster_1 {", 1)[1].split("}", 1)[0]
    assert {"MmBackward0", "AddBackward0", "fc1.weight", "fc1.bias"} <= set(
        re.findall(r"<B>([^<]*)</B>", body)
    )
    # the loss (Sub, Pow, Mean) is outside every box: after the clusters close
    tail = dot.rsplit("\t}\n", 1)[1]
    assert "<B>PowBackward0</B>" in tail and "<B>output</B>" in tail


def test_boxes_nest_as_modules_do():
    minigrad.manual_seed(0)
    net = Net()
    with viz.trace_modules(net) as trace:
        out = net(minigrad.randn(2, 4)).sum()
    dot = viz.to_dot(out, module=trace)
    assert clusters(dot) == [
        (0, "Net"), (1, "block0"), (2, "mlp"), (3, "fc"), (3, "act"),
        (1, "block1"), (2, "mlp"), (3, "fc"), (3, "act"), (1, "head"),
    ]  # fmt: skip
    # the residual Add belongs to the block, not to its mlp
    block0 = dot.split("<B>block0</B>", 1)[1].split("<B>mlp</B>", 1)[0]
    assert "<B>AddBackward0</B>" in block0


def test_hooks_are_removed_after_the_trace():
    model, _, _ = mlp_step()
    assert all(not m.pre_hooks and not m.hooks for _, m in model.named_modules())


def test_depth_collapses_deep_modules():
    minigrad.manual_seed(0)
    net = Net()
    with viz.trace_modules(net) as trace:
        out = net(minigrad.randn(2, 4)).sum()
    full = viz.to_dot(out, module=trace)
    dot = viz.to_dot(out, module=trace, depth=0)
    assert clusters(dot) == [(0, "Net")]
    assert {"block0", "block1", "head"} <= set(titles(dot))
    # chain: block0 -> block1 -> head -> Sum -> output
    assert len(nodes(dot)) == 5 and len(edges(dot)) == 4
    dot1 = viz.to_dot(out, module=trace, depth=1)
    assert clusters(dot1) == [(0, "Net"), (1, "block0"), (1, "block1"), (1, "head")]
    assert "block0.mlp" in titles(dot1) and "Sequential: 4 ops, 2 params" in dot1
    assert len(nodes(dot1)) < len(nodes(full))
    assert viz.to_dot(out, module=trace, depth=5) == full


def test_module_called_with_a_graph_input_does_not_claim_its_input():
    minigrad.manual_seed(0)
    model = Sequential(fc=Linear(3, 3))
    x = minigrad.randn(2, 3, requires_grad=True)
    with viz.trace_modules(model) as trace:
        h = x.exp()  # made before the module ran: outside its box
        out = model(h).sum()
    dot = viz.to_dot(out, module=trace, params={"x": x})
    inside = dot.split("subgraph cluster_0", 1)[1].rsplit("\t}\n", 1)[0]
    assert "<B>ExpBackward0</B>" not in inside and "<B>ExpBackward0</B>" in dot


def test_shared_module_called_twice():
    minigrad.manual_seed(0)
    model = Sequential(fc=Linear(3, 3))
    fc = model.children["fc"]

    class Twice(Sequential):
        def forward(self, x):
            return fc(fc(x))

    twice = Twice(fc=fc)
    with viz.trace_modules(twice) as trace:
        out = twice(minigrad.randn(2, 3)).sum()
    dot = viz.to_dot(out, module=trace)
    inside = dot.split("<B>fc</B>", 1)[1].split("\t\t}", 1)[0]
    assert inside.count("<B>MmBackward0</B>") == 2  # both calls' ops in the box of fc


def test_trace_survives_a_forward_that_raised():
    minigrad.manual_seed(0)
    model = Sequential(fc=Linear(3, 3))

    class Broken(FakeModule):
        def forward(self, x):
            raise ValueError("boom")

    model.add("bad", Broken())
    with viz.trace_modules(model) as trace:
        with pytest.raises(ValueError, match="boom"):
            model(minigrad.randn(2, 3))
        out = model.children["fc"](minigrad.randn(2, 3)).sum()
    assert [c[1] for c in clusters(viz.to_dot(out, module=trace))] == ["Sequential", "fc"]


def test_trace_keeps_no_graph_alive():
    import gc
    import weakref

    _, trace, loss = mlp_step()
    node = weakref.ref(loss.grad_fn.next_functions[0][0])
    assert viz.to_dot(loss, module=trace)
    del loss
    gc.collect()
    assert node() is None


def test_module_option_errors():
    model, trace, loss = mlp_step()
    with pytest.raises(TypeError, match="trace_modules"):
        viz.to_dot(loss, module=model)
    with pytest.raises(ValueError, match="depth"):
        viz.to_dot(loss, depth=1)
    with pytest.raises(ValueError, match="depth"):
        viz.to_dot(loss, module=trace, depth=-1)
    with pytest.raises(TypeError, match="named_modules"):
        viz.trace_modules(object())


def test_bad_input_errors():
    with pytest.raises(ValueError, match="at least one"):
        viz.to_dot()
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.to_dot(3.0)
    with pytest.raises(TypeError, match="params"):
        viz.to_dot(minigrad.ones(1), params=[1, 2])
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(minigrad.ones(1), rankdir="up")


def test_real_nn_modules():
    nn = pytest.importorskip("minigrad.nn")
    if not all(hasattr(nn, n) for n in ("Sequential", "Linear", "ReLU")):
        pytest.skip("minigrad.nn has no Sequential/Linear/ReLU yet")
    if not hasattr(nn.Module, "register_forward_hook"):
        pytest.skip("minigrad.nn.Module has no forward hooks yet")
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with viz.trace_modules(model) as trace:
        loss = model(minigrad.randn(5, 3)).pow(2).mean()
    loss.backward()
    dot = viz.to_dot(loss, module=trace, grad_heat=True)
    assert [c[1] for c in clusters(dot)] == ["Sequential", "0", "1", "2"]
    assert {"0.weight", "2.bias"} <= set(titles(dot))


# -- rendering ------------------------------------------------------------------------------------
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def test_draw_graph_source_is_to_dot():
    pytest.importorskip("graphviz")
    _, trace, loss = mlp_step()
    g = viz.draw_graph(loss, module=trace, show_saved=True)
    assert g.source == viz.to_dot(loss, module=trace, show_saved=True)


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_render(tmp_path, fmt):
    pytest.importorskip("graphviz")
    _, trace, loss = mlp_step()
    loss.backward()
    g = viz.draw_graph(loss, module=trace, grad_heat=True, show_saved=True)
    path = g.render(outfile=tmp_path / f"step.{fmt}")
    data = (tmp_path / f"step.{fmt}").read_bytes()
    assert str(path).endswith(fmt)
    assert data.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in data and b"fc1" in data


def test_missing_dot_binary_says_how_to_install(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))
    g = viz.draw_graph((minigrad.ones(2, requires_grad=True) * 2).sum())
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        g.pipe(format="svg")
    with pytest.raises(viz.GraphvizNotFoundError, match="brew install graphviz"):
        g.render(outfile=tmp_path / "x.svg")


def test_missing_graphviz_package(monkeypatch):
    import minigrad.viz.render as render

    monkeypatch.setattr(render, "_digraph_class", None)
    monkeypatch.setitem(__import__("sys").modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install 'minigrad\[viz\]'"):
        viz.draw_graph(minigrad.ones(1))


def test_every_device(device):
    w = minigrad.randn(3, 2, device=device, requires_grad=True)
    x = minigrad.randn(4, 3, device=device)
    loss = (x @ w).tanh().sum()
    loss.backward()
    dot = viz.to_dot(loss, params={"w": w}, grad_heat=True, show_saved=True)
    assert len(nodes(dot)) == 5 and "grad norm" in dot
    if minigrad.device(device).type != "cpu":
        assert f"(4, 2) float32 {minigrad.device(device)}" in dot


def test_only_the_models_own_parameters_go_in_its_boxes():
    model, trace, loss = mlp_step()
    w = model.children["fc1"].params["weight"]
    extra = minigrad.ones(1, requires_grad=True)
    dot = viz.to_dot(loss * extra, module=trace, params={"scale": extra, "first": w})
    inside = dot.split("subgraph cluster_1 {", 1)[1].split("}", 1)[0]
    assert "<B>first</B>" in inside  # named by params, placed by the model's own name
    assert "<B>scale</B>" in dot.rsplit("\t}\n", 1)[1]  # not a parameter of the model


def test_save_graph_dot_needs_no_graphviz(tmp_path):
    x = minigrad.ones(2, requires_grad=True)
    path = viz.save_graph(tmp_path / "sub" / "g.dot", (x * 2).sum(), params={"x": x})
    assert path.read_text() == viz.to_dot((x * 2).sum(), params={"x": x})
    with pytest.raises(ValueError, match="format"):
        viz.save_graph(tmp_path / "g.jpeg", x)


@needs_dot
def test_save_graph_renders_without_leftovers(tmp_path):
    pytest.importorskip("graphviz")
    _, trace, loss = mlp_step()
    path = viz.save_graph(tmp_path / "step.svg", loss, module=trace, depth=0)
    assert b"<svg" in path.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step.svg"]
