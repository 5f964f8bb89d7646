"""Convolution and pooling: functions and layers against PyTorch, errors, devices."""

import math

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.nn.functional import conv as convolution
from minigrad.testing.fake_device import HostTransfers

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-10)}


def _pair(shape, dtype, rng, device="cpu"):
    """The same random values as a minigrad tensor and a torch tensor, both requiring grad."""
    a = rng.standard_normal(shape)
    m = minigrad.tensor(a, dtype=getattr(minigrad, dtype), device=device, requires_grad=True)
    t = torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)
    return m, t


def _compare(out_m, out_t, inputs, dtype, rng):
    """Forward values, then the gradients of a random upstream gradient, are PyTorch's."""
    np.testing.assert_allclose(out_m.detach().cpu().numpy(), out_t.detach().numpy(), **TOL[dtype])
    g = rng.standard_normal(tuple(out_t.shape))
    out_m.backward(minigrad.tensor(g, dtype=out_m.dtype, device=out_m.device))
    out_t.backward(torch.tensor(g, dtype=out_t.dtype))
    for m, t in inputs:
        np.testing.assert_allclose(m.grad.cpu().numpy(), t.grad.numpy(), **TOL[dtype])


CONV2D = [
    ((2, 3, 7, 8), (4, 3, 3, 3), {}),
    ((2, 3, 7, 8), (4, 3, 3, 2), dict(stride=2, padding=1)),
    ((2, 4, 9, 8), (6, 2, 3, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)),
    ((2, 4, 9, 8), (4, 1, 3, 3), dict(padding="same", groups=4)),
    ((2, 4, 9, 8), (4, 4, 2, 4), dict(padding="same", dilation=2)),
    ((1, 2, 6, 6), (3, 2, 1, 1), dict(stride=3)),
    ((2, 3, 5, 5), (2, 3, 5, 5), dict(padding="valid")),
    ((3, 6, 7), (2, 3, 3, 3), dict(padding=1)),  # unbatched
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,ws,kw", CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(xs, ws, kw, bias, dtype):
    rng = np.random.default_rng(0)
    (xm, xt), (wm, wt), (bm, bt) = (_pair(s, dtype, rng) for s in (xs, ws, ws[:1]))
    args_m, args_t = (bm, bt) if bias else (None, None)
    out_m = F.conv2d(xm, wm, args_m, **kw)
    out_t = TF.conv2d(xt, wt, args_t, **kw)
    _compare(out_m, out_t, [(xm, xt), (wm, wt)] + ([(bm, bt)] if bias else []), dtype, rng)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "xs,ws,kw",
    [
        ((2, 3, 10), (4, 3, 3), dict(stride=2, padding=2)),
        ((3, 10), (4, 3, 4), dict(padding="same")),
        ((2, 3, 10), (6, 1, 3), dict(groups=3, dilation=3)),
    ],
)
def test_conv1d_matches_torch(xs, ws, kw, dtype):
    rng = np.random.default_rng(1)
    (xm, xt), (wm, wt), (bm, bt) = (_pair(s, dtype, rng) for s in (xs, ws, ws[:1]))
    _compare(
        F.conv1d(xm, wm, bm, **kw),
        TF.conv1d(xt, wt, bt, **kw),
        [(xm, xt), (wm, wt), (bm, bt)],
        dtype,
        rng,
    )


def test_conv_without_cached_columns(monkeypatch):
    """Large im2col arrays are rebuilt in backward instead of kept: same gradients."""
    rng = np.random.default_rng(2)
    (xm, xt), (wm, wt) = _pair((2, 3, 6, 6), "float64", rng), _pair((4, 3, 3, 3), "float64", rng)
    monkeypatch.setattr(convolution, "CACHE_BYTES", 0)
    _compare(
        F.conv2d(xm, wm, stride=2),
        TF.conv2d(xt, wt, stride=2),
        [(xm, xt), (wm, wt)],
        "float64",
        rng,
    )


POOLS = [
    ("max_pool2d", (2, 3, 8, 8), (2,), {}),
    ("max_pool2d", (2, 3, 9, 8), (3,), dict(stride=2, padding=1)),
    (
        "max_pool2d",
        (2, 3, 9, 8),
        (3,),
        dict(stride=2, padding=1, ceil_mode=True, return_indices=True),
    ),
    ("max_pool2d", (2, 3, 9, 8), ((2, 3),), dict(stride=(1, 2), padding=(1, 0), dilation=(2, 1))),
    ("max_pool2d", (3, 9, 8), (2,), dict(return_indices=True)),
    ("avg_pool2d", (2, 3, 8, 8), (2,), {}),
    ("avg_pool2d", (2, 3, 9, 8), (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 9, 8), (3,), dict(stride=2, padding=1, count_include_pad=False)),
    (
        "avg_pool2d",
        (2, 3, 9, 8),
        ((3, 2),),
        dict(stride=(2, 1), padding=(1, 0), divisor_override=3),
    ),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), ((2, 3),), {}),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), ((5, None),), {}),
    ("adaptive_avg_pool2d", (2, 3, 8, 6), ((4, 3),), {}),
    ("adaptive_avg_pool2d", (3, 7, 9), (1,), {}),
    ("max_pool1d", (2, 3, 9), (3,), dict(stride=2, padding=1, return_indices=True)),
    ("avg_pool1d", (2, 3, 9), (3,), dict(stride=2, padding=1, count_include_pad=False)),
    ("adaptive_avg_pool1d", (2, 3, 9), (4,), {}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name,shape,args,kw", POOLS, ids=[f"{p[0]}-{i}" for i, p in enumerate(POOLS)]
)
def test_pooling_matches_torch(name, shape, args, kw, dtype):
    rng = np.random.default_rng(3)
    xm, xt = _pair(shape, dtype, rng)
    out_m, out_t = getattr(F, name)(xm, *args, **kw), getattr(TF, name)(xt, *args, **kw)
    if kw.get("return_indices"):
        (out_m, idx_m), (out_t, idx_t) = out_m, out_t
        assert idx_m.dtype is minigrad.int64
        np.testing.assert_array_equal(idx_m.numpy(), idx_t.numpy())
    _compare(out_m, out_t, [(xm, xt)], dtype, rng)


def test_max_pool_gradient_goes_to_first_maximum():
    x = [[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 1.0, 3.0]]]]
    xm, xt = minigrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(xm, 2).sum().backward()
    TF.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())
    assert xm.grad.numpy().sum() == 2.0


def test_unfold_and_fold_match_torch():
    rng = np.random.default_rng(4)
    xm, xt = _pair((2, 3, 5, 6), "float64", rng)
    _compare(
        F.unfold(xm, (2, 3), padding=1, stride=(2, 1)),
        TF.unfold(xt, (2, 3), padding=1, stride=(2, 1)),
        [(xm, xt)],
        "float64",
        rng,
    )
    cm, ct = _pair((2, 12, 9), "float64", rng)
    _compare(
        F.fold(cm, (4, 4), 2, stride=1),
        TF.fold(ct, (4, 4), 2, stride=1),
        [(cm, ct)],
        "float64",
        rng,
    )


# -- layers ---------------------------------------------------------------------------------------


def _copy_weights(module_m, module_t):
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in module_t.state_dict().items()}
    module_m.load_state_dict(state)


LAYERS = [
    ("Conv2d", (3, 8, 3), {}, (2, 3, 10, 9)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=(1, 0), dilation=2, groups=2), (2, 4, 11, 9)),
    ("Conv2d", (2, 4, 4), dict(padding="same", bias=False), (2, 2, 7, 7)),
    ("Conv1d", (3, 5, 3), dict(stride=2, padding=1), (2, 3, 12)),
    ("Conv1d", (4, 4, 3), dict(groups=4, padding="same", dilation=2), (4, 9)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 9, 9)),
    ("AvgPool2d", (2,), dict(count_include_pad=False, padding=1), (2, 3, 7, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 7, 8)),
    ("MaxPool1d", (2,), {}, (2, 3, 9)),
    ("AvgPool1d", (3,), dict(stride=2), (2, 3, 9)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name,args,kw,shape", LAYERS, ids=[f"{c[0]}-{i}" for i, c in enumerate(LAYERS)]
)
def test_layer_matches_torch(name, args, kw, shape, dtype):
    rng = np.random.default_rng(5)
    layer_t = getattr(torch.nn, name)(*args, **kw).to(getattr(torch, dtype))
    layer_m = getattr(nn, name)(*args, **kw).to(getattr(minigrad, dtype))
    assert repr(layer_m) == repr(layer_t)
    assert {k: tuple(v.shape) for k, v in layer_m.state_dict().items()} == {
        k: tuple(v.shape) for k, v in layer_t.state_dict().items()
    }
    _copy_weights(layer_m, layer_t)
    xm, xt = _pair(shape, dtype, rng)
    params = list(zip(layer_m.parameters(), layer_t.parameters()))
    _compare(layer_m(xm), layer_t(xt), [(xm, xt)] + params, dtype, rng)


def test_small_cnn_matches_torch():
    """Conv → ReLU → MaxPool → Conv → AdaptiveAvgPool → Flatten → Linear, train step gradients."""

    def build(lib):
        return lib.Sequential(
            lib.Conv2d(1, 4, 3, padding=1),
            lib.ReLU(),
            lib.MaxPool2d(2),
            lib.Conv2d(4, 6, 3, stride=2),
            lib.AdaptiveAvgPool2d(1),
            lib.Flatten(),
            lib.Linear(6, 3),
        )

    model_t, model_m = build(torch.nn), build(nn)
    _copy_weights(model_m, model_t)
    rng = np.random.default_rng(6)
    xm, xt = _pair((4, 1, 12, 12), "float32", rng)
    y = rng.integers(0, 3, 4)
    loss_m = F.cross_entropy(model_m(xm), minigrad.tensor(y))
    loss_t = TF.cross_entropy(model_t(xt), torch.tensor(y))
    assert abs(loss_m.item() - loss_t.item()) < 1e-5
    loss_m.backward()
    loss_t.backward()
    for (name, pm), pt in zip(model_m.named_parameters(), model_t.parameters()):
        np.testing.assert_allclose(
            pm.grad.numpy(), pt.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name
        )


def test_conv_default_init_bounds():
    """PyTorch's default init: weight and bias within ±1/√fan_in, spread over that range."""
    minigrad.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = conv.weight.numpy(force=True), conv.bias.numpy(force=True)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert conv.weight.requires_grad and conv.weight.shape == (32, 16, 3, 3)


# -- bad input ------------------------------------------------------------------------------------


def test_conv_layer_names_itself_on_wrong_input():
    """PyTorch's words first (what people search for), then the module and what it expects."""
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(
        RuntimeError,
        match=r"^Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[2, 4, 8, 8\] to "
        r"have 3 channels, but got 4 channels instead: Conv2d\(3, 8, kernel_size=\(3, 3\).*"
        r"expects \(N, 3, H, W\) or \(3, H, W\)",
    ):
        conv(minigrad.randn(2, 4, 8, 8))
    with pytest.raises(
        RuntimeError,
        match=r"^Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d, but got input of "
        r"size: \[2, 3, 4, 5\]: Conv1d\(3, 8",
    ):
        nn.Conv1d(3, 8, 3)(minigrad.randn(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=r"^Given transposed=1, weight of size \[4, 2, 3\], "):
        nn.ConvTranspose1d(4, 2, 3)(minigrad.randn(3, 5))
    with pytest.raises(RuntimeError, match=r"MaxPool2d\(kernel_size=2.*got shape \[4, 4\]"):
        nn.MaxPool2d(2)(minigrad.randn(4, 4))


@pytest.mark.parametrize(
    "call,error,pattern",
    [
        (
            lambda: F.conv2d(minigrad.randn(2, 4, 8, 8), minigrad.randn(8, 3, 3, 3)),
            RuntimeError,
            "to have 3 channels, but got 4",
        ),
        (
            lambda: F.conv2d(minigrad.randn(2, 3, 2, 2), minigrad.randn(8, 3, 3, 3)),
            RuntimeError,
            "can't be greater",
        ),
        (
            lambda: F.conv2d(minigrad.randn(2, 3, 8), minigrad.randn(8, 3, 3, 3)[0]),
            RuntimeError,
            "4D weight",
        ),
        (
            lambda: F.conv2d(
                minigrad.randn(3, 8, 8), minigrad.randn(8, 3, 3, 3), stride=2, padding="same"
            ),
            RuntimeError,  # (PyTorch's functional form; its Conv2d constructor: ValueError)
            "strided",
        ),
        (
            lambda: F.conv2d(minigrad.randn(1, 3, 8, 8), minigrad.randn(8, 3, 3, 3).double()),
            RuntimeError,
            "expected scalar type Float but found Double",
        ),
        (
            lambda: F.conv2d(
                minigrad.randn(1, 3, 8, 8), minigrad.randn(8, 3, 3, 3), minigrad.randn(4)
            ),
            RuntimeError,
            "bias of shape",
        ),
        (
            lambda: F.conv2d(minigrad.randn(1, 3, 8, 8), minigrad.randn(8, 3, 3, 3), stride=0),
            RuntimeError,
            "greater than zero",
        ),
        (
            lambda: F.max_pool2d(minigrad.randn(1, 3, 8, 8), 2, padding=2),
            RuntimeError,
            "at most half",
        ),
        (lambda: F.avg_pool2d(minigrad.randn(3, 8), 2), RuntimeError, "expected 3D"),
        (lambda: F.max_pool2d(minigrad.randn(1, 3, 1, 1), 2), RuntimeError, "too small"),
        (lambda: nn.Conv2d(3, 8, 3, groups=2), ValueError, "divisible by groups"),
        (lambda: nn.ConvTranspose2d(3, 8, 3, padding_mode="reflect"), ValueError, '"zeros"'),
        (lambda: nn.Conv2d(3, 8, 3, padding_mode="mirror"), ValueError, "padding_mode"),
    ],
)
def test_bad_arguments_raise(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# -- devices --------------------------------------------------------------------------------------


def test_cnn_step_on_device_matches_cpu_without_host_transfers(device):
    """Conv, pools and their backward stay on the device (no hidden host round trips)."""

    def run(dev):
        minigrad.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1, groups=2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, padding=1),
            nn.AvgPool2d(2, ceil_mode=True),
            nn.AdaptiveAvgPool2d((2, 3)),
        ).to(dev)
        x = minigrad.tensor(
            np.random.default_rng(7).standard_normal((2, 2, 9, 11)),
            dtype=minigrad.float32,
            device=dev,
        )
        x.requires_grad_()
        before = HostTransfers.count
        out = model(x)
        (out * out).sum().backward()
        transfers = HostTransfers.count - before
        return [
            t.detach().cpu().numpy() for t in (out, x.grad, *(p.grad for p in model.parameters()))
        ], transfers

    expected, _ = run("cpu")
    got, transfers = run(device)
    assert transfers == 0
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, kw, shape",
    [
        ("conv2d", dict(weight=(3, 2, 3, 3), stride=2, padding=1), (2, 2, 8, 8)),
        ("conv2d", dict(weight=(3, 2, 3, 3), padding=2, dilation=2), (2, 2, 7, 7)),
        ("conv1d", dict(weight=(3, 2, 3), padding=1), (2, 2, 9)),
        ("max_pool2d", dict(kernel_size=3, stride=2, padding=1), (2, 2, 8, 8)),
        ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1), (2, 2, 8, 8)),
        ("unfold", dict(kernel_size=3, padding=1), (2, 2, 6, 6)),
    ],
)
@pytest.mark.parametrize("create_graph", [False, True])
def test_input_gradient_of_padded_windows_is_contiguous_as_pytorch(name, kw, shape, create_graph):
    """WGAN-GP's ``autograd.grad(critic(x), x)[0].view(n, -1)`` needs a contiguous gradient:
    PyTorch's padded conv and pooling give one, so minigrad must not return a padded frame's
    inner view."""
    values = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    kw = dict(kw)
    w_shape = kw.pop("weight", None)
    w = None if w_shape is None else np.random.default_rng(1).standard_normal(w_shape)
    grads = []
    for lib, functional in ((minigrad, F), (torch, torch.nn.functional)):
        x = lib.tensor(values, requires_grad=True)
        args = () if w is None else (lib.tensor(w.astype(np.float32)),)
        y = getattr(functional, name)(x, *args, **kw)
        (g,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=create_graph)
        assert g.is_contiguous()
        grads.append(g.reshape(-1).detach().numpy())
        g.view(shape[0], -1)  # the WGAN-GP idiom
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "name, padding, kernel, shape",
    [
        ("Conv1d", 2, 3, (2, 2, 7)),
        ("Conv2d", 1, 3, (2, 2, 6, 6)),
        ("Conv2d", (1, 2), 3, (2, 2, 6, 5)),
        ("Conv2d", "same", 4, (2, 2, 6, 6)),  # uneven: one more after than before
        ("Conv2d", 1, 3, (2, 6, 6)),  # unbatched
        ("Conv3d", 1, 3, (1, 2, 4, 5, 4)),
    ],
)
def test_padding_modes_match_torch(mode, name, padding, kernel, shape):
    kw = dict(padding=padding, padding_mode=mode, stride=1)
    theirs = getattr(torch.nn, name)(2, 3, kernel, **kw)
    ours = getattr(nn, name)(2, 3, kernel, **kw)
    ours.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xt, xm = torch.tensor(x, requires_grad=True), minigrad.tensor(x, requires_grad=True)
    yt, ym = theirs(xt), ours(xm)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(yt.shape).astype(np.float32)
    yt.backward(torch.tensor(g))
    ym.backward(minigrad.tensor(g))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4
    )


def test_transposed_convolutions_take_only_zero_padding_as_torch():
    for lib in (torch.nn, nn):
        with pytest.raises(ValueError, match='Only "zeros" padding mode'):
            lib.ConvTranspose2d(2, 3, 3, padding_mode="reflect")
