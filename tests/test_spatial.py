"""The spatial layers against ``torch.nn`` with copied weights: 3-D convolution and pooling,
LP pooling, unpooling, channel shuffle; reprs, errors, and a spatial transformer built from
``affine_grid`` and ``grid_sample``."""

import warnings

import numpy as np
import pytest
from helpers import check_layer_matches_torch

import minigrad
import minigrad.nn.functional as F
from minigrad import nn

# (class name, constructor args, kwargs, input shapes)
LAYERS = [
    ("Conv3d", (4, 6, 3), dict(stride=(2, 1, 1), padding=1, groups=2), [(2, 4, 5, 4, 6)]),
    ("Conv3d", (2, 3, (2, 3, 1)), dict(dilation=(2, 1, 1), bias=False), [(2, 5, 4, 3)]),
    ("Conv3d", (2, 2, 3), dict(padding="same"), [(1, 2, 4, 4, 4)]),
    ("ConvTranspose3d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1), [(1, 4, 2, 3, 2)]),
    ("ConvTranspose3d", (2, 4, (2, 1, 2)), dict(groups=2, bias=False), [(2, 3, 2, 3)]),
    ("MaxPool3d", (2,), dict(stride=1, padding=1, ceil_mode=True), [(2, 3, 4, 5, 4)]),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, count_include_pad=False), [(2, 3, 5, 4, 5)]),
    ("AvgPool3d", ((2, 2, 3),), dict(divisor_override=5), [(3, 4, 4, 6)]),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}, [(2, 3, 5, 4, 7)]),
    ("AdaptiveMaxPool3d", (2,), {}, [(2, 3, 5, 4, 7)]),
    ("LPPool1d", (2, 3), dict(stride=2), [(2, 3, 8)]),
    ("LPPool2d", (1.5, (2, 3)), dict(ceil_mode=True), [(2, 3, 5, 7)]),
    ("LPPool3d", (2, 2), {}, [(1, 2, 4, 4, 4)]),
    ("ChannelShuffle", (3,), {}, [(2, 6, 3, 4)]),
]  # fmt: skip
IDS = [f"{name}-{i}" for i, (name, *_rest) in enumerate(LAYERS)]


@pytest.mark.parametrize("name,args,kwargs,shapes", LAYERS, ids=IDS)
def test_layer_matches_torch(name, args, kwargs, shapes, device):
    pytest.importorskip("torch")
    check_layer_matches_torch(
        name, args, kwargs, shapes, device, positive=name.startswith("LPPool")
    )


def test_conv_transpose3d_output_size_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=2).double()
    ours = nn.ConvTranspose3d(2, 3, 3, stride=2)
    ours.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    x = np.random.default_rng(1).standard_normal((1, 2, 2, 3, 2))
    want = theirs(torch.tensor(x), output_size=[6, 8, 5])
    got = ours.double()(minigrad.tensor(x), output_size=[6, 8, 5])
    assert tuple(got.shape) == (1, 3, 6, 8, 5)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="ConvTranspose3d: requested an output size"):
        ours(minigrad.tensor(x), output_size=[9, 8, 5])


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_pool_and_unpool_round_trip_matches_torch(dims):
    torch = pytest.importorskip("torch")
    shape = (2, 3, 6, 5, 4)[: dims + 2]
    x = np.random.default_rng(dims).standard_normal(shape)
    pool_t = getattr(torch.nn, f"MaxPool{dims}d")(2, return_indices=True)
    unpool_t = getattr(torch.nn, f"MaxUnpool{dims}d")(2)
    pool_m = getattr(nn, f"MaxPool{dims}d")(2, return_indices=True)
    unpool_m = getattr(nn, f"MaxUnpool{dims}d")(2)
    assert repr(unpool_m) == repr(unpool_t)
    y_t, i_t = pool_t(torch.tensor(x))
    xm = minigrad.tensor(x, requires_grad=True)
    y_m, i_m = pool_m(xm)
    np.testing.assert_array_equal(i_m.numpy(), i_t.numpy())
    want = unpool_t(y_t, i_t, output_size=shape)
    got = unpool_m(y_m, i_m, output_size=shape)
    np.testing.assert_allclose(got.detach().numpy(), want.numpy())
    got.sum().backward()  # every maximum gets 1, every other input 0
    np.testing.assert_array_equal(xm.grad.numpy(), (got.detach().numpy() == x).astype(float))


def test_adaptive_max_pool_indices_match_torch_with_ties():
    torch = pytest.importorskip("torch")
    x = np.round(np.random.default_rng(3).standard_normal((2, 3, 7, 5))) / 2  # many ties
    want_v, want_i = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), (3, 2), True)
    xm = minigrad.tensor(x, requires_grad=True)
    got_v, got_i = nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(xm)
    np.testing.assert_array_equal(got_i.numpy(), want_i.numpy())
    np.testing.assert_array_equal(got_v.detach().numpy(), want_v.numpy())
    got_v.sum().backward()  # with indices, the gradient goes to the first maximum alone
    assert xm.grad.sum().item() == got_v.numel()


def test_spatial_transformer_matches_torch():
    """The spatial transformer tutorial's sampling step: a localisation net's affine matrices
    resample the input, gradients reach both the image and the matrices."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, theta = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((2, 2, 3)) * 0.5
    results = []
    for lib, functional in ((torch, torch.nn.functional), (minigrad, F)):
        xt = lib.tensor(x, requires_grad=True)
        th = lib.tensor(theta, requires_grad=True)
        grid = functional.affine_grid(th, (2, 3, 6, 6), align_corners=False)
        out = functional.grid_sample(xt, grid, align_corners=False, padding_mode="border")
        (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape))).sum().backward()
        results.append([out.detach().numpy(), xt.grad.numpy(), th.grad.numpy()])
    for want, got in zip(*results):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_grid_sample_and_affine_grid_warn_without_align_corners():
    grid = F.affine_grid(minigrad.zeros(1, 2, 3), (1, 1, 2, 2), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(minigrad.zeros(1, 1, 3, 3), grid)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(minigrad.zeros(1, 2, 3), (1, 1, 2, 2))


def test_upsample_aliases_warn_and_interpolate():
    x = minigrad.randn(1, 2, 3, 4)
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        got = F.upsample_bilinear(x, scale_factor=2)
    want = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.warns(UserWarning, match="upsample` is deprecated"):
        F.upsample(x, size=(5, 5))
    with pytest.warns(UserWarning, match="upsample_nearest` is deprecated"):
        F.upsample_nearest(x, size=5)


ERRORS = [
    (lambda: F.conv3d(minigrad.randn(1, 2, 3, 3, 3), minigrad.randn(4, 2, 4, 1, 1)), RuntimeError,
     "Calculated padded input size per channel: \\(3 x 3 x 3\\). Kernel size: \\(4 x 1 x 1\\)"),
    (lambda: F.conv3d(minigrad.randn(1, 3, 3, 3, 3), minigrad.randn(4, 2, 1, 1, 1)), RuntimeError,
     "Given groups=1, weight of size"),
    (lambda: F.conv_transpose3d(minigrad.randn(2, 3, 3), minigrad.randn(2, 2, 1, 1, 1)),
     RuntimeError, "Expected 4D \\(unbatched\\) or 5D \\(batched\\) input to conv_transpose3d"),
    (lambda: F.conv_transpose3d(minigrad.randn(1, 3, 2, 3, 3), minigrad.randn(2, 2, 1, 1, 1)),
     RuntimeError, "Given transposed=1, weight of size"),
    (lambda: F.max_pool3d(minigrad.randn(1, 2, 3), 2), RuntimeError, "max_pool3d: expected 4D"),
    (lambda: F.avg_pool3d(minigrad.randn(1, 1, 4, 4, 4), 2, divisor_override=0), RuntimeError,
     "avg_pool3d: divisor must be not zero"),
    (lambda: F.avg_pool3d(minigrad.randn(1, 1, 4, 4, 4), 2, padding=2), RuntimeError,
     "pad should be at most half"),
    (lambda: F.adaptive_avg_pool3d(minigrad.randn(1, 1, 4, 4, 4), (2, 2)), RuntimeError,
     "adaptive_avg_pool3d: output_size"),  # (PyTorch's type)
    (lambda: F.max_unpool2d(minigrad.randn(1, 1, 2, 2), minigrad.tensor([[[[0, 1], [2, 99]]]]), 2),
     RuntimeError, "invalid max index"),
    (lambda: F.max_unpool2d(minigrad.randn(1, 1, 2, 2), minigrad.tensor([[[[0, 1], [2, 3]]]]), 2,
                            output_size=(7, 4)), ValueError, "invalid output_size"),
    (lambda: F.channel_shuffle(minigrad.randn(1, 5, 2), 2), RuntimeError,
     "Number of channels must be divisible by groups"),
    (lambda: F.pdist(minigrad.randn(2, 3, 4)), RuntimeError, "pdist only supports 2D tensors"),
    (lambda: F.pdist(minigrad.randn(3, 4), p=-1), RuntimeError, "non-negative p"),
    (lambda: F.affine_grid(minigrad.randn(1, 3, 3), (1, 1, 4, 4), align_corners=False),
     ValueError, "Nx2x3"),
    (lambda: F.affine_grid(minigrad.randn(1, 2, 3), (1, 4), align_corners=False),
     NotImplementedError, "4D and 5D sizes"),
    (lambda: F.grid_sample(minigrad.randn(1, 1, 3, 3), minigrad.randn(1, 2, 2, 2), mode="cubic",
                           align_corners=False), ValueError, "expected mode"),
    (lambda: F.grid_sample(minigrad.randn(1, 1, 3, 3), minigrad.randn(1, 2, 2, 2),
                           padding_mode="wrap", align_corners=False), ValueError, "padding_mode"),
    (lambda: F.grid_sample(minigrad.randn(1, 1, 2, 3, 3), minigrad.randn(1, 2, 2, 2, 3),
                           mode="bicubic", align_corners=False), RuntimeError, "only supports 4D"),
    (lambda: F.grid_sample(minigrad.randn(1, 1, 3, 3), minigrad.randn(1, 2, 2, 3),
                           align_corners=False), RuntimeError, "grid_sample: expected a grid"),
]  # fmt: skip


@pytest.mark.parametrize("call,error,message", ERRORS, ids=[e[2] for e in ERRORS])
def test_bad_arguments_raise(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=message):
            call()


def test_torch_raises_the_same_errors():
    """The errors above are PyTorch's too (the same exception types)."""
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    calls = [
        (lambda: tf.channel_shuffle(torch.randn(1, 5, 2), 2), RuntimeError),
        (lambda: tf.pdist(torch.randn(2, 3, 4)), RuntimeError),
        (lambda: tf.affine_grid(torch.randn(1, 3, 3), (1, 1, 4, 4), False), ValueError),
        (lambda: tf.avg_pool3d(torch.randn(1, 1, 4, 4, 4), 2, divisor_override=0), RuntimeError),
        (lambda: tf.max_unpool2d(torch.randn(1, 1, 2, 2), torch.tensor([[[[0, 1], [2, 3]]]]), 2,
                                 output_size=(7, 4)), ValueError),
    ]  # fmt: skip
    for call, error in calls:
        with pytest.raises(error):
            call()
