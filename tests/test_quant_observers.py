"""Observers, fake-quantize modules and qconfigs (branch quant): qparams equal PyTorch's
to the bit for every observer and setting; FakeQuantize modules behave as PyTorch's."""

import numpy as np
import pytest

import minigrad
from minigrad.ao import quantization as mq

torch = pytest.importorskip("torch")
tq = torch.ao.quantization
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CASES = [
    ("MinMaxObserver", {}),
    ("MinMaxObserver", dict(dtype="qint8", qscheme="per_tensor_symmetric")),
    ("MinMaxObserver", dict(reduce_range=True)),
    ("MinMaxObserver", dict(quant_min=0, quant_max=127)),
    ("MinMaxObserver", dict(dtype="qint8", quant_min=-64, quant_max=63, reduce_range=True)),
    ("MinMaxObserver", dict(qscheme="per_tensor_symmetric", quant_min=0, quant_max=15)),
    ("MinMaxObserver", dict(dtype="qint32")),
    ("MovingAverageMinMaxObserver", dict(averaging_constant=0.5)),
    ("PerChannelMinMaxObserver", {}),
    ("PerChannelMinMaxObserver", dict(ch_axis=1, dtype="qint8", qscheme="per_channel_symmetric")),
    ("PerChannelMinMaxObserver", dict(qscheme="per_channel_affine_float_qparams")),
    ("MovingAveragePerChannelMinMaxObserver", dict(ch_axis=1)),
    ("HistogramObserver", dict(reduce_range=True)),
    ("HistogramObserver", dict(bins=64, dtype="qint8", qscheme="per_tensor_symmetric")),
]


def _args(m, kw):
    return {k: getattr(m, v) if isinstance(v, str) else v for k, v in kw.items()}


def _batches():
    rng = np.random.default_rng(0)
    return [
        (rng.standard_normal((4, 6)) * s + o).astype("float32")
        for s, o in [(1, 0), (3, 1), (0.5, 2), (2, -3)]
    ]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_observer_qparams_match_torch(name, kw):
    obs_t = getattr(tq.observer, name)(**_args(torch, kw))
    obs_m = getattr(mq.observer, name)(**_args(minigrad, kw))
    assert (obs_m.quant_min, obs_m.quant_max) == (obs_t.quant_min, obs_t.quant_max)
    for x in _batches():
        obs_t(torch.tensor(x))
        assert obs_m(minigrad.tensor(x)) is not None
    (st, zt), (sm, zm) = obs_t.calculate_qparams(), obs_m.calculate_qparams()
    np.testing.assert_array_equal(sm.numpy(), st.numpy())
    np.testing.assert_array_equal(zm.numpy(), zt.numpy())
    assert zm.dtype.name == str(zt.dtype).split(".")[-1]
    assert sorted(obs_m.state_dict()) == sorted(obs_t.state_dict())


def test_observer_defaults_and_errors():
    with pytest.warns(UserWarning, match="must run observer"):
        scale, zp = mq.MinMaxObserver().calculate_qparams()
    assert scale.tolist() == [1.0] and zp.tolist() == [0]
    with pytest.raises(NotImplementedError, match="per_tensor"):
        mq.MinMaxObserver(qscheme=minigrad.per_channel_affine)
    with pytest.raises(NotImplementedError, match="symmetric"):
        mq.MinMaxObserver(qscheme=minigrad.per_tensor_symmetric, reduce_range=True)
    with pytest.raises(AssertionError, match="include 0"):
        mq.MinMaxObserver(quant_min=1, quant_max=5)
    with pytest.raises(Exception, match="should not be called"):
        mq.PlaceholderObserver().calculate_qparams()
    with pytest.raises(ValueError, match="observer instance"):
        mq.QConfig(activation=mq.MinMaxObserver(), weight=mq.default_weight_observer)
    per_channel = mq.PerChannelMinMaxObserver()
    per_channel(minigrad.randn(3, 4))
    fresh = mq.PerChannelMinMaxObserver()
    fresh.load_state_dict(per_channel.state_dict())  # empty buffers take any size
    np.testing.assert_array_equal(fresh.min_val.numpy(), per_channel.min_val.numpy())


@pytest.mark.parametrize("per_channel", [False, True])
def test_fake_quantize_module_matches_torch(per_channel):
    make_t = tq.default_per_channel_weight_fake_quant if per_channel else tq.default_fake_quant
    make_m = mq.default_per_channel_weight_fake_quant if per_channel else mq.default_fake_quant
    fq_t, fq_m = make_t(), make_m()
    for i, x in enumerate(_batches()):
        if i == 2:
            fq_t.disable_observer()
            fq_m.disable_observer()
        xt, xm = torch.tensor(x, requires_grad=True), minigrad.tensor(x, requires_grad=True)
        yt, ym = fq_t(xt), fq_m(xm)
        np.testing.assert_array_equal(ym.detach().numpy(), yt.detach().numpy())
        yt.sum().backward()
        ym.sum().backward()
        np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())
    np.testing.assert_array_equal(fq_m.scale.numpy(), fq_t.scale.numpy())
    np.testing.assert_array_equal(fq_m.zero_point.numpy(), fq_t.zero_point.numpy())
    assert sorted(fq_m.state_dict()) == sorted(fq_t.state_dict())
    fq_m.disable_fake_quant()
    x = minigrad.tensor(_batches()[0])
    assert fq_m(x) is x
    model = minigrad.nn.Sequential(make_m())
    model.apply(mq.enable_fake_quant)
    assert model[0].fake_quant_enabled.tolist() == [1]


def test_default_qconfigs_match_torch():
    def described(qconfig):
        def part(factory):
            made = factory()
            post = getattr(made, "activation_post_process", made)
            return (
                type(made).__name__, type(post).__name__, post.quant_min, post.quant_max,
                post.qscheme.name if hasattr(post.qscheme, "name") else str(post.qscheme)
                .split(".")[-1], str(post.dtype).split(".")[-1],
            )  # fmt: skip

        return part(qconfig.activation), part(qconfig.weight)

    for backend in ("x86", "fbgemm", "qnnpack", "onednn"):
        assert described(mq.get_default_qconfig(backend)) == described(
            tq.get_default_qconfig(backend)
        )
        for version in (0, 1):
            assert described(mq.get_default_qat_qconfig(backend, version)) == described(
                tq.get_default_qat_qconfig(backend, version)
            )
    for name in ("default_qconfig", "default_qat_qconfig", "default_dynamic_qconfig"):
        assert described(getattr(mq, name)) == described(getattr(tq, name))
    with pytest.raises(AssertionError, match="not supported"):
        mq.get_default_qconfig("tpu")


@pytest.mark.parametrize("version", [0, 1])
def test_qat_model_on_the_stand_in_device_matches_cpu(version):
    q = minigrad.ao.quantization
    data = np.random.default_rng(7).standard_normal((6, 1, 5, 5)).astype("float32")
    results = []
    for device in ("cpu", "fakegpu"):
        minigrad.manual_seed(0)
        net = minigrad.nn.Sequential(
            minigrad.nn.Conv2d(1, 2, 3), minigrad.nn.BatchNorm2d(2), minigrad.nn.ReLU(),
            minigrad.nn.Flatten(), minigrad.nn.Linear(18, 3),
        )  # fmt: skip
        net = q.fuse_modules_qat(net.train(), ["0", "1", "2"])
        net.qconfig = q.get_default_qat_qconfig("x86", version)
        prepared = q.prepare_qat(net).to(device)
        for _ in range(2):
            out = prepared(minigrad.tensor(data, device=device))
            out.sum().backward()
        results.append([out.detach().cpu().numpy()] + [
            p.grad.cpu().numpy() for p in prepared.parameters() if p.grad is not None
        ])  # fmt: skip
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
