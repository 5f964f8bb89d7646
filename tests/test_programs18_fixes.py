"""Focused tests for what the eighteenth round of programs (tests/test_programs18.py) found
different from PyTorch, each compared with PyTorch itself."""

import pytest

import minigrad


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.quantile(t.rand(5), 1.5),  # a Python q: named with its value
        lambda t: t.quantile(t.arange(5), -0.5),  # checked before the dtype
        lambda t: t.nanquantile(t.rand(5), float("nan")),  # named quantile() too
        lambda t: t.nanquantile(t.arange(3), 0.5),
        lambda t: t.quantile(t.rand(5), t.tensor([0.5, float("nan")])),  # NaN in a q tensor
    ],
)
def test_quantile_q_out_of_range(call):
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = _error(minigrad, call), _error(torch, call)
    assert mine == pytorchs and message.startswith(pytorch_message)  # (ours may add the dtype)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.tensor([0.0, 1.0]),
        lambda t: t.tensor([True, False]),
        lambda t: t.tensor([[0.5]], dtype=t.float64),  # the dtype is refused before the shape
        lambda t: t.tensor([[0, 1]]),
        lambda t: t.tensor([0, -1]),
    ],
)
def test_bincount_refuses_floats_with_pytorchs_error(make):
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = (
        _error(lib, lambda t: t.bincount(make(t))) for lib in (minigrad, torch)
    )
    assert mine == pytorchs and message.startswith(pytorch_message)


def test_cov_warns_when_degrees_of_freedom_run_out():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        with pytest.warns(UserWarning, match=r"cov\(\): degrees of freedom is <= 0"):
            out = lib.cov(lib.tensor([[1.0, 2.0]]), correction=3)
        assert str(out.item()) == "inf" and out.shape == ()  # one variable: a 0-d result
        with pytest.warns(UserWarning, match="degrees of freedom"):
            lib.cov(lib.tensor([[1.0, 2.0]]), aweights=lib.tensor([1.0, 1.0]), correction=2)


def test_cov_and_corrcoef_of_one_row_are_0d():
    torch = pytest.importorskip("torch")
    rows = [[1.0, 2.0, 4.0, 3.0]]
    for fn in ("cov", "corrcoef"):
        mine = getattr(minigrad, fn)(minigrad.tensor(rows))
        pytorchs = getattr(torch, fn)(torch.tensor(rows))
        assert tuple(mine.shape) == tuple(pytorchs.shape) == ()
        assert mine.item() == pytest.approx(pytorchs.item())


def test_unique_keeps_every_nan_apart(device):
    torch = pytest.importorskip("torch")
    values = [float("nan"), 1.0, float("nan"), 1.0]
    mine = minigrad.unique(
        minigrad.tensor(values, device=device), return_inverse=True, return_counts=True
    )
    pytorchs = torch.unique(torch.tensor(values), return_inverse=True, return_counts=True)
    assert [str(t.tolist()) for t in mine] == [str(t.tolist()) for t in pytorchs]
    rows = [[float("nan"), 1.0], [float("nan"), 1.0]]  # NaN rows stay apart too
    mine = minigrad.unique(minigrad.tensor(rows, device=device), dim=0, return_counts=True)
    assert (
        mine[1].tolist() == torch.unique(torch.tensor(rows), dim=0, return_counts=True)[1].tolist()
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.histc(t.tensor([1.0, 2.0]), bins=0),
        lambda t: t.histogram(t.tensor([1.0, 2.0]), bins=0),  # was an empty result
        lambda t: t.histogram(t.tensor([1.0, 2.0]), 2, range=(2.0, 1.0)),
        lambda t: t.histogram(t.tensor([1.0, float("inf")]), 2),
        lambda t: t.histc(t.tensor([1.0, float("inf")]), 2),
        lambda t: t.histc(t.tensor([1.0, 2.0]), 3, min=2, max=1),
        lambda t: t.histogram(t.tensor([1.0, 2.0]), bins=t.tensor([[1.0, 2.0]])),
        lambda t: t.nanmean(t.tensor([1, 2])),
        lambda t: t.nn.functional.nll_loss(t.tensor([[1.0, 2.0]]), t.tensor([5])),
        lambda t: t.nn.functional.cross_entropy(t.tensor([[1.0, 2.0]]), t.tensor([-3])),
    ],
)
def test_histogram_nanmean_and_target_errors_as_pytorchs(call):
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = _error(minigrad, call), _error(torch, call)
    assert mine == pytorchs or (mine, pytorchs) == ("IndexOutOfRangeError", "IndexError")
    assert message.startswith(pytorch_message.split(" (got")[0])


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_with_nan_in_the_sequence_searches_as_pytorch(right, device):
    torch = pytest.importorskip("torch")
    nan = float("nan")
    values = [-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, nan]
    for seq in ([0.0, 1.0, nan], [nan, 0.0, 1.0], [0.0, nan, 1.0, 2.0, nan], [nan], [0.5, 1.0]):
        mine = minigrad.searchsorted(
            minigrad.tensor(seq, device=device), minigrad.tensor(values, device=device), right=right
        )
        pytorchs = torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right)
        assert mine.tolist() == pytorchs.tolist(), seq
    rows, queries = [[0.0, nan], [1.0, 2.0]], [[0.5, 3.0], [1.5, nan]]
    mine = minigrad.searchsorted(
        minigrad.tensor(rows, device=device), minigrad.tensor(queries, device=device), right=right
    )
    pytorchs = torch.searchsorted(torch.tensor(rows), torch.tensor(queries), right=right)
    assert mine.tolist() == pytorchs.tolist()


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.nn.functional.softmax(t.tensor([[1, 2]]), 0),
        lambda t: t.nn.functional.softmax(t.tensor([[1, 2]]), 1),  # the last dim's kernel
        lambda t: t.nn.functional.log_softmax(t.tensor([[1, 2]]), -1),
        lambda t: t.softmax(t.tensor(1), 0),
        lambda t: t.nn.functional.huber_loss(t.tensor([1.0]), t.tensor([0.0]), delta=0.0),
    ],
)
def test_softmax_kernel_and_huber_errors_as_pytorchs(call):
    torch = pytest.importorskip("torch")
    (mine, message), (pytorchs, pytorch_message) = _error(minigrad, call), _error(torch, call)
    assert mine == pytorchs and message.startswith(pytorch_message)


def test_take_along_dim_wraps_indices_as_pytorch():
    torch = pytest.importorskip("torch")
    values, index = [[1.0, 2.0, 3.0]], [[-1, -1, 4, 0]]
    for lib in (minigrad, torch):
        x = lib.tensor(values, requires_grad=True)
        y = lib.take_along_dim(x, lib.tensor(index), dim=1)
        y.backward(lib.tensor([[1.0, 2.0, 3.0, 4.0]]))
        result = (y.tolist(), x.grad.tolist())
        rows = lib.take_along_dim(lib.arange(6).view(2, 3), lib.tensor([[-1], [5]]), dim=0)
        result += (rows.tolist(),)
        if lib is minigrad:
            mine = result
    assert mine == result
    with pytest.raises(IndexError):  # without a dim, out-of-range indices are refused (PyTorch)
        minigrad.take_along_dim(minigrad.tensor([1, 2, 3]), minigrad.tensor([-1]))


def test_topk_of_an_empty_dim_and_empty_reduction_message():
    torch = pytest.importorskip("torch")
    for shape, dim in (((0, 3), 0), ((2, 0), 1)):
        mine = minigrad.zeros(*shape).topk(0, dim=dim)
        assert tuple(mine.values.shape) == tuple(torch.zeros(*shape).topk(0, dim=dim)[0].shape)
    for call in (lambda t: t.zeros(0, 3).kthvalue(1, dim=0), lambda t: t.zeros(0, 3).median(0)):
        assert _error(minigrad, call) == _error(torch, call)


def test_var_and_std_warn_when_degrees_of_freedom_run_out():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        with pytest.warns(UserWarning, match=r"^var\(\): degrees of freedom is <= 0"):
            assert str(lib.tensor([1.0]).var().item()) == "nan"
        with pytest.warns(UserWarning, match=r"^std\(\): degrees of freedom is <= 0"):
            lib.tensor([[1.0, 2.0]]).std(dim=1, correction=2)
