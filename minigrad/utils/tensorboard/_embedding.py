"""The Projector tab's files, as torch.utils.tensorboard writes them: tensors.tsv, metadata.tsv,
sprite.png under ``<log_dir>/<step:05d>/<tag>``, and ``projector_config.pbtxt``."""

from __future__ import annotations

import math
import os

import numpy as np

from ._image import make_grid
from ._summary import to_numpy


def encode_tag(tag: str) -> str:
    """``%``, ``/`` and ``\\`` percent-encoded, so a tag is one folder name."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def write_metadata(metadata, save_path: str, metadata_header=None) -> None:
    if metadata_header:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header, *metadata]]
    else:
        lines = [str(x) for x in metadata]
    with open(os.path.join(save_path, "metadata.tsv"), "wb") as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_sprite(label_img: np.ndarray, save_path: str) -> None:
    """The images tiled in a square of ``ceil(sqrt(N))`` per side (floats in [0, 1])."""
    from PIL import Image

    grid = make_grid(label_img, ncols=math.ceil(len(label_img) ** 0.5)).transpose(1, 2, 0)
    square = np.zeros((grid.shape[1], grid.shape[1], 3))
    square[: grid.shape[0]] = grid
    Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(
        os.path.join(save_path, "sprite.png"), format="PNG"
    )


def write_tensors(rows: np.ndarray, save_path: str) -> None:
    with open(os.path.join(save_path, "tensors.tsv"), "wb") as f:
        for row in rows:
            f.write(("\t".join(str(v.item()) for v in row) + "\n").encode("utf-8"))


def add_embedding(writer, mat, metadata, label_img, global_step, tag, metadata_header) -> None:
    """Write one embedding's files and rewrite the writer's projector config with all of them."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

    rows = to_numpy(mat)
    step = str(global_step or 0).zfill(5)
    subdir = f"{step}/{encode_tag(tag)}"
    save_path = os.path.join(writer.log_dir, subdir)
    if os.path.isdir(save_path):
        print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
    elif os.path.exists(save_path):
        raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
    os.makedirs(save_path, exist_ok=True)
    info = EmbeddingInfo(tensor_name=f"{tag}:{step}", tensor_path=f"{subdir}/tensors.tsv")
    if metadata is not None:
        if rows.shape[0] != len(metadata):
            raise AssertionError("#labels should equal with #data points")
        write_metadata(metadata, save_path, metadata_header)
        info.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        images = to_numpy(label_img)
        if rows.shape[0] != images.shape[0]:
            raise AssertionError("#images should equal with #data points")
        write_sprite(images, save_path)
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([images.shape[3], images.shape[2]])
    if rows.ndim != 2:
        raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
    write_tensors(rows, save_path)
    if not hasattr(writer, "_projector_config"):
        writer._projector_config = ProjectorConfig()
    writer._projector_config.embeddings.extend([info])
    with open(os.path.join(writer.log_dir, "projector_config.pbtxt"), "wb") as f:
        f.write(text_format.MessageToString(writer._projector_config).encode("utf-8"))
