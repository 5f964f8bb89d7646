"""``torch.gradient`` (finite differences, differentiable), ``torch.segment_reduce``
(reductions over consecutive segments, differentiable) and ``torch.histogramdd``, composed
from slicing and reductions."""

from __future__ import annotations

import builtins
import math

import numpy as np  # histogramdd bins on the host, as Tensor.histogram does

from . import creation, dtypes, return_types
from .autograd import graph
from .autograd.graph import names_node
from .backend import DimensionError
from .ops.base import refuse_dtype
from .ops.complex import complex_not_implemented
from .ops.joining import cat, stack

# -- gradient ------------------------------------------------------------------------------------


def _gradient_dims(input, spacing, dim):
    """The dims to differentiate along and the spacing of each (a number or coordinates)."""
    if dim is None:
        dims = list(builtins.range(input.ndim))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [d + input.ndim if d < 0 else d for d in dims]
        for d in dims:
            if not 0 <= d < input.ndim:
                raise IndexError(
                    f"torch.gradient: Dimension out of range (expected to be in range of "
                    f"[{-input.ndim}, {input.ndim - 1}], but got {dim})"
                )
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"torch.gradient: invalid dim {dim} for a {input.ndim}-D input")
    if isinstance(spacing, (int, float)):
        return dims, [spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) == 1 and len(dims) > 1 and isinstance(spacing[0], (int, float)):
        spacing = spacing * len(dims)
    if len(spacing) != len(dims):
        given = "dim argument" if dim is not None else f"'self.dim() = {input.ndim}'"
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
            f"equal to {given}, but got a list of length {len(spacing)}"
        )
    return dims, spacing


def _coefficient(values, ndim: int, dim: int):
    shape = [1] * ndim
    shape[dim] = -1
    return values.reshape(shape)


def _uniform_gradient(f, dim: int, h, edge_order: int):
    n = f.shape[dim]

    def part(start, length=None):
        return f.narrow(dim, start if start >= 0 else n + start, length or 1)

    inner = (f.narrow(dim, 2, n - 2) - f.narrow(dim, 0, n - 2)) / (2 * h)
    if edge_order == 1:
        first, last = (part(1) - part(0)) / h, (part(-1) - part(-2)) / h
    else:
        first = (-1.5 * part(0) + 2 * part(1) - 0.5 * part(2)) / h
        last = (0.5 * part(-3) - 2 * part(-2) + 1.5 * part(-1)) / h
    return cat([first, inner, last], dim)


def _coordinate_gradient(f, dim: int, x, edge_order: int):
    n, ndim = f.shape[dim], f.ndim
    x = x.to(f.dtype)
    dx = x[1:] - x[:-1]
    d1, d2 = dx[:-1], dx[1:]
    a = _coefficient(-d2 / (d1 * (d1 + d2)), ndim, dim)
    b = _coefficient((d2 - d1) / (d1 * d2), ndim, dim)
    c = _coefficient(d1 / (d2 * (d1 + d2)), ndim, dim)
    inner = a * f.narrow(dim, 0, n - 2) + b * f.narrow(dim, 1, n - 2) + c * f.narrow(dim, 2, n - 2)

    def part(k):
        return f.narrow(dim, k if k >= 0 else n + k, 1)

    if edge_order == 1:
        first = (part(1) - part(0)) / dx[0]
        last = (part(-1) - part(-2)) / dx[-1]
    else:
        p, q = dx[0], dx[1]
        first = (
            -(2 * p + q) / (p * (p + q)) * part(0)
            + (p + q) / (p * q) * part(1)
            - p / (q * (p + q)) * part(2)
        )
        p, q = dx[-2], dx[-1]
        last = (
            q / (p * (p + q)) * part(-3)
            - (q + p) / (p * q) * part(-2)
            + (2 * q + p) / (q * (p + q)) * part(-1)
        )
    return cat([first, inner, last], dim)


def gradient(input, *, spacing=1, dim=None, edge_order=1) -> tuple:
    """Estimate the derivative of the samples ``input`` along each of ``dim`` (all dims by
    default) with central differences inside and one-sided ones of order ``edge_order`` (1 or
    2) at the ends.

    Args:
        input: the sampled values; integer inputs give default-dtype results.
        spacing: one number (the same step along every dim), a list of numbers (one per dim),
            or a list of 1-D tensors (the coordinates of the samples along each dim).
        dim: an int or a list of ints.
        edge_order: 1 or 2.

    Returns:
        A tuple with one tensor of ``input``'s shape per dim.

    Example:
        >>> minigrad.gradient(minigrad.tensor([1.0, 4.0, 9.0, 16.0]))
        (tensor([3., 4., 6., 7.]),)
    """
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if input.dtype is dtypes.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    dims, spacing = _gradient_dims(input, spacing, dim)
    # (PyTorch differences the coordinates, then the values: bool ones raise, in that order)
    if any(isinstance(s, graph.Tensor) and s.dtype is dtypes.bool for s in spacing):
        raise RuntimeError(
            "torch.gradient: Negation, the `-` operator, on a bool tensor is not supported. If "
            "you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    coordinates = [isinstance(s, graph.Tensor) for s in spacing]
    if input.dtype is dtypes.bool and dims and not (all(coordinates) and edge_order == 2):
        raise RuntimeError(  # (only coordinates' second-order formulas weigh without "-")
            "torch.gradient: Subtraction, the `-` operator, with two bool tensors is not "
            "supported. Use the `^` or `logical_xor()` operator instead."
        )
    if not input.is_floating_point() and not input.is_complex():
        input = input.to(dtypes.get_default_dtype())
    out = []
    for d, step in zip(dims, spacing):
        n = input.shape[d]
        if n < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1"
            )
        if isinstance(step, graph.Tensor):
            if step.ndim != 1 or step.shape[0] != n:
                raise RuntimeError(
                    f"torch.gradient expected each tensor to be on the same device and of size "
                    f"{n} along dim {d}, got coordinates of shape {tuple(step.shape)}"
                )
            out.append(_coordinate_gradient(input, d, step, edge_order))
        else:
            out.append(_uniform_gradient(input, d, step, edge_order))
    return tuple(out)


# -- segment_reduce ------------------------------------------------------------------------------

_REDUCTIONS = {"sum": "sum", "mean": "mean", "max": "amax", "amax": "amax", "min": "amin"}
_REDUCTIONS.update({"amin": "amin", "prod": "prod"})
_EMPTY = {"sum": 0.0, "mean": math.nan, "amax": -math.inf, "amin": math.inf, "prod": 1.0}


def _segment_lengths(data, sizes) -> list:
    """The 1-D ``sizes`` as ints, checked to cover ``data``'s dim 0."""
    sizes = [int(v) for v in sizes.tolist()]
    if any(v < 0 for v in sizes) or builtins.sum(sizes) != data.shape[0]:
        raise RuntimeError(
            "segment_reduce(): Expected all rows of lengths along axis to sum to "
            f"data.size(lengths.dim()-1) when !unsafe (lengths {sizes}, data size "
            f"{data.shape[0]})"
        )
    return sizes


def _reduce_one(part, kind: str, initial):
    if kind == "mean":
        total = part.sum(0) if initial is None else part.sum(0) + initial
        return total / part.shape[0]
    out = getattr(part, kind)(0)
    if initial is None:
        return out
    if kind == "sum":
        return out + initial
    if kind == "prod":
        return out * initial
    return out.clamp(min=initial) if kind == "amax" else out.clamp(max=initial)


@complex_not_implemented
@names_node("SegmentReduceBackward0")
def segment_reduce(
    data,
    reduce: str,
    *,
    lengths=None,
    indices=None,
    offsets=None,
    axis=0,
    unsafe=False,
    initial=None,
):
    """Reduce consecutive segments of ``data`` along ``axis``: the segments have ``lengths``
    (or start at ``offsets``, with one more offset for the end).

    Args:
        data: the values; the segments cover ``data.shape[axis]`` exactly.
        reduce: ``"sum"``, ``"mean"``, ``"max"``/``"amax"``, ``"min"``/``"amin"`` or ``"prod"``.
        lengths, offsets: integer tensors (one of them): 1-D for ``axis=0``, else with
            ``data``'s dims before ``axis`` in front (a row of segments for each).
        initial: a number every segment's reduction starts from; empty segments give it (or
            0, nan, -inf, inf, 1 without it).

    Returns:
        A tensor with ``data.shape[axis]`` replaced by the number of segments.

    Example:
        >>> minigrad.segment_reduce(minigrad.arange(5.0), "sum", lengths=minigrad.tensor([2, 3]))
        tensor([ 1.,  9.])
    """
    if reduce not in _REDUCTIONS:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    if indices is not None:
        raise NotImplementedError("segment_reduce: indices is not supported (nor is it by torch)")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    sizes = lengths if lengths is not None else offsets[..., 1:] - offsets[..., :-1]
    axis = axis + data.ndim if axis < 0 else axis
    if data.ndim < sizes.ndim:  # (PyTorch's checks, in its order)
        raise DimensionError(
            f"segment_reduce(): Expected data.dim() >= lengths.dim(), got {data.ndim} and "
            f"{sizes.ndim}"
        )
    refuse_dtype(data.dtype, "_segment_reduce_cpu", "segment_reduce")
    if sizes.ndim != axis + 1 or tuple(sizes.shape[:axis]) != tuple(data.shape[:axis]):
        raise (DimensionError if sizes.ndim != axis + 1 else RuntimeError)(
            f"segment_reduce(): expected lengths/offsets with {axis + 1} dims whose leading "
            f"dims are data's before axis {axis} ({tuple(data.shape[:axis])}), got shape "
            f"{tuple(sizes.shape)}"
        )
    return _segments(data, sizes, axis, _REDUCTIONS[reduce], initial)


def _segments(data, sizes, axis: int, kind: str, initial):
    """Reduce along ``axis`` (leading dims each with their own row of ``sizes``)."""
    if axis > 0:
        rows = [_segments(data[i], sizes[i], axis - 1, kind, initial) for i in range(len(data))]
        return stack(rows, 0)
    rows, start = [], 0
    for size in _segment_lengths(data, sizes):
        if size == 0:
            fill = _EMPTY[kind] if initial is None else initial
            rows.append(creation.full(data.shape[1:], fill, dtype=data.dtype, device=data.device))
        else:
            rows.append(_reduce_one(data.narrow(0, start, size), kind, initial))
        start += size
    if not rows:
        return data.new_zeros((0,) + tuple(data.shape[1:]))
    return stack(rows, 0)


# -- histogramdd ---------------------------------------------------------------------------------

HistogramddResult = return_types.histogramdd


def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """A D-dimensional histogram of the points ``input`` (shape ``(..., D)``) on the CPU.

    Args:
        bins: an int (bins per dim), a list of D ints, or a list of D 1-D tensors of edges.
        range: ``[min_0, max_0, ..., min_{D-1}, max_{D-1}]`` (default: the data's span).
        weight: a weight per point; ``density`` normalises to a density.

    Returns:
        ``(hist, bin_edges)``: the counts (D dims) and a tuple of D edge tensors.
    """
    if input.device.type != "cpu" or not input.is_floating_point():
        raise NotImplementedError(
            "histogramdd: minigrad computes histograms of floating point CPU tensors, got "
            f"{input.dtype} on {input.device}"
        )
    points = input.detach()._data.reshape(-1, input.shape[-1])
    dims = points.shape[1]
    if isinstance(bins, graph.Tensor):
        bins = [int(b) for b in bins.tolist()]
    if isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], graph.Tensor):
        bins = [b.detach()._data for b in bins]
    ranges = None
    if range is not None:
        if len(range) != 2 * dims:
            raise RuntimeError(
                f"histogramdd: expected range to have {2 * dims} values, got {len(range)}"
            )
        ranges = [(range[2 * k], range[2 * k + 1]) for k in builtins.range(dims)]
    w = None if weight is None else weight.detach()._data.reshape(-1)
    hist, edges = np.histogramdd(points, bins=bins, range=ranges, weights=w, density=density)
    make, dtype = graph.Tensor._make, input._data.dtype
    return HistogramddResult(
        make(hist.astype(dtype), input.device),
        tuple(make(e.astype(dtype), input.device) for e in edges),
    )
