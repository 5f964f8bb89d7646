"""Regression tests for what the tenth round of programs (tests/test_programs10.py) found wrong
in minigrad, one focused test per fix, each compared with PyTorch."""

import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(0)
_X = _RNG.standard_normal(4096).astype(np.float32) + 0.05


def _pair(dtype):
    return torch.tensor(_X).to(getattr(torch, dtype)), minigrad.tensor(_X).to(
        getattr(minigrad, dtype)
    )


def _same(a, b):
    return np.array_equal(a.detach().float().numpy(), b.detach().float().numpy())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x * -4.775,
        lambda x: 0.3001 * x,
        lambda x: x / 0.3001,
        lambda x: x.clone().mul_(0.3001),
        lambda x: x.clone().div_(0.3001),
        lambda x: x.sigmoid(),
        lambda x: x.abs().rsqrt(),
        lambda x: x.lerp(x * 3, 0.1),
        lambda x: x.clone().lerp_(x * 3, 0.7),
        lambda x: x.addcmul(x, x, value=0.0123),
        lambda x: x.addcdiv(x, x.abs() + 1, value=-0.0123),
        lambda x: x.add(x * 3, alpha=-0.0123),
        lambda x: x.clone().sub_(x * 3, alpha=0.0123),
    ],
)
def test_half_precision_ops_round_once_as_pytorch(dtype, fn):
    # PyTorch computes 16-bit floats in float32 with an unrounded scalar and rounds once
    t, m = _pair(dtype)
    assert _same(fn(t), fn(m))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["gelu", "silu", "sigmoid"])
def test_half_precision_activations_and_their_gradients(dtype, name):
    t, m = _pair(dtype)
    upstream = _RNG.standard_normal(_X.shape).astype(np.float32)
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    assert _same(theirs(t), ours(m))
    x, y = m.clone().requires_grad_(), t.clone().requires_grad_()
    ours(x).backward(minigrad.tensor(upstream).to(x.dtype))
    theirs(y).backward(torch.tensor(upstream).to(y.dtype))
    assert x.grad.dtype is getattr(minigrad, dtype)
    # computed in float32 and rounded once (float16 sigmoid: in float16 steps), as PyTorch's
    # kernels: equal but where float32's own last bit differs
    assert (x.grad.float().numpy() != y.grad.float().numpy()).sum() <= 4


def test_number_over_tensor_is_reciprocal_times_number():
    t, m = torch.tensor(_X), minigrad.tensor(_X)
    assert _same(0.3001 / t, 0.3001 / m) and _same(3 / t, 3 / m)
    x = minigrad.tensor([4.0], requires_grad=True)
    y = 2 / x
    y.backward()
    assert "MulBackward0" in repr(y.grad_fn) and x.grad.item() == -0.125
    assert (2 / minigrad.tensor([4])).tolist() == [0.5]


def test_add_with_alpha_in_place_is_a_fused_multiply_add():
    other = _RNG.standard_normal(4096).astype(np.float32)
    for dtype in ("float32", "bfloat16"):
        tb, mb = torch.tensor(other).to(getattr(torch, dtype)), minigrad.tensor(other)
        mb = mb.to(getattr(minigrad, dtype))  # a 16-bit update of a float32 parameter
        t, m = torch.tensor(_X).add_(tb, alpha=-0.0283), minigrad.tensor(_X).add_(mb, alpha=-0.0283)
        assert _same(t, m), dtype
        t.sub_(tb, alpha=0.5), m.sub_(mb, alpha=0.5)
        assert _same(t, m), dtype
    with pytest.raises(RuntimeError):
        minigrad.zeros(3).add_(minigrad.ones(2, 3), alpha=2.0)


def test_lerp_in_place_takes_lerps_two_sided_formula():
    # (PyTorch's float32 lerp is one fused multiply-add; the 16-bit cases above match it)
    a, b = minigrad.tensor(_X), minigrad.tensor(_X[::-1].copy())
    for w in (0.2, 0.95):
        assert _same(a.clone().lerp_(b, w), a.lerp(b, w))


def test_grid_sample_nearest_gives_the_grid_a_zero_gradient():
    x = minigrad.rand(1, 1, 3, 3)
    grid = minigrad.tensor([[[[0.5, 0.0], [0.2, float("inf")]]]], requires_grad=True)
    out = F.grid_sample(x, grid, mode="nearest", align_corners=False)
    out.sum().backward()
    assert grid.grad is not None and grid.grad.abs().sum().item() == 0.0
    expected = torch.nn.functional.grid_sample(
        torch.tensor(x.numpy()), torch.tensor(grid.detach().numpy()), "nearest", align_corners=False
    )
    assert np.array_equal(out.detach().numpy(), expected.numpy())


def _encoder(**layer_kwargs):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, **layer_kwargs)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))


def test_transformer_encoder_fast_path_zeroes_padding_in_inference():
    encoder = _encoder().eval()
    src = minigrad.randn(3, 5, 8)
    pad = minigrad.tensor([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])
    with minigrad.no_grad():
        out = encoder(src, src_key_padding_mask=pad)
        masked = encoder.layers[1](encoder.layers[0](src, src_key_padding_mask=pad), None, pad)
    bias = encoder.norm.bias.detach()
    assert np.allclose(out[pad].numpy(), np.broadcast_to(bias.numpy(), (3, 8)))  # norm(0)
    keep = ~pad
    assert np.allclose(out[keep].numpy(), encoder.norm(masked)[keep].detach().numpy(), atol=1e-6)
    grad_out = encoder(src, src_key_padding_mask=pad)  # parameters need grad: the usual path
    assert not np.allclose(grad_out[pad].detach().numpy(), out[pad].numpy())
    minigrad.backends.mha.set_fastpath_enabled(False)
    try:
        with minigrad.no_grad():
            assert not np.allclose(encoder(src, src_key_padding_mask=pad)[pad].numpy(), 0.0)
    finally:
        minigrad.backends.mha.set_fastpath_enabled(True)
    assert minigrad.backends.mha.get_fastpath_enabled()
    right = minigrad.tensor([[True] + [False] * 4] * 3)  # not left-aligned: the usual path
    with minigrad.no_grad():
        assert not np.allclose(encoder(src, src_key_padding_mask=right)[:, 0].numpy(), bias.numpy())


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(norm_first=True), "encoder_layer.norm_first was True"),
        (dict(activation=lambda x: x), "encoder_layer.activation_relu_or_gelu was not True"),
    ],
)
def test_transformer_encoder_warns_when_nested_tensors_cannot_be_used(kwargs, reason):
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, **kwargs)
    with pytest.warns(UserWarning, match="use_nested_tensor is False because " + reason):
        encoder = nn.TransformerEncoder(layer, 1)
    assert encoder.use_nested_tensor is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            nn.TransformerEncoder(layer, 1, enable_nested_tensor=False).use_nested_tensor is False
        )
        assert _encoder().use_nested_tensor is True


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("param_dtype", ["float32", "same"])
def test_norms_of_16_bit_inputs_keep_their_dtype_and_round_once(dtype, param_dtype):
    x = _RNG.standard_normal((8, 4, 6)).astype(np.float32)
    w6, w4 = _RNG.standard_normal(6).astype(np.float32), _RNG.standard_normal(4).astype(np.float32)
    results = []
    for lib in (torch, minigrad):
        dt = getattr(lib, dtype)
        pdt = dt if param_dtype == "same" else lib.float32
        xt, a, b = lib.tensor(x).to(dt), lib.tensor(w6).to(pdt), lib.tensor(w4).to(pdt)
        fn = lib.nn.functional
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's "cannot dispatch to fused" for rms_norm
            results.append(
                [
                    fn.layer_norm(xt, (6,), a, a),
                    fn.group_norm(xt, 2, b, b),
                    fn.rms_norm(xt, (6,), a),
                ]
            )
    for ours, theirs in zip(results[1], results[0]):
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1] == dtype
        a, b = theirs.float().numpy(), ours.detach().float().numpy()
        # one rounding of a float32 value: equal but where float32's own rounding differs
        assert (a != b).sum() <= 2 and np.allclose(a, b, rtol=2e-3, atol=1e-3)
    x16 = minigrad.tensor(x).to(getattr(minigrad, dtype)).requires_grad_()
    layer = nn.LayerNorm(6)  # float32 parameters, 16-bit activations
    layer(x16).float().sum().backward()
    assert x16.grad.dtype is x16.dtype and layer.weight.grad.dtype is minigrad.float32
