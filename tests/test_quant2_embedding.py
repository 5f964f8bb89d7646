"""Quantized Embedding and EmbeddingBag (quint8 / quint4x2 rows with float qparams) through
prepare/convert and quantize_dynamic, compared with PyTorch's on the same tables."""

import numpy as np
import pytest

import minigrad
from minigrad import nn

torch = pytest.importorskip("torch")
tq = pytest.importorskip("torch.ao.quantization")
mq = minigrad.ao.quantization


def _pair(build):
    net_t, net_m = build(torch.nn), build(nn)
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in net_t.state_dict().items()}
    net_m.load_state_dict(state)
    return net_t, net_m


def _convert(build, four_bit=False):
    net_t, net_m = _pair(build)
    name = "float_qparams_weight_only_qconfig" + ("_4bit" if four_bit else "")
    qconfig_t = getattr(tq.qconfig, name)
    net_t[0].qconfig, net_m[0].qconfig = qconfig_t, getattr(mq, name)
    qt, qm = tq.convert(tq.prepare(net_t.eval())), mq.convert(mq.prepare(net_m.eval()))
    assert repr(qm) == repr(qt).replace("torch.", "minigrad.")
    return qt, qm


def test_quantized_embedding_matches_torch():
    qt, qm = _convert(lambda n: n.Sequential(n.Embedding(12, 7)))
    weight_t, weight_m = qt[0].weight(), qm[0].weight()
    np.testing.assert_array_equal(weight_m.int_repr().numpy(), weight_t.int_repr().numpy())
    np.testing.assert_array_equal(
        weight_m.q_per_channel_zero_points().numpy(),
        weight_t.q_per_channel_zero_points().numpy(),
    )
    np.testing.assert_array_equal(weight_m.dequantize().numpy(), weight_t.dequantize().numpy())
    idx = np.array([[0, 3, 11], [5, 5, 2]])
    out_t = qt(torch.tensor(idx)).numpy()
    out_m = qm(minigrad.tensor(idx)).numpy()
    np.testing.assert_array_equal(out_m, out_t)
    with pytest.raises(IndexError, match="out of range"):
        qm(minigrad.tensor([12]))


@pytest.mark.parametrize("four_bit", [False, True], ids=["quint8", "quint4x2"])
@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_quantized_embedding_bag_matches_torch(four_bit, mode):
    qt, qm = _convert(lambda n: n.Sequential(n.EmbeddingBag(10, 8, mode=mode)), four_bit)
    idx, offsets = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3])
    weights = np.random.default_rng(0).random(8).astype("float32")
    out_t = qt[0](torch.tensor(idx), torch.tensor(offsets)).numpy()
    out_m = qm[0](minigrad.tensor(idx), minigrad.tensor(offsets)).numpy()
    np.testing.assert_array_equal(out_m, out_t)
    out_t = qt[0](torch.tensor(idx), torch.tensor(offsets), torch.tensor(weights)).numpy()
    out_m = qm[0](minigrad.tensor(idx), minigrad.tensor(offsets), minigrad.tensor(weights))
    np.testing.assert_array_equal(out_m.numpy(), out_t)


def test_embedding_bag_last_offset_and_dynamic_and_errors():
    def build(n):
        return n.Sequential(n.EmbeddingBag(6, 4, mode="sum", include_last_offset=True))

    net_t, net_m = _pair(build)
    qt = tq.quantize_dynamic(net_t, {torch.nn.EmbeddingBag: tq.float_qparams_weight_only_qconfig})
    qm = mq.quantize_dynamic(net_m, {nn.EmbeddingBag: mq.float_qparams_weight_only_qconfig})
    idx, offsets = np.array([0, 5, 2, 1, 3]), np.array([0, 2, 4])
    out_t = qt[0](torch.tensor(idx), torch.tensor(offsets)).numpy()
    out_m = qm[0](minigrad.tensor(idx), minigrad.tensor(offsets)).numpy()
    np.testing.assert_array_equal(out_m, out_t)
    plain = nn.Sequential(nn.Embedding(4, 3))
    plain[0].qconfig = mq.default_qconfig
    with pytest.raises(AssertionError, match="float_qparams_weight_only_qconfig"):
        mq.convert(mq.prepare(plain))


def test_quantized_embedding_state_dict_round_trip():
    def build():
        bag = nn.EmbeddingBag(6, 4, mode="sum")
        bag.qconfig = mq.float_qparams_weight_only_qconfig_4bit
        return nn.Sequential(bag)

    saved, loaded = mq.convert(mq.prepare(build())), mq.convert(mq.prepare(build()))
    loaded.load_state_dict(saved.state_dict())
    idx, offsets = minigrad.tensor([0, 5, 2, 1]), minigrad.tensor([0, 2])
    np.testing.assert_array_equal(loaded[0](idx, offsets).numpy(), saved[0](idx, offsets).numpy())
    assert loaded[0].weight().dtype is minigrad.quint4x2


@pytest.mark.parametrize("four_bit", [False, True], ids=["quint8", "quint4x2"])
def test_quantize_dynamic_embedding_dtypes_match_torch(four_bit):
    net_t, net_m = _pair(lambda n: n.Sequential(n.EmbeddingBag(7, 4, mode="sum")))
    dtype_t, dtype_m = (
        (torch.quint4x2, minigrad.quint4x2) if four_bit else (torch.quint8, minigrad.quint8)
    )
    qt, qm = tq.quantize_dynamic(net_t, dtype=dtype_t), mq.quantize_dynamic(net_m, dtype=dtype_m)
    assert repr(qm) == repr(qt).replace("torch.", "minigrad.")
    idx, offsets = np.array([0, 6, 2, 1, 3]), np.array([0, 2])
    out_t = qt[0](torch.tensor(idx), torch.tensor(offsets)).numpy()
    np.testing.assert_array_equal(
        qm[0](minigrad.tensor(idx), minigrad.tensor(offsets)).numpy(), out_t
    )
    with pytest.raises(RuntimeError, match="Unknown dtype"):
        mq.quantize_dynamic(net_m, {nn.Linear}, dtype=minigrad.qint32)
