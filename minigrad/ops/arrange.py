"""Rearranging elements: roll (a cyclic shift), rot90, meshgrid and cartesian_prod
(coordinate grids), combinations, composed from slicing, cat, flip, reshape and expand."""

from __future__ import annotations

import itertools

from ..autograd.graph import names_node
from ._size import as_int
from .base import constant, normalize_dim, on_input_device, tensor_args
from .joining import cat, stack


@names_node("RollBackward0")
def roll(input, shifts, dims=None):
    """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor if None).

    Example:
        >>> minigrad.tensor([1, 2, 3, 4]).roll(1)  # tensor([4, 1, 2, 3])
    """
    if dims is None:
        if not isinstance(shifts, int):
            if len(shifts) != 1:
                raise RuntimeError("roll: shifts must be an int when dims is not given")
            shifts = shifts[0]
        return roll(input.reshape(-1), shifts, 0).reshape(input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    out = input
    for shift, dim in zip(shifts, dims):
        shift = as_int(shift, "roll", "shifts")
        d = normalize_dim(dim, input.ndim, "roll")
        n = input.shape[d] if input.ndim else 1
        s = shift % n if n else 0
        if s:
            lead = (slice(None),) * d
            out = cat([out[lead + (slice(n - s, None),)], out[lead + (slice(0, n - s),)]], d)
    return out if out is not input else input.clone()


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: output i varies along dim i (``indexing='ij'``,
    PyTorch's default) or with the first two dims swapped (``'xy'``, as NumPy's default).

    Example:
        >>> gx, gy = minigrad.meshgrid(minigrad.arange(3), minigrad.arange(2), indexing="ij")
        >>> gx.shape  # (3, 2)
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensor_args(tensors, "meshgrid")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be one of 'xy' or 'ij', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(
                f"meshgrid: Expected 0D or 1D tensor in the tensor list but got {t.ndim}D"
            )
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    order = [1, 0] + list(range(2, len(flat))) if swap else list(range(len(flat)))
    shape = [flat[i].shape[0] for i in order]
    out = []
    for t_index, t in enumerate(flat):
        pos = order.index(t_index)
        view = [1] * len(flat)
        view[pos] = -1
        out.append(t.reshape(view).expand(*shape))
    return tuple(out)


@names_node("Rot90Backward0")
def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90° ``k`` times in the plane of ``dims``, from the first towards the second."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = (normalize_dim(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(
            f"rot90: expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}"
        )
    k = as_int(k, "rot90", "k") % 4
    if k == 1:
        return input.flip(b).transpose(a, b)
    if k == 2:
        return input.flip((a, b))
    if k == 3:
        return input.flip(a).transpose(a, b)
    return input.clone()


def cartesian_prod(*tensors):
    """Every combination of one entry from each 1-D tensor, as rows of a (n, len(tensors))
    tensor (1-D when there is one tensor)."""
    for t in tensor_args(tensors, "cartesian_prod"):
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


# PyTorch's last node of vander: the columns flipped, or written in place into a new tensor
_VANDER_NODES = {False: "FlipBackward0", True: "torch::autograd::CopySlices"}


@names_node(lambda x, N=None, increasing=False: _VANDER_NODES[increasing])  # noqa: N803
def vander(x, N=None, increasing=False):  # noqa: N803 - PyTorch's argument name
    """The Vandermonde matrix of a 1-D tensor: column ``j`` is ``x ** (N - 1 - j)``
    (``x ** j`` with ``increasing=True``), as ``torch.vander``; built by cumulative products,
    so the gradient is finite at 0.

    Example:
        >>> minigrad.vander(minigrad.tensor([1.0, 2.0, 3.0]))   # rows [1, 1, 1], [4, 2, 1], [9, 3, 1]
    """
    if x.ndim != 1:
        raise RuntimeError(f"vander: x must be a one-dimensional tensor, got shape {list(x.shape)}")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {n}")
    if x.dtype.is_floating_point or x.dtype.is_complex:
        base = x
    else:
        base = x.long()  # integer and bool inputs give int64, as PyTorch
    if n <= 1:
        out = base.new_ones((x.shape[0], n))
    else:
        powers = base.unsqueeze(1).expand(x.shape[0], n - 1).cumprod(1)
        out = cat([base.new_ones((x.shape[0], 1)), powers], 1)
    return out if increasing else out.flip(1)


@on_input_device
@names_node("StackBackward0")
def combinations(input, r=2, with_replacement=False):
    """The ``r``-length combinations of the entries of a 1-D tensor, as rows (itertools order)."""
    if input.ndim != 1:
        raise RuntimeError(f"combinations: expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"combinations: expect a non-negative number, but got {r}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    if not rows or r == 0:
        return input.new_empty((0,) if r == 0 else (0, r))
    index = constant(input.device.xp.asarray(rows, dtype="int64"), input.device)
    return input[index]
