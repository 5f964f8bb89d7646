"""``minigrad.signal.windows``: the window functions of ``torch.signal.windows`` (SciPy-style
``M``/``sym`` arguments). The cosine sums (``general_cosine`` and the hann, hamming, blackman
and nuttall windows built on it) are computed in their dtype with tensor ops, as PyTorch's
are (float32 rounding included: ``blackman(5)`` ends in -1.4901e-08, not 0); the others
delegate to a top-level ``*_window`` factory or compute in float64 on the host."""

# ruff: noqa: N803 - PyTorch (and SciPy) name the window length ``M``

from __future__ import annotations

import math

import numpy as np

from ... import _windows_indices as top
from ... import dtypes
from ...creation import arange, linspace, tensor
from ...tensor import Tensor

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]

_NUTTALL = (0.3635819, 0.4891775, 0.1365995, 0.0106411)


def _check(name: str, M, dtype, layout):
    """Validate the arguments every window shares, as PyTorch does; return the dtype."""
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)):
        raise TypeError(f"{name}: window length M must be an int, got {type(M).__name__} {M!r}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and str(layout).rsplit(".", 1)[-1] != "strided":
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    dtype = dtype or dtypes.get_default_dtype()
    if dtype not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _make(M: int, sym: bool, dtype, device, requires_grad, values) -> Tensor:
    """``values(n, m)`` on ``n = 0..m-1`` (float64 on the host); a periodic window (``sym=False``)
    is the symmetric window of length ``M + 1`` without its last point."""
    if M <= 1:
        host = np.ones(M)
    else:
        m = M if sym else M + 1
        host = values(np.arange(m, dtype=np.float64), m)[:M]
    return tensor(host, dtype=dtype, device=device, requires_grad=requires_grad)


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """w[n] = Σ_k (-1)^k a_k cos(2πkn / (M - 1)) (a sum of cosines; ``sym=False`` gives the
    periodic window, for spectral analysis), computed in ``dtype`` as PyTorch does: the
    angles from ``linspace``, each term a product, the terms summed (the result is not a
    leaf when ``requires_grad``, as PyTorch's).

    Example:
        >>> minigrad.signal.windows.general_cosine(4, a=[0.5, 0.5])
        tensor([0.0000, 0.7500, 0.7500, 0.0000])
    """
    dtype = _check("general_cosine", M, dtype, layout)
    if M <= 1:
        return _make(M, sym, dtype, device, requires_grad, None)
    if not isinstance(a, (list, tuple)):
        raise TypeError(f"general_cosine: Coefficients must be a list/tuple, got {type(a)}")
    if not a:
        raise ValueError("general_cosine: Coefficients cannot be empty")
    step = 2 * math.pi / (M - 1 if sym else M)
    grad = {"dtype": dtype, "device": device, "requires_grad": requires_grad}
    k = linspace(0, (M - 1) * step, M, **grad)
    a_i = tensor([(-1) ** i * w for i, w in enumerate(a)], **grad)
    i = arange(len(a), **grad)
    return (a_i.unsqueeze(-1) * (i.unsqueeze(-1) * k).cos()).sum(0)


def general_hamming(
    M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None, requires_grad=False
):
    """The generalized Hamming window: ``general_cosine`` with ``a = [alpha, 1 - alpha]``."""
    _check("general_cosine", M, dtype, layout)  # PyTorch names general_cosine in these errors
    return general_cosine(
        M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )  # fmt: skip


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window: ``general_hamming`` with alpha = 0.5.

    Example:
        >>> minigrad.signal.windows.hann(5)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    _check("general_cosine", M, dtype, layout)
    return general_hamming(
        M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )  # fmt: skip


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hamming window: ``general_hamming`` with alpha = 0.54."""
    _check("general_cosine", M, dtype, layout)
    return general_hamming(
        M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad
    )


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window: ``general_cosine`` with a = [0.42, 0.5, 0.08]."""
    _check("blackman", M, dtype, layout)
    return general_cosine(
        M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )  # fmt: skip


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangular window, ``minigrad.bartlett_window(M, periodic=not sym)``."""
    dtype = _check("bartlett", M, dtype, layout)
    return top.bartlett_window(M, not sym, dtype=dtype, device=device, requires_grad=requires_grad)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Kaiser window, ``minigrad.kaiser_window(M, periodic=not sym, beta=beta)``."""
    dtype = _check("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"kaiser: beta must be non-negative, got: {beta} instead.")
    return top.kaiser_window(
        M, not sym, beta, dtype=dtype, device=device, requires_grad=requires_grad
    )


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The minimum 4-term Blackman-Harris window of Nuttall (``general_cosine`` with
    a = [0.3635819, 0.4891775, 0.1365995, 0.0106411])."""
    _check("general_cosine", M, dtype, layout)
    return general_cosine(
        M, a=list(_NUTTALL), sym=sym, dtype=dtype, layout=layout, device=device,
        requires_grad=requires_grad,
    )  # fmt: skip


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The cosine (sine) window: w[n] = sin(π(n + 1/2) / M).

    Example:
        >>> minigrad.signal.windows.cosine(3)
        tensor([0.5000, 1.0000, 0.5000])
    """
    dtype = _check("cosine", M, dtype, layout)
    return _make(M, sym, dtype, device, requires_grad, lambda n, m: np.sin(math.pi * (n + 0.5) / m))


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """w[n] = exp(-((n - c) / std)² / 2), c = (M - 1) / 2 (M / 2 when ``sym=False``)."""
    dtype = _check("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"gaussian: Standard deviation must be positive, got: {std} instead.")
    return _make(
        M, sym, dtype, device, requires_grad,
        lambda n, m: np.exp(-0.5 * ((n - (m - 1) / 2) / std) ** 2),
    )  # fmt: skip


def exponential(
    M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
    requires_grad=False,
):  # fmt: skip
    """w[n] = exp(-|n - center| / tau); ``center`` defaults to the middle ((M - 1) / 2, or M / 2
    when ``sym=False``) and may only be given for a periodic window (``sym=False``)."""
    dtype = _check("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"exponential: Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("exponential: Center must be None for symmetric windows")
    if M == 0:
        return tensor(np.ones(0), dtype=dtype, device=device, requires_grad=requires_grad)
    c = (M - 1) / 2 if (sym or M == 1) else M / 2
    c = c if center is None else center
    host = np.exp(-np.abs(np.arange(M, dtype=np.float64) - c) / tau)
    return tensor(host, dtype=dtype, device=device, requires_grad=requires_grad)
