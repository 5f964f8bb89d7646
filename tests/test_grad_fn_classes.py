"""grad_fn nodes whose Python class is PyTorch's: ``type(y.grad_fn).__name__ == "MulBackward0"``
(torchviz labels nodes with it, graph walkers and tests compare it), while ``isinstance`` with
minigrad's op classes and the engine keep working; torchviz's ``make_dot`` compared with
PyTorch's."""

import collections
import gc
import weakref

import pytest

import minigrad
from minigrad.autograd.graph import AccumulateGrad, is_node_subclass
from minigrad.ops.elementwise import Div, Mul


def _node_names(lib, x):
    """The class names of the grad_fns of a few expressions on ``x`` (shape (2, 3))."""
    w = lib.ones(4, 3, dtype=x.dtype)
    b = lib.zeros(4, dtype=x.dtype)
    outs = [
        x * 2, x + x, x - 1, 1 - x, x**2, x.exp(), x.tanh(), x.relu(), x.mean(), x.sum(1),
        x.view(6), x.t(), x[0], x @ x.t(), lib.cat([x, x]), x.softmax(1), _linear(lib, x, w, b),
        _linear(lib, x, w, None), x.abs().max(),
    ]  # fmt: skip
    return [type(y.grad_fn).__name__ for y in outs]


def _linear(lib, x, w, b):
    return lib.nn.functional.linear(x, w, b)


def test_class_names_are_pytorchs():
    torch = pytest.importorskip("torch")
    ours = _node_names(minigrad, minigrad.randn(2, 3, requires_grad=True))
    theirs = _node_names(torch, torch.randn(2, 3, requires_grad=True))
    assert ours == theirs


def test_node_class_is_a_subclass_of_the_op_class():
    x = minigrad.randn(3, requires_grad=True)
    node = (x * 2).grad_fn
    cls = type(node)
    assert cls.__name__ == cls.__qualname__ == node.name() == "MulBackward0"
    assert cls.__module__ == "builtins"  # as PyTorch's generated node classes
    assert repr(cls) == "<class 'MulBackward0'>"
    assert isinstance(node, Mul) and node.label() == "Mul" and is_node_subclass(cls)
    assert type((x * 3).grad_fn) is cls  # made once, cached
    assert not is_node_subclass(Mul)
    with pytest.raises(AttributeError, match="'MulBackward0' object has no attribute 'nope'"):
        node.nope  # noqa: B018
    acc = node.next_functions[0][0]
    assert type(acc) is AccumulateGrad and type(acc).__name__ == "AccumulateGrad"


def test_name_that_depends_on_the_inputs_and_renamed_nodes():
    x = minigrad.randn(3, requires_grad=True)
    assert type((x - 1).grad_fn).__name__ == "SubBackward0"
    assert type((1 - x).grad_fn).__name__ == "RsubBackward1"
    assert type((x - 1).grad_fn) is not type((1 - x).grad_fn)
    mean = x.mean().grad_fn  # a division renamed as PyTorch's one node
    assert type(mean).__name__ == mean.name() == "MeanBackward0"
    assert isinstance(mean, Div) and mean.label() == "Div"
    assert type((x / 2).grad_fn).__name__ == "DivBackward0"


def test_unrecorded_ops_keep_their_class_and_backward_works():
    x = minigrad.randn(3, requires_grad=True)
    with minigrad.no_grad():
        op = Mul()
        op(x, x)
    assert type(op) is Mul
    y = (x * x).tanh().sum()
    (g,) = minigrad.autograd.grad(y, x, create_graph=True)
    assert type(g.grad_fn).__name__.endswith("Backward0")
    g.sum().backward()
    assert x.grad is not None


def test_nodes_are_still_freed_by_reference_counting():
    x = minigrad.randn(3, requires_grad=True)
    y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    gc.disable()
    try:
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_custom_function_nodes_are_named_as_pytorchs():
    torch = pytest.importorskip("torch")

    def run(lib):
        seen = []

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(type(ctx))
                ctx.save_for_backward(x)
                return x**3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x**2

        y = Cube.apply(lib.ones(2, requires_grad=True))
        cls = type(y.grad_fn)
        assert seen == [cls] and Cube._backward_cls is cls
        return cls.__name__, cls.__qualname__, cls.__module__.replace("minigrad", "torch")

    assert (
        run(minigrad) == run(torch) == ("CubeBackward", "CubeBackward", "torch.autograd.function")
    )


def test_builtin_nodes_have_no_saved_tensors_attribute():
    """Only a custom Function's node has ``saved_tensors`` in PyTorch (torchviz draws them)."""
    torch = pytest.importorskip("torch")
    for lib in (torch, minigrad):
        y = lib.ones(2, requires_grad=True).exp()
        assert not hasattr(y.grad_fn, "saved_tensors")
        assert hasattr(y.grad_fn, "_saved_result")


# -- torchviz's make_dot on minigrad (torch bound to minigrad) and on PyTorch ---------------------
def _torchviz(lib):
    """torchviz imported with ``torch`` bound to ``lib`` (minigrad through as_torch)."""
    import importlib
    import sys

    import minigrad.as_torch

    def drop():
        for name in [m for m in sys.modules if m == "torchviz" or m.startswith("torchviz.")]:
            sys.modules.pop(name)

    drop()
    try:
        if lib is minigrad:
            with minigrad.as_torch.imports():
                return importlib.import_module("torchviz")
        return importlib.import_module("torchviz")
    finally:
        drop()


def _models(lib):
    """{name: (output, params)} for a few small models, built alike in both libraries."""
    nn = lib.nn

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    lib.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten())
    w = nn.Parameter(lib.randn(3))
    return {
        "mlp": (mlp(lib.randn(2, 4)).sum(), dict(mlp.named_parameters())),
        "cnn": (cnn(lib.randn(2, 1, 4, 4)).sum(), dict(cnn.named_parameters())),
        "function": (Cube.apply(w * 2).sum(), {"w": w}),
        "elementwise": ((w.tanh() * 2 + 1).exp().sum(), {"w": w}),
    }


def _drawn(dot):
    """(labels, edges) of a make_dot graph, as multisets of the nodes' labels."""
    import re

    labels = {}
    for line in dot.body:
        m = re.match(r'\s*(\d+) \[label=("(?:[^"\\]|\\.)*"|[^\s\]]+)', line)
        if m:
            labels[m.group(1)] = re.sub(r"\s+", " ", m.group(2).strip('"')).strip()
    edges = [re.match(r"\s*(\d+) -> (\d+)", line) for line in dot.body]
    pairs = [(labels[m.group(1)], labels[m.group(2)]) for m in edges if m]
    return collections.Counter(labels.values()), collections.Counter(pairs)


def test_torchviz_make_dot_draws_pytorchs_graph():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchviz")
    ours = {
        k: _drawn(_torchviz(minigrad).make_dot(y, p)) for k, (y, p) in _models(minigrad).items()
    }
    theirs = {k: _drawn(_torchviz(torch).make_dot(y, p)) for k, (y, p) in _models(torch).items()}
    for name in ("function", "elementwise"):
        assert ours[name] == theirs[name], name  # the same labels and the same edges
    # Known differences of graph structure (not of names): minigrad's linear is one node where
    # PyTorch's addmm reads the weight through a TBackward0; minigrad's batch norm reshapes its
    # (C,) weight and bias to (1, C, 1, 1) with recorded views before its one node.
    assert ours["mlp"][0] == theirs["mlp"][0] - collections.Counter({"TBackward0": 2})
    assert ours["cnn"][0] == theirs["cnn"][0] + collections.Counter({"ViewBackward0": 2})


def test_saved_tensors_of_layers_have_pytorchs_attribute_names():
    """``make_dot(show_saved=True)`` labels a node's saved tensors by these names (linear's
    are ``input``/``weight``, where PyTorch's addmm has ``mat1`` and the transposed ``mat2``)."""
    torch = pytest.importorskip("torch")

    def names(lib):
        x = lib.randn(2, 2, 4, 4, requires_grad=True)
        nn = lib.nn
        outs = [nn.Conv2d(2, 2, 3)(x), nn.BatchNorm2d(2)(x), nn.LayerNorm(4)(x)]
        return [{d for d in dir(y.grad_fn) if d.startswith("_saved_")} for y in outs]

    for ours, theirs in zip(names(minigrad), names(torch)):
        assert ours and ours <= theirs
