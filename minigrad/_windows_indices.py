"""Window functions (``hann_window``, ``hamming_window``, ``blackman_window``,
``bartlett_window``, ``kaiser_window``) and triangle indices (``tril_indices``,
``triu_indices``): PyTorch's top-level factories of that kind."""

from __future__ import annotations

import math

import numpy as np

from . import dtypes
from .creation import number_args, tensor
from .tensor import Tensor


def _window(name, window_length, periodic, dtype, device, requires_grad, values) -> Tensor:
    number_args(name, window_length=window_length, periodic=periodic)
    dtype = dtype or dtypes.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if window_length < 0:
        raise RuntimeError(
            f"{name} requires non-negative window_length, got window_length={window_length}"
        )
    if window_length <= 1:
        host = np.ones(window_length)
    else:
        m = window_length + 1 if periodic else window_length  # periodic: drop the last point
        host = values(np.arange(m, dtype=np.float64), m)[:window_length]
    return tensor(host, dtype=dtype, device=device, requires_grad=requires_grad)


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad: bool = False,
) -> Tensor:
    """w[n] = alpha - beta·cos(2πn / (M - 1)), M = N + 1 if ``periodic`` (for spectra) else N.

    Example:
        >>> minigrad.hamming_window(4)
        tensor([0.0800, 0.5400, 1.0000, 0.5400])
    """
    number_args("hamming_window", window_length=window_length, periodic=periodic, alpha=alpha,
             beta=beta)  # fmt: skip
    return _window(
        "hamming_window", window_length, periodic, dtype, device, requires_grad,
        lambda n, m: alpha - beta * np.cos(2 * math.pi * n / (m - 1)),
    )  # fmt: skip


def hann_window(
    window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """w[n] = 0.5 - 0.5·cos(2πn / (M - 1)) (the Hann window; see :func:`hamming_window`)."""
    return _window(
        "hann_window", window_length, periodic, dtype, device, requires_grad,
        lambda n, m: 0.5 - 0.5 * np.cos(2 * math.pi * n / (m - 1)),
    )  # fmt: skip


def blackman_window(
    window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """w[n] = 0.42 - 0.5·cos(2πn / (M - 1)) + 0.08·cos(4πn / (M - 1))."""
    return _window(
        "blackman_window", window_length, periodic, dtype, device, requires_grad,
        lambda n, m: 0.42 - 0.5 * np.cos(2 * math.pi * n / (m - 1))
        + 0.08 * np.cos(4 * math.pi * n / (m - 1)),
    )  # fmt: skip


def bartlett_window(
    window_length: int, periodic: bool = True, *, dtype=None, layout=None, device=None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """w[n] = 1 - |2n / (M - 1) - 1| (the triangular window)."""
    return _window(
        "bartlett_window", window_length, periodic, dtype, device, requires_grad,
        lambda n, m: 1 - np.abs(2 * n / (m - 1) - 1),
    )  # fmt: skip


def kaiser_window(
    window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None, layout=None,
    device=None, requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """w[n] = I0(beta·sqrt(1 - (2n / (M - 1) - 1)²)) / I0(beta), I0 the modified Bessel function
    of order 0."""
    number_args("kaiser_window", window_length=window_length, periodic=periodic, beta=beta)
    return _window(
        "kaiser_window", window_length, periodic, dtype, device, requires_grad,
        lambda n, m: np.i0(beta * np.sqrt(np.clip(1 - (2 * n / (m - 1) - 1) ** 2, 0, None)))
        / np.i0(beta),
    )  # fmt: skip


def _triangle(which, row: int, col: int, offset: int, dtype, device) -> Tensor:
    number_args(which, row=row, col=col, offset=offset)
    dtype = dtypes.int64 if dtype is None else dtype
    if dtype not in (dtypes.int64, dtypes.int32):
        raise RuntimeError(f"{which}: dtype must be int64 or int32 (long or int), got {dtype}")
    if row < 0 or col < 0:
        raise RuntimeError(f"{which}: row and col must be non-negative, got {row} and {col}")
    pick = np.tril_indices if which == "tril_indices" else np.triu_indices
    rows, cols = pick(row, offset, col)  # row-major order, as PyTorch lists them
    host = np.stack([rows, cols]).astype(dtype.numpy)
    return tensor(host, dtype=dtype, device=device)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle of a ``row`` x ``col`` matrix (on and below
    diagonal ``offset``), row by row.

    Example:
        >>> minigrad.tril_indices(3, 3)
        tensor([[0, 1, 1, 2, 2, 2],
                [0, 0, 1, 0, 1, 2]])
    """
    return _triangle("tril_indices", row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle (on and above diagonal ``offset``)."""
    return _triangle("triu_indices", row, col, offset, dtype, device)
