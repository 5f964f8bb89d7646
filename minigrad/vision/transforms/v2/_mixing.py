"""v2 MixUp and CutMix: batch-level augmentations that blend each image with the next one
in the batch (``roll(1, 0)``) and the labels in the same proportion.

Used after batching, typically in a DataLoader's ``collate_fn``::

    cutmix_or_mixup = v2.RandomChoice([v2.CutMix(num_classes=10), v2.MixUp(num_classes=10)])
    loader = DataLoader(data, batch_size=4,
                        collate_fn=lambda batch: cutmix_or_mixup(*default_collate(batch)))

The mixing proportion is drawn from ``Beta(alpha, alpha)`` through
:mod:`minigrad.distributions` exactly as torchvision draws it through ``torch.distributions``;
index labels become one-hot rows of ``num_classes`` first.
"""

from __future__ import annotations

import math

from ....creation import randint, tensor
from ....distributions import Beta
from ....nn.functional import one_hot
from ....tensor import Tensor
from ....utils._pytree import tree_flatten, tree_unflatten
from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, Image, Mask, Video
from ._transform import _PIL_IMAGE, Transform, has_any, query_size
from ._transforms import _default_labels
from .functional import is_pure_tensor

__all__ = ["CutMix", "MixUp"]


class _MixBase(Transform):
    def __init__(self, *, alpha: float = 1.0, num_classes=None, labels_getter="default") -> None:
        super().__init__()
        self.alpha = float(alpha)
        self._dist = Beta(tensor([self.alpha]), tensor([self.alpha]))
        self.num_classes = num_classes
        if labels_getter == "default":
            self._labels_getter = _default_labels
        elif callable(labels_getter):
            self._labels_getter = labels_getter
        else:
            raise ValueError(
                f"labels_getter should either be 'default' or a callable, but got {labels_getter}."
            )

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(inputs)
        needs = self._needs_transform_list(flat_inputs)
        if has_any(flat_inputs, _PIL_IMAGE, BoundingBoxes, Mask):
            raise ValueError(
                f"{type(self).__name__}() does not support PIL images, bounding boxes, keypoints "
                "and masks."
            )
        labels = self._check_labels(self._labels_getter(inputs))
        params = dict(labels=labels, batch_size=labels.shape[0],
                      **self.make_params([x for x, n in zip(flat_inputs, needs) if n]))  # fmt: skip
        needs[next(i for i, x in enumerate(flat_inputs) if x is labels)] = True
        outputs = [self.transform(x, params) if n else x for x, n in zip(flat_inputs, needs)]
        return tree_unflatten(outputs, spec)

    def _check_labels(self, labels):
        if not isinstance(labels, Tensor):
            raise ValueError(f"The labels must be a tensor, but got {type(labels)} instead.")
        if labels.ndim not in (1, 2):
            raise ValueError(
                "labels should be index based with shape (batch_size,) or probability based with "
                f"shape (batch_size, num_classes), but got a tensor of shape {labels.shape} "
                "instead."
            )
        if (
            labels.ndim == 2
            and self.num_classes is not None
            and labels.shape[-1] != self.num_classes
        ):
            raise ValueError(
                "When passing 2D labels, the number of elements in last dimension must match "
                f"num_classes: {labels.shape[-1]} != {self.num_classes}. You can Leave "
                "num_classes to None."
            )
        if labels.ndim == 1 and self.num_classes is None:
            raise ValueError("num_classes must be passed if the labels are index-based (1D)")
        return labels

    @staticmethod
    def _check_batch(inpt, batch_size: int) -> None:
        dims = 5 if isinstance(inpt, Video) else 4
        if inpt.ndim != dims:
            raise ValueError(
                f"Expected a batched input with {dims} dims, but got {inpt.ndim} dimensions instead."
            )
        if inpt.shape[0] != batch_size:
            raise ValueError(
                "The batch size of the image or video does not match the batch size of the "
                f"labels: {inpt.shape[0]} != {batch_size}."
            )

    def _mix_labels(self, labels, lam: float):
        if labels.ndim == 1:
            labels = one_hot(labels, num_classes=self.num_classes)
        if not labels.dtype.is_floating_point:
            labels = labels.float()
        return labels.roll(1, 0).mul(1.0 - lam).add(labels.mul(lam))

    def transform(self, inpt, params):
        if inpt is params["labels"]:
            return self._mix_labels(inpt, self._label_weight(params))
        if not (isinstance(inpt, (Image, Video)) or is_pure_tensor(inpt)):
            return inpt
        self._check_batch(inpt, params["batch_size"])
        plain = inpt.as_subclass(Tensor) if isinstance(inpt, (Image, Video)) else inpt
        out = self._mix_images(plain, params)
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, (Image, Video)) else out


class MixUp(_MixBase):
    """Blend each image with the next in the batch: ``lam * x + (1 - lam) * x.roll(1, 0)``,
    ``lam ~ Beta(alpha, alpha)``; labels (one-hot) blend the same way."""

    def make_params(self, flat_inputs):
        return dict(lam=float(self._dist.sample(())))

    def _label_weight(self, params) -> float:
        return params["lam"]

    def _mix_images(self, images, params):
        lam = params["lam"]
        return images.roll(1, 0).mul(1.0 - lam).add(images.mul(lam))


class CutMix(_MixBase):
    """Paste a random box of the next image in the batch into each image; the box's side is
    ``sqrt(1 - lam)`` of the image's (``lam ~ Beta(alpha, alpha)``, clipped at the borders)
    and the labels blend by the area actually kept."""

    def make_params(self, flat_inputs):
        lam = float(self._dist.sample(()))
        height, width = query_size(flat_inputs)
        r_x, r_y = int(randint(width, size=(1,))), int(randint(height, size=(1,)))
        r = 0.5 * math.sqrt(1.0 - lam)
        half_w, half_h = int(r * width), int(r * height)
        x1, y1 = max(r_x - half_w, 0), max(r_y - half_h, 0)
        x2, y2 = min(r_x + half_w, width), min(r_y + half_h, height)
        kept = float(1.0 - (x2 - x1) * (y2 - y1) / (width * height))
        return dict(box=(x1, y1, x2, y2), lam_adjusted=kept)

    def _label_weight(self, params) -> float:
        return params["lam_adjusted"]

    def _mix_images(self, images, params):
        x1, y1, x2, y2 = params["box"]
        out = images.clone()
        out[..., y1:y2, x1:x2] = images.roll(1, 0)[..., y1:y2, x1:x2]
        return out
