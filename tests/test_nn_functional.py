"""nn.functional beyond the op table: stability, dtypes, in-place flags, errors, the fused ops'
fast backward against their differentiable one, and lookup of functions defined elsewhere."""

import numpy as np
import pytest
from helpers import to_numpy

import minigrad
import minigrad.nn.functional as F
from minigrad.testing.fake_device import HostTransfers


def test_softmax_and_log_softmax_are_stable():
    x = minigrad.tensor([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]])
    p = F.softmax(x, dim=1)
    assert np.isfinite(p.numpy()).all()
    np.testing.assert_allclose(p.numpy().sum(1), 1.0, rtol=1e-6)
    logp = F.log_softmax(x, dim=1)
    np.testing.assert_allclose(logp.numpy()[0], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(logp.numpy()[1], np.log(1 / 3), rtol=1e-6)


def test_softmax_dtype_and_implicit_dim():
    x = minigrad.randn(2, 3)
    assert F.softmax(x, dim=-1, dtype=minigrad.float64).dtype is minigrad.float64
    assert F.log_softmax(x, 1).dtype is minigrad.float32
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy().sum(1), 1.0, rtol=1e-6)
    with pytest.raises(IndexError, match="out of range"):
        F.softmax(x, dim=2)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.softmax(x, 1),
        lambda x: F.log_softmax(x, 1),
        lambda x: F.layer_norm(x, (4,)),
        lambda x: F.batch_norm(x, None, None, training=True),
        lambda x: F.cross_entropy(x, minigrad.tensor([0, 3, 1])),
        lambda x: F.cross_entropy(x, minigrad.tensor([0, 3, 1]), label_smoothing=0.1),
        lambda x: F.binary_cross_entropy_with_logits(x, x.detach().sigmoid()),
        lambda x: F.linear(x, minigrad.ones(2, 4)),
        lambda x: F.group_norm(x.reshape(3, 4, 1), 2),
    ],
    ids=[
        "softmax",
        "log_softmax",
        "layer_norm",
        "batch_norm",
        "ce",
        "ce_smooth",
        "bce",
        "linear",
        "gn",
    ],
)
def test_float32_stays_float32(fn):
    """No float64 upcasts inside the fused ops: outputs and gradients keep float32."""
    x = minigrad.randn(3, 4, requires_grad=True)
    out = fn(x)
    assert out.dtype is minigrad.float32
    out.sum().backward()
    assert x.grad.dtype is minigrad.float32


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reduction": "sum"},
        {"reduction": "none"},
        {"label_smoothing": 0.2},
        {"ignore_index": 2, "reduction": "none", "label_smoothing": 0.1},
        {"weight": [0.5, 1.0, 2.0, 1.5]},
        {"weight": [0.5, 1.0, 2.0, 1.5], "label_smoothing": 0.3, "ignore_index": 1},
    ],
)
def test_cross_entropy_fast_backward_equals_graph_backward(kwargs, device):
    """The array-level backward (no create_graph) matches the differentiable one."""
    kwargs = dict(kwargs)
    if "weight" in kwargs:
        kwargs["weight"] = minigrad.tensor(kwargs["weight"], dtype=minigrad.float64, device=device)
    x = minigrad.randn(5, 4, dtype=minigrad.float64, device=device, requires_grad=True)
    t = minigrad.tensor([0, 2, 3, 1, 2], device=device)
    loss = F.cross_entropy(x, t, **kwargs)
    v = minigrad.randn(*loss.shape, dtype=minigrad.float64, device=device)
    (fast,) = minigrad.autograd.grad(loss, x, v, retain_graph=True)
    (graph,) = minigrad.autograd.grad(loss, x, v, create_graph=True)
    assert graph.requires_grad and not fast.requires_grad
    np.testing.assert_allclose(to_numpy(fast), to_numpy(graph), rtol=1e-12, atol=1e-14)


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    x = minigrad.randn(4, 3, requires_grad=True)
    t = minigrad.tensor([0, 2, 1, 2])
    F.cross_entropy(x, t).backward()
    expected = (F.softmax(x, 1).detach().numpy() - np.eye(3)[[0, 2, 1, 2]]) / 4
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_cross_entropy_backward_twice_needs_retain_graph():
    x = minigrad.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, minigrad.tensor([0, 1]))
    loss.backward(retain_graph=True)
    loss.backward()
    first = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    assert np.allclose(first, x.grad.numpy())


def test_layer_norm_and_batch_norm_errors():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[2, 3\]"):
        F.layer_norm(minigrad.zeros(2, 3), (4,))
    with pytest.raises(RuntimeError, match="weight of shape"):
        F.layer_norm(minigrad.zeros(2, 4), (4,), weight=minigrad.ones(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(minigrad.zeros(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 2"):
        F.batch_norm(minigrad.zeros(4, 3), minigrad.zeros(2), minigrad.ones(2))
    with pytest.raises(RuntimeError, match="divisible"):
        F.group_norm(minigrad.zeros(2, 5), 2)


def test_batch_norm_updates_running_stats_in_place():
    rm, rv = minigrad.zeros(2), minigrad.ones(2)
    x = minigrad.tensor([[1.0, 2.0], [3.0, 6.0]], requires_grad=True)
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm.numpy(), [1.0, 2.0])  # 0.5·0 + 0.5·mean
    np.testing.assert_allclose(rv.numpy(), [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 8.0])  # unbiased var
    assert not rm.requires_grad and rm.grad_fn is None


@pytest.mark.parametrize("rows", [1, 4, 16, 64, 128])
def test_linear_of_few_rows_by_a_wide_weight_is_the_same_product(rows):
    """F.linear computes x·Wᵀ as (W·xᵀ)ᵀ where OpenBLAS is faster that way (few rows, a wide
    weight): the values, gradients and a contiguous result are those of the direct product."""
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((2, rows, 256))
    wa, ba = rng.standard_normal((1024, 256)), rng.standard_normal(1024)
    for dtype in (np.float32, np.float64):
        x = minigrad.tensor(xa.astype(dtype), requires_grad=True)
        w = minigrad.tensor(wa.astype(dtype), requires_grad=True)
        b = minigrad.tensor(ba.astype(dtype), requires_grad=True)
        y = F.linear(x, w, b)
        assert y.detach().numpy().flags.c_contiguous
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y.detach().numpy(), xa @ wa.T + ba, rtol=tol, atol=tol)
        F.linear(x[0], w, b).backward(minigrad.ones(rows, 1024, dtype=y.dtype))
        gw, gx = np.ones((1024, rows)) @ xa[0], np.ones((rows, 1024)) @ wa
        np.testing.assert_allclose(w.grad.numpy(), gw, rtol=tol, atol=tol * 10)
        np.testing.assert_allclose(x.grad.numpy()[0], gx, rtol=tol, atol=tol * 10)


def test_matmul_by_a_transposed_matrix_takes_the_same_faster_form():
    rng = np.random.default_rng(1)
    xa, wa = rng.standard_normal((16, 256)), rng.standard_normal((1024, 256))
    x = minigrad.tensor(xa, requires_grad=True)
    w = minigrad.tensor(wa, requires_grad=True)
    y = x @ w.T
    np.testing.assert_allclose(y.detach().numpy(), xa @ wa.T, rtol=1e-12, atol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((16, 1024)) @ wa, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), np.ones((1024, 16)) @ xa, rtol=1e-12)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        minigrad.randn(16, 255) @ w.T


def test_linear_errors():
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"
    ):
        F.linear(minigrad.zeros(2, 3), minigrad.zeros(5, 4))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(minigrad.zeros(2, 4), minigrad.zeros(5, 4, dtype=minigrad.float64))
    with pytest.raises(RuntimeError, match="same device"):
        F.linear(minigrad.zeros(2, 4), minigrad.zeros(5, 4, device="fakegpu"))


def test_linear_skips_unneeded_gradients():
    x = minigrad.randn(3, 4)
    w = minigrad.randn(2, 4, requires_grad=True)
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-5)
    assert x.grad is None


def test_inplace_activations():
    x = minigrad.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]
    y = minigrad.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.relu(y, inplace=True)
    h = y * 1.0
    out = F.leaky_relu(h, 0.5, inplace=True)
    assert out is h
    out.sum().backward()
    assert y.grad.tolist() == [0.5, 1.0]


def test_dropout_functional(device):
    x = minigrad.ones(100, 100, device=device)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert not to_numpy(F.dropout(x, 1.0)).any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)
    before = HostTransfers.count
    y = F.dropout(x, 0.5)
    assert HostTransfers.count == before and y.device == x.device
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F.dropout2d(minigrad.ones(2, 3))  # deprecated, as PyTorch: dropped elementwise


def test_embedding_and_one_hot():
    w = minigrad.randn(4, 2)
    out = F.embedding(minigrad.tensor([[3, 0]]), w)
    np.testing.assert_array_equal(out.numpy()[0], w.numpy()[[3, 0]])
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(minigrad.tensor([-1]), w)
    hot = F.one_hot(minigrad.tensor([2, 0]))
    assert hot.dtype is minigrad.int64 and hot.tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(minigrad.tensor([1.0]))
    with pytest.raises(RuntimeError, match="Class values must be smaller"):
        F.one_hot(minigrad.tensor([5]), 3)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_max_norm_and_scale_grad_by_freq_match_torch(device, norm_type, padding_idx):
    torch = pytest.importorskip("torch")
    table = np.random.default_rng(0).standard_normal((6, 3)) * 2
    idx = [[0, 2, 2], [5, 1, 2]]  # row 2 three times: its gradient is divided by 3
    kwargs = dict(padding_idx=padding_idx, max_norm=1.5, norm_type=norm_type)
    ours = minigrad.nn.Embedding(6, 3, scale_grad_by_freq=True, device=device, **kwargs)
    theirs = torch.nn.Embedding(6, 3, scale_grad_by_freq=True, **kwargs)
    with minigrad.no_grad():
        ours.weight.copy_(minigrad.tensor(table, dtype=minigrad.float32, device=device))
    theirs.weight.data.copy_(torch.tensor(table, dtype=torch.float32))
    assert repr(ours) == repr(theirs)
    upstream = np.random.default_rng(1).standard_normal((2, 3, 3)).astype(np.float32)
    y = ours(minigrad.tensor(idx, device=device))
    expected = theirs(torch.tensor(idx))
    (y * minigrad.tensor(upstream, device=device)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(to_numpy(y.detach()), expected.detach().numpy(), rtol=1e-5)
    # the rows looked up were rescaled in the table itself; rows 3 and 4 were not touched
    np.testing.assert_allclose(to_numpy(ours.weight.detach()), theirs.weight.detach().numpy(), 1e-5)
    np.testing.assert_allclose(to_numpy(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-5)
    assert ours.weight._version > 0  # an in-place write, as PyTorch's embedding_renorm_


@pytest.mark.parametrize("mode", ["sum", "max"])
def test_embedding_bag_max_norm_matches_torch(mode):
    torch = pytest.importorskip("torch")
    table = np.random.default_rng(2).standard_normal((10, 4)).astype(np.float32) * 3
    inp, offsets = [1, 0, 4, 4, 3, 2, 0, 1, 9], [0, 2, 2, 5]
    kwargs = dict(max_norm=2.0, norm_type=3.0, mode=mode, padding_idx=0)
    ours = minigrad.nn.EmbeddingBag(10, 4, **kwargs)
    theirs = torch.nn.EmbeddingBag(10, 4, **kwargs)
    with minigrad.no_grad():
        ours.weight.copy_(minigrad.tensor(table))
    theirs.weight.data.copy_(torch.tensor(table))
    assert repr(ours) == repr(theirs)
    y = ours(minigrad.tensor(inp), minigrad.tensor(offsets))
    expected = theirs(torch.tensor(inp), torch.tensor(offsets))
    (y * minigrad.arange(16.0).reshape(4, 4)).sum().backward()
    (expected * torch.arange(16.0).reshape(4, 4)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), 1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        minigrad.nn.EmbeddingBag(10, 4, scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        F.embedding_bag(minigrad.tensor([[1, 2]]), ours.weight, mode="max", sparse=True)


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_is_softmax_of_logits_plus_gumbel_noise(device, hard):
    logits = minigrad.randn(4, 5, device=device, requires_grad=True)
    minigrad.manual_seed(3)
    y = F.gumbel_softmax(logits, tau=0.7, hard=hard, dim=0)
    minigrad.manual_seed(3)  # the same draw: E ~ Exponential(1), g = -log E, as PyTorch
    gumbels = -minigrad.empty(4, 5, device=device).exponential_().log()
    soft = ((logits.detach() + gumbels) / 0.7).softmax(0)
    expected = F.one_hot(soft.argmax(0), 4).T.float() if hard else soft
    np.testing.assert_allclose(to_numpy(y.detach()), to_numpy(expected), rtol=1e-5, atol=1e-7)
    weights = minigrad.randn(4, 5, device=device)
    (y * weights).sum().backward()
    soft_logits = logits.detach().requires_grad_()
    (((soft_logits + gumbels) / 0.7).softmax(0) * weights).sum().backward()
    # straight-through: the hard sample has the soft sample's gradient
    np.testing.assert_allclose(to_numpy(logits.grad), to_numpy(soft_logits.grad), rtol=1e-5)


def test_gumbel_softmax_hard_samples_follow_the_softmax_probabilities():
    torch = pytest.importorskip("torch")
    probs = [0.1, 0.2, 0.7]
    ours = F.gumbel_softmax(minigrad.tensor(probs).log().expand(20000, 3), hard=True)
    theirs = torch.nn.functional.gumbel_softmax(
        torch.tensor(probs).log().expand(20000, 3), hard=True
    )
    assert ours.sum(1).tolist() == [1.0] * 20000
    np.testing.assert_allclose(ours.mean(0).numpy(), probs, atol=0.015)
    np.testing.assert_allclose(ours.mean(0).numpy(), theirs.mean(0).numpy(), atol=0.02)


def test_core_functions_are_reexported():
    assert F.pad(minigrad.zeros(1, 2), (1, 1)).shape == (1, 4)
    assert F.gelu(minigrad.zeros(1)).item() == 0.0
    np.testing.assert_allclose(F.normalize(minigrad.tensor([[3.0, 4.0]])).numpy(), [[0.6, 0.8]])


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_function'"):
        F.not_a_function  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'NotALayer'"):
        minigrad.nn.NotALayer  # noqa: B018


def test_double_backward_through_layer_norm_and_softmax():
    x = minigrad.randn(2, 5, dtype=minigrad.float64, requires_grad=True)
    w = minigrad.randn(5, dtype=minigrad.float64, requires_grad=True)
    y = (F.softmax(F.layer_norm(x, (5,), w), 1) ** 2).sum()
    (gx,) = minigrad.autograd.grad(y, x, create_graph=True)
    (gw,) = minigrad.autograd.grad(gx.sum(), w)
    assert gw.shape == (5,) and np.isfinite(gw.numpy()).all()


def test_cosine_similarity_gradient_at_a_zero_vector_is_finite_as_in_pytorch():
    """A dead embedding (all zeros) must not turn the loss's gradient into NaN: PyTorch's norm
    has gradient 0 at zero, where sqrt of the summed squares would give 0 * inf."""
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (minigrad, torch):
        x = lib.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
        y = lib.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0, 1.0, -1.0]], requires_grad=True)
        out = lib.nn.functional.cosine_similarity(x, y)
        (out * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        loss = lib.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda a, b, lib=lib: 1.0 - lib.nn.functional.cosine_similarity(a, b)
        )
        z = lib.zeros(2, 3, requires_grad=True)
        loss(z, lib.ones(2, 3), -lib.ones(2, 3)).backward()
        grads.append([t.detach().numpy() for t in (out, x.grad, y.grad, z.grad)])
    for ours, theirs in zip(*grads):
        assert np.isfinite(ours).all()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("hardtanh", {}),
        ("hardtanh", {"min_val": 0.0, "max_val": 1.0}),
        ("relu6", {}),
        ("hardsigmoid", {}),
        ("hardswish", {}),
    ],
)
def test_hard_activations_have_pytorch_gradients_at_their_kinks_and_at_nan(name, kwargs):
    """PyTorch gives hardtanh/relu6/hardsigmoid gradient 0 at the bounds (clamp gives 1) and
    hardswish 0 at -3 and 1 at 3; NaN passes through hardtanh and hardswish with gradient 1."""
    torch = pytest.importorskip("torch")
    values = [-4.0, -3.0, -1.0, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0, float("nan")]
    results = []
    for lib in (minigrad, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, **kwargs)
        y.sum().backward()
        z = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        getattr(lib.nn.functional, name)(z * 1.0, **kwargs, inplace=True).sum().backward()
        results.append([y.detach().numpy(), x.grad.numpy(), z.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=0)  # (PyTorch: 1/6 in float32)
