"""Complex tensors and minigrad.fft: every row of the complex op table through gradcheck,
gradgradcheck, plain-vs-create_graph backward and PyTorch; promotion, printing, creation,
optimizers, files, and the errors of ops that take no complex numbers."""

import warnings

import numpy as np
import pytest
from helpers import build, outputs, to_numpy

import minigrad
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.testing.op_db import OP_DB
from minigrad.testing.op_db_complex import COMPLEX_OPS
from minigrad.testing.samples import T, V, make_arrays

CASES = [(op, i) for op in COMPLEX_OPS for i in range(len(op.samples))]
IDS = [op.sample_id(i) for op, i in CASES]


def call(op, index, args, m=minigrad):
    return op.fn(m, *args, **op.samples[index].kwargs)


def host(t) -> np.ndarray:
    return t.detach().resolve_conj().cpu().numpy() if hasattr(t, "resolve_conj") else to_numpy(t)


def upstream(shape, is_complex, seed=1):
    rng = np.random.default_rng(seed)
    v = rng.uniform(-1, 1, shape)
    return v + 1j * rng.uniform(-1, 1, shape) if is_complex else v


# Finite differences on the CPU and a real GPU; the CuPy stand-in (``fakegpu``) computes with
# NumPy as the CPU does, and ``test_devices_agree`` proves its outputs and gradients equal to
# the CPU's (as tests/test_ops.py does for the real rows), at a fraction of gradcheck's cost.
NUMERIC_DEVICES = ["cpu"] + (["cuda"] if minigrad.cuda.is_available() else [])


@pytest.mark.parametrize("device", NUMERIC_DEVICES)
@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_gradcheck(op, index, device):
    args, grads = build(op, index, minigrad, "float64", device)
    assert grads
    assert gradcheck(lambda *a: outputs(call(op, index, a)), tuple(args))


def _output_and_gradients(op, index, device):
    """A complex row's output and its inputs' gradients (for a fixed upstream gradient) as
    NumPy arrays, computed on ``device``."""
    args, grads = build(op, index, minigrad, "float64", device)
    (out,) = outputs(call(op, index, args))
    v = upstream(tuple(out.shape), out.is_complex())
    v = minigrad.tensor(v, dtype=out.dtype, device=device)
    return [host(out)] + [host(g) for g in minigrad.autograd.grad(out, grads, v)]


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_devices_agree(op, index):
    """The stand-in device computes what the CPU computes: every complex row's output and
    gradients, equal to 1e-12 (gradcheck proves the CPU's right)."""
    cpu = _output_and_gradients(op, index, "cpu")
    stand_in = _output_and_gradients(op, index, "fakegpu")
    assert len(cpu) == len(stand_in)
    for a, b in zip(cpu, stand_in):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_gradgradcheck(op, index):
    args, _ = build(op, index, minigrad)
    assert gradgradcheck(lambda *a: outputs(call(op, index, a)), tuple(args))


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_plain_backward_equals_create_graph_backward(op, index):
    results = []
    for create_graph in (False, True):
        args, grads = build(op, index, minigrad)
        (out,) = outputs(call(op, index, args))
        v = minigrad.tensor(upstream(tuple(out.shape), out.is_complex()), dtype=out.dtype)
        results.append(minigrad.autograd.grad(out, grads, v, create_graph=create_graph))
    for plain, graph in zip(*results):
        assert plain.dtype == graph.dtype
        np.testing.assert_allclose(host(plain), host(graph), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("real", ["float32", "float64"])
@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_matches_torch(op, index, real):
    torch = pytest.importorskip("torch")
    if not op.torch:
        pytest.skip(op.note)
    rtol, atol = (1e-4, 1e-5) if real == "float32" else (1e-10, 1e-12)
    args_m, grads_m = build(op, index, minigrad, real)
    args_t, grads_t = build(op, index, torch, real)
    (out_m,), (out_t,) = outputs(call(op, index, args_m)), outputs(call(op, index, args_t, torch))
    assert out_m.shape == tuple(out_t.shape)
    assert out_m.dtype.name == str(out_t.dtype).split(".")[-1]
    np.testing.assert_allclose(host(out_m), host(out_t), rtol=rtol, atol=atol)
    v = upstream(tuple(out_t.shape), out_t.is_complex())
    gm = minigrad.autograd.grad(out_m, grads_m, minigrad.tensor(v, dtype=out_m.dtype))
    gt = torch.autograd.grad(out_t, grads_t, torch.tensor(v, dtype=out_t.dtype))
    for a, b in zip(gm, gt):
        assert a.dtype.name == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(host(a), host(b), rtol=rtol, atol=atol)


# -- dtypes and promotion ------------------------------------------------------------------------


def test_complex_dtypes_as_torch():
    torch = pytest.importorskip("torch")
    for name in ("complex64", "complex128", "cfloat", "cdouble"):
        m, t = getattr(minigrad, name), getattr(torch, name)
        assert m.is_complex == t.is_complex and m.is_floating_point == t.is_floating_point
        assert m.itemsize == t.itemsize and m.is_signed == t.is_signed
    assert minigrad.zeros(1, dtype=complex).dtype is minigrad.complex128
    assert minigrad.tensor([1 + 2j]).dtype is minigrad.complex64
    assert minigrad.tensor([1, 2j]).dtype is minigrad.complex64
    assert minigrad.tensor(np.array([1j])).dtype is minigrad.complex128
    assert minigrad.randn(2, dtype=minigrad.cfloat).type() == "minigrad.ComplexFloatTensor"
    assert minigrad.ones(2).cfloat().dtype is minigrad.complex64
    assert minigrad.ones(2).cdouble().dtype is minigrad.complex128


@pytest.mark.parametrize(
    "a,b",
    [
        ("float32", "complex64"), ("float64", "complex64"), ("complex64", "complex128"),
        ("int64", "complex64"), ("bool", "complex128"), ("float32", "complex128"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("shapes", [((2,), (2,)), ((2,), ()), ((), (2,))])
def test_promotion_matches_torch(a, b, shapes):
    torch = pytest.importorskip("torch")
    x_m, y_m = (minigrad.ones(s, dtype=getattr(minigrad, d)) for s, d in zip(shapes, (a, b)))
    x_t, y_t = (torch.ones(s, dtype=getattr(torch, d)) for s, d in zip(shapes, (a, b)))
    assert (x_m * y_m).dtype.name == str((x_t * y_t).dtype).split(".")[-1]
    assert (
        minigrad.promote_types(x_m.dtype, y_m.dtype).name
        == str(torch.promote_types(x_t.dtype, y_t.dtype)).split(".")[-1]
    )


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("scalar", [1j, 2 + 0j])
def test_python_complex_scalars_promote_as_torch(dtype, scalar):
    torch = pytest.importorskip("torch")
    m = minigrad.ones(2, dtype=getattr(minigrad, dtype)) * scalar
    t = torch.ones(2, dtype=getattr(torch, dtype)) * scalar
    assert m.dtype.name == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(m.numpy(), t.numpy())


def test_float16_has_no_complex_partner():
    with pytest.raises(NotImplementedError, match="complex32"):
        minigrad.ones(2, dtype=minigrad.float16) * 1j


# -- printing, creation, files -------------------------------------------------------------------


@pytest.mark.parametrize(
    "values,dtype",
    [
        ([0.5 + 1j, 2 - 3j, 1e-5 + 3j], None), ([0.5 + 1j, 2 - 3j], "complex128"),
        ([[1.25 + 10j, -2 - 3.5j], [0j, 1j]], None), (1 + 2j, None),
        ([float("nan") + 1j, 1 + float("inf") * 1j], None),
    ],
)  # fmt: skip
def test_repr_as_torch(values, dtype):
    torch = pytest.importorskip("torch")
    m = minigrad.tensor(values, dtype=dtype and getattr(minigrad, dtype))
    t = torch.tensor(values, dtype=dtype and getattr(torch, dtype))
    assert repr(m) == repr(t).replace("torch.", "minigrad.")


def test_random_complex_tensors_draw_both_parts():
    minigrad.manual_seed(0)
    z = minigrad.randn(20000, dtype=minigrad.complex64)
    assert z.dtype is minigrad.complex64
    assert abs(z.real.var().item() - 0.5) < 0.03 and abs(z.imag.var().item() - 0.5) < 0.03
    u = minigrad.rand(20000, dtype=minigrad.complex128)
    assert 0 <= u.real.min().item() and u.imag.max().item() < 1 and u.imag.mean().item() > 0.45
    n = minigrad.empty(20000, dtype=minigrad.cdouble).normal_(1.0, 2.0)  # each part N(1, 2)
    assert abs(n.imag.mean().item() - 1) < 0.05 and abs(n.real.var().item() - 2) < 0.1
    layer = minigrad.nn.Linear(3, 2, dtype=minigrad.cfloat)  # its init draws both parts
    assert layer.weight.imag.abs().min().item() > 0 and layer.bias.dtype is minigrad.complex64


def test_complex_tensors_save_and_load(tmp_path):
    z = minigrad.tensor([1 + 2j, -3j], dtype=minigrad.complex128)
    minigrad.save({"z": z}, tmp_path / "z.pt")
    back = minigrad.load(tmp_path / "z.pt")["z"]
    assert back.dtype is minigrad.complex128 and back.tolist() == [1 + 2j, -3j]


def test_complex_item_tolist_and_numpy():
    z = minigrad.tensor([[1 + 2j]])
    assert z.item() == 1 + 2j and z.tolist() == [[1 + 2j]]
    assert z.numpy().dtype == np.complex64 and complex(z) == 1 + 2j


# -- gradients of real losses of complex parameters, and optimizers -------------------------------


def test_gradient_is_the_conjugate_wirtinger_convention():
    z = minigrad.tensor([1 + 2j, -0.5 + 0.25j], dtype=minigrad.complex128, requires_grad=True)
    (z.abs() ** 2).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * z.detach().numpy())  # d|z|²: 2z
    w = minigrad.tensor([0j], requires_grad=True)
    w.abs().sum().backward()
    assert w.grad.tolist() == [0j]  # |z| at 0: 0, as PyTorch


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.1}),
        ("AdamW", {"lr": 0.1, "weight_decay": 0.1}), ("RMSprop", {"lr": 0.01}),
        ("Adagrad", {"lr": 0.1}),
    ],
)  # fmt: skip
def test_optimizers_on_complex_parameters_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    start = np.array([1 + 2j, -0.5 + 0.3j, 0.2 - 1j])
    target = np.array([0.5 - 1j, 1j, 2.0 + 0j])
    results = []
    for lib in (minigrad, torch):
        p = lib.nn.Parameter(lib.tensor(start, dtype=lib.complex128))
        opt = getattr(lib.optim, name)([p], **kwargs)
        goal = lib.tensor(target, dtype=lib.complex128)
        for _ in range(5):
            opt.zero_grad()
            ((p - goal).abs() ** 2).sum().backward()
            opt.step()
        results.append(host(p))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10, atol=1e-12)


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda z: z.relu(), lambda z: minigrad.nn.functional.gelu(z), lambda z: z.max(),
        lambda z: z.sort(),
        lambda z: z < z, lambda z: z.clamp(0, 1), lambda z: z.floor(), lambda z: z.argmax(),
        lambda z: minigrad.nn.functional.max_pool1d(z[None], 2), lambda z: z.softmax(0),
    ],
)  # fmt: skip
def test_ops_without_complex_support_refuse_complex_tensors(fn):
    z = minigrad.tensor([[1 + 2j, 3 - 1j], [0.5j, 2.0 + 0j]])
    with pytest.raises((NotImplementedError, RuntimeError)):
        fn(z)


def test_imag_and_view_as_real_refuse_real_tensors_as_torch():
    with pytest.raises(RuntimeError, match="non-complex"):
        minigrad.ones(2).imag  # noqa: B018 - the property raises
    with pytest.raises(RuntimeError, match="only supported for complex tensors"):
        minigrad.view_as_real(minigrad.ones(2))
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        minigrad.view_as_complex(minigrad.ones(2, 3))
    with pytest.raises(RuntimeError, match="scalar type"):
        minigrad.complex(minigrad.ones(2), minigrad.ones(2, dtype=minigrad.float64))
    assert minigrad.ones(2).real is not None and not minigrad.ones(2).is_complex()


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda f, x: f.fft(x, norm="bad"), RuntimeError, "Invalid normalization mode"),
        (lambda f, x: f.fft(x, n=0), RuntimeError, r"Invalid number of data points \(0\)"),
        (lambda f, x: f.fft(x, dim=3), IndexError, "out of range"),
        (lambda f, x: f.fftn(x, s=(4,), dim=(0, 1)), RuntimeError, "same length"),
        (lambda f, x: f.fftn(x, dim=(0, 0)), RuntimeError, "must be unique"),
        (lambda f, x: f.rfft(x * 1j), RuntimeError, "expects a real input"),
        (lambda f, x: f.fft(x.half()), RuntimeError, "Unsupported dtype"),
        (lambda f, x: f.irfft(x[:1, :1] * 1j, dim=0), RuntimeError, "Invalid number of data"),
    ],
)  # fmt: skip
def test_fft_argument_errors_as_torch(call, error, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(error, match=match):
        call(torch.fft, torch.ones(4, 4))
    with pytest.raises(error, match=match):
        call(minigrad.fft, minigrad.ones(4, 4))


def test_fft_frequencies_and_dtypes_as_torch():
    torch = pytest.importorskip("torch")
    for lib_call in (
        lambda lib: lib.fft.fftfreq(5),
        lambda lib: lib.fft.rfftfreq(6, d=0.5),
        lambda lib: lib.fft.fftfreq(4, dtype=lib.float64),
        lambda lib: lib.fft.fft(lib.arange(4)),
        lambda lib: lib.fft.rfft(lib.ones(4, dtype=lib.float64)),
    ):
        a, b = lib_call(minigrad), lib_call(torch)
        assert a.dtype.name == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(host(a), host(b), rtol=1e-6)


def test_casting_complex_to_real_keeps_the_real_part_with_a_warning():
    z = minigrad.tensor([1 + 2j], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = z.to(minigrad.float32)
    assert caught and x.tolist() == [1.0]
    x.sum().backward()
    assert z.grad.tolist() == [1 + 0j]


LOOPED = {"istft"}  # index_add (its overlap-add) has no batching rule: vmap loops over it


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_vmap_matches_a_loop(op, index):
    """Two samples (the row's and its values halved) under vmap, against one call each."""
    args, _ = build(op, index, minigrad)
    halves = [a.detach() * 0.5 if isinstance(a, minigrad.Tensor) and a.is_floating_point()
              or isinstance(a, minigrad.Tensor) and a.is_complex() else a for a in args]  # fmt: skip
    batched = [i for i, a in enumerate(args) if a is not halves[i]]
    if op.name == "istft":  # its window is checked by value (NOLA): batch the spectra only
        batched = [0]
        halves = [h if i in batched else a for i, (a, h) in enumerate(zip(args, halves))]
    stacked = [
        minigrad.stack([a.detach(), h]) if i in batched else a
        for i, (a, h) in enumerate(zip(args, halves))
    ]
    in_dims = tuple(0 if i in batched else None for i in range(len(args)))
    with warnings.catch_warnings():
        if op.name not in LOOPED:  # a loop fallback (no batching rule) fails the test
            warnings.simplefilter("error")
        got = minigrad.func.vmap(lambda *a: call(op, index, a), in_dims=in_dims)(*stacked)
    for k, sample in enumerate((args, halves)):
        want = call(
            op, index, [a.detach() if isinstance(a, minigrad.Tensor) else a for a in sample]
        )
        np.testing.assert_allclose(host(got[k]), host(want), rtol=1e-12, atol=1e-12)


def test_closeness_of_complex_tensors_as_torch():
    torch = pytest.importorskip("torch")
    values, shifted = [1 + 1j, 2j, -3 + 0j], [1 + 1j, 2j + 1e-3j, -3 + 0j]
    for lib in (minigrad, torch):
        a, b = lib.tensor(values), lib.tensor(shifted)
        assert lib.isclose(a, b).tolist() == [True, False, True]
        lib.testing.assert_close(a, a.clone())
        with pytest.raises(AssertionError, match="Mismatched elements: 1 / 3"):
            lib.testing.assert_close(a, b)  # the imaginary parts differ: not close
        assert lib.isreal(a).tolist() == [False, False, True]


def test_sgn_is_z_over_its_magnitude():
    z = minigrad.tensor([0j, 3 + 4j], dtype=minigrad.complex128, requires_grad=True)
    np.testing.assert_allclose(z.sgn().detach().numpy(), [0j, 0.6 + 0.8j], rtol=1e-15)
    z.sgn().real.sum().backward()
    assert z.grad[0].item() == 0  # no NaN at 0, as PyTorch


def test_pytorch_checkpoints_with_complex_tensors_load(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "spectral.pt"
    torch.save(
        {"w": torch.tensor([1 + 2j, 3j]), "d": torch.tensor([1j], dtype=torch.cdouble)}, path
    )
    loaded = minigrad.load(path)
    assert loaded["w"].dtype is minigrad.complex64 and loaded["w"].tolist() == [1 + 2j, 3j]
    assert loaded["d"].dtype is minigrad.complex128 and loaded["d"].tolist() == [1j]


@pytest.mark.parametrize(
    "call",
    [
        lambda m, z: m.nn.functional.mse_loss(z, z), lambda m, z: m.nn.functional.huber_loss(z, z),
        lambda m, z: m.nn.functional.smooth_l1_loss(z, z),
        lambda m, z: m.nn.functional.cosine_similarity(z, z), lambda m, z: m.cdist(z, z),
        lambda m, z: m.nn.functional.interpolate(z[None], scale_factor=2.0),
        lambda m, z: m.nn.functional.batch_norm(z, m.zeros(2), m.ones(2)),
        lambda m, z: m.logit(z), lambda m, z: m.deg2rad(z), lambda m, z: m.nn.functional.pdist(z),
    ],
)  # fmt: skip
def test_functions_pytorch_defines_for_real_tensors_refuse_complex_ones(call):
    """Built from ops that take complex numbers, they would compute something; PyTorch raises."""
    torch = pytest.importorskip("torch")
    values = [[1 + 2j, 3 - 1j], [0.5j, 2 + 0j]]
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor(values))
    with pytest.raises(RuntimeError, match="not implemented for complex tensors"):
        call(minigrad, minigrad.tensor(values))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, z: m.logsumexp(z, 0), lambda m, z: m.cov(z),
        lambda m, z: m.float_power(z, 2), lambda m, z: m.corrcoef(z),
    ],
)  # fmt: skip
def test_functions_not_yet_computed_for_complex_tensors_say_so(call):
    """PyTorch has these for complex tensors; minigrad's would drop the imaginary parts."""
    with pytest.raises(NotImplementedError, match="does not support complex tensors"):
        call(minigrad, minigrad.tensor([[1 + 2j, 3 - 1j], [0.5j, 2 + 0j]]))


def _complex_arguments(op, index, m):
    """The sample's float tensors made complex (the values plus half their reverse times i)."""
    args = []
    for spec, a in zip(op.samples[index].args, make_arrays(op, index)):
        if isinstance(a, np.ndarray) and isinstance(spec, (T, V)):
            z = (a + 0.5j * a[::-1].reshape(a.shape)) if a.size else a.astype(complex)
            args.append(m.tensor(z, dtype=m.complex128))
        else:
            args.append(m.tensor(a) if isinstance(a, np.ndarray) else a)
    return args


REAL_CASES = [
    (op, i)
    for op in OP_DB
    for i in range(len(op.samples))
    if op.torch and any(isinstance(s, (T, V)) for s in op.samples[i].args)
]


@pytest.mark.parametrize("op,index", REAL_CASES, ids=[op.sample_id(i) for op, i in REAL_CASES])
def test_every_op_given_complex_tensors_raises_or_matches_torch(op, index):
    """No silent answer: an op of the main table either refuses complex inputs, or PyTorch
    accepts them too and computes the same values."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            got = outputs(
                op.fn(
                    minigrad, *_complex_arguments(op, index, minigrad), **op.samples[index].kwargs
                )
            )
        except (RuntimeError, NotImplementedError, TypeError, ValueError, IndexError):
            return
        want = outputs(
            op.fn(torch, *_complex_arguments(op, index, torch), **op.samples[index].kwargs)
        )
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(host(a), host(b), rtol=1e-7, atol=1e-9, equal_nan=True)


def test_function_transforms_take_complex_inputs_as_torch():
    torch = pytest.importorskip("torch")
    values = [1 + 2j, 3 - 1j]
    for lib in (minigrad, torch):
        z = lib.tensor(values, dtype=lib.complex128)
        np.testing.assert_allclose(
            host(lib.func.grad(lambda z: (z.abs() ** 2).sum())(z)), [2 + 4j, 6 - 2j]
        )
        _, pullback = lib.func.vjp(lambda z: z * z, z)
        np.testing.assert_allclose(host(pullback(lib.ones_like(z))[0]), [2 - 4j, 6 + 2j])
        with pytest.raises(RuntimeError, match="real scalar"):
            lib.func.grad(lambda z: (z * z).sum())(z)
        with pytest.raises(RuntimeError, match="real scalar"):
            (z.clone().requires_grad_() * 2).sum().backward()


def _write_through_the_parts(lib, z0, s):
    z = z0 * 1.0
    z.real[:2].mul_(s)
    z.imag[1:] = s * 3
    keep = z.real  # a view: sees the next in-place change of z
    z[2:].add_(1j)
    return z, keep


def test_parts_are_views_that_write_through_as_torch():
    torch = pytest.importorskip("torch")
    got = []
    for lib in (minigrad, torch):
        z0 = lib.tensor([1 + 2j, 3 - 1j, -2 + 0.5j], dtype=lib.cdouble, requires_grad=True)
        s = lib.tensor([0.5, -1.0], dtype=lib.double, requires_grad=True)
        z, keep = _write_through_the_parts(lib, z0, s)
        (z * z).sum().abs().backward()
        got.append([t.detach().numpy() for t in (z, keep, z0.grad, s.grad)])
        w = lib.tensor([1 + 2j])
        w.real = lib.tensor([5.0])
        w.imag.zero_()
        got[-1].append(w.numpy())
    for ours, theirs in zip(*got):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_writes_through_the_parts_pass_gradcheck():
    def f(z0, s):
        z, _ = _write_through_the_parts(minigrad, z0, s)
        return z * z.conj().real

    z0 = minigrad.tensor([1 + 2j, 3 - 1j, -2 + 0.5j], dtype=minigrad.cdouble, requires_grad=True)
    s = minigrad.tensor([0.5, -1.0], dtype=minigrad.double, requires_grad=True)
    assert gradcheck(f, (z0, s)) and gradgradcheck(f, (z0, s))


def test_complex_tensors_move_between_devices_with_their_gradient():
    z = minigrad.tensor([1 + 2j, -3j], dtype=minigrad.complex128, requires_grad=True)
    moved = z.to("fakegpu")
    assert moved.device.type == "fakegpu" and moved.dtype is minigrad.complex128
    (moved * moved.conj()).real.sum().backward()  # |z|²: gradient 2z, back on the CPU
    assert z.grad.device.type == "cpu" and z.grad.tolist() == [2 + 4j, -6j]


def test_in_place_forms_on_complex_tensors_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        with pytest.raises(RuntimeError, match="In-place abs is not supported for complex"):
            lib.tensor([1 + 2j]).abs_()
        z = lib.tensor([1 + 2j, -3j], dtype=lib.complex128)
        z.conj_physical_().mul_(1j).add_(1).exp_()
        np.testing.assert_allclose(host(z), np.exp(np.array([1 + 2j, -3j]).conj() * 1j + 1))


def test_stft_warns_where_pytorch_warns():
    x = minigrad.randn(40)
    with pytest.warns(UserWarning, match="rectangular"):
        minigrad.stft(x, 16, return_complex=True)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        minigrad.stft(x, 16, window=minigrad.hann_window(16), return_complex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minigrad.stft(x, 16, window=minigrad.hann_window(16), return_complex=True)


def test_nan_to_num_replaces_each_part_of_complex_numbers_as_torch():
    torch = pytest.importorskip("torch")
    values = [complex(float("nan"), 1.0), complex(2.0, float("inf")), complex(-float("inf"), 0.5)]
    for kwargs in ({}, {"nan": 0.5, "posinf": 9.0, "neginf": -9.0}):
        got = minigrad.nan_to_num(minigrad.tensor(values, dtype=minigrad.complex128), **kwargs)
        want = torch.nan_to_num(torch.tensor(values, dtype=torch.complex128), **kwargs)
        np.testing.assert_array_equal(host(got), host(want))
    z = minigrad.tensor([1 + 2j, complex(float("nan"), 3.0)], dtype=minigrad.complex128)
    z.requires_grad_()
    minigrad.nan_to_num(z).abs().pow(2).sum().backward()  # the finite parts pass their gradient
    np.testing.assert_allclose(host(z.grad), [2 + 4j, 6j])
