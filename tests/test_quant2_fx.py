"""FX graph mode quantization (prepare_fx / prepare_qat_fx / convert_fx) compared with
PyTorch's on the same weights and calibration data: observer placement, fusion, qparams and
the converted model's outputs."""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad.ao.quantization import QConfigMapping, get_default_qconfig_mapping
from minigrad.ao.quantization import quantize_fx as mfx

torch = pytest.importorskip("torch")
tq = pytest.importorskip("torch.ao.quantization")
tfx = pytest.importorskip("torch.ao.quantization.quantize_fx")


def _branchy(t):
    nn = t.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.relu = (
                nn.Conv2d(3, 4, 3, padding=1),
                nn.BatchNorm2d(4),
                nn.ReLU(),
            )
            self.conv2 = nn.Conv2d(3, 4, 3, padding=1)
            self.fc, self.act, self.fc2 = nn.Linear(4 * 2 * 6 * 6, 10), nn.ReLU(), nn.Linear(10, 5)

        def forward(self, x):
            y = self.relu(self.bn(self.conv(x)))
            z = self.conv2(x)
            w = t.relu(y + z)
            c = t.flatten(t.cat([y, z], 1), 1)
            return self.fc2(self.act(self.fc(c))), w

    return Net()


def _mixed(t):
    nn = t.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.pool = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.MaxPool2d(2)
            self.bn2, self.fc, self.head = (
                nn.BatchNorm2d(4),
                nn.Linear(4 * 2 * 2, 6),
                nn.Linear(6, 2),
            )

        def forward(self, x):
            y = self.bn2(self.pool(self.bn(self.conv(x)))).relu()
            y = (t.sigmoid(y) + y).flatten(1)
            return self.head(t.nn.functional.relu(self.fc(y)))

    return Net()


def _pair(build):
    torch.manual_seed(0)
    net_t = build(torch)
    with torch.no_grad():
        for module in net_t.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
    net_m = build(minigrad)
    net_m.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in net_t.state_dict().items()})
    return net_t, net_m


def _run(net, x, lib):
    out = net(lib.tensor(x))
    outs = out if isinstance(out, tuple) else (out,)
    return [o.detach().numpy() for o in outs]


def _quantize_both(build, qat, mapping_t, mapping_m, shape):
    net_t, net_m = _pair(build)
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    if qat:
        net_t.train(), net_m.train()
        prep_t = tfx.prepare_qat_fx(net_t, mapping_t, (torch.tensor(x),))
        prep_m = mfx.prepare_qat_fx(net_m, mapping_m, (minigrad.tensor(x),))
    else:
        net_t.eval(), net_m.eval()
        prep_t = tfx.prepare_fx(net_t, mapping_t, (torch.tensor(x),))
        prep_m = mfx.prepare_fx(net_m, mapping_m, (minigrad.tensor(x),))
    for scale in (1.0, 2.0):
        for a, b in zip(_run(prep_m, x * scale, minigrad), _run(prep_t, x * scale, torch)):
            np.testing.assert_allclose(a, b, atol=1e-5)
    prep_t.eval(), prep_m.eval()
    return tfx.convert_fx(prep_t), mfx.convert_fx(prep_m), x, prep_t, prep_m


def _observer_calls(code):
    return [
        line.split("=")[0].strip()
        for line in code.splitlines()
        if "activation_post_process" in line
    ]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("qat", [False, True], ids=["ptq", "qat"])
def test_prepare_convert_fx_matches_torch(qat):
    maker_t = tq.get_default_qat_qconfig_mapping if qat else tq.get_default_qconfig_mapping
    maker_m = (
        minigrad.ao.quantization.get_default_qat_qconfig_mapping
        if qat
        else get_default_qconfig_mapping
    )
    q_t, q_m, x, prep_t, prep_m = _quantize_both(
        _branchy, qat, maker_t("x86"), maker_m("x86"), (4, 3, 6, 6)
    )
    assert _observer_calls(prep_m.code) == _observer_calls(prep_t.code)
    for name in ("conv", "conv2", "fc", "fc2"):
        mod_t, mod_m = q_t.get_submodule(name), q_m.get_submodule(name)
        assert type(mod_m).__name__ == type(mod_t).__name__
        assert mod_m.zero_point == mod_t.zero_point
        np.testing.assert_allclose(mod_m.scale, mod_t.scale, rtol=1e-6)
    for name in ("conv", "fc"):
        weight_t, weight_m = q_t.get_submodule(name).weight(), q_m.get_submodule(name).weight()
        np.testing.assert_array_equal(weight_m.int_repr().numpy(), weight_t.int_repr().numpy())
    outs_t, outs_m = _run(q_t, x, torch), _run(q_m, x, minigrad)
    for out_m, out_t, step in zip(outs_m, outs_t, (q_t.fc2.scale, q_t._scale_0.item())):
        assert np.abs(out_m - out_t).max() <= step * 1.0001
    code = q_m.code
    assert "minigrad.quantize_per_tensor(x" in code and "quantized_add_relu(conv, conv2" in code
    assert "activation_post_process" not in code and ".dequantize()" in code


@pytest.mark.parametrize("qat", [False, True], ids=["ptq", "qat"])
def test_float_parts_fixed_qparams_and_qat_match_torch(qat):
    maker_t = tq.get_default_qat_qconfig_mapping if qat else tq.get_default_qconfig_mapping
    maker_m = (
        minigrad.ao.quantization.get_default_qat_qconfig_mapping
        if qat
        else get_default_qconfig_mapping
    )
    q_t, q_m, x, _, _ = _quantize_both(
        _mixed, qat, maker_t("x86").set_module_name("head", None),
        maker_m("x86").set_module_name("head", None), (4, 3, 6, 6),
    )  # fmt: skip
    assert type(q_m.head) is minigrad.nn.Linear and type(q_m.bn2).__name__ == "BatchNorm2d"
    assert "QuantizedConv2d" in repr(q_m) and "QuantizedLinearReLU" in repr(q_m)
    (out_m,), (out_t,) = _run(q_m, x, minigrad), _run(q_t, x, torch)
    np.testing.assert_allclose(out_m, out_t, atol=q_t.fc.scale * 1.0001)


def test_qconfig_mapping_and_refusals():
    mapping = QConfigMapping().set_global(minigrad.ao.quantization.default_qconfig)
    mapping.set_object_type(minigrad.nn.Linear, None).set_module_name("0", None)
    assert mapping.qconfig_for("0.x", minigrad.nn.Conv2d) is None
    assert mapping.qconfig_for("1", minigrad.nn.Linear) is None
    assert mapping.qconfig_for("1", minigrad.nn.Conv2d) is minigrad.ao.quantization.default_qconfig
    with pytest.raises(NotImplementedError, match="object_type_order"):
        mapping.set_module_name_object_type_order("a", minigrad.nn.Linear, 0, None)
    net = minigrad.nn.Sequential(minigrad.nn.Linear(3, 2)).eval()
    dynamic = QConfigMapping().set_global(minigrad.ao.quantization.default_dynamic_qconfig)
    with pytest.raises(NotImplementedError, match="static quint8"):
        mfx.prepare_fx(net, dynamic, (minigrad.randn(1, 3),))
    with pytest.raises(AssertionError, match="prepare_fx"):
        mfx.convert_fx(minigrad.fx.symbolic_trace(net))


def _layers(t):
    nn = t.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.bn, self.hs = nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Hardswish()
            self.ln, self.lr, self.elu = nn.LayerNorm(8), nn.LeakyReLU(0.1), nn.ELU()
            self.drop, self.conv, self.gn = nn.Dropout(0.2), nn.Conv2d(8, 8, 1), nn.GroupNorm(2, 8)
            self.inorm, self.fc2 = nn.InstanceNorm2d(8), nn.Linear(8, 4)

        def forward(self, x):
            y = self.drop(self.elu(self.lr(self.ln(self.hs(self.bn(self.fc(x)))))))
            z = self.inorm(self.gn(self.conv(y.reshape(-1, 8, 2, 2)))).reshape(-1, 8)
            return self.fc2(y * z)

    return Net()


def test_more_quantized_layers_mul_and_linear_bn_fusion_match_torch():
    q_t, q_m, x, prep_t, prep_m = _quantize_both(
        _layers, False, tq.get_default_qconfig_mapping("x86"),
        get_default_qconfig_mapping("x86"), (16, 6),
    )  # fmt: skip
    assert _observer_calls(prep_m.code) == _observer_calls(prep_t.code)
    assert "bn" not in dict(q_m.named_children()) and type(q_m.gn) is minigrad.nn.GroupNorm
    assert repr(q_m.elu) == repr(q_t.elu) and "quantized_mul(drop, reshape_1" in q_m.code
    (out_m,), (out_t,) = _run(q_m, x, minigrad), _run(q_t, x, torch)
    np.testing.assert_allclose(out_m, out_t, atol=q_t.fc2.scale * 1.0001)


def test_module_called_twice_is_refused():
    class Twice(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = minigrad.nn.Linear(3, 3)

        def forward(self, x):
            return self.fc(self.fc(x))

    with pytest.raises(NotImplementedError, match="more than one place"):
        mfx.prepare_fx(Twice().eval(), get_default_qconfig_mapping(), (minigrad.randn(2, 3),))


def _embed(t):
    class Net(t.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.fc = t.nn.Embedding(10, 6), t.nn.Linear(6, 3)

        def forward(self, idx):
            return self.fc(self.emb(idx))

    return Net()


def test_fx_embedding_weight_only_matches_torch():
    net_t, net_m = _pair(_embed)
    net_t.eval(), net_m.eval()
    idx = np.array([[1, 2, 3], [4, 9, 0]])
    mapping_t = tq.get_default_qconfig_mapping("x86").set_object_type(
        torch.nn.Embedding, tq.float_qparams_weight_only_qconfig
    )
    mapping_m = get_default_qconfig_mapping("x86").set_object_type(
        minigrad.nn.Embedding, minigrad.ao.quantization.float_qparams_weight_only_qconfig
    )
    prep_t = tfx.prepare_fx(net_t, mapping_t, (torch.tensor(idx),))
    prep_m = mfx.prepare_fx(net_m, mapping_m, (minigrad.tensor(idx),))
    assert _observer_calls(prep_m.code) == _observer_calls(prep_t.code)
    prep_t(torch.tensor(idx)), prep_m(minigrad.tensor(idx))
    q_t, q_m = tfx.convert_fx(prep_t), mfx.convert_fx(prep_m)
    assert repr(q_m) == repr(q_t).replace("torch.", "minigrad.")
    (out_m,), (out_t,) = _run(q_m, idx, minigrad), _run(q_t, idx, torch)
    np.testing.assert_allclose(out_m, out_t, atol=q_t.fc.scale * 1.0001)


def test_ops_left_unquantized_are_refused_by_name():
    F = minigrad.nn.functional

    class Functional(minigrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = minigrad.nn.Parameter(minigrad.randn(2, 3))

        def forward(self, x):
            return F.linear(x, self.weight)

    example = (minigrad.randn(2, 3),)
    with pytest.raises(NotImplementedError, match="linear"):
        mfx.prepare_fx(Functional().eval(), get_default_qconfig_mapping(), example)
    net = minigrad.nn.Sequential(minigrad.nn.Linear(3, 3), minigrad.nn.Softmax(-1)).eval()
    with pytest.raises(NotImplementedError, match="Softmax"):
        mfx.prepare_fx(net, get_default_qconfig_mapping(), example)
    kept = get_default_qconfig_mapping().set_object_type(minigrad.nn.Softmax, None)
    prepared = mfx.prepare_fx(net, kept, example)
    prepared(*example)
    quantized = mfx.convert_fx(prepared)
    np.testing.assert_allclose(quantized(*example).sum(-1).numpy(), 1.0, rtol=1e-5)
    assert (
        "dequantize" in quantized.code and type(quantized.get_submodule("1")) is minigrad.nn.Softmax
    )
    conv1d = minigrad.nn.Sequential(minigrad.nn.Conv1d(2, 2, 1), minigrad.nn.ReLU()).eval()
    with pytest.raises(NotImplementedError, match="ConvReLU1d"):
        mfx.prepare_fx(conv1d, get_default_qconfig_mapping(), (minigrad.randn(1, 2, 4),))
