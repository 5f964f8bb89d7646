"""``torchvision.ops`` on minigrad: the box operations of object detection (conversion, areas,
IoU and GIoU, clipping, filtering, NMS). RoI pooling/align, deformable convolution and the
layer helpers (``FeaturePyramidNetwork``, ``Conv2dNormActivation``, ...) are not here yet."""

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

__all__ = [
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "clip_boxes_to_image",
    "generalized_box_iou",
    "nms",
    "remove_small_boxes",
]
