"""``torchvision.models.video`` on minigrad: video classification over clips of shape
(N, 3, T, H, W) — the video ResNets ``r3d_18``, ``mc3_18``, ``r2plus1d_18``, S3D (``s3d``),
the Video Swin Transformers ``swin3d_t``/``s``/``b`` and the Multiscale Vision Transformers
``mvit_v1_b`` and ``mvit_v2_s`` — with torchvision's module names, so a state dict saved by
PyTorch loads. No pretrained weights: ``weights=`` other than None raises."""

from .mvit import *  # noqa: F403
from .mvit import __all__ as _mvit_all
from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all
from .s3d import *  # noqa: F403
from .s3d import __all__ as _s3d_all
from .swin_transformer import *  # noqa: F403
from .swin_transformer import __all__ as _swin_all

__all__ = [*_resnet_all, *_s3d_all, *_swin_all, *_mvit_all]
