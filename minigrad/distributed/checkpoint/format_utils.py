"""``torch.distributed.checkpoint.format_utils``: converting between a ``dcp.save`` folder and
one ``torch.save`` file, in a single process (no process group needed).
:func:`dcp_to_torch_save` rebuilds the nested state dict from the checkpoint's index (its
``planner_data``: each entry's key path) with every tensor whole; :func:`torch_save_to_dcp`
loads a file and saves it as a checkpoint folder."""

from __future__ import annotations

import pickle

from ... import empty
from ...io.api import load as _load
from ...io.api import save as _save
from .filesystem import FileSystemReader
from .metadata import BytesStorageMetadata
from .state_dict_loader import _fill
from .state_dict_saver import save as _dcp_save

__all__ = ["dcp_to_torch_save", "torch_save_to_dcp"]


def _set_element(root: dict, path: tuple, value) -> None:
    """Put ``value`` at ``path`` in ``root``, making dicts (string keys) and lists (integer
    indices) on the way, as PyTorch's ``set_element``."""
    container = root
    for key, following in zip(path, path[1:]):
        fresh = [] if isinstance(following, int) else {}
        if isinstance(container, list):
            container.extend([None] * (key + 1 - len(container)))
            if container[key] is None:
                container[key] = fresh
        else:
            container.setdefault(key, fresh)
        container = container[key]
    last = path[-1]
    if isinstance(container, list):
        container.extend([None] * (last + 1 - len(container)))
    container[last] = value


def dcp_to_torch_save(dcp_checkpoint_dir, torch_save_path) -> None:
    """Write the checkpoint in ``dcp_checkpoint_dir`` as one ``torch.save`` file: the nested
    state dict that was saved, with each sharded tensor gathered whole.

    Example:
        >>> dcp_to_torch_save("ckpt/step-100", "step-100.pt")
        >>> state = minigrad.load("step-100.pt")
    """
    reader = FileSystemReader(dcp_checkpoint_dir)
    metadata = reader.read_metadata()
    paths = metadata.planner_data or {}
    state_dict: dict = {}
    for fqn, saved in metadata.state_dict_metadata.items():
        if isinstance(saved, BytesStorageMetadata):
            value = pickle.loads(reader.read_bytes(metadata.storage_data[(fqn, None)]))
        else:
            value = empty(tuple(saved.size), dtype=saved.properties.dtype)
            _fill(reader, metadata, fqn, value, (0,) * len(saved.size))
        _set_element(state_dict, paths.get(fqn, (fqn,)), value)
    _save(state_dict, torch_save_path)


def torch_save_to_dcp(torch_save_path, dcp_checkpoint_dir) -> None:
    """Save the state dict in the ``torch.save`` file ``torch_save_path`` as a ``dcp.save``
    checkpoint folder ``dcp_checkpoint_dir`` (from this process alone)."""
    state_dict = _load(torch_save_path, weights_only=False)
    _dcp_save(state_dict, checkpoint_id=dcp_checkpoint_dir, no_dist=True)
