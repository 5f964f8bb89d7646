"""ONNX export: exported MLP, CNN, transformer encoder and LSTM run in onnxruntime and give
minigrad's outputs, for the traced batch size and another (a dynamic batch axis)."""

import io
import re

import numpy as np
import pytest

import minigrad
from minigrad import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
import minigrad.onnx  # noqa: E402
from minigrad.utils._tracing import flatten  # noqa: E402


def _export_and_compare(model, x, other_batch, **kwargs):
    model.eval()
    buffer = io.BytesIO()
    proto = minigrad.onnx.export(
        model, x, buffer, input_names=["x"], dynamic_axes={"x": {0: "batch"}}, **kwargs
    )
    session = ort.InferenceSession(buffer.getvalue())
    x2 = minigrad.randn(other_batch, *x.shape[1:])
    for inp in (x, x2):
        with minigrad.no_grad():
            expected = flatten(model(inp))
        got = session.run(None, {"x": inp.numpy()})
        assert len(got) == len(expected)
        for e, g in zip(expected, got):
            assert g.shape == tuple(e.shape)
            np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=1e-5)
    return proto


def test_mlp():
    minigrad.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 4)
    )
    proto = _export_and_compare(model, minigrad.randn(3, 8), 7)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {i.name for i in proto.graph.initializer} >= {"0.weight", "0.bias", "4.weight"}


def test_cnn_with_batchnorm_pooling_flatten():
    minigrad.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=2),
        nn.AvgPool2d(2, 1),
        nn.Flatten(),
        nn.Linear(8, 5),
        nn.LogSoftmax(-1),
    )
    bn = model[1]
    bn.running_mean.data.copy_(minigrad.randn(4))
    bn.running_var.data.copy_(minigrad.rand(4) + 0.5)
    _export_and_compare(model, minigrad.randn(2, 1, 12, 12), 5)


def test_reference_lenet_to_file(tmp_path):
    from minigrad.models import LeNet

    minigrad.manual_seed(2)
    path = tmp_path / "lenet.onnx"
    model = LeNet(image_size=8).eval()
    minigrad.onnx.export(model, minigrad.randn(1, 1, 8, 8), path)
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path))
    x = minigrad.randn(1, 1, 8, 8)
    with minigrad.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(session.run(None, {"input_0": x.numpy()})[0], expected, atol=1e-5)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer(activation):
    minigrad.manual_seed(3)
    layer = nn.TransformerEncoderLayer(
        16, 4, dim_feedforward=32, dropout=0.1, activation=activation, batch_first=True
    )
    _export_and_compare(layer, minigrad.randn(2, 5, 16), 6)


class _Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 10, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(20, 3)

    def forward(self, x):
        y, (h, c) = self.lstm(x)
        return self.head(y[:, -1]), h, c


def test_lstm():
    minigrad.manual_seed(4)
    proto = _export_and_compare(_Tagger(), minigrad.randn(2, 7, 6), 4)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 2


def test_lstm_cell_unrolled():
    minigrad.manual_seed(5)

    class Unrolled(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(4, 8)

        def forward(self, x):
            h = c = minigrad.zeros(x.shape[1], 8)
            for t in range(x.shape[0]):
                h, c = self.cell(x[t], (h, c))
            return h

    model = Unrolled().eval()
    x = minigrad.randn(3, 2, 4)
    buffer = io.BytesIO()
    minigrad.onnx.export(model, x, buffer)
    got = ort.InferenceSession(buffer.getvalue()).run(None, {"input_0": x.numpy()})[0]
    with minigrad.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), atol=1e-5)
    # Its zero state is made inside forward from the batch size: not exportable with a
    # dynamic batch axis, and said so (rather than baking in the traced batch size).
    with pytest.raises(NotImplementedError, match="depends on the dynamic axes"):
        minigrad.onnx.export(model, x, io.BytesIO(), dynamic_axes={"input_0": {1: "batch"}})


def test_reference_gpt_with_dynamic_batch():
    from minigrad.models import GPT

    minigrad.manual_seed(6)
    model = GPT(vocab_size=20, block_size=8, n_layer=2, n_head=2, n_embd=16).eval()
    idx = minigrad.randint(0, 20, (2, 8))
    buffer = io.BytesIO()
    minigrad.onnx.export(model, idx, buffer, input_names=["idx"], dynamic_axes={"idx": [0]})
    session = ort.InferenceSession(buffer.getvalue())
    for x in (idx, minigrad.randint(0, 20, (5, 8))):
        with minigrad.no_grad():
            expected = model(x).numpy()
        np.testing.assert_allclose(session.run(None, {"idx": x.numpy()})[0], expected, atol=1e-5)


def test_unsupported_op_names_it():
    class Loss(nn.Module):
        def forward(self, x):
            return nn.functional.cross_entropy(x, minigrad.tensor([0, 2]))

    with pytest.raises(NotImplementedError, match="op CrossEntropy has no ONNX conversion"):
        minigrad.onnx.export(Loss(), minigrad.randn(2, 3), io.BytesIO())


def test_bad_arguments():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="opset_version"):
        minigrad.onnx.export(model, minigrad.randn(1, 2), io.BytesIO(), opset_version=11)
    with pytest.raises(ValueError, match="dynamic_axes"):
        minigrad.onnx.export(model, minigrad.randn(1, 2), io.BytesIO(), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="names"):
        minigrad.onnx.export(model, minigrad.randn(1, 2), io.BytesIO(), input_names=["a", "b"])


# What an op without an ONNX export says: its name, and why (ops keep joining the table, so
# the test checks the message, not a list).
NAMED_REFUSAL = re.compile(
    r"^onnx export: (op \w+ has no ONNX conversion|\w+ with .+ is not supported"
    r"|a tensor used by (\w+|the output) was changed in place)"
)


def test_every_op_table_op_exports_or_names_itself():
    from minigrad.testing.op_db import OP_DB
    from minigrad.testing.samples import make_arrays

    ort.set_default_logger_severity(3)
    exported = 0
    for op in OP_DB:
        if getattr(op, "raises", None):  # rows that check an error, not a value
            continue
        arrays = make_arrays(op, 0)
        kwargs = op.samples[0].kwargs
        values = [
            minigrad.tensor(a.astype(np.float32) if a.dtype == np.float64 else a)
            if isinstance(a, np.ndarray)
            else a
            for a in arrays
        ]
        at = [k for k, v in enumerate(values) if isinstance(v, minigrad.Tensor)]

        def model(*tensors, values=values, at=at, op=op, kwargs=kwargs):
            full = list(values)
            for k, t in zip(at, tensors):
                full[k] = t
            return op.fn(minigrad, *full, **kwargs)

        inputs = tuple(values[k] for k in at)
        with minigrad.no_grad(), np.errstate(all="ignore"):
            expected = flatten(model(*inputs))
        if not inputs or not expected:
            continue
        buffer = io.BytesIO()
        try:
            with np.errstate(all="ignore"):  # the isfinite sample divides 0 by 0 on purpose
                minigrad.onnx.export(model, inputs, buffer)
        except NotImplementedError as e:
            assert NAMED_REFUSAL.match(str(e)), (op.name, str(e))
            continue
        session = ort.InferenceSession(buffer.getvalue())
        got = session.run(None, {f"input_{k}": t.numpy() for k, t in enumerate(inputs)})
        for e, g in zip(expected, got):
            np.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-5, err_msg=op.name)
        exported += 1
    assert exported > len(OP_DB) // 2


def test_lstm_with_given_state_and_dynamic_batch():
    minigrad.manual_seed(7)
    lstm = nn.LSTM(3, 5).eval()
    names = ["x", "h0", "c0"]
    dynamic = {n: {1: "batch"} for n in names}
    buffer = io.BytesIO()
    state = (minigrad.randn(1, 2, 5), minigrad.randn(1, 2, 5))
    args = (minigrad.randn(4, 2, 3), state)
    minigrad.onnx.export(lstm, args, buffer, input_names=names, dynamic_axes=dynamic)
    session = ort.InferenceSession(buffer.getvalue())
    for batch in (2, 3):
        x, h, c = (
            minigrad.randn(4, batch, 3),
            minigrad.randn(1, batch, 5),
            minigrad.randn(1, batch, 5),
        )
        with minigrad.no_grad():
            y, (h_n, c_n) = lstm(x, (h, c))
        got = session.run(None, {"x": x.numpy(), "h0": h.numpy(), "c0": c.numpy()})
        for e, g in zip((y, h_n, c_n), got):
            np.testing.assert_allclose(g, e.numpy(), atol=1e-5)


def test_a_model_in_training_mode_exports_in_eval_mode_and_keeps_its_modes():
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.BatchNorm1d(16), nn.Linear(16, 2))
    model.train()
    buffer = io.BytesIO()
    minigrad.onnx.export(  # PyTorch tutorials pass do_constant_folding and dynamo
        model, (minigrad.randn(4, 8),), buffer, input_names=["x"], do_constant_folding=True,
        dynamic_axes={"x": {0: "batch"}}, dynamo=False,
    )  # fmt: skip
    assert all(m.training for m in model.modules())
    x = minigrad.randn(5, 8)
    got = ort.InferenceSession(buffer.getvalue()).run(None, {"x": x.numpy()})[0]
    model.eval()
    with minigrad.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-5)
    model.train()
    with pytest.raises(NotImplementedError, match="dynamic axes"):  # dropout traced as it ran
        minigrad.onnx.export(
            model, (minigrad.randn(4, 8),), io.BytesIO(), input_names=["x"],
            dynamic_axes={"x": {0: "batch"}}, training=minigrad.onnx.TrainingMode.PRESERVE,
        )  # fmt: skip
    assert all(m.training for m in model.modules())


@pytest.mark.parametrize(
    "key",
    [
        (Ellipsis, slice(None), slice(1, 2)),
        (Ellipsis, 1, slice(None)),
        (0, Ellipsis, slice(1, None)),
    ],
    ids=["...,:,1:2", "...,1,:", "0,...,1:"],
)
def test_indexing_with_an_ellipsis(key):
    """The Ellipsis expands to the right number of full slices (it once dropped one more, so
    ``x[..., :, 1:2]`` sliced the first dim)."""

    class Index(minigrad.nn.Module):
        def forward(self, x):
            return x[key] * 1.0

    _export_and_compare(Index(), minigrad.randn(2, 4, 3), 3)
