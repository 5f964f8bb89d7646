"""Eager-mode quantization flows (branch quant), against PyTorch's on the same weights:
post-training static quantization of a small CNN (fuse → prepare → calibrate → convert),
dynamic quantization, quantization-aware training, and the quantized modules alone."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _cnn(m):
    nn, q = m.nn, m.ao.quantization

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = q.QuantStub(), q.DeQuantStub()
            self.conv1, self.bn1, self.relu1 = (
                nn.Conv2d(1, 4, 3, padding=1),
                nn.BatchNorm2d(4),
                nn.ReLU(),
            )
            self.pool = nn.MaxPool2d(2)
            self.conv2, self.relu2 = nn.Conv2d(4, 6, 3), nn.ReLU()
            self.fc1, self.relu3, self.drop = nn.Linear(24, 10), nn.ReLU(), nn.Dropout(0.1)
            self.fc2 = nn.Linear(10, 3)

        def forward(self, x):
            x = self.pool(self.relu1(self.bn1(self.conv1(self.quant(x)))))
            x = self.relu2(self.conv2(x)).reshape(x.shape[0], -1)
            return self.dequant(self.fc2(self.drop(self.relu3(self.fc1(x)))))

    return Net()


def _pair(build):
    net_t, net_m = build(torch), build(minigrad)
    torch.manual_seed(0)
    with torch.no_grad():
        for mod in net_t.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
    net_m.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in net_t.state_dict().items()})
    return net_t, net_m


@pytest.mark.parametrize("backend", ["x86", "default"])
def test_post_training_static_quantization_matches_torch(backend):
    rng = np.random.default_rng(0)
    calibration = [rng.standard_normal((8, 1, 8, 8)).astype("float32") for _ in range(3)]
    x = rng.standard_normal((16, 1, 8, 8)).astype("float32")
    groups = [["conv1", "bn1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"]]
    converted = []
    for m, net in zip((torch, minigrad), _pair(_cnn)):
        q = m.ao.quantization
        fused = q.fuse_modules(net.eval(), groups)
        fused.qconfig = (
            q.default_qconfig if backend == "default" else q.get_default_qconfig(backend)
        )
        prepared = q.prepare(fused)
        assert (
            type(prepared.conv1.activation_post_process).__name__
            == type(fused.qconfig.activation()).__name__
        )
        for batch in calibration:
            prepared(m.tensor(batch))
        model = q.convert(prepared)
        converted.append((model, model(m.tensor(x)).numpy()))
    (qt, out_t), (qm, out_m) = converted
    assert type(qm.conv1).__name__ == "ConvReLU2d" and qm.bn1.__class__.__name__ == "Identity"
    for name in ("conv1", "conv2", "fc1", "fc2"):
        lt, lm = getattr(qt, name), getattr(qm, name)
        np.testing.assert_allclose(lm.scale, lt.scale, rtol=1e-6)  # observed float outputs
        assert lm.zero_point == lt.zero_point
        np.testing.assert_array_equal(
            lm.weight().int_repr().numpy(), lt.weight().int_repr().numpy()
        )
    assert qm.quant.scale.tolist() == qt.quant.scale.tolist()
    steps = np.abs(out_m - out_t) / qt.fc2.scale
    assert steps.max() <= 1.0 + 1e-4, steps.max()
    assert "QuantizedConvReLU2d" in repr(qm) and "QuantizedLinear(" in repr(qm)


def test_quantize_dynamic_matches_torch():
    def mlp(m):
        return m.nn.Sequential(m.nn.Linear(8, 16), m.nn.ReLU(), m.nn.Linear(16, 4))

    net_t, net_m = _pair(mlp)
    x = np.random.default_rng(1).standard_normal((32, 8)).astype("float32") * 2
    qt = torch.ao.quantization.quantize_dynamic(net_t, {torch.nn.Linear}, dtype=torch.qint8)
    qm = minigrad.ao.quantization.quantize_dynamic(net_m, {minigrad.nn.Linear})
    assert repr(qm).replace("minigrad.", "torch.") == repr(qt)
    np.testing.assert_array_equal(
        qm[0].weight().int_repr().numpy(), qt[0].weight().int_repr().numpy()
    )
    out_t, out_m = qt(torch.tensor(x)).detach().numpy(), qm(minigrad.tensor(x)).numpy()
    np.testing.assert_allclose(out_m, out_t, rtol=1e-5, atol=1e-6)
    assert type(net_m[0]).__name__ == "Linear"  # a copy unless inplace
    with pytest.raises(ValueError, match="default settings"):
        minigrad.ao.quantization.quantize_dynamic(net_m, dtype=minigrad.qint32)


def _mlp_stubs(m):
    q = m.ao.quantization

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = q.QuantStub(), q.DeQuantStub()
            self.fc1, self.relu, self.fc2 = m.nn.Linear(8, 16), m.nn.ReLU(), m.nn.Linear(16, 4)

        def forward(self, x):
            return self.dequant(self.fc2(self.relu(self.fc1(self.quant(x)))))

    return Net()


@pytest.mark.parametrize("version", [0, 1])
def test_quantization_aware_training_matches_torch(version):
    x = np.random.default_rng(2).standard_normal((32, 8)).astype("float32")
    results = []
    for m, net in zip((torch, minigrad), _pair(_mlp_stubs)):
        q = m.ao.quantization
        net = q.fuse_modules_qat(net.train(), [["fc1", "relu"]])
        net.qconfig = q.get_default_qat_qconfig("x86", version)
        prepared = q.prepare_qat(net)
        for i in range(3):  # plain SGD (torch.optim's first step costs seconds of imports)
            batch = m.tensor(np.random.default_rng(i).standard_normal((16, 8)).astype("float32"))
            (prepared(batch) ** 2).mean().backward()
            with m.no_grad():
                for p in prepared.parameters():
                    p -= 0.1 * p.grad
                    p.grad = None
        fake = prepared(m.tensor(x)).detach().numpy()
        model = q.convert(prepared.eval())
        results.append((fake, model(m.tensor(x)).numpy(), model.fc2.scale))
    (fake_t, out_t, scale_t), (fake_m, out_m, _) = results
    np.testing.assert_allclose(fake_m, fake_t, atol=2e-6)
    assert np.abs(out_m - out_t).max() / scale_t <= 1.0 + 1e-4


@pytest.mark.parametrize("per_channel", [False, True])
def test_quantized_linear_and_conv_modules_match_torch(per_channel):
    rng = np.random.default_rng(3)
    w_lin, b_lin = rng.standard_normal((5, 7)).astype("float32"), rng.standard_normal(5)
    w_conv = rng.standard_normal((4, 2, 3, 3)).astype("float32")
    x_lin = rng.standard_normal((3, 7)).astype("float32")
    x_conv = rng.standard_normal((2, 2, 5, 5)).astype("float32")
    outs = []
    for m in (torch, minigrad):
        nnq = m.ao.nn.quantized

        def qweight(w, m=m):
            if per_channel:
                s = m.tensor(np.abs(w).reshape(len(w), -1).max(1) / 127.0, dtype=m.float64)
                return m.quantize_per_channel(
                    m.tensor(w), s, m.zeros(len(w), dtype=m.int64), 0, m.qint8
                )
            return m.quantize_per_tensor(m.tensor(w), float(np.abs(w).max() / 127), 0, m.qint8)

        lin = nnq.Linear(7, 5)
        lin.set_weight_bias(qweight(w_lin), m.tensor(b_lin, dtype=m.float32))
        lin.scale, lin.zero_point = 0.07, 60
        conv = nnq.Conv2d(2, 4, 3, padding=1, stride=2)
        conv.set_weight_bias(qweight(w_conv), m.tensor(b_lin[:4], dtype=m.float32))
        conv.scale, conv.zero_point = 0.09, 100
        x1 = m.quantize_per_tensor(m.tensor(x_lin), 0.03, 70, m.quint8)
        x2 = m.quantize_per_tensor(m.tensor(x_conv), 0.03, 70, m.quint8)
        outs.append([lin(x1).int_repr().numpy(), conv(x2).int_repr().numpy()])
        outs[-1].append(m.ao.nn.quantized.ReLU6()(x1).int_repr().numpy())
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_fusion_prepare_and_errors():
    q = minigrad.ao.quantization
    nn = minigrad.nn
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    fused = q.fuse_modules(model.eval(), ["0", "1", "2"])
    assert type(fused[0]).__name__ == "ConvReLU2d" and type(fused[1]).__name__ == "Identity"
    x = minigrad.randn(2, 1, 5, 5)
    with minigrad.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="eval"):
        q.fuse_modules(model.train(), ["0", "1"])
    with pytest.raises(NotImplementedError, match="Cannot fuse"):
        q.fuse_modules(model, ["2", "0"])
    with pytest.raises(AssertionError, match="training mode"):
        q.prepare_qat(model.eval())
    with pytest.raises(NotImplementedError, match="BNReLU2d"):
        qat = q.fuse_modules_qat(model.train(), ["1", "2"])
        qat.qconfig = q.get_default_qat_qconfig()
        q.prepare_qat(qat)
    conv1d = nn.Sequential(q.QuantStub(), nn.ConvTranspose1d(1, 1, 2), q.DeQuantStub()).eval()
    conv1d.qconfig = q.default_qconfig
    prepared = q.prepare(conv1d)
    prepared(minigrad.randn(1, 1, 4))
    with pytest.raises(NotImplementedError, match="ConvTranspose1d"):
        q.convert(prepared)
    assert minigrad.quantization.prepare is q.prepare
    assert minigrad.nn.quantized.Linear is minigrad.ao.nn.quantized.Linear
    assert minigrad.nn.quantized.dynamic.Linear is minigrad.ao.nn.quantized.dynamic.Linear
    saved = q.quantize_dynamic(nn.Sequential(nn.Linear(3, 2)))
    loaded = q.quantize_dynamic(nn.Sequential(nn.Linear(3, 2)))
    loaded.load_state_dict(saved.state_dict())  # quantized layers round-trip a state_dict
    x = minigrad.randn(2, 3)
    np.testing.assert_array_equal(loaded(x).numpy(), saved(x).numpy())
    np.testing.assert_array_equal(
        loaded[0].weight().int_repr().numpy(), saved[0].weight().int_repr().numpy()
    )


def _residual(m):
    q = m.ao.quantization

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = q.QuantStub(), q.DeQuantStub()
            self.conv, self.conv2 = m.nn.Conv2d(2, 2, 3, padding=1), m.nn.Conv2d(2, 2, 1)
            self.skip = m.ao.nn.quantized.FloatFunctional()
            self.pool, self.fc = m.nn.AdaptiveAvgPool2d(1), m.nn.Linear(2, 3)

        def forward(self, x):
            x = self.quant(x)
            y = self.pool(self.skip.add_relu(self.conv(x), self.conv2(x))).flatten(1)
            return self.dequant(self.fc(y))

    return Net()


def test_float_functional_residual_matches_torch():
    rng = np.random.default_rng(4)
    calibration = [rng.standard_normal((4, 2, 5, 5)).astype("float32") for _ in range(2)]
    x = rng.standard_normal((6, 2, 5, 5)).astype("float32")
    outs = []
    for m, net in zip((torch, minigrad), _pair(_residual)):
        q = m.ao.quantization
        net.eval().qconfig = q.default_qconfig
        prepared = q.prepare(net)
        for batch in calibration:
            prepared(m.tensor(batch))
        model = q.convert(prepared)
        outs.append((model(m.tensor(x)).numpy(), model.fc.scale, repr(model.skip)))
    (out_t, scale_t, repr_t), (out_m, _, repr_m) = outs
    assert repr_m.split("(")[0] == repr_t.split("(")[0] == "QFunctional"
    assert np.abs(out_m - out_t).max() / scale_t <= 1.0 + 1e-4
    with pytest.raises(RuntimeError, match="not intended"):
        minigrad.ao.nn.quantized.FloatFunctional()(x)


def _conv_bn(m):
    q = m.ao.quantization

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = q.QuantStub(), q.DeQuantStub()
            self.conv, self.bn, self.relu = (
                m.nn.Conv2d(1, 3, 3, padding=1),
                m.nn.BatchNorm2d(3),
                m.nn.ReLU(),
            )
            self.conv2, self.bn2 = m.nn.Conv2d(3, 2, 3), m.nn.BatchNorm2d(2)
            self.fc = m.nn.Linear(32, 3)

        def forward(self, x):
            x = self.relu(self.bn(self.conv(self.quant(x))))
            return self.dequant(self.fc(self.bn2(self.conv2(x)).flatten(1)))

    return Net()


def test_qat_with_conv_bn_folding_matches_torch():
    x = np.random.default_rng(9).standard_normal((4, 1, 6, 6)).astype("float32")
    outs = []
    for m, net in zip((torch, minigrad), _pair(_conv_bn)):
        q = m.ao.quantization
        net = q.fuse_modules_qat(net.train(), [["conv", "bn", "relu"], ["conv2", "bn2"]])
        net.qconfig = q.get_default_qat_qconfig("x86")
        prepared = q.prepare_qat(net)
        assert type(prepared.conv).__name__ == "ConvBnReLU2d"
        for i in range(2):
            batch = m.tensor(
                np.random.default_rng(i).standard_normal((8, 1, 6, 6)).astype("float32")
            )
            (prepared(batch) ** 2).mean().backward()
            with m.no_grad():
                for p in prepared.parameters():
                    p -= 0.05 * p.grad
                    p.grad = None
        prepared.apply(m.ao.nn.intrinsic.qat.freeze_bn_stats)
        fake = prepared(m.tensor(x)).detach().numpy()
        model = q.convert(prepared.eval())
        outs.append((fake, model(m.tensor(x)).numpy(), model.fc.scale))
    (fake_t, out_t, scale_t), (fake_m, out_m, _) = outs
    np.testing.assert_allclose(fake_m, fake_t, atol=1e-5)
    assert np.abs(out_m - out_t).max() / scale_t <= 1.0 + 1e-4


def test_quantize_and_quant_wrapper():
    q, nn = minigrad.ao.quantization, minigrad.nn
    minigrad.manual_seed(0)
    wrapped = q.QuantWrapper(nn.Sequential(nn.Linear(4, 3), nn.ReLU()))
    wrapped.qconfig = q.default_qconfig
    data = minigrad.randn(8, 4)
    model = q.quantize(wrapped, lambda m, x: m(x), [data])
    assert type(model.quant).__name__ == "Quantize" and type(model.module[0]).__name__ == (
        "Linear"
    ) and model.module[0]._get_name() == "QuantizedLinear"  # fmt: skip
    with minigrad.no_grad():
        expected = wrapped(data).numpy()
    assert np.abs(model(data).numpy() - expected).max() < 0.05
    assert not hasattr(model.module[0], "qconfig")  # convert removes qconfigs
    assert type(wrapped.module[0]).__name__ == "Linear" and wrapped.module[0].__class__ is (
        nn.Linear
    )  # the original stays float  # fmt: skip


def _norms(m):
    q, nn = m.ao.quantization, m.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = q.QuantStub(), q.DeQuantStub()
            self.conv, self.bn, self.act = nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.LeakyReLU(0.1)
            self.gn, self.hs, self.ln = nn.GroupNorm(2, 4), nn.Hardswish(), nn.LayerNorm([3, 3])
            self.elu, self.inorm = nn.ELU(0.5), nn.InstanceNorm2d(4, affine=True)

        def forward(self, x):
            x = self.act(self.inorm(self.bn(self.conv(self.quant(x)))))
            return self.dequant(self.elu(self.ln(self.hs(self.gn(x)))))

    return Net()


def test_quantized_norms_and_activations_match_torch():
    rng = np.random.default_rng(8)
    calibration = [rng.standard_normal((4, 2, 5, 5)).astype("float32") for _ in range(2)]
    x = rng.standard_normal((6, 2, 5, 5)).astype("float32")
    outs = []
    for m, net in zip((torch, minigrad), _pair(_norms)):
        q = m.ao.quantization
        net.eval().qconfig = q.default_qconfig
        prepared = q.prepare(net)
        for batch in calibration:
            prepared(m.tensor(batch))
        model = q.convert(prepared)
        outs.append((model(m.tensor(x)).numpy(), model.elu.scale, repr(model)))
    (out_t, scale_t, repr_t), (out_m, _, repr_m) = outs
    assert np.abs(out_m - out_t).max() / scale_t <= 1.0 + 1e-4
    names = [line.split("(")[0] for line in repr_t.splitlines()]
    assert [line.split("(")[0] for line in repr_m.splitlines()] == names


@pytest.mark.parametrize("dims", [1, 3])
def test_quantized_conv1d_conv3d_match_torch(dims):
    def build(m):
        q, nn = m.ao.quantization, m.nn
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
        return nn.Sequential(
            q.QuantStub(), conv(2, 3, 3, padding=1, stride=2), conv(3, 2, 2, bias=False),
            q.DeQuantStub(),
        )  # fmt: skip

    rng = np.random.default_rng(10)
    shape = (4, 2) + (6,) * dims
    calibration = [rng.standard_normal(shape).astype("float32") for _ in range(2)]
    x = rng.standard_normal(shape).astype("float32")
    outs = []
    for m, net in zip((torch, minigrad), _pair(build)):
        q = m.ao.quantization
        net.eval().qconfig = q.get_default_qconfig("x86")
        prepared = q.prepare(net)
        for batch in calibration:
            prepared(m.tensor(batch))
        model = q.convert(prepared)
        outs.append((model(m.tensor(x)).numpy(), model[2].scale, model[1]._get_name()))
    (out_t, scale_t, name_t), (out_m, _, name_m) = outs
    assert name_m == name_t == f"QuantizedConv{dims}d"
    assert np.abs(out_m - out_t).max() / scale_t <= 1.0 + 1e-4


def test_qat_conv_bn_draws_what_torch_draws():
    """Preparing a model for QAT makes the fused conv-bn modules, which draw from the global
    generator as PyTorch's do (the conv's weight, the batch norm's weight, then the conv's bias):
    the batch drawn after ``prepare_qat`` is PyTorch's (it was not: every later number differed)."""
    drawn = []
    for m in (torch, minigrad):
        q = m.ao.quantization
        m.manual_seed(0)
        net = m.nn.Sequential(m.nn.Conv2d(1, 2, 3), m.nn.BatchNorm2d(2), m.nn.ReLU()).train()
        net = q.fuse_modules_qat(net, [["0", "1", "2"]])
        net.qconfig = q.get_default_qat_qconfig("x86")
        q.prepare_qat(net, inplace=True)
        drawn.append((m.randn(3).tolist(), net[0].bn.weight.tolist(), list(net[0].state_dict())))
    assert drawn[1][0] == drawn[0][0] and drawn[1][2] == drawn[0][2]
    assert drawn[1][1] == [1.0, 1.0]  # the float batch norm's weight, shared


@pytest.mark.filterwarnings("always::DeprecationWarning")
def test_entry_points_warn_their_deprecation_as_torch():
    q = minigrad.ao.quantization
    net = minigrad.nn.Sequential(q.QuantStub(), minigrad.nn.Linear(2, 2), q.DeQuantStub()).eval()
    net.qconfig = q.get_default_qconfig("x86")
    with pytest.warns(DeprecationWarning, match="torch.ao.quantization is deprecated") as seen:
        q.convert(q.prepare(net))
    deprecations = [w for w in seen if w.category is DeprecationWarning]
    assert len(deprecations) == 2 and deprecations[0].filename == __file__  # the caller's line
