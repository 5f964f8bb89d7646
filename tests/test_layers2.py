"""The layers of branch layers2 against ``torch.nn`` with copied weights: the new activations
(CELU … Softmax2d), alpha dropout, instance/RMS/local response norm and CrossMapLRN2d; train
and eval behaviour, reprs, state-dict keys, the random layers' laws, and errors as PyTorch's."""

import math
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

# (class name, constructor args, kwargs, input shape)
LAYERS = [
    ("CELU", (), dict(alpha=1.7), (3, 4)),
    ("SELU", (), {}, (3, 4)),
    ("Hardshrink", (0.3,), {}, (3, 4)),
    ("Softshrink", (), dict(lambd=1.0), (3, 4)),
    ("Hardsigmoid", (), {}, (3, 4)),
    ("Hardswish", (), {}, (3, 4)),
    ("Tanhshrink", (), {}, (3, 4)),
    ("Threshold", (0.1, 20.0), {}, (3, 4)),
    ("PReLU", (), {}, (2, 3, 4)),
    ("PReLU", (3,), dict(init=0.1), (2, 3, 4)),
    ("RReLU", (0.1, 0.4), {}, (3, 4)),
    ("Softmax2d", (), {}, (2, 3, 4, 2)),
    ("Softmax2d", (), {}, (3, 4, 2)),
    ("AlphaDropout", (0.2,), {}, (3, 4)),
    ("FeatureAlphaDropout", (), {}, (2, 3, 4)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), dict(affine=True), (3, 5)),
    ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True), (2, 3, 4, 3)),
    ("InstanceNorm3d", (2,), dict(track_running_stats=True, momentum=None), (2, 2, 3, 2, 2)),
    ("InstanceNorm2d", (3,), dict(affine=True, bias=False, eps=1e-3), (2, 3, 2, 3)),
    ("RMSNorm", (4,), {}, (2, 3, 4)),
    ("RMSNorm", ((3, 4),), dict(eps=1e-3), (2, 3, 4)),
    ("RMSNorm", ([4],), dict(elementwise_affine=False), (3, 4)),
    ("LocalResponseNorm", (3,), dict(alpha=0.5, k=2.0), (2, 5, 3, 2)),
    ("LocalResponseNorm", (2,), {}, (2, 4, 3)),
]  # fmt: skip
IDS = [f"{name}-{i}" for i, (name, *_rest) in enumerate(LAYERS)]
RANDOM_IN_TRAINING = {"RReLU", "AlphaDropout", "FeatureAlphaDropout"}


def _pair(name, args, kwargs):
    """(ours, theirs) in float64 with PyTorch's (randomized) parameters and buffers copied."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(0.5, 1.5)
    ours = getattr(nn, name)(*args, **kwargs).double()  # before loading: no float32 rounding
    assert repr(ours) == repr(theirs)
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    return ours, theirs


def _forward_backward(ours, theirs, shape, device, rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal(shape)
    x_m = minigrad.tensor(a, requires_grad=True, device=device)
    x_t = torch.tensor(a, requires_grad=True)
    out_m, out_t = ours(x_m), theirs(x_t)
    np.testing.assert_allclose(out_m.detach().cpu().numpy(), out_t.detach().numpy(), atol=1e-12)
    weights = rng.standard_normal(tuple(out_t.shape))
    (out_m * minigrad.tensor(weights, device=device)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    for a, b in zip([x_m, *ours.parameters()], [x_t, *theirs.parameters()]):
        np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), atol=1e-10)
    for (key, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(a.cpu().numpy(), b.numpy(), atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=IDS)
def test_layer_matches_torch_in_train_then_eval(name, args, kwargs, shape, device):
    ours, theirs = _pair(name, args, kwargs)
    ours = ours.to(device)
    rng = np.random.default_rng(0)
    if name not in RANDOM_IN_TRAINING:
        _forward_backward(ours, theirs, shape, device, rng)  # training mode (running stats)
    ours.eval(), theirs.eval()
    _forward_backward(ours, theirs, shape, device, rng)


def test_cross_map_lrn2d_values_match_torch_and_gradient_is_exact():
    torch = pytest.importorskip("torch")
    for size, channels in ((3, 6), (4, 7), (5, 2), (1, 3)):
        ours, theirs = (
            nn.CrossMapLRN2d(size, 0.3, 0.6, 2.0),
            torch.nn.CrossMapLRN2d(size, 0.3, 0.6, 2.0),
        )
        assert repr(ours) == repr(theirs)
        a = np.random.default_rng(size).standard_normal((2, channels, 3, 2))
        out_m = ours(minigrad.tensor(a)).numpy()
        np.testing.assert_allclose(out_m, theirs(torch.tensor(a)).numpy(), atol=1e-12)
    x = minigrad.randn(1, 5, 2, 2, dtype=minigrad.float64, requires_grad=True)
    assert minigrad.autograd.gradcheck(nn.CrossMapLRN2d(3, 0.5), (x,))
    with pytest.raises(ValueError, match="Expected input to be 4D"):
        nn.CrossMapLRN2d(3)(minigrad.randn(2, 3, 4))


def test_rrelu_training_draws_slopes_in_bounds_and_backpropagates_them():
    minigrad.manual_seed(0)
    x = minigrad.randn(2000, dtype=minigrad.float64, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    xs, ys, g = x.detach().numpy(), y.detach().numpy(), x.grad.numpy()
    neg = xs < 0
    np.testing.assert_array_equal(ys[~neg], xs[~neg])
    slopes = ys[neg] / xs[neg]
    assert slopes.min() >= 0.1 and slopes.max() < 0.3 and slopes.std() > 0.04
    np.testing.assert_allclose(g[neg], slopes)
    np.testing.assert_array_equal(g[~neg], 1.0)
    minigrad.manual_seed(0)  # the same seed draws the same input and the same slopes
    again = F.rrelu(minigrad.randn(2000, dtype=minigrad.float64), 0.1, 0.3, training=True)
    np.testing.assert_array_equal(again.numpy(), ys)
    layer = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_allclose(layer(x).detach().numpy(), np.where(neg, 0.2 * xs, xs))


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_selu_statistics_and_backpropagates_its_scale(p):
    minigrad.manual_seed(1)
    x = minigrad.randn(200_000, dtype=minigrad.float64, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    alpha = 1.7580993408473766
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    y.sum().backward()
    ys, xs, grad = y.detach().numpy(), x.detach().numpy(), x.grad.numpy()
    dropped = grad == 0.0
    np.testing.assert_allclose(grad[~dropped], a)
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(ys[dropped], -alpha * a * (1 - p))
    np.testing.assert_allclose(ys[~dropped], a * xs[~dropped] + alpha * a * p)
    assert abs(ys.mean()) < 0.01 and abs(ys.std() - 1.0) < 0.01
    assert F.alpha_dropout(x, p, training=False) is x
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, training=True).detach().numpy(), 0.0)


def test_feature_alpha_dropout_drops_whole_channels():
    minigrad.manual_seed(2)
    x = minigrad.randn(8, 16, 5, 3)
    y = nn.FeatureAlphaDropout(0.5)(x).numpy()
    per_channel = y.reshape(8, 16, -1)
    dropped = np.all(np.isclose(per_channel, per_channel[..., :1]), axis=-1)
    assert 0.2 < dropped.mean() < 0.8
    alpha, p = 1.7580993408473766, 0.5
    dropped_value = -alpha * (1 - p) / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    np.testing.assert_allclose(per_channel[dropped], dropped_value)


def test_inplace_forms_write_into_their_input():
    torch = pytest.importorskip("torch")
    calls = [
        ("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.5)),
        ("selu_", ()), ("celu_", (2.0,)), ("threshold_", (0.1, -3.0)), ("rrelu_", (0.1, 0.3)),
    ]  # fmt: skip
    a = np.random.default_rng(3).standard_normal((3, 4))
    for name, args in calls:
        x, xt = minigrad.tensor(a), torch.tensor(a)
        assert getattr(F, name)(x, *args) is x
        getattr(torch.nn.functional, name)(xt, *args)
        np.testing.assert_allclose(x.numpy(), xt.numpy(), atol=1e-12, err_msg=name)
    for layer in (
        nn.CELU(inplace=True),
        nn.SELU(True),
        nn.Hardswish(True),
        nn.Threshold(0, 1, True),
    ):
        x = minigrad.tensor(a)
        assert layer(x) is x


def test_instance_norm_unbatched_input_and_mismatched_features_warn_as_torch():
    norm = nn.InstanceNorm1d(4)
    x = minigrad.randn(3, 5)
    with pytest.warns(UserWarning, match="does not match num_features"):
        y = norm(x)
    assert y.shape == (3, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm1d(3)(x)


def _raises_like_torch(make, exc, match):
    """``make(m)`` raises ``exc`` for minigrad (message matching) and for PyTorch."""
    torch = pytest.importorskip("torch")
    with pytest.raises(exc, match=match):
        make(minigrad)
    with pytest.raises(exc):
        make(torch)


ERRORS = [
    (lambda m: m.nn.functional.celu(m.ones(2), 0.0), RuntimeError, "alpha cannot be 0"),
    (lambda m: m.nn.functional.softshrink(m.ones(2), -1.0), RuntimeError, "softshrink"),
    (lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(4)), RuntimeError, "channel size = 3"),
    (lambda m: m.nn.functional.prelu(m.ones(4), m.ones(4)), RuntimeError, "channel size = 1"),
    (lambda m: m.nn.functional.prelu(m.ones(2, 3), m.ones(1, 3)), RuntimeError, "ndim = 2"),
    (lambda m: m.nn.PReLU(3)(m.ones(2, 4)), RuntimeError, "parameter numbers = 3"),
    (lambda m: m.nn.functional.rrelu(m.ones(2), 0.5, 0.2, True), RuntimeError, "Lower bound"),
    (lambda m: m.nn.functional.alpha_dropout(m.ones(2), 1.5), ValueError, "between 0 and 1"),
    (lambda m: m.nn.AlphaDropout(-0.1), ValueError, "between 0 and 1"),
    (lambda m: m.nn.functional.feature_alpha_dropout(m.ones(3), 0.5, True), RuntimeError, "2 dim"),
    (lambda m: m.nn.functional.instance_norm(m.ones(2, 3, 1)), ValueError, "spatial element"),
    (lambda m: m.nn.InstanceNorm1d(3)(m.ones(2, 3, 4, 5)), ValueError, "2D or 3D input"),
    (lambda m: m.nn.InstanceNorm2d(3)(m.ones(3, 4)), ValueError, "3D or 4D input"),
    (lambda m: m.nn.InstanceNorm1d(3, affine=True)(m.ones(2, 4, 5)), ValueError, r"num_features \(3\)"),
    (lambda m: m.nn.functional.rms_norm(m.ones(2, 3, 4), (3,)), RuntimeError, "normalized_shape"),
    (lambda m: m.nn.RMSNorm(4)(m.ones(4, 3)), RuntimeError, "normalized_shape"),
    (lambda m: m.nn.functional.local_response_norm(m.ones(2, 3), 2), ValueError, "3D or higher"),
    (lambda m: m.nn.Softmax2d()(m.ones(2, 3)), ValueError, "3D or 4D"),
]  # fmt: skip


@pytest.mark.parametrize("make,exc,match", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_as_torch(make, exc, match):
    _raises_like_torch(make, exc, match)


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    torch = pytest.importorskip("torch")
    a = np.array([[1e-4, -2e-4, 3e-4]], dtype=np.float32)
    for dtype in ("float32", "float64"):
        ours = F.rms_norm(minigrad.tensor(a.astype(dtype)), (3,)).numpy()
        theirs = torch.nn.functional.rms_norm(torch.tensor(a.astype(dtype)), (3,)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    half = F.rms_norm(minigrad.tensor(a).half(), (3,))
    assert half.dtype is minigrad.float16
    expected = torch.nn.functional.rms_norm(torch.tensor(a).half(), (3,)).float().numpy()
    np.testing.assert_allclose(half.float().numpy(), expected, rtol=1e-3)
