"""The ``__torch_function__`` protocol (minigrad.overrides): Tensor subclasses keep their class
through ops, tensor-like classes and modes receive the calls, compared with PyTorch."""

import gc
import pickle

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import _torch_function
from minigrad.overrides import (
    TorchFunctionMode,
    get_ignored_functions,
    get_overridable_functions,
    handle_torch_function,
    has_torch_function,
    is_tensor_like,
    is_tensor_method_or_property,
    wrap_torch_function,
)


def _program(lib):
    """A few lines touching functions, methods, operators, properties and reductions."""
    f = lib.nn.functional
    x = lib.ones(2, 3, requires_grad=True)
    y = f.relu(x @ x.T + 1).sum(dim=0)
    z = lib.cat([y, y]).mean()
    return x, z


def _logging_mode(lib, base):
    class Log(base):
        def __init__(self):
            super().__init__()
            self.seen = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.seen.append(func.__name__)
            return func(*args, **(kwargs or {}))

    return Log()


def test_a_mode_sees_the_calls_torch_sees():
    torch = pytest.importorskip("torch")
    from torch.overrides import TorchFunctionMode as TorchMode

    seen = {}
    for lib, base in ((minigrad, TorchFunctionMode), (torch, TorchMode)):
        mode = _logging_mode(lib, base)
        linear = lib.nn.Linear(3, 4)
        with mode:
            _, z = _program(lib)
            linear(lib.ones(2, 3))
        seen[lib.__name__] = mode.seen
        assert z.item() == pytest.approx(8.0)
    assert seen["minigrad"] == seen["torch"]


def test_modes_nest_and_leave_tensor_methods_as_they_were():
    gc.collect()  # no Tensor subclass of an earlier test alive: Tensor has its plain methods
    add = minigrad.Tensor.add
    outer, inner = _logging_mode(minigrad, TorchFunctionMode), None

    class Twice(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))  # runs under the outer mode only
            return out * 2 if func is minigrad.Tensor.add else out

    with outer:
        with Twice() as inner:
            got = minigrad.ones(2).add(1)
        # dispatching while a mode is entered (already so if a Tensor subclass with its own
        # __torch_function__ lives, such as minigrad.vision's tv_tensors, defined at import)
        assert vars(minigrad.Tensor)["add"] is _torch_function._installed.get("add")
    assert minigrad.Tensor.add is add
    np.testing.assert_array_equal(got.numpy(), [4.0, 4.0])
    assert "add" in outer.seen and "mul" in outer.seen  # the inner mode's own work, seen outside
    assert inner is not None


def test_modes_must_exit_in_order():
    add = minigrad.Tensor.add
    a, b = TorchFunctionMode(), TorchFunctionMode()
    a.__enter__()
    b.__enter__()
    with pytest.raises(RuntimeError, match="reverse order"):
        a.__exit__(None, None, None)
    b.__exit__(None, None, None)
    a.__exit__(None, None, None)
    assert minigrad.Tensor.add is add


def test_a_mode_without_torch_function_says_so():
    with pytest.raises(NotImplementedError, match="must override __torch_function__"):
        with TorchFunctionMode():
            minigrad.ones(1) + 1


def _subclass(lib):
    class Sub(lib.Tensor):
        calls = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs)

    return Sub


def test_subclass_keeps_its_class_and_is_told_each_call():
    torch = pytest.importorskip("torch")
    seen, kinds = {}, {}
    for lib in (minigrad, torch):
        sub = _subclass(lib)
        s = lib.ones(2, 2).as_subclass(sub)
        outs = [
            (s * 2 + s).relu(),
            lib.nn.functional.softmax(s, -1),
            lib.max(s, 0).values,
            s.T,
            s[0],
            lib.cat([lib.ones(1, 2), s]),
            lib.ones(2, 2) + s,  # Python asks the subclass's reflected operator first
            list(s)[0],
        ]
        kinds[lib.__name__] = [type(o) is sub for o in outs]
        seen[lib.__name__] = sub.calls
    assert kinds["minigrad"] == kinds["torch"] == [True] * 8
    assert seen["minigrad"][:4] == seen["torch"][:4] == ["mul", "add", "relu", "softmax"]


def test_subclass_gradients_and_repr_match_torch():
    torch = pytest.importorskip("torch")
    reprs, grads = {}, {}
    for lib in (minigrad, torch):

        class Tagged(lib.Tensor):
            pass

        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        t = x.as_subclass(Tagged)
        y = (t * t).sum()
        y.backward()
        reprs[lib.__name__] = (repr(t.detach()), repr(t * 2), type(y).__name__)
        grads[lib.__name__] = x.grad.numpy().copy()
    assert reprs["minigrad"] == reprs["torch"]
    np.testing.assert_array_equal(grads["minigrad"], grads["torch"])


def test_subclass_new_calling_super_new_aliases_the_data():
    class Meta(minigrad.Tensor):
        @staticmethod
        def __new__(cls, x, meta, *args, **kwargs):
            return super().__new__(cls, x, *args, **kwargs)

        def __init__(self, x, meta):
            self.meta = meta

    x = minigrad.arange(3)
    m = Meta(x, "info")
    assert type(m) is Meta and m.meta == "info" and m.dtype == minigrad.int64
    m.add_(1)
    np.testing.assert_array_equal(x.numpy(), [1, 2, 3])  # shares storage, as torch
    made = minigrad.Tensor._make_subclass(Meta, x.float(), True)
    assert type(made) is Meta and made.requires_grad and made.is_leaf


def test_parameters_and_opted_out_subclasses_give_plain_tensors():
    p = minigrad.nn.Parameter(minigrad.ones(2))
    assert type(p * 2) is minigrad.Tensor and type(minigrad.relu(p)) is minigrad.Tensor

    class Plain(minigrad.Tensor):
        __torch_function__ = minigrad._C._disabled_torch_function_impl

    assert type(minigrad.ones(2).as_subclass(Plain) + 1) is minigrad.Tensor
    assert repr(minigrad.ones(1).as_subclass(Plain)) == "Plain([1.])"  # as PyTorch prints it


def test_disable_subclass_inside_a_handler():
    class Unwrapping(minigrad.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            with minigrad._C.DisableTorchFunctionSubclass():
                return func(*args, **(kwargs or {}))

    u = minigrad.ones(2).as_subclass(Unwrapping)
    assert type(u + 1) is minigrad.Tensor and type(minigrad.exp(u)) is minigrad.Tensor
    logged = minigrad.ones(1).as_subclass(_subclass(minigrad))
    with minigrad.DisableTorchFunction():
        assert type(minigrad.exp(logged)) is minigrad.Tensor and not type(logged).calls


def test_torch_dispatch_is_refused_when_an_instance_is_made():
    """The class may be defined (PyG defines ``Index`` at import); every way of making one
    refuses, naming what is missing."""

    class Dispatching(minigrad.Tensor):
        @classmethod
        def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    class Derived(Dispatching):
        pass

    for make in (
        lambda: Dispatching([1.0]),
        lambda: minigrad.ones(2).as_subclass(Derived),
        lambda: minigrad.Tensor._make_subclass(Dispatching, minigrad.ones(2)),
        lambda: minigrad.Tensor._make_wrapper_subclass(Dispatching, (2,), dtype=minigrad.float32),
    ):
        with pytest.raises(NotImplementedError, match="no __torch_dispatch__"):
            make()


class Diagonal:
    """The tensor-like of PyTorch's extending guide: N×N times ``value`` on the diagonal."""

    handled = {}

    def __init__(self, n, value):
        self.n, self.value = n, value

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func not in cls.handled:
            return NotImplemented
        return cls.handled[func](*args, **(kwargs or {}))


Diagonal.handled[minigrad.mean] = lambda d: float(d.value) / d.n
Diagonal.handled[F.relu] = lambda d: Diagonal(d.n, max(d.value, 0))


def test_a_tensor_like_receives_functions_and_refuses_others():
    assert minigrad.mean(Diagonal(5, 2)) == pytest.approx(0.4)
    assert F.relu(Diagonal(3, -1)).value == 0
    with pytest.raises(TypeError, match="no implementation found for 'sum'"):
        minigrad.sum(Diagonal(2, 1))
    assert is_tensor_like(Diagonal(1, 1)) and is_tensor_like(minigrad.ones(1))
    assert not is_tensor_like(np.ones(1))


def test_tensor_likes_in_lists_and_keywords_are_found():
    seen = []

    class Spy:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append((func, types))
            return "handled"

    assert minigrad.cat([minigrad.ones(1), Spy()]) == "handled"
    assert F.linear(minigrad.ones(1, 2), weight=Spy()) == "handled"
    assert seen[0] == (minigrad.cat, (Spy,)) and seen[1][0] is F.linear


def test_subclass_is_asked_before_its_base():
    order = []

    class Base(minigrad.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            order.append(cls.__name__)
            return NotImplemented if cls.__name__ == "Child" else "base"

    class Child(Base):
        pass

    b, c = minigrad.ones(1).as_subclass(Base), minigrad.ones(1).as_subclass(Child)
    assert minigrad.add(b, c) == "base"
    assert order == ["Child", "Base"]


def test_helpers_for_functions_of_your_own():
    @wrap_torch_function(lambda x, scale=1.0: (x,))
    def scaled(x, scale=1.0):
        return x * scale

    class Spy:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return ("spied", func is scaled)

    assert scaled(Spy()) == ("spied", True)
    assert scaled(minigrad.ones(1), 3.0).item() == 3.0
    assert has_torch_function((Spy(),)) and not has_torch_function((minigrad.ones(1), 2))
    assert handle_torch_function(scaled, (Spy(),), Spy()) == ("spied", True)


def test_function_identity_pickling_and_lists():
    for f in (minigrad.relu, F.relu, minigrad.linalg.norm, minigrad.special.erf, minigrad.add):
        assert pickle.loads(pickle.dumps(f)) is f
    assert minigrad.zeros in get_ignored_functions()
    table = get_overridable_functions()
    assert minigrad.add in table[minigrad] and F.linear in table[F]
    assert minigrad.zeros not in table[minigrad]
    assert is_tensor_method_or_property(minigrad.Tensor.add)
    assert is_tensor_method_or_property(minigrad.Tensor.T.__get__)
    assert not is_tensor_method_or_property(minigrad.add)


def test_pytorch_tensors_are_data_not_tensor_likes():
    torch = pytest.importorskip("torch")
    shared = minigrad.from_dlpack(torch.ones(2))  # torch's __torch_function__ is not asked
    assert type(shared) is minigrad.Tensor and shared.tolist() == [1.0, 1.0]


def test_a_tensor_like_on_the_right_of_an_operator_takes_the_call():
    seen = []

    class Spy:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(func)
            return "spy"

    t = minigrad.ones(2, dtype=minigrad.int64)
    got = [t + Spy(), t * Spy(), t < Spy(), t.sub(Spy()), t & Spy(), t == Spy(), t << Spy()]
    got += [t @ Spy(), t[Spy()], t[0, Spy()]]
    assert got == ["spy"] * 10
    tensor = minigrad.Tensor
    assert seen == [
        tensor.add, tensor.mul, tensor.lt, tensor.sub, tensor.__and__, tensor.__eq__,
        tensor.__lshift__, tensor.matmul, tensor.__getitem__, tensor.__getitem__,
    ]  # fmt: skip
    assert minigrad.zeros(2, Spy()) == "spy" and minigrad.zeros_like(Spy()) == "spy"
    np.testing.assert_array_equal((t == 1).numpy(), [True, True])  # numbers stay numbers
    with pytest.raises(TypeError, match="expected a Tensor or a Python number, got object"):
        t + object()


def test_device_modules_and_reexported_helpers_match_torch():
    torch = pytest.importorskip("torch")
    assert minigrad.cpu.amp.autocast is not None and minigrad.GradScaler is minigrad.amp.GradScaler
    for name in ("is_available", "device_count", "current_device", "synchronize"):
        assert getattr(minigrad.cpu, name)() == getattr(torch.cpu, name)()
    assert F.has_torch_function((Diagonal(1, 1),)) and not F.has_torch_function((1,))
    assert minigrad.autograd.is_tensor_like(Diagonal(1, 1))
    x = minigrad.ones(2)
    assert x.const_data_ptr() == x.data_ptr()


def test_parameter_of_a_subclass_keeps_the_subclass_as_torch():
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (minigrad, torch):

        class Sub(lib.Tensor):
            pass

        p = lib.nn.Parameter(lib.ones(2).as_subclass(Sub))
        layer = lib.nn.Linear(2, 2)
        layer.weight = lib.nn.Parameter(lib.ones(2, 2).as_subclass(Sub))
        out = layer(lib.ones(1, 2))
        out.sum().backward()
        seen[lib.__name__] = (
            type(p) is Sub, isinstance(p, lib.nn.Parameter), p.requires_grad, p.is_leaf,
            type(p * 2) is Sub, repr(p), [type(q) is Sub for q in layer.parameters()],
            type(out) is Sub, layer.weight.grad.tolist(),
            isinstance(lib.ones(1), lib.nn.Parameter),
        )  # fmt: skip
    assert seen["minigrad"] == seen["torch"]
