"""The shared shape of torchvision's FCN and DeepLabV3: backbone features → classifier (and an
optional auxiliary classifier on an earlier stage), upsampled bilinearly to the input size."""

from __future__ import annotations

from collections import OrderedDict

from minigrad import nn
from minigrad.nn import functional as F


class _SimpleSegmentationModel(nn.Module):
    """``backbone`` returns a dict with ``"out"`` (and ``"aux"``); ``forward`` returns an
    ``OrderedDict`` with the classifier's ``"out"`` (and ``"aux"``) at the input's size."""

    __constants__ = ["aux_classifier"]

    def __init__(
        self, backbone: nn.Module, classifier: nn.Module, aux_classifier: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x) -> OrderedDict:
        size = x.shape[-2:]
        features = self.backbone(x)
        result = OrderedDict()
        out = self.classifier(features["out"])
        result["out"] = F.interpolate(out, size=size, mode="bilinear", align_corners=False)
        if self.aux_classifier is not None:
            aux = self.aux_classifier(features["aux"])
            result["aux"] = F.interpolate(aux, size=size, mode="bilinear", align_corners=False)
        return result
