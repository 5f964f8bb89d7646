"""The v2 transforms: conversions, colour, normalisation and the bounding-box helpers.

Each random one draws its parameters once per call, from minigrad's global generator in
torchvision's order, and applies them to every image, video, mask and box set of the sample.
"""

from __future__ import annotations

import numpy as np

from ...._warnings import warn_user
from ....creation import empty, rand, randperm
from ....tensor import Tensor
from ....utils._pytree import tree_flatten, tree_unflatten
from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, Image, Mask, TVTensor, Video
from .. import transforms as _v1
from . import functional as F
from ._functional_meta import _sanitize_mask
from ._transform import (
    _PIL_IMAGE,
    Transform,
    _RandomApplyTransform,
    get_bounding_boxes,
    has_any,
    query_chw,
)
from .functional import _pure, is_pure_tensor


# -- conversions ----------------------------------------------------------------------------------
class ToImage(Transform):
    """A plain tensor, ndarray or PIL image → :class:`~minigrad.vision.tv_tensors.Image`
    (values unscaled)."""

    _transformed_types = (is_pure_tensor, _PIL_IMAGE, np.ndarray)

    def transform(self, inpt, params):
        return F.to_image(inpt)


class ToPureTensor(Transform):
    """Every TVTensor → a plain Tensor (no values change)."""

    _transformed_types = (TVTensor,)

    def transform(self, inpt, params):
        return inpt.as_subclass(Tensor)


class PILToTensor(Transform):
    """PIL image → plain ``C×H×W`` tensor of its own dtype."""

    _transformed_types = (_PIL_IMAGE,)

    def transform(self, inpt, params):
        return F.pil_to_tensor(inpt)


class ToPILImage(Transform):
    """Plain tensor, Image or ndarray → PIL image."""

    _transformed_types = (is_pure_tensor, Image, np.ndarray)

    def __init__(self, mode=None) -> None:
        super().__init__()
        self.mode = mode

    def transform(self, inpt, params):
        return F.to_pil_image(_pure(inpt), mode=self.mode)


class ToTensor(Transform):
    """Deprecated in torchvision for ``Compose([ToImage(), ToDtype(torch.float32,
    scale=True)])``: v1's ``to_tensor`` (a plain tensor, bytes scaled to [0, 1])."""

    _transformed_types = (is_pure_tensor, _PIL_IMAGE, np.ndarray)

    def __init__(self) -> None:
        warn_user(
            "The transform `ToTensor()` is deprecated and will be removed in a future release. "
            "Instead, please use `v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, "
            "scale=True)])`.Output is equivalent up to float precision."
        )
        super().__init__()

    def transform(self, inpt, params):
        return inpt if isinstance(inpt, Tensor) else F.to_tensor(inpt)


class ToDtype(Transform):
    """Convert dtypes: a dtype applies to images and videos only; a dict maps input classes
    (or ``"others"``) to dtypes. ``scale=True`` rescales image values to the new range."""

    _transformed_types = (Tensor,)

    def __init__(self, dtype, scale: bool = False) -> None:
        from .... import dtypes

        super().__init__()
        if not isinstance(dtype, (dict, dtypes.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        self.dtype, self.scale = dtype, scale

    def transform(self, inpt, params):
        if not isinstance(self.dtype, dict):
            if not (is_pure_tensor(inpt) or isinstance(inpt, (Image, Video))):
                return inpt
            dtype = self.dtype
        elif type(inpt) in self.dtype:
            dtype = self.dtype[type(inpt)]
        elif "others" in self.dtype:
            dtype = self.dtype["others"]
        else:
            raise ValueError(
                f"No dtype was specified for type {type(inpt)}. If you only need to convert the "
                "dtype of images or videos, you can just pass e.g. dtype=torch.float32. If you're "
                'passing a dict as dtype, you can use "others" as a catch-all key e.g. '
                'dtype={tv_tensors.Mask: torch.int64, "others": None} to pass-through the rest '
                "of the inputs."
            )
        if dtype is None:
            return inpt
        return self._call_kernel(F.to_dtype, inpt, dtype=dtype, scale=self.scale)


class ConvertImageDtype(ToDtype):
    """Deprecated in torchvision for ``ToDtype(dtype, scale=True)``."""

    def __init__(self, dtype=None) -> None:
        from .... import dtypes

        super().__init__(dtypes.float32 if dtype is None else dtype, scale=True)


# -- misc -----------------------------------------------------------------------------------------
class Identity(Transform):
    def transform(self, inpt, params):
        return inpt


class Lambda(Transform):
    """Apply ``lambd`` to each input of ``types`` (every input by default)."""

    _transformed_types = (object,)

    def __init__(self, lambd, *types) -> None:
        super().__init__()
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd, self.types = lambd, types or self._transformed_types

    def transform(self, inpt, params):
        return self.lambd(inpt) if isinstance(inpt, self.types) else inpt


class Normalize(Transform):
    """``(x - mean) / std`` per channel of float images and videos."""

    def __init__(self, mean, std, inplace: bool = False) -> None:
        super().__init__()
        self.mean, self.std, self.inplace = list(mean), list(std), inplace

    def check_inputs(self, flat_inputs) -> None:
        if has_any(flat_inputs, _PIL_IMAGE):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")

    def transform(self, inpt, params):
        return self._call_kernel(
            F.normalize, inpt, mean=self.mean, std=self.std, inplace=self.inplace
        )


# -- colour ---------------------------------------------------------------------------------------
class Grayscale(Transform):
    def __init__(self, num_output_channels: int = 1) -> None:
        super().__init__()
        self.num_output_channels = num_output_channels

    def transform(self, inpt, params):
        return self._call_kernel(F.rgb_to_grayscale, inpt, self.num_output_channels)


class RandomGrayscale(_RandomApplyTransform):
    def __init__(self, p: float = 0.1) -> None:
        super().__init__(p=p)

    def make_params(self, flat_inputs):
        return dict(num_input_channels=query_chw(flat_inputs)[0])

    def transform(self, inpt, params):
        return self._call_kernel(F.rgb_to_grayscale, inpt, params["num_input_channels"])


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes in a random order (v1's
    ranges and draws), the same for every image of the sample."""

    def __init__(self, brightness=None, contrast=None, saturation=None, hue=None) -> None:
        super().__init__()
        ranges = _v1.ColorJitter(brightness or 0, contrast or 0, saturation or 0, hue)
        self.brightness, self.contrast = ranges.brightness, ranges.contrast
        self.saturation, self.hue = ranges.saturation, ranges.hue

    @staticmethod
    def _generate_value(left: float, right: float) -> float:
        return float(empty(1).uniform_(left, right))

    def make_params(self, flat_inputs):
        order = randperm(4).tolist()
        factors = [
            None if r is None else self._generate_value(*r)
            for r in (self.brightness, self.contrast, self.saturation, self.hue)
        ]
        return dict(order=order, factors=factors)

    def transform(self, inpt, params):
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for index in params["order"]:
            factor = params["factors"][index]
            if factor is not None:
                inpt = self._call_kernel(adjust[index], inpt, factor)
        return inpt


class RandomPhotometricDistort(Transform):
    """SSD's photometric distortion: each of brightness, contrast (before or after the
    saturation and hue), saturation and hue with probability ``p``, then a channel shuffle
    with probability ``p`` (torchvision's draws, in its order)."""

    def __init__(self, brightness=(0.875, 1.125), contrast=(0.5, 1.5), saturation=(0.5, 1.5),
                 hue=(-0.05, 0.05), p: float = 0.5):  # fmt: skip
        super().__init__()
        self.brightness, self.contrast, self.hue = brightness, contrast, hue
        self.saturation, self.p = saturation, p

    def make_params(self, flat_inputs):
        num_channels, *_ = query_chw(flat_inputs)
        params = {}
        for key, (low, high) in (("brightness", self.brightness), ("contrast", self.contrast),
                                 ("saturation", self.saturation), ("hue", self.hue)):  # fmt: skip
            params[key] = ColorJitter._generate_value(low, high) if rand(1) < self.p else None
        params["contrast_before"] = bool(rand(()) < 0.5)
        use_permutation = rand(1) < self.p
        params["permutation"] = randperm(num_channels) if use_permutation else None
        return params

    def transform(self, inpt, params):
        contrast = params["contrast"]
        steps = [(F.adjust_brightness, params["brightness"])]
        steps += [(F.adjust_contrast, contrast if params["contrast_before"] else None)]
        steps += [(F.adjust_saturation, params["saturation"]), (F.adjust_hue, params["hue"])]
        steps += [(F.adjust_contrast, None if params["contrast_before"] else contrast)]
        steps += [(F.permute_channels, params["permutation"])]
        for functional, value in steps:
            if value is not None:
                inpt = self._call_kernel(functional, inpt, value)
        return inpt


# -- bounding boxes -------------------------------------------------------------------------------
class ConvertBoundingBoxFormat(Transform):
    """Boxes to ``format`` (``"XYXY"``, ``"XYWH"``, ``"CXCYWH"`` or a BoundingBoxFormat)."""

    _transformed_types = (BoundingBoxes,)

    def __init__(self, format) -> None:
        super().__init__()
        self.format = tv_tensors._parse_format(format)

    def transform(self, inpt, params):
        return F.convert_bounding_box_format(inpt, new_format=self.format)


class ClampBoundingBoxes(Transform):
    """Boxes clamped to their canvas."""

    _transformed_types = (BoundingBoxes,)

    def __init__(self, clamping_mode="auto") -> None:
        super().__init__()
        self.clamping_mode = clamping_mode

    def transform(self, inpt, params):
        return F.clamp_bounding_boxes(inpt, clamping_mode=self.clamping_mode)


def _default_labels(inputs):
    """torchvision's label finder: the second item of a pair, or a dict's ``labels`` key (or
    else the first key containing ``label``)."""
    if isinstance(inputs, (tuple, list)):
        inputs = inputs[1]
    if is_pure_tensor(inputs):
        return inputs
    if not isinstance(inputs, dict):
        raise ValueError(
            "When using the default labels_getter, the input passed to forward must be a "
            "dictionary or a two-tuple whose second item is a dictionary or a tensor, but got "
            f"{inputs} instead."
        )
    keys = [k for k in inputs if k.lower() == "labels"] or [
        k for k in inputs if "label" in k.lower()
    ]
    if not keys:
        raise ValueError(
            "Could not infer where the labels are in the sample. Try passing a callable as the "
            "labels_getter parameter?If there are no labels in the sample by design, pass "
            "labels_getter=None."
        )
    return inputs[keys[0]]


class SanitizeBoundingBoxes(Transform):
    """Remove boxes smaller than ``min_size`` (either side) or ``min_area``, or outside the
    canvas, with their labels (found by ``labels_getter``) and their masks."""

    def __init__(self, min_size: float = 1.0, min_area: float = 1.0,
                 labels_getter="default") -> None:  # fmt: skip
        super().__init__()
        if min_size < 1:
            raise ValueError(f"min_size must be >= 1, got {min_size}.")
        if min_area < 1:
            raise ValueError(f"min_area must be >= 1, got {min_area}.")
        if not (labels_getter in ("default", None) or callable(labels_getter)):
            raise ValueError(
                "labels_getter should either be 'default', a callable, or None, but got "
                f"{labels_getter}."
            )
        self.min_size, self.min_area, self.labels_getter = min_size, min_area, labels_getter

    def _labels(self, inputs):
        if self.labels_getter is None:
            return None
        getter = _default_labels if self.labels_getter == "default" else self.labels_getter
        labels = getter(inputs)
        if labels is None or isinstance(labels, Tensor):
            return None if labels is None else (labels,)
        message = "The labels in the input to forward() must be a tensor or None, got {} instead."
        if not isinstance(labels, (tuple, list)):
            raise ValueError(message.format(type(labels)))
        for entry in labels:
            if not isinstance(entry, Tensor):
                raise ValueError(message.format(type(entry)))
        return tuple(labels)

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        labels = self._labels(inputs)
        flat_inputs, spec = tree_flatten(inputs)
        boxes = get_bounding_boxes(flat_inputs)
        for label in labels or ():
            if boxes.shape[0] != label.shape[0]:
                raise ValueError(
                    f"Number of boxes (shape={boxes.shape}) and must match the number of labels."
                    f"Found labels with shape={label.shape})."
                )
        valid = _sanitize_mask(boxes, boxes.format, boxes.canvas_size, self.min_size, self.min_area)
        params = dict(valid=valid, labels=labels or ())
        return tree_unflatten([self.transform(x, params) for x in flat_inputs], spec)

    def transform(self, inpt, params):
        is_label = any(inpt is label for label in params["labels"])
        if not (is_label or isinstance(inpt, (BoundingBoxes, Mask))):
            return inpt
        if isinstance(inpt, Mask) and (inpt.ndim < 3 or inpt.shape[0] != params["valid"].shape[0]):
            return inpt  # one mask for the whole image, not one per box
        out = _pure(inpt)[params["valid"]]
        return out if is_label else tv_tensors.wrap(out, like=inpt)


__all__ = [
    "ClampBoundingBoxes",
    "ColorJitter",
    "ConvertBoundingBoxFormat",
    "ConvertImageDtype",
    "Grayscale",
    "Identity",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "RandomGrayscale",
    "RandomPhotometricDistort",
    "SanitizeBoundingBoxes",
    "ToDtype",
    "ToImage",
    "ToPILImage",
    "ToPureTensor",
    "ToTensor",
]
