"""The geometric v2 transforms: flips, resizes, crops and pads of whole samples.

Each draws its window or flip once per call, from minigrad's global generator in
torchvision's order, and applies it to every image, video, mask and box set of the sample.
"""

from __future__ import annotations

from ...._warnings import warn_user
from ....creation import rand, randint, tensor
from ... import tv_tensors
from ...tv_tensors import BoundingBoxes, Image
from .. import functional as _F1
from .. import transforms as _v1
from ..functional import InterpolationMode, _as_interpolation
from . import functional as F
from ._transform import (
    _PIL_IMAGE,
    Transform,
    _RandomApplyTransform,
    get_bounding_boxes,
    has_all,
    has_any,
    query_size,
)
from .functional import _pure, is_pure_tensor


# -- flips ----------------------------------------------------------------------------------------
class RandomHorizontalFlip(_RandomApplyTransform):
    """Mirror every image, mask and box set left to right, together, with probability ``p``."""

    def transform(self, inpt, params):
        return self._call_kernel(F.horizontal_flip, inpt)


class RandomVerticalFlip(_RandomApplyTransform):
    """Mirror top to bottom, together, with probability ``p``."""

    def transform(self, inpt, params):
        return self._call_kernel(F.vertical_flip, inpt)


def _interpolation(mode):
    return _as_interpolation(mode)  # (a mode, its string or Pillow's integer constant)


class Resize(Transform):
    """Resize to ``size`` (an int sets the shorter side; ``None`` with ``max_size`` sets the
    longer one); boxes scale, masks use nearest."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True) -> None:  # fmt: skip
        super().__init__()
        if isinstance(size, int):
            size = [size]
        elif isinstance(size, (list, tuple)) and len(size) in (1, 2):
            size = list(size)
        elif size is None:
            if not isinstance(max_size, int):
                raise ValueError(
                    f"max_size must be an integer when size is None, but got {max_size} instead."
                )
        else:
            raise ValueError(
                "size can be an integer, a sequence of one or two integers, or None, but got "
                f"{size} instead."
            )
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = _interpolation(interpolation)

    def transform(self, inpt, params):
        return self._call_kernel(F.resize, inpt, self.size, interpolation=self.interpolation,
                                 max_size=self.max_size, antialias=self.antialias)  # fmt: skip


class CenterCrop(Transform):
    """The central ``size`` window of every image, mask and box set."""

    def __init__(self, size) -> None:
        super().__init__()
        self.size = _F1._pair(size, "CenterCrop")

    def transform(self, inpt, params):
        return self._call_kernel(F.center_crop, inpt, self.size)


class RandomResizedCrop(Transform):
    """A random window (area fraction ``scale``, aspect ratio ``ratio``) resized to ``size``;
    the window is drawn as v1's ``RandomResizedCrop.get_params`` draws it."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True) -> None:  # fmt: skip
        super().__init__()
        self.size = _F1._pair(size, "RandomResizedCrop")
        if not isinstance(scale, (list, tuple)) or len(scale) != 2:
            raise TypeError("Scale should be a sequence of two floats.")
        if not isinstance(ratio, (list, tuple)) or len(ratio) != 2:
            raise TypeError("Ratio should be a sequence of two floats.")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warn_user("Scale and ratio should be of kind (min, max)")
        self.scale, self.ratio, self.antialias = scale, ratio, antialias
        self.interpolation = _interpolation(interpolation)

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        top, left, h, w = _v1.RandomResizedCrop._window(height, width, self.scale, self.ratio)
        return dict(top=top, left=left, height=h, width=w)

    def transform(self, inpt, params):
        return self._call_kernel(F.resized_crop, inpt, **params, size=list(self.size),
                                 interpolation=self.interpolation, antialias=self.antialias)  # fmt: skip


class Pad(Transform):
    """Pad every image and mask (boxes shift onto the larger canvas). ``fill`` may be a dict
    from input class to fill value (``"others"`` for the rest)."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant") -> None:
        super().__init__()
        _check_padding(padding, padding_mode)
        self.padding = padding if isinstance(padding, int) else list(padding)
        self.fill, self.padding_mode = fill, padding_mode

    def transform(self, inpt, params):
        return self._call_kernel(F.pad, inpt, self.padding, fill=_fill_for(self.fill, inpt),
                                 padding_mode=self.padding_mode)  # fmt: skip


def _check_padding(padding, padding_mode) -> None:
    message = f"Padding must be an int or a 1, 2, or 4 element of tuple or list, got {padding}."
    if isinstance(padding, (tuple, list)):
        if len(padding) not in (1, 2, 4) or not all(isinstance(p, int) for p in padding):
            raise ValueError(message)
    elif not isinstance(padding, int):
        raise ValueError(message)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")


def _fill_for(fill, inpt):
    """The fill value for ``inpt``'s class from a scalar or a ``{class or "others": fill}``."""
    if not isinstance(fill, dict):
        return fill
    return fill.get(type(inpt), fill.get("others", 0))


class RandomCrop(Transform):
    """A random ``size`` window, after optional ``padding``; ``pad_if_needed`` pads an image
    smaller than ``size`` on both sides (v2's rule). The same window for every input."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant") -> None:  # fmt: skip
        super().__init__()
        self.size = _F1._pair(size, "RandomCrop")
        if pad_if_needed or padding is not None:
            _check_padding(0 if padding is None else padding, padding_mode)
        self.padding = (
            None if not padding else _F1._padding_ltrb(padding)
        )  # left, top, right, bottom
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    def make_params(self, flat_inputs):
        height, width = query_size(flat_inputs)
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        height, width = height + top + bottom, width + left + right
        crop_h, crop_w = self.size
        if self.pad_if_needed and height < crop_h:
            diff = crop_h - height
            top, bottom, height = top + diff, bottom + diff, height + 2 * diff
        if self.pad_if_needed and width < crop_w:
            diff = crop_w - width
            left, right, width = left + diff, right + diff, width + 2 * diff
        if height < crop_h or width < crop_w:
            padded = "padded " if self.padding is not None else ""
            raise ValueError(
                f"Required crop size {(crop_h, crop_w)} is larger than {padded}input image size "
                f"{(height, width)}."
            )
        i = int(randint(0, height - crop_h + 1, size=())) if height > crop_h else 0
        j = int(randint(0, width - crop_w + 1, size=())) if width > crop_w else 0
        padding = [left, top, right, bottom]
        return dict(top=i, left=j, height=crop_h, width=crop_w, padding=padding,
                    needs_crop=height > crop_h or width > crop_w, needs_pad=any(padding))  # fmt: skip

    def transform(self, inpt, params):
        if params["needs_pad"]:
            inpt = self._call_kernel(F.pad, inpt, params["padding"],
                                     fill=_fill_for(self.fill, inpt), padding_mode=self.padding_mode)  # fmt: skip
        if params["needs_crop"]:
            window = [params[k] for k in ("top", "left", "height", "width")]
            inpt = self._call_kernel(F.crop, inpt, *window)
        return inpt


class RandomIoUCrop(Transform):
    """SSD's crop: a random window holding at least one box centre, with an IoU with some box
    of at least a randomly chosen threshold (or no crop); boxes whose centre falls outside
    become zero boxes, for :class:`SanitizeBoundingBoxes` to remove."""

    def __init__(self, min_scale=0.3, max_scale=1.0, min_aspect_ratio=0.5, max_aspect_ratio=2.0,
                 sampler_options=None, trials=40) -> None:  # fmt: skip
        super().__init__()
        self.min_scale, self.max_scale = min_scale, max_scale
        self.min_aspect_ratio, self.max_aspect_ratio = min_aspect_ratio, max_aspect_ratio
        self.options = (
            [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0] if sampler_options is None else sampler_options
        )
        self.trials = trials

    def check_inputs(self, flat_inputs) -> None:
        if not (has_all(flat_inputs, BoundingBoxes)
                and has_any(flat_inputs, _PIL_IMAGE, Image, is_pure_tensor)):  # fmt: skip
            raise TypeError(
                f"{type(self).__name__}() requires input sample to contain tensor or PIL images "
                "and bounding boxes. Sample can also contain masks."
            )

    def make_params(self, flat_inputs):
        from ...ops.boxes import box_iou

        orig_h, orig_w = query_size(flat_inputs)
        boxes = get_bounding_boxes(flat_inputs)
        xyxy = F.convert_bounding_box_format(_pure(boxes), boxes.format, "XYXY").float()
        cx, cy = 0.5 * (xyxy[:, 0] + xyxy[:, 2]), 0.5 * (xyxy[:, 1] + xyxy[:, 3])
        while True:
            threshold = self.options[int(randint(low=0, high=len(self.options), size=(1,)))]
            if threshold >= 1.0:  # the leave-as-is option
                return {}
            for _ in range(self.trials):
                r = self.min_scale + (self.max_scale - self.min_scale) * rand(2)
                new_w, new_h = int(orig_w * float(r[0])), int(orig_h * float(r[1]))
                if not (self.min_aspect_ratio <= new_w / new_h <= self.max_aspect_ratio):
                    continue
                r = rand(2)
                left, top = int((orig_w - new_w) * float(r[0])), int((orig_h - new_h) * float(r[1]))
                right, bottom = left + new_w, top + new_h
                if left == right or top == bottom:
                    continue
                inside = (left < cx) & (cx < right) & (top < cy) & (cy < bottom)
                if not bool(inside.any()):
                    continue
                window = tensor([[left, top, right, bottom]], dtype=xyxy.dtype, device=xyxy.device)
                if float(box_iou(xyxy[inside], window).max()) < threshold:
                    continue
                return dict(top=top, left=left, height=new_h, width=new_w, inside=inside)

    def transform(self, inpt, params):
        if not params:
            return inpt
        window = [params[k] for k in ("top", "left", "height", "width")]
        out = self._call_kernel(F.crop, inpt, *window)
        if isinstance(out, BoundingBoxes):
            plain = _pure(out).clone()
            plain[~params["inside"]] = 0  # marked degenerate for SanitizeBoundingBoxes
            out = tv_tensors.wrap(plain, like=out)
        return out


__all__ = [
    "CenterCrop",
    "Pad",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomIoUCrop",
    "RandomResizedCrop",
    "RandomVerticalFlip",
    "Resize",
]
