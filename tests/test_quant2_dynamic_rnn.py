"""Dynamic quantization of recurrent layers (qint8 and float16) and float16 dynamic Linear,
compared with PyTorch's ``quantize_dynamic`` (FBGEMM kernels) on the same weights."""

import numpy as np
import pytest

import minigrad
from minigrad import nn

torch = pytest.importorskip("torch")

_QDTYPES = [(torch.qint8, minigrad.qint8), (torch.float16, minigrad.float16)]


def _pair(build):
    net_t, net_m = build(torch.nn), build(nn)
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in net_t.state_dict().items()}
    net_m.load_state_dict(state)
    return net_t, net_m


def _quantize(build, kind, dtypes):
    net_t, net_m = _pair(build)
    qt = torch.ao.quantization.quantize_dynamic(net_t, {getattr(torch.nn, kind)}, dtype=dtypes[0])
    qm = minigrad.ao.quantization.quantize_dynamic(net_m, {getattr(nn, kind)}, dtype=dtypes[1])
    assert repr(qm) == repr(qt).replace("torch.", "minigrad.")
    return qt, qm


def _data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32") * 2


@pytest.mark.parametrize("dtypes", _QDTYPES, ids=["qint8", "float16"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("deep", [False, True], ids=["plain", "deep"])
def test_dynamic_rnn_matches_torch(kind, deep, dtypes):
    kw = dict(num_layers=2, bidirectional=True, batch_first=True) if deep else {}
    qt, qm = _quantize(lambda n: n.Sequential(getattr(n, kind)(6, 8, **kw)), kind, dtypes)
    x = _data(5, 3, 6)
    out_t, state_t = qt(torch.tensor(x))
    out_m, state_m = qm(minigrad.tensor(x))
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), atol=2e-6)
    for a, b in zip(
        state_m if kind == "LSTM" else [state_m], state_t if kind == "LSTM" else [state_t]
    ):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=2e-6)
    lengths = [3, 3, 2, 2, 1] if deep else [5, 3, 2]
    pack_t = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=deep)
    pack_m = nn.utils.rnn.pack_padded_sequence(minigrad.tensor(x), lengths, batch_first=deep)
    packed_t, _ = qt(pack_t)
    packed_m, _ = qm(pack_m)
    np.testing.assert_allclose(
        packed_m.data.detach().numpy(), packed_t.data.detach().numpy(), atol=2e-6
    )


@pytest.mark.parametrize("dtypes", _QDTYPES, ids=["qint8", "float16"])
@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_dynamic_cells_match_torch(kind, dtypes):
    qt, qm = _quantize(lambda n: n.Sequential(getattr(n, kind)(6, 8)), kind, dtypes)
    x, h = _data(3, 6), _data(3, 8, seed=1)
    if kind == "LSTMCell":
        out_t = qt[0](torch.tensor(x), (torch.tensor(h), torch.tensor(h)))
        out_m = qm[0](minigrad.tensor(x), (minigrad.tensor(h), minigrad.tensor(h)))
    else:
        out_t, out_m = (
            qt[0](torch.tensor(x), torch.tensor(h)),
            qm[0](minigrad.tensor(x), minigrad.tensor(h)),
        )
    for a, b in zip(
        out_m if kind == "LSTMCell" else [out_m], out_t if kind == "LSTMCell" else [out_t]
    ):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=2e-6)


def test_dynamic_lstm_weights_and_float16_linear():
    qt, qm = _quantize(lambda n: n.Sequential(n.LSTM(4, 5)), "LSTM", _QDTYPES[0])
    weight = qm[0].get_weight()["weight_ih_l0"]
    assert weight.int_repr().numpy().dtype == np.int8
    assert weight.qscheme() is minigrad.per_tensor_affine and weight.q_zero_point() == 0
    qt, qm = _quantize(lambda n: n.Sequential(n.Linear(6, 3)), "Linear", _QDTYPES[1])
    x = _data(4, 6)
    np.testing.assert_allclose(
        qm(minigrad.tensor(x)).detach().numpy(), qt(torch.tensor(x)).detach().numpy(), atol=2e-6
    )
    with pytest.raises(AssertionError, match="nn.LSTM"):
        minigrad.ao.nn.quantized.dynamic.LSTM.from_float(nn.GRU(2, 2))
    with pytest.raises(NotImplementedError, match="proj_size"):
        minigrad.ao.nn.quantized.dynamic.LSTM.from_float(nn.LSTM(4, 5, proj_size=2))


@pytest.mark.parametrize("dtype", [minigrad.qint8, minigrad.float16], ids=["qint8", "float16"])
def test_dynamic_state_dict_round_trip(dtype):
    def build():
        return nn.Sequential(nn.LSTM(4, 5, num_layers=2, bidirectional=True), nn.GRUCell(4, 5))

    saved = minigrad.ao.quantization.quantize_dynamic(build(), dtype=dtype)
    loaded = minigrad.ao.quantization.quantize_dynamic(build(), dtype=dtype)
    loaded.load_state_dict(saved.state_dict())
    x = minigrad.randn(3, 2, 4)
    np.testing.assert_array_equal(loaded[0](x)[0].numpy(), saved[0](x)[0].numpy())
    np.testing.assert_array_equal(loaded[1](x[0]).numpy(), saved[1](x[0]).numpy())
    with pytest.raises(RuntimeError, match="3 dimensions"):
        saved[0](x[0])


@pytest.mark.parametrize("kind", ["LSTM", "GRUCell"])
def test_per_channel_dynamic_rnn_matches_torch_and_round_trips(kind):
    net_t, net_m = _pair(lambda n: n.Sequential(getattr(n, kind)(4, 5)))
    spec_t = {getattr(torch.nn, kind): torch.ao.quantization.per_channel_dynamic_qconfig}
    spec_m = {getattr(nn, kind): minigrad.ao.quantization.per_channel_dynamic_qconfig}
    qt = torch.ao.quantization.quantize_dynamic(net_t, spec_t)
    qm = minigrad.ao.quantization.quantize_dynamic(net_m, spec_m)
    x = _data(2, 3, 4) if kind == "LSTM" else _data(3, 4)
    out_t, out_m = qt(torch.tensor(x)), qm(minigrad.tensor(x))
    out_t, out_m = (out_t[0], out_m[0]) if kind == "LSTM" else (out_t, out_m)
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), atol=2e-6)
    fresh = minigrad.ao.quantization.quantize_dynamic(
        nn.Sequential(getattr(nn, kind)(4, 5)), spec_m
    )
    fresh.load_state_dict(qm.state_dict())
    again = fresh(minigrad.tensor(x))
    again = again[0] if kind == "LSTM" else again
    np.testing.assert_array_equal(again.numpy(), out_m.numpy())


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_made_directly_and_training_mode_as_torch(kind):
    """A dynamic recurrent layer made directly holds PyTorch's stand-in weights (the same
    draws from the global generator) and starts in eval mode; ``quantize_dynamic`` keeps the
    layers in eval mode, and after ``.train()`` dropout between layers draws as PyTorch's."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        lib.manual_seed(0)
        made = getattr(lib.ao.nn.quantized.dynamic, kind)(2, 3, num_layers=2, bidirectional=True)
        x = lib.randn(4, 1, 2)
        float_model = lib.nn.Sequential(getattr(lib.nn, kind)(2, 4, num_layers=2, dropout=0.5))
        q = lib.ao.quantization.quantize_dynamic(float_model.eval(), {getattr(lib.nn, kind)})
        q_eval, q_training = q(x)[0], q[0].training
        q.train()
        lib.manual_seed(3)
        q_train = q(x)[0]
        results.append(
            (made.training, q_training, made(x)[0].detach().numpy(), q_eval.numpy(),
             q_train.numpy())
        )  # fmt: skip
    (m_made, m_q, *m_out), (t_made, t_q, *t_out) = results
    assert m_made is t_made is False and m_q is t_q is False
    for mine, theirs in zip(m_out, t_out):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
