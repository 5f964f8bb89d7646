"""``torch.distributed.checkpoint.state_dict_loader``: ``load`` (``dcp.load``) fills a state
dict in place from a checkpoint of :func:`~.state_dict_saver.save`, each rank reading the parts
of the saved chunks that its tensors cover: a DTensor gets its local chunk in its current
placements, whatever the world size and placements at save time (a checkpoint of 2 ranks loads
on 1, one of 1 on 2)."""

from __future__ import annotations

import pickle

import numpy as np

from ... import no_grad, tensor
from ..._warnings import warn_user
from ...tensor import Tensor
from .. import distributed_c10d as c10d
from . import _plan
from .default_planner import DefaultLoadPlanner, check_planner
from .filesystem import FileSystemReader
from .metadata import BytesStorageMetadata
from .stateful import Stateful

__all__ = ["load", "load_state_dict"]


def _reader(storage_reader, checkpoint_id):
    if storage_reader is not None:
        return storage_reader
    if checkpoint_id is None:
        raise RuntimeError(
            "`checkpoint_id` must be specified if storage_reader/storage_writer is None."
        )
    return FileSystemReader(checkpoint_id)


def _plan_reads(state_dict: dict, metadata, allow_partial_load: bool = False) -> list:
    """``(container, key, fqn, local region or None)`` for each leaf, with PyTorch's errors
    for a key the checkpoint lacks (skipped with ``allow_partial_load``), a size that differs,
    or an object where a tensor was saved."""
    reads = []
    for fqn, container, key in _plan.leaves(state_dict):
        saved = metadata.state_dict_metadata.get(fqn)
        if saved is None and allow_partial_load:
            continue
        if saved is None:
            raise RuntimeError(f"Missing key in checkpoint state_dict: {fqn}.")
        value = container[key]
        if isinstance(saved, BytesStorageMetadata):
            reads.append((container, key, fqn, None))
            continue
        if not isinstance(value, Tensor):
            raise ValueError(
                f"Invalid checkpoint metadata for {fqn}, expected BytesStorageMetadata but "
                f"found {type(saved)}"
            )
        if tuple(value.shape) != tuple(saved.size):
            raise ValueError(
                f"Size mismatch between saved {saved.size} and current: {value.shape} for {fqn}"
            )
        local, offsets, _ = _plan.local_part(value, "dcp.load")
        reads.append((container, key, fqn, (local, offsets)))
    return reads


def _fill(reader, metadata, fqn: str, local: Tensor, offsets: tuple) -> None:
    """Copy into ``local`` (whose region starts at ``offsets``) every saved chunk's overlap."""
    saved = metadata.state_dict_metadata[fqn]
    sizes = tuple(local.shape)
    out = np.empty(sizes, dtype=saved.properties.dtype.numpy)
    covered = 0
    for chunk in saved.chunks:
        starts = tuple(chunk.offsets)
        lo = [max(a, b) for a, b in zip(offsets, starts)]
        hi = [min(a + n, b + m) for a, n, b, m in zip(offsets, sizes, starts, chunk.sizes)]
        if any(top <= bottom for bottom, top in zip(lo, hi)):
            continue
        where = metadata.storage_data[(fqn, starts)]
        data = reader.read_chunk(where, chunk, saved.properties.dtype)
        src = tuple(slice(b - c, t - c) for b, t, c in zip(lo, hi, starts))
        dst = tuple(slice(b - o, t - o) for b, t, o in zip(lo, hi, offsets))
        out[dst] = data[src]
        covered += int(np.prod([t - b for b, t in zip(lo, hi)]))
    if covered < out.size:
        raise RuntimeError(
            f"dcp.load: the checkpoint's chunks of {fqn} do not cover this rank's part"
        )
    with no_grad():
        local.copy_(tensor(out).to(local.device))


def load(
    state_dict: dict,
    *,
    checkpoint_id=None,
    storage_reader=None,
    planner=None,
    process_group=None,
    no_dist: bool = False,
) -> None:
    """Load a checkpoint into ``state_dict`` (called on every rank, with the same keys):
    tensors and DTensors are filled in place (allocate them first, in their placements: each
    rank reads only what its local part covers, cast to its dtype); other values are replaced
    by the saved objects. A :class:`~.stateful.Stateful` value's ``state_dict()`` is filled,
    then given to its ``load_state_dict``. Without a process group it loads in this process
    alone (PyTorch's warning).

    Raises:
        CheckpointException: on every rank, when some rank failed: a key the checkpoint lacks
            ("Missing key in checkpoint state_dict"), a different shape ("Size mismatch"),
            no checkpoint at the path.
    """
    planner = check_planner(planner, DefaultLoadPlanner, "dcp.load")
    if process_group is not None:
        c10d._group(process_group, "dcp.load")
    no_dist = _plan.dist_off(no_dist, "load")
    reader = _reader(storage_reader, checkpoint_id)
    keys = sorted(state_dict)
    loaded = _plan.unwrap_stateful({k: state_dict[k] for k in keys})

    def plan():
        metadata = reader.read_metadata()
        return metadata, _plan_reads(loaded, metadata, planner.allow_partial_load)

    metadata, reads = _plan.on_every_rank(plan, no_dist, "dcp.load (planning)")

    def read():
        for container, key, fqn, region in reads:
            if region is None:
                data = reader.read_bytes(metadata.storage_data[(fqn, None)])
                container[key] = pickle.loads(data)
            else:
                _fill(reader, metadata, fqn, *region)

    _plan.on_every_rank(read, no_dist, "dcp.load")
    for key in keys:
        value = state_dict[key]
        if isinstance(value, Stateful):
            value.load_state_dict(loaded[key])
        else:
            state_dict[key] = loaded[key]


def load_state_dict(
    state_dict: dict,
    storage_reader,
    process_group=None,
    coordinator_rank: int = 0,
    no_dist: bool = False,
    planner=None,
) -> None:
    """Deprecated in PyTorch (its ``FutureWarning``): :func:`load`."""
    warn_user(
        "`load_state_dict` is deprecated and will be removed in future versions. Please use "
        "`load` instead.",
        FutureWarning,
    )
    if coordinator_rank != 0:
        raise NotImplementedError("dcp.load_state_dict: rank 0 is minigrad's coordinator")
    load(
        state_dict,
        storage_reader=storage_reader,
        process_group=process_group,
        no_dist=no_dist,
        planner=planner,
    )
