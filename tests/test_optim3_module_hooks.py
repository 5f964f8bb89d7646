"""Hooks of every module (``nn.modules.module.register_module_*``): which fire, in which order
relative to each module's own hooks, what their return values do, and removal; against torch."""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn.modules import module as mg_module

torch = pytest.importorskip("torch")
torch_module = pytest.importorskip("torch.nn.modules.module")


def _call_order(lib, mod):
    """Events of one forward and backward of a Linear with its own and global hooks."""
    order = []
    m = lib.nn.Linear(2, 2)
    m.register_forward_pre_hook(lambda mod_, a: order.append("pre"))
    m.register_forward_hook(lambda mod_, a, o: order.append("fwd"))
    m.register_full_backward_pre_hook(lambda mod_, g: order.append("bpre"))
    m.register_full_backward_hook(lambda mod_, gi, go: order.append("bwd"))
    handles = [
        mod.register_module_forward_pre_hook(lambda mod_, a: order.append("gpre")),
        mod.register_module_forward_hook(lambda mod_, a, o: order.append("gfwd")),
        mod.register_module_full_backward_pre_hook(lambda mod_, g: order.append("gbpre")),
        mod.register_module_full_backward_hook(lambda mod_, gi, go: order.append("gbwd")),
    ]
    x = lib.ones(1, 2, requires_grad=True)
    try:
        m(x).sum().backward()
        order.append("|")
        for h in handles:
            h.remove()
        m(x).sum().backward()  # own hooks only
    finally:
        for h in handles:
            h.remove()
    return order


def test_global_call_hooks_fire_before_each_modules_own_as_torch():
    got = _call_order(minigrad, mg_module)
    assert got == _call_order(torch, torch_module)
    assert got[:8] == ["gpre", "pre", "gfwd", "fwd", "gbpre", "bpre", "gbwd", "bwd"]


def _nested_events(lib, mod):
    events = []

    def pre(m, args):
        events.append(("pre", type(m).__name__))
        return tuple(a * 2 for a in args) if isinstance(m, lib.nn.Linear) else None

    def post(m, args, kwargs, out):
        events.append(("post", type(m).__name__, sorted(kwargs)))
        return out + 1 if isinstance(m, lib.nn.ReLU) else None

    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.ReLU())
    with (
        mod.register_module_forward_pre_hook(pre),
        mod.register_module_forward_hook(post, with_kwargs=True),
    ):
        out = model(lib.ones(1, 3))
    return events, out.detach().numpy()


def test_nested_modules_and_return_values_as_torch():
    got, out = _nested_events(minigrad, mg_module)
    want, _ = _nested_events(torch, torch_module)
    assert got == want
    assert (out >= 1).all()  # ReLU's output replaced by the hook


def test_backward_hooks_may_replace_gradients():
    m = nn.Linear(3, 1)
    x = minigrad.ones(2, 3, requires_grad=True)
    h1 = mg_module.register_module_full_backward_pre_hook(lambda mod, g: (g[0] * 0,))
    try:
        m(x).sum().backward()
    finally:
        h1.remove()
    assert np.all(x.grad.numpy() == 0) and np.all(m.weight.grad.numpy() == 0)
    h2 = mg_module.register_module_full_backward_hook(lambda mod, gi, go: (gi[0] + 1,))
    x.grad = None
    try:
        m(x).sum().backward()
    finally:
        h2.remove()
    np.testing.assert_allclose(x.grad.numpy(), m.weight.detach().numpy().repeat(2, 0) + 1)


def test_always_call_global_forward_hook_runs_when_forward_raises():
    seen = []

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    h = mg_module.register_module_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    try:
        with pytest.raises(ValueError, match="boom"):
            Boom()(minigrad.ones(1))
    finally:
        h.remove()
    assert seen == [None]
    Boom.forward = lambda self, x: x
    Boom()(minigrad.ones(1))
    assert seen == [None]  # removed


def _registration_events(lib, mod):
    ev = []
    handles = [
        mod.register_module_buffer_registration_hook(
            lambda m, n, b: ev.append(("buf", type(m).__name__, n, type(b).__name__))
        ),
        mod.register_module_parameter_registration_hook(
            lambda m, n, p: ev.append(("par", type(m).__name__, n, type(p).__name__))
        ),
        mod.register_module_module_registration_hook(
            lambda m, n, c: ev.append(("mod", type(m).__name__, n, type(c).__name__))
        ),
    ]
    try:
        lin = lib.nn.Linear(2, 2)
        lin.register_buffer("b", None)
        lin.register_parameter("q", None)
        lin.add_module("c", None)
        lin.weight = lib.nn.Parameter(lib.ones(2, 2))
        lin.b = lib.zeros(1)
        lin.sub = lib.nn.ReLU()
        lin.bias = None
        lin.c = None
        lib.nn.Sequential(lib.nn.ReLU())
    finally:
        for h in handles:
            h.remove()
    lib.nn.Linear(1, 1)  # removed: no more events
    return ev


def test_registration_hooks_fire_as_torch():
    got = _registration_events(minigrad, mg_module)
    assert got == _registration_events(torch, torch_module)
    assert ("par", "Linear", "weight", "Parameter") in got


def test_registration_hooks_may_replace_the_value():
    marker = minigrad.full((1,), 7.0)
    h = mg_module.register_module_buffer_registration_hook(lambda m, n, b: marker)
    try:
        m = nn.Module()
        m.register_buffer("b", minigrad.zeros(1))
    finally:
        h.remove()
    assert m.b is marker
    relu = nn.ReLU()
    h = mg_module.register_module_module_registration_hook(lambda m, n, c: relu)
    try:
        m.child = nn.Tanh()
    finally:
        h.remove()
    assert m.child is relu
    p = nn.Parameter(minigrad.ones(1))
    h = mg_module.register_module_parameter_registration_hook(lambda m, n, q: p)
    try:
        m.w = nn.Parameter(minigrad.zeros(1))
    finally:
        h.remove()
    assert m.w is p
