"""``GeneralizedRCNN``: the skeleton of the R-CNN family — transform, backbone, region
proposal network, RoI heads — returning the losses in training and the detections in
evaluation, as torchvision's."""

from __future__ import annotations

from collections import OrderedDict

import minigrad
from minigrad import nn

__all__ = ["GeneralizedRCNN"]


def _check_targets(targets) -> None:
    if targets is None:
        raise ValueError("targets should not be none when in training mode")
    for target in targets:
        boxes = target["boxes"]
        if not isinstance(boxes, minigrad.Tensor):
            raise TypeError(f"Expected target boxes to be of type Tensor, got {type(boxes)}.")
        if boxes.dim() != 2 or boxes.shape[-1] != 4:
            raise ValueError(
                f"Expected target boxes to be a tensor of shape [N, 4], got {boxes.shape}."
            )


def _check_degenerate(targets) -> None:
    """Boxes with no width or height would give infinite regression targets."""
    for index, target in enumerate(targets):
        boxes = target["boxes"]
        degenerate = boxes[:, 2:] <= boxes[:, :2]
        if degenerate.any():
            first = int(minigrad.where(degenerate.any(dim=1))[0][0])
            raise ValueError(
                "All bounding boxes should have positive height and width. "
                f"Found invalid box {boxes[first].tolist()} for target at index {index}."
            )


def _check_images(images) -> list[tuple[int, int]]:
    """The images' ``(H, W)`` before the transform, with torchvision's message for a tensor
    of fewer than two dimensions."""
    sizes = []
    for img in images:
        if img.dim() < 2:
            raise ValueError(
                "expecting the last two dimensions of the Tensor to be H and W instead got "
                f"{img.shape[-2:]}"
            )
        sizes.append((int(img.shape[-2]), int(img.shape[-1])))
    return sizes


class GeneralizedRCNN(nn.Module):
    """``forward(images, targets=None)``: images a list of ``[C, H, W]`` tensors (any sizes),
    targets a list of dicts with ``boxes [N, 4]`` (``xyxy``, float) and ``labels [N]``
    (int64) (and ``masks [N, H, W]`` for Mask R-CNN). Training mode returns the dict of
    losses; evaluation mode a list of dicts with ``boxes``, ``labels``, ``scores`` (and
    ``masks``) in the original images' coordinates."""

    def __init__(self, backbone, rpn, roi_heads, transform) -> None:
        super().__init__()
        self.transform = transform
        self.backbone = backbone
        self.rpn = rpn
        self.roi_heads = roi_heads

    def eager_outputs(self, losses, detections):
        return losses if self.training else detections

    def forward(self, images, targets=None):
        if self.training:
            _check_targets(targets)
        original_image_sizes = _check_images(images)
        images, targets = self.transform(images, targets)
        if targets is not None:
            _check_degenerate(targets)
        features = self.backbone(images.tensors)
        if isinstance(features, minigrad.Tensor):
            features = OrderedDict([("0", features)])
        proposals, proposal_losses = self.rpn(images, features, targets)
        detections, detector_losses = self.roi_heads(
            features, proposals, images.image_sizes, targets
        )
        detections = self.transform.postprocess(
            detections, images.image_sizes, original_image_sizes
        )
        losses = {**detector_losses, **proposal_losses}
        return self.eager_outputs(losses, detections)
