"""``torchvision.io``'s image functions, through PIL: files and encoded bytes ↔ ``uint8``
``C×H×W`` tensors (``read_image``, ``decode_image``, ``decode_png``, ``decode_jpeg``,
``encode_png``, ``write_png``, ``encode_jpeg``, ``write_jpeg``, ``read_file``,
``write_file``). Encoded images are 1-D uint8 tensors of the file's bytes, as in torchvision;
PNG round trips are exact, JPEG is lossy as it always is. Video reading is not here.
"""

from __future__ import annotations

import enum
import io as _io
import os

import numpy as np

from .. import dtypes
from ..creation import from_numpy
from ..tensor import Tensor
from ._missing import missing_names
from .transforms.functional import _need_pil

__all__ = [
    "ImageReadMode",
    "decode_image",
    "decode_jpeg",
    "decode_png",
    "encode_jpeg",
    "encode_png",
    "read_file",
    "read_image",
    "write_file",
    "write_jpeg",
    "write_png",
]


class ImageReadMode(enum.Enum):
    """How a decoded image's channels are converted: as stored, grey, grey with alpha, RGB or
    RGB with alpha (``RGBA``)."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
              ImageReadMode.RGB_ALPHA: "RGBA"}  # fmt: skip


def _read_mode(mode) -> ImageReadMode:
    if isinstance(mode, str):
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            names = list(ImageReadMode.__members__)
            raise ValueError(f"Invalid mode {mode!r}: use one of {names}") from None
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or a string, got {type(mode)}")
    return mode


def read_file(path) -> Tensor:
    """The bytes of the file at ``path`` as a 1-D uint8 tensor."""
    with open(str(path), "rb") as f:
        data = f.read()
    return from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def write_file(filename, data: Tensor) -> None:
    """Write a 1-D uint8 tensor's bytes to ``filename``."""
    if not isinstance(data, Tensor) or data.dtype is not dtypes.uint8 or data.ndim != 1:
        raise RuntimeError("Input tensor dtype should be uint8 and have one dimension")
    with open(str(filename), "wb") as f:
        f.write(data.detach().cpu().numpy().tobytes())


def _bytes_of(data, op: str) -> bytes:
    if not isinstance(data, Tensor):
        raise TypeError(f"{op}: input should be a Tensor of the encoded bytes, got {type(data)}")
    if data.dtype is not dtypes.uint8 or data.ndim != 1:
        raise RuntimeError(f"{op}: Expected a 1-dimensional uint8 tensor of the encoded bytes")
    if data.device.type != "cpu":
        raise ValueError("Input tensor must be a CPU tensor")
    return data.numpy().tobytes()


def _decode(data: bytes, mode, apply_exif_orientation: bool, formats, op: str) -> Tensor:
    """Decode ``data`` with PIL (one of ``formats``, or any) into a ``C×H×W`` tensor."""
    _need_pil(op)
    from PIL import Image, ImageOps, UnidentifiedImageError

    mode = _read_mode(mode)
    try:
        image = Image.open(_io.BytesIO(data), formats=formats)
        image.load()
    except UnidentifiedImageError:
        kinds = " or ".join(formats) if formats else "a supported image format"
        raise RuntimeError(f"{op}: the bytes are not {kinds}") from None
    if apply_exif_orientation:
        image = ImageOps.exif_transpose(image)
    if mode is not ImageReadMode.UNCHANGED:
        image = image.convert(_PIL_MODES[mode])
    elif image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "I;16", "I"):
        image = image.convert("RGB")
    array = np.array(image)  # a writable copy
    if image.mode in ("I;16", "I"):  # 16-bit PNG: uint16, as torchvision 0.21+
        array = array.astype(np.uint16)
    array = array[:, :, None] if array.ndim == 2 else array
    return from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False) -> Tensor:
    """Decode a PNG, JPEG, GIF or WEBP image (a 1-D uint8 tensor of its bytes, or a path)."""
    is_path = isinstance(input, (str, os.PathLike))
    data = _bytes_of(read_file(input) if is_path else input, "decode_image")
    return _decode(data, mode, apply_exif_orientation, None, "decode_image")


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False) -> Tensor:
    """The image at ``path`` as a uint8 ``C×H×W`` tensor (``mode`` converts the channels)."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False) -> Tensor:
    """Decode PNG bytes (a 1-D uint8 tensor) into a ``C×H×W`` tensor."""
    return _decode(_bytes_of(input, "decode_png"), mode, apply_exif_orientation, ["PNG"],
                   "decode_png")  # fmt: skip


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu", apply_exif_orientation=False):
    """Decode JPEG bytes (a 1-D uint8 tensor, or a list of them) into ``C×H×W`` tensors."""
    if isinstance(input, list):
        if not input:
            raise ValueError("Input list must contain at least one element")
        if not all(isinstance(t, Tensor) for t in input):
            raise ValueError("All elements of the input list must be tensors.")
        return [decode_jpeg(t, mode, device, apply_exif_orientation) for t in input]
    out = _decode(_bytes_of(input, "decode_jpeg"), mode, apply_exif_orientation, ["JPEG"],
                  "decode_jpeg")  # fmt: skip
    return out if str(device) == "cpu" else out.to(device)


def _to_pil(image: Tensor, op: str):
    _need_pil(op)
    from PIL import Image

    if not isinstance(image, Tensor) or image.dtype is not dtypes.uint8:
        raise RuntimeError(f"{op}: Input tensor dtype should be uint8")
    if image.ndim == 2:
        image = image.unsqueeze(0)
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise RuntimeError(
            f"{op}: The number of channels should be 1 or 3, got: {image.shape[0]}"
            if image.ndim == 3
            else f"{op}: Input data should be a 3-dimensional tensor"
        )
    array = image.detach().cpu().numpy().transpose(1, 2, 0)
    return Image.fromarray(np.ascontiguousarray(array[:, :, 0] if array.shape[2] == 1 else array))


def _encoded(pil_image, **save_args) -> Tensor:
    buffer = _io.BytesIO()
    pil_image.save(buffer, **save_args)
    return from_numpy(np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy())


def encode_png(input: Tensor, compression_level: int = 6) -> Tensor:
    """PNG bytes (1-D uint8 tensor) of a uint8 ``C×H×W`` image, 1 or 3 channels."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    return _encoded(_to_pil(input, "encode_png"), format="PNG", compress_level=compression_level)


def write_png(input: Tensor, filename, compression_level: int = 6) -> None:
    """Save a uint8 ``C×H×W`` (or ``H×W``) image as a PNG file."""
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality: int = 75):
    """JPEG bytes of a uint8 ``C×H×W`` image (or a list of images), 1 or 3 channels."""
    if quality < 1 or quality > 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, list):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is passed")
        return [encode_jpeg(image, quality) for image in input]
    return _encoded(_to_pil(input, "encode_jpeg"), format="JPEG", quality=quality)


def write_jpeg(input: Tensor, filename, quality: int = 75) -> None:
    """Save a uint8 ``C×H×W`` image as a JPEG file."""
    write_file(filename, encode_jpeg(input, quality))


__getattr__ = missing_names(
    __name__,
    "VideoReader decode_avif decode_gif decode_heic decode_webp read_video read_video_timestamps "
    "write_video",
)
