"""ONNX export of GRU, global average pooling, nearest resizes and conv1d, and a sweep of small
models people export: each is exported by minigrad, run in onnxruntime (at the traced batch
size and at another one, through ``dynamic_axes``) and compared with minigrad's eager output,
and its node types are compared with those of PyTorch's TorchScript exporter (``dynamo=False``)
on the same model with the same weights."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

import minigrad

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _models(T):
    """Small models written once against a torch-like module ``T`` (minigrad or torch)."""
    nn, F = T.nn, T.nn.functional

    class ResBlock(nn.Module):
        def __init__(self, c=4):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)

        def forward(self, x):
            y = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(y)) + x)

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1 = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU())
            self.enc2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(4, 8, 3, padding=1), nn.ReLU())
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.dec = nn.Conv2d(12, 4, 3, padding=1)
            self.head = nn.Conv2d(4, 1, 1)

        def forward(self, x):
            a = self.enc1(x)
            y = self.dec(T.cat([self.up(self.enc2(a)), a], dim=1))
            return self.head(F.relu(y))

    class FunctionalUp(nn.Module):
        def forward(self, x):
            return F.interpolate(x, scale_factor=(2, 3), mode="nearest") * 2.0

    class Tagger(nn.Module):
        def __init__(self, rnn):
            super().__init__()
            self.emb = nn.Embedding(20, 6)
            self.rnn = rnn(6, 5, batch_first=True, bidirectional=True)
            self.out = nn.Linear(10, 3)

        def forward(self, tokens):
            h, _ = self.rnn(self.emb(tokens))
            return F.log_softmax(self.out(h), dim=-1)

    class GRUh0(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 4, num_layers=2)

        def forward(self, x, h0):
            return self.gru(x, h0)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.norm, self.fc2 = nn.Linear(8, 16), nn.LayerNorm(16), nn.Linear(16, 4)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            return self.fc2(self.drop(F.gelu(self.norm(self.fc1(x)))))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                nn.AdaptiveAvgPool2d((1, 1)),
            )  # fmt: skip
            self.fc = nn.Linear(8, 5)

        def forward(self, x):
            return self.fc(T.flatten(self.features(x), 1))

    class BagOfEmbeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.fc = nn.Embedding(30, 8), nn.Linear(8, 2)

        def forward(self, tokens):
            return self.fc(self.emb(tokens).mean(dim=1))

    class MaskedAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(8, 24), nn.Linear(8, 8)

        def forward(self, x, mask):
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            s = q @ k.transpose(-2, -1) / math.sqrt(8)
            s = s.masked_fill(mask.unsqueeze(1) == 0, float("-inf"))
            return self.proj(T.softmax(s, dim=-1) @ v)

    class PaddedMHA(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x, pad):
            return self.mha(x, x, x, key_padding_mask=pad, need_weights=False)[0]

    class Conv1dPool(nn.Module):
        def __init__(self):
            super().__init__()
            self.c, self.pool = nn.Conv1d(3, 4, 3, padding=1), nn.AdaptiveAvgPool1d(1)

        def forward(self, x):
            return self.pool(F.silu(self.c(x))).squeeze(-1)

    class GlobalMean(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 4, 1)

        def forward(self, x):
            return self.c(x).mean((2, 3))

    class TextCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.conv = nn.Embedding(25, 6), nn.Conv1d(6, 8, 3, padding=1)
            self.bn, self.fc = nn.BatchNorm1d(8), nn.Linear(8, 2)

        def forward(self, tokens):
            h = F.relu(self.bn(self.conv(self.emb(tokens).transpose(1, 2))))
            return self.fc(h.amax(dim=2))

    def encoder_layer():
        return nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, dropout=0.0)

    def lstm():
        return nn.LSTM(3, 4, num_layers=2, bidirectional=True)

    return {  # name: (maker, inputs: (kind, shape[, high]), batch axis)
        "resblock": (ResBlock, [("f", (2, 4, 6, 6))], 0),
        "unet": (UNet, [("f", (1, 2, 8, 8))], 0),
        "interpolate": (FunctionalUp, [("f", (1, 2, 3, 4))], 0),
        "gru_tagger": (lambda: Tagger(nn.GRU), [("i", (2, 5), 20)], 0),
        "lstm_tagger": (lambda: Tagger(nn.LSTM), [("i", (2, 5), 20)], 0),
        "gru_h0": (GRUh0, [("f", (5, 2, 3)), ("f", (2, 2, 4))], 1),
        "mlp_layernorm_gelu": (MLP, [("f", (3, 8))], 0),
        "cnn_batchnorm": (CNN, [("f", (2, 3, 12, 12))], 0),
        "embedding_mean": (BagOfEmbeddings, [("i", (3, 7), 30)], 0),
        "masked_attention": (MaskedAttention, [("f", (2, 4, 8)), ("m", (2, 4, 4))], 0),
        "mha_padding_mask": (PaddedMHA, [("f", (2, 5, 8)), ("p", (2, 5))], 0),
        "encoder_layer": (encoder_layer, [("f", (2, 5, 8))], 0),
        "conv1d_pool": (Conv1dPool, [("f", (2, 3, 9))], 0),
        "global_mean": (GlobalMean, [("f", (2, 3, 5, 5))], 0),
        "lstm": (lstm, [("f", (4, 2, 3))], 1),
        "textcnn": (TextCNN, [("i", (2, 7), 25)], 0),
    }


# PyTorch's exporter writes the same node types (less its Constant nodes) for these; the
# others differ where it computes shapes at run time (chunk, the LSTM/GRU zero state as a
# Shape/Expand chain, MultiheadAttention's reshapes), or (the encoder layer) cannot export.
SAME_OPS_AS_PYTORCH = {
    "unet", "interpolate", "gru_h0", "mlp_layernorm_gelu", "cnn_batchnorm", "embedding_mean",
    "conv1d_pool", "global_mean", "textcnn",
}  # fmt: skip

MODELS = _models(minigrad)


def _inputs(spec, batch_axis, extra, rng):
    out = []
    for kind, shape, *high in spec:
        shape = tuple(n + extra if i == batch_axis else n for i, n in enumerate(shape))
        if kind == "f":
            out.append(rng.standard_normal(shape).astype(np.float32))
        elif kind == "i":
            out.append(rng.integers(0, high[0], shape).astype(np.int64))
        elif kind == "m":  # an attention mask letting each query see the first key at least
            mask = (rng.random(shape) > 0.3).astype(np.int64)
            mask[..., 0] = 1
            out.append(mask)
        else:  # a key padding mask: the last two keys of the first sample are padding
            pad = np.zeros(shape, bool)
            pad[0, -2:] = True
            out.append(pad)
    return out


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flat(v)]
    return [value]


def _export(lib, model, arrays, **kwargs):
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the legacy exporter's DeprecationWarning)
        lib.onnx.export(model, tuple(arrays), f, dynamo=False, **kwargs)
    return f.getvalue()


def _run(model_bytes, names, arrays):
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, arrays)))


def _eager(model, arrays):
    with minigrad.no_grad():
        return [t.numpy() for t in _flat(model(*[minigrad.tensor(a) for a in arrays]))]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_small_models_run_in_onnxruntime_as_eager_at_two_batch_sizes(name):
    make, spec, batch_axis = MODELS[name]
    minigrad.manual_seed(0)
    model = make().eval()
    rng = np.random.default_rng(0)
    arrays = _inputs(spec, batch_axis, 0, rng)
    names = [f"in{i}" for i in range(len(arrays))]
    tensors = [minigrad.tensor(a) for a in arrays]
    data = _export(minigrad, model, tensors, input_names=names,
                   dynamic_axes={n: {batch_axis: "batch"} for n in names})  # fmt: skip
    for extra in (0, 2):
        more = arrays if extra == 0 else _inputs(spec, batch_axis, extra, rng)
        for got, want in zip(_run(data, names, more), _eager(model, more)):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(SAME_OPS_AS_PYTORCH))
def test_node_types_match_pytorchs_exporter(name):
    torch = pytest.importorskip("torch")
    make, spec, batch_axis = MODELS[name]
    minigrad.manual_seed(0)
    model = make().eval()
    theirs = _models(torch)[name][0]().eval()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    arrays = _inputs(spec, batch_axis, 0, np.random.default_rng(0))
    ours = onnx.load_from_string(_export(minigrad, model, [minigrad.tensor(a) for a in arrays]))
    ref = onnx.load_from_string(_export(torch, theirs, [torch.from_numpy(a) for a in arrays]))
    assert [n.op_type for n in ours.graph.node] == [
        n.op_type for n in ref.graph.node if n.op_type != "Constant"
    ]
    assert ours.opset_import[0].version == ref.opset_import[0].version == 20
    assert ours.ir_version == ref.ir_version


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


@pytest.mark.parametrize("batch_first", [False, True])
def test_gru_node_reorders_gates_resets_after_the_linear_map_and_takes_h0(batch_first):
    minigrad.manual_seed(1)
    gru = minigrad.nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = minigrad.randn(*((2, 5, 3) if batch_first else (5, 2, 3)))
    h0 = minigrad.randn(4, 2, 4)
    data = _export(minigrad, gru, [x, h0], input_names=["x", "h0"])
    graph = onnx.load_from_string(data).graph
    grus = [n for n in graph.node if n.op_type == "GRU"]
    assert len(grus) == 2
    for node in grus:
        attrs = _attrs(node)
        assert attrs["linear_before_reset"] == 1 and attrs["direction"] == b"bidirectional"
    # ONNX's W is [z r h] where PyTorch's weight_ih is [r z n]
    w = onnx.numpy_helper.to_array(next(t for t in graph.initializer if t.name == grus[0].input[1]))
    np.testing.assert_array_equal(w[0, :4], gru.weight_ih_l0.detach().numpy()[4:8])
    out, h_n = _run(data, ["x", "h0"], [x.numpy(), h0.numpy()])
    want_out, want_h = _eager(gru, [x.numpy(), h0.numpy()])
    np.testing.assert_allclose(out, want_out, atol=1e-6)
    np.testing.assert_allclose(h_n, want_h, atol=1e-6)


def test_nearest_resize_has_pytorchs_attributes_and_one_node_for_all_dims():
    up = minigrad.nn.Upsample(scale_factor=2)
    graph = onnx.load_from_string(_export(minigrad, up, [minigrad.randn(1, 2, 3, 4, 5)])).graph
    (node,) = graph.node
    assert node.op_type == "Resize" and node.input[1] == ""
    assert _attrs(node) == {
        "coordinate_transformation_mode": b"asymmetric",
        "cubic_coeff_a": -0.75,
        "mode": b"nearest",
        "nearest_mode": b"floor",
    }
    scales = next(t for t in graph.initializer if t.name == node.input[2])
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(scales), [1, 1, 2, 2, 2])


@pytest.mark.parametrize(
    "kwargs, shape, nodes",
    [
        ({"size": (6, 10)}, (1, 2, 4, 4), ["Resize"]),
        ({"size": (7, 5)}, (1, 2, 3, 4), ["Gather", "Resize"]),  # 7/3 is no float32 factor
        ({"scale_factor": 1.5}, (1, 2, 5, 4), ["Gather", "Resize"]),
    ],
)
def test_resizes_a_factor_cannot_express_are_gathers_of_rows(kwargs, shape, nodes):
    class Resize(minigrad.nn.Module):
        def forward(self, x):
            return minigrad.nn.functional.interpolate(x, **kwargs)

    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    data = _export(minigrad, Resize(), [minigrad.tensor(x)], input_names=["x"])
    assert [n.op_type for n in onnx.load_from_string(data).graph.node] == nodes
    np.testing.assert_array_equal(_run(data, ["x"], [x])[0], _eager(Resize(), [x])[0])


def test_resize_with_dynamic_height_and_width_and_a_fixed_size_that_cannot_be():
    up = minigrad.nn.Upsample(scale_factor=2)
    x = minigrad.randn(1, 2, 4, 6)
    data = _export(minigrad, up, [x], input_names=["x"],
                   dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}})  # fmt: skip
    x2 = np.random.default_rng(3).standard_normal((2, 2, 3, 5)).astype(np.float32)
    np.testing.assert_array_equal(_run(data, ["x"], [x2])[0], _eager(up, [x2])[0])
    fixed = minigrad.nn.Upsample(size=8)
    with pytest.raises(NotImplementedError, match="change with the dynamic axes"):
        _export(minigrad, fixed, [minigrad.randn(1, 2, 4)], input_names=["x"],
                dynamic_axes={"x": {2: "length"}})  # fmt: skip


def test_conv1d_is_one_conv_with_or_without_folding_and_unbatched_global_pool():
    minigrad.manual_seed(3)
    model = minigrad.nn.Sequential(minigrad.nn.Conv1d(3, 4, 3, stride=2, padding=2, dilation=2))
    x = np.random.default_rng(4).standard_normal((2, 3, 11)).astype(np.float32)
    for fold in (True, False):
        data = _export(minigrad, model, [minigrad.tensor(x)], do_constant_folding=fold)
        (node,) = onnx.load_from_string(data).graph.node
        assert node.op_type == "Conv" and _attrs(node)["pads"] == [2, 2]
        assert _attrs(node)["strides"] == [2] and _attrs(node)["dilations"] == [2]
        np.testing.assert_allclose(_run(data, ["input_0"], [x])[0], _eager(model, [x])[0],
                                   atol=1e-6)  # fmt: skip
    pool = minigrad.nn.AdaptiveAvgPool2d(1)
    y = np.random.default_rng(5).standard_normal((3, 4, 5)).astype(np.float32)
    data = _export(minigrad, pool, [minigrad.tensor(y)])
    ops = [n.op_type for n in onnx.load_from_string(data).graph.node]
    assert ops == ["Unsqueeze", "GlobalAveragePool", "Squeeze"]
    np.testing.assert_allclose(_run(data, ["input_0"], [y])[0], _eager(pool, [y])[0], atol=1e-6)


def test_index_select_with_an_index_input_is_a_gather():
    class Pick(minigrad.nn.Module):
        def forward(self, x, index):
            return x.index_select(1, index) * 2

    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    index = np.array([3, 0, 0], np.int64)
    data = _export(minigrad, Pick(), [minigrad.tensor(x), minigrad.tensor(index)],
                   input_names=["x", "i"])  # fmt: skip
    assert [n.op_type for n in onnx.load_from_string(data).graph.node] == ["Gather", "Mul"]
    np.testing.assert_array_equal(_run(data, ["x", "i"], [x, index])[0], x[:, index] * 2)
