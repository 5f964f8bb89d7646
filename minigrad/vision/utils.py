"""``torchvision.utils``: a batch of images tiled into one grid image, and saving it."""

from __future__ import annotations

import math

from .. import dtypes
from ..ops.joining import cat, stack
from ..tensor import Tensor
from .transforms.functional import _need_pil

__all__ = ["make_grid", "save_image"]


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
