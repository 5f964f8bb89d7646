"""Pooling: max_pool, avg_pool and adaptive_avg_pool (1-D and 2-D), and their ops.

Pooling reads its windows through the strided views of :mod:`minigrad.nn._windows`. Max pooling
sends the gradient to the first maximum of each window (as PyTorch); average pooling spreads
it evenly. Each op's backward is another op whose own backward is the forward again, so
second derivatives work.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ... import _quantized, backend, dtypes
from ..._memory_format import output_layout
from ...autograd.graph import named_as
from ...creation import shape_constant
from ...ops import Op
from ...ops.base import constant, linked_to, on_input_device, zero_link
from ._utils import check_tensor_input
from ._windows import (
    INTEGERS,
    Geometry,
    adaptive_rank,
    adaptive_sizes,
    add_windows,
    empty_output,
    empty_pooled,
    make_geometry,
    offset_view,
    padded_frame,
    pair,
    refuse_dtype,
    window_args_first,
    window_view,
)

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool2d",
]


class MaxPool(Op):
    """y = max of each window (padding never wins); dy/dx = 1 at the window's first maximum

    Called on (x, argmax): with ``argmax`` None it finds each window's first maximum and keeps
    its offset for backward; given an argmax array (double backward), it gathers the values
    there.
    """

    backward_name = "MaxPool2DWithIndicesBackward0"
    save_inputs = (0,)  # x, only for zero_link (as PyTorch's backward, which reads it)

    def __init__(self, geom: Geometry):
        self.geom = geom

    def forward(self, x, argmax):
        xp, geom = self.xp, self.geom
        frame = padded_frame(xp, x, geom, lowest(x.dtype))
        if argmax is None:
            y, argmax = _max_and_argmax(xp, frame, geom)
        else:
            y = _gather(xp, frame, geom, argmax)
        self.keep(argmax=argmax)
        return y

    def backward(self, gy):
        argmax = self.kept_arrays["argmax"]
        gx = MaxPoolBackward(self.geom, self.input_meta[0][0])(gy, argmax)
        return zero_link(gx, self.saved[0]), None


class MaxPoolBackward(Op):
    """dx = dy placed at each window's argmax (overlapping windows add); d(dx)/d(dy) = max-pool at
    the same argmax. Called on (dy, argmax)."""

    backward_name = "MaxPool2DWithIndicesBackwardBackward0"

    def __init__(self, geom: Geometry, shape: tuple):
        self.geom, self.shape = geom, shape

    def forward(self, gy, argmax):
        kw = self.geom.kernel[1]
        self.keep(argmax=argmax)

        def part(i, j):
            return gy * (argmax == i * kw + j)

        return add_windows(self.xp, part, self.geom, self.shape, gy.dtype)

    def backward(self, ggx):
        return MaxPool(self.geom)(ggx, self.kept_arrays["argmax"]), None


class AvgPool(Op):
    """y = (Σ of each window) / divisor; dx = dy / divisor spread over each window"""

    backward_name = "AvgPool2DBackward0"
    save_inputs = True  # only for zero_link (as PyTorch's backward, which reads it)

    def __init__(self, geom: Geometry, divisor):
        self.geom, self.divisor = geom, divisor

    def forward(self, x):
        xp, geom = self.xp, self.geom
        frame = padded_frame(xp, x, geom, 0)
        kw = geom.kernel[1]
        y = offset_view(frame, geom, 0, 0).copy()
        for t in range(1, kw * geom.kernel[0]):
            y += offset_view(frame, geom, t // kw, t % kw)
        if y.dtype.kind in "iu":  # int64: PyTorch's C++ division, truncated toward zero
            return trunc_divide(xp, y, self.divisor)
        y /= self.divisor
        return y

    def backward(self, gy):
        gx = AvgPoolBackward(self.geom, self.divisor, self.input_meta[0][0])(gy)
        return zero_link(gx, self.saved[0])


class AvgPoolBackward(Op):
    """dx = dy / divisor spread over each window (overlaps add); d(dx)/d(dy) = avg-pool"""

    backward_name = "AvgPool2DBackwardBackward0"

    def __init__(self, geom: Geometry, divisor, shape: tuple):
        self.geom, self.divisor, self.shape = geom, divisor, shape

    def forward(self, gy):
        share = gy / self.divisor
        return add_windows(self.xp, lambda i, j: share, self.geom, self.shape, gy.dtype)

    def backward(self, ggx):
        return AvgPool(self.geom, self.divisor)(ggx)


def lowest(dtype):
    """The value padding never wins a max with: -inf, or an integer dtype's minimum (``dtype``
    an array's dtype, NumPy's or CuPy's)."""
    return np.iinfo(dtype).min if np.dtype(dtype).kind in "iu" else -math.inf


def trunc_divide(xp, sums, divisor):
    """Integer ``sums / divisor`` truncated toward zero (C++'s integer division, PyTorch's
    average of integers); ``divisor`` an int or an integer-valued array."""
    divisor = xp.asarray(divisor).astype(sums.dtype)
    quotient = xp.abs(sums) // xp.abs(divisor)
    return xp.where((sums < 0) != (divisor < 0), -quotient, quotient).astype(sums.dtype)


def _windows(xp, frame, geom: Geometry):
    """The windows as one contiguous (kh·kw, N, C, Ho, Wo) array: a pass over a window offset
    is then a contiguous pass (strided passes are several times slower)."""
    win = xp.ascontiguousarray(window_view(xp, frame, geom, "ijnchw"))
    return win.reshape((win.shape[0] * win.shape[1],) + win.shape[2:])  # (-1 fails if empty)


def _max_and_argmax(xp, frame, geom: Geometry):
    """The max of each window, and the offset i·kw + j of its first maximum (a window holding
    NaN gives NaN, and its gradient goes to its last element)."""
    win = _windows(xp, frame, geom)
    best = win[0].copy()
    for v in win[1:]:
        xp.maximum(best, v, out=best)
    # The first maximum's offset is the number of leading offsets that are not the maximum.
    miss = win[0] != best
    argmax = miss.astype("int8" if len(win) < 128 else "int64")
    for v in win[1:-1]:
        miss &= v != best
        argmax += miss
    return best, argmax


def _gather(xp, frame, geom: Geometry, argmax):
    """Each window's element at offset ``argmax`` (the window's flat offset i·kw + j)."""
    win = _windows(xp, frame, geom)
    return xp.take_along_axis(win, argmax[None].astype("int64"), axis=0)[0]


# -- functions ------------------------------------------------------------------------------------


@output_layout()
def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """2-D max pooling over an (N, C, H, W) or (C, H, W) input.

    The gradient goes to the first maximum of each window, as in PyTorch; padding is -inf.

    Args:
        kernel_size: an int or a pair.
        stride: defaults to ``kernel_size``.
        padding: implicit -inf padding on both sides, at most half the kernel.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (a last, partial window).
        return_indices: also return, for each output, the flat index (h·W + w) of its maximum.

    Returns:
        (N, C, H_out, W_out), and the int64 indices of the same shape if ``return_indices``.

    Example:
        >>> max_pool2d(minigrad.randn(2, 3, 8, 8), 2).shape
        minigrad.Size([2, 3, 4, 4])
    """
    window_args_first("max_pool2d", 2, kernel_size=kernel_size, stride=stride, padding=padding)
    x, unbatched = batched(input, 2, "max_pool2d", "max_pool2d", INTEGERS)
    geom = pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    op = MaxPool(geom)
    out = op(x, None)
    indices = _flat_indices(x, geom, op.kept_arrays["argmax"]) if return_indices else None
    if unbatched:  # (PyTorch pools a (C, H, W) input in its one node)
        out = named_as(out.squeeze(0), op.name())
        indices = indices.squeeze(0) if indices is not None else None
    return (out, indices) if return_indices else out


@output_layout()
def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """2-D average pooling over an (N, C, H, W) or (C, H, W) input.

    Args:
        kernel_size: an int or a pair; ``stride`` defaults to it.
        padding: implicit zero padding on both sides, at most half the kernel.
        ceil_mode: round the output size up (a last, partial window).
        count_include_pad: divide by the window size including padding (default), or by the
            number of input elements in the window.
        divisor_override: divide every window sum by this number instead.

    Returns:
        (N, C, H_out, W_out).

    Example:
        >>> avg_pool2d(minigrad.randn(2, 3, 8, 8), 3, stride=2, padding=1).shape
        minigrad.Size([2, 3, 4, 4])
    """
    window_args_first("avg_pool2d", 2, kernel_size=kernel_size, stride=stride, padding=padding)
    x, unbatched = batched(input, 2, "avg_pool2d", "avg_pool2d", (dtypes.int64,))
    geom = pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("avg_pool2d: divisor must be not zero")
        divisor = divisor_override
    else:
        divisor = pool_divisor(x, geom, count_include_pad)
    out = AvgPool(geom, divisor)(x)
    return named_as(out.squeeze(0), AvgPool.name()) if unbatched else out


@output_layout()
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size, with PyTorch's window bounds.

    Output (i, j) averages rows ``floor(i·H/oh) .. ceil((i+1)·H/oh)`` and the matching columns.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: an int or a pair ``(oh, ow)``; ``None`` keeps that input size.

    Returns:
        (N, C, oh, ow), or (C, oh, ow).

    Example:
        >>> adaptive_avg_pool2d(minigrad.randn(2, 3, 7, 9), (2, 3)).shape
        minigrad.Size([2, 3, 2, 3])
    """
    if input.is_quantized:  # averaged on the integer grid, as PyTorch
        return _quantized.on_dequantized(adaptive_avg_pool2d, input, output_size)
    adaptive_rank(input, output_size)
    x, unbatched = batched(input, 2, "adaptive_avg_pool2d", "adaptive_avg_pool2d")
    size = adaptive_sizes(output_size, 2, "adaptive_avg_pool2d")
    size = pair(
        tuple(n if s is None else s for s, n in zip(size, x.shape[2:])),
        "output_size",
        "adaptive_avg_pool2d",
    )
    (h, w), (oh, ow) = x.shape[2:], size
    if empty_output(size, "adaptive_avg_pool2d"):
        out = empty_pooled(x, 2, size)
        return out.squeeze(0) if unbatched else out
    if (oh, ow) == (1, 1):
        out = x.mean((2, 3), keepdim=True)
    elif h % oh == 0 and w % ow == 0:
        out = avg_pool2d(x, (h // oh, w // ow))
    else:  # windows of varying size: window sums Pₕ · x · Pᵥᵀ (0/1 matrices) over the counts,
        # as PyTorch divides each sum (a quantized mean on a rounding tie stays on it)
        rows, cols = adaptive_matrix(x, h, oh, False), adaptive_matrix(x, w, ow, False)
        out = rows @ x @ cols.mT / (rows.sum(1, keepdim=True) * cols.sum(1))
        out = linked_to(out, x)  # the input stays in a recorded backward's graph, as PyTorch
    out = out.squeeze(0) if unbatched else out
    # PyTorch: a mean for a 1x1 output, else a node of its own
    return named_as(out, "MeanBackward1" if (oh, ow) == (1, 1) else "AdaptiveAvgPool2DBackward0")


def max_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    return_indices=False,
):
    """1-D max pooling over an (N, C, L) or (C, L) input; see :func:`max_pool2d`.

    Example:
        >>> max_pool1d(minigrad.randn(2, 3, 8), 2).shape
        minigrad.Size([2, 3, 4])
    """
    x = _as_2d(input, "max_pool1d")
    if not return_indices:  # (PyTorch's kernel without indices pools floats only)
        refuse_dtype(x, "max_pool1d_impl")
    stride = _one_stride(stride, "max_pool1d")
    result = max_pool2d(
        x,
        (1, one(kernel_size, "kernel_size", "max_pool1d")),
        None if stride is None else (1, stride),
        (0, one(padding, "padding", "max_pool1d")),
        (1, one(dilation, "dilation", "max_pool1d")),
        ceil_mode,
        return_indices,
    )
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
):
    """1-D average pooling over an (N, C, L) or (C, L) input; see :func:`avg_pool2d`.

    Example:
        >>> avg_pool1d(minigrad.randn(2, 3, 8), 2).shape
        minigrad.Size([2, 3, 4])
    """
    x = _as_2d(input, "avg_pool1d")
    stride = _one_stride(stride, "avg_pool1d")
    stride = None if stride is None else (1, stride)
    kernel = (1, one(kernel_size, "kernel_size", "avg_pool1d"))
    pad = (0, one(padding, "padding", "avg_pool1d"))
    return avg_pool2d(x, kernel, stride, pad, ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """1-D adaptive average pooling over an (N, C, L) or (C, L) input.

    Example:
        >>> adaptive_avg_pool1d(minigrad.randn(2, 3, 10), 4).shape
        minigrad.Size([2, 3, 4])
    """
    x = _as_2d(input, "adaptive_avg_pool1d")
    size = one(output_size, "output_size", "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(x, (1, size)).squeeze(-2)


# -- helpers --------------------------------------------------------------------------------------


def batched(x, dims: int, op: str, kernel: str, integers=()):
    """``x`` with a batch dim, and whether one was added; checks type, rank and dtype: an
    integer or bool ``x`` raises PyTorch's error naming its CPU ``kernel`` unless its dtype is
    one of the ``integers`` that kernel pools."""
    check_tensor_input(x, op)
    if x.ndim not in (dims + 1, dims + 2):  # (PyTorch: an IndexError for 0-d input)
        raise backend.DimensionError(
            f"{op}: expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input, but got "
            f"input of size {list(x.shape)}"
        )
    refuse_dtype(x, kernel, integers)  # (quantized tensors pass: minigrad._quantized)
    if any(n == 0 for n in x.shape[-dims - 1 :]):
        raise RuntimeError(f"{op}: expected input with non-zero sizes, got {list(x.shape)}")
    return (x.unsqueeze(0), True) if x.ndim == dims + 1 else (x, False)


def _as_2d(x, op: str):
    check_tensor_input(x, op)
    if x.ndim not in (2, 3):
        raise backend.DimensionError(
            f"{op}: expected 2D (unbatched) or 3D (batched) input, but got input of size "
            f"{list(x.shape)}"
        )
    return x.unsqueeze(-2)


def one(value, name: str = "size", op: str = "pool1d") -> int:
    """A 1-D size argument ``name`` of ``op``: an int or a 1-tuple (PyTorch's RuntimeError
    for a longer one)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(
                f"{op}() argument '{name}' should contain one int (got {len(value)})"
            )
        return int(value[0])
    return int(value)


def _one_stride(stride, op: str):
    """A 1-D pool's stride: None (the kernel's) for None or an empty sequence, as PyTorch."""
    return None if stride is None or stride == [] or stride == () else one(stride, "stride", op)


def pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, op):
    """The windows of a pooling op over the spatial dims of the batched ``x`` (checked)."""
    n = x.ndim - 2
    kernel = pair(kernel_size, "kernel_size", op, n)
    stride = (
        kernel if stride is None or stride == [] or stride == () else pair(stride, "stride", op, n)
    )
    pad, dilation = pair(padding, "padding", op, n), pair(dilation, "dilation", op, n)
    for name, v in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if any(n <= 0 for n in v):
            words = (
                "stride should not be zero"
                if name == "stride"
                else f"{name} should be greater than zero"
            )
            raise RuntimeError(
                f"{words} ({op}: {name} must be greater than zero, but got {list(v)})"
            )
    for p, k, d in zip(pad, kernel, dilation):
        if p < 0 or 2 * p > d * (k - 1) + 1:
            raise RuntimeError(
                f"{op}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    geom = make_geometry(x.shape[2:], kernel, stride, dilation, pad, pad, ceil_mode)
    if any(o <= 0 for o in geom.out):
        given = "x".join(map(str, x.shape[1:]))
        calculated = "x".join(map(str, (x.shape[1], *geom.out)))
        raise RuntimeError(  # PyTorch's words
            f"Given input size: ({given}). Calculated output size: ({calculated}). Output size is "
            f"too small"
        )
    return geom


@on_input_device
def pool_divisor(x, geom: Geometry, count_include_pad: bool):
    """The number each window sum is divided by: a Python int, or an (Ho, Wo) array ((Do, Ho,
    Wo) for a 3-D ``geom``) where windows differ (edges without ``count_include_pad``, or past
    the padding in ceil mode)."""
    counts = []
    for n, k, s, p, o in zip(geom.size, geom.kernel, geom.stride, geom.pad, geom.out):
        starts = [i * s - p for i in range(o)]
        ends = [min(a + k, n + p) for a in starts]
        if not count_include_pad:
            starts, ends = [max(a, 0) for a in starts], [min(b, n) for b in ends]
        counts.append([b - a for a, b in zip(starts, ends)])
    if all(len(set(c)) == 1 for c in counts):
        return math.prod(c[0] for c in counts)
    xp = x.device.xp
    dtype = "float64" if x.is_quantized else x._data.dtype  # quantized: averaged in float64
    table = xp.ones((1,) * len(counts), dtype=dtype)
    for dim, c in enumerate(counts):  # the outer product of the per-dim counts
        table = table * xp.asarray(c, dtype=dtype).reshape(
            [-1 if d == dim else 1 for d in range(len(counts))]
        )
    return table


def adaptive_matrix(x, n: int, out: int, mean: bool = True):
    """The (out, n) matrix whose row i averages (``mean``) or sums input positions
    floor(i·n/out)..ceil((i+1)·n/out), in ``x``'s dtype and device."""
    return shape_constant(_adaptive_rows(n, out, mean), x.dtype, x.device)


@functools.lru_cache(maxsize=256)
def _adaptive_rows(n: int, out: int, mean: bool):
    """:func:`adaptive_matrix` as a read-only float64 array, built once per geometry (the
    Python loops cost more than the small pool that uses it, called thousands of times by
    gradcheck)."""
    rows = np.zeros((out, n))
    for i in range(out):
        start, end = (i * n) // out, -(-(i + 1) * n // out)
        rows[i, start:end] = 1.0 / (end - start) if mean else 1.0
    rows.flags.writeable = False
    return rows


@on_input_device
def _flat_indices(x, geom: Geometry, argmax):
    """For each output, the index h·W + w of its maximum in the unpadded input (int64)."""
    xp = x.device.xp
    (_, kw), (dh, dw), (sh, sw), (pt, pl), (ho, wo) = (
        geom.kernel,
        geom.dilation,
        geom.stride,
        geom.pad,
        geom.out,
    )
    a = argmax.astype("int64")
    rows = xp.arange(ho).reshape(-1, 1) * sh - pt + (a // kw) * dh
    cols = xp.arange(wo).reshape(1, -1) * sw - pl + (a % kw) * dw
    flat = (rows * geom.size[1] + cols).astype("int64")
    if getattr(type(x), "_methods_batch", False):  # under vmap: the argmax of the whole batch
        from ...func._batched import physical, rewrap

        shape = tuple(physical(x).shape[:-2]) + tuple(flat.shape[-2:])
        return rewrap(x, constant(flat.reshape(shape), x.device))
    return constant(flat, x.device)
