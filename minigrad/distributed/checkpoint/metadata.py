"""``torch.distributed.checkpoint.metadata``: the index of a checkpoint, with PyTorch's classes
(``FileSystemReader(path).read_metadata().state_dict_metadata[fqn]`` is a
:class:`TensorStorageMetadata` of the global size, dtype and saved chunks, or a
:class:`BytesStorageMetadata`); ``storage_data`` says where each chunk's bytes lie (minigrad's
own layout: ``(fqn, offsets)`` -> ``(file, start, nbytes)``; an object's offsets are None)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "BytesStorageMetadata",
    "ChunkStorageMetadata",
    "Metadata",
    "TensorProperties",
    "TensorStorageMetadata",
]


@dataclass
class ChunkStorageMetadata:
    """Where a saved chunk sits in its tensor: ``offsets`` (its first index in each
    dimension) and ``sizes``."""

    offsets: tuple
    sizes: tuple


@dataclass
class TensorProperties:
    """A saved tensor's dtype (the other fields of PyTorch's are not kept)."""

    dtype: object = None


@dataclass
class TensorStorageMetadata:
    """A saved tensor: its global ``size``, ``properties.dtype`` and ``chunks``."""

    properties: TensorProperties
    size: tuple
    chunks: list = field(default_factory=list)


@dataclass
class BytesStorageMetadata:
    """A saved object (stored pickled)."""


@dataclass
class Metadata:
    """The index of a checkpoint: ``state_dict_metadata`` (fqn -> what was saved) and
    ``storage_data`` (where each chunk's bytes are)."""

    state_dict_metadata: dict
    planner_data: object = None
    storage_data: dict = field(default_factory=dict)
