"""Fixes found by the twenty-first round's scientific programs (tests/test_programs21d.py),
each checked against PyTorch: the gradient of a reduction to one value (``max()``, ``min()``,
``median()``, ``nanmedian()`` without ``dim``) is shared evenly by every entry equal to the
result, and by the NaN entries when the result is NaN (PyTorch's evenly_distribute_backward);
minigrad gave it all to one entry (median) or NaN everywhere (max/min of NaNs); and the
gradient of ``cdist(p=inf)`` and ``F.pdist(p=inf)`` goes in full to every feature that reaches the distance (ties are
not shared out), as PyTorch's cdist backward (grid data, kernel programs); ``clamp`` with tensor
bounds routes its gradient as PyTorch's clamp (the input keeps it on a tie with a bound; minigrad
split it as ``maximum`` does), and ``maximum``/``minimum`` give a NaN result's gradient to both
inputs."""

import math

import pytest

import minigrad

torch = pytest.importorskip("torch")

NAN, INF = math.nan, math.inf
CASES = [
    [1.0, 1.0, 0.0, 2.0],  # the lower median ties with another entry
    [[2.0, 2.0], [2.0, 5.0]],
    [0.1, 0.1, 0.1, 0.3],  # the value stays exact (no sum of three 0.1s)
    [NAN, 1.0, NAN, 2.0],
    [3.0, NAN, 3.0, 1.0],
    [NAN, NAN],
    [INF, INF, 1.0, 0.0, INF],
    [-INF, -INF, 3.0],
    [INF, -INF, 2.0, 2.0],
    [5.0],
]


def _value_and_grad(lib, name, values):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    y = getattr(x, name)()
    y.backward(lib.tensor(6.0, dtype=lib.float64))
    return y.item(), x.grad.flatten().tolist(), y.grad_fn.name()


@pytest.mark.parametrize("name", ["max", "min", "median", "nanmedian"])
@pytest.mark.parametrize("values", CASES, ids=str)
def test_full_reductions_share_the_gradient_among_ties_as_pytorch(name, values):
    ours, theirs = _value_and_grad(minigrad, name, values), _value_and_grad(torch, name, values)
    assert str(ours[:2]) == str(theirs[:2])  # str: NaN equals NaN, -0.0 differs from 0.0
    assert ours[2] == theirs[2]  # MaxBackward1, MedianBackward0, ...


def test_full_reductions_without_grad_and_of_integers_are_unchanged():
    x = minigrad.tensor([3, 1, 3, 2])
    assert [x.max().item(), x.min().item(), x.median().item()] == [3, 1, 2]
    assert x.max().dtype == minigrad.int64 and x.median().dtype == minigrad.int64
    with minigrad.no_grad():
        y = minigrad.tensor([0.1, 0.1, 0.3], dtype=minigrad.float64, requires_grad=True).median()
    assert y.item() == 0.1 and y.grad_fn is None


def test_the_shared_gradient_is_differentiable_and_forward_mode_sees_it():
    x = minigrad.tensor([1.0, 2.0, 2.0, 0.5], dtype=minigrad.float64, requires_grad=True)
    (g,) = minigrad.autograd.grad(x.pow(3).max(), x, create_graph=True)
    (gg,) = minigrad.autograd.grad(g.sum(), x)
    tx = torch.tensor([1.0, 2.0, 2.0, 0.5], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(tx.pow(3).max(), tx, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), tx)
    assert g.tolist() == tg.tolist() and gg.tolist() == tgg.tolist()
    primal = minigrad.tensor([1.0, 3.0, 3.0], dtype=minigrad.float64)
    tangent = minigrad.tensor([1.0, 2.0, 4.0], dtype=minigrad.float64)
    _, jvp = minigrad.func.jvp(lambda t: t.median(), (primal,), (tangent,))
    tp = torch.tensor([1.0, 3.0, 3.0], dtype=torch.float64)
    _, tjvp = torch.func.jvp(
        lambda t: t.median(), (tp,), (torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64),)
    )
    assert jvp.item() == pytest.approx(tjvp.item(), rel=1e-12)


@pytest.mark.parametrize(
    "a, b",
    [
        ([[0.0, 1.0], [0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]),
        ([[2.0, 0.0]], [[0.0, 2.0]]),  # two features tie
        ([[1.0, -3.0], [0.5, 0.5]], [[0.0, 0.0]]),  # no tie
    ],
)
def test_cdist_inf_gives_every_tied_feature_the_full_gradient_as_pytorch(a, b):
    def run(lib):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(b, dtype=lib.float64, requires_grad=True)
        d = lib.cdist(x, y, p=math.inf)
        d.backward(lib.arange(1.0, d.numel() + 1, dtype=lib.float64).reshape(d.shape))
        return d.tolist(), x.grad.tolist(), y.grad.tolist(), d.grad_fn.name()

    assert run(minigrad) == run(torch)  # (-0.0 == 0.0: PyTorch's zeros may be unsigned)


def test_cdist_inf_keeps_its_value_exact_and_without_grad_no_graph():
    x = minigrad.tensor([[0.1, 0.3], [1e300, -2.0]], dtype=minigrad.float64)
    y = minigrad.tensor([[0.4, 0.0]], dtype=minigrad.float64)
    plain = minigrad.cdist(x, y, p=math.inf)
    tracked = minigrad.cdist(x.requires_grad_(), y, p=math.inf)
    assert (
        plain.tolist()
        == tracked.tolist()
        == torch.cdist(
            torch.tensor(x.tolist(), dtype=torch.float64),
            torch.tensor(y.tolist(), dtype=torch.float64),
            p=math.inf,
        ).tolist()
    )
    assert plain.grad_fn is None and tracked.grad_fn.name() == "CdistBackward0"


def test_pdist_inf_gives_every_tied_feature_the_full_gradient_as_pytorch():
    def run(lib):
        x = lib.tensor([[0.0, 1.0], [1.0, 2.0], [3.0, 3.0]], dtype=lib.float64, requires_grad=True)
        d = lib.nn.functional.pdist(x, p=math.inf)
        d.backward(lib.arange(1.0, 4.0, dtype=lib.float64))
        return d.tolist(), x.grad.tolist(), d.grad_fn.name()

    assert run(minigrad) == run(torch)


NAN_PAIRS = ([1.0, 2.0, NAN, 1.0, INF], [1.0, 0.0, 1.0, NAN, INF])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_give_a_nan_results_gradient_to_both_inputs_as_pytorch(name):
    def run(lib):
        a, b = (lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in NAN_PAIRS)
        y = getattr(lib, name)(a, b)
        y.backward(lib.arange(1.0, 6.0, dtype=lib.float64))
        return str([y.tolist(), a.grad.tolist(), b.grad.tolist()])

    assert run(minigrad) == run(torch)


@pytest.mark.parametrize("bounds", [(1, 0), (0, 1), (1, 1)], ids=["min", "max", "both"])
def test_clamp_with_tensor_bounds_routes_the_gradient_as_pytorch(bounds):
    values = [1.0, 2.0, 0.5, NAN, INF, -INF, 0.0, 3.0]  # ties with the bounds, min > max, NaN
    low = [1.0, 0.0, 1.0, 0.0, 1.0, -INF, NAN, 3.0]
    high = [1.0, 2.0, 0.0, 1.0, INF, 0.0, 1.0, 2.0]

    def run(lib):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        lo, hi = (
            lib.tensor(v, dtype=lib.float64, requires_grad=True) if use else None
            for v, use in zip((low, high), bounds)
        )
        y = lib.clamp(x, min=lo, max=hi)
        y.backward(lib.arange(1.0, 9.0, dtype=lib.float64))
        grads = [None if t is None else t.grad.tolist() for t in (x, lo, hi)]
        return str([y.tolist(), grads, y.grad_fn.name()])

    assert run(minigrad) == run(torch)


def test_clamp_with_tensor_bounds_broadcasts_promotes_and_differentiates_twice():
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [0.0, 3.0]], requires_grad=True)
        b = lib.tensor([1.0, 2.5], dtype=lib.float64, requires_grad=True)
        y = x.clamp(min=b)
        (gx,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (ggx,) = lib.autograd.grad(gx.sum(), x)
        return str([y.dtype, y.tolist(), gx.tolist(), ggx.tolist()]).replace("minigrad", "torch")

    assert run(minigrad) == run(torch)
