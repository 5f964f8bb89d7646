"""Searching and counting (no gradients: integer results): unique, bincount, searchsorted,
bucketize, unravel_index."""

from __future__ import annotations

from .. import dtypes
from .._warnings import warn_user_once
from ..autograd import graph
from .base import (
    check_bool_arg,
    constant,
    no_derivative,
    normalize_dim,
    on_input_device,
    refuse_dtype,
)
from .complex import refuse_complex

_UNIQUE_FLAGS = ("sorted", "return_inverse", "return_counts")


@on_input_device
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or distinct slices along ``dim``), sorted, optionally with the
    index of each input element in them (``return_inverse``) and how often each occurs.

    Always sorted (PyTorch's CPU kernel sorts too). The values carry no gradient here.

    Example:
        >>> minigrad.unique(minigrad.tensor([3, 1, 3]), return_counts=True)  # ([1, 3], [1, 2])
    """
    for flag, value in zip(_UNIQUE_FLAGS, (sorted, return_inverse, return_counts)):
        check_bool_arg(value, "unique", flag)
    refuse_complex(input, "unique")
    xp = input.device.xp
    data = input._data
    # every NaN is a distinct value to PyTorch (NumPy and CuPy merge them by default)
    nans_apart = {"equal_nan": False} if input.dtype.is_floating_point else {}
    if dim is None:
        values, inverse, counts = xp.unique(
            data.reshape(-1), return_inverse=True, return_counts=True, **nans_apart
        )
        inverse = inverse.reshape(data.shape)
    else:
        d = normalize_dim(dim, input.ndim, "unique")
        values, inverse, counts = xp.unique(
            data, return_inverse=True, return_counts=True, axis=d, **nans_apart
        )
        inverse = inverse.reshape(-1)
    out = [constant(values, input.device)]
    if return_inverse:
        out.append(constant(inverse.astype("int64", copy=False), input.device))
    if return_counts:
        out.append(constant(counts.astype("int64", copy=False), input.device))
    return out[0] if len(out) == 1 else tuple(out)


@on_input_device
def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, …, max occurs in a 1-D non-negative integer tensor (summing
    ``weights`` instead of counting ones, when given); at least ``minlength`` bins."""
    if input.dtype.is_floating_point or input.dtype.is_complex or input.dtype is dtypes.bool:
        raise NotImplementedError(  # PyTorch's kernel refuses the dtype before the shape
            f"\"bincount_cpu\" not implemented for '{dtypes.scalar_type_name(input.dtype)}' "
            "(bincount counts integer values; convert with .long())"
        )
    if minlength < 0:  # (PyTorch's check and words, before the shape's)
        raise RuntimeError("minlength should be >= 0")
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    xp = input.device.xp
    data = input._data
    if data.size and int(data.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return constant(xp.bincount(data, minlength=minlength).astype("int64"), input.device)
    if tuple(weights.shape) != tuple(input.shape):
        raise RuntimeError("bincount: weights should be 1-d and have the same length as input")
    # as PyTorch: float32 weights give float32 counts, every other dtype float64
    out_dtype = "float32" if weights.dtype is dtypes.float32 else "float64"
    counts = xp.bincount(data, weights=weights._data, minlength=minlength)
    # differentiable weights give a result that requires grad and raises in backward, as
    # PyTorch's (it has no derivative for bincount): never a silently missing gradient
    return no_derivative("bincount", constant(counts.astype(out_dtype), input.device), weights)


@on_input_device
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value, the index in ``sorted_sequence`` (sorted along its last dim) where it
    would be inserted to keep the order: the first place (``right=False``) or after equal
    values (``right=True`` or ``side='right'``). A 1-D sequence serves every value; otherwise
    its leading dims match ``input``'s.

    Example:
        >>> minigrad.searchsorted(minigrad.tensor([1.0, 3.0, 5.0]), minigrad.tensor([3.0, 6.0]))
    """
    refuse_complex(input, "searchsorted")
    refuse_complex(sorted_sequence, "searchsorted")
    if getattr(type(sorted_sequence), "_methods_batch", False) or getattr(
        type(input), "_methods_batch", False
    ):  # under vmap: the whole batch in one call
        from ..func import _array_fns

        return _array_fns.searchsorted(
            sorted_sequence, input, out_int32=out_int32, right=right, side=side, sorter=sorter
        )
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side and right can't be set to opposites")
        right = side == "right"
    _searchsorted_dtypes(sorted_sequence, input)
    for operand, what in (
        (input, "input value"),
        (sorted_sequence, "boundary"),
        (sorter, "sorter"),
    ):
        _warn_non_contiguous(operand, what)
    how = "right" if right else "left"
    dev = sorted_sequence.device
    xp = dev.xp
    seq = sorted_sequence._data
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    scalar = not isinstance(input, graph.Tensor)
    if seq.ndim != 1 and (scalar or input.ndim == 0):
        raise RuntimeError(
            "torch.searchsorted(): input value can be a scalar only when boundaries tensor "
            f"dimension is 1, but we got boundaries tensor dim({seq.ndim}) and input value's "
            f"dim(0) numel(1)"
        )
    values = xp.asarray(input, dtype=seq.dtype) if scalar else input._data
    out_dtype = "int32" if out_int32 else "int64"
    # NaN in the sequence: PyTorch's own search (on a GPU always, to spare a sync for the check)
    floats = seq.dtype.kind == "f"
    if (
        floats
        and (dev.type != "cpu" or bool(xp.isnan(seq).any()))
        and (seq.ndim == 1 or not scalar)
    ):
        if seq.ndim == 1 or values.shape[:-1] == seq.shape[:-1]:
            return constant(_search_as_pytorch(xp, seq, values, right).astype(out_dtype), dev)
    if seq.ndim == 1:
        found = xp.searchsorted(seq, values, side=how)
        return constant(xp.asarray(found).astype(out_dtype), dev)
    if scalar or values.shape[:-1] != seq.shape[:-1]:
        raise RuntimeError(
            f"searchsorted: boundaries tensor should be 1 dimension or the first N-1 dimensions "
            f"of boundaries tensor and input value tensor must match, but we got boundaries "
            f"tensor {list(seq.shape)} and input value tensor {list(values.shape)}"
        )
    rows_seq = seq.reshape(-1, seq.shape[-1])
    rows_val = values.reshape(-1, values.shape[-1])
    found = xp.stack([xp.searchsorted(s, v, side=how) for s, v in zip(rows_seq, rows_val)])
    return constant(found.reshape(values.shape).astype(out_dtype), dev)


def _search_as_pytorch(xp, seq, values, right: bool):
    """PyTorch's binary search, step for step (``!(mid >= v)``, or ``!(mid > v)`` for
    ``right``, moves right): a sequence holding NaN sends values past it, where NumPy's
    NaN-last order would stop before it."""
    n = seq.shape[-1]
    rows = seq.reshape(-1, n)
    vals = xp.asarray(values).reshape(rows.shape[0] if seq.ndim > 1 else 1, -1)
    lo = xp.zeros(vals.shape, dtype="int64")
    hi = xp.full(vals.shape, n, dtype="int64")
    for _ in range(n.bit_length()):  # enough halvings for n + 1 outcomes
        mid = (lo + hi) // 2
        at_mid = xp.take_along_axis(rows, xp.minimum(mid, n - 1), axis=-1)
        go_right = ~(at_mid > vals) if right else ~(at_mid >= vals)
        active = lo < hi
        lo = xp.where(active & go_right, mid + 1, lo)
        hi = xp.where(active & ~go_right, mid, hi)
    return lo.reshape(xp.asarray(values).shape)


def _warn_non_contiguous(operand, what: str) -> None:
    """PyTorch's warning (once per program, as its TORCH_WARN_ONCE) that searchsorted and
    bucketize copy a non-contiguous ``what`` tensor (``input value``, ``boundary``, ``sorter``)."""
    if not isinstance(operand, graph.Tensor) or operand.is_contiguous():
        return
    warn_user_once(
        ("searchsorted non-contiguous", what),
        f"torch.searchsorted(): {what} tensor is non-contiguous, this will lower the "
        f"performance due to extra data copy when converting non-contiguous tensor to "
        f"contiguous, please use contiguous {what} tensor if possible. This message will only "
        f"appear once per program.",
    )


def _searchsorted_dtypes(sorted_sequence, input) -> None:
    """PyTorch's kernel searches the dtype both operands promote to: any but bool."""
    if dtypes.result_type(sorted_sequence, input) is dtypes.bool:
        refuse_dtype(dtypes.bool, "searchsorted_out_cpu", "searchsorted", bools_only=True)


def _check_out(out, *args, out_int32=False, **kwargs) -> None:
    """``out=`` of searchsorted and bucketize: int64 (int32 with ``out_int32``), as PyTorch."""
    want = dtypes.int32 if out_int32 else dtypes.int64
    if getattr(out, "dtype", want) is not want:
        raise RuntimeError(
            "torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) or "
            "Long(int64) depending on whether out_int32 flag is True, but we got output "
            f"tensor's dtype {dtypes.scalar_type_name(out.dtype)} and out_int32 flag is "
            f"{bool(out_int32)}"
        )


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value given 1-D increasing ``boundaries``: i with
    ``boundaries[i-1] < x <= boundaries[i]`` (``<`` and ``<=`` swap with ``right=True``)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


searchsorted.check_out = bucketize.check_out = _check_out


def unravel_index(indices, shape):
    """The coordinates in a tensor of ``shape`` of each flat (row-major) index: a tuple of int64
    tensors shaped like ``indices``, one per dim (``torch.unravel_index``).

    As in PyTorch the arithmetic is modular and unchecked: -1 is the last element, and an
    index past the end wraps around.

    Example:
        >>> minigrad.unravel_index(minigrad.tensor([5, 1]), (2, 3))
        (tensor([1, 0]), tensor([2, 1]))
    """
    if not isinstance(indices, graph.Tensor):
        raise TypeError(f"expected 'indices' to be a tensor, but got {type(indices).__name__}")
    if indices.dtype.is_floating_point or indices.dtype is dtypes.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    rest = indices.to(dtypes.int64)
    coords = []
    for size in reversed(shape):
        coords.append(rest.remainder(size))  # floor modulo: negative indices count from the end
        rest = rest.div(size, rounding_mode="floor")
    return tuple(reversed(coords))
