"""The Tensor surface: construction, dtypes and promotion, Python protocols, printing,
indexing and assignment, in-place updates, conversions."""

import numpy as np
import pytest

import minigrad


def test_default_dtypes_follow_pytorch():
    assert minigrad.tensor(1.0).dtype is minigrad.float32
    assert minigrad.tensor(1).dtype is minigrad.int64
    assert minigrad.tensor(True).dtype is minigrad.bool
    assert minigrad.tensor(np.zeros(2)).dtype is minigrad.float64  # NumPy arrays keep theirs
    assert minigrad.zeros(2).dtype is minigrad.float32
    assert minigrad.arange(3).dtype is minigrad.int64
    assert minigrad.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: minigrad.tensor([1, 2]) * 2.5, minigrad.float32),
        (lambda: minigrad.tensor([1, 2]) + 1, minigrad.int64),
        (lambda: minigrad.tensor([1, 2]) / 2, minigrad.float32),
        (
            lambda: minigrad.tensor([1.0]) + minigrad.tensor(1.0, dtype=minigrad.float64),
            minigrad.float32,
        ),
        (
            lambda: minigrad.tensor([1.0]) + minigrad.tensor([1.0], dtype=minigrad.float64),
            minigrad.float64,
        ),
        (lambda: minigrad.tensor([1], dtype=minigrad.int32) + minigrad.tensor([1]), minigrad.int64),
        (
            lambda: minigrad.tensor([True]) + minigrad.tensor([1.5], dtype=minigrad.float16),
            minigrad.float16,
        ),
        (
            lambda: minigrad.tensor([1.0], dtype=minigrad.float16) * np.float64(2.0),
            minigrad.float16,
        ),
        (lambda: minigrad.tensor([3, 4]).sum(), minigrad.int64),
        (lambda: minigrad.tensor(1.0) + minigrad.tensor(1, dtype=minigrad.int32), minigrad.float32),
        (lambda: minigrad.dtypes.promote_types(minigrad.int64, minigrad.float16), minigrad.float16),
    ],
)
def test_type_promotion_matches_pytorch(make, expected):
    result = make()
    assert getattr(result, "dtype", result) is expected


def test_repr_looks_like_pytorch():
    assert repr(minigrad.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert (
        repr(minigrad.tensor([1.0, 2.0], requires_grad=True))
        == "tensor([1., 2.], requires_grad=True)"
    )
    assert repr(minigrad.tensor([1, 2])) == "tensor([1, 2])"
    assert (
        repr(minigrad.tensor(2.0, dtype=minigrad.float64)) == "tensor(2., dtype=minigrad.float64)"
    )
    x = minigrad.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert (
        repr(minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    )


def test_python_protocols():
    t = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert len(t) == 2
    assert [row.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    s = t.sum()
    assert float(s) == 10.0 and int(s) == 10 and bool(s)
    assert f"{s:.2f}" == "10.00"
    assert [10, 20, 30][minigrad.tensor(1)] == 20
    assert np.asarray(t).shape == (2, 2)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t)
    with pytest.raises(TypeError, match="len"):
        len(s)


def test_item_numpy_tolist():
    t = minigrad.tensor([1.5], requires_grad=True)
    assert t.item() == 1.5
    with pytest.raises(RuntimeError, match="requires grad"):
        t.numpy()
    assert t.detach().numpy().tolist() == [1.5]
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        minigrad.ones(2).item()


def test_size_dim_numel():
    t = minigrad.zeros(2, 3)
    assert t.size() == (2, 3) and t.size(1) == 3 and t.dim() == 2 and t.numel() == 6


def test_cast_gradient():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    y = x.float()
    assert y.dtype is minigrad.float32 and y.grad_fn.name() == "ToCopyBackward0"
    (y * minigrad.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.dtype is minigrad.float64 and x.grad.tolist() == [3.0, 4.0]
    assert not x.long().requires_grad


def test_to_returns_self_when_nothing_changes():
    t = minigrad.ones(2)
    assert t.to("cpu") is t and t.to(minigrad.float32) is t
    assert t.to(minigrad.float64).dtype is minigrad.float64


def test_getitem_matches_numpy():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = minigrad.tensor(a)
    for key in [(1, slice(None), 2), (Ellipsis, 0), (None, 1), (slice(0, 2), [0, 2]), (a > 10,)]:
        np.testing.assert_array_equal(t[key].numpy(), a[key])
    np.testing.assert_array_equal(t[minigrad.tensor([1, 0])].numpy(), a[[1, 0]])


@pytest.mark.parametrize(
    "make",
    [
        lambda t: [t.tensor([1.0]), t.tensor([2.0])],  # shape-(1,) tensors are scalars
        lambda t: [t.ones(1, 1), t.tensor(3.0)],
        lambda t: [[t.tensor([1.0])], [t.tensor([2.0])]],
        lambda t: (t.tensor(3), t.tensor(4)),
        lambda t: [t.tensor(1.0, dtype=t.float64), 2],  # the tensor's dtype takes part
        lambda t: [t.tensor(1, dtype=t.int32)],
        lambda t: [t.tensor(1.5, dtype=t.float16), 1],
        lambda t: [t.tensor(2), 1.5],
        lambda t: [t.tensor(True), t.tensor(False)],
        lambda t: [1.0, t.tensor(2.0, requires_grad=True)],
    ],
)
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")  # PyTorch's
def test_tensor_of_a_sequence_holding_tensors_reads_them_as_scalars(make):
    torch = pytest.importorskip("torch")
    expected = torch.tensor(make(torch))
    got = minigrad.tensor(make(minigrad))
    assert got.tolist() == expected.tolist() and str(got.dtype)[9:] == str(expected.dtype)[6:]
    assert not got.requires_grad


def test_tensor_of_a_sequence_refuses_tensors_of_several_elements():
    torch = pytest.importorskip("torch")
    for lib in (torch, minigrad):
        with pytest.raises(ValueError, match="only one element tensors"):
            lib.tensor([lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])])


def test_setitem_outside_the_graph():
    t = minigrad.zeros(3)
    t[1] = 5.0
    t[minigrad.tensor([True, False, True])] = minigrad.tensor(2.0)
    assert t.tolist() == [2.0, 5.0, 2.0]
    x = minigrad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0] = 1.0  # as PyTorch
    with minigrad.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "key",
    [
        lambda t: (1, slice(None), t([0, 2, 3]), t([0, 2, 3])),  # int, slice, then two arrays
        lambda t: (0, slice(None), t([1, 2])),
        lambda t: (t([1, 0]), 2, slice(None), t([0, 3])),  # arrays split by an int
        lambda t: (1, Ellipsis, t([3, 0])),
        lambda t: (slice(0, 2), 1, None, t([2, 2, 1])),
    ],
)
def test_setitem_with_ints_and_index_tensors_follows_pytorch_dim_order(device, key):
    """PyTorch applies ints first, so ``x[1, :, idx, idx] = v`` fills a (3, len(idx)) region,
    where NumPy would move the advanced dims to the front and refuse a (3, n) value."""
    torch = pytest.importorskip("torch")
    values = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    expected = torch.tensor(values)
    mkey = key(lambda v: minigrad.tensor(v, device=device))
    tkey = key(lambda v: torch.tensor(v))
    target = expected[tkey]
    value = np.arange(target.numel(), dtype=np.float32).reshape(target.shape) + 1000
    expected[tkey] = torch.tensor(value)
    got = minigrad.tensor(values, device=device)
    assert tuple(got[mkey].shape) == tuple(target.shape)
    got[mkey] = minigrad.tensor(value, device=device)
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())
    got[mkey] += 1  # read-modify-write through the same key
    expected[tkey] += 1
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


def test_in_place_methods():
    t = minigrad.ones(3)
    t.add_(minigrad.tensor([1.0, 2.0, 3.0]), alpha=2).mul_(2).sub_(1).div_(2)
    assert t.tolist() == [2.5, 4.5, 6.5]
    t.clamp_(max=4.0).fill_(7.0)
    assert t.tolist() == [7.0] * 3
    t.zero_().copy_(minigrad.tensor([1, 2, 3]))
    assert t.tolist() == [1.0, 2.0, 3.0] and t.dtype is minigrad.float32
    t += 1
    assert t.tolist() == [2.0, 3.0, 4.0]
    with pytest.raises(RuntimeError, match="can't be cast"):
        minigrad.tensor([1, 2]).add_(1.5)


def test_fill_with_a_tensor_copies_its_value_everywhere():
    t = minigrad.tensor([1.0, float("nan"), float("inf")])
    assert t.fill_(minigrad.tensor(2.5, dtype=minigrad.float64)).tolist() == [2.5] * 3
    assert t.dtype is minigrad.float32
    value = minigrad.tensor(2.0, requires_grad=True)
    y = minigrad.zeros(3).clone()
    y.fill_(value)
    (y * minigrad.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert value.grad.item() == 6.0
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        t.fill_(minigrad.tensor([1.0]))


def test_in_place_twins_are_real_methods():
    """Written out in the class (help(), IDEs and tracebacks see them), each its function's twin."""
    for name in ("abs", "exp", "relu", "sigmoid", "sqrt", "tanh", "trunc"):
        method = getattr(minigrad.Tensor, f"{name}_")
        assert method.__qualname__ == f"InPlaceMethods.{name}_"
        t = minigrad.tensor([0.5, 2.0])
        expected = getattr(minigrad, name)(t).tolist()
        assert method(t) is t and t.tolist() == expected


def test_comparisons_give_bool_without_grad():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype is minigrad.bool and not m.requires_grad and m.tolist() == [False, True]
    assert (~m).tolist() == [True, False] and (m | ~m).all().item()


def test_shape_errors_name_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"Add: .*\[3\], \[4\]"):
        minigrad.ones(3) + minigrad.ones(4)
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"
    ):
        minigrad.ones(2, 3) @ minigrad.ones(2, 3)
    with pytest.raises(RuntimeError, match="shape '\\[5\\]' is invalid for input of size 6"):
        minigrad.ones(2, 3).reshape(5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        minigrad.ones(2, 3).sum(2)


def test_max_with_dim_returns_values_and_indices():
    t = minigrad.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 2.0]], requires_grad=True)
    values, indices = t.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    values.sum().backward()
    assert t.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_random_is_reproducible_and_generator_aware():
    minigrad.manual_seed(3)
    a = minigrad.randn(4)
    minigrad.manual_seed(3)
    assert minigrad.randn(4).tolist() == a.tolist()
    g = minigrad.Generator().manual_seed(5)
    b = minigrad.rand(3, generator=g)
    g.manual_seed(5)
    assert minigrad.rand(3, generator=g).tolist() == b.tolist()
    p = minigrad.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    counts = minigrad.multinomial(minigrad.tensor([0.0, 1.0, 3.0]), 400, replacement=True).tolist()
    assert counts.count(0) == 0 and 250 < counts.count(2) < 350


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the stand-in's 0 / 0
def test_multinomial_checks_rows_without_a_host_round_trip_on_a_gpu(device):
    from minigrad.testing.fake_device import HostTransfers

    minigrad.device(device).backend.raise_deferred()  # nothing left from other tests
    good = minigrad.tensor([[0.2, 0.8], [1.0, 0.0]], device=device)
    before = HostTransfers.count
    draws = minigrad.multinomial(good, 3, replacement=True)
    assert HostTransfers.count == before  # no sync for the checks (nor on a real GPU)
    assert draws[1].tolist() == [0, 0, 0]
    bad = [([[0.2, float("nan")]], "`nan` or element < 0"), ([[0.0, 0.0]], "sum of prob")]
    for rows, message in bad:
        with pytest.raises(RuntimeError, match=message):  # at once on the CPU, at the sync on a GPU
            minigrad.multinomial(minigrad.tensor(rows, device=device), 1).tolist()
    assert minigrad.multinomial(good, 1).tolist() in ([[0], [0]], [[1], [0]])  # clean again


def test_factories():
    assert minigrad.full((2,), 3).dtype is minigrad.int64
    assert minigrad.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert minigrad.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert minigrad.zeros_like(minigrad.ones(2, dtype=minigrad.float64)).dtype is minigrad.float64
    assert minigrad.randint(0, 3, (5,)).dtype is minigrad.int64
    with pytest.raises(RuntimeError, match="negative dimension"):
        minigrad.zeros(-1)


def test_deepcopy_copies_data_and_grad():
    import copy

    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    y = copy.deepcopy({"w": x})["w"]
    y.data.add_(1)
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 3.0]
    assert y.requires_grad and y.grad.tolist() == [2.0, 2.0] and y.grad is not x.grad
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


def test_pickling_as_pytorch_pickles(device):
    """Values, dtype, device, requires_grad and a subclass's attributes; no grad, no graph."""
    import pickle

    from minigrad import nn

    x = minigrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * 3).sum().backward()
    y = pickle.loads(pickle.dumps(x))
    assert y.tolist() == [1.0, 2.0] and y.requires_grad and y.grad is None
    assert y.device == x.device and y.dtype is minigrad.float32
    z = pickle.loads(pickle.dumps(x * 2))  # a non-leaf arrives as a leaf
    assert z.grad_fn is None and z.is_leaf and z.requires_grad
    p = pickle.loads(pickle.dumps(nn.Parameter(minigrad.ones(2, dtype=minigrad.float64))))
    assert type(p) is nn.Parameter and p.dtype is minigrad.float64 and p.requires_grad
    assert (
        pickle.loads(pickle.dumps(nn.Buffer(minigrad.ones(1), persistent=False))).persistent
        is False
    )
    model = pickle.loads(pickle.dumps(nn.Sequential(nn.Linear(3, 2))))
    assert model[0].weight.shape == (2, 3) and isinstance(model[0].weight, nn.Parameter)
    with pytest.raises(TypeError, match="shared memory"):
        pickle.dumps(minigrad.ones(2).share_memory_())


def test_copy_copy_shares_data_as_pytorch():
    import copy

    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = copy.copy(x)
    assert y is not x and y.requires_grad and y.data_ptr() == x.data_ptr()
    with minigrad.no_grad():
        y.add_(1)
    assert x.tolist() == [2.0, 3.0] and x._version_counter is y._version_counter


def test_in_place_unary_twins():
    t = minigrad.tensor([-1.0, 4.0])
    assert t.abs_().sqrt_().neg_().tolist() == [-1.0, -2.0]
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.exp_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)


def test_no_grad_as_bare_decorator_and_where_with_one_argument():
    @minigrad.no_grad
    def double(t):
        return t * 2

    x = minigrad.tensor([1.0, -1.0], requires_grad=True)
    assert not double(x).requires_grad and minigrad.is_grad_enabled()
    (rows,) = minigrad.where(x > 0)
    assert rows.tolist() == [0]


@pytest.mark.parametrize(
    "values",
    [[True, False], [True, True], [False], [[False, True], [True, True]], [[True], [True]]],
)
def test_bool_repr_pads_as_pytorch(values):
    torch = pytest.importorskip("torch")
    assert repr(minigrad.tensor(values)) == repr(torch.tensor(values))


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.random.default_rng(0).standard_normal(2000).astype(np.float32),
        lambda: np.random.default_rng(1).standard_normal((40, 50)).astype(np.float32),
        lambda: (np.random.default_rng(2).standard_normal(2000) * 1e5).astype(np.float32),
        lambda: np.arange(3000).reshape(10, 300),
        lambda: np.random.default_rng(3).standard_normal((11, 12, 13)).astype(np.float32),
        lambda: np.random.default_rng(4).random(1001) > 0.5,
        lambda: np.arange(2000).astype(np.float32),
        lambda: np.random.default_rng(5).standard_normal((1100, 1)).astype(np.float32),
        lambda: np.random.default_rng(6).standard_normal((2, 600)),
    ],
)
def test_large_tensor_repr_is_summarized_as_pytorch(make):
    torch = pytest.importorskip("torch")
    a = make()
    expected = repr(torch.tensor(a)).replace("torch.", "minigrad.")
    assert repr(minigrad.tensor(a)) == expected
