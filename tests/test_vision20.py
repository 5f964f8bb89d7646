"""minigrad.vision's video classifiers (``models.video``), MaxViT, RAFT and the MobileNetV3
Faster R-CNNs against torchvision 0.28's own model files, run under PyTorch with stand-ins for
the torchvision modules they import (``test_vision_models18``'s loader): builders give
torchvision's state-dict keys, shapes and parameter counts (on the meta device), small
variants the same initial values, eval outputs and gradients (float64)."""

import contextlib
import importlib
import types
import warnings

import numpy as np
import pytest
from test_vision_models18 import (
    _load_into,
    _load_torchvision_files,
    _same_init_outputs_and_grads,
    _shapes,
)

import minigrad
from minigrad.vision import models
from minigrad.vision.models import video

_TV_FILES = [
    "video.resnet",
    "video.s3d",
    "swin_transformer",
    "video.swin_transformer",
    "video.mvit",
    "optical_flow._utils",
    "optical_flow.raft",
    "maxvit",
    *["resnet", "mobilenetv2", "shufflenetv2", "quantization.utils", "quantization.resnet"],
    *["quantization.mobilenetv2", "quantization.shufflenetv2", "googlenet", "inception"],
    *["quantization.googlenet", "quantization.inception", "mobilenetv3"],
    "quantization.mobilenetv3",
]


@pytest.fixture(scope="module")
def tv():
    torch = pytest.importorskip("torch")
    files = _load_torchvision_files(torch, _TV_FILES)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield files
    torch.set_num_threads(threads)


# builder -> (its torchvision file, the count of torchvision's docs / weights metadata);
# swin3d_s/_b (depths and widths of swin3d_t's code) are left to the check script (time budget)
_COUNTS = {
    "r3d_18": ("video_resnet", 33_371_472),
    "mc3_18": ("video_resnet", 11_695_440),
    "r2plus1d_18": ("video_resnet", 31_505_325),
    "s3d": ("video_s3d", 8_320_048),
    "swin3d_t": ("video_swin_transformer", 28_158_070),
    "mvit_v1_b": ("video_mvit", 36_610_672),
    "mvit_v2_s": ("video_mvit", 34_537_744),
    "raft_small": ("optical_flow_raft", 990_162),
    "raft_large": ("optical_flow_raft", 5_257_536),
    "maxvit_t": ("maxvit", 30_919_624),
}


def _meta(builder, **kwargs):
    with minigrad.device("meta"):
        return builder(**kwargs)


@contextlib.contextmanager
def _torch_without_init(torch):
    """torch.nn.init's functions as no-ops: torchvision's full-size models built on the CPU
    for their shapes only (PyTorch's meta device costs seconds on first use)."""
    init = torch.nn.init
    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *args, **kwargs: tensor)
        with torch.no_grad():
            yield
    finally:
        for n, f in saved.items():
            setattr(init, n, f)


@pytest.mark.parametrize("name", sorted(_COUNTS))
def test_builders_match_torchvision_keys_counts_and_enums(tv, name):
    import torch

    file, count = _COUNTS[name]
    module = getattr(tv, file)
    ours = _meta(models.get_model_builder(name))
    assert sum(p.numel() for p in ours.parameters()) == count
    with _torch_without_init(torch):
        theirs = getattr(module, name)()
    assert _shapes(ours.state_dict()) == _shapes(theirs.state_dict())
    ours_enum = models.get_model_weights(name)
    their_enum = vars(module)[ours_enum.__name__]
    assert [w.name for w in ours_enum] == [w.name for w in their_enum]
    assert their_enum.DEFAULT.meta["num_params"] == count
    assert ours_enum.DEFAULT.name == their_enum.DEFAULT.name
    with pytest.raises(
        RuntimeError, match=rf"{name}\(weights=.*_Weights.{their_enum.DEFAULT.name}"
    ):
        models.get_model(name, weights=ours_enum.DEFAULT)


def test_registry_and_as_torch():
    import importlib

    import minigrad.as_torch

    assert models.list_models(module=video) == [
        "mc3_18", "mvit_v1_b", "mvit_v2_s", "r2plus1d_18", "r3d_18", "s3d", "swin3d_b",
        "swin3d_s", "swin3d_t",
    ]  # fmt: skip
    assert models.list_models(module=models.optical_flow) == ["raft_large", "raft_small"]
    with minigrad.as_torch.imports():
        tv_video = importlib.import_module("torchvision.models.video")
        tv_flow = importlib.import_module("torchvision.models.optical_flow")
        tv_models = importlib.import_module("torchvision.models")
        tv_ops = importlib.import_module("torchvision.ops")
    assert tv_video.r2plus1d_18 is video.r2plus1d_18
    assert tv_flow.raft_small is models.optical_flow.raft_small
    assert tv_models.maxvit_t is models.maxvit_t
    assert tv_ops.Conv3dNormActivation.__module__ == "minigrad.vision.ops.misc"


def _video_block(module, maker, block="BasicBlock"):
    """torchvision's stem for ``maker``, then one strided block of it with its shortcut (the
    widths of the 18-layer models are fixed; small blocks keep this fast)."""
    nn, conv = module.nn, getattr(module, maker)
    stem = module.R2Plus1dStem() if maker == "Conv2Plus1D" else module.BasicStem()
    expansion = getattr(module, block).expansion
    shortcut = nn.Sequential(
        nn.Conv3d(64, 4 * expansion, 1, stride=conv.get_downsample_stride(2), bias=False),
        nn.BatchNorm3d(4 * expansion),
    )
    return nn.Sequential(stem, getattr(module, block)(64, 4, conv, 2, shortcut))


def _tiny_s3d_block(module):
    norm = module.partial(module.nn.BatchNorm3d, eps=0.001, momentum=0.001)
    return module.nn.Sequential(
        module.TemporalSeparableConv(3, 4, 3, 2, 1, norm),
        module.SepInceptionBlock3D(4, 2, 3, 4, 2, 3, 2, norm),
    )


def _tiny_maxvit(module):
    """Two stages on 16×16 images (maps 4×4 and 2×2), 2×2 windows and grids, stochastic depth
    (identity in eval mode)."""
    return module.MaxVit(
        (16, 16), 8, 2, [8, 16], [1, 1], head_dim=4, stochastic_depth_prob=0.2, num_classes=3
    )


def _tiny_swin3d(module):
    """Two stages on a 4×12×14 clip: windows clamped to the clip, padded, and shifted (with
    the mask) in the second block of the first stage and in the second stage."""
    return module.SwinTransformer3d(
        [2, 2, 2], 8, [2, 1], [2, 2], [2, 3, 3], stochastic_depth_prob=0.2, num_classes=3
    )


def _tiny_mvit(module, v2=False):
    """Two blocks on a 4×16×16 clip (tokens 2×4×4): pooled keys/values, then pooled queries
    with the max-pooled shortcut and a width change; ``v2``: relative positions, residual
    pooling and the projection after attention."""
    config = module.MSBlockConfig
    blocks = [
        config(1, 8, 8 if v2 else 16, [3, 3, 3] if v2 else [], [3, 3, 3], [1, 1, 1] if v2 else [], [1, 2, 2]),
        config(2, 8 if v2 else 16, 16, [3, 3, 3], [3, 3, 3], [1, 2, 2], [1, 1, 1]),
    ]  # fmt: skip
    return module.MViT(
        (16, 16), 4, blocks, residual_pool=v2, residual_with_cls_embed=False,
        rel_pos_embed=v2, proj_after_attn=v2, stochastic_depth_prob=0.2, num_classes=3,
    )  # fmt: skip


def _tiny_raft(module):
    """A narrow RAFT with a 2-level pyramid (images from 32 pixels), run for two updates on the
    frame pair ``x[0]``, ``x[1]``; the output stacks the two flow estimates. Residual blocks
    with instance norms in the feature encoder (raft_large's), bottleneck blocks without norms
    in the context encoder (raft_small's), two separable GRUs and convex upsampling."""
    nn = module.nn
    lib = getattr(module, "torch", None) or getattr(module, "minigrad", None)
    raft = module._raft(
        feature_encoder_layers=(8, 8, 8, 12, 16),
        feature_encoder_block=module.ResidualBlock,
        feature_encoder_norm_layer=nn.InstanceNorm2d,
        context_encoder_layers=(8, 8, 8, 12, 20),
        context_encoder_block=module.BottleneckBlock,
        context_encoder_norm_layer=None,
        corr_block_num_levels=2,
        corr_block_radius=1,
        motion_encoder_corr_layers=(12, 8),
        motion_encoder_flow_layers=(8, 6),
        motion_encoder_out_channels=10,
        recurrent_block_hidden_state_size=12,
        recurrent_block_kernel_size=((1, 5), (5, 1)),
        recurrent_block_padding=((0, 2), (2, 0)),
        flow_head_hidden_size=8,
        use_mask_predictor=True,
    )

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.raft = raft

        def forward(self, x):
            return lib.stack(self.raft(x[0], x[1], num_flow_updates=2))

    return Pair()


_SMALL = {
    "r3d": ("video.resnet", lambda m: _video_block(m, "Conv3DSimple"), (1, 3, 4, 16, 16)),
    "mc3": ("video.resnet", lambda m: _video_block(m, "Conv3DNoTemporal"), (1, 3, 4, 16, 16)),
    "r2plus1d": ("video.resnet", lambda m: _video_block(m, "Conv2Plus1D"), (1, 3, 4, 16, 16)),
    "bottleneck": (
        "video.resnet",
        lambda m: _video_block(m, "Conv2Plus1D", "Bottleneck"),
        (1, 3, 4, 16, 16),
    ),
    "s3d": ("video.s3d", _tiny_s3d_block, (1, 3, 4, 8, 8)),
    "maxvit": ("maxvit", _tiny_maxvit, (1, 3, 16, 16)),
    "swin3d": ("video.swin_transformer", _tiny_swin3d, (1, 3, 4, 12, 14)),
    "mvit_v1": ("video.mvit", _tiny_mvit, (1, 3, 4, 16, 16)),
    "mvit_v2": ("video.mvit", lambda m: _tiny_mvit(m, v2=True), (1, 3, 4, 16, 16)),
}


@pytest.mark.parametrize("case", sorted(_SMALL))
def test_small_parts_match_torchvision(tv, case):
    import importlib
    from functools import partial

    import torch

    file, make, shape = _SMALL[case]
    ours = importlib.import_module(f"minigrad.vision.models.{file}")
    theirs = getattr(tv, file.replace(".", "_"))
    _same_init_outputs_and_grads(torch, partial(make, theirs), partial(make, ours), shape)


# ---- MobileNetV3-Large FPN Faster R-CNN ----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v3_large_320_fpn"]
)
def test_fasterrcnn_mobilenet_builders(name):
    """330 state dict entries and 19,410,754 parameters (torchvision's builders, weights=None,
    weights_backbone=None, read by scripts/check_video_against_torchvision.py); less the
    backbone's batch-norm parameters, torchvision's ``num_params`` (its pretrained backbone's
    norms are frozen buffers)."""
    from minigrad import nn
    from minigrad.vision.models import detection

    model = _meta(getattr(detection, name), weights_backbone=None, num_classes=None)
    count = sum(p.numel() for p in model.parameters())
    assert (len(model.state_dict()), count) == (330, 19_410_754)
    norms = [m for m in model.backbone.body.modules() if isinstance(m, nn.BatchNorm2d)]
    assert count - sum(p.numel() for m in norms for p in m.parameters()) == 19_386_354
    assert list(model.backbone.body) == [str(i) for i in range(17)]
    assert model.backbone.body.return_layers == {"13": "0", "16": "1"}
    assert model.rpn.score_thresh == 0.05
    assert model.transform.min_size == ((320,) if "320" in name else (800,))
    assert model.rpn._pre_nms_top_n["testing"] == (150 if "320" in name else 1000)
    with pytest.raises(RuntimeError, match="weights_backbone=None"):
        getattr(detection, name)()


def test_mobilenet_backbone_freezes_early_stages():
    from minigrad import nn
    from minigrad.vision.models.detection.backbone_utils import mobilenet_backbone

    with minigrad.device("meta"):
        plain = mobilenet_backbone(
            backbone_name="mobilenet_v3_small", fpn=False, norm_layer=nn.BatchNorm2d
        )
        fpn = mobilenet_backbone(backbone_name="mobilenet_v2", fpn=True, trainable_layers=0)
    assert plain.out_channels == 256 and plain[1].in_channels == 576
    trainable = [i for i, b in enumerate(plain[0]) if all(p.requires_grad for p in b.parameters())]
    assert trainable == [9, 10, 11, 12]  # the last two stages (from the last stride-2 block)
    assert not any(p.requires_grad for p in fpn.body.parameters())
    assert fpn.body.return_layers == {"14": "0", "18": "1"}
    with pytest.raises(ValueError, match=r"range \[0,6\], got 7"), minigrad.device("meta"):
        mobilenet_backbone(backbone_name="mobilenet_v3_small", fpn=True, trainable_layers=7)


@pytest.mark.parametrize("case", ["maxvit", "swin3d", "mvit_v2"])
def test_training_mode_draws_the_same_stochastic_depth(tv, case):
    """Training mode (batch statistics, stochastic depth): the same masks under the same
    seed, so the same outputs."""
    import importlib

    import torch

    file, make, shape = _SMALL[case]
    torch.manual_seed(0)
    theirs = make(getattr(tv, file.replace(".", "_"))).double()
    ours = make(importlib.import_module(f"minigrad.vision.models.{file}")).double()
    _load_into(ours, theirs)
    x = np.random.default_rng(1).standard_normal((4, *shape[1:]))
    torch.manual_seed(5)
    yt = theirs(torch.tensor(x))
    minigrad.manual_seed(5)
    ym = ours(minigrad.tensor(x))
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-10)


def test_tiny_raft_matches_torchvision(tv):
    """torchvision's RAFT runs in float32 only (its coordinate grids are float32, and
    PyTorch's grid_sample refuses mixed dtypes): same init, then the two flow estimates and
    the gradients of their squared sum, in eval mode, to float32 rounding."""
    import torch

    torch.manual_seed(0)
    theirs = _tiny_raft(tv.optical_flow_raft)
    minigrad.manual_seed(0)
    ours = _tiny_raft(models.optical_flow.raft)
    for (k, a), (j, b) in zip(theirs.state_dict().items(), ours.state_dict().items()):
        assert k == j and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    ours.load_state_dict({k: minigrad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    theirs.eval()
    ours.eval()
    x = np.random.default_rng(0).random((2, 1, 3, 32, 40), np.float32)
    xt, xm = torch.tensor(x, requires_grad=True), minigrad.tensor(x, requires_grad=True)
    yt, ym = theirs(xt), ours(xm)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    (yt**2).sum().backward()
    (ym**2).sum().backward()
    scale = np.abs(xt.grad.numpy()).max()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), atol=1e-4 * scale)
    # one scale for all: a bias before an instance norm has a gradient of rounding noise only
    scale = max(np.abs(p.grad.numpy()).max() for p in theirs.parameters())
    for (name, pt), (_, pm) in zip(theirs.named_parameters(), ours.named_parameters()):
        np.testing.assert_allclose(
            pm.grad.numpy(), pt.grad.numpy(), atol=1e-5 * scale, err_msg=name
        )


def test_raft_bilinear_upsampling_and_single_gru(tv):
    """raft_small's parts the tiny RAFT above leaves out: bilinear ``upsample_flow`` (no mask)
    and a one-cell ``RecurrentBlock``, against torchvision's."""
    import torch

    from minigrad.vision.models.optical_flow import _utils, raft

    flow = np.random.default_rng(0).standard_normal((1, 2, 3, 5)).astype(np.float32)
    a = _utils.upsample_flow(minigrad.tensor(flow)).numpy()
    b = tv.optical_flow__utils.upsample_flow(torch.tensor(flow)).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    torch.manual_seed(0)
    theirs = tv.optical_flow_raft.RecurrentBlock(
        input_size=3, hidden_size=4, kernel_size=(3,), padding=(1,)
    )
    minigrad.manual_seed(0)
    ours = raft.RecurrentBlock(input_size=3, hidden_size=4, kernel_size=(3,), padding=(1,))
    rng = np.random.default_rng(1)
    h, x = (rng.standard_normal((1, c, 5, 5)).astype(np.float32) for c in (4, 3))
    expected = theirs(torch.tensor(h), torch.tensor(x)).detach().numpy()
    got = ours(minigrad.tensor(h), minigrad.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# ---- models.quantization: torchvision's quantizable classifiers through eager quantization --


def _small_quantizable(ns, case):
    """A shallow variant of each quantizable family, built from ``ns`` (torchvision's modules
    or minigrad's), ReLUs swapped as the builders do."""
    small = {
        "resnet18": lambda: ns.resnet.QuantizableResNet(
            ns.resnet.QuantizableBasicBlock, [1, 1, 1, 1], num_classes=10
        ),
        "mobilenet_v2": lambda: ns.mobilenetv2.QuantizableMobileNetV2(
            num_classes=10,
            inverted_residual_setting=[[1, 16, 1, 1], [6, 24, 2, 2]],
            block=ns.mobilenetv2.QuantizableInvertedResidual,
        ),  # fmt: skip
        "shufflenet": lambda: ns.shufflenetv2.QuantizableShuffleNetV2(
            [1, 2, 1], [8, 16, 32, 64, 64], num_classes=10
        ),
        "googlenet_block": lambda: _stubbed(
            ns.nn,
            ns.tq,
            ns.googlenet.QuantizableInception(8, 4, 4, 8, 2, 4, 4),
            ns.googlenet.QuantizableBasicConv2d,
        ),  # fmt: skip
        "inception_e": lambda: _stubbed(
            ns.nn,
            ns.tq,
            ns.inception.QuantizableInceptionE(8),
            ns.googlenet.QuantizableBasicConv2d
            if ns.nn is minigrad.nn
            else (ns.inception.QuantizableBasicConv2d),
        ),  # fmt: skip
    }[case]
    model = small()
    ns.utils._replace_relu(model)
    return model


_LAST_CAT = {"googlenet_block": "cat", "inception_e": "myop3"}


def _stubbed(nn, tq, block, conv_type):
    """``block`` (one quantizable Inception block) between a QuantStub and a DeQuantStub, with
    the ``fuse_model`` of the GoogLeNet and Inception v3 models (each conv-bn-relu)."""

    class Stubbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.block, self.dequant = tq.QuantStub(), block, tq.DeQuantStub()

        def forward(self, x):
            return self.dequant(self.block(self.quant(x)))

        def fuse_model(self, is_qat=None):
            for m in self.modules():
                if type(m) is conv_type:
                    m.fuse_model(is_qat)

    return Stubbed()


def _quantization_keys(model) -> list[str]:
    """State-dict keys with each quantized layer's entries named by the layer only: PyTorch
    packs a quantized weight in one entry (a Linear's in ``_packed_params``), minigrad keeps
    plain tensors (``weight.int_repr``, ``weight.scale``, ...; see ``_QuantizedState``)."""
    keys = []
    for key in model.state_dict():
        for part in (".weight.", "._packed_params.", ".weight", ".bias", ".scale", ".zero_point"):
            if part in key and not key.endswith(("running_mean", "running_var")):
                key = key[: key.index(part)] + ".<quantized>"
                break
        if key not in keys:
            keys.append(key)
    return keys


@pytest.mark.parametrize(
    "case", ["resnet18", "mobilenet_v2", "shufflenet", "googlenet_block", "inception_e"]
)
def test_quantizable_models_quantize_as_torchvisions(tv, case, monkeypatch):
    """Copied float weights (batch norms with real statistics): the same float outputs; after
    ``fuse_model``, ``prepare`` (fbgemm's qconfig), calibration and ``convert``: the same
    state-dict keys, module types and quantized outputs (within one output quantization step:
    one flipped rounding in a hidden layer may move the logits by a step)."""
    import torch

    import minigrad.ao.quantization as mq
    from minigrad.vision.models.quantization import (
        inception,
        mobilenetv2,
        resnet,
        shufflenetv2,
        utils,
    )

    # (the package's ``googlenet`` is the builder, as torchvision's)
    googlenet = importlib.import_module("minigrad.vision.models.quantization.googlenet")

    ours_ns = types.SimpleNamespace(
        resnet=resnet, mobilenetv2=mobilenetv2, shufflenetv2=shufflenetv2, utils=utils,
        googlenet=googlenet, inception=inception, nn=minigrad.nn, tq=mq,
    )  # fmt: skip
    theirs_ns = types.SimpleNamespace(
        resnet=tv.quantization_resnet, mobilenetv2=tv.quantization_mobilenetv2,
        shufflenetv2=tv.quantization_shufflenetv2, utils=tv.quantization_utils,
        googlenet=tv.quantization_googlenet, inception=tv.quantization_inception, nn=torch.nn,
        tq=torch.ao.quantization,
    )  # fmt: skip
    torch.manual_seed(0)
    theirs = _small_quantizable(theirs_ns, case)
    init = minigrad.nn.init
    with monkeypatch.context() as patch:  # ours gets theirs' values: its own init is skipped
        for name in [n for n in dir(init) if n.endswith("_") and not n.startswith("_")]:
            patch.setattr(init, name, lambda tensor, *args, **kwargs: tensor)
        ours = _small_quantizable(ours_ns, case)
    # (PyTorch's quantized mean of the 1×1 map a 32×32 input leaves in ShuffleNet raises)
    size = {"shufflenet": 64, "googlenet_block": 8, "inception_e": 4}.get(case, 32)
    channels = 8 if case in ("googlenet_block", "inception_e") else 3
    x = np.random.default_rng(0).random((1, channels, size, size), dtype=np.float32)
    xt, xm = torch.from_numpy(x), minigrad.tensor(x)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # batch norms off their initial values, with the batch's statistics
        for mod in theirs.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.momentum = 1.0
                mod.weight.add_(0.2 * torch.rand(mod.weight.shape, generator=gen))
                mod.bias.add_(0.1 * torch.randn(mod.bias.shape, generator=gen))
        theirs.train()(torch.cat([xt, xt.flip(2)]))
    theirs.eval(), ours.eval()
    _load_into(ours, theirs)
    expected = theirs(xt).detach().numpy()
    atol = 1e-4 * np.abs(expected).max()
    np.testing.assert_allclose(ours(xm).detach().numpy(), expected, rtol=0, atol=atol)
    tq = torch.ao.quantization
    theirs.qconfig = tq.QConfig(tq.default_observer, tq.default_per_channel_weight_observer)
    ours.qconfig = mq.QConfig(mq.default_observer, mq.default_per_channel_weight_observer)
    theirs.fuse_model(), ours.fuse_model()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the eager entry points warn it
        tq.prepare(theirs, inplace=True), mq.prepare(ours, inplace=True)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        theirs(xt), ours(xm)
        tq.convert(theirs, inplace=True), mq.convert(ours, inplace=True)
    assert _quantization_keys(ours) == _quantization_keys(theirs)
    packed = "LinearPackedParams"  # (PyTorch's holder of a Linear's packed weight)
    names = [(n, type(m).__name__) for n, m in theirs.named_modules() if type(m).__name__ != packed]
    assert [(n, type(m).__name__) for n, m in ours.named_modules()] == names
    expected = theirs(xt).numpy()
    head = {"resnet18": "fc", "shufflenet": "fc", "mobilenet_v2": "classifier.1"}.get(case)
    head = theirs.get_submodule(head) if head else theirs.block.get_submodule(_LAST_CAT[case])
    np.testing.assert_allclose(ours(xm).numpy(), expected, rtol=0, atol=head.scale * 1.001)


def test_quantize_true_builds_torchvisions_int8_model(tv):
    """``quantize=True`` (torchvision's ``quantize_model``: fbgemm's qconfig, fuse, prepare,
    one random 299×299 calibration image, convert): the same quantized module types as
    torchvision's builder, a quantized forward pass, the engine set as torchvision sets it."""
    import torch

    from minigrad.vision.models import quantization

    engines = minigrad.backends.quantized.engine, torch.backends.quantized.engine
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ours = quantization.shufflenet_v2_x0_5(quantize=True, num_classes=10)
            theirs = tv.quantization_shufflenetv2.shufflenet_v2_x0_5(quantize=True, num_classes=10)
        assert minigrad.backends.quantized.engine == "fbgemm"
    finally:
        minigrad.backends.quantized.engine, torch.backends.quantized.engine = engines
    packed = "LinearPackedParams"
    names = [(n, type(m).__name__) for n, m in theirs.named_modules() if type(m).__name__ != packed]
    assert [(n, type(m).__name__) for n, m in ours.named_modules()] == names
    assert ours.stage2[0].branch2[0].weight().qscheme() is minigrad.per_channel_affine
    out = ours(minigrad.rand(1, 3, 64, 64))
    assert out.shape == (1, 10) and not out.is_quantized
    state = ours.state_dict()  # the concatenations' qparams saved and loaded, as PyTorch's
    their_state = theirs.state_dict()
    for key in ["stage2.0.cat.scale", "stage2.0.cat.zero_point"]:
        assert str(state[key].dtype)[9:] == str(their_state[key].dtype)[6:] and state[key].ndim == 0
    state["stage2.0.cat.scale"] = minigrad.tensor(0.5, dtype=minigrad.float64)
    ours.load_state_dict(state)
    assert ours.stage2[0].cat.scale == 0.5


def test_quantizable_builders_refuse_weights_and_register():
    """Weights raise as every builder's; the enums carry torchvision's members; the builders
    are registered under torchvision's ``quantized_*`` names."""
    from minigrad.vision.models import quantization

    enum = quantization.ResNet50_QuantizedWeights
    assert [m.name for m in enum] == ["IMAGENET1K_FBGEMM_V1", "IMAGENET1K_FBGEMM_V2"]
    assert enum.DEFAULT is enum.IMAGENET1K_FBGEMM_V2
    with pytest.raises(RuntimeError, match="no pretrained weights"):
        quantization.resnet18(weights=quantization.ResNet18_QuantizedWeights.DEFAULT)
    with pytest.raises(RuntimeError, match="no pretrained weights"):
        quantization.mobilenet_v2(pretrained=True, quantize=True)
    names = models.list_models(quantization)
    assert "quantized_resnet50" in names and "quantized_shufflenet_v2_x2_0" in names
    assert models.get_model_builder("quantized_mobilenet_v2") is quantization.mobilenet_v2


def test_quantized_mean_as_pytorchs():
    """``mean`` of a quantized tensor (ShuffleNetV2's global pool): PyTorch's integers and
    qparams, over the inner dims and one middle dim, with and without ``keepdim``."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 5, 2, 2), dtype=np.float32) * 3 - 0.5
    theirs = torch.quantize_per_tensor(torch.from_numpy(x), 0.05, 7, torch.quint8)
    ours = minigrad.quantize_per_tensor(minigrad.tensor(x), 0.05, 7, minigrad.quint8)
    for dims, keepdim in [([2, 3], False), ([2, 3], True), ([1], False)]:
        expected, got = theirs.mean(dims, keepdim=keepdim), ours.mean(dims, keepdim=keepdim)
        np.testing.assert_array_equal(got.int_repr().numpy(), expected.int_repr().numpy())
        assert (got.q_scale(), got.q_zero_point()) == (expected.q_scale(), 7)


def _fixed_qparams_model(nn, tq):
    """QuantStub → conv → Hardsigmoid → Sigmoid → Tanh → Softmax → DeQuantStub."""

    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.conv, self.dequant = (
                tq.QuantStub(),
                nn.Conv2d(2, 2, 1),
                tq.DeQuantStub(),
            )
            self.hs, self.sig, self.tanh, self.soft = (
                nn.Hardsigmoid(),
                nn.Sigmoid(),
                nn.Tanh(),
                nn.Softmax(1),
            )

        def forward(self, x):
            return self.dequant(self.soft(self.tanh(self.sig(self.hs(self.conv(self.quant(x)))))))

    return Fixed()


def test_fixed_qparams_fake_quant_as_pytorchs():
    """``prepare_qat`` attaches PyTorch's fixed-qparams fake-quantize to a training
    Hardsigmoid/Sigmoid/Softmax (grid 1/256, 0) and Tanh (2/256, 128): the same state-dict keys
    and values, the same fake-quantized outputs; eval ``prepare`` leaves them unobserved;
    ``convert`` takes them off."""
    torch = pytest.importorskip("torch")
    import minigrad.ao.quantization as mq

    tq = torch.ao.quantization
    theirs, ours = _fixed_qparams_model(torch.nn, tq), _fixed_qparams_model(minigrad.nn, mq)
    _load_into(ours, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs.qconfig, ours.qconfig = tq.default_qat_qconfig, mq.default_qat_qconfig
        tq.prepare_qat(theirs, inplace=True), mq.prepare_qat(ours, inplace=True)
        state = theirs.state_dict()
        assert list(ours.state_dict()) == list(state)
        for key, value in ours.state_dict().items():
            if ".hs." in f".{key}" or key.startswith(("sig.", "tanh.", "soft.")):
                np.testing.assert_array_equal(value.numpy(), state[key].numpy())
        assert type(ours.hs.activation_post_process) is mq.FixedQParamsFakeQuantize
        post = ours.tanh.activation_post_process.activation_post_process
        assert type(post) is mq.FixedQParamsObserver and post.calculate_qparams()[1].item() == 128
        x = np.random.default_rng(0).standard_normal((2, 2, 3, 3)).astype(np.float32) * 3
        for mod in ("hs", "sig", "tanh", "soft"):  # each module's fake-quantized output
            xt, xm = torch.from_numpy(x), minigrad.tensor(x)
            got = ours.get_submodule(mod)(xm).detach().numpy()
            np.testing.assert_allclose(
                got, theirs.get_submodule(mod)(xt).detach().numpy(), atol=1e-7
            )
        xt, xm = torch.from_numpy(x), minigrad.tensor(x)  # the whole model, observing
        expected = theirs(xt).detach().numpy()
        np.testing.assert_allclose(ours(xm).detach().numpy(), expected, atol=1e-6)
        mq.convert(ours.eval(), inplace=True)
        assert type(ours.hs) is minigrad.nn.Hardsigmoid and not list(ours.hs.children())
        assert not ours.hs._forward_hooks
        plain = _fixed_qparams_model(minigrad.nn, mq).eval()
        plain.qconfig = mq.default_qconfig
        mq.prepare(plain, inplace=True)
        assert not hasattr(plain.hs, "activation_post_process")
    with pytest.raises(AssertionError, match="observer must be a FixedQParamsObserver"):
        mq.FixedQParamsFakeQuantize(mq.MinMaxObserver)
    # FX graph mode's sigmoid observer is the same module, with the keys checked against PyTorch
    # above (PyTorch's own prepare_qat_fx costs 2 s on first use: not run here)
    from minigrad.ao.quantization import quantize_fx as mfx

    net = minigrad.nn.Sequential(minigrad.nn.Linear(3, 3), minigrad.nn.Sigmoid()).train()
    mapping = mq.get_default_qat_qconfig_mapping("x86")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = mfx.prepare_qat_fx(net, mapping, (minigrad.randn(2, 3),))
    fixed = [m for m in net.modules() if type(m) is mq.FixedQParamsFakeQuantize]
    assert len(fixed) == 1 and list(fixed[0].state_dict()) == [
        k[len("sig.activation_post_process.") :] for k in state if k.startswith("sig.a")
    ]


def test_quantized_hardsigmoid_as_pytorchs():
    """``F.hardsigmoid`` / ``quantized.functional.hardsigmoid`` of quantized tensors: PyTorch's
    integers on its fixed output grids (quint8, qint8, qint32, whose upper half saturates),
    in place, and its errors; qint32 quantization saturates at 2**31 - 1 (it wrapped)."""
    torch = pytest.importorskip("torch")
    from torch.ao.nn.quantized import functional as tqf

    from minigrad.ao.nn.quantized import functional as mqf

    x = np.linspace(-4, 4, 41, dtype=np.float32)
    for name, zp in [("quint8", 100), ("qint8", 10), ("qint32", 10)]:
        theirs = torch.quantize_per_tensor(torch.from_numpy(x), 0.05, zp, getattr(torch, name))
        ours = minigrad.quantize_per_tensor(minigrad.tensor(x), 0.05, zp, getattr(minigrad, name))
        expected, got = torch.nn.functional.hardsigmoid(theirs), minigrad.nn.Hardsigmoid()(ours)
        np.testing.assert_array_equal(got.int_repr().numpy(), expected.int_repr().numpy())
        assert (got.q_scale(), got.q_zero_point()) == (expected.q_scale(), expected.q_zero_point())
        assert mqf.hardsigmoid(ours, inplace=True) is ours
        np.testing.assert_array_equal(ours.int_repr().numpy(), expected.int_repr().numpy())
    for fn in (tqf.hardsigmoid, mqf.hardsigmoid):
        with pytest.raises(ValueError, match="must be quantized"):
            fn((torch if fn is tqf.hardsigmoid else minigrad).ones(2))
    scales = minigrad.tensor([0.1, 0.2])
    channels = minigrad.quantize_per_channel(
        minigrad.ones(2, 2), scales, minigrad.tensor([0, 0]), 0, minigrad.quint8
    )
    with pytest.raises(RuntimeError, match="kPerTensorAffine"):
        minigrad.nn.functional.hardsigmoid(channels)
    big = minigrad.quantize_per_tensor(minigrad.tensor([1e10, -1e10]), 1.0, 0, minigrad.qint32)
    assert big.int_repr().tolist() == [2**31 - 1, -(2**31)]


def _small_mobilenet_v3(ns):
    """Three blocks of MobileNetV3 (gates, ReLU and hard-swish, a residual, a stride) from
    ``ns``'s quantization ``mobilenetv3`` module, ReLUs swapped as the builder does."""
    conf = ns.float_v3.InvertedResidualConfig
    rows = [(8, 3, 8, 8, True, "RE", 1), (8, 3, 16, 16, True, "HS", 2)]
    rows.append((16, 3, 32, 16, True, "HS", 1))
    settings = [conf(*row, 1, 1.0) for row in rows]
    model = ns.v3.QuantizableMobileNetV3(
        settings, 32, num_classes=10, block=ns.v3.QuantizableInvertedResidual
    )
    ns.utils._replace_relu(model)
    return model


def test_quantizable_mobilenet_v3_qat_route_as_torchvisions(tv, monkeypatch):
    """torchvision's ``quantize=True`` route for MobileNetV3 on a small variant with copied
    weights: the same float outputs; after ``fuse_model(is_qat=True)``, ``prepare_qat``
    (qnnpack's QAT qconfig: fixed-qparams fake-quantize on the hard-sigmoid gates) the same
    state-dict keys and fake-quantized outputs; after ``convert`` the same keys, module types
    and quantized outputs within one output step."""
    import torch

    import minigrad.ao.quantization as mq
    from minigrad.vision.models import mobilenetv3
    from minigrad.vision.models.quantization import mobilenetv3 as ours_v3
    from minigrad.vision.models.quantization import utils

    ours_ns = types.SimpleNamespace(v3=ours_v3, float_v3=mobilenetv3, utils=utils)
    theirs_ns = types.SimpleNamespace(
        v3=tv.quantization_mobilenetv3, float_v3=tv.mobilenetv3, utils=tv.quantization_utils
    )
    torch.manual_seed(0)
    theirs = _small_mobilenet_v3(theirs_ns)
    init = minigrad.nn.init
    with monkeypatch.context() as patch:  # ours gets theirs' values: its own init is skipped
        for name in [n for n in dir(init) if n.endswith("_") and not n.startswith("_")]:
            patch.setattr(init, name, lambda tensor, *args, **kwargs: tensor)
        ours = _small_mobilenet_v3(ours_ns)
    x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    xt, xm = torch.from_numpy(x), minigrad.tensor(x)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # batch norms off their initial values, with the batch's statistics
        for mod in theirs.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.momentum = 1.0
                mod.weight.add_(0.2 * torch.rand(mod.weight.shape, generator=gen))
                mod.bias.add_(0.1 * torch.randn(mod.bias.shape, generator=gen))
        theirs(torch.cat([xt, xt.flip(2)]))
    _load_into(ours, theirs)
    expected = theirs.eval()(xt).detach().numpy()
    np.testing.assert_allclose(ours.eval()(xm).detach().numpy(), expected, atol=1e-5)
    engines = minigrad.backends.quantized.engine, torch.backends.quantized.engine
    tq = torch.ao.quantization
    try:
        minigrad.backends.quantized.engine = torch.backends.quantized.engine = "qnnpack"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the eager entry points warn it
            for model, q in ((theirs, tq), (ours, mq)):  # the builder's route, in training mode
                model.train().fuse_model(is_qat=True)
                model.qconfig = q.get_default_qat_qconfig("qnnpack")
                q.prepare_qat(model, inplace=True)
            assert list(ours.state_dict()) == list(theirs.state_dict())
            gate = ours.features[1].block[1].scale_activation.activation_post_process
            assert type(gate) is mq.FixedQParamsFakeQuantize
            expected = theirs.eval()(xt).detach().numpy()  # observes; running statistics kept
            np.testing.assert_allclose(ours.eval()(xm).detach().numpy(), expected, atol=1e-4)
            # as torchvision loads its QAT checkpoint here: theirs' observed qparams (ours
            # differ in the last bits, from float sums in other orders, which flips roundings)
            _load_into(ours, theirs)
            tq.convert(theirs, inplace=True), mq.convert(ours, inplace=True)
        assert _quantization_keys(ours) == _quantization_keys(theirs)
        packed = "LinearPackedParams"
        names = [
            (n, type(m).__name__) for n, m in theirs.named_modules() if type(m).__name__ != packed
        ]
        assert [(n, type(m).__name__) for n, m in ours.named_modules()] == names
        first = {}  # the first block (gate: hard-sigmoid, mul; residual add) within one step
        for key, model in (("theirs", theirs), ("ours", ours)):
            hook = lambda m, i, o, key=key: first.__setitem__(key, o.int_repr().numpy())  # noqa: E731
            model.features[1].register_forward_hook(hook)
        expected = theirs(xt).numpy()
        got = ours(xm).numpy()
        assert np.abs(first["ours"].astype(int) - first["theirs"]).max() <= 1
        # the logits: PyTorch's qnnpack kernels requantize (and round biases) otherwise than
        # the FBGEMM arithmetic minigrad follows, and one-step flips add up over the blocks
        step = theirs.classifier[3].scale
        np.testing.assert_allclose(got, expected, rtol=0, atol=step * 6.001)
    finally:
        minigrad.backends.quantized.engine, torch.backends.quantized.engine = engines


def test_quantized_mobilenet_v3_large_builder():
    """``mobilenet_v3_large(quantize=True)`` (width 0.25): converted by the QAT route (the
    module types against torchvision's are checked on the small variant above; its full
    builder costs 2 s under PyTorch): quantized convs, linears, hard-swishes and gate muls,
    the hard-sigmoid gates left float modules running the quantized kernel, eval mode, a
    quantized forward pass; the builder is registered, its enum is torchvision's, weights
    raise."""
    from minigrad.ao.nn import quantized as nnq
    from minigrad.vision.models import quantization

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eager entry points; uncalibrated observers
        ours = quantization.mobilenet_v3_large(quantize=True, num_classes=10, width_mult=0.25)
    types_ = {type(m) for m in ours.modules()}
    assert not types_ & {minigrad.nn.Conv2d, minigrad.nn.Linear, minigrad.nn.Hardswish}
    assert {nnq.Conv2d, nnq.Linear, nnq.Hardswish, nnq.QFunctional} <= types_
    gate = ours.features[4].block[2]
    assert type(gate.scale_activation) is minigrad.nn.Hardsigmoid and not ours.training
    assert not list(gate.scale_activation.children()) and gate.fc1.weight().is_quantized
    out = ours(minigrad.rand(1, 3, 32, 32))
    assert out.shape == (1, 10) and not out.is_quantized
    enum = quantization.MobileNet_V3_Large_QuantizedWeights
    assert [m.name for m in enum] == ["IMAGENET1K_QNNPACK_V1"]
    assert (
        models.get_model_builder("quantized_mobilenet_v3_large") is quantization.mobilenet_v3_large
    )
    with pytest.raises(RuntimeError, match="no pretrained weights"):
        quantization.mobilenet_v3_large(weights=enum.DEFAULT, quantize=True)
