"""``torch._dynamo.decorators``' shape markers: ``mark_dynamic``, ``maybe_mark_dynamic`` and
``mark_static`` record on the tensor which dimensions a compiler should treat as changing or
fixed, in PyTorch's attributes (``_dynamo_dynamic_indices``, ...). minigrad's compiler
specialises every shape (see :func:`minigrad.compile`): a marked tensor gives the same results,
and each new size traces again."""

from __future__ import annotations

from typing import NamedTuple


class _DimRange(NamedTuple):
    """The range a dynamic dimension was marked with (PyTorch's ``_DimRange``)."""

    dim: int
    min: int | None
    max: int | None


def _tensor(t, what: str):
    from ..tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"{what} expects a tensor but received {type(t)}")


def _each(index, mark) -> None:
    if not isinstance(index, (list, tuple)):
        raise AssertionError(f"Expected index to be int, list, or tuple, got {type(index)}")
    for i in index:
        mark(i)


def mark_dynamic(t, index, *, hint_override=None, min=None, max=None, specialize_on=None):
    """Mark dimension ``index`` (an int, or a list of them) of ``t`` as dynamic, with an
    optional ``min``/``max`` range, as ``torch._dynamo.mark_dynamic``.

    Example:
        >>> minigrad._dynamo.mark_dynamic(x, 0)   # the batch dimension changes between calls
    """
    _tensor(t, "mark_dynamic")
    if not isinstance(index, int):
        _each(index, lambda i: mark_dynamic(t, i, min=min, max=max, specialize_on=specialize_on))
        return
    if not hasattr(t, "_dynamo_dynamic_indices"):
        t._dynamo_dynamic_indices, t._dynamo_dynamic_range = set(), set()
        t._dynamo_hint_overrides = {}
    if hint_override:
        t._dynamo_hint_overrides[index] = hint_override
    t._dynamo_dynamic_indices.add(index)
    t._dynamo_dynamic_range.add(_DimRange(index, min, max))
    t._has_dynamo_dim_marking = True


def maybe_mark_dynamic(t, index) -> None:
    """Mark dimension ``index`` of ``t`` as dynamic without insisting (a compiler may still
    specialise it), as ``torch._dynamo.maybe_mark_dynamic``."""
    _tensor(t, "maybe_mark_dynamic")
    if not isinstance(index, int):
        _each(index, lambda i: maybe_mark_dynamic(t, i))
        return
    if not hasattr(t, "_dynamo_weak_dynamic_indices"):
        t._dynamo_weak_dynamic_indices = set()
    t._dynamo_weak_dynamic_indices.add(index)
    t._has_dynamo_dim_marking = True


def mark_static(t, index=None):
    """Mark dimension ``index`` of ``t`` (every dimension when None) as static, as
    ``torch._dynamo.mark_static``; given an ``nn.Module`` class, marks the class and returns
    it."""
    from ..nn.modules.module import Module

    if isinstance(t, type) and issubclass(t, Module):
        t._dynamo_marked_static = True
        return t
    _tensor(t, "mark_static")
    if index is None:
        index = list(range(t.dim()))
    if not isinstance(index, int):
        _each(index, lambda i: mark_static(t, i))
        return None
    if not hasattr(t, "_dynamo_static_indices"):
        t._dynamo_static_indices = set()
    t._dynamo_static_indices.add(index)
    t._has_dynamo_dim_marking = True
    return None
