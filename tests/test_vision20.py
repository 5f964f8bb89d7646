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
