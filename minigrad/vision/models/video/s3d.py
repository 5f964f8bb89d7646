"""torchvision's S3D (Xie et al., 2018, "Rethinking Spatiotemporal Feature Learning"): an
Inception network whose 3-D convolutions are separated into a spatial 1×k×k and a temporal
k×1×1 one, over clips of shape (N, 3, T, H, W), with torchvision's module names and
parameter count."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import minigrad
from minigrad import nn

from ...ops.misc import Conv3dNormActivation
from .._api import register_model
from .._weights import check_no_weights, weights_enum

__all__ = ["S3D", "S3D_Weights", "s3d"]


class TemporalSeparableConv(nn.Sequential):
    """A 1×k×k convolution then a k×1×1 one, each with norm and ReLU."""

    def __init__(self, in_planes, out_planes, kernel_size, stride, padding, norm_layer):
        k, s, p = kernel_size, stride, padding
        super().__init__(
            Conv3dNormActivation(
                in_planes, out_planes, (1, k, k), (1, s, s), (0, p, p), bias=False,
                norm_layer=norm_layer,
            ),
            Conv3dNormActivation(
                out_planes, out_planes, (k, 1, 1), (s, 1, 1), (p, 0, 0), bias=False,
                norm_layer=norm_layer,
            ),
        )  # fmt: skip


class SepInceptionBlock3D(nn.Module):
    """Four branches concatenated on channels: 1×1×1; 1×1×1 then separable 3×3×3 (twice, with
    their own widths); 3×3×3 max pool then 1×1×1."""

    def __init__(self, in_planes, b0_out, b1_mid, b1_out, b2_mid, b2_out, b3_out, norm_layer):
        super().__init__()
        point = partial(Conv3dNormActivation, kernel_size=1, stride=1, norm_layer=norm_layer)
        separable = partial(
            TemporalSeparableConv, kernel_size=3, stride=1, padding=1, norm_layer=norm_layer
        )
        self.branch0 = point(in_planes, b0_out)
        self.branch1 = nn.Sequential(point(in_planes, b1_mid), separable(b1_mid, b1_out))
        self.branch2 = nn.Sequential(point(in_planes, b2_mid), separable(b2_mid, b2_out))
        self.branch3 = nn.Sequential(
            nn.MaxPool3d(kernel_size=(3, 3, 3), stride=1, padding=1), point(in_planes, b3_out)
        )

    def forward(self, x):
        branches = (self.branch0, self.branch1, self.branch2, self.branch3)
        return minigrad.cat([b(x) for b in branches], 1)


class S3D(nn.Module):
    """The S3D trunk (``features``), a 2×7×7 average pool (stride 1), dropout and a 1×1×1
    convolution classifier, averaged over what is left of time and space. Clips need at least
    14 frames of 224×224 for the pool (torchvision's ``min_size`` / ``min_temporal_size``)."""

    def __init__(
        self,
        num_classes: int = 400,
        dropout: float = 0.2,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = partial(nn.BatchNorm3d, eps=0.001, momentum=0.001)
        block = partial(SepInceptionBlock3D, norm_layer=norm_layer)
        self.features = nn.Sequential(
            TemporalSeparableConv(3, 64, 7, 2, 3, norm_layer),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            Conv3dNormActivation(64, 64, kernel_size=1, stride=1, norm_layer=norm_layer),
            TemporalSeparableConv(64, 192, 3, 1, 1, norm_layer),
            nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1)),
            block(192, 64, 96, 128, 16, 32, 32),
            block(256, 128, 128, 192, 32, 96, 64),
            nn.MaxPool3d(kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1)),
            block(480, 192, 96, 208, 16, 48, 64),
            block(512, 160, 112, 224, 24, 64, 64),
            block(512, 128, 128, 256, 24, 64, 64),
            block(512, 112, 144, 288, 32, 64, 64),
            block(528, 256, 160, 320, 32, 128, 128),
            nn.MaxPool3d(kernel_size=(2, 2, 2), stride=(2, 2, 2), padding=(0, 0, 0)),
            block(832, 256, 160, 320, 32, 128, 128),
            block(832, 384, 192, 384, 48, 128, 128),
        )
        self.avgpool = nn.AvgPool3d(kernel_size=(2, 7, 7), stride=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Conv3d(1024, num_classes, kernel_size=1, stride=1, bias=True)
        )

    def forward(self, x):
        x = self.classifier(self.avgpool(self.features(x)))
        return minigrad.mean(x, dim=(2, 3, 4))


S3D_Weights = weights_enum("S3D_Weights", ("KINETICS400_V1",))


@register_model(S3D_Weights)
def s3d(*, weights=None, progress: bool = True, **kwargs) -> S3D:
    """S3D (8.3 M parameters); ``kwargs`` go to :class:`S3D`."""
    check_no_weights("s3d", weights, kwargs)
    return S3D(**kwargs)
