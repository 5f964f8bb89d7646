"""Small semantic leftovers compared with PyTorch: zero gradients (not None) through a gradient
penalty's second backward of activations and pools, hardsigmoid's double backward, BCE with
logits as one node, ``jit.script``'s training flags and default object reprs under as_torch."""

import importlib

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _ops(lib):
    """name -> f(h) on an (1, 2, 4, 4) input, the same call in minigrad and PyTorch."""
    F = lib.nn.functional
    return {
        "relu": F.relu,
        "leaky_relu": lambda h: F.leaky_relu(h, 0.1),
        "hardtanh": F.hardtanh,
        "relu6": lambda h: F.relu6(h * 4),
        "relu6_inplace": lambda h: F.relu6(h * 4, inplace=True),
        "threshold": lambda h: F.threshold(h, 0.1, -2.0),
        "hardshrink": F.hardshrink,
        "softshrink": F.softshrink,
        "prelu": lambda h: F.prelu(h, lib.tensor([0.2], dtype=h.dtype)),
        "elu": F.elu,
        "selu": F.selu,
        "gelu": F.gelu,
        "silu": F.silu,
        "mish": F.mish,
        "softplus": F.softplus,
        "hardswish": lambda h: F.hardswish(h * 4),
        "clamp": lambda h: h.clamp(-0.5, 0.5),  # (None in PyTorch too: a plain where)
        "amax": lambda h: h.amax(-1),  # (None in PyTorch too)
        "max_pool1d": lambda h: F.max_pool1d(h[0], 2),
        "max_pool2d": lambda h: F.max_pool2d(h, 3, 1, 1),
        "max_pool3d": lambda h: F.max_pool3d(h, 2),
        "avg_pool2d": lambda h: F.avg_pool2d(h, 2),
        "avg_pool3d": lambda h: F.avg_pool3d(h, 2),
        "adaptive_avg_pool2d_1": lambda h: F.adaptive_avg_pool2d(h, 1),  # a mean: None
        "adaptive_avg_pool2d_3": lambda h: F.adaptive_avg_pool2d(h, 3),
        "adaptive_avg_pool3d": lambda h: F.adaptive_avg_pool3d(h, 3),
        "adaptive_max_pool1d": lambda h: F.adaptive_max_pool1d(h[0], 3),
        "adaptive_max_pool2d": lambda h: F.adaptive_max_pool2d(h, 3, return_indices=True)[0],
        "adaptive_max_pool3d": lambda h: F.adaptive_max_pool3d(h, 3),
        "fractional_max_pool2d": lambda h: F.fractional_max_pool2d(
            h, 2, output_size=2, _random_samples=lib.full((1, 2, 2), 0.5, dtype=h.dtype)
        ),
        "dropout_eval": lambda h: F.dropout(h, 0.5, training=False),  # (None in PyTorch too)
        "interpolate": lambda h: F.interpolate(h, scale_factor=2),  # (None in PyTorch too)
        "nll_loss": lambda h: F.nll_loss(h.reshape(4, 8), lib.tensor([0, 3, 7, 2])),
        "nll_loss_none": lambda h: F.nll_loss(
            h[0], lib.tensor([[0, 1, 1, 0], [3, 2, 1, 0]]), reduction="none"
        ),
    }


def _penalty_grads(lib, name, arrays):
    """d‖∂L/∂x‖²/d(x, w, b) for L = Σ c·op(x·w + b): None where the penalty does not reach."""
    xa, wa, ba, ca = arrays
    x, w, b = (lib.tensor(a, requires_grad=True) for a in (xa, wa, ba))
    out = _ops(lib)[name](x * w + b)
    c = lib.tensor(ca[: out.numel()].reshape(tuple(out.shape)))
    (g,) = lib.autograd.grad((out * c).sum(), x, create_graph=True)
    grads = lib.autograd.grad((g * g).sum(), [x, w, b], allow_unused=True)
    return [None if t is None else np.array(t.detach().tolist()) for t in grads]


@pytest.mark.parametrize("name", sorted(_ops(torch)))
def test_gradient_penalty_reaches_the_input_as_pytorch(name):
    """Zero gradients, not None, for what only a mask or an argmax of the op's backward reads
    (PyTorch's ``self: zeros_like(grad)``): optimizers step zero grads but skip None."""
    rng = np.random.default_rng(0)
    arrays = (
        rng.uniform(-1, 1, (1, 2, 4, 4)),
        rng.uniform(0.5, 1.5, (1, 2, 4, 4)),
        rng.uniform(-0.5, 0.5, (4,)),
        rng.standard_normal(128),
    )
    expected = _penalty_grads(torch, name, arrays)
    got = _penalty_grads(minigrad, name, arrays)
    assert [t is None for t in got] == [t is None for t in expected]
    for a, b in zip(got, expected):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_linked_ops_still_pass_gradgradcheck():
    """The zero link changes no value: second derivatives stay right."""
    F = minigrad.nn.functional
    x = minigrad.randn(1, 2, 5, 5, dtype=minigrad.float64, requires_grad=True)
    for fn in (
        lambda t: F.hardtanh(t * 2),
        lambda t: F.softshrink(t),
        lambda t: F.max_pool2d(t, 2) ** 2,
        lambda t: F.avg_pool2d(t, 2) ** 2,
        lambda t: F.adaptive_max_pool2d(t, 3) ** 2,
    ):
        assert minigrad.autograd.gradgradcheck(fn, (x,))


def _hardsigmoid_double_backward(lib, inplace: bool):
    x = lib.tensor([-4.0, -1.0, 0.5, 2.0], requires_grad=True)
    y = lib.nn.functional.hardsigmoid(x * 1, inplace=inplace)
    (g,) = lib.autograd.grad((y * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError) as info:
        g.sum().backward()
    return g.tolist(), str(info.value)


@pytest.mark.parametrize("inplace", [False, True])
def test_hardsigmoid_double_backward_raises_as_pytorch(inplace):
    """PyTorch implements no derivative of hardsigmoid_backward; hardswish's it does."""
    assert _hardsigmoid_double_backward(minigrad, inplace) == _hardsigmoid_double_backward(
        torch, inplace
    )


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_hardsigmoid_values_and_gradient_bitwise_as_pytorch(dtype):
    """PyTorch's backward multiplies by 1.0f / 6.0f, a float32 constant, in float64 too."""
    rng = np.random.default_rng(0)
    xs, gys = rng.uniform(-5, 5, 200), rng.standard_normal(200)
    xs[:4] = [-3.0, 3.0, float("nan"), 0.0]
    results = []
    for lib in (torch, minigrad):
        x = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.hardsigmoid(x)
        y.backward(lib.tensor(gys, dtype=getattr(lib, dtype)))
        results.append([np.array(t.detach().double().tolist()) for t in (y, x.grad)])
        assert y.grad_fn.name() == "HardsigmoidBackward0"
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def _bce_logits_case(lib, kwargs: dict, dtypes=("float64", "float64")):
    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((3, 4)) * 3, dtype=getattr(lib, dtypes[0]))
    t = lib.tensor(rng.uniform(0, 1, (3, 4)), dtype=getattr(lib, dtypes[1]))
    x.requires_grad_()
    t.requires_grad_()
    kw = {k: lib.tensor(v, dtype=t.dtype) if k.endswith("weight") else v for k, v in kwargs.items()}
    loss = lib.nn.functional.binary_cross_entropy_with_logits(x, t, **kw)
    edges = [None if n is None else type(n).__name__ for n, _ in loss.grad_fn.next_functions]
    up = lib.tensor(
        np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape)), dtype=loss.dtype
    )
    grads = lib.autograd.grad(loss, (x, t), up)
    values = [np.array(v.detach().tolist()) for v in (loss, *grads)]
    return loss.grad_fn.name(), edges, [str(v.dtype).split(".")[1] for v in (loss, *grads)], values


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reduction": "sum", "pos_weight": [0.5, 1.0, 2.0, 3.0]},
        {"reduction": "none", "weight": [0.5, 1.0, 2.0, 3.0], "pos_weight": [2.0, 1, 1, 1]},
    ],
)
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float64", "float32")])
def test_bce_with_logits_is_one_node_as_pytorch(kwargs, dtypes):
    """One node on the logits and the targets (no edges to the weights), gradients of both."""
    name, edges, kinds, values = _bce_logits_case(minigrad, kwargs, dtypes)
    t_name, t_edges, t_kinds, t_values = _bce_logits_case(torch, kwargs, dtypes)
    assert (name, edges, kinds) == (t_name, t_edges, t_kinds)
    for a, b in zip(values, t_values):
        np.testing.assert_allclose(a, b, rtol=1e-6 if "float32" in dtypes else 1e-12)


def test_bce_with_logits_gradgradcheck_and_refused_weights():
    F = minigrad.nn.functional
    x = minigrad.randn(3, 4, dtype=minigrad.float64, requires_grad=True)
    t = minigrad.rand(3, 4, dtype=minigrad.float64, requires_grad=True)
    w, p = minigrad.rand(4, dtype=minigrad.float64), minigrad.rand(4, dtype=minigrad.float64) + 0.5
    for kw in ({"weight": w, "pos_weight": p}, {"pos_weight": p, "reduction": "none"}):
        assert minigrad.autograd.gradgradcheck(
            lambda a, b, kw=kw: F.binary_cross_entropy_with_logits(a, b, **kw), (x, t)
        )
    for lib in (torch, minigrad):  # PyTorch defines no derivative for the weights
        w = lib.rand(4, requires_grad=True)
        for name in ("weight", "pos_weight"):
            message = f"not differentiable with respect to argument '{name}'"
            with pytest.raises(RuntimeError, match=message):
                lib.nn.functional.binary_cross_entropy_with_logits(
                    lib.randn(3, 4), lib.rand(3, 4), **{name: w}
                )
        with lib.no_grad():  # (checked only while grad mode is on)
            lib.nn.functional.binary_cross_entropy_with_logits(
                lib.randn(3, 4), lib.rand(3, 4), weight=w
            )


def _scripted_flags(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.drop, self.k = lib.nn.Linear(2, 2), lib.nn.Dropout(0.5), 3

        def forward(self, x):
            return self.drop(self.lin(x)) * self.k

    model = Net()
    scripted = lib.jit.script(model)
    scripted.eval()
    model.k = 4
    flags = [model.training, model.drop.training, scripted.training, scripted.drop.training]
    model.eval()
    again = lib.jit.script(model.train())
    model.eval()
    shared = scripted.lin.weight is model.lin.weight
    return flags + [again.training, again.drop.training, scripted.k, shared, type(scripted.lin)]


def test_jit_script_has_training_flags_of_its_own_as_pytorch():
    """As PyTorch's script: a copy with its own flags and attributes, holding the parameters."""
    got, expected = _scripted_flags(minigrad), _scripted_flags(torch)
    assert got[:-1] == expected[:-1]
    assert got[-1].__name__ == expected[-1].__name__ == "RecursiveScriptModule"


def _default_reprs(lib):
    """The default reprs a program may print, without their addresses."""
    importlib.import_module(f"{lib.__name__}.nn.utils.prune")
    data = lib.utils.data
    layer = lib.nn.Linear(3, 2)
    lib.nn.utils.prune.random_unstructured(layer, "weight", amount=0.5)
    lib.nn.utils.prune.l1_unstructured(layer, "weight", amount=0.2)
    dataset = data.TensorDataset(lib.arange(6.0))
    objects = [
        *layer._forward_pre_hooks.values(),
        layer.register_forward_hook(lambda *a: None),
        lib.zeros(2, requires_grad=True).register_hook(lambda g: g),
        dataset,
        data.Subset(dataset, [0, 1]),
        data.ConcatDataset([dataset, dataset]),
        data.RandomSampler(dataset),
        data.SequentialSampler(dataset),
        data.BatchSampler(data.SequentialSampler(dataset), 2, False),
        data.DataLoader(dataset),
        lib.amp.GradScaler("cpu", enabled=False),
    ]
    return [repr(o).split(" object at ")[0] for o in objects]


def test_default_object_reprs_name_the_imported_module():
    """Under as_torch, ``print(list(hooks))`` shows torch.nn.utils.prune..., as PyTorch."""
    from minigrad import _public_name

    before = _public_name.show_as("torch")
    try:
        got = _default_reprs(minigrad)
    finally:
        _public_name.show_as(before)
    assert got == _default_reprs(torch)
    assert _default_reprs(minigrad)[0] == "<minigrad.nn.utils.prune.PruningContainer"


def test_version_compares_as_pytorchs_torch_version():
    """``__version__ >= (2, 0)``, ``< "1.13"``: PEP 440's order, as torch.torch_version's."""
    from minigrad.torch_version import TorchVersion

    versions = ["2.13.0+cpu", "0.1.0", "2.0", "1.13.0a0", "1.13.0.dev2022", "1.13.0rc1"]
    versions += ["1.13.0.post1", "1.10", "1.9", "2.1.0a0+git12", "1.0+1", "1.0+abc", "parrot"]
    others = versions + [(2, 0), (1, 13), [1, 9]]
    for a, b in ((a, b) for a in versions for b in others):
        for op in ("__gt__", "__lt__", "__ge__", "__le__", "__eq__"):
            expected = getattr(torch.torch_version.TorchVersion(a), op)(b)
            assert getattr(TorchVersion(a), op)(b) == expected, (a, op, b)
    version = minigrad.__version__
    assert isinstance(version, str) and version.split(".")[0].isdigit() and {version: 1}
    assert version >= (0, 1) and version < "999"


def test_rrelu_in_training_keeps_its_input_in_a_penalty_graph():
    """Random slopes: the gradient penalty's derivative in x is zero (not an error), as PyTorch's."""
    for lib in (torch, minigrad):
        x = lib.tensor([-1.0, 0.5, -0.2], requires_grad=True)
        (g,) = lib.autograd.grad(
            lib.nn.functional.rrelu(x, training=True).sum(), x, create_graph=True
        )
        (h,) = lib.autograd.grad((g * g).sum(), x)
        assert h.tolist() == [0.0, 0.0, 0.0]
