"""A plain tensor's methods and operators given a Tensor-subclass argument hand the call to the
subclass's ``__torch_function__`` (``plain.add(sub)``, ``plain.where(cond, sub)``, ``plain +
sub``, ``plain.add_(sub)``), compared with PyTorch: the function handed on, ``types``, the
arguments in their order, the result's class and values."""

import gc

import numpy as np
import pytest

import minigrad
from minigrad import _torch_function as _tf

torch = pytest.importorskip("torch")
LIBS = (minigrad, torch)

# (label, the Tensor method the handler receives, the call); p: plain (3,), s: subclass (3,),
# m: plain (3, 3), b: a plain bool mask, i: an index tensor, sub: the subclass
CASES = [
    ("p.add(s)", "add", lambda L, p, s, m, b, i, sub: p.add(s)),
    ("p.add(other=s)", "add", lambda L, p, s, m, b, i, sub: p.add(other=s)),
    ("p.sub(s, alpha=2)", "sub", lambda L, p, s, m, b, i, sub: p.sub(s, alpha=2)),
    ("p.mul(s)", "mul", lambda L, p, s, m, b, i, sub: p.mul(s)),
    ("p.div(s)", "div", lambda L, p, s, m, b, i, sub: p.div(s)),
    ("p.maximum(s)", "maximum", lambda L, p, s, m, b, i, sub: p.maximum(s)),
    ("p.lt(s)", "lt", lambda L, p, s, m, b, i, sub: p.lt(s)),
    ("p.eq(s)", "eq", lambda L, p, s, m, b, i, sub: p.eq(s)),
    ("p + s", "add", lambda L, p, s, m, b, i, sub: p + s),
    ("p - s", "sub", lambda L, p, s, m, b, i, sub: p - s),
    ("p * s", "mul", lambda L, p, s, m, b, i, sub: p * s),
    ("p / s", "div", lambda L, p, s, m, b, i, sub: p / s),
    ("p < s", "gt", lambda L, p, s, m, b, i, sub: p < s),  # Python asks s.__gt__ first
    ("m.matmul(s)", "matmul", lambda L, p, s, m, b, i, sub: m.matmul(s)),
    ("m @ s", "matmul", lambda L, p, s, m, b, i, sub: m @ s),
    ("p.where(b, s)", "where", lambda L, p, s, m, b, i, sub: p.where(b, s)),
    ("p.where(s_mask, p)", "where", lambda L, p, s, m, b, i, sub: p.where(b.as_subclass(sub), p)),
    (
        "p.masked_fill(s_mask, 0)",
        "masked_fill",
        lambda L, p, s, m, b, i, sub: p.masked_fill(b.as_subclass(sub), 0.0),
    ),
    (
        "p.masked_fill(b, s0)",
        "masked_fill",
        lambda L, p, s, m, b, i, sub: p.masked_fill(b, L.tensor(5.0).as_subclass(sub)),
    ),
    ("p.index_add(0, i, s)", "index_add", lambda L, p, s, m, b, i, sub: p.index_add(0, i, s)),
    ("p.scatter(0, i, s)", "scatter", lambda L, p, s, m, b, i, sub: p.scatter(0, i, s)),
    ("p.clamp(min=s)", "clamp", lambda L, p, s, m, b, i, sub: p.clamp(min=s)),
    ("p.expand_as(s)", "expand_as", lambda L, p, s, m, b, i, sub: p.expand_as(s)),
    ("p.add_(s)", "add_", lambda L, p, s, m, b, i, sub: p.clone().add_(s)),
    ("p.mul_(other=s)", "mul_", lambda L, p, s, m, b, i, sub: p.clone().mul_(other=s)),
    ("p.copy_(s)", "copy_", lambda L, p, s, m, b, i, sub: p.clone().copy_(s)),
    ("p[s_index]", "__getitem__", lambda L, p, s, m, b, i, sub: p[i.as_subclass(sub)]),
]


def _logging_subclass(lib, log):
    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((func, types, args, dict(kwargs or {})))
            return super().__torch_function__(func, types, args, kwargs)

    return Logged


def _inputs(lib, sub):
    p = lib.tensor([1.0, -2.0, 3.0])
    s = lib.tensor([0.5, 4.0, -1.0]).as_subclass(sub)
    m = lib.arange(9.0).reshape(3, 3)
    return p, s, m, lib.tensor([True, False, True]), lib.tensor([2, 0, 1]), sub


@pytest.mark.parametrize("label,method,call", CASES, ids=[c[0] for c in CASES])
def test_plain_method_hands_a_subclass_argument_to_it(label, method, call):
    seen = {}
    for lib in LIBS:
        log = []
        sub = _logging_subclass(lib, log)
        out = call(lib, *_inputs(lib, sub))
        assert len(log) == 1, (lib.__name__, label, log)
        func, types, args, kwargs = log[0]
        assert func is getattr(lib.Tensor, method), (lib.__name__, label, func)
        kinds = [type(a).__name__ for a in args if isinstance(a, lib.Tensor)]
        kinds += [f"{k}={type(v).__name__}" for k, v in sorted(kwargs.items())]
        seen[lib.__name__] = (type(out) is sub, [t is sub for t in types], kinds, out.tolist())
    assert seen["minigrad"] == seen["torch"]
    assert seen["minigrad"][0]  # the result is the subclass's


def test_in_place_method_returns_the_subclass_view_and_leaves_self_plain():
    seen = {}
    for lib in LIBS:

        class Tagged(lib.Tensor):
            pass

        p, s = lib.ones(3), lib.full((3,), 2.0).as_subclass(Tagged)
        out = p.add_(s)
        q = lib.ones(3)
        r = q
        q += s  # rebinds q to what add_ returned
        seen[lib.__name__] = (
            out is p, type(out) is Tagged, type(p) is lib.Tensor, p.tolist(),
            q is r, type(q) is Tagged, r.tolist(), out.data_ptr() == p.data_ptr(),
        )  # fmt: skip
    assert seen["minigrad"] == seen["torch"]


def test_subclass_with_default_torch_function_keeps_its_class_through_plain_methods():
    seen = {}
    for lib in LIBS:

        class Tagged(lib.Tensor):
            pass

        p, s = lib.tensor([1.0, 2.0]), lib.tensor([3.0, -1.0]).as_subclass(Tagged)
        outs = [
            p.add(s), p.mul(other=s), p + s, p - s, p.where(p > 1, s), p.lt(s),
            p.masked_fill(lib.tensor([True, False]), lib.tensor(0.0).as_subclass(Tagged)),
            lib.stack([p, s]), p.clone().sub_(s),
        ]  # fmt: skip
        seen[lib.__name__] = [(type(o).__name__, o.tolist()) for o in outs]
    assert seen["minigrad"] == seen["torch"]
    assert all(name == "Tagged" for name, _ in seen["minigrad"])


def test_subclass_that_disables_the_protocol_gives_plain_tensors():
    seen = {}
    for lib in LIBS:

        class Off(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl

        p, s = lib.ones(2), lib.ones(2).as_subclass(Off)
        outs = [p.add(s), p + s, p.where(p > 0, s), p.clone().add_(s), lib.nn.Parameter(p) * s]
        seen[lib.__name__] = [type(o).__name__ for o in outs]
    assert seen["minigrad"] == seen["torch"] == ["Tensor"] * 5


def test_plain_numbers_and_tensors_are_not_handed_on():
    for lib in LIBS:
        log = []
        sub = _logging_subclass(lib, log)
        keep = lib.ones(1).as_subclass(sub)  # alive: minigrad's Tensor methods now dispatch
        p = lib.ones(2)
        outs = [p.add(2), p + p, p.where(p > 0, 0.0), p.clamp(min=0), p[0], p.abs(), p.add_(1)]
        assert all(type(o) is lib.Tensor for o in outs) and not log
        assert keep is not None


def test_a_mode_is_asked_before_the_subclass_argument():
    from torch.overrides import TorchFunctionMode as TorchMode

    seen = {}
    for lib, base in ((minigrad, minigrad.overrides.TorchFunctionMode), (torch, TorchMode)):
        log = []
        sub = _logging_subclass(lib, log)

        class Mode(base):
            calls = log

            def __torch_function__(self, func, types, args=(), kwargs=None):
                self.calls.append(("mode", func, types))
                return func(*args, **(kwargs or {}))

        p, s = lib.ones(2), lib.ones(2).as_subclass(sub)
        with Mode():
            out = p.mul(s)
        names = [e[0] if e[0] == "mode" else "sub" for e in log]
        funcs = [(e[1] if e[0] == "mode" else e[0]) is lib.Tensor.mul for e in log]
        types = [[t is sub for t in (e[2] if e[0] == "mode" else e[1])] for e in log]
        seen[lib.__name__] = (names, funcs, types, type(out) is sub)
    assert seen["minigrad"] == seen["torch"]
    assert seen["torch"] == (["mode", "sub"], [True, True], [[True], [True]], True)


def test_gradients_flow_through_a_plain_method_with_a_subclass_argument():
    grads = {}
    for lib in LIBS:

        class Tagged(lib.Tensor):
            pass

        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, 2.0, -1.0], requires_grad=True)
        y = x.mul(w.as_subclass(Tagged)).where(x > 0, x).sum()
        y.backward()
        grads[lib.__name__] = (type(y).__name__, x.grad.tolist(), w.grad.tolist())
    assert grads["minigrad"] == grads["torch"]


def test_tensor_methods_are_plain_again_once_no_subclass_lives():
    gc.collect()
    before = _tf._holders[0]

    class Short(minigrad.Tensor):
        pass

    assert _tf._holders[0] == before + 1 and minigrad.Tensor.add is not minigrad.ops.add
    out = minigrad.ones(2).add(minigrad.ones(2).as_subclass(Short))
    assert type(out) is Short
    del Short, out
    gc.collect()
    assert _tf._holders[0] == before
    assert before == 0 or _tf._installed  # (another test's subclass may still be alive)
    if before == 0:  # nothing else holds them: plain tensors pay nothing again
        assert minigrad.Tensor.add is minigrad.ops.add
        assert minigrad.Tensor.__dict__["T"] is _tf.tensor_methods()["T"]
    np.testing.assert_array_equal(minigrad.ones(2).add(1).numpy(), [2.0, 2.0])
