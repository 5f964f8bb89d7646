"""``torchvision.models`` on minigrad: the classification architectures with torchvision's
module names, shapes and initialisation, so a state dict saved by PyTorch
(``minigrad.load('resnet18.pth')``) loads into them. No pretrained weights are shipped or
downloaded: ``weights=`` other than ``None`` and ``pretrained=True`` raise ``RuntimeError``."""

from .resnet import *  # noqa: F403
from .resnet import __all__ as _resnet_all

__all__ = list(_resnet_all)
