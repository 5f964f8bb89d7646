"""``torch.distributed.checkpoint`` (``dcp``): ``save``/``load`` of sharded state dicts from
every rank at once (:mod:`.state_dict_saver`, :mod:`.state_dict_loader`, the folder written by
:class:`FileSystemWriter`), and :mod:`.state_dict`'s model and optimizer state dicts by
parameter name (sharded or full)."""

from . import default_planner, metadata, state_dict, state_dict_loader, state_dict_saver, stateful
from .api import CheckpointException
from .default_planner import DefaultLoadPlanner, DefaultSavePlanner
from .filesystem import FileSystemReader, FileSystemWriter
from .metadata import (
    BytesStorageMetadata,
    ChunkStorageMetadata,
    Metadata,
    TensorStorageMetadata,
)
from .state_dict_loader import load, load_state_dict
from .state_dict_saver import async_save, save, save_state_dict
from .stateful import Stateful

__all__ = [
    "BytesStorageMetadata",
    "CheckpointException",
    "DefaultLoadPlanner",
    "DefaultSavePlanner",
    "ChunkStorageMetadata",
    "Metadata",
    "TensorStorageMetadata",
    "FileSystemReader",
    "FileSystemWriter",
    "Stateful",
    "async_save",
    "default_planner",
    "load",
    "load_state_dict",
    "metadata",
    "save",
    "save_state_dict",
    "state_dict",
    "state_dict_loader",
    "state_dict_saver",
    "stateful",
]
