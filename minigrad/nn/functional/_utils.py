"""Helpers shared by the functional ops: reductions, in-place results, class-index checks."""

from __future__ import annotations

import numpy as np

from ... import backend, dtypes
from ..._warnings import warn_user
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.graph import named_as

_REDUCTIONS = ("none", "mean", "sum")


def check_tensor_input(x, op: str) -> None:
    """PyTorch's binding error for a first argument that is no tensor (a tuple of logits, a
    list), instead of an AttributeError from deep inside; a tensor-like with ``ndim`` passes,
    as under vmap."""
    if not hasattr(x, "ndim"):
        raise TypeError(
            f"{op}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}"
        )


def reduction_from_legacy(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` flags as a ``reduction`` string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "none" if not reduce else "mean" if size_average else "sum"
    warn_user(  # PyTorch's words, naming the reduction to use instead
        "size_average and reduce args will be deprecated, please use "
        f"reduction='{legacy}' instead.",
        UserWarning,
    )
    return legacy


def check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{reduction} is not a valid value for reduction ({op}: use 'none', 'mean' or 'sum')"
        )


def resolve_reduction(size_average, reduce, reduction: str, op: str) -> str:
    """The reduction a loss applies: the legacy ``size_average``/``reduce`` flags win when
    given (as PyTorch), and the result is checked."""
    reduction = reduction_from_legacy(size_average, reduce, reduction)
    check_reduction(reduction, op)
    return reduction


def reduce(loss, reduction: str):
    """Apply a loss reduction: 'none' keeps the elementwise loss; 'mean' and 'sum' reduce all."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def maybe_inplace(fn, input, inplace: bool, names: tuple = (None, None)):
    """``fn(input)``, written into ``input`` when ``inplace`` (PyTorch's ``inplace=True``).

    When the graph is recorded, ``fn`` reads a copy, so that what its backward saved is not
    the tensor being overwritten. ``names``: PyTorch's ``grad_fn`` names of the function out of
    place and in place (``("EluBackward0", "EluBackward1")``), given to the result's node.
    """
    if not inplace:
        out = fn(input)
        return out if names[0] is None else named_as(out, names[0])
    recording = is_grad_enabled() and input.requires_grad
    out = input.copy_(fn(input.clone() if recording else input))
    return out if names[1] is None else named_as(out, names[1])


# PyTorch's class-index losses take int64 targets; nll_loss and cross_entropy also uint8
_LONG_OR_BYTE = ("nll_loss", "cross_entropy")


def check_target_dtype(target, op: str) -> None:
    """Refuse class indices of a dtype PyTorch refuses for ``op``, in PyTorch's words (int32
    or float targets are a bug in the data pipeline, not something to convert silently)."""
    dtype = target.dtype
    if dtype is dtypes.int64:
        return
    if op in _LONG_OR_BYTE and dtype is not dtypes.uint8:
        raise RuntimeError(
            f"{op}: expected target dtype to be Long or Byte, but got "
            f"{dtypes.scalar_type_name(target.dtype)}"
        )
    if op not in _LONG_OR_BYTE:
        raise RuntimeError(
            f"{op}: expected scalar type Long but found {dtypes.scalar_type_name(target.dtype)}"
        )


def targets_in_range(target, num_classes: int) -> bool:
    """Whether ``target`` (class indices) is a non-empty CPU tensor whose every element, also
    of a batch under vmap, lies in ``[0, num_classes)``: one reduction for int64 (a negative
    index read as unsigned is 2⁶³ or more, so the largest unsigned value settles both ends)."""
    data = target._all_elements()
    if type(data) is not np.ndarray or not data.size:
        return False
    if data.dtype == np.int64:
        return int(np.maximum.reduce(data.view(np.uint64), None)) < num_classes
    return 0 <= data.min() and data.max() < num_classes


def check_class_targets(target, num_classes: int, ignore_index: int | None, op: str):
    """Check class indices in ``[0, num_classes)`` (``ignore_index`` allowed).

    On the CPU an out-of-range index raises IndexError naming it. Elsewhere that check would
    need a device-to-host copy in every step, so the bad positions are returned instead (a
    device bool array, or None on the CPU) and the caller turns their loss into NaN: a visible
    failure, never a silently wrong value.
    """
    check_target_dtype(target, op)
    if targets_in_range(target, num_classes):
        return None  # the common case on the CPU
    data = target._all_elements()
    with backend.on(target.device):  # kernels on the target's GPU (cuda:1 and up)
        bad = (data < 0) | (data >= num_classes)
        if ignore_index is not None:
            bad &= data != ignore_index
    if target.device.type != "cpu":
        return bad
    if bad.any():
        value = int(data[bad].reshape(-1)[0])
        raise IndexError(
            f"Target {value} is out of bounds. ({op}: class indices must be in [0, {num_classes})"
            + (f" or equal ignore_index={ignore_index}" if ignore_index is not None else "")
            + ")"
        )
    return None
