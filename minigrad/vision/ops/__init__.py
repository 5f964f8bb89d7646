"""``torchvision.ops`` on minigrad: the box operations of object detection (conversion, areas,
IoU and GIoU, clipping, filtering, NMS) and the ``Conv2dNormActivation`` layer helper. RoI
pooling/align, deformable convolution and the other layer helpers (``FeaturePyramidNetwork``,
``SqueezeExcitation``, ...) are not here yet."""

from .boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    generalized_box_iou,
    nms,
    remove_small_boxes,
)
from .misc import Conv2dNormActivation

__all__ = [
    "Conv2dNormActivation",
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "generalized_box_iou",
    "nms",
    "remove_small_boxes",
]
