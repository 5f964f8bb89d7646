"""Keypoint R-CNN (He et al., 2017) as torchvision 0.28 builds it: Faster R-CNN plus a
keypoint branch — 14×14 RoI Align, eight 3×3 convolutions of 512 channels, a 2× transposed
convolution and a 2× bilinear upsampling to 56×56 heatmaps, one per keypoint.
``KeypointRCNN``, ``KeypointRCNNHeads``, ``KeypointRCNNPredictor`` and
``keypointrcnn_resnet50_fpn`` (2 classes, 17 COCO person keypoints by default). No pretrained
weights."""

from __future__ import annotations

from minigrad import nn
from minigrad.nn import functional as F

from ...ops import MultiScaleRoIAlign
from .._api import register_model
from .._weights import weights_enum
from ..resnet import ResNet50_Weights
from .faster_rcnn import FasterRCNN, _resnet50_fpn_backbone, check_detection_weights

__all__ = ["KeypointRCNN", "KeypointRCNN_ResNet50_FPN_Weights", "keypointrcnn_resnet50_fpn"]


class KeypointRCNN(FasterRCNN):
    """:class:`FasterRCNN` with a keypoint branch; targets also carry ``keypoints [N, K, 3]``
    (float32 x, y, visibility) and detections ``keypoints [D, K, 3]`` and
    ``keypoints_scores [D, K]``. In training the short side is drawn from 640 … 800 unless
    ``min_size`` says otherwise."""

    def __init__(
        self,
        backbone,
        num_classes=None,
        min_size=None,
        *args,
        keypoint_roi_pool=None,
        keypoint_head=None,
        keypoint_predictor=None,
        num_keypoints=None,
        **kwargs,
    ) -> None:
        if not isinstance(keypoint_roi_pool, (MultiScaleRoIAlign, type(None))):
            raise TypeError(
                "keypoint_roi_pool should be of type MultiScaleRoIAlign or None instead of "
                f"{type(keypoint_roi_pool)}"
            )
        if min_size is None:
            min_size = (640, 672, 704, 736, 768, 800)
        if num_keypoints is not None and keypoint_predictor is not None:
            raise ValueError("num_keypoints should be None when keypoint_predictor is specified")
        num_keypoints = 17 if num_keypoints is None else num_keypoints
        if keypoint_roi_pool is None:
            keypoint_roi_pool = MultiScaleRoIAlign(["0", "1", "2", "3"], 14, sampling_ratio=2)
        if keypoint_head is None:
            keypoint_head = KeypointRCNNHeads(backbone.out_channels, (512,) * 8)
        if keypoint_predictor is None:
            keypoint_predictor = KeypointRCNNPredictor(512, num_keypoints)
        super().__init__(backbone, num_classes, min_size, *args, **kwargs)
        self.roi_heads.keypoint_roi_pool = keypoint_roi_pool
        self.roi_heads.keypoint_head = keypoint_head
        self.roi_heads.keypoint_predictor = keypoint_predictor


class KeypointRCNNHeads(nn.Sequential):
    """3×3 convolutions with ReLU (``layers`` gives their widths), He-normal (fan_out)
    weights, zero biases; children ``0, 1, 2, …`` as torchvision's."""

    def __init__(self, in_channels: int, layers) -> None:
        blocks, width = [], in_channels
        for features in layers:
            blocks += [nn.Conv2d(width, features, 3, stride=1, padding=1), nn.ReLU(inplace=True)]
            width = features
        super().__init__(*blocks)
        for m in self.children():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)


class KeypointRCNNPredictor(nn.Module):
    """Heatmap logits: a 4×4 stride-2 transposed convolution to ``num_keypoints`` maps, then
    2× bilinear upsampling (14 → 28 → 56 with the default pooling)."""

    def __init__(self, in_channels: int, num_keypoints: int) -> None:
        super().__init__()
        self.kps_score_lowres = nn.ConvTranspose2d(in_channels, num_keypoints, 4, stride=2,
                                                   padding=1)  # fmt: skip
        nn.init.kaiming_normal_(self.kps_score_lowres.weight, mode="fan_out", nonlinearity="relu")
        nn.init.constant_(self.kps_score_lowres.bias, 0)
        self.up_scale = 2
        self.out_channels = num_keypoints

    def forward(self, x):
        return F.interpolate(
            self.kps_score_lowres(x),
            scale_factor=float(self.up_scale),
            mode="bilinear",
            align_corners=False,
            recompute_scale_factor=False,
        )


KeypointRCNN_ResNet50_FPN_Weights = weights_enum(
    "KeypointRCNN_ResNet50_FPN_Weights", ("COCO_LEGACY", "COCO_V1")
)


@register_model(KeypointRCNN_ResNet50_FPN_Weights)
def keypointrcnn_resnet50_fpn(
    *,
    weights=None,
    progress: bool = True,
    num_classes: int | None = None,
    num_keypoints: int | None = None,
    weights_backbone=ResNet50_Weights.IMAGENET1K_V1,
    trainable_backbone_layers: int | None = None,
    **kwargs,
) -> KeypointRCNN:
    """Keypoint R-CNN with a ResNet-50-FPN backbone: 2 classes (background, person) and 17
    keypoints unless ``num_classes`` / ``num_keypoints``."""
    check_detection_weights("keypointrcnn_resnet50_fpn", weights, weights_backbone, kwargs)
    backbone = _resnet50_fpn_backbone(None, trainable_backbone_layers)
    return KeypointRCNN(
        backbone,
        2 if num_classes is None else num_classes,
        num_keypoints=17 if num_keypoints is None else num_keypoints,
        **kwargs,
    )
