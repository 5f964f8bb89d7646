"""ONNX export graphs read like PyTorch's: constant folding, Conv+BatchNorm fusion,
LayerNormalization, ReduceMean, no trailing Identity; the legacy-exporter warning."""

import collections
import warnings

import numpy as np
import pytest

import minigrad

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _model(lib, norm="bn"):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.bn = nn.BatchNorm2d(4)
            self.ln = nn.LayerNorm(4)
            self.drop = nn.Dropout(0.1)
            self.fc = nn.Linear(4, 5)

        def forward(self, x):
            x = self.bn(self.conv(x)).relu().mean((2, 3))
            return self.fc(self.drop(self.ln(x))).softmax(-1)

    net = Net()
    with lib.no_grad():  # running statistics that are not the identity
        net.bn.running_mean.copy_(lib.linspace(-1, 1, 4))
        net.bn.running_var.copy_(lib.linspace(0.5, 2, 4))
    return net.eval()


def _export(lib, model, x, path, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lib.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"],
                        dynamic_axes={"x": {0: "batch"}}, opset_version=17, dynamo=False,
                        **kw)  # fmt: skip
    ops = collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node)
    return ops, [w for w in caught if w.category is DeprecationWarning]


def test_eval_export_folds_batch_norm_and_matches_pytorch_graph(tmp_path):
    torch = pytest.importorskip("torch")
    minigrad.manual_seed(0)
    model = _model(minigrad)
    x = minigrad.randn(2, 3, 6, 6)
    ops, legacy = _export(minigrad, model, x, tmp_path / "m.onnx")
    tm = _model(torch)
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    torch_ops, _ = _export(torch, tm, torch.tensor(x.numpy()), tmp_path / "t.onnx")
    assert ops == torch_ops
    assert ops == {"Conv": 1, "Relu": 1, "ReduceMean": 1, "LayerNormalization": 1, "Gemm": 1,
                   "Softmax": 1}  # fmt: skip
    assert len(legacy) == 1 and "legacy TorchScript-based ONNX export" in str(legacy[0].message)
    assert legacy[0].filename == __file__
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    for batch in (x, minigrad.randn(3, 3, 6, 6)):
        (y,) = session.run(None, {"x": batch.numpy()})
        np.testing.assert_allclose(y, model(batch).detach().numpy(), atol=1e-5)


def test_training_export_or_no_folding_keeps_the_batch_norm_arithmetic(tmp_path):
    minigrad.manual_seed(0)
    model, x = _model(minigrad), minigrad.randn(2, 3, 6, 6)
    ops, _ = _export(minigrad, model, x, tmp_path / "m.onnx", do_constant_folding=False)
    assert ops["Conv"] == 1 and ops["Mul"] >= 1 and "Identity" not in ops
    (y,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x": x.numpy()})
    np.testing.assert_allclose(y, model(x).detach().numpy(), atol=1e-5)


def test_dynamo_true_traces_without_the_legacy_warning(tmp_path):
    model = minigrad.nn.Linear(2, 3).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minigrad.onnx.export(model, (minigrad.randn(1, 2),), str(tmp_path / "l.onnx"))
    ops = [n.op_type for n in onnx.load(str(tmp_path / "l.onnx")).graph.node]
    assert ops == ["Gemm"]


def test_an_input_returned_as_output_still_goes_through_identity(tmp_path):
    class Both(minigrad.nn.Module):
        def forward(self, x):
            return x, x.relu()

    x = minigrad.randn(2, 3)
    minigrad.onnx.export(Both(), (x,), str(tmp_path / "b.onnx"), output_names=["a", "b"])
    ops = [n.op_type for n in onnx.load(str(tmp_path / "b.onnx")).graph.node]
    assert sorted(ops) == ["Identity", "Relu"]
    a, b = ort.InferenceSession(str(tmp_path / "b.onnx")).run(None, {"input_0": x.numpy()})
    np.testing.assert_array_equal(a, x.numpy())
    np.testing.assert_array_equal(b, x.relu().numpy())


def _ops_and_max_diff(model, x, path):
    minigrad.onnx.export(model, (x,), str(path))
    ops = collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node)
    (y,) = ort.InferenceSession(str(path)).run(None, {"input_0": x.numpy()})
    return ops, float(np.abs(y - model(x).detach().numpy()).max())


def test_flatten_after_pooling_is_an_onnx_flatten(tmp_path):
    nn = minigrad.nn
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 3 * 3, 2)).eval()  # fmt: skip
    ops, diff = _ops_and_max_diff(model, minigrad.randn(2, 3, 8, 8), tmp_path / "c.onnx")
    assert ops == {"Conv": 1, "Relu": 1, "MaxPool": 1, "Flatten": 1, "Gemm": 1}  # PyTorch's
    assert diff < 1e-5


def test_group_and_instance_norm_export_as_instance_normalization(tmp_path):
    nn = minigrad.nn
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True)).eval()
    with minigrad.no_grad():
        for p in model.parameters():
            p.copy_(minigrad.randn(*p.shape))
    ops, diff = _ops_and_max_diff(model, minigrad.randn(2, 4, 5, 5), tmp_path / "n.onnx")
    assert ops["InstanceNormalization"] == 2 and "ReduceMean" not in ops
    assert diff < 1e-5


class _ScaledGelu(minigrad.nn.Module):
    def __init__(self, approximate):
        super().__init__()
        self.ln, self.gelu = minigrad.nn.LayerNorm(4, bias=False), minigrad.nn.GELU(approximate)

    def forward(self, x):
        return self.gelu(self.ln(x * x.mean(1, keepdim=True)))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_opsets_18_and_20_reduce_axes_as_inputs_and_gelu_as_one_node(tmp_path, approximate):
    minigrad.manual_seed(0)
    model, x = _ScaledGelu(approximate).eval(), minigrad.randn(2, 4)
    for opset, gelu in ((18, "Erf" if approximate == "none" else "Tanh"), (20, "Gelu")):
        path = str(tmp_path / f"g{opset}.onnx")
        minigrad.onnx.export(model, (x,), path, opset_version=opset)
        ops = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
        assert ops["LayerNormalization"] == ops["ReduceMean"] == ops[gelu] == 1
        (y,) = ort.InferenceSession(path).run(None, {"input_0": x.numpy()})
        np.testing.assert_allclose(y, model(x).detach().numpy(), atol=1e-5)


def test_opset_13_decomposes_layer_norm_and_names_ops_it_lacks(tmp_path):
    minigrad.manual_seed(0)
    model, x = _ScaledGelu("none").eval(), minigrad.randn(2, 4)
    path = str(tmp_path / "g13.onnx")
    minigrad.onnx.export(model, (x,), path, opset_version=13)
    ops = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
    assert "LayerNormalization" not in ops and ops["Sqrt"] == 1 and ops["Erf"] == 1
    (y,) = ort.InferenceSession(path).run(None, {"input_0": x.numpy()})
    np.testing.assert_allclose(y, model(x).detach().numpy(), atol=1e-5)

    class Tril(minigrad.nn.Module):
        def forward(self, x):
            return x.tril()

    with pytest.raises(NotImplementedError, match="Trilu needs opset_version 14 or later, got 13"):
        minigrad.onnx.export(Tril(), (minigrad.randn(3, 3),), path, opset_version=13)
    with pytest.raises(ValueError, match="opset_version must be 13 or later, got 12"):
        minigrad.onnx.export(Tril(), (minigrad.randn(3, 3),), path, opset_version=12)


@pytest.mark.parametrize("affine", [True, False])
def test_training_export_batch_norm_uses_batch_statistics(tmp_path, affine):
    minigrad.manual_seed(0)
    model, x = minigrad.nn.BatchNorm1d(4, affine=affine), minigrad.randn(5, 4, 3)
    if affine:
        with minigrad.no_grad():
            model.weight.copy_(minigrad.randn(4))
    path = str(tmp_path / "t.onnx")
    minigrad.onnx.export(model, (x,), path, training=minigrad.onnx.TrainingMode.TRAINING)
    ops = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
    assert (ops["BatchNormalization"] == 1) == affine
    (y,) = ort.InferenceSession(path).run(None, {"input_0": x.numpy()})
    np.testing.assert_allclose(y, model.train()(x).detach().numpy(), atol=1e-5)


def test_a_convolution_that_is_also_an_output_is_not_fused(tmp_path):
    class Both(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = minigrad.nn.Conv2d(2, 3, 1), minigrad.nn.BatchNorm2d(3)

        def forward(self, x):
            y = self.conv(x)
            return y, self.bn(y)

    minigrad.manual_seed(0)
    model, x = Both().eval(), minigrad.randn(1, 2, 3, 3)
    path = str(tmp_path / "b.onnx")
    minigrad.onnx.export(model, (x,), path)
    outs = ort.InferenceSession(path).run(None, {"input_0": x.numpy()})
    for got, want in zip(outs, model(x)):
        np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-5)


def test_preserve_folds_a_model_in_eval_mode_only(tmp_path):
    nn, path = minigrad.nn, str(tmp_path / "p.onnx")
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    for training, expected in ((False, {"Conv": 1}), (True, {"Conv", "BatchNormalization"})):
        model.train(training)
        minigrad.onnx.export(model, (minigrad.randn(2, 3, 5, 5),), path,
                             training=minigrad.onnx.TrainingMode.PRESERVE)  # fmt: skip
        ops = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
        assert ops == expected if training is False else expected <= set(ops)
