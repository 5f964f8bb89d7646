"""The losses of branch losses2 against PyTorch: CTC (many shapes, lengths and edge cases),
the margin and hinge losses as modules, NLLLoss2d, and AdaptiveLogSoftmaxWithLoss with copied
weights."""

import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _pair(a, requires_grad=True):
    return (
        minigrad.tensor(a, requires_grad=requires_grad),
        torch.tensor(a, requires_grad=requires_grad),
    )


def _close(a, b, **kw):
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-7, atol=1e-9, equal_nan=True, **kw)


# -- CTC -----------------------------------------------------------------------------------------
CTC_CASES = {
    "repeats": ((6, 2, 5), [[1, 2, 2], [3, 1, 0]], (6, 5), (3, 2), {}),
    "shorter_inputs": (
        (8, 3, 4),
        [[1, 1, 2, 3], [2, 0, 0, 0], [3, 3, 3, 0]],
        (8, 4, 7),
        (4, 1, 3),
        {},
    ),
    "empty_targets": ((5, 3, 4), [[1, 2], [0, 0], [0, 0]], (5, 5, 2), (2, 0, 0), {}),
    "blank_last": ((7, 2, 5), [[0, 1, 1], [3, 2, 0]], (7, 6), (3, 2), {"blank": 4}),
    "infeasible": ((3, 2, 4), [[1, 1, 1], [2, 3, 1]], (3, 3), (3, 1), {}),
    "zero_infinity": ((3, 2, 4), [[1, 1, 1], [2, 3, 1]], (3, 3), (3, 1), {"zero_infinity": True}),
    "empty_input": ((4, 2, 3), [[1, 2], [0, 0]], (4, 0), (2, 0), {}),
}


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", sorted(CTC_CASES))
def test_ctc_loss_matches_torch(case, reduction):
    """Loss and gradient (through log_softmax) as PyTorch's, for padded targets."""
    shape, targets, il, tl, kw = CTC_CASES[case]
    x = np.random.default_rng(0).normal(size=shape)
    xm, xt = _pair(x)
    lm = F.ctc_loss(xm.log_softmax(2), minigrad.tensor(targets), il, tl, reduction=reduction, **kw)
    lt = TF.ctc_loss(xt.log_softmax(2), torch.tensor(targets), il, tl, reduction=reduction, **kw)
    _close(lm, lt)
    g = np.random.default_rng(1).uniform(0.5, 1.5, tuple(lt.shape))
    lm.backward(minigrad.tensor(g))
    lt.backward(torch.tensor(g))
    _close(xm.grad, xt.grad)


def test_ctc_loss_random_batches_concatenated_targets_and_tensor_lengths():
    rng = np.random.default_rng(3)
    t, n, c = 30, 5, 8
    il = rng.integers(15, t + 1, n)
    tl = rng.integers(0, 8, n)
    flat = rng.integers(1, c, int(tl.sum()))
    x = rng.normal(size=(t, n, c))
    for lengths in (lambda a: tuple(int(v) for v in a), None):
        xm, xt = _pair(x)
        il_m, tl_m = (minigrad.tensor(il), minigrad.tensor(tl)) if lengths is None else (
            lengths(il), lengths(tl))  # fmt: skip
        il_t, tl_t = (torch.tensor(il), torch.tensor(tl)) if lengths is None else (il_m, tl_m)
        lm = F.ctc_loss(xm.log_softmax(2), minigrad.tensor(flat), il_m, tl_m)
        lt = TF.ctc_loss(xt.log_softmax(2), torch.tensor(flat), il_t, tl_t)
        _close(lm, lt)
        lm.backward()
        lt.backward()
        _close(xm.grad, xt.grad)


def test_ctc_loss_unbatched_and_float32():
    x = np.random.default_rng(4).normal(size=(6, 5)).astype(np.float32)
    for reduction in ("none", "mean", "sum"):
        xm, xt = _pair(x)
        lm = F.ctc_loss(xm.log_softmax(1), minigrad.tensor([2, 2, 4]), (6,), (3,), 0, reduction)
        lt = TF.ctc_loss(xt.log_softmax(1), torch.tensor([2, 2, 4]), (6,), (3,), 0, reduction)
        assert lm.shape == tuple(lt.shape) and lm.dtype is minigrad.float32
        np.testing.assert_allclose(lm.detach().numpy(), lt.detach().numpy(), rtol=1e-5)
        lm.backward()
        lt.backward()
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_ctc_gradient_is_the_derivative_pytorch_adds_exp_log_probs():
    """On raw log-probabilities PyTorch's gradient is exp(lp) - gamma on the frames inside each
    input; ours is the loss's derivative -gamma, which gradcheck confirms (the op table's
    ctc_loss_raw row checks its second order)."""
    shape, targets, il, tl, _ = CTC_CASES["shorter_inputs"]
    x = np.random.default_rng(5).uniform(-3, 0, shape)
    xm, xt = _pair(x)
    F.ctc_loss(xm, minigrad.tensor(targets), il, tl, reduction="sum").backward()
    TF.ctc_loss(xt, torch.tensor(targets), il, tl, reduction="sum").backward()
    inside = np.arange(shape[0])[:, None, None] < np.array(il)[None, :, None]
    np.testing.assert_allclose(xm.grad.numpy() + np.exp(x) * inside, xt.grad.numpy(), atol=1e-9)
    f = lambda a: F.ctc_loss(a, minigrad.tensor(targets), il, tl, reduction="none")  # noqa: E731
    x64 = minigrad.tensor(x, requires_grad=True)
    assert gradcheck(f, (x64,))


def test_ctc_create_graph_backward_agrees_with_plain():
    shape, targets, il, tl, _ = CTC_CASES["repeats"]
    x = minigrad.tensor(np.random.default_rng(6).normal(size=shape), requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), minigrad.tensor(targets), il, tl)
    (plain,) = minigrad.autograd.grad(loss, x, retain_graph=True)
    (graph,) = minigrad.autograd.grad(loss, x, create_graph=True)
    assert graph.requires_grad
    np.testing.assert_allclose(plain.numpy(), graph.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_ctc_infeasible_gradient_is_nan_as_pytorch_and_zero_with_zero_infinity():
    shape, targets, il, tl, _ = CTC_CASES["infeasible"]
    x = minigrad.tensor(np.random.default_rng(7).normal(size=shape), requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), minigrad.tensor(targets), il, tl, reduction="none")
    assert np.isinf(loss.detach().numpy()[0]) and np.isfinite(loss.detach().numpy()[1])
    loss.sum().backward()
    assert np.isnan(x.grad.numpy()[:, 0]).all()
    x.grad = None
    F.ctc_loss(x, minigrad.tensor(targets), il, tl, zero_infinity=True).backward()
    assert (x.grad.numpy()[:, 0] == 0).all() and x.grad.numpy()[:, 1].any()


def _ctc_error(lib, args, kw):
    shape = (5, 2, 4)
    lp = lib.zeros(shape).log_softmax(2)
    with pytest.raises((RuntimeError, TypeError)) as info:
        (F if lib is minigrad else TF).ctc_loss(lp, *args, **kw)
    return info.type


@pytest.mark.parametrize(
    "args,kw",
    [
        (([[1, 2], [1, 1]], (6, 5), (2, 2)), {}),  # input length > T
        (([[1, 2], [1, 1]], (5,), (2, 2)), {}),  # one length for two sequences
        (([[1, 2], [1, 1]], (5, 5), (3, 2)), {}),  # target length > padded width
        (([[1, 2], [1, 1]], (5, -1), (2, 2)), {}),  # negative length
        (([1, 2, 1], (5, 5), (2, 2)), {}),  # concatenated targets too short
        (([[1, 2], [1, 1]], (5, 5), (2, 2)), {"blank": 4}),  # blank out of range
        (([[1, 2], [1, 1]], 5, (2, 2)), {}),  # a plain int as lengths
    ],
)
def test_ctc_errors_as_pytorch(args, kw):
    targets, il, tl = args
    got = _ctc_error(minigrad, (minigrad.tensor(targets), il, tl), kw)
    want = _ctc_error(torch, (torch.tensor(targets), il, tl), kw)
    assert got is want


def test_ctc_refuses_target_classes_out_of_range_and_bad_reduction():
    lp = minigrad.zeros(5, 2, 4).log_softmax(2)
    with pytest.raises(RuntimeError, match=r"target classes must be in \[0, 4\)"):
        F.ctc_loss(lp, minigrad.tensor([[1, 7], [1, 1]]), (5, 5), (2, 2))
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, minigrad.tensor([[1, 2], [1, 1]]), (5, 5), (2, 2), reduction="avg")


def test_ctc_module():
    x = np.random.default_rng(8).normal(size=(6, 2, 5))
    xm, xt = _pair(x)
    args = ((6, 4), (3, 2))
    lm = nn.CTCLoss(blank=1, zero_infinity=True)(
        xm.log_softmax(2), minigrad.tensor([[2, 3, 3], [4, 2, 0]]), *args
    )
    lt = torch.nn.CTCLoss(blank=1, zero_infinity=True)(
        xt.log_softmax(2), torch.tensor([[2, 3, 3], [4, 2, 0]]), *args
    )
    _close(lm, lt)
    assert nn.modules.loss.CTCLoss is nn.CTCLoss


# -- margin and hinge modules --------------------------------------------------------------------
def _module_cases():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, 5))
    signs = np.sign(rng.normal(size=(4, 5)))
    labels = np.array([0, 3, 4, 1])
    lists = np.array([[0, 3, -1, 1, 2], [4, -1, 0, 0, 0], [1, 2, 3, 4, 0], [-1, 1, 2, 3, 4]])
    w = rng.uniform(0.5, 2, 5)
    return [
        ("HingeEmbeddingLoss", {"margin": 0.5}, [x, signs]),
        ("SoftMarginLoss", {}, [x, signs]),
        ("MultiMarginLoss", {}, [x, labels]),
        ("MultiMarginLoss", {"p": 2, "margin": 0.3}, [x, labels]),
        ("MultiMarginLoss", {"weight": w}, [x, labels]),
        ("MultiLabelMarginLoss", {}, [x, lists]),
        ("TripletMarginWithDistanceLoss", {"swap": True, "margin": 2.0}, [x, x[::-1] * 0.5, x**2]),
    ]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name,kw,args", _module_cases(), ids=lambda v: str(v)[:30])
def test_margin_modules_match_torch(name, kw, args, reduction):
    kw_m = {k: minigrad.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    first_m, first_t = _pair(args[0])
    rest_m = [minigrad.tensor(a) for a in args[1:]]
    rest_t = [torch.tensor(a) for a in args[1:]]
    lm = getattr(nn, name)(reduction=reduction, **kw_m)(first_m, *rest_m)
    lt = getattr(torch.nn, name)(reduction=reduction, **kw_t)(first_t, *rest_t)
    _close(lm, lt)
    lm.sum().backward()
    lt.sum().backward()
    _close(first_m.grad, first_t.grad)
    assert getattr(nn.modules.loss, name) is getattr(nn, name)


@pytest.mark.parametrize("name", ["HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelMarginLoss"])
def test_legacy_size_average_and_reduce(name):
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert getattr(nn, name)(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert getattr(nn, name)(reduce=False).reduction == "none"
    with pytest.warns(UserWarning):
        assert getattr(torch.nn, name)(size_average=False).reduction == "sum"


def test_margin_errors_as_pytorch():
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected weight to be None or 1D"):
        nn.MultiMarginLoss(weight=minigrad.ones(2, 2))
    with pytest.raises(ValueError, match="greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
    x = minigrad.randn(3, 4)
    for lib, mod, xx in ((minigrad, F, x), (torch, TF, torch.tensor(x.numpy()))):
        with pytest.raises(RuntimeError):
            mod.multi_margin_loss(xx, lib.tensor([0, 1, 5]))
        with pytest.raises(RuntimeError):
            mod.multi_margin_loss(xx, lib.tensor([0, 1]))
        with pytest.raises(RuntimeError):
            mod.multi_margin_loss(xx, lib.tensor([0, 1, 2]), weight=lib.ones(3))
        with pytest.raises(RuntimeError):
            mod.multilabel_margin_loss(xx, lib.tensor([[0, 1, 5, -1]] * 3))
        with pytest.raises(RuntimeError):
            mod.multilabel_margin_loss(xx, lib.tensor([[0, 1]] * 3))
        with pytest.raises(RuntimeError, match="same number of dimensions"):
            mod.triplet_margin_with_distance_loss(xx, xx, xx[0])


def test_triplet_with_distance_default_is_pairwise_distance_module():
    loss = nn.TripletMarginWithDistanceLoss()
    assert isinstance(loss.distance_function, nn.PairwiseDistance)
    a, p, n = (minigrad.randn(3, 4) for _ in range(3))
    expected = nn.TripletMarginLoss(margin=1.0, eps=1e-6)(a, p, n)
    np.testing.assert_allclose(loss(a, p, n).item(), expected.item(), rtol=1e-6)


def test_nll_loss_2d_is_deprecated_nll_loss():
    x = np.random.default_rng(10).normal(size=(2, 3, 4, 5))
    t = np.random.default_rng(11).integers(0, 3, (2, 4, 5))
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        m = nn.NLLLoss2d(ignore_index=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.nn.NLLLoss2d(ignore_index=1)(torch.tensor(x), torch.tensor(t))
    assert isinstance(m, nn.NLLLoss)
    _close(m(minigrad.tensor(x), minigrad.tensor(t)), want)


# -- AdaptiveLogSoftmaxWithLoss ------------------------------------------------------------------
def _asm_pair(head_bias=False, cutoffs=(5, 12, 20)):
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 30, list(cutoffs), 2.0, head_bias).double()
    mm = nn.AdaptiveLogSoftmaxWithLoss(16, 30, list(cutoffs), 2.0, head_bias).double()
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    assert sorted(state) == sorted(mm.state_dict())
    mm.load_state_dict(state)
    return mm, tm


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(head_bias):
    mm, tm = _asm_pair(head_bias)
    rng = np.random.default_rng(12)
    x, t = rng.normal(size=(9, 16)), np.array([0, 3, 6, 11, 13, 29, 21, 4, 7])
    xm, xt = _pair(x)
    result = mm(xm, minigrad.tensor(t))
    assert result._fields == ("output", "loss") and result.output is result[0]
    out_m, loss_m = result
    out_t, loss_t = tm(xt, torch.tensor(t))
    _close(out_m, out_t)
    _close(loss_m, loss_t)
    (loss_m * 2 + out_m.sum()).backward()
    (loss_t * 2 + out_t.sum()).backward()
    _close(xm.grad, xt.grad)
    for (name, p), (_, q) in zip(mm.named_parameters(), tm.named_parameters()):
        _close(p.grad, q.grad, err_msg=name)
    _close(mm.log_prob(xm), tm.log_prob(xt))
    one_m, one_t = mm(xm[2], minigrad.tensor(t[2])), tm(xt[2], torch.tensor(t[2]))
    assert one_m.output.shape == () and one_m.loss.shape == ()
    _close(one_m.output, one_t.output)


def test_adaptive_log_softmax_predict_every_path():
    mm, tm = _asm_pair(head_bias=True)
    x = np.random.default_rng(13).normal(size=(40, 16)) * 3
    for bias in (None, "tail", "shortlist"):
        if bias is not None:  # push the head's argmax into the tail tokens or the shortlist
            b = np.zeros(mm.head_size)
            cut = mm.shortlist_size
            b[slice(None, cut) if bias == "tail" else slice(cut, None)] = -100
            mm.head.bias.data.copy_(minigrad.tensor(b))
            tm.head.bias.data.copy_(torch.tensor(b))
        xm, xt = minigrad.tensor(x), torch.tensor(x)
        got = mm.predict(xm).numpy()
        np.testing.assert_array_equal(got, tm.predict(xt).numpy())
        np.testing.assert_array_equal(got, mm.log_prob(xm).argmax(1).numpy())


def test_adaptive_log_softmax_errors_as_pytorch():
    for cutoffs in ([], [5, 3], [0, 5], [5, 30], [5, 5]):
        for lib in (nn, torch.nn):
            with pytest.raises(ValueError, match="cutoffs should be"):
                lib.AdaptiveLogSoftmaxWithLoss(8, 30, cutoffs)
    mm, tm = _asm_pair()
    x = np.zeros((3, 16))
    for lib, model in ((minigrad, mm), (torch, tm)):
        xx = lib.tensor(x)
        with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 29\]"):
            model(xx, lib.tensor([0, 30, 2]))
        with pytest.raises(RuntimeError, match="same size in the batch dimension"):
            model(xx, lib.tensor([0, 1]))
        with pytest.raises(RuntimeError, match="0D target tensor expects 1D input"):
            model(xx, lib.tensor(1))
        with pytest.raises(RuntimeError, match="multi-target not supported"):
            model(xx, lib.tensor([[1]]))
    assert nn.modules.adaptive.AdaptiveLogSoftmaxWithLoss is nn.AdaptiveLogSoftmaxWithLoss


def test_adaptive_log_softmax_gradcheck():
    mm, _ = _asm_pair(cutoffs=(5, 12))
    x = minigrad.tensor(np.random.default_rng(14).normal(size=(6, 16)), requires_grad=True)
    t = minigrad.tensor([0, 6, 13, 29, 2, 11])
    assert gradcheck(lambda a: mm(a, t).loss, (x,))
    assert gradgradcheck(lambda a: mm(a, t).output, (x,))


def test_margin_losses_and_lp_pool_take_pytorch_gradients_at_their_kinks():
    """multi_margin and multilabel_margin give no gradient where a margin is met exactly, and
    lp_pool none for an all-zero window (it was NaN), as in PyTorch."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        F = lib.nn.functional
        grads = []
        for p in (1, 2):
            x = lib.tensor([[0.0, -1.0, 0.5, 0.2]], dtype=lib.float64, requires_grad=True)
            F.multi_margin_loss(x, lib.tensor([0]), p=p).backward()
            grads.append(x.grad.numpy())
        x = lib.tensor([[0.0, -1.0, 0.5, 0.2]], dtype=lib.float64, requires_grad=True)
        F.multilabel_margin_loss(x, lib.tensor([[0, -1, 0, 0]])).backward()
        grads.append(x.grad.numpy())
        for pool, shape in ((F.lp_pool1d, (1, 1, 4)), (F.lp_pool2d, (1, 1, 4, 4))):
            x = lib.zeros(*shape, dtype=lib.float64, requires_grad=True)
            pool(x, 3, 2).sum().backward()
            grads.append(x.grad.numpy())
        results.append(grads)
    for ours, theirs in zip(*results):
        assert np.isfinite(ours).all()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
