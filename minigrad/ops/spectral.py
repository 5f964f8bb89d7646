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

import numpy as np  # (only to recognise NumPy, whose complex64 transform needs a detour)

from .base import Op, constant

NORMS = ("backward", "forward", "ortho")
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


class FFT(Op):
    """y = the DFT (``inverse=False``) or inverse DFT of complex x over ``dims``;
    dx = the opposite transform of dy with the dual normalization"""

    supports_complex = True

    def __init__(self, dims: tuple, norm: str, inverse: bool):
        self.dims, self.norm, self.inverse = dims, norm, inverse

    def forward(self, x):
        transform = self.xp.fft.ifftn if self.inverse else self.xp.fft.fftn
        unscaled = self.norm == ("forward" if self.inverse else "backward")
        if unscaled and self.xp is np and x.dtype == np.complex64:
            # NumPy 2.4's complex64 transform runs ~6x slower when it scales by exactly 1
            # (4.3 against 0.7 ms for 1024 transforms of 256): scale by 1/√n, then undo it
            y = transform(x, axes=self.dims, norm="ortho")
            y *= np.float32(math.sqrt(math.prod(x.shape[d] for d in self.dims)))
            return y
        return transform(x, axes=self.dims, norm=self.norm).astype(x.dtype, copy=False)

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
        y = self.xp.fft.rfftn(x, axes=self.dims, norm=self.norm)
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
        y = self.xp.fft.irfftn(x, s=shape, axes=self.dims, norm=self.norm)
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
