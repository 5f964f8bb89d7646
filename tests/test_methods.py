"""The tensor methods PyTorch programs use (branch ``methods``): the in-place twins (gradients
and PyTorch's values), in-place changes of shape, metadata answers, and their errors."""

import math

import numpy as np
import pytest
from helpers import build, outputs, to_numpy

import minigrad
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.autograd.graph import version_counter
from minigrad.testing.op_db_methods import INPLACE_FORWARD_ROWS, INPLACE_ROWS

CASES = [(op, i) for op in INPLACE_ROWS for i in range(len(op.samples))]
IDS = [op.sample_id(i) for op, i in CASES]


def _call(op, index, args, m=minigrad):
    return op.fn(m, *args, **op.samples[index].kwargs)


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_inplace_twin_gradients(op, index, device):
    args, grad_args = build(op, index, minigrad, "float64", device)
    assert grad_args
    assert gradcheck(lambda *a: outputs(_call(op, index, a)), tuple(args))
    assert gradgradcheck(lambda *a: outputs(_call(op, index, a)), tuple(args))


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_inplace_twin_matches_torch(op, index):
    torch = pytest.importorskip("torch")
    args_m, grads_m = build(op, index, minigrad, "float64")
    args_t, grads_t = build(op, index, torch, "float64")
    out_m, out_t = _call(op, index, args_m), _call(op, index, args_t, torch)
    np.testing.assert_allclose(to_numpy(out_m), to_numpy(out_t), rtol=1e-7, atol=1e-10)
    v = np.random.default_rng(1).uniform(-1, 1, tuple(out_t.shape))
    gm = minigrad.autograd.grad(out_m, grads_m, minigrad.tensor(v), allow_unused=True)
    gt = torch.autograd.grad(out_t, grads_t, torch.tensor(v), allow_unused=True)
    for a, b in zip(gm, gt):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-7, atol=1e-10)


FORWARD = [(op, i) for op in INPLACE_FORWARD_ROWS for i in range(len(op.samples))]


@pytest.mark.parametrize("op,index", FORWARD, ids=[op.sample_id(i) for op, i in FORWARD])
def test_inplace_forward_twins_match_torch(op, index):
    torch = pytest.importorskip("torch")
    args_m, _ = build(op, index, minigrad, "float64")
    args_t, _ = build(op, index, torch, "float64")
    outs_m, outs_t = outputs(_call(op, index, args_m)), outputs(_call(op, index, args_t, torch))
    assert len(outs_m) == len(outs_t)
    for a, b in zip(outs_m, outs_t):
        assert a.dtype.name == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


def test_inplace_twin_keeps_storage_and_dtype():
    x = minigrad.tensor([3, 4, 5])
    same = x.eq_(4)
    assert same is x and x.dtype is minigrad.int64 and x.tolist() == [0, 1, 0]
    with pytest.raises(RuntimeError, match="can't be cast"):
        minigrad.tensor([1, 2]).acos_()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        minigrad.ones(2, requires_grad=True).atan_()


def test_inplace_shape_changes():
    x = minigrad.arange(6.0).reshape(2, 3)
    assert x.t_() is x and x.shape == (3, 2) and x[0].tolist() == [0.0, 3.0]
    x.transpose_(0, 1).unsqueeze_(0)
    assert x.shape == (1, 2, 3)
    x.squeeze_(0).swapaxes_(0, 1).swapdims_(1, 0)
    assert x.shape == (2, 3) and x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    y = minigrad.ones(1, 2, 1)
    assert y.squeeze_().shape == (2,)


def test_inplace_shape_change_of_a_view_keeps_writing_to_its_base():
    base = minigrad.zeros(2, 3)
    row = base[1]
    row.unsqueeze_(0)
    assert row.shape == (1, 3) and row._base is base
    w = minigrad.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    row.copy_(w * 2)  # recorded on the base through the view's new ops
    assert base.tolist() == [[0.0, 0.0, 0.0], [2.0, 4.0, 6.0]]
    base.sum().backward()
    assert w.grad.tolist() == [[2.0, 2.0, 2.0]]


def test_inplace_shape_changes_of_tensors_that_require_grad_as_pytorch():
    """A computed tensor takes the view's history under PyTorch's node name (BigBird's
    ``context.unsqueeze_(2)``); a leaf raises PyTorch's in-place error; a view that requires
    grad is refused (NotImplementedError)."""
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        minigrad.ones(2, 3, requires_grad=True).t_()
    w = minigrad.ones(2, 3, requires_grad=True)
    results = {}
    for name, change in (
        ("UnsqueezeBackward1", lambda x: x.unsqueeze_(1)),
        ("SqueezeBackward4", lambda x: x.unsqueeze_(0).squeeze_(0)),
        ("TBackward1", lambda x: x.t_()),
        ("TransposeBackward1", lambda x: x.transpose_(0, 1)),
    ):
        x = w * 2
        change(x)
        assert x.grad_fn.name() == name and x._version >= 1
        results[name] = tuple(x.shape)
        (x * minigrad.arange(6.0).reshape(x.shape)).sum().backward()
    assert results["UnsqueezeBackward1"] == (2, 1, 3) and results["TBackward1"] == (3, 2)
    assert w.grad.tolist() == [[0.0, 12.0, 24.0], [16.0, 28.0, 40.0]]  # PyTorch's
    s = w.exp()
    s.unsqueeze_(0)  # exp saved its output: backward now refuses, as PyTorch
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()
    with pytest.raises(NotImplementedError, match="unsqueeze_"):
        (w * 3)[0].unsqueeze_(0)


def test_metadata_answers():
    torch = pytest.importorskip("torch")
    for values, dtype in (([1.0], "float32"), ([1], "int64"), ([1], "uint8"), ([True], "bool")):
        m = minigrad.tensor(values, dtype=getattr(minigrad, dtype))
        t = torch.tensor(values, dtype=getattr(torch, dtype))
        assert m.is_signed() == t.is_signed()
        assert m.is_complex() is False and m.is_cpu and m.get_device() == -1
    x = minigrad.ones(2, 3)
    assert x.ndimension() == 2 and x.is_same_size(minigrad.zeros(2, 3))
    assert not x.is_same_size(minigrad.zeros(3, 2))
    assert not x.is_inference() and not x.is_conj() and not x.is_neg() and not x.is_sparse
    assert x.conj() is x and x.resolve_conj() is x and x.real is x
    assert x.new(4, 5).shape == (4, 5) and x.new(4).dtype is minigrad.float32
    assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new().shape == (0,)
    assert x.double().new(2).dtype is minigrad.float64
    a, b = minigrad.ones(3, requires_grad=True).unbind()[1:]
    assert (a.output_nr, b.output_nr) == (1, 2)
    with pytest.raises(RuntimeError, match="non-complex"):
        _ = x.imag


def test_is_nonzero():
    assert minigrad.tensor([2.0]).is_nonzero() and not minigrad.tensor(0).is_nonzero()
    with pytest.raises(RuntimeError, match="no values"):
        minigrad.zeros(0).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value"):
        minigrad.zeros(2).is_nonzero()


def test_conjugate_transposes():
    x = minigrad.randn(2, 3, 4)
    assert x.mH.shape == (2, 4, 3) and x.adjoint().shape == (2, 4, 3)
    assert x[0].H.tolist() == x[0].t().tolist()
    with pytest.raises(RuntimeError, match="tensor.H"):
        _ = x.H


def test_apply_and_map():
    x = minigrad.tensor([1.0, 2.0, 3.0])
    version = version_counter(x).value
    assert x.apply_(lambda v: v * v) is x and x.tolist() == [1.0, 4.0, 9.0]
    assert version_counter(x).value == version + 1  # saved values are guarded
    x.map_(minigrad.tensor(1.0), lambda a, b: a - b)
    assert x.tolist() == [0.0, 3.0, 8.0]
    n = minigrad.tensor([[1, 2], [3, 4]]).map_(minigrad.tensor([10, 20]), lambda a, b: a + b)
    assert n.tolist() == [[11, 22], [13, 24]] and n.dtype is minigrad.int64
    with pytest.raises(RuntimeError, match="requires grad"):
        minigrad.ones(2, requires_grad=True).apply_(abs)


def test_random_methods():
    minigrad.manual_seed(0)
    p = minigrad.full((1000,), 0.25)
    draw = p.bernoulli()
    assert draw.dtype is minigrad.float32 and set(draw.tolist()) <= {0.0, 1.0}
    assert 0.15 < draw.mean().item() < 0.35
    assert p.bernoulli(1.0).sum().item() == 1000
    idx = minigrad.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).multinomial(2, replacement=True)
    assert idx.tolist() == [[1, 1], [0, 0]]


def test_logcumsumexp_any_spread():
    torch = pytest.importorskip("torch")
    values = [-1000.0, 0.0, 1000.0, -math.inf, 5.0, 1e-3]
    got = minigrad.logcumsumexp(minigrad.tensor(values, dtype=minigrad.float64), 0)
    want = torch.logcumsumexp(torch.tensor(values, dtype=torch.float64), 0)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    x = minigrad.tensor([-700.0, 0.0, 700.0], dtype=minigrad.float64, requires_grad=True)
    assert gradgradcheck(lambda t: minigrad.logcumsumexp(t, 0), (x,))


def test_mode_gradient_goes_to_the_chosen_index():
    x = minigrad.tensor([[1.0, 2.0, 2.0, 1.0, 3.0]], requires_grad=True)
    values, indices = x.mode(1)
    assert values.tolist() == [1.0] and indices.tolist() == [3]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0, 1.0, 0.0]]


def test_index_put_mask_and_errors():
    torch = pytest.importorskip("torch")
    data = np.arange(12.0).reshape(3, 4)
    mask = np.array([[True, False, True, False]] * 3)
    got = minigrad.tensor(data).index_put_((minigrad.tensor(mask),), minigrad.tensor(-1.0))
    want = torch.tensor(data).index_put_((torch.tensor(mask),), torch.tensor(-1.0))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(IndexError, match="out of bounds"):
        minigrad.zeros(3).index_put((minigrad.tensor([3]),), minigrad.tensor(1.0))
    with pytest.raises(IndexError, match="same number of elements"):  # (as PyTorch)
        minigrad.zeros(3).put(minigrad.tensor([0, 1]), minigrad.ones(3))


def test_torch_function_names():
    """The top-level names added for PyTorch programs exist and agree with torch's."""
    torch = pytest.importorskip("torch")
    a, b = [1.0, 2.0, 3.0], [2.0, 2.0, 1.0]
    for name in ("greater", "less", "greater_equal", "less_equal", "not_equal"):
        got = getattr(minigrad, name)(minigrad.tensor(a), minigrad.tensor(b))
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert got.tolist() == want.tolist(), name
    rank_one = [[1.0, 2.0], [2.0, 4.0]]
    np.testing.assert_allclose(
        minigrad.linalg.pinv(minigrad.tensor(rank_one), rtol=1e-6).numpy(),
        torch.linalg.pinv(torch.tensor(rank_one), rtol=1e-6).numpy(),
        rtol=1e-5,
    )
    x = minigrad.zeros(2, 2)
    minigrad.index_put_(x, (minigrad.tensor([1]),), minigrad.tensor(3.0))
    assert x.tolist() == [[0.0, 0.0], [3.0, 3.0]]


def test_decomposition_methods_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=(4, 3))
    for some in (True, False):
        for x, y in zip(minigrad.tensor(a).svd(some), torch.tensor(a).svd(some)):
            np.testing.assert_allclose(np.abs(x.numpy()), np.abs(y.numpy()), atol=1e-10)
        for x, y in zip(minigrad.tensor(a).qr(some), torch.tensor(a).qr(some)):
            np.testing.assert_allclose(np.abs(x.numpy()), np.abs(y.numpy()), atol=1e-10)
    for x, y in zip(
        minigrad.tensor(a).svd(compute_uv=False), torch.tensor(a).svd(compute_uv=False)
    ):
        np.testing.assert_allclose(x.numpy(), y.numpy(), atol=1e-10)
    spd = a @ a.T + 4 * np.eye(4)
    for upper in (False, True):
        got = minigrad.tensor(spd).cholesky(upper)
        np.testing.assert_allclose(got.numpy(), torch.tensor(spd).cholesky(upper).numpy())


def test_angle_dim_order_and_unsafe_aliases():
    torch = pytest.importorskip("torch")
    values = [-1.0, 0.0, 2.0, math.nan, -math.inf, math.inf]
    np.testing.assert_array_equal(
        minigrad.tensor(values).angle().numpy(), torch.tensor(values).angle().numpy()
    )
    assert minigrad.tensor([-1, 2]).angle().dtype is minigrad.float32
    x = minigrad.tensor([-1.5, 2.0], requires_grad=True)
    x.angle().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert minigrad.ones(2, 3, 4).permute(2, 0, 1).dim_order() == (1, 2, 0)
    assert torch.ones(2, 3, 4).permute(2, 0, 1).dim_order() == (1, 2, 0)
    parts = minigrad.arange(5).unsafe_split_with_sizes([2, 3])
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3, 4]]
    assert len(minigrad.arange(6).unsafe_chunk(3)) == len(minigrad.arange(6).unsafe_split(2)) == 3


def test_shape_changes_in_place_guard_saved_values():
    for change in (lambda x: x.t_(), lambda x: x.resize_(3, 3), lambda x: x.unsqueeze_(0)):
        x, w = minigrad.ones(2, 3), minigrad.ones(2, 3, requires_grad=True)
        y = (w * x).sum()
        change(x)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_more_tensor_methods_match_torch():
    torch = pytest.importorskip("torch")
    x = [1.0, 2.0, 2.0, 5.0]
    for args, kwargs in (((3,), {}), ((), dict(bins=3, range=(0.0, 10.0), density=True))):
        got = minigrad.tensor(x).histogram(*args, **kwargs)
        want = torch.tensor(x).histogram(*args, **kwargs)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    for size in (6, 2):
        assert (
            minigrad.tensor(x).nonzero_static(size=size).tolist()
            == torch.tensor(x).nonzero_static(size=size).tolist()
        )
    y = minigrad.arange(6.0)
    assert y.resize_(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert y.resize_as_(minigrad.zeros(3, 3)).shape == (3, 3)
    with pytest.raises(RuntimeError, match="require grad"):
        minigrad.ones(2, requires_grad=True).resize_(3)
    assert minigrad.ones(2, 3)[:, 1:].storage_offset() == 1
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 3))
    spd, b = a @ a.T + 3 * np.eye(3), rng.normal(size=(3, 2))
    low = np.linalg.cholesky(spd)
    for upper, factor in ((False, low), (True, low.T)):
        np.testing.assert_allclose(
            minigrad.tensor(b).cholesky_solve(minigrad.tensor(factor), upper).numpy(),
            torch.tensor(b).cholesky_solve(torch.tensor(factor), upper).numpy(),
        )
        np.testing.assert_allclose(
            minigrad.tensor(factor).cholesky_inverse(upper).numpy(),
            torch.tensor(factor).cholesky_inverse(upper).numpy(),
        )
    for kw in (dict(upper=True), dict(upper=False, transpose=True, unitriangular=True)):
        got = minigrad.tensor(b).triangular_solve(minigrad.tensor(spd), **kw)
        want = torch.tensor(b).triangular_solve(torch.tensor(spd), **kw)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-10)
    assert not minigrad.ones(1).is_xpu and not minigrad.ones(1).is_distributed()


def test_function_forms_of_methods():
    torch = pytest.importorskip("torch")
    values = [1.0, -2.0, 0.5]
    for name in ("eq", "ge", "lt"):
        got = getattr(minigrad, name)(minigrad.tensor(values), 0.5)
        assert got.tolist() == getattr(torch, name)(torch.tensor(values), 0.5).tolist(), name
    x = minigrad.tensor(values)
    assert minigrad.abs_(x) is x and x.tolist() == [1.0, 2.0, 0.5]
    assert minigrad.real(x) is x and minigrad.is_signed(x) and minigrad.abs_.__name__ == "abs_"
    with pytest.raises(RuntimeError, match="non-complex"):
        minigrad.imag(x)
