"""``torch.distributed.checkpoint.state_dict_saver``: ``save`` (``dcp.save``) writes a state
dict of tensors, DTensors and objects from every rank at once, each rank its own chunks (see
:mod:`.filesystem` for the folder's layout)."""

from __future__ import annotations

import pickle
from concurrent.futures import Future

from ..._warnings import warn_user
from ...tensor import Tensor
from .. import distributed_c10d as c10d
from . import _plan
from .default_planner import DefaultSavePlanner, check_planner
from .filesystem import FileSystemWriter
from .metadata import (
    BytesStorageMetadata,
    ChunkStorageMetadata,
    Metadata,
    TensorProperties,
    TensorStorageMetadata,
)

__all__ = ["save", "save_state_dict", "async_save"]


def _writer(storage_writer, checkpoint_id):
    if storage_writer is not None:
        return storage_writer
    if checkpoint_id is None:
        raise RuntimeError(
            "`checkpoint_id` must be specified if storage_reader/storage_writer is None."
        )
    return FileSystemWriter(checkpoint_id)


def _local_items(state_dict: dict) -> list:
    """``(fqn, offsets, shape, dtype name, array or pickled bytes)`` of each leaf here."""
    items = []
    for fqn, container, key in _plan.leaves(state_dict):
        value = container[key]
        if isinstance(value, Tensor):
            local, offsets, shape = _plan.local_part(value, "dcp.save")
            array = local.detach().numpy(force=True)
            items.append((fqn, offsets, shape, local.dtype.name, array))
        else:
            items.append((fqn, None, None, None, pickle.dumps(value)))
    return items


def _check_agree(plans: list) -> None:
    """Every rank saves a key with the same global shape and dtype (as PyTorch checks)."""
    seen = {}
    for rank, plan in enumerate(plans):
        for fqn, _, shape, dtype in plan:
            first = seen.setdefault(fqn, (rank, shape, dtype))
            if first[1:] != (shape, dtype):
                raise ValueError(
                    f"dcp.save: {fqn} is a tensor of shape {shape} and dtype {dtype} on rank "
                    f"{rank} but {first[1]} and {first[2]} on rank {first[0]}"
                )


def _metadata(plans: list, written: list, paths: dict) -> Metadata:
    """The index rank 0 writes: each key's kind, size and dtype and its chunks, and where
    their bytes lie."""
    from ... import Size, dtypes

    entries, storage = {}, {}
    for plan in plans:
        for fqn, offsets, shape, dtype in plan:
            if offsets is None:
                entries.setdefault(fqn, BytesStorageMetadata())
            elif fqn not in entries:
                props = TensorProperties(dtypes.from_name(dtype))
                entries[fqn] = TensorStorageMetadata(props, Size(shape), [])
    for where in written:
        for fqn, offsets, sizes, file, start, nbytes in where:
            storage[(fqn, offsets)] = (file, start, nbytes)
            if offsets is not None:
                entries[fqn].chunks.append(ChunkStorageMetadata(Size(offsets), Size(sizes)))
    return Metadata(entries, planner_data=paths, storage_data=storage)


def save(
    state_dict: dict,
    *,
    checkpoint_id=None,
    storage_writer=None,
    planner=None,
    process_group=None,
    no_dist: bool = False,
    use_collectives: bool = True,
):
    """Save ``state_dict`` (called on every rank, with the same keys): each rank writes the
    chunks of its tensors (a DTensor's local chunk; a chunk held by several ranks, such as a
    plain or replicated tensor, by the lowest of them), rank 0 the objects and the index. A
    :class:`~.stateful.Stateful` value (a module, an optimizer) is saved as its
    ``state_dict()``. Without a process group it saves from this process alone (PyTorch's
    warning). Returns the checkpoint's :class:`~.metadata.Metadata`.

    Raises:
        CheckpointException: on every rank, when some rank failed (its error inside).
        NotImplementedError: a ``planner`` other than a
            :class:`~.default_planner.DefaultSavePlanner`, ``use_collectives=False``, a
            DTensor with a ``Partial`` placement.
    """
    check_planner(planner, DefaultSavePlanner, "dcp.save")
    if not use_collectives:
        raise NotImplementedError("dcp.save(use_collectives=False) is not in minigrad")
    if process_group is not None:
        c10d._group(process_group, "dcp.save")  # (the world: minigrad has no subgroups)
    no_dist = _plan.dist_off(no_dist, "save")
    rank, _ = _plan.rank_and_world(no_dist)
    writer = _writer(storage_writer, checkpoint_id)
    state_dict = _plan.unwrap_stateful(state_dict)

    def plan():
        items = _local_items(state_dict)
        if rank == 0:
            writer.prepare()
        return items

    items = _plan.on_every_rank(plan, no_dist, "dcp.save (planning)")
    plans = _plan.gather_to_all([i[:4] for i in items], no_dist)
    _plan.on_every_rank(lambda: _check_agree(plans), no_dist, "dcp.save (planning)")
    held = set()  # (fqn, offsets) written by a lower rank
    for plan_of in plans[:rank]:
        held.update((fqn, offsets) for fqn, offsets, *_ in plan_of)
    mine = [(fqn, offsets, value) for fqn, offsets, _, _, value in items
            if (fqn, offsets) not in held]  # fmt: skip
    where = _plan.on_every_rank(lambda: writer.write_data(rank, mine), no_dist, "dcp.save")
    written = _plan.gather_to_all(where, no_dist)
    meta = _metadata(plans, written, _plan.key_paths(state_dict))
    _plan.on_every_rank(
        lambda: writer.finish(meta) if rank == 0 else None, no_dist, "dcp.save (metadata)"
    )
    return meta


def save_state_dict(
    state_dict: dict,
    storage_writer,
    process_group=None,
    coordinator_rank: int = 0,
    no_dist: bool = False,
    planner=None,
):
    """Deprecated in PyTorch (its ``FutureWarning``): :func:`save`."""
    warn_user(
        "`save_state_dict` is deprecated and will be removed in future versions.Please use "
        "`save` instead.",
        FutureWarning,
    )
    if coordinator_rank != 0:
        raise NotImplementedError("dcp.save_state_dict: rank 0 is minigrad's coordinator")
    return save(
        state_dict,
        storage_writer=storage_writer,
        process_group=process_group,
        no_dist=no_dist,
        planner=planner,
    )


def async_save(state_dict: dict, *, checkpoint_id=None, storage_writer=None, planner=None,
               process_group=None, async_checkpointer_type=None, async_stager=None,
               no_dist: bool = False, use_collectives: bool = True) -> Future:  # fmt: skip
    """:func:`save` returning a ``concurrent.futures.Future`` whose ``result()`` is the
    checkpoint's :class:`~.metadata.Metadata` (or raises the save's error). minigrad writes
    before returning, in the calling thread (PyTorch stages the state dict to CPU and writes in a
    background thread or process: a save's collectives cannot share minigrad's process group with
    the training's), so the Future is already done; the files are complete when it resolves, as
    in PyTorch."""
    if async_stager is not None:
        raise NotImplementedError("dcp.async_save: async_stager is not implemented in minigrad")
    future: Future = Future()
    try:
        meta = save(state_dict, checkpoint_id=checkpoint_id, storage_writer=storage_writer,
                    planner=planner, process_group=process_group, no_dist=no_dist,
                    use_collectives=use_collectives)  # fmt: skip
    except Exception as error:  # (PyTorch's Future carries the save's error)
        future.set_exception(error)
    else:
        future.set_result(meta)
    return future
