"""The top-level surface PyTorch programs call, compared with PyTorch: autocast state
functions, global switches, small factories, sampling, control flow, storage and strides,
the ATen-signature forms; nn, optim and func additions of branch surface."""

import math
import warnings

import numpy as np
import pytest

import minigrad
from minigrad.testing.op_db_surface import COPY_CASES, TABLE_COPIES

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


# -- autocast state ------------------------------------------------------------------------------


def test_autocast_state_functions_follow_torch():
    m = minigrad
    assert not m.is_autocast_enabled() and not m.is_autocast_enabled("cpu")
    assert m.get_autocast_dtype("cpu") is m.bfloat16 and m.get_autocast_dtype("cuda") is m.float16
    m.set_autocast_dtype("cpu", m.float16)
    try:
        with m.autocast("cpu"):  # a region without dtype takes the one set
            assert m.get_autocast_dtype("cpu") is m.float16
        with pytest.warns(DeprecationWarning):
            assert m.get_autocast_cpu_dtype() is m.float16
    finally:
        m.set_autocast_dtype("cpu", m.bfloat16)
    a = m.randn(2, 2)
    m.set_autocast_enabled("cpu", True)
    try:
        assert m.is_autocast_enabled("cpu") and (a @ a).dtype is m.bfloat16
    finally:
        m.set_autocast_enabled("cpu", False)
    assert (a @ a).dtype is m.float32 and not m.is_autocast_enabled("cpu")
    m.set_autocast_enabled(True)  # one argument: CUDA, as torch
    assert m.is_autocast_enabled() and not m.is_autocast_enabled("cpu")
    m.set_autocast_enabled(False)
    assert [m.autocast_increment_nesting(), m.autocast_increment_nesting()] == [1, 2]
    assert [m.autocast_decrement_nesting(), m.autocast_decrement_nesting()] == [1, 0]
    assert m.is_autocast_cache_enabled()
    m.set_autocast_cache_enabled(False)
    assert not m.is_autocast_cache_enabled()
    m.set_autocast_cache_enabled(True)
    m.clear_autocast_cache()


def test_autocast_state_is_per_thread():
    import threading

    minigrad.set_autocast_enabled("cpu", True)
    seen = []
    try:
        worker = threading.Thread(target=lambda: seen.append(minigrad.is_autocast_enabled("cpu")))
        worker.start()
        worker.join()
    finally:
        minigrad.set_autocast_enabled("cpu", False)
    assert seen == [False]


# -- global switches -----------------------------------------------------------------------------


def test_switches():
    m = minigrad
    assert not m.is_warn_always_enabled()
    m.set_warn_always(True)
    assert m.is_warn_always_enabled()
    m.set_warn_always(False)
    for mode, expect in (("warn", 1), (2, 2), ("default", 0)):
        m.set_deterministic_debug_mode(mode)
        torch.set_deterministic_debug_mode(mode)
        assert m.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode() == expect
        assert m.are_deterministic_algorithms_enabled() == (expect != 0)
    for bad in ("x", 5):
        with pytest.raises(RuntimeError):
            torch.set_deterministic_debug_mode(bad)
        with pytest.raises(RuntimeError, match="debug_mode"):
            m.set_deterministic_debug_mode(bad)
    assert not m.is_anomaly_enabled() and m.is_anomaly_check_nan_enabled()
    m.set_anomaly_enabled(True, False)
    assert m.is_anomaly_enabled() and not m.is_anomaly_check_nan_enabled()
    m.set_anomaly_enabled(False)
    assert m.get_num_interop_threads() >= 1 and m.init_num_threads() is None
    assert m.get_device_module("cpu").__name__ == "minigrad.cpu"
    assert m.get_device_module("cuda") is m.cuda
    assert m.set_flush_denormal(False) is True


def test_set_default_tensor_type():
    with pytest.warns(UserWarning, match="deprecated"):
        minigrad.set_default_tensor_type(minigrad.DoubleTensor)
    try:
        assert minigrad.zeros(1).dtype is minigrad.float64
        with pytest.warns(UserWarning):
            minigrad.set_default_tensor_type("torch.FloatTensor")
        assert minigrad.get_default_dtype() is minigrad.float32
        with pytest.warns(UserWarning), pytest.raises(TypeError, match="floating-point"):
            minigrad.set_default_tensor_type(minigrad.LongTensor)
    finally:
        minigrad.set_default_dtype(minigrad.float32)


def test_typename_and_is_storage():
    assert minigrad.typename(minigrad.zeros(2)) == "minigrad.FloatTensor"
    assert minigrad.typename(3) == torch.typename(3) == "int"
    assert minigrad.typename(minigrad.nn.Linear) == "minigrad.nn.modules.linear.Linear"
    assert minigrad.is_storage(minigrad.zeros(2).untyped_storage())
    assert not minigrad.is_storage(minigrad.zeros(2))


# -- factories -----------------------------------------------------------------------------------


def test_broadcast_shapes_and_errors():
    for shapes in [((2, 1), (3,)), (2, (3, 1)), ((), (4, 1, 2)), ((0, 1), (3,))]:
        assert tuple(minigrad.broadcast_shapes(*shapes)) == tuple(torch.broadcast_shapes(*shapes))
    with pytest.raises(RuntimeError, match="broadcast"):
        minigrad.broadcast_shapes((2,), (3,))


@pytest.mark.parametrize(
    "args,kw", [((0, 3, 0.5), {}), ((1, 4), {}), ((3, -1, -0.5), {}), ((1, 4), {"dtype": "int64"})]
)
def test_range_is_inclusive_and_warns(args, kw):
    with pytest.warns(UserWarning, match="deprecated"):
        got = minigrad.range(*args, **{k: getattr(minigrad, v) for k, v in kw.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.range(*args, **{k: getattr(torch, v) for k, v in kw.items()})
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(_np(got), want.numpy())


def test_scalar_tensor_rsub_empty_strided():
    assert minigrad.scalar_tensor(3).dtype is minigrad.float32
    assert minigrad.scalar_tensor(3).ndim == 0
    assert minigrad.scalar_tensor(2, dtype=minigrad.int64).item() == 2
    x = [1.0, 2.0]
    got = minigrad.rsub(minigrad.tensor(x), 5, alpha=2)
    np.testing.assert_array_equal(_np(got), torch.rsub(torch.tensor(x), 5, alpha=2).numpy())
    e = minigrad.empty_strided((2, 3), (1, 2))
    assert e.stride() == torch.empty_strided((2, 3), (1, 2)).stride() and e.shape == (2, 3)
    n = minigrad.zeros(1, dtype=minigrad.float64).new_empty_strided((3, 2), (1, 3))
    assert n.stride() == (1, 3) and n.dtype is minigrad.float64


def test_frombuffer_shares_memory_and_checks_like_torch():
    buffer = bytearray(range(1, 9))
    t = minigrad.frombuffer(buffer, dtype=minigrad.int16, count=2, offset=2)
    want = torch.frombuffer(bytearray(range(1, 9)), dtype=torch.int16, count=2, offset=2)
    np.testing.assert_array_equal(_np(t), want.numpy())
    t[0] = 0
    assert buffer[2:4] == b"\x00\x00"
    for kw in [dict(offset=3), dict(count=5)]:
        with pytest.raises(ValueError):
            torch.frombuffer(bytearray(8), dtype=torch.int32, **kw)
        with pytest.raises(ValueError, match="buffer length"):
            minigrad.frombuffer(bytearray(8), dtype=minigrad.int32, **kw)
    with pytest.raises(ValueError, match="must not be 0"):
        minigrad.frombuffer(bytearray(), dtype=minigrad.int32)


def test_poisson_and_binomial_moments_and_generator():
    rate = minigrad.full((20000,), 3.5, dtype=minigrad.float64)
    draws = minigrad.poisson(rate, generator=minigrad.Generator().manual_seed(1))
    assert abs(draws.mean().item() - 3.5) < 0.08 and abs(draws.var().item() - 3.5) < 0.2
    again = minigrad.poisson(rate, generator=minigrad.Generator().manual_seed(1))
    assert minigrad.equal(draws, again)
    assert minigrad.poisson(minigrad.zeros(3)).sum().item() == 0
    big = minigrad.poisson(minigrad.full((20000,), 300.0, dtype=minigrad.float64))  # PTRS
    assert abs(big.mean().item() - 300) < 0.6 and abs(big.var().item() - 300) < 15
    counts = minigrad.poisson(minigrad.full((50000,), 12.0, dtype=minigrad.float64))
    freq = np.bincount(_np(counts).astype(int), minlength=40)[:40] / 50000
    pmf = [math.exp(k * math.log(12.0) - 12.0 - math.lgamma(k + 1)) for k in range(40)]
    assert np.abs(freq - pmf).max() < 0.008  # the rejection sampler's law is Poisson's
    n, p = minigrad.full((20000,), 6.0), minigrad.full((20000,), 0.3)
    b = minigrad.binomial(n, p)
    assert abs(b.mean().item() - 1.8) < 0.05 and abs(b.var().item() - 1.26) < 0.08
    assert b.dtype is minigrad.float32 and float(b.max()) <= 6
    with pytest.raises(RuntimeError, match="rate"):
        minigrad.poisson(minigrad.tensor([-1.0]))


# -- control flow --------------------------------------------------------------------------------


def test_cond_and_while_loop_eager():
    """As torch.cond/while_loop in eager mode (checked by hand: running torch's here costs
    seconds of TorchDynamo start-up)."""
    for m in (minigrad,):
        x = m.tensor(1.0, requires_grad=True)
        y = m.cond(x > 0, lambda v: v * v, lambda v: -v, (x,))
        y.backward()
        assert x.grad.item() == 2.0
        assert m.cond(False, lambda v: v + 1, lambda v: v - 1, [m.tensor(1.0)]).item() == 0.0
        i, v = m.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2), (m.tensor(0), x))
        assert i.item() == 3 and v.item() == 8.0
        with pytest.raises(RuntimeError, match="single-element"):
            m.cond(m.tensor([True, False]), lambda v: v, lambda v: v, (x,))
    with pytest.raises(RuntimeError, match="same number"):
        minigrad.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1,), (minigrad.tensor(0), 1))


def test_dlpack_round_trip():
    x = minigrad.arange(4.0)
    back = torch.from_dlpack(minigrad.to_dlpack(x))  # a DLPack capsule, as torch.to_dlpack's
    back[0] = 9.0
    assert x[0].item() == 9.0


# -- strides and storage -------------------------------------------------------------------------


def test_out_arguments():
    y = minigrad.empty(3, 2)
    assert minigrad.transpose_copy(minigrad.ones(2, 3), 0, 1, out=y) is y and float(y.sum()) == 6
    parts = (minigrad.empty(2), minigrad.empty(2))
    minigrad.split_copy(minigrad.arange(4.0), 2, out=parts)
    assert parts[1].tolist() == [2.0, 3.0]
    with pytest.warns(UserWarning, match="deprecated") as record:
        minigrad.range(1, 4, out=minigrad.empty(4))
    assert record[0].filename == __file__


@pytest.mark.parametrize("name", [name for name, _ in COPY_CASES if name not in TABLE_COPIES])
def test_copy_functions_match_torch(name):
    """The ``*_copy`` functions the op table leaves out: values and gradients as PyTorch's."""
    sample = dict(COPY_CASES)[name]
    x = np.random.default_rng(10).normal(size=sample.args[0].shape)
    results = []
    for m in (minigrad, torch):
        t = m.tensor(x, requires_grad=True)
        out = getattr(m, name)(t, *sample.args[1:])
        outs = out if isinstance(out, tuple) else (out,)
        if name != "detach_copy":
            sum(((o * (k + 2)) ** 2).sum() for k, o in enumerate(outs)).backward()
        results.append([_np(o) for o in outs] + ([_np(t.grad)] if t.grad is not None else []))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_complex_view_copies_match_torch():
    """(Not in the op table: complex views' forward-mode tangents are the complex table's.)"""
    x = np.random.default_rng(9).normal(size=(3, 2))
    got = minigrad.view_as_complex_copy(minigrad.tensor(x, requires_grad=True))
    want = torch.view_as_complex_copy(torch.tensor(x))  # (torch refuses grad through it)
    np.testing.assert_allclose(_np(got), want.numpy())
    back = minigrad.view_as_real_copy(got)
    np.testing.assert_allclose(_np(back), torch.view_as_real_copy(want).numpy())
    assert got.data_ptr() != back.data_ptr()


def test_as_strided_of_a_strided_view_reads_its_storage_as_pytorch():
    """Longformer's chunks: ``as_strided`` of a view that is not contiguous windows the memory
    under it, by the storage's strides, as PyTorch's; gradients reach the view's elements."""
    values = np.arange(96.0).reshape(2, 48)
    results = []
    for lib in (minigrad, torch):
        base = lib.tensor(values, requires_grad=True)
        view = base[:, 8:40].view(2, 2, 2, 8)
        window = view.as_strided((2, 3, 2, 8), (48, 8, 8, 1))
        (window * window).sum().backward()
        transposed = base.detach().view(2, 6, 8).transpose(1, 2).as_strided((2, 3, 4), (48, 2, 8))
        results.append((window.tolist(), base.grad.tolist(), transposed.tolist()))
    assert results[0] == results[1]


def test_as_strided_refusals():
    with pytest.raises(NotImplementedError, match="share memory"):
        minigrad.randn(3, 1).expand(3, 4).as_strided((2, 2), (1, 1))
    with pytest.raises(RuntimeError, match="outside"):
        minigrad.randn(4, 4).t()[:2].as_strided((4,), (1,))
    with pytest.raises(RuntimeError, match="outside"):
        minigrad.randn(4).as_strided((3,), (2,))
    with pytest.raises(RuntimeError, match="length"):
        minigrad.randn(4).as_strided((2, 2), (1,))
    with pytest.raises(RuntimeError, match="slice"):
        minigrad.as_strided_scatter(minigrad.zeros(4), minigrad.ones(3), (2,), (1,))


def test_as_strided_inplace_shares_memory():
    x = minigrad.arange(6.0)
    y = torch.arange(6.0)
    x.as_strided_((2, 2), (1, 2), 1)
    y.as_strided_((2, 2), (1, 2), 1)
    np.testing.assert_array_equal(_np(x), y.numpy())
    assert x.stride() == y.stride()
    with pytest.raises(RuntimeError, match="require grad"):
        minigrad.randn(4, requires_grad=True).as_strided_((2,), (1,))


def test_storage_and_set():
    x = minigrad.arange(4.0)
    s = x.untyped_storage()
    assert len(s) == s.nbytes() == 16 and s.data_ptr() == x.data_ptr()
    minigrad._warnings._said_once.discard("TypedStorage")  # PyTorch warns once a process
    with pytest.warns(UserWarning, match="TypedStorage"):
        typed = x.storage()
    assert typed.size() == 4 and typed[1] == 1.0 and typed.dtype is minigrad.float32
    y = minigrad.zeros(0)
    y.set_(s, 1, (2,), (1,))
    np.testing.assert_array_equal(_np(y), [1.0, 2.0])
    y[0] = 7.0
    assert x[1].item() == 7.0  # shared
    z = minigrad.zeros(3).set_(x)
    assert z.shape == (4,) and z.data_ptr() == x.data_ptr()
    assert minigrad.ones(2).set_().shape == (0,)
    with pytest.raises(RuntimeError, match="storage"):
        minigrad.zeros(0).set_(s, 2, (3,), (1,))
    with pytest.raises(RuntimeError, match="leaf"):
        minigrad.zeros(2, requires_grad=True).set_(x)
    with pytest.raises(RuntimeError, match="type"):
        minigrad.zeros(2).set_(minigrad.zeros(3, dtype=minigrad.float64))
    fresh = minigrad.arange(4.0).untyped_storage()
    bits = minigrad.zeros(0, dtype=minigrad.int32).set_(fresh, 1, (2,), (1,))  # bytes as int32
    want = torch.zeros(0, dtype=torch.int32).set_(
        torch.arange(4.0).untyped_storage(), 1, (2,), (1,)
    )
    assert bits.tolist() == want.tolist()


def test_resize_chalf_as_subclass():
    x = minigrad.arange(6.0)
    with pytest.warns(UserWarning):
        r = x.resize(2, 3)  # (PyTorch's deprecated resize keeps the element count)
    assert r.shape == (2, 3) and x.shape == (6,)
    with pytest.warns(UserWarning):
        assert x.resize_as(minigrad.zeros(3, 2)).shape == (3, 2)
    with pytest.raises(NotImplementedError, match="complex32"):
        x.chalf()

    class Tagged(minigrad.Tensor):
        pass

    w = minigrad.randn(3, requires_grad=True)
    t = w.as_subclass(Tagged)
    assert type(t) is Tagged and t.data_ptr() == w.data_ptr()
    (t * 2).sum().backward()
    np.testing.assert_array_equal(_np(w.grad), [2.0, 2.0, 2.0])


# -- ATen-signature forms ------------------------------------------------------------------------


def test_native_dropout_and_feature_dropout():
    x = minigrad.ones(2, 3, 4)
    out, mask = minigrad.native_dropout(x, 0.5, False)
    assert mask.dtype is minigrad.bool and bool(mask.all()) and minigrad.equal(out, x)
    out, mask = minigrad.native_dropout(x, 0.5, True)
    np.testing.assert_array_equal(_np(out), _np(mask.float() * 2))
    y = minigrad.feature_dropout(x, 0.5, True)
    channels = _np(y)
    assert set(np.unique(channels)) <= {0.0, 2.0} and (channels.std(axis=2) == 0).all()
    assert minigrad.feature_dropout(x, 0.5, False) is x
    z = minigrad.ones(2, 3, 4)
    assert minigrad.feature_dropout_(z, 0.5, True) is z


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_embedding_bag_tuple_matches_torch(mode):
    w = np.random.default_rng(0).normal(size=(10, 3))
    idx, off = [1, 2, 4, 5, 4, 3, 2, 9], [0, 4]
    got = minigrad.embedding_bag(
        minigrad.tensor(w), minigrad.tensor(idx), minigrad.tensor(off), False, mode
    )
    want = torch.embedding_bag(torch.tensor(w), torch.tensor(idx), torch.tensor(off), False, mode)
    for a, b in zip(got, want):
        np.testing.assert_allclose(_np(a), b.numpy(), rtol=1e-12)


def test_integer_reductions_and_max_pool_indices():
    x, y = (
        np.random.default_rng(1).normal(size=(2, 2, 6)),
        np.random.default_rng(2).normal(size=(2, 2, 6)),
    )
    for r in (0, 1, 2):
        got = minigrad.margin_ranking_loss(
            minigrad.tensor(x), minigrad.tensor(y), minigrad.ones(2, 2, 6), 0.1, r
        )
        want = torch.margin_ranking_loss(
            torch.tensor(x), torch.tensor(y), torch.ones(2, 2, 6), 0.1, r
        )
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="reduction"):
        minigrad.kl_div(minigrad.tensor(x), minigrad.tensor(y), 3)
    got = minigrad.max_pool1d_with_indices(minigrad.tensor(x), [2])
    want = torch.max_pool1d_with_indices(torch.tensor(x), [2])
    np.testing.assert_array_equal(_np(got[1]), want[1].numpy())
    got = minigrad.adaptive_max_pool1d(minigrad.tensor(x), 4)
    np.testing.assert_array_equal(
        _np(got[1]), torch.adaptive_max_pool1d(torch.tensor(x), 4)[1].numpy()
    )


def test_histogramdd_matches_torch():
    pts = np.random.default_rng(3).normal(size=(50, 2)).astype(np.float32)
    got = minigrad.histogramdd(minigrad.tensor(pts), [3, 4])
    want = torch.histogramdd(torch.tensor(pts), [3, 4])
    np.testing.assert_array_equal(_np(got.hist), want.hist.numpy())
    for a, b in zip(got.bin_edges, want.bin_edges):
        np.testing.assert_allclose(_np(a), b.numpy(), rtol=1e-6)
    got = minigrad.histogramdd(minigrad.tensor(pts), 2, range=[-1.0, 1.0, -2.0, 2.0], density=True)
    want = torch.histogramdd(torch.tensor(pts), 2, range=[-1.0, 1.0, -2.0, 2.0], density=True)
    np.testing.assert_allclose(_np(got.hist), want.hist.numpy(), rtol=1e-5)


def test_segment_reduce_and_gradient_errors():
    d = minigrad.randn(6, 3)
    with pytest.raises(RuntimeError, match="sum to"):
        minigrad.segment_reduce(d, "sum", lengths=minigrad.tensor([2, 2]))
    with pytest.raises(RuntimeError, match="reduce argument"):
        minigrad.segment_reduce(d, "foo", lengths=minigrad.tensor([6]))
    with pytest.raises(RuntimeError, match="lengths or offsets"):
        minigrad.segment_reduce(d, "sum")
    offsets = minigrad.segment_reduce(d, "sum", offsets=minigrad.tensor([0, 2, 2, 6]))
    lengths = minigrad.segment_reduce(d, "sum", lengths=minigrad.tensor([2, 0, 4]))
    assert minigrad.equal(offsets, lengths)
    with pytest.raises(RuntimeError, match="edge_order"):
        minigrad.gradient(minigrad.randn(2), edge_order=2)
    with pytest.raises(RuntimeError, match="edge_order=1 and edge_order=2"):
        minigrad.gradient(minigrad.randn(3), edge_order=3)
    with pytest.raises(RuntimeError, match="length 3"):
        minigrad.gradient(minigrad.randn(3, 3), spacing=[1.0, 2.0, 3.0])
    got = minigrad.gradient(minigrad.tensor([1, 4, 9, 16]))[0]
    assert got.dtype is minigrad.float32 and got.tolist() == [3.0, 4.0, 6.0, 7.0]


# -- nn ------------------------------------------------------------------------------------------


def test_fractional_max_pool_matches_torch_exactly():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 20, 20)).astype(np.float32)
    s = rng.uniform(size=(2, 3, 2)).astype(np.float32)
    mod_m = minigrad.nn.FractionalMaxPool2d(3, output_size=(7, 11), return_indices=True,
                                            _random_samples=minigrad.tensor(s))  # fmt: skip
    mod_t = torch.nn.FractionalMaxPool2d(3, output_size=(7, 11), return_indices=True,
                                         _random_samples=torch.tensor(s))  # fmt: skip
    (vm, im), (vt, it) = mod_m(minigrad.tensor(x)), mod_t(torch.tensor(x))
    np.testing.assert_array_equal(_np(vm), vt.numpy())
    np.testing.assert_array_equal(_np(im), it.numpy())
    x3 = rng.normal(size=(3, 7, 8, 9))
    s3 = rng.uniform(size=(1, 3, 3))
    got = minigrad.nn.functional.fractional_max_pool3d_with_indices(
        minigrad.tensor(x3), 2, output_ratio=(0.5, 0.5, 0.5), _random_samples=minigrad.tensor(s3)
    )
    want = torch.nn.functional.fractional_max_pool3d_with_indices(
        torch.tensor(x3), 2, output_ratio=(0.5, 0.5, 0.5), _random_samples=torch.tensor(s3)
    )
    np.testing.assert_array_equal(_np(got[1]), want[1].numpy())
    drawn = minigrad.nn.FractionalMaxPool2d(2, output_ratio=0.5)(minigrad.randn(1, 2, 8, 8))
    assert drawn.shape == (1, 2, 4, 4)
    with pytest.raises(ValueError, match="either"):
        minigrad.nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="only one"):
        minigrad.nn.FractionalMaxPool2d(2, output_size=3, output_ratio=0.5)
    with pytest.raises(RuntimeError, match="too large"):
        minigrad.nn.functional.fractional_max_pool2d(minigrad.randn(1, 1, 4, 4), 3, output_size=3)
    with pytest.raises(RuntimeError, match="pool time 2 too large"):  # 3-D is strict, as torch
        minigrad.nn.functional.fractional_max_pool3d(
            minigrad.randn(1, 1, 4, 5, 5), 2, output_size=3
        )


@pytest.mark.parametrize(
    "name,args,shape,becomes",
    [
        ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2), "BatchNorm3d"),
        ("LazyConv3d", (4, 2), (1, 3, 4, 4, 4), "Conv3d"),
        ("LazyConvTranspose3d", (4, 2), (1, 3, 2, 2, 2), "ConvTranspose3d"),
        ("LazyInstanceNorm1d", (), (2, 3, 5), "InstanceNorm1d"),
        ("LazyInstanceNorm2d", (), (3, 4, 4), "InstanceNorm2d"),  # unbatched
        ("LazyInstanceNorm3d", (), (2, 3, 2, 3, 2), "InstanceNorm3d"),
    ],
)
def test_lazy_modules_infer_and_become(name, args, shape, becomes):
    lazy = getattr(minigrad.nn, name)(*args)
    reference = getattr(torch.nn, name)(*args)
    x = np.random.default_rng(5).normal(size=shape).astype(np.float32)
    out = lazy(minigrad.tensor(x))
    assert type(lazy).__name__ == becomes
    if "InstanceNorm2d" not in name:  # PyTorch reads an unbatched input's channels wrongly
        reference(torch.tensor(x))
        got = {k: tuple(v.shape) for k, v in lazy.state_dict().items()}
        assert got == {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert out.ndim == len(shape)


def test_container_init_aliases_and_clip_grad_norm():
    with pytest.warns(UserWarning, match="deprecated"):
        box = minigrad.nn.Container(fc=minigrad.nn.Linear(2, 3))
    assert [n for n, _ in box.named_children()] == ["fc"]
    t = minigrad.empty(3, 4)
    for name, args in [("constant", (0.5,)), ("normal", ()), ("uniform", ()), ("eye", ()),
                       ("xavier_normal", ()), ("xavier_uniform", ()), ("kaiming_normal", ()),
                       ("kaiming_uniform", ()), ("orthogonal", ()), ("sparse", (0.5,))]:  # fmt: skip
        with pytest.warns(FutureWarning, match=f"nn.init.{name}_"):
            assert getattr(minigrad.nn.init, name)(t, *args) is t
    assert float(minigrad.nn.init.constant_(t, 1.0).sum()) == 12.0
    with pytest.warns(FutureWarning):
        minigrad.nn.init.dirac(minigrad.empty(2, 2, 3))
    p = minigrad.nn.Parameter(minigrad.ones(4))
    p.grad = minigrad.full((4,), 3.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = minigrad.nn.utils.clip_grad_norm([p], 1.0)
    assert abs(total.item() - 6.0) < 1e-6 and abs(p.grad.norm().item() - 1.0) < 1e-4


def test_convert_weight_memory_format_and_native_channel_shuffle():
    net = minigrad.nn.Sequential(
        minigrad.nn.Conv2d(3, 4, 3), minigrad.nn.Sequential(minigrad.nn.Conv3d(4, 2, 1))
    )
    weight = net[0].weight
    minigrad.nn.utils.convert_conv2d_weight_memory_format(net, minigrad.channels_last)
    assert net[0].weight is weight and weight.is_contiguous(memory_format=minigrad.channels_last)
    minigrad.nn.utils.convert_conv3d_weight_memory_format(net, minigrad.channels_last_3d)
    assert net[1][0].weight.is_contiguous(memory_format=minigrad.channels_last_3d)
    x = np.arange(24.0).reshape(1, 6, 2, 2)
    got = minigrad.nn.functional.native_channel_shuffle(minigrad.tensor(x), 3)
    np.testing.assert_array_equal(
        _np(got), torch.native_channel_shuffle(torch.tensor(x), 3).numpy()
    )


# -- optim.Muon ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,kw,dtype",
    [
        ((5, 3), {}, "float32"),
        ((5, 3), {}, "float64"),
        ((3, 5), dict(nesterov=False, adjust_lr_fn="match_rms_adamw"), "float64"),
        ((4, 4), dict(momentum=0.0, weight_decay=0.0, ns_steps=0), "float32"),
        ((6, 3), dict(lr=0.05, ns_coefficients=(3.0, -3.2, 1.2), ns_steps=3), "float64"),
    ],
)
def test_muon_matches_torch_step_by_step(shape, kw, dtype):
    rng = np.random.default_rng(6)
    w = rng.normal(size=shape)
    pt = torch.nn.Parameter(torch.tensor(w, dtype=getattr(torch, dtype)))
    pm = minigrad.nn.Parameter(minigrad.tensor(w, dtype=getattr(minigrad, dtype)))
    opt_t, opt_m = torch.optim.Muon([pt], **kw), minigrad.optim.Muon([pm], **kw)
    for _ in range(4):
        g = rng.normal(size=shape)
        pt.grad, pm.grad = torch.tensor(g, dtype=pt.dtype), minigrad.tensor(g, dtype=pm.dtype)
        opt_t.step()
        opt_m.step()
        # the Newton-Schulz steps run in bfloat16 in both: equal up to a bfloat16 rounding
        np.testing.assert_allclose(_np(pm), pt.detach().numpy(), rtol=0, atol=1e-3 * 0.05)
    buf_t, buf_m = opt_t.state[pt]["momentum_buffer"], opt_m.state[pm]["momentum_buffer"]
    np.testing.assert_allclose(_np(buf_m), buf_t.numpy(), rtol=1e-6)
    assert (
        opt_m.state_dict()["param_groups"][0].keys() == opt_t.state_dict()["param_groups"][0].keys()
    )


def test_muon_on_every_device(device):
    """CuPy has no bfloat16: the Newton-Schulz rounding is emulated in float32 everywhere."""
    w, g = np.random.default_rng(8).normal(size=(2, 4, 3)).astype(np.float32)
    results = []
    for dev in ("cpu", device):
        p = minigrad.nn.Parameter(minigrad.tensor(w, device=dev))
        p.grad = minigrad.tensor(g, device=dev)
        minigrad.optim.Muon([p], lr=0.1).step()
        results.append(_np(p))
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=1e-6)


def test_muon_refusals():
    with pytest.raises(ValueError, match="only supports 2D"):
        minigrad.optim.Muon([minigrad.nn.Parameter(minigrad.randn(3))])
    opt = minigrad.optim.Muon([minigrad.nn.Parameter(minigrad.randn(3, 2))])
    with pytest.raises(ValueError, match="only supports 2D"):
        opt.add_param_group({"params": [minigrad.nn.Parameter(minigrad.randn(2, 2, 2))]})
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match="not supported"):
        minigrad.optim.Muon([minigrad.nn.Parameter(minigrad.randn(3, 2))], adjust_lr_fn="foo")
    with pytest.raises(ValueError, match="momentum"):
        minigrad.optim.Muon([minigrad.nn.Parameter(minigrad.randn(3, 2))], momentum=-0.1)


# -- func ----------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Attempted to insert a get_attr")
def test_linearize_matches_torch_and_checks_tangents():
    x = np.random.default_rng(7).normal(size=3)

    def f(m):
        return lambda a, b: (m.sin(a) * b, a.exp())

    out_m, jvp_m = minigrad.func.linearize(f(minigrad), minigrad.tensor(x), minigrad.tensor(2 * x))
    out_t, jvp_t = torch.func.linearize(f(torch), torch.tensor(x), torch.tensor(2 * x))
    v, w = np.ones(3), np.arange(3.0)
    for a, b in zip(
        jvp_m(minigrad.tensor(v), minigrad.tensor(w)), jvp_t(torch.tensor(v), torch.tensor(w))
    ):
        np.testing.assert_allclose(_np(a), b.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(out_m[0]), out_t[0].numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="shape"):
        jvp_m(minigrad.ones(2, dtype=minigrad.float64), minigrad.tensor(w))
    with pytest.raises(RuntimeError, match="dtype"):
        jvp_m(minigrad.ones(3), minigrad.tensor(w))
    with pytest.raises(RuntimeError, match="argspec"):
        jvp_m(minigrad.tensor(v))


def test_functionalize_and_batch_norm_replacement():
    def add_one_(x):
        y = x.clone()
        y.add_(1)
        return y

    f = minigrad.func.functionalize(add_one_, remove="mutations_and_views")
    assert minigrad.equal(f(minigrad.zeros(2)), minigrad.ones(2))
    with pytest.raises(RuntimeError, match="remove=foo"):
        minigrad.func.functionalize(add_one_, remove="foo")
    net = minigrad.nn.Sequential(
        minigrad.nn.BatchNorm1d(3), minigrad.nn.Sequential(minigrad.nn.BatchNorm2d(2)),
        minigrad.nn.InstanceNorm1d(3, track_running_stats=True),
    )  # fmt: skip
    assert minigrad.func.replace_all_batch_norm_modules_(net) is net
    for bn in (net[0], net[1][0]):
        assert bn.running_mean is None and bn.num_batches_tracked is None
        assert not bn.track_running_stats and dict(bn.named_buffers()) == {}
    assert net[2].track_running_stats  # instance norm is left alone, as torch
    assert minigrad.vmap is minigrad.func.vmap


def _aten_cases(m):
    """(name, call) pairs of the ATen-signature forms on module ``m`` (minigrad or torch)."""
    rng = np.random.default_rng(11)
    x, y = m.tensor(rng.normal(size=(4, 3))), m.tensor(rng.normal(size=(4, 3)))
    img = m.tensor(rng.normal(size=(2, 3, 4, 5)))
    w3, b3 = m.tensor(rng.uniform(0.5, 1.5, 3)), m.tensor(rng.normal(size=3))
    sign = m.tensor([1.0, -1.0, 1.0, -1.0])
    log_probs = m.tensor(rng.normal(size=(6, 2, 4))).log_softmax(-1)
    targets = m.tensor([[1, 2, 2], [3, 1, 0]])
    return [
        ("batch_norm", lambda: m.batch_norm(img, w3, b3, None, None, True, 0.1, 1e-5, False)),
        ("instance_norm", lambda: m.instance_norm(img, w3, b3, None, None, True, 0.1, 1e-5, False)),
        ("constant_pad_nd", lambda: m.constant_pad_nd(x, [1, 2, 0, 1], 0.5)),
        ("affine_grid_generator", lambda: m.affine_grid_generator(
            m.tensor(rng.normal(size=(2, 2, 3))), [2, 1, 3, 4], False)),
        ("bce_with_logits", lambda: m.binary_cross_entropy_with_logits(
            x, y.sigmoid(), None, w3, 2)),
        ("cosine_embedding_loss", lambda: m.cosine_embedding_loss(x, y, sign, 0.2, 0)),
        ("ctc_loss", lambda: m.ctc_loss(log_probs, targets, [6, 5], [3, 2], 0, 2)),
        ("hinge_embedding_loss", lambda: m.hinge_embedding_loss(x.t()[0], sign, 0.5, 1)),
        ("poisson_nll_loss", lambda: m.poisson_nll_loss(x, y.abs(), True, True, 1e-8, 1)),
        ("triplet_margin_loss", lambda: m.triplet_margin_loss(x, y, x.flip(0), 1.0, 2.0, 1e-6, True, 0)),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(10))
def test_aten_forms_match_torch(index):
    (name, got), (_, want) = _aten_cases(minigrad)[index], _aten_cases(torch)[index]
    np.testing.assert_allclose(_np(got()), want().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_as_strided_is_a_view_that_writes_through_as_torch():
    got = []
    for lib in (minigrad, torch):
        x = lib.arange(6.0)
        window = x.as_strided((2, 2), (2, 1), 1)
        window.mul_(10)
        base = lib.arange(6.0, dtype=lib.float64).requires_grad_()
        h = base * 1
        h.as_strided((2,), (2,)).mul_(3)  # recorded on h, as PyTorch's CopySlices
        h.sum().backward()
        got.append((x.tolist(), window.tolist(), base.grad.tolist()))
    assert got[0] == got[1]
    overlapping = minigrad.arange(6.0).as_strided((2, 2), (1, 1))
    with pytest.raises(RuntimeError, match="single memory location"):
        overlapping.add_(1)


def test_masked_fill_of_an_expanded_tensor_warns_and_fills_the_shared_elements_as_torch():
    """PyTorch's deprecated behaviour: ``masked_fill_`` (and ``t[mask] = number``) into an
    expanded tensor warns and fills every element any selected copy shares; ``t[mask] =
    values`` warns and writes through the shared memory (the last write wins); ``add_`` raises."""
    got = []
    for lib in (minigrad, torch):
        row_mask = lib.tensor([True, False, False])
        grid_mask = lib.tensor([[False, True, False], [False, False, False], [True, True, True]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = lib.zeros(3).expand(2, 3).masked_fill_(row_mask, lib.tensor(3.0))
            b = lib.zeros(3, 1).expand(3, 3).masked_fill_(grid_mask, -1)
            c = lib.zeros(3).expand(2, 3)
            c[lib.tensor([[True, False, False], [False, False, True]])] = 2.0
        said = sorted({str(w.message).split(" on expanded")[0] for w in caught})
        got.append((a.tolist(), b.tolist(), c.tolist(), said))
    assert got[0] == got[1]
    assert got[0][3] == ["Use of index_put_", "Use of masked_fill_"]
    c = minigrad.zeros(3).expand(2, 3)
    with pytest.warns(UserWarning, match="Use of index_put_ on expanded tensors"):
        c[minigrad.tensor([[True, False, True], [True, False, False]])] = minigrad.tensor(
            [1.0, 2, 3]
        )
    assert c.tolist() == [[3.0, 0.0, 2.0]] * 2  # (PyTorch's too)
    with pytest.raises(RuntimeError, match="single memory location"):
        c.add_(1)


def test_allocation_failure_is_pytorchs_out_of_memory_error():
    # `except torch.cuda.OutOfMemoryError:` in a batch-size search must catch it
    huge = minigrad.ones(1).expand(2**42)  # a view; copying it needs 16 TiB
    with pytest.raises(minigrad.cuda.OutOfMemoryError, match="out of memory on cpu"):
        huge.contiguous()
    for factory in (minigrad.zeros, minigrad.empty, minigrad.ones):  # factories too
        with pytest.raises(minigrad.OutOfMemoryError, match=f"{factory.__name__}: out of memory"):
            factory(2**42)
    assert minigrad.OutOfMemoryError is minigrad.cuda.OutOfMemoryError
    assert issubclass(minigrad.OutOfMemoryError, RuntimeError)
    assert issubclass(torch.OutOfMemoryError, RuntimeError)


def test_symbolic_shape_helpers_compute_on_numbers_as_torch():
    cases = [("sym_max", (2, 1.0)), ("sym_min", (2, 3.0)), ("sym_max", (4, 9)), ("sym_int", (-2.7,)),
             ("sym_int", (True,)), ("sym_float", (3,)), ("sym_sum", ([],)), ("sym_sum", ((1.5, 2),)),
             ("sym_sqrt", (2,)), ("sym_ite", (False, "a", "b")), ("sym_not", (0,))]  # fmt: skip
    for name, args in cases:
        ours, theirs = getattr(minigrad, name)(*args), getattr(torch, name)(*args)
        assert ours == theirs and type(ours) is type(theirs), (name, args, ours, theirs)
    with pytest.raises(TypeError, match="sym_max: expected an int or a float, got str"):
        minigrad.sym_max("a", 1)
    with pytest.raises(TypeError, match="sym_ite: the condition must be a bool"):
        minigrad.sym_ite(1, "a", "b")


@pytest.mark.parametrize("name", ["xpu", "mps", "mtia"])
def test_device_modules_without_a_backend_answer_probes_as_torch(name):
    ours, theirs = getattr(minigrad, name), getattr(torch, name)
    assert ours.is_available() is theirs.is_available() is False
    assert ours.device_count() == theirs.device_count() == 0
    assert ours.manual_seed(0) is None and ours.seed() is None  # accepted, as PyTorch's lazy seed
    with pytest.raises(RuntimeError, match=f"minigrad.{name}.synchronize: minigrad has no"):
        ours.synchronize()
    with pytest.raises(AttributeError, match="no attribute 'no_such_function'"):
        ours.no_such_function  # noqa: B018
