"""What ``dcp.save`` and ``dcp.load`` share: the walk over a nested state dict (PyTorch's keys:
dotted paths, lists by index, a dict or list holding no tensor stored whole), each tensor's
part on this rank (a DTensor's local chunk and where it starts), and running a step on every
rank so that a failure on any rank raises :class:`CheckpointException` on all of them."""

from __future__ import annotations

import traceback

from ...tensor import Tensor
from .. import distributed_c10d as c10d
from ..tensor._api import DTensor, local_shape_and_offset
from .api import CheckpointException
from .stateful import Stateful


def _terminal(value) -> bool:
    """Whether ``value`` is stored whole (PyTorch's rule): a dict never is (its entries are;
    an empty one stores nothing), a list is unless it holds a tensor, a dict or a list that is
    not; anything else is."""
    if isinstance(value, dict):
        return False
    if not isinstance(value, list):
        return True
    return not any(
        isinstance(v, Tensor) or (isinstance(v, (dict, list)) and not _terminal(v)) for v in value
    )


def _walk(state_dict: dict) -> list:
    """``(fqn, key path, container, key)`` of each value stored on its own (see
    :func:`leaves`); the key path is the tuple of dict keys (as strings, as PyTorch's) and
    list indices leading to it."""
    out = []

    def walk(path: str, keys: tuple, container, key) -> None:
        value = container[key]
        if isinstance(value, dict):
            for k in list(value):
                walk(f"{path}.{k}", (*keys, str(k)), value, k)
        elif _terminal(value):
            out.append((path, keys, container, key))
        else:
            for i in range(len(value)):
                walk(f"{path}.{i}", (*keys, i), value, i)

    for key in state_dict:
        walk(str(key), (str(key),), state_dict, key)
    return out


def leaves(state_dict: dict) -> list:
    """``(fqn, container, key)`` of each value stored on its own, keyed by dotted path as
    PyTorch's planner keys them (``"optim.state.fc.weight.exp_avg"``,
    ``"optim.param_groups.0.lr"``): tensors, and objects (see :func:`_terminal`)."""
    return [(fqn, container, key) for fqn, _, container, key in _walk(state_dict)]


def key_paths(state_dict: dict) -> dict:
    """fqn -> the tuple of keys leading to it (PyTorch keeps this mapping as the checkpoint's
    ``planner_data``, to rebuild the nested state dict without a template)."""
    return {fqn: keys for fqn, keys, _, _ in _walk(state_dict)}


def unwrap_stateful(state_dict: dict) -> dict:
    """The top-level values with each :class:`Stateful` object replaced by its state dict."""
    return {k: v.state_dict() if isinstance(v, Stateful) else v for k, v in state_dict.items()}


def local_part(t: Tensor, where: str) -> tuple:
    """``(local tensor, offsets, global shape)`` of ``t``: a DTensor's chunk on this rank and
    where it starts; a plain tensor is the whole of itself."""
    if isinstance(t, DTensor):
        if any(p.is_partial() for p in t.placements):
            raise NotImplementedError(
                f"{where}: a DTensor with a Partial placement (redistribute it to Replicate first)"
            )
        _, offsets = local_shape_and_offset(t.shape, t.device_mesh, t.placements)
        return t._local_tensor, tuple(offsets), tuple(t.shape)
    return t, (0,) * t.ndim, tuple(t.shape)


def rank_and_world(no_dist: bool) -> tuple[int, int]:
    if no_dist:
        return 0, 1
    return c10d.get_rank(), c10d.get_world_size()


def on_every_rank(step, no_dist: bool, what: str):
    """``step()`` on this rank; if it failed on any rank, :class:`CheckpointException` on
    every rank (the ranks exchange their outcome, so none waits for a failed one)."""
    from ..collectives import all_gather_object

    result, error = None, None
    try:
        result = step()
    except Exception:
        error = traceback.format_exc()
    errors = [error]
    if not no_dist:
        errors = [None] * c10d.get_world_size()
        all_gather_object(errors, error)
    failures = {rank: e for rank, e in enumerate(errors) if e is not None}
    if failures:
        raise CheckpointException(f"{what} failed", failures)
    return result


def gather_to_all(value, no_dist: bool) -> list:
    """Every rank's ``value``, in rank order."""
    if no_dist:
        return [value]
    from ..collectives import all_gather_object

    out = [None] * c10d.get_world_size()
    all_gather_object(out, value)
    return out


def dist_off(no_dist: bool, what: str) -> bool:
    """True if ``save``/``load`` runs in this process alone (asked, or no process group), with
    PyTorch's warning in the second case."""
    if no_dist:
        return True
    if not c10d.is_initialized():
        from ..._warnings import warn_user

        warn_user(
            "torch.distributed is disabled, unavailable or uninitialized, assuming the intent "
            f"is to {what} in a single process."
        )
        return True
    return False
