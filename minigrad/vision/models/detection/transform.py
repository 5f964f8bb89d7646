"""``GeneralizedRCNNTransform``: what R-CNN models do to images before the backbone —
normalise, resize so the short side is ``min_size`` (the long side at most ``max_size``),
rescale the target boxes (and masks) with them, pad to a common size divisible by
``size_divisible`` — and the inverse mapping of detections back to the original sizes."""

from __future__ import annotations

import math

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

from .image_list import ImageList
from .roi_heads import paste_masks_in_image

__all__ = ["GeneralizedRCNNTransform", "resize_boxes", "resize_keypoints"]


def _resize_image_and_masks(image, self_min_size, self_max_size, target=None, fixed_size=None):
    """The image (and the target's masks) resized by ``min(min_size / short side, max_size /
    long side)``, or to ``fixed_size = (width, height)``."""
    size = scale_factor = recompute = None
    if fixed_size is not None:
        size = [fixed_size[1], fixed_size[0]]
    else:
        h, w = image.shape[-2:]
        scale_factor = min(self_min_size / min(h, w), self_max_size / max(h, w))
        recompute = True
    image = F.interpolate(
        image[None],
        size=size,
        scale_factor=scale_factor,
        mode="bilinear",
        recompute_scale_factor=recompute,
        align_corners=False,
    )[0]
    if target is not None and "masks" in target:
        masks = target["masks"][:, None].float()
        masks = F.interpolate(
            masks, size=size, scale_factor=scale_factor, recompute_scale_factor=recompute
        )
        target["masks"] = masks[:, 0].byte()
    return image, target


def resize_boxes(boxes, original_size, new_size):
    """``xyxy`` boxes scaled from an image of ``original_size`` to ``new_size`` (``(h, w)``)."""
    ratio_h, ratio_w = (
        minigrad.tensor(float(s), device=boxes.device) / float(s_orig)
        for s, s_orig in zip(new_size, original_size, strict=True)
    )
    xmin, ymin, xmax, ymax = boxes.unbind(1)
    return minigrad.stack((xmin * ratio_w, ymin * ratio_h, xmax * ratio_w, ymax * ratio_h), dim=1)


def resize_keypoints(keypoints, original_size, new_size):
    """Keypoints ``[N, K, 3]`` (x, y, visibility) scaled from ``original_size`` to
    ``new_size`` (``(h, w)``); the visibility is kept."""
    ratio_h, ratio_w = (
        minigrad.tensor(float(s), dtype=minigrad.float32, device=keypoints.device)
        / minigrad.tensor(float(s_orig), dtype=minigrad.float32, device=keypoints.device)
        for s, s_orig in zip(new_size, original_size, strict=True)
    )
    resized = keypoints.clone()
    resized[..., 0] *= ratio_w
    resized[..., 1] *= ratio_h
    return resized


class GeneralizedRCNNTransform(nn.Module):
    """Images (a list of ``[C, H, W]`` floats in [0, 1]) and targets to an ``ImageList``
    and rescaled targets; ``postprocess`` maps detections back. In training the short side
    is drawn from ``min_size`` (a tuple) with ``torch.empty(1).uniform_``, as torchvision, so
    the random stream stays in step with PyTorch's."""

    def __init__(
        self,
        min_size,
        max_size: int,
        image_mean: list[float],
        image_std: list[float],
        size_divisible: int = 32,
        fixed_size=None,
        **kwargs,
    ) -> None:
        super().__init__()
        if not isinstance(min_size, (list, tuple)):
            min_size = (min_size,)
        self.min_size = min_size
        self.max_size = max_size
        self.image_mean = image_mean
        self.image_std = image_std
        self.size_divisible = size_divisible
        self.fixed_size = fixed_size
        self._skip_resize = kwargs.pop("_skip_resize", False)

    def forward(self, images, targets=None):
        images = list(images)
        if targets is not None:
            targets = [dict(t) for t in targets]  # shallow copies: the caller's dicts stay
        for i, image in enumerate(images):
            if image.dim() != 3:
                raise ValueError(
                    "images is expected to be a list of 3d tensors of shape [C, H, W], "
                    f"got {image.shape}"
                )
            target = targets[i] if targets is not None else None
            images[i], target = self.resize(self.normalize(image), target)
            if targets is not None and target is not None:
                targets[i] = target
        image_sizes = [(int(img.shape[-2]), int(img.shape[-1])) for img in images]
        batched = self.batch_images(images, size_divisible=self.size_divisible)
        return ImageList(batched, image_sizes), targets

    def normalize(self, image):
        if not image.is_floating_point():
            raise TypeError(
                "Expected input images to be of floating type (in range [0, 1]), "
                f"but found type {image.dtype} instead"
            )
        mean = minigrad.as_tensor(self.image_mean, dtype=image.dtype, device=image.device)
        std = minigrad.as_tensor(self.image_std, dtype=image.dtype, device=image.device)
        return (image - mean[:, None, None]) / std[:, None, None]

    def torch_choice(self, k):
        """A uniformly drawn element of ``k``, drawing as torchvision does."""
        return k[int(minigrad.empty(1).uniform_(0.0, float(len(k))).item())]

    def resize(self, image, target=None):
        h, w = image.shape[-2:]
        if self.training:
            if self._skip_resize:
                return image, target
            size = self.torch_choice(self.min_size)
        else:
            size = self.min_size[-1]
        image, target = _resize_image_and_masks(image, size, self.max_size, target, self.fixed_size)
        if target is None:
            return image, target
        target["boxes"] = resize_boxes(target["boxes"], (h, w), image.shape[-2:])
        if "keypoints" in target:
            target["keypoints"] = resize_keypoints(target["keypoints"], (h, w), image.shape[-2:])
        return image, target

    def max_by_axis(self, the_list):
        return [max(sizes) for sizes in zip(*the_list, strict=True)]

    def batch_images(self, images, size_divisible: int = 32):
        """The images zero-padded (bottom and right) to one size whose height and width are
        multiples of ``size_divisible``, stacked; padding by ``F.pad`` keeps it
        differentiable."""
        max_size = self.max_by_axis([list(img.shape) for img in images])
        stride = float(size_divisible)
        max_size[1] = int(math.ceil(float(max_size[1]) / stride) * stride)
        max_size[2] = int(math.ceil(float(max_size[2]) / stride) * stride)
        padded = [
            F.pad(
                img,
                (
                    0,
                    max_size[2] - img.shape[2],
                    0,
                    max_size[1] - img.shape[1],
                    0,
                    max_size[0] - img.shape[0],
                ),
            )  # fmt: skip
            for img in images
        ]
        return minigrad.stack(padded)

    def postprocess(self, result, image_shapes, original_image_sizes):
        """Detections' boxes (and pasted masks) in the original images' coordinates."""
        if self.training:
            return result
        for pred, im_s, o_im_s in zip(result, image_shapes, original_image_sizes, strict=True):
            pred["boxes"] = resize_boxes(pred["boxes"], im_s, o_im_s)
            if "masks" in pred:
                pred["masks"] = paste_masks_in_image(pred["masks"], pred["boxes"], o_im_s)
            if "keypoints" in pred:
                pred["keypoints"] = resize_keypoints(pred["keypoints"], im_s, o_im_s)
        return result

    def __repr__(self) -> str:
        indent = "\n    "
        return (
            f"{self.__class__.__name__}("
            f"{indent}Normalize(mean={self.image_mean}, std={self.image_std})"
            f"{indent}Resize(min_size={self.min_size}, max_size={self.max_size}, "
            "mode='bilinear')\n)"
        )
