"""``torch.distributed.checkpoint.FileSystemWriter``/``FileSystemReader``: a checkpoint is a
folder. Each rank writes the chunks it holds (a tensor's values, or a DTensor's local chunk;
a chunk several ranks hold is written once, by the lowest of them) into ``__<rank>_0.distcp``,
objects pickled after them; rank 0 writes ``.metadata``: for each key the global shape and
dtype of the tensor and where each chunk lies (its offsets and sizes in the tensor, the file,
the byte range), or where the pickled object lies. The names are PyTorch's, the contents
minigrad's own (raw little-endian arrays and a pickled index): PyTorch cannot read minigrad's
checkpoints, nor minigrad PyTorch's."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

__all__ = ["FileSystemReader", "FileSystemWriter"]

_FORMAT = "minigrad-dcp-1"
METADATA = ".metadata"


class FileSystemWriter:
    """Where ``dcp.save`` writes: the folder ``path`` (made if missing). ``sync_files``
    flushes each file to disk; ``overwrite=False`` refuses a folder that holds a checkpoint.
    One file per rank: ``single_file_per_rank=False`` (a file per tensor) raises
    ``NotImplementedError``; ``thread_count`` and ``per_thread_copy_ahead`` are accepted (one
    writer thread)."""

    def __init__(
        self,
        path,
        single_file_per_rank: bool = True,
        sync_files: bool = True,
        thread_count: int = 1,
        per_thread_copy_ahead: int = 10_000_000,
        cache_staged_state_dict: bool = False,
        overwrite: bool = True,
        _extensions=None,
        serialization_format=None,
    ):
        if not single_file_per_rank:
            raise NotImplementedError(
                "FileSystemWriter(single_file_per_rank=False): minigrad writes one file per rank"
            )
        if _extensions:
            raise NotImplementedError("FileSystemWriter: stream extensions are not in minigrad")
        self.path = Path(path)
        self.sync_files, self.overwrite = sync_files, overwrite

    def prepare(self) -> None:
        """Make the folder; refuse an existing checkpoint without ``overwrite``."""
        if not self.overwrite and (self.path / METADATA).exists():
            raise RuntimeError(
                f"FileSystemWriter: {self.path} already holds a checkpoint and overwrite=False"
            )
        self.path.mkdir(parents=True, exist_ok=True)

    def write_data(self, rank: int, items: list) -> list:
        """Write ``items`` (``(fqn, offsets, array)`` for chunks, ``(fqn, None, bytes)`` for
        objects) into this rank's file; their ``(fqn, offsets, sizes, file, start, nbytes)``."""
        name = f"__{rank}_0.distcp"
        where, start = [], 0
        with open(self.path / name, "wb") as f:
            for fqn, offsets, value in items:
                data = value if offsets is None else np.ascontiguousarray(value).tobytes()
                f.write(data)
                sizes = None if offsets is None else tuple(value.shape)
                where.append((fqn, offsets, sizes, name, start, len(data)))
                start += len(data)
            if self.sync_files:
                f.flush()
                os.fsync(f.fileno())
        return where

    def finish(self, metadata) -> None:
        """Write the index, a :class:`~.metadata.Metadata` (rank 0, after every rank wrote
        its file)."""
        with open(self.path / METADATA, "wb") as f:
            pickle.dump({"format": _FORMAT, "metadata": metadata}, f)
            if self.sync_files:
                f.flush()
                os.fsync(f.fileno())


class FileSystemReader:
    """Where ``dcp.load`` reads: a folder written by :class:`FileSystemWriter` (every rank
    reads the index and the byte ranges of the chunks its tensors overlap)."""

    def __init__(self, path, _extension_registry=None):
        self.path = Path(path)

    def read_metadata(self):
        """The checkpoint's :class:`~.metadata.Metadata`."""
        with open(self.path / METADATA, "rb") as f:
            saved = pickle.load(f)
        if not isinstance(saved, dict) or saved.get("format") != _FORMAT:
            raise ValueError(
                f"FileSystemReader: {self.path} is not a checkpoint written by minigrad's "
                "dcp.save (minigrad cannot read PyTorch's checkpoint format)"
            )
        return saved["metadata"]

    def read_bytes(self, where: tuple) -> bytes:
        """The bytes at ``where`` (``(file, start, nbytes)``, from ``storage_data``)."""
        file, start, nbytes = where
        with open(self.path / file, "rb") as f:
            f.seek(start)
            return f.read(nbytes)

    def read_chunk(self, where: tuple, chunk, dtype) -> np.ndarray:
        """One saved chunk (a :class:`~.metadata.ChunkStorageMetadata`) as an array."""
        data = self.read_bytes(where)
        return np.frombuffer(data, dtype=dtype.numpy).reshape(tuple(chunk.sizes))
