"""``torchvision.ops`` on minigrad: the box operations of object detection (conversion, areas,
IoU/GIoU/DIoU/CIoU, clipping, filtering, NMS, boxes from masks), the GIoU and focal losses and
the ``Conv2dNormActivation``, ``FrozenBatchNorm2d``, ``SqueezeExcitation``, ``MLP`` and ``Permute``
layers and stochastic depth. RoI pooling/align, deformable convolution, rotated
boxes and the other layer helpers (``FeaturePyramidNetwork``, ...) are
not here yet."""

from .boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    nms,
    remove_small_boxes,
)
from .focal_loss import sigmoid_focal_loss
from .giou_loss import generalized_box_iou_loss
from .misc import MLP, Conv2dNormActivation, FrozenBatchNorm2d, Permute, SqueezeExcitation
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = [
    "MLP",
    "Conv2dNormActivation",
    "FrozenBatchNorm2d",
    "Permute",
    "SqueezeExcitation",
    "StochasticDepth",
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
    "generalized_box_iou_loss",
    "masks_to_boxes",
    "nms",
    "remove_small_boxes",
    "sigmoid_focal_loss",
    "stochastic_depth",
]
