"""Convolution and pooling of integer and bool tensors as PyTorch's CPU kernels: computed in the
tensor's dtype where PyTorch has a kernel (int64 everywhere, the other integers for plain
convolution and max pooling; wrapping as PyTorch's), PyTorch's exception and words where it has
none (``"slow_conv2d_cpu" not implemented for 'Bool'``)."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool")

A1 = np.arange(-8, 28).reshape(1, 2, 18)
A2 = np.arange(-8, 28).reshape(1, 1, 6, 6)
A2 = np.concatenate([A2, A2[:, :, ::-1]], 1)
A3 = np.arange(-30, 186).reshape(1, 1, 6, 6, 6)
A3 = np.concatenate([A3, -A3], 1)
W1 = np.array([[[1, -2, 3]], [[2, 1, -1]]])  # (2, 1, 3)
W2 = np.arange(-4, 14).reshape(2, 1, 3, 3)
W2B = np.arange(-4, 32).reshape(2, 2, 3, 3)
W3 = np.arange(-13, 41).reshape(2, 1, 3, 3, 3)
B2 = np.array([3, -5])


def _t(m, a, dtype):
    return m.tensor(a).to(getattr(m, dtype))


# name -> f(module, dtype): one call of torch.nn.functional's API in either framework
CASES = {
    "conv1d": lambda m, d: m.nn.functional.conv1d(
        _t(m, A1, d), _t(m, np.concatenate([W1, W1], 1), d), _t(m, B2, d)
    ),
    "conv1d_groups_dilation": lambda m, d: m.nn.functional.conv1d(
        _t(m, A1, d), _t(m, W1, d), groups=2, dilation=2
    ),
    "conv2d": lambda m, d: m.nn.functional.conv2d(
        _t(m, A2, d), _t(m, W2B, d), _t(m, B2, d), padding=1, stride=2
    ),
    "conv2d_same": lambda m, d: m.nn.functional.conv2d(
        _t(m, A2, d), _t(m, W2, d), groups=2, padding="same"
    ),
    "conv2d_dilation": lambda m, d: m.nn.functional.conv2d(_t(m, A2, d), _t(m, W2B, d), dilation=2),
    "conv2d_float_weight": lambda m, d: m.nn.functional.conv2d(
        _t(m, A2, d), _t(m, W2, "float32"), groups=2
    ),
    "conv3d": lambda m, d: m.nn.functional.conv3d(
        _t(m, A3, d), _t(m, W3, d), groups=2, stride=(2, 1, 1), padding=1
    ),
    "conv3d_dilation": lambda m, d: m.nn.functional.conv3d(
        _t(m, A3, d), _t(m, W3, d), groups=2, dilation=(2, 1, 1)
    ),
    "conv_transpose1d": lambda m, d: m.nn.functional.conv_transpose1d(
        _t(m, A1, d), _t(m, W1, d), _t(m, B2[:1], d), stride=2
    ),
    "conv_transpose2d": lambda m, d: m.nn.functional.conv_transpose2d(
        _t(m, A2, d), _t(m, W2, d), groups=2, stride=2, padding=1, output_padding=1
    ),
    "conv_transpose2d_dilation": lambda m, d: m.nn.functional.conv_transpose2d(
        _t(m, A2, d), _t(m, W2B, d), _t(m, B2, d), dilation=2
    ),
    "conv_transpose2d_float_weight": lambda m, d: m.nn.functional.conv_transpose2d(
        _t(m, A2, d), _t(m, W2, "float32"), groups=2
    ),
    "conv_transpose3d": lambda m, d: m.nn.functional.conv_transpose3d(
        _t(m, A3, d), _t(m, W3, d), groups=2, stride=(1, 2, 1)
    ),
    "max_pool1d": lambda m, d: m.nn.functional.max_pool1d(_t(m, A1, d), 3, 2, 1),
    "max_pool1d_indices": lambda m, d: m.nn.functional.max_pool1d(
        _t(m, A1, d), 3, 2, 1, return_indices=True
    ),
    "max_pool2d": lambda m, d: m.nn.functional.max_pool2d(_t(m, A2, d), 3, 2, 1),
    "max_pool2d_indices": lambda m, d: m.nn.functional.max_pool2d(
        _t(m, A2, d), 2, dilation=2, ceil_mode=True, return_indices=True
    ),
    "max_pool3d": lambda m, d: m.nn.functional.max_pool3d(_t(m, A3, d), 3, 2, 1),
    "max_pool3d_indices": lambda m, d: m.nn.functional.max_pool3d(
        _t(m, A3, d), 2, return_indices=True
    ),
    "avg_pool1d": lambda m, d: m.nn.functional.avg_pool1d(_t(m, A1, d), 4),
    "avg_pool1d_partial": lambda m, d: m.nn.functional.avg_pool1d(
        _t(m, A1, d), 3, 2, 1, ceil_mode=True, count_include_pad=False
    ),
    "avg_pool2d": lambda m, d: m.nn.functional.avg_pool2d(_t(m, A2, d), 3, padding=1),
    "avg_pool2d_no_pad_count": lambda m, d: m.nn.functional.avg_pool2d(
        _t(m, A2, d), 3, padding=1, count_include_pad=False
    ),
    "avg_pool2d_negative_divisor": lambda m, d: m.nn.functional.avg_pool2d(
        _t(m, A2, d), 3, divisor_override=-5
    ),
    "avg_pool2d_ceil": lambda m, d: m.nn.functional.avg_pool2d(_t(m, A2, d), 4, 3, ceil_mode=True),
    "avg_pool3d": lambda m, d: m.nn.functional.avg_pool3d(_t(m, A3, d), 4, 2),
    "avg_pool3d_partial": lambda m, d: m.nn.functional.avg_pool3d(
        _t(m, A3, d), 3, 2, 1, ceil_mode=True, count_include_pad=False
    ),
    "avg_pool3d_ceil": lambda m, d: m.nn.functional.avg_pool3d(
        _t(m, A3, d), 3, 2, 1, ceil_mode=True
    ),
    "avg_pool3d_divisor": lambda m, d: m.nn.functional.avg_pool3d(
        _t(m, A3, d), 3, 2, 1, divisor_override=7
    ),
    "adaptive_avg_pool1d": lambda m, d: m.nn.functional.adaptive_avg_pool1d(_t(m, A1, d), 4),
    "adaptive_avg_pool2d": lambda m, d: m.nn.functional.adaptive_avg_pool2d(_t(m, A2, d), 4),
    "adaptive_avg_pool3d": lambda m, d: m.nn.functional.adaptive_avg_pool3d(_t(m, A3, d), 4),
    "adaptive_max_pool1d": lambda m, d: m.nn.functional.adaptive_max_pool1d(_t(m, A1, d), 4),
    "adaptive_max_pool2d": lambda m, d: m.nn.functional.adaptive_max_pool2d(_t(m, A2, d), 4),
    "adaptive_max_pool3d": lambda m, d: m.nn.functional.adaptive_max_pool3d(_t(m, A3, d), 4),
    "lp_pool1d": lambda m, d: m.nn.functional.lp_pool1d(_t(m, A1, d), 2, 3),
    "lp_pool1d_p1": lambda m, d: m.nn.functional.lp_pool1d(_t(m, A1, d), 1.0, 3),
    "lp_pool2d": lambda m, d: m.nn.functional.lp_pool2d(_t(m, A2, d), 2, 2),
    "lp_pool2d_p1_5": lambda m, d: m.nn.functional.lp_pool2d(_t(m, A2, d), 1.5, 2),
    "lp_pool3d": lambda m, d: m.nn.functional.lp_pool3d(_t(m, A3, d), 2, 2),
    "fractional_max_pool2d": lambda m, d: m.nn.functional.fractional_max_pool2d(
        _t(m, A2, d), 2, output_size=3, _random_samples=_t(m, np.full((1, 2, 2), 0.5), d)
    ),
}


def _run(m, name, dtype):
    """("ok", [(dtype name, values)]) or ("error", exception)."""
    try:
        out = CASES[name](m, dtype)
    except Exception as e:  # (the exception is what is compared)
        return "error", e
    outs = out if isinstance(out, tuple) else (out,)
    return "ok", [(str(t.dtype).split(".")[-1], np.asarray(t.detach().numpy())) for t in outs]


# (minigrad's pow warns for a negative base to a fractional power, PyTorch does not: lp_pool 1.5)
@pytest.mark.filterwarnings("ignore:invalid value encountered in power:RuntimeWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_integer_conv_pool_as_torch(name, dtype):
    """Either both raise, minigrad PyTorch's exception type with PyTorch's message (a hint may
    follow it), or both give the same dtypes and values (integers exactly)."""
    kind_t, got_t = _run(torch, name, dtype)
    kind_m, got_m = _run(minigrad, name, dtype)
    assert kind_m == kind_t, (got_t, got_m)
    if kind_t == "error":
        assert type(got_m) is type(got_t), (got_t, got_m)
        assert str(got_m).startswith(str(got_t).splitlines()[0]), (got_t, got_m)
        return
    for (dtype_t, values_t), (dtype_m, values_m) in zip(got_t, got_m, strict=True):
        assert dtype_m == dtype_t
        if values_t.dtype.kind in "iub":
            np.testing.assert_array_equal(values_m, values_t)
        else:
            np.testing.assert_allclose(values_m, values_t, rtol=1e-6)


def test_integer_convolution_wraps_as_torch():
    """Overflowing integer sums wrap in the tensor's dtype, as PyTorch's kernels."""
    x = np.arange(-8, 28).reshape(1, 1, 6, 6) * 1000
    w = np.full((1, 1, 3, 3), 100000)
    for dtype in ("int32", "uint8", "int8"):
        out_t = torch.nn.functional.conv2d(_t(torch, x, dtype), _t(torch, w, dtype))
        out_m = minigrad.nn.functional.conv2d(_t(minigrad, x, dtype), _t(minigrad, w, dtype))
        np.testing.assert_array_equal(out_m.numpy(), out_t.numpy())


def test_int64_avg_pool3d_truncates_once():
    """The sum of each box over its divisor, truncated once (pooling depth then (H, W) with a
    truncation after each would differ): large values, partial windows."""
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**40), 2**40, (2, 3, 5, 7, 6))
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    out_t = torch.nn.functional.avg_pool3d(torch.tensor(x), **kw)
    out_m = minigrad.nn.functional.avg_pool3d(minigrad.tensor(x), **kw)
    assert out_m.dtype is minigrad.int64
    np.testing.assert_array_equal(out_m.numpy(), out_t.numpy())
