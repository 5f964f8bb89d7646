"""minigrad.library (custom ops), minigrad.utils.benchmark (Timer, Measurement, Compare) and
minigrad.signal.windows, each compared with PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
import minigrad.library as mlib
import minigrad.utils.benchmark as mbench
from minigrad.signal import windows as mw

torch = pytest.importorskip("torch")

# -- minigrad.signal.windows ----------------------------------------------------------------

_WINDOW_KW = {
    "general_cosine": {"a": [0.4, 0.35, 0.25]},
    "general_hamming": {"alpha": 0.6},
    "kaiser": {"beta": 5.0},
    "gaussian": {"std": 1.7},
    "exponential": {"tau": 2.5},
}


@pytest.mark.parametrize("name", mw.__all__)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_window_values_match_torch(name, dtype):
    kw = _WINDOW_KW.get(name, {})
    for M in (0, 1, 2, 5, 8):
        for sym in (True, False):
            want = getattr(torch.signal.windows, name)(
                M, sym=sym, dtype=getattr(torch, dtype), **kw
            )
            got = getattr(mw, name)(M, sym=sym, dtype=getattr(minigrad, dtype), **kw)
            assert got.dtype == getattr(minigrad, dtype)
            tol = 1e-6 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=tol, atol=tol)


def test_window_defaults_and_periodic_center():
    assert mw.hann(5).dtype == minigrad.get_default_dtype()
    w = mw.hann(4, requires_grad=True)
    # a sum of cosine terms built from leaves, as PyTorch's (not a leaf itself)
    assert w.requires_grad and w.is_leaf is torch.signal.windows.hann(4, requires_grad=True).is_leaf
    assert mw.hann(3, layout=minigrad.strided).shape == (3,)
    on_device = mw.gaussian(6, std=2.0, device="fakegpu", dtype=minigrad.float64)
    assert on_device.device.type == "fakegpu"
    np.testing.assert_allclose(on_device.cpu().numpy(), mw.gaussian(6, std=2.0).numpy(), 1e-6)
    got = mw.exponential(5, center=1.3, sym=False, dtype=minigrad.float64)
    want = torch.signal.windows.exponential(5, center=1.3, sym=False, dtype=torch.float64)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


_BAD_WINDOWS = [
    ("hann", (-1,), {}),
    ("bartlett", (-2,), {}),
    ("kaiser", (3,), {"dtype": "int64"}),
    ("cosine", (3,), {"dtype": "float16"}),
    ("nuttall", (3,), {"dtype": "int64"}),
    ("gaussian", (4,), {"std": 0.0}),
    ("exponential", (4,), {"tau": 0.0}),
    ("exponential", (4,), {"center": 1.0}),
    ("kaiser", (4,), {"beta": -1.0}),
    ("general_cosine", (4,), {"a": []}),
]


@pytest.mark.parametrize("name, args, kw", _BAD_WINDOWS)
def test_window_errors_match_torch(name, args, kw):
    def call(lib, fns):
        kwargs = {k: getattr(lib, v) if k == "dtype" else v for k, v in kw.items()}
        with pytest.raises(Exception) as info:
            getattr(fns, name)(*args, **kwargs)
        return info

    want, got = call(torch, torch.signal.windows), call(minigrad, mw)
    assert got.type is want.type
    assert str(want.value).replace("torch.", "minigrad.") in str(got.value)


def test_window_type_errors():
    with pytest.raises(TypeError, match="list/tuple"):
        mw.general_cosine(4, a=1)
    with pytest.raises(TypeError, match="must be an int"):
        mw.hann(2.5)
    with pytest.raises(ValueError, match="strided"):
        mw.hann(3, layout=torch.sparse_coo)


# -- minigrad.library -------------------------------------------------------------------------


def _pair(src: str):
    """The same annotated function for minigrad and for torch (``T`` is each one's Tensor)."""
    out = []
    for lib in (minigrad, torch):
        scope = {"T": lib.Tensor, "Optional": __import__("typing").Optional, "lib": lib}
        exec(src, scope)
        out.append(scope["f"])
    return out


_SCHEMAS = [
    ("def f(x: T, y: float) -> T: ...", ()),
    ("def f(x: T, n: int, b: bool = True, s: str = 'a', o: Optional[T] = None) -> T: ...", ()),
    ("def f(x: T, l: list[T], li: list[int] = None, *, f: float = 1.5) -> tuple[T, T]: ...", ()),
    ("def f(x: T, y: T) -> list[T]: ...", ("x", "y")),
    ("def f(x: T, y: float) -> None: ...", "unknown"),
    ("def f(x: T, d: lib.dtype = lib.float64) -> T: ...", ()),
]


@pytest.mark.parametrize("src, mutates", _SCHEMAS)
def test_infer_schema_matches_torch(src, mutates):
    mg_fn, torch_fn = _pair(src)
    want = torch.library.infer_schema(torch_fn, mutates_args=mutates)
    assert mlib.infer_schema(mg_fn, mutates_args=mutates) == want


@pytest.mark.parametrize(
    "src, mutates",
    [("def f(x, y: float) -> T: ...", ()), ("def f(x: T) -> T: ...", ("y",)),
     ("def f(x: int) -> T: ...", ("x",)), ("def f(x: T, y: dict) -> T: ...", ())],
)  # fmt: skip
def test_infer_schema_errors_match_torch(src, mutates):
    mg_fn, torch_fn = _pair(src)
    with pytest.raises(ValueError) as want:
        torch.library.infer_schema(torch_fn, mutates_args=mutates)
    with pytest.raises(ValueError) as got:
        mlib.infer_schema(mg_fn, mutates_args=mutates)
    want_text = str(want.value).split(" Got func")[0].split(" The valid")[0]
    assert want_text.split(" unsupported type")[0] in str(got.value)


def _define_cube(lib, ns):
    """x³·a with numpy inside (opaque to autograd), differentiable through register_autograd."""

    def cube(x, a):
        return lib.from_numpy(x.detach().numpy() ** 3 * a)

    cube.__annotations__ = {"x": lib.Tensor, "a": float, "return": lib.Tensor}
    cube = lib.library.custom_op(f"{ns}::cube", cube, mutates_args=())

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.a = inputs[1]

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * ctx.a * x**2, None

    cube.register_autograd(backward, setup_context=setup_context)
    return cube


def test_custom_op_grads_and_double_backward_match_torch():
    mg_cube, torch_cube = _define_cube(minigrad, "mgt_cube"), _define_cube(torch, "mgt_cube")
    data = np.array([0.5, -1.2, 2.0])
    results = []
    for lib, cube in ((minigrad, mg_cube), (torch, torch_cube)):
        x = lib.tensor(data, requires_grad=True)
        y = cube(x, 1.5)
        (gx,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (ggx,) = lib.autograd.grad((gx * gx).sum(), x)
        results.append([t.detach().numpy() for t in (y, gx, ggx)])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert repr(mg_cube) == "<CustomOpDef(mgt_cube::cube)>"
    assert mg_cube._schema == torch_cube._schema
    out = minigrad.ops.mgt_cube.cube(minigrad.tensor([2.0]), 1.0)
    assert out.tolist() == [8.0] and minigrad.ops.mgt_cube.cube.default is not None
    names = ["test_schema", "test_autograd_registration", "test_aot_dispatch_dynamic"]
    args = (minigrad.tensor(data, requires_grad=True), 1.5)
    assert mlib.opcheck(mg_cube, args, test_utils=names) == dict.fromkeys(names, "SUCCESS")


def test_minigrad_ops_package_unchanged():
    assert minigrad.ops.add is not None and not hasattr(minigrad.ops, "no_such_namespace")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _define_cube(minigrad, "mgt_ns")
        minigrad.ops.mgt_ns.nope  # noqa: B018
    assert mlib.ops.mgt_ns.cube(minigrad.tensor([1.0]), 2.0).tolist() == [2.0]


def _plain(lib, ns, body="x.clone()", mutates=(), **kw):
    scope = {"T": lib.Tensor}
    exec(f"def f(x: T, y: T) -> T:\n    return {body}", scope)
    return lib.library.custom_op(f"{ns}::f", scope["f"], mutates_args=mutates, **kw)


def test_custom_op_errors_match_torch():
    for lib in (minigrad, torch):  # no backward registered: the error comes at backward
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="no autograd formula was registered"):
            _plain(lib, "mgt_e1", "x * 2")(x, lib.ones(2)).sum().backward()
    for lib in (minigrad, torch):
        op = _plain(lib, "mgt_e3", "x * y")
        op.register_autograd(lambda ctx, g: (g,))
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            op(lib.ones(2, requires_grad=True), lib.ones(2)).sum().backward()
        with pytest.raises(RuntimeError, match="non-functional operator"):
            _plain(lib, "mgt_e4", "x.clone()", mutates=("x",)).register_autograd(lambda c, g: g)
        with pytest.raises(RuntimeError, match="must not also be an input"):
            _plain(lib, "mgt_e5", "x")(lib.ones(2), lib.ones(2))
        with pytest.raises(NotImplementedError, match="mgt_e6::f"):
            _plain(lib, "mgt_e6", device_types="cuda")(lib.ones(2), lib.ones(2))
        with pytest.raises(
            RuntimeError, match="Expected a value of type 'Tensor' for argument 'y'"
        ):
            _plain(lib, "mgt_e7")(lib.ones(2), "no")
        with pytest.raises(ValueError):
            lib.library.custom_op("no_namespace", mutates_args=())(lambda x: x)
        with pytest.raises(TypeError, match="mutates_args"):
            lib.library.custom_op("mgt_e8::f")


def test_register_kernel_fake_and_functional_forms():
    op = _plain(minigrad, "mgt_k", "x + y", device_types="cpu")
    with pytest.raises(NotImplementedError, match="fakegpu"):
        op(minigrad.ones(1, device="fakegpu"), minigrad.ones(1, device="fakegpu"))
    mlib.register_kernel("mgt_k::f", "fakegpu", lambda x, y: x - y)
    assert op(minigrad.ones(1, device="fakegpu"), minigrad.ones(1, device="fakegpu")).item() == 0
    assert op(minigrad.ones(1), minigrad.ones(1)).item() == 2

    @op.register_kernel("cpu")
    def _(x, y):
        return x * 10

    assert op(minigrad.ones(1), minigrad.ones(1)).item() == 10  # a later kernel replaces
    fake = mlib.register_fake("mgt_k::f")(lambda x, y: minigrad.empty_like(x))
    assert op.register_fake(fake) is fake  # registering again replaces, as torch's CustomOpDef
    assert mlib.opcheck(op, (minigrad.ones(2), minigrad.ones(2)), test_utils="test_faketensor")
    mlib.register_fake("mgt_k::f", lambda x, y: x.sum())
    with pytest.raises(mlib.OpCheckError, match="fake impl"):
        mlib.opcheck(op, (minigrad.ones(2), minigrad.ones(2)), test_utils="test_faketensor")
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):  # as torch.ops' lookup
        mlib.register_autograd("mgt_k::nope", lambda ctx, g: g)
    with op.set_kernel_enabled("cpu", False):  # back to the op's own function
        assert op(minigrad.ones(1), minigrad.ones(1)).item() == 2
    assert op(minigrad.ones(1), minigrad.ones(1)).item() == 10
    with pytest.raises(NotImplementedError, match="register_vmap is not supported"):
        op.register_vmap(lambda *a: a)


def test_namespace_named_like_a_builtin_stays_reachable():
    _define_cube(minigrad, "linalg")
    assert minigrad.ops.linalg is not mlib.ops.linalg  # the built-in module keeps its name
    assert mlib.ops.linalg.cube(minigrad.tensor([2.0]), 1.0).tolist() == [8.0]


def test_opcheck_finds_undeclared_mutation_and_wrong_backward():
    op = _plain(minigrad, "mgt_o1", "x.add_(1).clone()")
    res = mlib.opcheck(op, (minigrad.ones(2), minigrad.ones(2)), test_utils="test_schema",
                       raise_exception=False)  # fmt: skip
    assert isinstance(res["test_schema"], mlib.OpCheckError)
    op = _plain(minigrad, "mgt_o2", "x * y")
    op.register_autograd(lambda ctx, g: (g, None))  # wrong: d/dx (x*y) = y
    args = (minigrad.rand(3, requires_grad=True) + 2, minigrad.rand(3) + 2)
    with pytest.raises(mlib.OpCheckError, match="gradcheck"):
        mlib.opcheck(op, args, test_utils="test_aot_dispatch_dynamic")
    with pytest.raises(mlib.OpCheckError, match="register_autograd"):
        mlib.opcheck(_plain(minigrad, "mgt_o3"), args, test_utils="test_autograd_registration")


def test_define_impl_library():
    for lib in (minigrad, torch):
        lib.library.define("mgt_d::scale", "(Tensor x, *, float a=1.0) -> Tensor")
        with pytest.raises(RuntimeError, match="multiple times"):
            lib.library.define("mgt_d::scale", "(Tensor x) -> Tensor")
        with pytest.raises(NotImplementedError):
            lib.ops.mgt_d.scale(lib.ones(2))
        lib.library.impl("mgt_d::scale", "cpu", lambda x, *, a: x * a)
        assert lib.ops.mgt_d.scale(lib.ones(2), a=3.0).tolist() == [3.0, 3.0]
        my = lib.library.Library("mgt_lib", "DEF")
        my.define("bar(Tensor x) -> Tensor")
        my.impl("bar", lambda x: x * 3, "CPU")
        assert lib.ops.mgt_lib.bar(lib.ones(1)).tolist() == [3.0]
        with pytest.raises(ValueError):
            lib.library.Library("mgt_lib2", "XYZ")
        legacy = lib.library.Library("mgt_lib3", "DEF")  # the decorators' Library overloads
        legacy.define("scale(Tensor x, float s) -> Tensor")
        lib.library.impl(legacy, "scale", "CPU")(lambda x, s: x * s)
        lib.library.define(legacy, "twice(Tensor x) -> Tensor")(lambda x: x * 2)
        assert lib.ops.mgt_lib3.scale(lib.ones(2), 3.0).tolist() == [3.0, 3.0]
        assert lib.ops.mgt_lib3.twice(lib.ones(1)).tolist() == [2.0]


# -- minigrad.utils.benchmark -----------------------------------------------------------------
def _measurements(times, n=10, **spec):
    """The same data as a torch Measurement and a minigrad one."""
    from torch.utils.benchmark.utils.common import Measurement as TorchM
    from torch.utils.benchmark.utils.common import TaskSpec as TorchSpec

    spec = {"stmt": "f()", "setup": "pass", **spec}
    raw = list(np.asarray(times) * n)
    return TorchM(n, raw, TorchSpec(**spec)), mbench.Measurement(n, raw, mbench.TaskSpec(**spec))


_MEASUREMENT_CASES = [
    (
        [1.2e-7, 1.3e-7, 1.25e-7, 1.9e-7, 1.21e-7],
        {"label": "add", "sub_label": "s", "setup": "x=1"},
    ),
    ([1.2e-6, 3e-6, 1e-6, 5e-6], {"num_threads": 4, "env": "e1", "description": "D"}),
    ([1.5, 1.6, 1.55, 1.7], {"sub_label": "big"}),
    ([0.123456], {}),
    ([0.1234, 0.2], {"stmt": "a = 1\nb = 2", "setup": "x = 1\ny = 2"}),
    (1e-3 * (1 + 1e-4 * np.arange(20)), {"label": "L", "description": "many"}),
]


@pytest.mark.parametrize("times, spec", _MEASUREMENT_CASES)
def test_measurement_matches_torch(times, spec):
    want, got = _measurements(times, **spec)
    assert repr(got).splitlines()[1:] == repr(want).splitlines()[1:]
    for name in ("median", "iqr", "mean"):
        assert getattr(got, name) == pytest.approx(getattr(want, name), rel=1e-12)
    for name in ("significant_figures", "has_warnings", "title", "env", "as_row_name"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.times == pytest.approx(want.times, rel=1e-12)
    assert got.meets_confidence(0.5) == want.meets_confidence(0.5)


def test_compare_matches_torch():
    rng = np.random.default_rng(0)
    pairs = []
    for label in ("add", None):
        for sub, base, noise in (("small", 1.2e-6, 0.002), ("large", 3.4e-4, 0.3)):
            for desc, f in (("float", 1.0), ("double", 1.7)):
                for threads in (1, 4):
                    for env in ("e1", "env2"):
                        t = base * f / threads * (1 + noise * rng.standard_normal(7))
                        spec = {"label": label, "sub_label": sub, "description": desc}
                        pairs.append(_measurements(t, num_threads=threads, env=env, **spec))
    subsets = [pairs, pairs[:4], [p for p in pairs if p[0].env == "e1"], pairs[::3]]
    for subset, options in zip(subsets * 2, [(), ("trim",), ("color",), ("row", "warn"),
                                             ("trim", "color", "warn"), ("warn",), ("trim", "row"),
                                             ("trim",)]):  # fmt: skip
        tables = []
        for lib, k in ((torch.utils.benchmark, 0), (mbench, 1)):
            c = lib.Compare([p[k] for p in subset])
            if "trim" in options:
                c.trim_significant_figures()
            if "color" in options or "row" in options:
                c.colorize(rowwise="row" in options)
            if "warn" in options:
                c.highlight_warnings()
            tables.append(str(c))
        assert tables[1] == tables[0], options
    with pytest.raises(ValueError, match="Measurement"):
        mbench.Compare([1.0])


def test_timer(capsys):
    minigrad.set_num_threads(1)
    timer = mbench.Timer("x + y", setup="y = 2", global_setup="z = 0", globals={"x": 1},
                         label="add", sub_label="ints", num_threads=2)  # fmt: skip
    m = timer.timeit(number=100)
    assert m.number_per_run == 100 and len(m.times) == 1 and m.median > 0 and m.label == "add"
    assert minigrad.get_num_threads() == 1  # restored after the measurement
    blocks = []
    m = timer.blocked_autorange(callback=lambda n, t: blocks.append((n, t)), min_run_time=0.01)
    assert len(blocks) == len(m.times) and sum(t for _, t in blocks) >= 0.01
    m = timer.adaptive_autorange(threshold=0.5, max_run_time=0.05)
    assert len(m.times) >= 1 and isinstance(m, mbench.Measurement)
    mbench.Compare([m]).print()
    assert "add" in capsys.readouterr().out
    for method in (timer.repeat, timer.autorange, timer.collect_callgrind):
        with pytest.raises(NotImplementedError, match="blocked_autorange|wall time"):
            method()
    with pytest.raises(NotImplementedError, match="cpp"):
        mbench.Timer("x", language="cpp")


def _define_two_outputs(lib, ns):
    def two(x, y):
        a, b = x.detach().numpy(), y.detach().numpy()
        return lib.from_numpy(a * b), lib.from_numpy(a + b)

    two.__annotations__ = {
        "x": lib.Tensor,
        "y": lib.Tensor,
        "return": tuple[lib.Tensor, lib.Tensor],
    }
    op = lib.library.custom_op(f"{ns}::two", two, mutates_args=())

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    def backward(ctx, grad_product, grad_sum):
        x, y = ctx.saved_tensors
        return grad_product * y + grad_sum, grad_product * x + grad_sum

    op.register_autograd(backward, setup_context=setup_context)
    return op


def test_custom_op_with_two_outputs_matches_torch():
    grads = []
    for lib in (minigrad, torch):
        op = _define_two_outputs(lib, "mgt_two")
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([3.0, -1.0], dtype=lib.float64, requires_grad=True)
        product, total = op(x, y)
        (product.sum() * 2 + (total * total).sum()).backward()
        grads.append([x.grad.numpy(), y.grad.numpy()])
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want)
    assert (
        _define_two_outputs(minigrad, "mgt_two")._schema
        == "(Tensor x, Tensor y) -> (Tensor, Tensor)"
    )
