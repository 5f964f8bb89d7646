"""Discrete Fourier transforms as differentiable ops: complex-to-complex (``fftn``/``ifftn``),
real-to-complex (``rfftn``) and complex-to-real (``irfftn``), over any set of dims.

Each op transforms its input at the size it has; :mod:`minigrad.fft` crops or zero-pads the
input to the requested sizes first (with ordinary ops), so a backward here never resizes.

Gradients follow PyTorch's convention for complex numbers (:mod:`minigrad.ops.complex`): the
gradient of a linear map is its adjoint applied to the output's gradient. The adjoint of a DFT
is the inverse DFT with the *dual* normalization (``"backward"``, which scales the inverse
by 1/n, pairs with ``"forward"``, which scales the forward transform; ``"ortho"`` is its own
dual): ``fft(x, norm="backward")``'s adjoint is ``n·ifft(g)``.
"""

from __future__ import annotations

import math

import numpy as np  # (only to recognise NumPy, whose single-precision transforms need a detour)

from .base import Op, constant

NORMS = ("backward", "forward", "ortho")
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def transformed(xp, transform, x, dims: tuple, norm: str, inverse: bool, points: int, **kwargs):
    """``transform(x, axes=dims, norm=norm, **kwargs)`` of ``points`` points in all.

    NumPy 2.4 runs its float32 and complex64 transforms slower when they scale by exactly 1 (a
    forward transform with ``"backward"``, an inverse with ``"forward"``): 1024 real transforms
    of 256 points take 2.3 ms against 0.31 ms scaled when timed alone, and 1.0-1.3 ms against
    0.4-0.55 ms inside the ``spectral_conv`` benchmark's step. Those run orthonormal and are
    multiplied back by √points, one pass over the result."""
    unscaled = norm == ("forward" if inverse else "backward")
    if unscaled and xp is np and x.dtype in (np.float32, np.complex64):
        y = transform(x, axes=dims, norm="ortho", **kwargs)
        y *= np.float32(math.sqrt(points))
        return y
    return transform(x, axes=dims, norm=norm, **kwargs)


class FFT(Op):
    """y = the DFT (``inverse=False``) or inverse DFT of complex x over ``dims``;
    dx = the opposite transform of dy with the dual normalization"""

    supports_complex = True

    def __init__(self, dims: tuple, norm: str, inverse: bool):
        self.dims, self.norm, self.inverse = dims, norm, inverse

    def forward(self, x):
        transform = self.xp.fft.ifftn if self.inverse else self.xp.fft.fftn
        points = math.prod(x.shape[d] for d in self.dims)
        y = transformed(self.xp, transform, x, self.dims, self.norm, self.inverse, points)
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        return FFT(self.dims, _DUAL[self.norm], not self.inverse)(gy)


class RFFT(Op):
    """y = the DFT of real x over ``dims``, keeping the n//2 + 1 non-negative frequencies of
    the last one; dx = Re(inverse DFT, dual normalization, of dy zero-padded to all n), which is
    the inverse real DFT of dy with every frequency that stands for a conjugate pair halved"""

    supports_complex = True

    def __init__(self, dims: tuple, norm: str, complex_dtype):
        self.dims, self.norm, self.complex_dtype = dims, norm, complex_dtype

    def forward(self, x):
        points = math.prod(x.shape[d] for d in self.dims)
        y = transformed(self.xp, self.xp.fft.rfftn, x, self.dims, self.norm, False, points)
        return y.astype(self.complex_dtype, copy=False)

    def backward(self, gy):
        x_meta = self.input_meta[0]
        n = x_meta[0][self.dims[-1]]
        halved = gy * pair_weights(gy, self.dims[-1], n, x_meta[1], 0.5)
        return IRFFT(self.dims, _DUAL[self.norm], n, x_meta[1])(halved)


class IRFFT(Op):
    """y = the real signal of n points (along the last of ``dims``) whose DFT has x's n//2 + 1
    non-negative frequencies (the imaginary parts of the zero and, for even n, Nyquist bins are
    ignored, as by NumPy and PyTorch); dx = the DFT of dy (dual normalization) with every
    frequency that stands for a conjugate pair counted twice"""

    supports_complex = True

    def __init__(self, dims: tuple, norm: str, n: int, real_dtype):
        self.dims, self.norm, self.n, self.real_dtype = dims, norm, n, real_dtype

    def forward(self, x):
        shape = [x.shape[d] for d in self.dims[:-1]] + [self.n]
        transform = self.xp.fft.irfftn
        y = transformed(
            self.xp, transform, x, self.dims, self.norm, True, math.prod(shape), s=shape
        )
        return y.astype(self.real_dtype, copy=False)

    def backward(self, gy):
        spectrum = RFFT(self.dims, _DUAL[self.norm], self.input_meta[0][1])(gy)
        return spectrum * pair_weights(spectrum, self.dims[-1], self.n, self.real_dtype, 2.0)


def pair_weights(spectrum, last: int, n: int, real_dtype, paired: float):
    """A constant that broadcasts along dim ``last`` of a one-sided spectrum of an ``n``-point
    signal: 1 for the zero frequency and (even n) the Nyquist one, which stand for themselves,
    and ``paired`` for the others, which stand for a frequency and its conjugate mirror."""
    xp = spectrum.device.xp
    bins = n // 2 + 1
    weights = xp.full(bins, paired, dtype=real_dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * spectrum.ndim
    shape[last] = bins
    return constant(weights.reshape(shape), spectrum.device)
