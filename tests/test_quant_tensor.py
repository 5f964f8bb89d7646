"""Quantized tensors (branch quant): integer representations, parameters, dequantized values
and reprs equal PyTorch's; ops without a quantized kernel are refused by name."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch: deprecations


def _dtypes():
    return [("quint8", 7), ("qint8", -3), ("qint32", 11)]


@pytest.mark.parametrize("name,zp", _dtypes())
def test_quantize_per_tensor_matches_torch(name, zp):
    rng = np.random.default_rng(0)
    data = (rng.standard_normal(1001) * 3).astype("float32")
    data[:3] = [0.0234567 * 0.5, 0.0234567 * 1.5, 100.0]  # ties and a clamped value
    qm = minigrad.quantize_per_tensor(minigrad.tensor(data), 0.0234567, zp, getattr(minigrad, name))
    qt = torch.quantize_per_tensor(torch.tensor(data), 0.0234567, zp, getattr(torch, name))
    np.testing.assert_array_equal(qm.int_repr().numpy(), qt.int_repr().numpy())
    assert qm.int_repr().dtype.name == str(qt.int_repr().dtype).split(".")[-1]
    np.testing.assert_array_equal(qm.dequantize().numpy(), qt.dequantize().numpy())
    np.testing.assert_array_equal(minigrad.dequantize(qm).numpy(), qt.dequantize().numpy())
    assert (qm.q_scale(), qm.q_zero_point()) == (qt.q_scale(), qt.q_zero_point())
    assert qm.is_quantized and repr(qm.qscheme()) == "minigrad.per_tensor_affine"
    assert qm.dtype is getattr(minigrad, name) and qm.shape == (1001,) and not qm.requires_grad


def test_quantize_per_channel_matches_torch():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((4, 3, 2)).astype("float32")
    scales, zps = rng.uniform(0.01, 0.05, 3), np.array([0, -2, 5])
    qm = minigrad.quantize_per_channel(
        minigrad.tensor(data), minigrad.tensor(scales), minigrad.tensor(zps), 1, minigrad.qint8
    )
    qt = torch.quantize_per_channel(
        torch.tensor(data), torch.tensor(scales), torch.tensor(zps), 1, torch.qint8
    )
    np.testing.assert_array_equal(qm.int_repr().numpy(), qt.int_repr().numpy())
    np.testing.assert_array_equal(qm.dequantize().numpy(), qt.dequantize().numpy())
    np.testing.assert_array_equal(
        qm.q_per_channel_scales().numpy(), qt.q_per_channel_scales().numpy()
    )
    np.testing.assert_array_equal(
        qm.q_per_channel_zero_points().numpy(), qt.q_per_channel_zero_points().numpy()
    )
    assert qm.q_per_channel_axis() == 1 and qm.qscheme() is minigrad.per_channel_affine
    with pytest.raises(RuntimeError, match="per-tensor"):
        qm.q_scale()


def test_repr_like_torch():
    data = [-1.0, 0.0, 1.0, 2.0]
    qm = minigrad.quantize_per_tensor(minigrad.tensor(data), 1.0, 8, minigrad.quint8)
    qt = torch.quantize_per_tensor(torch.tensor(data), 1.0, 8, torch.quint8)
    assert repr(qm).replace("minigrad.", "torch.") == repr(qt)
    args = ([0.1, 0.2, 0.3], [0, 1, 2])
    cm = minigrad.quantize_per_channel(
        minigrad.ones(2, 3), minigrad.tensor(args[0], dtype=minigrad.float64),
        minigrad.tensor(args[1]), 1, minigrad.qint8,
    )  # fmt: skip
    ct = torch.quantize_per_channel(
        torch.ones(2, 3), torch.tensor(args[0], dtype=torch.float64), torch.tensor(args[1]), 1,
        torch.qint8,
    )  # fmt: skip
    assert repr(cm).replace("minigrad.", "torch.") == repr(ct)


def test_grid_preserving_ops_match_torch():
    rng = np.random.default_rng(2)
    data = rng.standard_normal((1, 2, 4, 4)).astype("float32")
    qm = minigrad.quantize_per_tensor(minigrad.tensor(data), 0.05, 10, minigrad.quint8)
    qt = torch.quantize_per_tensor(torch.tensor(data), 0.05, 10, torch.quint8)
    calls = [
        lambda m, q: m.relu(q),
        lambda m, q: m.nn.functional.max_pool2d(q, 2),
        lambda m, q: m.nn.ReLU()(q),
        lambda m, q: q.reshape(2, 16),
        lambda m, q: m.flatten(q, 1),
        lambda m, q: q[0, 1:],
        lambda m, q: q.permute(0, 2, 3, 1),
        lambda m, q: q.clone(),
        lambda m, q: m.nn.functional.avg_pool2d(q, 2),
        lambda m, q: m.nn.functional.adaptive_avg_pool2d(q, 1),
        lambda m, q: m.nn.AdaptiveAvgPool2d((3, 2))(q),
    ]
    for call in calls:
        rm, rt = call(minigrad, qm), call(torch, qt)
        assert rm.is_quantized and rm.q_scale() == rt.q_scale()
        np.testing.assert_array_equal(rm.int_repr().numpy(), rt.int_repr().numpy())


def test_cat_and_stack_take_the_first_tensors_qparams():
    data = np.random.default_rng(5).standard_normal((2, 3)).astype("float32")
    results = []
    for m in (torch, minigrad):
        q1 = m.quantize_per_tensor(m.tensor(data), 0.1, 3, m.quint8)
        q2 = m.quantize_per_tensor(m.tensor(data * 2), 0.05, 10, m.quint8)
        joined = m.cat([q1, q2], 1), m.stack([q1, q2])
        results.append([(t.int_repr().numpy(), t.q_scale(), t.q_zero_point()) for t in joined])
    for (a, sa, za), (b, sb, zb) in zip(*results):
        np.testing.assert_array_equal(b, a)
        assert (sb, zb) == (sa, za)


def test_refusals():
    qm = minigrad.quantize_per_tensor(minigrad.ones(3), 0.1, 0, minigrad.qint8)
    with pytest.raises(NotImplementedError, match="Add.*quantized"):
        qm + qm
    with pytest.raises(NotImplementedError, match="Sum.*quantized"):
        qm.sum()
    with pytest.raises(TypeError, match="dequantize"):
        qm.numpy()
    with pytest.raises(RuntimeError, match="Float"):
        minigrad.quantize_per_tensor(
            minigrad.ones(3, dtype=minigrad.float64), 0.1, 0, minigrad.qint8
        )
    with pytest.raises(RuntimeError, match="quantized dtype"):
        minigrad.quantize_per_tensor(minigrad.ones(3), 0.1, 0, minigrad.int8)
    with pytest.raises(RuntimeError, match="out of range"):
        minigrad.quantize_per_tensor(minigrad.ones(3), 0.1, 300, minigrad.quint8)
    with pytest.raises(NotImplementedError, match="CPU"):
        minigrad.quantize_per_tensor(minigrad.ones(3, device="fakegpu"), 0.1, 0, minigrad.qint8)
    assert minigrad.ones(2).dequantize().dtype is minigrad.float32  # a float tensor: itself
    assert not minigrad.ones(2).is_quantized


def test_make_quantized_from_integers():
    ints = minigrad.tensor([0, 5, 255], dtype=minigrad.uint8)
    q = minigrad._make_per_tensor_quantized_tensor(ints, 0.5, 5)
    assert q.dtype is minigrad.quint8
    np.testing.assert_array_equal(q.dequantize().numpy(), [-2.5, 0.0, 125.0])


@pytest.mark.parametrize("reduce_range", [False, True])
@pytest.mark.parametrize("name", ["quint8", "qint8"])
def test_quantize_per_tensor_dynamic_matches_torch(name, reduce_range):
    data = np.random.default_rng(6).standard_normal(100).astype("float32") * 3
    qt = torch.quantize_per_tensor_dynamic(torch.tensor(data), getattr(torch, name), reduce_range)
    qm = minigrad.quantize_per_tensor_dynamic(
        minigrad.tensor(data), getattr(minigrad, name), reduce_range
    )
    assert (qm.q_scale(), qm.q_zero_point()) == (qt.q_scale(), qt.q_zero_point())
    np.testing.assert_array_equal(qm.int_repr().numpy(), qt.int_repr().numpy())
