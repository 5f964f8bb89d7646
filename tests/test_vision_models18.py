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
    "convnext",
    "shufflenetv2",
    "squeezenet",
    "regnet",
    "vision_transformer",
    "swin_transformer",
    "googlenet",
    "inception",
    "mnasnet",
    "resnet",
    "segmentation._utils",
    "segmentation.fcn",
    "segmentation.deeplabv3",
    "segmentation.lraspp",
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
        packages = [
            "",
            ".ops",
            ".models",
            ".transforms",
            ".models.segmentation",
            ".models.quantization",
        ]
        for package in packages + [".models.video", ".models.optical_flow"]:
            stub("torchvision" + package, package=True)
        ntuple = lambda x, n: tuple(x) if isinstance(x, (list, tuple)) else (x,) * n  # noqa: E731
        stub("torchvision.utils", _log_api_usage_once=lambda obj: None, _make_ntuple=ntuple)
        stub("torchvision._internally_replaced_utils", load_state_dict_from_url=None)
        modes = enum.Enum("InterpolationMode", "BILINEAR BICUBIC")
        stub(
            "torchvision.transforms._presets", ImageClassification=object,
            SemanticSegmentation=object, InterpolationMode=modes,
            VideoClassification=object, OpticalFlow=object,
        )  # fmt: skip
        real("torchvision._utils")
        loaded["misc"] = real("torchvision.ops.misc")
        loaded["stochastic_depth"] = real("torchvision.ops.stochastic_depth")
        sys.modules["torchvision.ops"].StochasticDepth = loaded["stochastic_depth"].StochasticDepth
        sys.modules["torchvision.ops"].Conv2dNormActivation = loaded["misc"].Conv2dNormActivation
        sys.modules["torchvision.ops"].MLP = loaded["misc"].MLP
        for name in ["_api", "_meta", "_utils", *names]:
            loaded[name] = real("torchvision.models." + name)
    finally:
        for k in [k for k in sys.modules if k.split(".")[0] == "torchvision"]:
            del sys.modules[k]
        sys.modules.update(saved)
    return types.SimpleNamespace(**{k.replace(".", "_"): v for k, v in loaded.items()})


@pytest.fixture(scope="module")
def tv():
    """torchvision's files, with PyTorch on one thread: these models are small, and a thread
    pool on a busy machine makes its float64 backward passes many times slower."""
    torch = pytest.importorskip("torch")
    files = _load_torchvision_files(torch, _TV_FILES)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield files
    torch.set_num_threads(threads)


def _shapes(state_dict):
    return [(k, tuple(v.shape)) for k, v in state_dict.items()]


# ---- every builder: torchvision's parameter counts and weights enums; keys for one per file --

# builder -> its torchvision file; the count is the DEFAULT weights' ``num_params``, which are
# for the builder's defaults except where noted in _COUNT_KWARGS.
_FILES = {
    "mobilenetv3": ["mobilenet_v3_small", "mobilenet_v3_large"],
    "efficientnet": [f"efficientnet_b{i}" for i in range(8)]
    + ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"],
    "convnext": ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"],
    "shufflenetv2": [f"shufflenet_v2_x{w}" for w in ("0_5", "1_0", "1_5", "2_0")],
    "squeezenet": ["squeezenet1_0", "squeezenet1_1"],
    "regnet": [f"regnet_y_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf")]
    + ["regnet_y_32gf", "regnet_y_128gf"]
    + [f"regnet_x_{s}" for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")],
    "vision_transformer": ["vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"],
    "swin_transformer": ["swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b"],
    "googlenet": ["googlenet"],
    "inception": ["inception_v3"],
    "mnasnet": ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"],
    "segmentation.fcn": ["fcn_resnet50", "fcn_resnet101"],
    "segmentation.deeplabv3": [
        "deeplabv3_resnet50",
        "deeplabv3_resnet101",
        "deeplabv3_mobilenet_v3_large",
    ],
    "segmentation.lraspp": ["lraspp_mobilenet_v3_large"],
}
_SEGMENTATION = {"weights_backbone": None, "aux_loss": True}
_COUNT_KWARGS = {
    "vit_h_14": {"image_size": 518},  # its SWAG weights are for 518×518 images
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"init_weights": False},
    **{name: _SEGMENTATION for file, names in _FILES.items() if "seg" in file for name in names},
}
_COUNT_KWARGS["lraspp_mobilenet_v3_large"] = {"weights_backbone": None}


def _builder(name):
    segmentation = name.startswith(("fcn_", "deeplabv3_", "lraspp_"))
    return getattr(models.segmentation if segmentation else models, name)


# counted (built on the meta device) for these; the other variants differ only in numbers
# of their settings tables, counted once by hand against torchvision (the suite's time budget)
_NOT_COUNTED = {
    *[f"efficientnet_b{i}" for i in range(1, 8)],
    "efficientnet_v2_m",
    "efficientnet_v2_l",
    "convnext_small",
    "convnext_base",
    "convnext_large",
    *[n for n in _FILES["regnet"] if n not in ("regnet_y_400mf", "regnet_x_400mf")],
    "swin_s",
    "swin_b",
    "swin_v2_s",
    "swin_v2_b",
    "fcn_resnet101",
    "deeplabv3_resnet101",
}


@pytest.mark.parametrize("file", sorted(_FILES))
def test_parameter_counts_and_weights_enums_match_torchvision(tv, file):
    module = getattr(tv, file.replace(".", "_"))
    for name in _FILES[file]:
        their_enum = vars(module)[models.get_model_weights(name).__name__]
        ours_enum = models.get_model_weights(name)
        assert [w.name for w in ours_enum] == [w.name for w in their_enum], name
        assert ours_enum.DEFAULT.name == their_enum.DEFAULT.name, name
        if name in _NOT_COUNTED:
            continue
        with minigrad.device("meta"):
            model = _builder(name)(**_COUNT_KWARGS.get(name, {}))
        count = sum(p.numel() for p in model.parameters())
        assert count == their_enum.DEFAULT.meta["num_params"], name


def test_registry_lists_the_new_builders():
    names = models.list_models()
    for file_names in _FILES.values():
        assert set(file_names) <= set(names)
    assert models.list_models(module=models.segmentation) == sorted(
        _FILES["segmentation.fcn"]
        + _FILES["segmentation.deeplabv3"]
        + ["lraspp_mobilenet_v3_large"]
    )
    assert "fcn_resnet50" not in models.list_models(module=models)
    with minigrad.device("meta"):
        assert models.get_model("regnet_y_400mf", num_classes=3).fc.out_features == 3
    assert models.RegNet_Y_128GF_Weights.DEFAULT.name == "IMAGENET1K_SWAG_E2E_V1"


def test_pretrained_weights_raise_clearly():
    with pytest.raises(RuntimeError, match=r"efficientnet_b0\(weights=EfficientNet_B0_Weights"):
        models.efficientnet_b0(weights=models.EfficientNet_B0_Weights.DEFAULT)
    with pytest.raises(RuntimeError, match=r"swin_t\(pretrained=True\)"):
        models.swin_t(pretrained=True)
    with pytest.raises(RuntimeError, match="weights_backbone=None"):
        models.segmentation.fcn_resnet50(num_classes=3)  # torchvision's backbone default
    with pytest.raises(RuntimeError, match="pretrained_backbone=True"):
        models.segmentation.lraspp_mobilenet_v3_large(
            weights_backbone=None, pretrained_backbone=True
        )
    with pytest.raises(NotImplementedError, match="does not use auxiliary loss"):
        models.segmentation.lraspp_mobilenet_v3_large(weights_backbone=None, aux_loss=True)


def test_torchvision_imports_them_under_as_torch():
    import importlib

    import minigrad.as_torch

    with minigrad.as_torch.imports():
        seg = importlib.import_module("torchvision.models.segmentation")
        tv_ops = importlib.import_module("torchvision.ops")
        tv_models = importlib.import_module("torchvision.models")
    assert seg.deeplabv3_resnet50 is models.segmentation.deeplabv3_resnet50
    assert tv_ops.StochasticDepth is ops.StochasticDepth and tv_ops.MLP is ops.MLP
    assert tv_models.swin_v2_t is models.swin_v2_t


# ---- small variants against torchvision's own code: init, eval outputs and gradients ------


def _load_into(ours, theirs):
    ours.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})


def _same_init_outputs_and_grads(torch, make_theirs, make_ours, shape, out=None, seed=0):
    """Same seed → same initial state; then, with PyTorch's parameters moved off their initial
    values (zero heads would hide the rest) and loaded into ours, in float64 eval mode: the same
    outputs and the same gradients of sum(out²) for the input and every parameter."""
    out = out or (lambda y: y)
    torch.manual_seed(seed)
    theirs = make_theirs()
    minigrad.manual_seed(seed)
    ours = make_ours()
    theirs_sd, ours_sd = theirs.state_dict(), ours.state_dict()
    assert _shapes(ours_sd) == _shapes(theirs_sd)
    for k, v in theirs_sd.items():
        np.testing.assert_allclose(ours_sd[k].numpy(), v.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    theirs.double().eval()
    ours.double().eval()
    _load_into(ours, theirs)
    x = np.random.default_rng(seed).standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    xm = minigrad.tensor(x, requires_grad=True)
    yt, ym = out(theirs(xt)), out(ours(xm))
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-10)
    (yt**2).sum().backward()
    (ym**2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-10)
    for (name, pt), (_, pm) in zip(theirs.named_parameters(), ours.named_parameters()):
        if pt.grad is None:  # e.g. auxiliary heads in eval mode
            assert pm.grad is None, name
            continue
        np.testing.assert_allclose(
            pm.grad.numpy(), pt.grad.numpy(), rtol=1e-6, atol=1e-10, err_msg=name
        )
    return theirs, ours


def _both(tv, file, make):
    """``make(module)`` for torchvision's file and for ours."""
    ours = importlib.import_module(f"minigrad.vision.models.{file}")
    return partial(make, getattr(tv, file.replace(".", "_"))), partial(make, ours)


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


def _tiny_convnext(module):
    setting = [module.CNBlockConfig(8, 16, 2), module.CNBlockConfig(16, None, 1)]
    return module.ConvNeXt(setting, stochastic_depth_prob=0.5, layer_scale=0.5, num_classes=3)


def _tiny_regnet(module):
    params = module.BlockParams.from_init_params(
        depth=4, w_0=8, w_a=8.3, w_m=2.1, group_width=4, se_ratio=0.25
    )
    return module.RegNet(params, num_classes=3, stem_width=8)


def _tiny_vit(module, **kwargs):
    return module.VisionTransformer(16, 8, 2, 2, 8, 16, num_classes=3, **kwargs)


def _tiny_vit_conv_stem(module):
    stem = [module.ConvStemConfig(4, 3, 2), module.ConvStemConfig(6, 3, 4)]
    return _tiny_vit(module, conv_stem_configs=stem, representation_size=5)


def _tiny_swin(module, v2=False):
    extra = dict(block=module.SwinTransformerBlockV2, downsample_layer=module.PatchMergingV2)
    return module.SwinTransformer(
        [2, 2], 8, [2, 2], [2, 4], [3, 3], num_classes=3, stochastic_depth_prob=0.5,
        **(extra if v2 else {}),
    )  # fmt: skip


_SMALL = {
    "mobilenet_v3_large_dilated": (
        "mobilenetv3",
        lambda m: m.mobilenet_v3_large(
            num_classes=3, width_mult=0.25, reduced_tail=True, dilated=True
        ),
        (1, 3, 32, 32),
    ),
    "efficientnet": ("efficientnet", _tiny_efficientnet, (1, 3, 32, 32)),
    "convnext": ("convnext", _tiny_convnext, (1, 3, 16, 16)),
    "shufflenet_v2_x0_5": (
        "shufflenetv2",
        lambda m: m.shufflenet_v2_x0_5(num_classes=4),
        (1, 3, 16, 16),
    ),
    "squeezenet1_1": ("squeezenet", lambda m: m.squeezenet1_1(num_classes=4), (1, 3, 40, 40)),
    "regnet": ("regnet", _tiny_regnet, (1, 3, 32, 32)),
    "vit": ("vision_transformer", _tiny_vit, (2, 3, 16, 16)),
    "vit_conv_stem": ("vision_transformer", _tiny_vit_conv_stem, (2, 3, 16, 16)),
    "swin": ("swin_transformer", _tiny_swin, (2, 3, 14, 18)),
    "swin_v2": ("swin_transformer", partial(_tiny_swin, v2=True), (2, 3, 14, 18)),
    "mnasnet": ("mnasnet", lambda m: m.MNASNet(0.25, num_classes=3), (1, 3, 16, 16)),
}


@pytest.mark.parametrize("case", sorted(_SMALL))
def test_small_variant_matches_torchvision(tv, case):
    import torch

    file, make, shape = _SMALL[case]
    _same_init_outputs_and_grads(torch, *_both(tv, file, make), shape)


@pytest.mark.parametrize("case", ["efficientnet", "swin"])
def test_training_mode_draws_the_same_stochastic_depth(tv, case):
    """Training mode (batch statistics, dropout, stochastic depth): the same masks under the
    same seed, so the same outputs."""
    import torch

    file, make, shape = _SMALL[case]
    make_theirs, make_ours = _both(tv, file, make)
    torch.manual_seed(0)
    theirs = make_theirs().double()
    ours = make_ours().double()
    _load_into(ours, theirs)
    x = np.random.default_rng(1).standard_normal((4, *shape[1:]))
    torch.manual_seed(5)
    yt = theirs(torch.tensor(x))
    minigrad.manual_seed(5)
    ym = ours(minigrad.tensor(x))
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-10)


def test_googlenet_and_inception_v3_blocks(tv):
    """The Inception modules of both nets (the whole nets, Inception-E and the auxiliary heads
    have millions of parameters: their counts are checked above); both nets warn about the
    default init as torchvision does."""
    import torch

    blocks = [
        ("googlenet", lambda m: m.Inception(8, 4, 4, 6, 2, 3, 3), (1, 8, 5, 5)),
        ("inception", lambda m: m.InceptionA(8, pool_features=4), (1, 8, 5, 5)),
        ("inception", lambda m: m.InceptionB(8), (1, 8, 7, 7)),
        ("inception", lambda m: m.InceptionC(8, channels_7x7=4), (1, 8, 4, 4)),
        ("inception", lambda m: m.InceptionD(8), (1, 8, 7, 7)),
    ]
    for file, make, shape in blocks:
        _same_init_outputs_and_grads(torch, *_both(tv, file, make), shape)
    with minigrad.device("meta"):
        with pytest.warns(FutureWarning, match="default weight initialization of GoogleNet"):
            assert models.googlenet().aux1 is not None
        with pytest.warns(FutureWarning, match="default weight initialization of inception_v3"):
            assert models.inception_v3(aux_logits=False).AuxLogits is None


def test_segmentation_models(tv):
    """LR-ASPP and DeepLabV3 (with its auxiliary FCN head) wired as torchvision wires them on
    a dilated MobileNetV3 (a quarter-width Small one here; the builders' Large backbones and
    256-channel DeepLabHead are counted above), with a small ASPP: init, outputs and gradients
    as torchvision's."""
    import torch

    stages = models.segmentation.deeplabv3._mobilenetv3_stages
    with minigrad.device("meta"):
        small = models.mobilenet_v3_small(dilated=True).features
        large = models.mobilenet_v3_large(dilated=True).features
    assert stages(small) == [0, 1, 2, 4, 9, 12] and stages(large) == [0, 2, 4, 7, 13, 16]
    low, high = str(stages(small)[-4]), str(stages(small)[-1])  # output strides 8 and 16

    def backbone(m):
        mobilenet = tv.mobilenetv3 if m.__name__.startswith("torchvision") else models
        return mobilenet.mobilenet_v3_small(width_mult=0.25, dilated=True).features

    def lraspp(m):
        features = backbone(m)
        getter = m.IntermediateLayerGetter(features, {low: "low", high: "high"})
        widths = features[int(low)].out_channels, features[int(high)].out_channels
        return m.LRASPP(getter, *widths, 3, 8)

    def deeplab(m):
        features = backbone(m)
        getter = m.IntermediateLayerGetter(features, {high: "out", low: "aux"})
        nn = torch.nn if m.__name__.startswith("torchvision") else minigrad.nn
        aspp = m.ASPP(features[int(high)].out_channels, [1, 2], 8)
        aux = m.FCNHead(features[int(low)].out_channels, 3)
        return m.DeepLabV3(getter, nn.Sequential(aspp, nn.Conv2d(8, 3, 1)), aux)

    _same_init_outputs_and_grads(
        torch, *_both(tv, "segmentation.lraspp", lraspp), (1, 3, 32, 32), out=lambda d: d["out"]
    )
    _, ours = _same_init_outputs_and_grads(
        torch, *_both(tv, "segmentation.deeplabv3", deeplab), (1, 3, 32, 32),
        out=lambda d: d["out"] + d["aux"].sum(),
    )  # fmt: skip
    assert list(ours(minigrad.randn(1, 3, 24, 24, dtype=minigrad.float64))) == ["out", "aux"]


def test_vit_checkpoint_helpers(tv):
    """``interpolate_embeddings`` as torchvision's; version-1 checkpoints' MLP names load; a
    version-1 MNASNet checkpoint (another stem) says it is not supported."""
    import torch

    torch.manual_seed(0)
    state = _tiny_vit(tv.vision_transformer).state_dict()
    theirs = tv.vision_transformer.interpolate_embeddings(24, 8, dict(state), reset_heads=True)
    mine = {k: minigrad.tensor(v.numpy()) for k, v in state.items()}
    mine = models.vision_transformer.interpolate_embeddings(24, 8, mine, reset_heads=True)
    assert list(mine) == list(theirs)
    np.testing.assert_allclose(
        mine["encoder.pos_embedding"].numpy(),
        theirs["encoder.pos_embedding"].numpy(),
        rtol=1e-5,
        atol=1e-6,
    )
    model = _tiny_vit(models.vision_transformer)
    old = dict(model.state_dict())
    prefix = "encoder.layers.encoder_layer_0.mlp."
    for i, j in ((0, 1), (3, 2)):
        for kind in ("weight", "bias"):
            old[f"{prefix}linear_{j}.{kind}"] = old.pop(f"{prefix}{i}.{kind}")
    metadata = {prefix[:-1]: {"version": 1}}
    old = type("StateDict", (dict,), {"_metadata": metadata})(old)
    model.load_state_dict(old)
    with minigrad.device("meta"):
        mnasnet = models.mnasnet0_5()
    legacy = type("StateDict", (dict,), {"_metadata": {"": {"version": 1}}})(mnasnet.state_dict())
    with pytest.raises(NotImplementedError, match="version-1 checkpoint"):
        mnasnet.load_state_dict(legacy)


def test_stochastic_depth_and_misc_layers(tv):
    import torch

    x = np.random.default_rng(0).standard_normal((6, 3, 2))
    for mode in ["row", "batch"]:
        torch.manual_seed(2)
        minigrad.manual_seed(2)
        want = tv.stochastic_depth.stochastic_depth(torch.tensor(x), 0.4, mode)
        got = ops.stochastic_depth(minigrad.tensor(x), 0.4, mode)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    same = ops.stochastic_depth(minigrad.tensor(x), 0.4, "row", training=False)
    np.testing.assert_array_equal(same.numpy(), x)
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
    assert ops.Permute([0, 2, 3, 1])(minigrad.ones(1, 2, 3, 4)).shape == (1, 3, 4, 2)
