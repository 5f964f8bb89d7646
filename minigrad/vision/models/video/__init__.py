"""``torchvision.models.video`` on minigrad: video classification over clips of shape
(N, 3, T, H, W) — the video ResNets ``r3d_18``, ``mc3_18``, ``r2plus1d_18`` and ``s3d`` — with
torchvision's module names, so a state dict saved by PyTorch loads. No pretrained weights:
``weights=`` other than None raises."""

from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all
from .s3d import *  # noqa: F403
from .s3d import __all__ as _s3d_all

__all__ = [*_resnet_all, *_s3d_all]
