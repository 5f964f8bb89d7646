"""Detection backbones: a classifier's stages taken by ``IntermediateLayerGetter`` and fed to a
``FeaturePyramidNetwork`` (``BackboneWithFPN``), ``resnet_fpn_backbone`` and
``mobilenet_backbone``, with torchvision's freezing of the early layers (``trainable_layers``)."""

from __future__ import annotations

from collections.abc import Callable

from minigrad import nn

from ...._warnings import warn_user
from ...ops import misc as misc_nn_ops
from ...ops.feature_pyramid_network import (
    ExtraFPNBlock,
    FeaturePyramidNetwork,
    LastLevelMaxPool,
)
from .. import mobilenetv2, mobilenetv3, resnet
from .._utils import IntermediateLayerGetter

__all__ = ["BackboneWithFPN", "mobilenet_backbone", "resnet_fpn_backbone"]


class BackboneWithFPN(nn.Module):
    """``body`` (the backbone's stages named in ``return_layers``) then ``fpn``; the output is
    an ``OrderedDict`` of ``out_channels``-channel maps (``'0'``, ``'1'``, ..., ``'pool'``)."""

    def __init__(
        self,
        backbone: nn.Module,
        return_layers: dict[str, str],
        in_channels_list: list[int],
        out_channels: int,
        extra_blocks: ExtraFPNBlock | None = None,
        norm_layer: Callable[..., nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.body = IntermediateLayerGetter(backbone, return_layers=return_layers)
        self.fpn = FeaturePyramidNetwork(
            in_channels_list=in_channels_list,
            out_channels=out_channels,
            extra_blocks=extra_blocks if extra_blocks is not None else LastLevelMaxPool(),
            norm_layer=norm_layer,
        )
        self.out_channels = out_channels

    def forward(self, x):
        return self.fpn(self.body(x))


def resnet_fpn_backbone(
    *,
    backbone_name: str,
    weights=None,
    norm_layer: Callable[..., nn.Module] = misc_nn_ops.FrozenBatchNorm2d,
    trainable_layers: int = 3,
    returned_layers: list[int] | None = None,
    extra_blocks: ExtraFPNBlock | None = None,
) -> BackboneWithFPN:
    """A ResNet (``backbone_name``, e.g. ``'resnet50'``) with an FPN of 256 channels on
    ``returned_layers`` (default stages 1–4) and the last ``trainable_layers`` stages
    trainable (the rest have ``requires_grad=False``)."""
    if backbone_name not in resnet.__all__ or not backbone_name.islower():
        raise ValueError(f"resnet_fpn_backbone: unknown backbone_name {backbone_name!r}")
    backbone = getattr(resnet, backbone_name)(weights=weights, norm_layer=norm_layer)
    return _resnet_fpn_extractor(backbone, trainable_layers, returned_layers, extra_blocks)


def _resnet_fpn_extractor(
    backbone, trainable_layers: int, returned_layers=None, extra_blocks=None, norm_layer=None
) -> BackboneWithFPN:
    if trainable_layers < 0 or trainable_layers > 5:
        raise ValueError(f"Trainable layers should be in the range [0,5], got {trainable_layers}")
    layers_to_train = ["layer4", "layer3", "layer2", "layer1", "conv1"][:trainable_layers]
    if trainable_layers == 5:
        layers_to_train.append("bn1")
    for name, parameter in backbone.named_parameters():
        if not any(name.startswith(layer) for layer in layers_to_train):
            parameter.requires_grad_(False)
    if returned_layers is None:
        returned_layers = [1, 2, 3, 4]
    if min(returned_layers) <= 0 or max(returned_layers) >= 5:
        raise ValueError(f"Each returned layer should be in the range [1,4]. Got {returned_layers}")
    return_layers = {f"layer{k}": str(v) for v, k in enumerate(returned_layers)}
    in_channels_stage2 = backbone.inplanes // 8
    in_channels_list = [in_channels_stage2 * 2 ** (i - 1) for i in returned_layers]
    return BackboneWithFPN(
        backbone, return_layers, in_channels_list, 256, extra_blocks=extra_blocks,
        norm_layer=norm_layer,
    )  # fmt: skip


def _validate_trainable_layers(is_trained: bool, trainable, max_value: int, default: int) -> int:
    """torchvision's rule: without pretrained weights every layer trains (with a warning if a
    number was asked for)."""
    if not is_trained:
        if trainable is not None:
            warn_user(
                "Changing trainable_backbone_layers has no effect if neither pretrained nor "
                "pretrained_backbone have been set to True, falling back to "
                f"trainable_backbone_layers={max_value} so that all layers are trainable"
            )
        trainable = max_value
    if trainable is None:
        trainable = default
    if trainable < 0 or trainable > max_value:
        raise ValueError(
            f"Trainable backbone layers should be in the range [0,{max_value}], got {trainable} "
        )
    return trainable


def freeze_mobilenet_stages(features: nn.Sequential, trainable_layers: int) -> list[int]:
    """The indices of a MobileNet's stage blocks in ``features`` (the first block, each block
    that halves the size — ``_is_cn`` — and the last); freezes the blocks before the last
    ``trainable_layers`` stages and returns the indices (SSDlite's and the FPN's extractors)."""
    stage_indices = (
        [0]
        + [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)]
        + [len(features) - 1]
    )
    num_stages = len(stage_indices)
    if not 0 <= trainable_layers <= num_stages:
        raise ValueError(
            f"Trainable layers should be in the range [0,{num_stages}], got {trainable_layers} "
        )
    freeze_before = (
        len(features) if trainable_layers == 0 else stage_indices[num_stages - trainable_layers]
    )
    for layer in features[:freeze_before]:
        for parameter in layer.parameters():
            parameter.requires_grad_(False)
    return stage_indices


def _mobilenet_extractor(
    backbone,
    fpn: bool,
    trainable_layers: int,
    returned_layers: list[int] | None = None,
    extra_blocks: ExtraFPNBlock | None = None,
    norm_layer: Callable[..., nn.Module] | None = None,
) -> nn.Module:
    """A MobileNetV2/V3's ``features`` as a detection backbone of 256 channels: with ``fpn``,
    an FPN over the stages ``returned_layers`` (default the last two); without, the last
    block then a 1×1 convolution."""
    features = backbone.features
    stage_indices = freeze_mobilenet_stages(features, trainable_layers)
    num_stages = len(stage_indices)
    out_channels = 256
    if not fpn:
        model = nn.Sequential(features, nn.Conv2d(features[-1].out_channels, out_channels, 1))
        model.out_channels = out_channels
        return model
    if returned_layers is None:
        returned_layers = [num_stages - 2, num_stages - 1]
    if min(returned_layers) < 0 or max(returned_layers) >= num_stages:
        raise ValueError(
            f"Each returned layer should be in the range [0,{num_stages - 1}], "
            f"got {returned_layers} "
        )
    return_layers = {f"{stage_indices[k]}": str(v) for v, k in enumerate(returned_layers)}
    in_channels_list = [features[stage_indices[i]].out_channels for i in returned_layers]
    return BackboneWithFPN(
        features, return_layers, in_channels_list, out_channels,
        extra_blocks=extra_blocks if extra_blocks is not None else LastLevelMaxPool(),
        norm_layer=norm_layer,
    )  # fmt: skip


def mobilenet_backbone(
    *,
    backbone_name: str,
    weights=None,
    fpn: bool,
    norm_layer: Callable[..., nn.Module] = misc_nn_ops.FrozenBatchNorm2d,
    trainable_layers: int = 2,
    returned_layers: list[int] | None = None,
    extra_blocks: ExtraFPNBlock | None = None,
) -> nn.Module:
    """A MobileNet (``backbone_name``: ``'mobilenet_v2'``, ``'mobilenet_v3_large'``,
    ``'mobilenet_v3_small'``) as a detection backbone (see :func:`_mobilenet_extractor`)."""
    modules = {"mobilenet_v2": mobilenetv2, "mobilenet_v3_large": mobilenetv3}
    modules["mobilenet_v3_small"] = mobilenetv3
    if backbone_name not in modules:
        raise ValueError(f"mobilenet_backbone: unknown backbone_name {backbone_name!r}")
    backbone = getattr(modules[backbone_name], backbone_name)(
        weights=weights, norm_layer=norm_layer
    )
    return _mobilenet_extractor(backbone, fpn, trainable_layers, returned_layers, extra_blocks)
