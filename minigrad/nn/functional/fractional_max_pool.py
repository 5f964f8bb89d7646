"""Fractional max pooling (Graham, 2014), 2-D and 3-D, as ``F.fractional_max_pool2d``/``3d``.

Each plane's windows start at pseudo-random, increasing offsets drawn from one uniform
number ``u`` per spatial dim: with ``alpha = (in - k) / (out - 1)``, window ``i`` starts at
``floor((i + u)·alpha) - floor(u·alpha)`` and the last one at ``in - k``. The numbers come
from ``_random_samples`` (shape ``(N, C, dims)``, PyTorch's order: width first for 2-D, time
first for 3-D) when given, so results can be compared with PyTorch's exactly, else from the
default generator. The pooling finds each window's maximum on a detached gather of its
elements and gathers that element alone, so gradients (and their gradients) flow to the
maxima.
"""

from __future__ import annotations

import numpy as np  # window starts are computed on the host (from a few numbers per plane)

from ... import creation
from ...autograd.graph import names_node
from ...ops.base import autocast_op, linked_to, on_input_device
from ...ops.indexing import Gather
from ...tensor import Tensor
from ._windows import refuse_dtype


def _starts(u: np.ndarray, size: int, out: int, k: int) -> np.ndarray:
    """Window starts along one dim for each plane's number ``u`` (shape (P,)) → (P, out)."""
    if out == 1:
        return np.full((u.shape[0], 1), size - k, dtype=np.int64)
    alpha = u.dtype.type(size - k) / u.dtype.type(out - 1)
    i = np.arange(out - 1, dtype=u.dtype)
    first = ((i[None, :] + u[:, None]) * alpha).astype(np.int64)
    starts = first - (u * alpha).astype(np.int64)[:, None]
    return np.concatenate([starts, np.full((u.shape[0], 1), size - k, np.int64)], axis=1)


def _tuple(value, n: int, name: str, op: str):
    if value is None:
        return None
    found = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(found) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n}, got {value!r}")
    return found


def _output_size(op, spatial, kernel, output_size, output_ratio):
    n = len(spatial)
    if output_size is not None:
        return _tuple(output_size, n, "output_size", op)
    ratio = _tuple(output_ratio, n, "output_ratio", op)
    if any(not 0 < r < 1 for r in ratio):
        raise ValueError(f"{op}: output_ratio must be between 0 and 1 (exclusive), got {ratio}")
    return tuple(int(s * r) for s, r in zip(spatial, ratio))


def _check_sizes(op, spatial, kernel, out):
    """Each window fits: ``out + k - 1 <= in`` for 2-D, strictly ``<`` for 3-D (PyTorch's
    checks, in its order: time, width, height)."""
    names = ("time", "height", "width")[-len(spatial) :]
    order = [0, 2, 1] if len(spatial) == 3 else [0, 1]
    for d in order:
        size, k, o = spatial[d], kernel[d], out[d]
        if k <= 0 or o <= 0:
            raise RuntimeError(f"{op}(): kernel_size and output_size must be positive")
        if o + k - 1 > size or (len(spatial) == 3 and o + k - 1 == size):
            raise RuntimeError(
                f"{op}(): pool {names[d]} {k} too large relative to input {names[d]} {size} "
                f"for output {names[d]} {o}"
            )


def _positions(samples: np.ndarray, spatial, kernel, out) -> np.ndarray:
    """Flat positions (in the plane) of every window element: (P, *out, prod(kernel))."""
    n = len(spatial)
    order = list(range(n)) if n == 3 else [1, 0]  # PyTorch's sample per dim: (W, H) or (T, H, W)
    planes = samples.shape[0]
    flat = np.zeros((planes,) + tuple(out) + tuple(kernel), dtype=np.int64)
    plane_strides = [int(np.prod(spatial[d + 1 :])) for d in range(n)]
    for d in range(n):
        starts = _starts(samples[:, order[d]], spatial[d], out[d], kernel[d])  # (P, out_d)
        shape = [planes] + [1] * (2 * n)
        shape[1 + d] = out[d]
        offsets = np.arange(kernel[d]).reshape([1] * (1 + n + d) + [kernel[d]] + [1] * (n - d - 1))
        flat = flat + (starts.reshape(shape) + offsets) * plane_strides[d]
    return flat.reshape((planes,) + tuple(out) + (-1,))


def _fractional_max_pool(op, n, input, kernel_size, output_size, output_ratio, samples):
    if output_size is None and output_ratio is None:  # (PyTorch's wrapper: before the rank)
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"{op}(): expected {n + 1}D or {n + 2}D input, got {input.ndim}D of shape "
            f"{tuple(input.shape)}"
        )
    unbatched = input.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    batch, channels, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    kernel = _tuple(kernel_size, n, "kernel_size", op)
    out = _output_size(op, spatial, kernel, output_size, output_ratio)
    _check_sizes(op, spatial, kernel, out)
    if samples is None:
        refuse_dtype(x, "check_uniform_bounds", complex_ok=True)  # (samples drawn in x's dtype)
        samples = creation.rand(batch, channels, n, dtype=x.dtype, device=x.device)
    elif tuple(samples.shape) != (batch, channels, n):
        raise RuntimeError(
            f"{op}(): expected _random_samples of shape {(batch, channels, n)}, got "
            f"{tuple(samples.shape)}"
        )
    elif samples.dtype is not x.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    refuse_dtype(x, f"{op}_out_frame")  # (PyTorch's kernel pools floats only)
    # the samples' values place the windows (batched samples under vmap raise
    # NotImplementedError here: positions per sample have no batching rule)
    host = samples.device.backend.to_host(samples.detach()._data).reshape(batch * channels, n)
    positions = _positions(host, spatial, kernel, out)  # (N*C, *out, K)
    shape = (batch, channels) + tuple(out)
    index = x.device.xp.asarray(positions.reshape(batch, channels, -1))
    flat_x = x.reshape(batch, channels, -1)
    # the maxima found on detached windows, then gathered alone (so backward scatters one
    # value per output, not every window); Gather itself: positions are in range by
    # construction, which gather() would check again at every call
    windows = Gather(2, index)(flat_x.detach()).reshape(shape + (positions.shape[-1],))
    which = windows.argmax(-1, keepdim=True)
    index = Tensor._make(index.reshape(windows.shape), x.device)
    index = Gather(len(shape), which._data)(index).reshape(batch, channels, -1)
    values = Gather(2, index._data)(flat_x).reshape(shape)
    values = linked_to(values, x)  # the input stays in a recorded backward's graph, as PyTorch
    index = index.reshape(shape)
    if unbatched:
        values, index = values.squeeze(0), index.squeeze(0)
    return values, index


@on_input_device
def fractional_max_pool2d_with_indices(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
    _random_samples=None,
):  # fmt: skip
    """``(values, indices)`` of 2-D fractional max pooling over (N, C, H, W) or (C, H, W)
    inputs; ``indices`` are flat positions in each H×W plane (as ``max_pool2d``'s).

    Args:
        kernel_size: the window (an int or a pair).
        output_size: the output's (oH, oW), or ``output_ratio``: a fraction of the input's.
        _random_samples: (N, C, 2) numbers in [0, 1) that place the windows (see above).

    Example:
        >>> F.fractional_max_pool2d(minigrad.randn(1, 2, 9, 9), 2, output_size=5).shape
        minigrad.Size([1, 2, 5, 5])
    """
    return _fractional_max_pool(
        "fractional_max_pool2d", 2, input, kernel_size, output_size, output_ratio,
        _random_samples,
    )  # fmt: skip


@autocast_op("fractional_max_pool2d")
@names_node("FractionalMaxPool2DBackward0")
def fractional_max_pool2d(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
    _random_samples=None,
):  # fmt: skip
    """2-D fractional max pooling; ``(values, indices)`` with ``return_indices=True``."""
    values, index = fractional_max_pool2d_with_indices(
        input, kernel_size, output_size, output_ratio, True, _random_samples
    )
    return (values, index) if return_indices else values


@on_input_device
def fractional_max_pool3d_with_indices(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
    _random_samples=None,
):  # fmt: skip
    """``(values, indices)`` of 3-D fractional max pooling over (N, C, T, H, W) or
    (C, T, H, W) inputs; ``_random_samples`` has shape (N, C, 3)."""
    return _fractional_max_pool(
        "fractional_max_pool3d", 3, input, kernel_size, output_size, output_ratio,
        _random_samples,
    )  # fmt: skip


@autocast_op("fractional_max_pool3d")
@names_node("FractionalMaxPool3DBackward0")
def fractional_max_pool3d(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
    _random_samples=None,
):  # fmt: skip
    """3-D fractional max pooling; ``(values, indices)`` with ``return_indices=True``."""
    values, index = fractional_max_pool3d_with_indices(
        input, kernel_size, output_size, output_ratio, True, _random_samples
    )
    return (values, index) if return_indices else values
