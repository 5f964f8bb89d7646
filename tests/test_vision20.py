"""minigrad.vision's video classifiers (``models.video``), MaxViT, RAFT and the MobileNetV3
Faster R-CNNs against torchvision 0.28's own model files, run under PyTorch with stand-ins for
the torchvision modules they import (``test_vision_models18``'s loader): builders give
torchvision's state-dict keys, shapes and parameter counts (on the meta device), small
variants the same initial values, eval outputs and gradients (float64)."""

import contextlib

import numpy as np
import pytest
from test_vision_models18 import _load_torchvision_files, _same_init_outputs_and_grads, _shapes

import minigrad
from minigrad.vision import models
from minigrad.vision.models import video

_TV_FILES = [
    "video.resnet",
    "video.s3d",
    "swin_transformer",
    "video.swin_transformer",
    "optical_flow._utils",
    "optical_flow.raft",
    "maxvit",
]


@pytest.fixture(scope="module")
def tv():
    torch = pytest.importorskip("torch")
    files = _load_torchvision_files(torch, _TV_FILES)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield files
    torch.set_num_threads(threads)


# builder -> (its torchvision file, the count of torchvision's docs / weights metadata)
_COUNTS = {
    "r3d_18": ("video_resnet", 33_371_472),
    "mc3_18": ("video_resnet", 11_695_440),
    "r2plus1d_18": ("video_resnet", 31_505_325),
    "s3d": ("video_s3d", 8_320_048),
    "swin3d_t": ("video_swin_transformer", 28_158_070),
    "swin3d_s": ("video_swin_transformer", 49_816_678),
    "swin3d_b": ("video_swin_transformer", 88_048_984),
    "raft_small": ("optical_flow_raft", 990_162),
    "raft_large": ("optical_flow_raft", 5_257_536),
    "maxvit_t": ("maxvit", 30_919_624),
}


# keys compared for swin3d_t only: the larger variants differ in depths and widths (time budget)
_COUNT_ONLY = {"swin3d_s", "swin3d_b"}


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
    if name not in _COUNT_ONLY:
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
        "mc3_18", "r2plus1d_18", "r3d_18", "s3d", "swin3d_b", "swin3d_s", "swin3d_t"
    ]  # fmt: skip
    assert models.list_models(module=models.optical_flow) == ["raft_large", "raft_small"]
    with minigrad.as_torch.imports():
        tv_video = importlib.import_module("torchvision.models.video")
    assert tv_video.r2plus1d_18 is video.r2plus1d_18


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
        (16, 16), 8, 2, [8, 16], [1, 2], head_dim=4, stochastic_depth_prob=0.2, num_classes=3
    )


def _tiny_swin3d(module):
    """Two stages on a 4×12×14 clip: windows clamped to the clip, padded, and shifted (with
    the mask) in the second block of the first stage and in the second stage."""
    return module.SwinTransformer3d(
        [2, 2, 2], 8, [2, 1], [2, 2], [2, 3, 3], stochastic_depth_prob=0.2, num_classes=3
    )


def _tiny_raft(module, large=False):
    """A narrow RAFT with a 2-level pyramid (images from 32 pixels), run for two updates on
    the frame pair ``x[0]``, ``x[1]``; the output stacks the two flow estimates. ``large``:
    residual blocks, instance/batch norms, two separable GRUs and convex upsampling, as
    raft_large; else bottleneck blocks, no context norm, one GRU, bilinear, as raft_small."""
    nn = module.nn
    lib = getattr(module, "torch", None) or getattr(module, "minigrad", None)
    block = module.ResidualBlock if large else module.BottleneckBlock
    raft = module._raft(
        feature_encoder_layers=(8, 8, 8, 12, 16),
        feature_encoder_block=block,
        feature_encoder_norm_layer=nn.InstanceNorm2d,
        context_encoder_layers=(8, 8, 8, 12, 20),
        context_encoder_block=block,
        context_encoder_norm_layer=nn.BatchNorm2d if large else None,
        corr_block_num_levels=2,
        corr_block_radius=1,
        motion_encoder_corr_layers=(12, 8) if large else (8,),
        motion_encoder_flow_layers=(8, 6),
        motion_encoder_out_channels=10,
        recurrent_block_hidden_state_size=12,
        recurrent_block_kernel_size=((1, 5), (5, 1)) if large else (3,),
        recurrent_block_padding=((0, 2), (2, 0)) if large else (1,),
        flow_head_hidden_size=8,
        use_mask_predictor=large,
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
    "maxvit": ("maxvit", _tiny_maxvit, (2, 3, 16, 16)),
    "swin3d": ("video.swin_transformer", _tiny_swin3d, (1, 3, 4, 12, 14)),
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


@pytest.mark.parametrize("large", [True, False], ids=["raft_large_parts", "raft_small_parts"])
def test_tiny_raft_matches_torchvision(tv, large):
    """torchvision's RAFT runs in float32 only (its coordinate grids are float32, and
    PyTorch's grid_sample refuses mixed dtypes): same init, then the two flow estimates and
    the gradients of their squared sum, in eval mode, to float32 rounding."""
    import torch

    torch.manual_seed(0)
    theirs = _tiny_raft(tv.optical_flow_raft, large)
    minigrad.manual_seed(0)
    ours = _tiny_raft(models.optical_flow.raft, large)
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


def test_mvit_is_named_as_missing():
    with pytest.raises(NotImplementedError, match="video.mvit_v2_s is not implemented"):
        video.mvit_v2_s  # noqa: B018
