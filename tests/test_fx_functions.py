"""minigrad.fx tracing top-level functions (``minigrad.cat``, ``F.relu``, ``F.linear``, ...)
through the ``__torch_function__`` protocol, compared with torch.fx on the same models."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import minigrad
import minigrad.fx as mfx

torch = pytest.importorskip("torch")
tfx = pytest.importorskip("torch.fx")

# len() of a proxy is recorded in this module's traces (torch.fx's recipe for len)
mfx.wrap("len")
tfx.wrap("len")


def _functional_model(lib):
    lnn, F = lib.nn, lib.nn.functional

    class Functional(lnn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lnn.Linear(6, 4)
            self.proj = lnn.Parameter(lib.randn(4, 8))
            self.register_buffer("shift", lib.zeros(8))

        def forward(self, x):
            h = F.relu(self.fc(x))
            h = lib.cat([h, h.neg()], dim=1)
            h = h.view(x.size(0), -1) + self.shift
            g = F.linear(h, self.proj, None)
            g = lib.tanh(g) * lib.sigmoid(self.proj.sum())
            s = lib.stack([g, g], 0).sum(0)
            return lib.softmax(s, dim=-1), lib.matmul(h, self.proj.t())

    return Functional()


def _without_defaults(target, kwargs: dict) -> dict:
    """kwargs, less those equal to the function's defaults (torch passes some explicitly)."""
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return kwargs
    return {
        k: v
        for k, v in kwargs.items()
        if not (
            k in params
            and params[k].default is not inspect.Parameter.empty
            and params[k].default == v
        )
    }


def _rows(graph, lib_name: str) -> list:
    def arg(a):
        if isinstance(a, (tuple, list)):
            return type(a)(arg(x) for x in a)
        if isinstance(a, dict):
            return {k: arg(v) for k, v in a.items()}
        if hasattr(a, "op") and hasattr(a, "users"):
            return ("node", a.name)
        return str(a)

    rows = []
    for n in graph.nodes:
        target = str(n.target)
        kwargs = n.kwargs
        if n.op == "call_function":
            mg = lib_name == "minigrad"
            target = n._pretty_target() if mg else tfx.node._get_qualified_name(n.target)
            target = target.replace("_operator.", "operator.").replace(
                "torch._C._nn.", "torch.nn.functional."
            )
            target = target.replace(lib_name, "LIB")
            kwargs = _without_defaults(n.target, kwargs)
        rows.append((n.op, target, n.name, arg(n.args), arg(kwargs), len(n.users)))
    return rows


def test_functions_on_proxies_match_torch():
    mmod, tmod = _functional_model(minigrad), _functional_model(torch)
    mgm, tgm = mfx.symbolic_trace(mmod), tfx.symbolic_trace(tmod)
    assert _rows(mgm.graph, "minigrad") == _rows(tgm.graph, "torch")
    with minigrad.no_grad():
        for name, value in tmod.state_dict().items():
            target = mmod.shift if name == "shift" else mmod.get_parameter(name)
            target.copy_(minigrad.tensor(value.detach().numpy()))
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    m_out, t_out = mgm(minigrad.tensor(x)), tgm(torch.tensor(x))
    for m, t in zip(m_out, t_out):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_functional_trace_trains_like_the_module():
    model = _functional_model(minigrad)
    gm = mfx.symbolic_trace(model)
    x = minigrad.randn(3, 6)
    sum(o.square().sum() for o in model(x)).backward()
    expected = {k: p.grad.clone() for k, p in model.named_parameters()}
    model.zero_grad()
    sum(o.square().sum() for o in gm(x)).backward()
    for k, p in gm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), expected[k].numpy(), rtol=1e-5, atol=1e-6)
    assert "minigrad.cat([relu, neg], dim = 1)" in gm.code


def test_real_tensor_operators_with_proxies():
    """A buffer (a real tensor) on the left of an operator, as torch.fx records it."""

    def make(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("b", lib.ones(3, dtype=lib.int64))

            def forward(self, x):
                b = self.b
                return (
                    b + x, b - x, b * x, b / x, b // x, b % x, b ** x, b @ x, b & x, b | x,
                    b ^ x, b << x, b >> x, b == x, b != x, b < x, b <= x, b > x, b >= x, b[x],
                )  # fmt: skip

        return M()

    mgm, tgm = mfx.symbolic_trace(make(minigrad)), tfx.symbolic_trace(make(torch))
    assert _rows(mgm.graph, "minigrad") == _rows(tgm.graph, "torch")
    assert mgm.code.replace("minigrad", "torch") == tgm.code
    out = mgm(minigrad.tensor([1, 2, 1]))
    assert out[0].tolist() == [2, 3, 2] and out[11].tolist() == [2, 4, 2]


def test_wrapped_len_matches_torch():
    def make(lib):
        def f(x):
            return x.view(len(x), -1)

        return f

    mgm, tgm = mfx.symbolic_trace(make(minigrad)), tfx.symbolic_trace(make(torch))
    assert mgm.code.replace("minigrad", "torch") == tgm.code
    assert str(mgm.graph) == str(tgm.graph)
    assert mgm(minigrad.ones(2, 3)).shape == (2, 3)
    assert mfx.symbolic_trace(mgm).code == mgm.code
    assert len([1, 2]) == 2  # the builtin is back once tracing ends


def _doc_example(lib):
    class M(lib.nn.Module):
        def forward(self, x, w1, w2):
            m1 = lib.cat([w1, w2]).sum()
            m2 = lib.cat([w1, w2]).sum()
            return x + lib.max(m1) + lib.max(m2)

    def pattern(w1, w2):
        return lib.cat([w1, w2]).sum()

    def replacement(w1, w2):
        return lib.stack([w1, w2])

    return M(), pattern, replacement


def test_replace_pattern_doc_example_matches_torch():
    codes = []
    for lib, fx_lib in ((minigrad, mfx), (torch, tfx)):
        model, pattern, replacement = _doc_example(lib)
        gm = fx_lib.symbolic_trace(model)
        matches = fx_lib.replace_pattern(gm, pattern, replacement)
        codes.append((len(matches), gm.code.replace(lib.__name__, "lib")))
        if lib is minigrad:
            x, w1, w2 = minigrad.randn(2, 3), minigrad.randn(1, 3), minigrad.randn(1, 3)
            expected = x + 2 * minigrad.stack([w1, w2]).max()
            np.testing.assert_allclose(gm(x, w1, w2).numpy(), expected.numpy(), rtol=1e-6)
    assert codes[0] == codes[1]


def _factory_model(lib):
    class Causal(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mask", lib.tril(lib.ones(4, 4)))

        def forward(self, x):
            t = x.size(1)
            att = (x @ x.transpose(-2, -1)).masked_fill(self.mask[:3, :3] == 0, float("-inf"))
            return lib.arange(t) + att.softmax(-1) + lib.zeros(x.shape) + lib.randn_like(x) * 0

    return Causal()


def test_factories_of_traced_sizes_match_torch():
    mgm, tgm = (
        mfx.symbolic_trace(_factory_model(minigrad)),
        tfx.symbolic_trace(_factory_model(torch)),
    )
    assert mgm.code.replace("minigrad", "torch") == tgm.code
    assert minigrad.arange.__module__ == "minigrad"  # the factories dispatch to a Proxy themselves
    out = mgm(minigrad.ones(2, 3, 3))
    assert out[0, 0].tolist() == [1.0, 1.0, 2.0]  # arange + the causal softmax row [1, 0, 0]
