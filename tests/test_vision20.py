"""minigrad.vision's video classifiers (``models.video``), MaxViT, RAFT and the MobileNetV3
Faster R-CNNs against torchvision 0.28's own model files, run under PyTorch with stand-ins for
the torchvision modules they import (``test_vision_models18``'s loader): builders give
torchvision's state-dict keys, shapes and parameter counts (on the meta device), small
variants the same initial values, eval outputs and gradients (float64)."""

import contextlib

import pytest
from test_vision_models18 import _load_torchvision_files, _same_init_outputs_and_grads, _shapes

import minigrad
from minigrad.vision import models
from minigrad.vision.models import video

_TV_FILES = ["video.resnet", "video.s3d"]


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
    with pytest.raises(RuntimeError, match=rf"{name}\(weights=.*_Weights.KINETICS400_V1"):
        models.get_model(name, weights=ours_enum.DEFAULT)


def test_registry_and_as_torch():
    import importlib

    import minigrad.as_torch

    assert models.list_models(module=video) == sorted(_COUNTS)
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
    with pytest.raises(ValueError, match=r"range \[0,6\], got 7"):
        mobilenet_backbone(backbone_name="mobilenet_v3_small", fpn=True, trainable_layers=7)
