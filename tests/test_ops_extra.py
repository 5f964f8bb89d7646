"""Issue 12's tensor ops beyond the op table: in-place twins, errors, edge cases, dtype limits,
the legacy constructors and the factory overloads, each against PyTorch where it has them.
(Gradients, gradgradcheck and forward values of every op are in the op table.)"""

import math

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def both(values, dtype="float64"):
    a = np.asarray(values, dtype=dtype)
    return minigrad.tensor(a), torch.tensor(a)


def close(a, b, **kw):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **kw)


# -- in-place twins -------------------------------------------------------------------------------

INDEX = [[0, 1, 0, 2], [2, 0, 1, 1]]
INPLACE = [
    ("scatter_", lambda m, x, s: x.scatter_(0, m.tensor(INDEX), s[:2])),
    ("scatter_value", lambda m, x, s: x.scatter_(0, m.tensor(INDEX), 2.5)),
    ("scatter_add_", lambda m, x, s: x.scatter_add_(0, m.tensor(INDEX), s[:2])),
    (
        "scatter_reduce_",
        lambda m, x, s: x.scatter_reduce_(0, m.tensor(INDEX), s[:2], "amax", include_self=False),
    ),
    ("index_add_", lambda m, x, s: x.index_add_(1, m.tensor([3, 0, 3]), s[:3, :3], alpha=-2)),
    ("index_copy_", lambda m, x, s: x.index_copy_(1, m.tensor([3, 0]), s[:3, :2])),
    ("index_fill_", lambda m, x, s: x.index_fill_(0, m.tensor([2]), -7.0)),
    ("masked_scatter_", lambda m, x, s: x.masked_scatter_(x > 0, s)),
    ("cumsum_", lambda m, x, s: x.cumsum_(1)),
    ("cumprod_", lambda m, x, s: x.cumprod_(0)),
    ("addmm_", lambda m, x, s: x.addmm_(s[:3, :3], s[:3, :], beta=0.5)),
    ("lerp_", lambda m, x, s: x.lerp_(s[:3], 0.25)),
]


@pytest.mark.parametrize("name,fn", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_twins_match_torch_and_write_in_place(name, fn):
    rng = np.random.default_rng(0)
    x0, s0 = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (4, 4))
    xm, xt = minigrad.tensor(x0), torch.tensor(x0)
    out_m = fn(minigrad, xm, minigrad.tensor(s0))
    fn(torch, xt, torch.tensor(s0))
    assert out_m is xm
    close(xm, xt, rtol=1e-12, atol=1e-12)


def test_inplace_scatter_records_the_gradient_as_pytorch():
    rng = np.random.default_rng(1)
    x0, s0 = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (2, 4))
    grads = []
    for m in (minigrad, torch):
        x = m.tensor(x0, requires_grad=True)
        s = m.tensor(s0, requires_grad=True)
        y = x * 2
        y.index_add_(0, m.tensor([2, 0]), s * s).scatter_(1, m.tensor([[1], [3], [0]]), 0.5)
        (y * m.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        grads.append((x.grad, s.grad))
    for a, b in zip(*grads):
        close(a, b, rtol=1e-12)


# -- behaviour and errors ------------------------------------------------------------------------


def test_index_fill_takes_negative_positions_as_pytorch():
    xm, xt = both([[1.0, 2.0], [3.0, 4.0]])
    close(xm.index_fill(1, minigrad.tensor([-1]), 0.0), xt.index_fill(1, torch.tensor([-1]), 0.0))


def test_cummax_cummin_propagate_nan_like_pytorch():
    xm, xt = both([1.0, math.nan, 3.0, 0.5])
    for name in ("cummax", "cummin"):
        vm, im = getattr(xm, name)(0)
        vt, it = getattr(xt, name)(0)
        np.testing.assert_array_equal(vm.numpy(), vt.numpy())
        np.testing.assert_array_equal(im.numpy(), it.numpy())


def test_cumprod_gradient_with_several_zeros_matches_torch():
    values = [[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 0.0, 1.0, 2.0, -1.0]]
    grads = []
    for m in (minigrad, torch):
        x = m.tensor(values, dtype=m.float64, requires_grad=True)
        w = m.tensor(np.arange(10.0).reshape(2, 5))
        (g,) = m.autograd.grad((x.cumprod(1) * w).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)  # second order, through the zeros
        grads.append((g, gg))
    for a, b in zip(*grads):
        close(a, b)


def test_unique_options_and_device(device):
    x = minigrad.tensor([[3, 1], [3, 2]], device=device)
    values, inverse, counts = minigrad.unique(
        x, sorted=False, return_inverse=True, return_counts=True
    )
    assert values.tolist() == [1, 2, 3] and counts.tolist() == [1, 1, 2]
    assert inverse.tolist() == [[2, 0], [2, 1]]
    assert values.device == x.device


def test_searchsorted_with_sorter_matches_torch():
    seq, values, order = [5.0, 1.0, 3.0], [[3.0, 0.0], [6.0, 1.0]], [1, 2, 0]
    a = minigrad.searchsorted(
        minigrad.tensor(seq), minigrad.tensor(values), sorter=minigrad.tensor(order)
    )
    b = torch.searchsorted(torch.tensor(seq), torch.tensor(values), sorter=torch.tensor(order))
    assert a.tolist() == b.tolist()


def test_bincount_and_searchsorted_errors():
    with pytest.raises(RuntimeError, match="non-negative"):
        minigrad.bincount(minigrad.tensor([1, -1]))
    with pytest.raises(NotImplementedError, match="bincount_cpu"):  # as PyTorch
        minigrad.bincount(minigrad.tensor([1.0]))
    with pytest.raises(RuntimeError, match="boundaries"):
        minigrad.searchsorted(minigrad.zeros(2, 3), minigrad.zeros(3, 1))
    with pytest.raises(RuntimeError, match="opposites"):
        minigrad.searchsorted(minigrad.zeros(3), minigrad.zeros(1), right=True, side="left")
    scalar = minigrad.searchsorted(minigrad.tensor([1.0, 3.0, 5.0]), 3.0, right=True)
    assert scalar.shape == () and scalar.item() == 2


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda m: m.zeros(2, 3).scatter(0, m.zeros(1, 3), 1.0), RuntimeError, "int64"),
        (
            lambda m: m.zeros(3).scatter_reduce(0, m.tensor([0]), m.ones(1), "maxx"),
            RuntimeError,
            "reduce",
        ),
        (
            lambda m: m.zeros(3, 2).index_add(0, m.tensor([0, 1]), m.ones(3, 2)),
            RuntimeError,
            "source",
        ),
        (lambda m: m.zeros(3).scatter(0, m.tensor([3]), 1.0), RuntimeError, "out of bounds"),
        (lambda m: m.zeros(3).scatter(0, m.tensor([-1]), 1.0), RuntimeError, "out of bounds"),
        (
            lambda m: m.zeros(3).scatter_reduce(0, m.tensor([5]), m.ones(1), "sum"),
            RuntimeError,
            "out of bounds",
        ),
        (lambda m: m.zeros(3).index_add(0, m.tensor([-1]), m.ones(1)), IndexError, "out of"),
        (lambda m: m.zeros(3).index_copy(0, m.tensor([3]), m.ones(1)), IndexError, "out of"),
        (lambda m: m.zeros(3).index_fill(0, m.tensor([-4]), 1.0), IndexError, "out of"),
        (lambda m: m.zeros(2, 2, 2).diag(), RuntimeError, "1D or 2D"),
        (lambda m: m.zeros(3).trace(), RuntimeError, "matrix"),
        (lambda m: m.tensordot(m.zeros(2, 3), m.zeros(4, 5), 1), RuntimeError, "match"),
        (lambda m: m.meshgrid(m.zeros(2), indexing="yx"), RuntimeError, "indexing"),
        (lambda m: m.zeros(3).roll((1, 2), (0,)), RuntimeError, "align"),
        (
            lambda m: m.zeros(2, 2).masked_scatter(m.ones(2, 2).bool(), m.ones(3)),
            RuntimeError,
            "at least 4",
        ),
        (lambda m: m.cdist(m.zeros(2, 3), m.zeros(2, 4)), RuntimeError, "columns"),
        (lambda m: m.zeros(2).diagonal(), RuntimeError, "2 dimensions"),
        (lambda m: m.zeros(2).diff(dim=1), IndexError, "range"),
    ],
)
def test_bad_input_raises_pytorchs_exception(call, error, match):
    with pytest.raises(error, match=match):
        call(minigrad)
    with pytest.raises(Exception):  # noqa: B017 - PyTorch raises too (its own wording)
        call(torch)


def test_isclose_and_allclose_match_torch():
    am, at = both([1.0, 2.0, math.inf, math.nan, -math.inf])
    bm, bt = both([1.0 + 1e-7, 2.1, math.inf, math.nan, math.inf])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.1}):
        assert minigrad.isclose(am, bm, **kw).tolist() == torch.isclose(at, bt, **kw).tolist()
    assert minigrad.allclose(am[:1], bm[:1]) == torch.allclose(at[:1], bt[:1])
    assert not minigrad.allclose(am, bm)


def test_clamp_with_tensor_bounds_keeps_pytorch_order_when_min_exceeds_max():
    xm, xt = both([-2.0, 0.0, 2.0])
    lom, lot = both([1.0, 1.0, 1.0])
    him, hit = both([0.0, 0.5, 3.0])
    close(xm.clamp(lom, him), xt.clamp(lot, hit))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_a_tensor_second_argument_are_elementwise_as_pytorch(name):
    """``torch.max(x, y)`` is ``torch.maximum`` (the PGD projection idiom), and so are the
    method form and ``other=``; a dim or keepdim with a tensor ``other`` is a TypeError."""
    values = [[1.0, 5.0, -2.0], [3.0, 2.0, 0.5]]
    xm, xt = (lib.tensor(values, requires_grad=True) for lib in (minigrad, torch))
    ym, yt = minigrad.tensor([2.0, 4.0, 0.5]), torch.tensor([2.0, 4.0, 0.5])
    weights = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    for x, y, lib in ((xm, ym, minigrad), (xt, yt, torch)):
        out = getattr(lib, name)(x, y) + 2 * getattr(x, name)(y) + getattr(lib, name)(x, other=y)
        (out * lib.tensor(weights)).sum().backward()
    assert getattr(minigrad, name)(xm, ym).tolist() == getattr(torch, name)(xt, yt).tolist()
    assert xm.grad.tolist() == xt.grad.tolist()
    assert getattr(minigrad, name)(xm, 1)[1].tolist() == getattr(torch, name)(xt, 1)[1].tolist()
    for bad in (lambda lib, x, y: getattr(lib, name)(x, y, True),
                lambda lib, x, y: getattr(lib, name)(x, other=2.0),
                lambda lib, x, y: getattr(lib, name)(x, 1, other=y)):  # fmt: skip
        with pytest.raises(TypeError):
            bad(torch, xt, yt)
        with pytest.raises(TypeError, match=name):
            bad(minigrad, xm, ym)


def test_nan_to_num_on_integers_and_float16():
    assert minigrad.nan_to_num(minigrad.tensor([1, 2])).tolist() == [1, 2]
    x = minigrad.tensor([math.inf, -math.inf, math.nan], dtype=minigrad.float16)
    t = torch.tensor([math.inf, -math.inf, math.nan], dtype=torch.float16)
    assert minigrad.nan_to_num(x).tolist() == torch.nan_to_num(t).tolist()


def test_logical_ops_as_functions_and_methods():
    a, b = minigrad.tensor([0, 1, 2]), minigrad.tensor([1.0, 0.0, 3.0])
    assert minigrad.logical_and(a, b).tolist() == [False, False, True]
    assert a.logical_or(b).tolist() == [True, True, True]
    assert minigrad.logical_xor(a, b).tolist() == [True, True, False]
    assert minigrad.logical_not(a).tolist() == [True, False, False]


# -- finfo / iinfo -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_matches_torch(name):
    fm, ft = minigrad.finfo(getattr(minigrad, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(fm, attr) == getattr(ft, attr), attr
    assert fm.dtype == ft.dtype
    assert minigrad.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    im, it = minigrad.iinfo(getattr(minigrad, name)), torch.iinfo(getattr(torch, name))
    assert (im.bits, im.min, im.max, im.dtype) == (it.bits, it.min, it.max, it.dtype)


def test_finfo_rejects_integer_dtypes():
    with pytest.raises(TypeError):
        minigrad.finfo(minigrad.int64)
    with pytest.raises(TypeError):
        minigrad.iinfo(minigrad.float32)


# -- legacy constructors ---------------------------------------------------------------------------

LEGACY = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_typed_constructors_match_torch(name):
    cm, ct = getattr(minigrad, name), getattr(torch, name)
    for args in [(3,), (2, 3), ([1, 0, 2],), ([[1, 2], [3, 4]],), ()]:
        a, b = cm(*args), ct(*args)
        assert a.shape == tuple(b.shape) and a.dtype.name == str(b.dtype).split(".")[1]
        if args and isinstance(args[0], list):
            assert a.tolist() == b.tolist()
    assert isinstance(cm(2), cm) and isinstance(ct(2), ct)
    other = minigrad.zeros(2, dtype=minigrad.float16)
    assert not isinstance(other, cm)


def test_tensor_legacy_constructor_matches_torch():
    for args in [(2, 3), (4,), ([1, 2],), ([[1.5], [2.5]],), (np.arange(3),), ()]:
        a, b = minigrad.Tensor(*args), torch.Tensor(*args)
        assert a.shape == tuple(b.shape) and a.dtype is minigrad.float32
        if args and not isinstance(args[0], int):  # data, not sizes (uninitialised in torch)
            assert a.tolist() == b.tolist()
    assert minigrad.Tensor(minigrad.tensor([1, 2])).dtype is minigrad.float32
    assert minigrad.Tensor(2, 3, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="sequence"):
        minigrad.Tensor(2.5)
    with pytest.raises(RuntimeError, match="negative"):
        minigrad.LongTensor(-1)


def test_tensor_type_names_and_conversions():
    x = minigrad.zeros(2)
    assert x.type() == "minigrad.FloatTensor"
    assert x.type(minigrad.LongTensor).dtype is minigrad.int64
    assert x.type("torch.DoubleTensor").dtype is minigrad.float64
    assert x.type(minigrad.int32).dtype is minigrad.int32


# -- factory overloads ---------------------------------------------------------------------------


def test_randint_overloads_match_torch():
    for args, kw in [
        ((5, (2, 3)), {}),
        ((2, 5, (4,)), {}),
        ((3,), {"size": (2,)}),
        ((), {"high": 4, "size": [3]}),
        ((1, 9, (2, 2)), {"dtype": minigrad.int32}),
    ]:
        tkw = {k: (torch.int32 if v is minigrad.int32 else v) for k, v in kw.items()}
        a, b = minigrad.randint(*args, **kw), torch.randint(*args, **tkw)
        assert a.shape == tuple(b.shape) and a.dtype.name == str(b.dtype).split(".")[1]
    a = minigrad.randint(2, 5, (1000,))
    assert int(a.min()) == 2 and int(a.max()) == 4
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.randint(5, (2,), requires_grad=True)


def test_factories_take_sizes_as_varargs_or_one_sequence():
    for f in ("zeros", "ones", "empty", "rand", "randn"):
        for args in [(2, 3), ((2, 3),), ([2, 3],)]:
            assert getattr(minigrad, f)(*args).shape == (2, 3)


def test_factory_keywords_generator_device_dtype_requires_grad():
    g1, g2 = minigrad.Generator().manual_seed(7), minigrad.Generator().manual_seed(7)
    for f in (minigrad.rand, minigrad.randn):
        a = f(3, generator=g1, dtype=minigrad.float64, device="cpu", requires_grad=True)
        b = f(3, generator=g2, dtype=minigrad.float64, device="cpu", requires_grad=True)
        assert a.requires_grad and a.dtype is minigrad.float64 and a.tolist() == b.tolist()
    assert (
        minigrad.randint(9, (4,), generator=g1).tolist()
        == minigrad.randint(9, (4,), generator=g2).tolist()
    )
    assert (
        minigrad.randperm(5, generator=g1).tolist() == minigrad.randperm(5, generator=g2).tolist()
    )
    x = minigrad.zeros(2, 2)
    assert minigrad.randn_like(x, requires_grad=True).requires_grad
    assert minigrad.rand_like(x, dtype=minigrad.float64).dtype is minigrad.float64
    r = minigrad.randint_like(x, 3, 6)
    assert r.shape == (2, 2) and r.dtype is minigrad.float32 and 3 <= float(r.min())


def test_normal_overloads_match_torch_shapes():
    cases = [
        ((0.0, 1.0, (2, 3)), {}),
        ((minigrad.zeros(3, 1), minigrad.ones(1, 2)), {}),
        ((minigrad.zeros(4), 2.0), {}),
        ((1.0, minigrad.ones(2)), {}),
    ]
    for args, kw in cases:
        targs = [torch.tensor(a.numpy()) if isinstance(a, minigrad.Tensor) else a for a in args]
        assert minigrad.normal(*args, **kw).shape == tuple(torch.normal(*targs, **kw).shape)
    g = minigrad.Generator().manual_seed(0)
    draw = minigrad.normal(3.0, 0.5, (20000,), generator=g)
    assert abs(float(draw.mean()) - 3.0) < 0.02 and abs(float(draw.std()) - 0.5) < 0.02


def test_new_public_names_exist_in_torch_too():
    names = """logical_and logical_or logical_xor logical_not finfo iinfo roll unique bincount
    meshgrid cumsum cumprod cummax cummin diff scatter scatter_reduce index_add index_copy
    index_fill masked_scatter diag diagonal diag_embed trace tensordot addmm baddbmm addbmm
    searchsorted bucketize cdist lerp nan_to_num isclose allclose clamp det logdet slogdet
    inverse normal randint_like FloatTensor DoubleTensor LongTensor IntTensor BoolTensor""".split()
    for name in names:
        assert hasattr(minigrad, name) and hasattr(torch, name), name
    methods = """roll unique bincount cumprod cummax cummin diff scatter scatter_ scatter_reduce
    scatter_reduce_ index_add index_add_ index_copy index_copy_ index_fill index_fill_
    masked_scatter masked_scatter_ diag diagonal diag_embed trace addmm addmm_ baddbmm addbmm
    lerp lerp_ nan_to_num nan_to_num_ isclose logical_and logical_or logical_xor det inverse
    logdet slogdet type""".split()
    for name in methods:
        assert hasattr(minigrad.Tensor, name) and hasattr(torch.Tensor, name), name


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize(
    "y_shape, x, kwargs",
    [
        ((5,), None, {}),
        ((5,), None, {"dx": 0.5}),
        ((2, 4), [0.0, 1.0, 3.0, 3.5], {}),  # 1-D sample points along the last dim
        ((3, 4), None, {"dim": 0}),
        ((2, 3), np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]]), {}),  # broadcasting points
        ((2, 0), None, {}),
    ],
)
def test_trapezoid_family_matches_torch(name, y_shape, x, kwargs):
    if name == "trapz" and "dx" in kwargs:
        pytest.skip("torch.trapz takes dx only without x, as a separate overload")
    values = np.random.default_rng(0).standard_normal(y_shape)
    ym, yt = minigrad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    xs = () if x is None else (minigrad.tensor(np.asarray(x)), torch.tensor(np.asarray(x)))
    got = getattr(minigrad, name)(ym, *xs[:1], **kwargs)
    want = getattr(torch, name)(yt, *xs[1:], **kwargs)
    close(got, want)
    if values.size:  # (PyTorch's result for no samples is a constant outside the graph)
        weights = np.random.default_rng(1).standard_normal(tuple(want.shape))
        (got * minigrad.tensor(weights)).sum().backward()
        (want * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(ym.grad.numpy(), yt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_trapezoid_of_integers_and_wrong_sample_points_match_torch():
    for lib in (minigrad, torch):
        assert lib.trapezoid(lib.tensor([1, 2, 3])).item() == 4.0
        assert lib.trapezoid(lib.tensor([1, 2, 3])).dtype == lib.float32
        with pytest.raises(RuntimeError, match="one `x` value for each sample point"):
            lib.trapezoid(lib.ones(2, 3), lib.tensor([0.0, 1.0]))


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.std(1),
        lambda lib, x: x.std(),
        lambda lib, x: x.std(1, correction=0, keepdim=True),
        lambda lib, x: lib.std_mean(x, 1)[0],
    ],
)
def test_std_gradient_of_a_constant_slice_is_zero_as_torch(fn):
    """PyTorch masks std's gradient where the std is 0; sqrt's 1/(2·0) times var's zero
    gradient gave NaN (a constant feature in a normalised batch)."""
    values = [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]
    grads = []
    for lib in (minigrad, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = fn(lib, x)
        weights = lib.arange(1.0, 1.0 + y.numel(), dtype=lib.float64).view(y.shape)
        (g,) = lib.autograd.grad((y * weights).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad((g * lib.arange(6.0, dtype=lib.float64).view(2, 3)).sum(), x)
        grads.append([t.detach().numpy() for t in (y, g, g2)])
    for ours, theirs in zip(*grads):
        assert np.isfinite(ours).all()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [3, 1.5, 0.5, 4.0])
@pytest.mark.parametrize("values", [[0.0, 0.0, 0.0], [0.0, 1.0, -2.0], [2.0, -1.0, 0.5]])
def test_p_norm_gradient_at_zero_entries_and_zero_norm_is_zero_as_torch(p, values):
    """PyTorch masks the p-norm's gradient at zero entries and at a zero norm; the composed
    (Σ|x|^p)^(1/p) gave inf · 0 = NaN there."""
    grads = []
    for lib in (minigrad, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = x.norm(p=p)
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        grads.append([t.detach().numpy() for t in (y, g)])
        if values[0] != 0:  # second derivatives where they exist
            (g2,) = lib.autograd.grad((g * lib.arange(3.0, dtype=lib.float64)).sum(), x)
            grads[-1].append(g2.numpy())
    for ours, theirs in zip(*grads):
        assert np.isfinite(ours).all()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_atan2_gradient_at_the_origin_is_zero_as_torch():
    grads = []
    for lib in (minigrad, torch):
        y = lib.tensor([0.0, 1.0, 0.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([0.0, 0.0, -2.0], dtype=lib.float64, requires_grad=True)
        (gy, gx) = lib.autograd.grad(lib.atan2(y, x).sum(), (y, x), create_graph=True)
        (g2,) = lib.autograd.grad((gy + gx).sum(), y)
        grads.append([t.detach().numpy() for t in (gy, gx, g2)])
    for ours, theirs in zip(*grads):
        assert np.isfinite(ours).all()
        known = np.isfinite(theirs)  # (PyTorch's second derivative at the origin is NaN)
        np.testing.assert_allclose(ours[known], theirs[known], rtol=1e-12, atol=1e-15)


def test_isin_takes_a_number_as_its_elements_as_pytorch():
    assert minigrad.isin(2.0, minigrad.tensor([1.0, 2.0])).tolist() is True
    assert minigrad.isin(5, minigrad.tensor([1, 2]), invert=True).item() is True


def test_bincount_of_differentiable_weights_raises_in_backward_as_torch():
    """PyTorch has no derivative for bincount: with weights that require grad the result
    requires grad and backward raises, rather than leaving the weights without a gradient."""
    w = minigrad.rand(3, requires_grad=True)
    counts = minigrad.bincount(minigrad.tensor([0, 1, 1]), weights=w)
    assert counts.requires_grad and counts.dtype is minigrad.float32
    with pytest.raises(RuntimeError, match="derivative for aten::bincount is not implemented"):
        counts.sum().backward()
    with minigrad.no_grad():
        assert not minigrad.bincount(minigrad.tensor([0, 1, 1]), weights=w).requires_grad


def test_cross_entropy_of_a_non_tensor_raises_pytorchs_type_error():
    """A tuple of logits (a model returning ``(logits,)``) gets PyTorch's binding error."""
    for lib in (minigrad, torch):
        with pytest.raises(TypeError, match=r"cross_entropy_loss\(\): argument 'input' \(posi"):
            lib.nn.functional.cross_entropy((lib.randn(2, 3),), lib.tensor([0, 1]))
