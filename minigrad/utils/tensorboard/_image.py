"""Image, boxed-image and video summaries, laid out and encoded as torch.utils.tensorboard's."""

from __future__ import annotations

import io
import tempfile

import numpy as np
from tensorboard.compat.proto.summary_pb2 import Summary

from ._summary import to_numpy


def make_grid(batch: np.ndarray, ncols: int = 8) -> np.ndarray:
    """(N, 1 or 3, H, W) images tiled edge to edge, ``ncols`` per row → (3, H', W')."""
    if batch.shape[1] == 1:
        batch = np.concatenate([batch] * 3, 1)
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise ValueError(f"add_images: needs 1 or 3 channels per image, got shape {batch.shape}")
    n, _, h, w = batch.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    grid = np.zeros((3, h * nrows, w * ncols), batch.dtype)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[:, r * h : (r + 1) * h, c * w : (c + 1) * w] = batch[i]
    return grid


def convert_to_hwc(array: np.ndarray, dataformats: str) -> np.ndarray:
    """An (H, W, C) image from one in ``dataformats`` (any order of NCHW, CHW or HW letters);
    a batch is tiled into a grid, one channel or none is repeated to three."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt):
        raise ValueError(f"add_image: dataformats {dataformats!r} names a dimension twice")
    if array.ndim != len(fmt):
        raise ValueError(
            f"add_image: dataformats {dataformats!r} needs a {len(fmt)}-d array, got shape "
            f"{array.shape}"
        )
    if len(fmt) == 4:
        return make_grid(array.transpose([fmt.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = array.transpose([fmt.find(c) for c in "HWC"])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    if len(fmt) == 2:
        return np.stack([array.transpose([fmt.find(c) for c in "HW"])] * 3, 2)
    raise ValueError(f"add_image: dataformats must have 2, 3 or 4 letters, got {dataformats!r}")


def to_uint8(array: np.ndarray) -> np.ndarray:
    """uint8 pixels: uint8 kept, anything else taken as [0, 1] and scaled by 255 (in float32,
    clipped and truncated, as PyTorch does)."""
    scale = 1 if array.dtype == np.uint8 else 255
    return (array.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def _draw_box(image, box, label) -> None:
    from PIL import ImageDraw, ImageFont

    left, top, right, bottom = box
    draw = ImageDraw.Draw(image)
    corners = [(left, top), (left, bottom), (right, bottom), (right, top), (left, top)]
    draw.line(corners, width=2, fill="Red")
    if label:
        font = ImageFont.load_default()
        x0, y0, x1, y1 = font.getbbox(label)
        margin = np.ceil(0.05 * (y1 - y0))
        draw.rectangle(
            [(left, bottom - (y1 - y0) - 2 * margin), (left + x1 - x0, bottom)], fill="Red"
        )
        draw.text((left + margin, bottom - (y1 - y0) - margin), label, fill="black", font=font)


def make_image(array: np.ndarray, rescale=1, boxes=None, labels=None) -> Summary.Image:
    """A PNG ``Summary.Image`` of an (H, W, C) uint8 array, boxes drawn in red, resized by
    ``rescale`` (the proto keeps the original height and width, as PyTorch's does)."""
    from PIL import Image

    height, width, channels = array.shape
    picture = Image.fromarray(array)
    for i, box in enumerate([] if boxes is None else boxes):
        _draw_box(picture, box, None if labels is None else labels[i])
    size = (int(width * rescale), int(height * rescale))
    picture = picture.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return Summary.Image(
        height=height, width=width, colorspace=channels, encoded_image_string=buffer.getvalue()
    )


def image(tag: str, img, dataformats: str = "CHW", rescale=1) -> Summary:
    """An image summary of ``img`` (floats in [0, 1] or uint8) laid out as ``dataformats``."""
    array = to_uint8(convert_to_hwc(to_numpy(img), dataformats))
    return Summary(value=[Summary.Value(tag=tag, image=make_image(array, rescale))])


def image_boxes(tag, img, boxes, rescale=1, dataformats="CHW", labels=None) -> Summary:
    """An image summary with ``boxes`` (N, 4) as (xmin, ymin, xmax, ymax) drawn on it."""
    array = to_uint8(convert_to_hwc(to_numpy(img), dataformats))
    proto = make_image(array, rescale, to_numpy(boxes), labels)
    return Summary(value=[Summary.Value(tag=tag, image=proto)])


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """A matplotlib figure rendered to a (3, H, W) uint8 array, or a list of them to (N, 3, H, W)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure):
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        rgb = np.asarray(canvas.buffer_rgba())[:, :, :3].transpose(2, 0, 1).copy()
        if close:
            import matplotlib.pyplot as plt

            plt.close(figure)
        return rgb

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)


def _video_frames(video: np.ndarray) -> np.ndarray:
    """(B, T, C, H, W) → (T, H', W', C): the batch padded to a power of two and tiled."""
    b, t, c, h, w = video.shape
    if video.dtype == np.uint8:
        video = np.float32(video) / 255.0
    if b & (b - 1):
        video = np.concatenate([video, np.zeros((2 ** b.bit_length() - b, t, c, h, w))], 0)
    rows = 2 ** ((b.bit_length() - 1) // 2)
    cols = video.shape[0] // rows
    video = video.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return video.reshape(t, rows * h, cols * w, c)


def _gif(frames: np.ndarray, fps) -> Summary.Image | None:
    try:
        import moviepy  # noqa: F401
    except ImportError:
        print("add_video needs package moviepy")  # PyTorch's message; the image stays empty
        return None
    try:
        from moviepy import editor as mpy
    except ImportError:
        print(
            "moviepy is installed, but can't import moviepy.editor.",
            "Some packages could be missing [imageio, requests]",
        )
        return None
    _, h, w, c = frames.shape
    clip = mpy.ImageSequenceClip(list(frames), fps=fps)
    with tempfile.NamedTemporaryFile(suffix=".gif") as f:
        try:
            clip.write_gif(f.name, verbose=False, logger=None)
        except TypeError:
            clip.write_gif(f.name, verbose=False)
        f.seek(0)
        return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=f.read())


def video(tag: str, vid, fps=4) -> Summary:
    """A GIF image summary of a (B, T, C, H, W) video (needs moviepy, as in PyTorch)."""
    frames = to_uint8(_video_frames(to_numpy(vid)))
    return Summary(value=[Summary.Value(tag=tag, image=_gif(frames, fps))])
