"""Fake quantization (branch quant): values equal PyTorch's bit for bit, and the
straight-through gradients and their double backward agree with PyTorch's."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _pair(array, requires_grad=True):
    return (
        minigrad.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("qparams", [(0.0123456, 3, -128, 127), (0.1, 0, 0, 255), (2.0, -1, -2, 2)])
def test_per_tensor_values_and_gradient(dtype, qparams):
    rng = np.random.default_rng(0)
    data = (rng.standard_normal(2000) * 3).astype(dtype)
    data[:4] = [0.5, 1.5, -2.5, 2.5]  # exact ties: half to even
    xm, xt = _pair(data, requires_grad=dtype != "float16")
    ym = minigrad.fake_quantize_per_tensor_affine(xm, *qparams)
    yt = torch.fake_quantize_per_tensor_affine(xt, *qparams)
    assert ym.dtype.name == dtype
    np.testing.assert_array_equal(ym.detach().numpy(), yt.detach().numpy())
    if dtype == "float16":
        return
    v = rng.standard_normal(2000).astype(dtype)
    (gm,) = minigrad.autograd.grad(ym, xm, minigrad.tensor(v))
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(v))
    np.testing.assert_array_equal(gm.numpy(), gt.numpy())


@pytest.mark.parametrize("float_zp", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_per_channel_values_and_gradient(float_zp, dtype):
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((3, 5, 4)) * 2).astype(dtype)
    scale = rng.uniform(0.01, 0.06, 5).astype("float32")
    zp = rng.standard_normal(5).astype("float32") * 3 if float_zp else rng.integers(-5, 5, 5)
    zp_dtype = "float32" if float_zp else "int32"
    xm, xt = _pair(data)
    args_m = (minigrad.tensor(scale), minigrad.tensor(zp, dtype=getattr(minigrad, zp_dtype)))
    args_t = (torch.tensor(scale), torch.tensor(zp, dtype=getattr(torch, zp_dtype)))
    ym = minigrad.fake_quantize_per_channel_affine(xm, *args_m, 1, -20, 30)
    yt = torch.fake_quantize_per_channel_affine(xt, *args_t, 1, -20, 30)
    np.testing.assert_array_equal(ym.detach().numpy(), yt.detach().numpy())
    v = rng.standard_normal(data.shape).astype(dtype)
    (gm,) = minigrad.autograd.grad(ym, xm, minigrad.tensor(v))
    (gt,) = torch.autograd.grad(yt, xt, torch.tensor(v))
    np.testing.assert_array_equal(gm.numpy(), gt.numpy())


def test_double_backward_and_grad_fn_names():
    xm, xt = _pair(np.array([-3.0, -0.2, 0.4, 9.0]))
    ym = minigrad.fake_quantize_per_tensor_affine(xm, 0.5, 0, -4, 4)
    yt = torch.fake_quantize_per_tensor_affine(xt, 0.5, 0, -4, 4)
    assert type(ym.grad_fn).name() == type(yt.grad_fn).__name__
    v = minigrad.ones(4, dtype=minigrad.float64, requires_grad=True)
    (g,) = minigrad.autograd.grad(ym, xm, v, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 1.0, 1.0, 0.0])
    (gv,) = minigrad.autograd.grad(g.sum(), v)  # d(v·mask)/dv = mask
    np.testing.assert_array_equal(gv.numpy(), [0.0, 1.0, 1.0, 0.0])
    yc = minigrad.fake_quantize_per_channel_affine(
        xm.reshape(1, 4), minigrad.tensor([0.5]), minigrad.tensor([0], dtype=minigrad.int32),
        0, -4, 4,
    )  # fmt: skip
    assert type(yc.grad_fn).name() == "FakeQuantizePerChannelAffineCachemaskBackward0"


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.fake_quantize_per_tensor_affine(x, 0.1, 0, 5, 3),
        lambda m, x: m.fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255),
        lambda m, x: m.fake_quantize_per_channel_affine(
            x, m.tensor([0.1, 0.2]), m.tensor([0, 0], dtype=m.int32), 1, 0, 255
        ),
        lambda m, x: m.fake_quantize_per_channel_affine(
            x, m.tensor([0.1, 0.2, 0.3]), m.tensor([0, 0, 0], dtype=m.int64), 1, 0, 255
        ),
        lambda m, x: m.fake_quantize_per_channel_affine(
            x,
            m.tensor([0.1, 0.2, 0.3], dtype=m.float64),
            m.tensor([0, 0, 0], dtype=m.int32),
            1,
            0,
            255,
        ),  # fmt: skip
        lambda m, x: m.fake_quantize_per_channel_affine(
            x, m.tensor([0.1, 0.2, 0.3]), m.tensor([0, 0, 400], dtype=m.int32), 1, 0, 255
        ),
        lambda m, x: m.fake_quantize_per_channel_affine(
            x, m.tensor([[0.1, 0.2, 0.3]]), m.tensor([0, 0, 0], dtype=m.int32), 1, 0, 255
        ),
    ],
)
def test_errors_as_torch(call):
    data = np.ones((2, 3), dtype="float32")
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor(data))
    with pytest.raises(RuntimeError):
        call(minigrad, minigrad.tensor(data))
    with pytest.raises(NotImplementedError, match="floating point"):
        minigrad.fake_quantize_per_tensor_affine(minigrad.tensor([1, 2]), 0.1, 0, 0, 255)


@pytest.mark.parametrize("per_channel", [False, True])
def test_learnable_fake_quantize_matches_torch(per_channel):
    rng = np.random.default_rng(2)
    data, upstream = rng.standard_normal((3, 5, 2)) * 2, rng.standard_normal((3, 5, 2))
    if per_channel:
        scale, zp = [0.05, 0.1, 0.2, 0.07, 0.3], [1.4, 2.6, 0.0, 70.0, -3.0]
    else:
        scale, zp = [0.05], [3.4]
    results = []
    for m in (torch, minigrad):
        x = m.tensor(data, dtype=m.float32, requires_grad=True)
        s = m.tensor(scale, requires_grad=True)
        z = m.tensor(zp, requires_grad=True)
        if per_channel:
            y = m._fake_quantize_learnable_per_channel_affine(x, s, z, 1, 0, 63, 0.7)
        else:
            y = m._fake_quantize_learnable_per_tensor_affine(x, s, z, 0, 63, 0.7)
        grads = m.autograd.grad(y, (x, s, z), m.tensor(upstream, dtype=m.float32))
        results.append([y.detach().numpy()] + [g.numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=2e-6)  # (sums in another order)
    x = minigrad.tensor(data, requires_grad=True)  # float64 and double backward: minigrad's own
    s = minigrad.tensor([0.05], dtype=minigrad.float64, requires_grad=True)
    z = minigrad.tensor([3.4], dtype=minigrad.float64, requires_grad=True)
    y = minigrad._fake_quantize_learnable_per_tensor_affine(x, s, z, 0, 63)
    (gs,) = minigrad.autograd.grad(y.sum(), s, create_graph=True)
    (gss,) = minigrad.autograd.grad(gs.sum(), s)
    assert gss.shape == (1,) and np.isfinite(gss.numpy()).all()


def test_fake_quantize_runs_on_the_stand_in_device():
    data = np.random.default_rng(3).standard_normal((2, 3))
    outs = []
    for device in ("cpu", "fakegpu"):
        x = minigrad.tensor(data, dtype=minigrad.float32, device=device, requires_grad=True)
        scale = minigrad.tensor([0.1, 0.2, 0.3], device=device)
        zp = minigrad.tensor([0, 1, -1], dtype=minigrad.int32, device=device)
        y = minigrad.fake_quantize_per_channel_affine(x, scale, zp, 1, -8, 7)
        y = y + minigrad.fake_quantize_per_tensor_affine(x, 0.05, 3, -16, 15)
        y.sum().backward()
        outs.append((y.detach().cpu().numpy(), x.grad.cpu().numpy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
