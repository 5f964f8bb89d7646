"""``torchvision.utils``: a batch of images tiled into one grid image, saving it, and
drawing boxes and segmentation masks on an image (the detection tutorials' plots)."""

from __future__ import annotations

import math

from .. import dtypes
from .._warnings import warn_user
from ..creation import tensor as _tensor
from ..ops.joining import cat, stack
from ..tensor import Tensor
from .transforms.functional import _need_pil, pil_to_tensor, scale_image_dtype, to_pil_image

__all__ = ["draw_bounding_boxes", "draw_segmentation_masks", "make_grid", "save_image"]


def make_grid(
    tensor,
    nrow: int = 8,
    padding: int = 2,
    normalize: bool = False,
    value_range=None,
    scale_each: bool = False,
    pad_value: float = 0.0,
) -> Tensor:
    """Tile a batch ``(B, C, H, W)`` (or a list of ``(C, H, W)`` images) into one ``(3, H', W')``
    image, ``nrow`` images per row, ``padding`` pixels of ``pad_value`` between them; grey
    images become three channels. ``normalize`` shifts each batch (or each image, with
    ``scale_each``) to [0, 1] using ``value_range`` or its own min and max."""
    if isinstance(tensor, (list, tuple)):
        tensor = stack(list(tensor), dim=0)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if tensor.ndim == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 3:
        tensor = (cat((tensor, tensor, tensor), 0) if tensor.shape[0] == 1 else tensor).unsqueeze(0)
    if tensor.ndim == 4 and tensor.shape[1] == 1:
        tensor = cat((tensor, tensor, tensor), 1)
    if normalize:
        tensor = tensor.clone()
        for image in tensor if scale_each else [tensor]:
            _scale_to_unit(image, value_range)
    if tensor.shape[0] == 1:
        return tensor.squeeze(0)
    count, channels, height, width = tensor.shape
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    cell_h, cell_w = height + padding, width + padding
    grid = tensor.new_full(
        (channels, cell_h * rows + padding, cell_w * columns + padding), pad_value
    )
    for k in range(count):
        top, left = (k // columns) * cell_h + padding, (k % columns) * cell_w + padding
        grid[:, top : top + height, left : left + width] = tensor[k]
    return grid


def _scale_to_unit(image: Tensor, value_range) -> None:
    low, high = value_range if value_range is not None else (float(image.min()), float(image.max()))
    image.clamp_(min=low, max=high)
    image.sub_(low).div_(max(high - low, 1e-5))


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Save ``make_grid(tensor, **kwargs)`` as an 8-bit image file (PNG, JPEG, ... by name
    or ``format``), values in [0, 1] rounded to 0..255."""
    _need_pil("save_image")
    from PIL import Image

    grid = make_grid(tensor, **kwargs)
    array = (
        grid.detach().mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(dtypes.uint8).numpy()
    )
    Image.fromarray(array).save(fp, format=format)


def _palette(count: int) -> list[tuple[int, int, int]]:
    """torchvision's default colours: ``i * (2**25 - 1, 2**15 - 1, 2**21 - 1) % 255``."""
    return [tuple((i * p) % 255 for p in (2**25 - 1, 2**15 - 1, 2**21 - 1)) for i in range(count)]


def _parse_colors(colors, count: int, floating: bool = False) -> list[tuple]:
    """One RGB triple per object from ``None`` (the palette), a colour (name or triple) or a
    list of them; scaled to [0, 1] for float images."""
    from PIL import ImageColor

    if colors is None:
        colors = _palette(count)
    elif isinstance(colors, list):
        if len(colors) < count:
            raise ValueError(
                "Number of colors must be equal or larger than the number of objects, but got "
                f"{len(colors)} < {count}."
            )
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(
            f"colors must be a tuple or a string, or a list thereof, but got {colors}."
        )
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got {colors}.")
    else:
        colors = [colors] * count
    colors = [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]
    return [tuple(v / 255 for v in c) for c in colors] if floating else colors


def _check_drawable(image, what: str) -> None:
    if not isinstance(image, Tensor):
        raise TypeError(f"{what}, got {type(image)}")
    if not (image.dtype is dtypes.uint8 or image.dtype.is_floating_point):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.ndim != 3:
        raise ValueError("Pass individual images, not batches")


def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None,
                        font_size=None, label_colors=None, label_background_colors=None,
                        fill_labels=False) -> Tensor:  # fmt: skip
    """``image`` (``C×H×W``, uint8 or float, 1 or 3 channels) with ``boxes`` (XYXY pixels)
    outlined ``width`` pixels wide (``fill``: tinted inside), each in its colour, with its
    label written at its top-left corner (PIL's default font, or the TrueType ``font``).
    Returns an RGB image of the input's dtype."""
    _need_pil("draw_bounding_boxes")
    from PIL import ImageDraw, ImageFont

    _check_drawable(image, "Tensor expected")
    if image.shape[0] not in (1, 3):
        raise ValueError("Only grayscale and RGB images are supported")
    if boxes.shape[-1] != 4:
        raise NotImplementedError("draw_bounding_boxes: rotated (8-coordinate) boxes")
    if bool((boxes[:, 0] > boxes[:, 2]).any()) or bool((boxes[:, 1] > boxes[:, 3]).any()):
        raise ValueError(
            "Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert "
            "to convert them"
        )
    count = boxes.shape[0]
    if count == 0:
        warn_user("boxes doesn't contain any box. No box was drawn")
        return image
    if labels is None:
        labels = [None] * count
    elif len(labels) != count:
        raise ValueError(
            f"Number of boxes ({count}) and labels ({len(labels)}) mismatch. Please specify "
            "labels for each box."
        )
    colors = _parse_colors(colors, count)
    text_colors = (_parse_colors(label_colors or "black", count) if label_colors or fill_labels
                   else list(colors))  # fmt: skip
    backgrounds = (_parse_colors(label_background_colors, count)
                   if fill_labels and label_background_colors else list(colors))  # fmt: skip
    if font is None:
        if font_size is not None:
            warn_user("Argument 'font_size' will be ignored since 'font' is not set.")
        text_font = ImageFont.load_default()
    else:
        text_font = ImageFont.truetype(font=font, size=font_size or 10)
    rgb = image.expand(3, -1, -1) if image.shape[0] == 1 else image
    floating = image.dtype.is_floating_point
    canvas = to_pil_image(scale_image_dtype(rgb, dtypes.uint8, v2=True) if floating else rgb)
    draw = ImageDraw.Draw(canvas, "RGBA" if fill else None)
    for box, color, label, text_color, background in zip(
        boxes.to(dtypes.int64).tolist(), colors, labels, text_colors, backgrounds
    ):
        draw.rectangle(box, width=width, outline=color, fill=color + (100,) if fill else None)
        if label is not None:
            corner = (box[0] + width + 1, box[1] + width + 1)
            if fill_labels:
                left, top, right, bottom = draw.textbbox(corner, label, font=text_font)
                draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=background)
            draw.text(corner, label, fill=text_color, font=text_font)
    out = pil_to_tensor(canvas)
    return scale_image_dtype(out, image.dtype, v2=True) if floating else out


def draw_segmentation_masks(image, masks, alpha: float = 0.8, colors=None) -> Tensor:
    """``image`` (RGB ``3×H×W``, uint8 or float) with each boolean mask painted in its colour,
    blended at ``alpha``; pixels under several masks are painted black."""
    _need_pil("draw_segmentation_masks")
    _check_drawable(image, "The image must be a tensor")
    if image.shape[0] != 3:
        raise ValueError("Pass an RGB image. Other Image formats are not supported")
    masks = masks[None] if masks.ndim == 2 else masks
    if masks.ndim != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W)")
    if masks.dtype is not dtypes.bool:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    if tuple(masks.shape[-2:]) != tuple(image.shape[-2:]):
        raise ValueError("The image and the masks must have the same height and width")
    if masks.shape[0] == 0:
        warn_user("masks doesn't contain any mask. No mask was drawn")
        return image
    painted = image.detach().clone()
    floating = image.dtype.is_floating_point
    for mask, color in zip(masks, _parse_colors(colors, masks.shape[0], floating)):
        painted[:, mask] = _tensor(color, dtype=image.dtype, device=image.device)[:, None]
    painted[:, masks.sum(dim=0) > 1] = 0
    return (image * (1 - alpha) + painted * alpha).to(image.dtype)
