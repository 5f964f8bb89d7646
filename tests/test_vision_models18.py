"""minigrad.vision.models against torchvision 0.28's own model files (MobileNetV3, EfficientNet,
...): the files are read from torchvision's wheel and run under real PyTorch with small stand-ins
for the torchvision modules they import (torchvision itself cannot import here: it needs its
compiled operators). Every builder gives torchvision's state-dict keys and shapes; small
variants give the same initial values under the same seed, the same eval-mode outputs and
gradients (float64) once the PyTorch model's state dict is loaded, and the same stochastic-depth
draws in training mode."""

import enum
import glob
import importlib.util
import sys
import types
import zipfile
from functools import partial

import numpy as np
import pytest

import minigrad
from minigrad.vision import models, ops

_TV_FILES = [
    "mobilenetv3",
    "efficientnet",
]


def _load_torchvision_files(torch, names):
    """Execute torchvision's ``ops/misc.py``, ``ops/stochastic_depth.py``, its model registry
    and ``models/<name>.py`` from the wheel, each as module ``torchvision.<...>``, with stubs
    for the logging, download and transform modules; ``sys.modules`` is restored after."""
    wheels = sorted(glob.glob("/opt/pypi-more/files/torchvision-0.28.0-*.whl"))
    if not wheels:
        pytest.skip("torchvision 0.28's wheel is not in /opt/pypi-more/files")
    archive = zipfile.ZipFile(wheels[0])
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "torchvision"}
    for k in saved:
        del sys.modules[k]

    def stub(name, package=False, **attrs):
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        if package:
            module.__path__ = []
        sys.modules[name] = module
        return module

    def real(name):
        path = name.replace(".", "/") + ".py"
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, None))
        module.__package__ = name.rpartition(".")[0]
        sys.modules[name] = module
        exec(compile(archive.read(path), path, "exec"), module.__dict__)
        return module

    loaded = {}
    try:
        for package in ["", ".ops", ".models", ".transforms", ".models.segmentation"]:
            stub("torchvision" + package, package=True)
        ntuple = lambda x, n: tuple(x) if isinstance(x, (list, tuple)) else (x,) * n  # noqa: E731
        stub("torchvision.utils", _log_api_usage_once=lambda obj: None, _make_ntuple=ntuple)
        stub("torchvision._internally_replaced_utils", load_state_dict_from_url=None)
        modes = enum.Enum("InterpolationMode", "BILINEAR BICUBIC")
        stub(
            "torchvision.transforms._presets", ImageClassification=object,
            SemanticSegmentation=object, InterpolationMode=modes,
        )  # fmt: skip
        real("torchvision._utils")
        loaded["misc"] = real("torchvision.ops.misc")
        loaded["stochastic_depth"] = real("torchvision.ops.stochastic_depth")
        sys.modules["torchvision.ops"].StochasticDepth = loaded["stochastic_depth"].StochasticDepth
        for name in ["_api", "_meta", "_utils", *names]:
            loaded[name] = real("torchvision.models." + name)
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] == "torchvision"]:
            del sys.modules[k]
        sys.modules.update(saved)
    return types.SimpleNamespace(**{k.replace(".", "_"): v for k, v in loaded.items()})


@pytest.fixture(scope="module")
def tv():
    torch = pytest.importorskip("torch")
    return _load_torchvision_files(torch, _TV_FILES)


def _shapes(state_dict):
    return [(k, tuple(v.shape)) for k, v in state_dict.items()]


# ---- every builder: torchvision's keys, shapes (and so parameter counts), weights enums -----

_BUILDERS = {
    "mobilenetv3": ["mobilenet_v3_small", "mobilenet_v3_large"],
    "efficientnet": [f"efficientnet_b{i}" for i in range(8)]
    + ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"],
}


@pytest.mark.parametrize("file", sorted(_BUILDERS))
def test_every_builder_has_torchvisions_state_dict_layout(tv, file):
    import torch

    module = getattr(tv, file)
    for name in _BUILDERS[file]:
        with torch.device("meta"):
            theirs = getattr(module, name)()
        with minigrad.device("meta"):
            ours = getattr(models, name)()
        assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict()), name
        ours_enum = models.get_model_weights(name)
        their_enum = getattr(module, ours_enum.__name__)
        assert [w.name for w in ours_enum] == [w.name for w in their_enum], name
        assert ours_enum.DEFAULT.name == their_enum.DEFAULT.name, name


def _load_into(ours, theirs):
    ours.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})


def _same_init_outputs_and_grads(torch, make_theirs, make_ours, shape, seed=0):
    """Same seed → same initial state; then, in float64 eval mode with PyTorch's state dict
    loaded, the same outputs and gradients (input and every parameter) of sum(y²)."""
    torch.manual_seed(seed)
    theirs = make_theirs()
    minigrad.manual_seed(seed)
    ours = make_ours()
    theirs_sd, ours_sd = theirs.state_dict(), ours.state_dict()
    assert _shapes(ours_sd) == _shapes(theirs_sd)
    for k, v in theirs_sd.items():
        np.testing.assert_allclose(ours_sd[k].numpy(), v.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
    theirs.double().eval()
    ours.double().eval()
    _load_into(ours, theirs)
    x = np.random.default_rng(seed).standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    xm = minigrad.tensor(x, requires_grad=True)
    yt, ym = theirs(xt), ours(xm)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-10)
    (yt**2).sum().backward()
    (ym**2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-10)
    for (name, pt), (_, pm) in zip(theirs.named_parameters(), ours.named_parameters()):
        np.testing.assert_allclose(
            pm.grad.numpy(), pt.grad.numpy(), rtol=1e-6, atol=1e-10, err_msg=name
        )
    return theirs, ours


# ---- small variants: init, eval outputs and gradients, training-mode draws ---------------


def test_mobilenet_v3(tv):
    import torch

    for name, kw in [
        ("mobilenet_v3_small", dict(num_classes=5, width_mult=0.5)),
        (
            "mobilenet_v3_large",
            dict(num_classes=3, width_mult=0.25, reduced_tail=True, dilated=True),
        ),
    ]:
        _same_init_outputs_and_grads(
            torch, partial(getattr(tv.mobilenetv3, name), **kw),
            partial(getattr(models, name), **kw), (1, 3, 32, 32),
        )  # fmt: skip


def _tiny_efficientnet(module):
    """MBConv and FusedMBConv stages, residual and strided blocks, with stochastic depth."""
    setting = [
        module.FusedMBConvConfig(1, 3, 1, 8, 8, 2),
        module.FusedMBConvConfig(4, 3, 2, 8, 16, 1),
        module.MBConvConfig(4, 3, 2, 16, 16, 2, width_mult=1.0, depth_mult=1.0),
        module.MBConvConfig(6, 5, 1, 16, 24, 1),
    ]
    return module.EfficientNet(
        setting, 0.2, stochastic_depth_prob=0.5, num_classes=4, last_channel=32
    )


def test_efficientnet_with_stochastic_depth(tv):
    """Eval mode as the others; training mode (batch statistics, dropout, stochastic depth)
    draws the same masks under the same seed."""
    import torch

    from minigrad.vision.models import efficientnet

    theirs, ours = _same_init_outputs_and_grads(
        torch, partial(_tiny_efficientnet, tv.efficientnet), partial(_tiny_efficientnet, efficientnet),
        (1, 3, 32, 32),
    )  # fmt: skip
    theirs.train(), ours.train()
    x = np.random.default_rng(1).standard_normal((4, 3, 16, 16))
    torch.manual_seed(5)
    yt = theirs(torch.tensor(x))
    minigrad.manual_seed(5)
    ym = ours(minigrad.tensor(x))
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-10)


def test_stochastic_depth_and_misc_layers(tv):
    import torch

    x = np.random.default_rng(0).standard_normal((6, 3, 2))
    for mode in ["row", "batch"]:
        torch.manual_seed(2)
        minigrad.manual_seed(2)
        want = tv.stochastic_depth.stochastic_depth(torch.tensor(x), 0.4, mode)
        got = ops.stochastic_depth(minigrad.tensor(x), 0.4, mode)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert ops.stochastic_depth(minigrad.tensor(x), 0.4, "row", training=False).numpy() is not None
    with pytest.raises(ValueError, match="drop probability has to be between 0 and 1"):
        ops.stochastic_depth(minigrad.tensor(x), 1.5, "row")
    with pytest.raises(ValueError, match="mode has to be either 'batch' or 'row'"):
        ops.StochasticDepth(0.1, "col")(minigrad.tensor(x))
    assert repr(ops.StochasticDepth(0.1, "row")) == "StochasticDepth(p=0.1, mode=row)"
    make_t = partial(tv.misc.MLP, 4, [8, 3], norm_layer=torch.nn.LayerNorm, dropout=0.1)
    make_m = partial(ops.MLP, 4, [8, 3], norm_layer=minigrad.nn.LayerNorm, dropout=0.1)
    _same_init_outputs_and_grads(torch, make_t, make_m, (2, 4))
    _same_init_outputs_and_grads(
        torch, partial(tv.misc.SqueezeExcitation, 6, 2), partial(ops.SqueezeExcitation, 6, 2),
        (2, 6, 3, 3),
    )  # fmt: skip
    perm = ops.Permute([0, 2, 3, 1])(minigrad.ones(1, 2, 3, 4))
    assert perm.shape == (1, 3, 4, 2)
