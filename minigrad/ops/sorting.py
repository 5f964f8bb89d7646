"""Sorting and searching along a dimension: argsort, sort, topk (NaN largest, every dtype; on
the CPU ties as PyTorch's CPU kernels leave them) and nonzero."""

from __future__ import annotations

from .. import _std_select, _std_sort, backend, dtypes, return_types
from .._result_layout import dense_like, row_major
from ..autograd.graph import named_as
from .base import (
    accepts_axis,
    check_bool_arg,
    constant,
    method_on_batched,
    normalize_dim,
    on_input_device,
)
from .complex import refuse_complex

SortResult = return_types.sort
TopkResult = return_types.topk


@accepts_axis
@method_on_batched
@on_input_device
def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``.

    NaN counts as larger than every number, as in PyTorch: last when ascending, first when
    descending. With ``stable=True`` ties keep their order. Without, on the CPU, ties come out
    in the order PyTorch's CPU sort leaves them in (:mod:`minigrad._std_sort`), so a program
    that sorts values with ties goes on as under PyTorch; on a GPU the sort is stable.
    Descending order sorts the reversed input ascending and reverses the result, so it holds
    for every dtype (negating would overflow for unsigned and extreme integers).
    """
    check_bool_arg(descending, "argsort", "descending")
    refuse_complex(input, "sort")
    if input.ndim == 0:
        return constant(input.device.xp.zeros((), dtype="int64"), input.device)
    d = normalize_dim(dim, input.ndim, "argsort")
    xp, data = input.device.xp, input._data
    if not stable and input.device.type == "cpu":
        order = backend.array_kernel(_std_sort.pytorch_argsort, data, d, descending)
    elif not descending:
        order = xp.argsort(data, axis=d, kind="stable")
    else:  # ties in the reversed input keep reversed order; reversing again restores theirs
        order = xp.argsort(xp.flip(data, axis=d), axis=d, kind="stable")
        order = (data.shape[d] - 1) - xp.flip(order, axis=d)
    # laid out as PyTorch's sort writes its results: the input's dense strides
    return constant(dense_like(xp, order.astype("int64", copy=False), data), input.device)


@accepts_axis
@method_on_batched
def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``; the gradient flows to the original places.
    Ties as :func:`argsort` orders them."""
    check_bool_arg(descending, "sort", "descending")
    indices = argsort(input, dim, descending, stable)
    if input.ndim == 0:
        return SortResult(named_as(input.clone(), "SortBackward0"), indices)
    values = input.gather(normalize_dim(dim, input.ndim, "sort"), indices)
    values._data = dense_like(input.device.xp, values._data, input._data)  # (a fresh result)
    return SortResult(named_as(values, "SortBackward0"), indices)


@accepts_axis
@method_on_batched
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) entries along ``dim`` as ``(values, indices)``.

    On the CPU, equal values are picked and ordered as PyTorch's CPU ``topk`` does (and with
    ``sorted=False`` the entries come in its order), see :mod:`minigrad._std_select`; on a GPU
    the order is a stable sort's."""
    if input.dtype is dtypes.bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    refuse_complex(input, "topk")
    d = normalize_dim(dim, input.ndim, "topk")
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(
            f"selected index k out of range (topk: k ({k}) must be between 0 and the size of "
            f"dim {d} ({size}))"
        )
    if input.ndim == 0:
        return TopkResult(named_as(input.clone(), "TopkBackward0"), argsort(input))
    if input.device.type == "cpu" and input.numel():  # (nothing to select: the sort's slice)
        found = backend.array_kernel(_std_select.topk_indices, input._data, k, d, largest, sorted)
        indices = constant(found, input.device)
    else:
        indices = argsort(input, d, descending=largest)[(slice(None),) * d + (slice(0, k),)]
    xp = input.device.xp  # both results row-major, as PyTorch's topk allocates them
    indices = constant(row_major(xp, indices._data), input.device)
    values = input.gather(d, indices)
    values._data = row_major(xp, values._data)  # (a fresh result)
    return TopkResult(named_as(values, "TopkBackward0"), indices)


@on_input_device
def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero entries: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    xp = input.device.xp
    found = xp.nonzero(input._data if input.ndim else input._data.reshape(1))
    columns = [constant(c.astype("int64", copy=False), input.device) for c in found]
    if as_tuple:
        return tuple(columns)
    if input.ndim == 0:
        return constant(xp.zeros((int(found[0].size), 0), dtype="int64"), input.device)
    return constant(xp.stack([c._data for c in columns], axis=1), input.device)
