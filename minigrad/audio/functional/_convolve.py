"""torchaudio.functional's waveform helpers built on convolution: ``convolve`` (direct),
``fftconvolve``, ``add_noise`` at a signal-to-noise ratio, pre-/de-emphasis."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad.nn import functional as nnf

_MODES = ["full", "valid", "same"]


def _check_shape_compatible(x, y):
    if x.ndim != y.ndim:
        raise ValueError(f"The operands must be the same dimension (got {x.ndim} and {y.ndim}).")
    for xi, yi in zip(x.shape[:-1], y.shape[:-1]):
        if not (xi == yi or xi == 1 or yi == 1):
            raise ValueError(
                "Leading dimensions of x and y are not broadcastable "
                f"(got {x.shape} and {y.shape})."
            )


def _check_convolve_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"Unrecognized mode value '{mode}'. Please specify one of {_MODES}.")


def _apply_convolve_mode(result, x_length, y_length, mode):
    """The ``mode`` part of a full convolution: all, the fully overlapping centre, or the
    centre of ``x``'s length."""
    if mode == "full":
        return result
    target = max(x_length, y_length) - min(x_length, y_length) + 1 if mode == "valid" else x_length
    start = (result.size(-1) - target) // 2
    return result[..., start : start + target]


def fftconvolve(x, y, mode="full"):
    """The true convolution of ``x (..., N)`` and ``y (..., M)`` along the last dimension, by
    FFT (leading dimensions broadcast); ``mode`` is "full", "valid" or "same"."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    n = x.size(-1) + y.size(-1) - 1
    result = torch.fft.irfft(torch.fft.rfft(x, n=n) * torch.fft.rfft(y, n=n), n=n)
    return _apply_convolve_mode(result, x.size(-1), y.size(-1), mode)


def convolve(x, y, mode="full"):
    """The true convolution of ``x (..., N)`` and ``y (..., M)`` along the last dimension, by
    a grouped conv1d (leading dimensions broadcast); ``mode`` as :func:`fftconvolve`."""
    _check_shape_compatible(x, y)
    _check_convolve_mode(mode)
    x_size, y_size = x.size(-1), y.size(-1)
    if x_size < y_size:
        x, y = y, x
    lead = [max(i, j) for i, j in zip(x.shape[:-1], y.shape[:-1])]
    x = x.broadcast_to(lead + [x.shape[-1]])
    y = y.broadcast_to(lead + [y.shape[-1]])
    signals = math.prod(lead)
    flat_x = x.reshape(signals, x.size(-1))
    flat_y = y.reshape(signals, y.size(-1))
    out = nnf.conv1d(flat_x, flat_y.flip(-1).unsqueeze(1), groups=signals,
                     padding=flat_y.size(-1) - 1)  # fmt: skip
    return _apply_convolve_mode(out.reshape(lead + [-1]), x_size, y_size, mode)


def add_noise(waveform, noise, snr, lengths=None):
    """``waveform + a * noise (..., L)``, ``a`` scaling the noise to ``snr`` dB below the
    signal (energies over the first ``lengths`` samples when given)."""
    if not (
        waveform.ndim - 1 == noise.ndim - 1 == snr.ndim
        and (lengths is None or lengths.ndim == snr.ndim)
    ):
        raise ValueError("Input leading dimensions don't match.")
    length = waveform.size(-1)
    if length != noise.size(-1):
        raise ValueError(
            f"Length dimensions of waveform and noise don't match (got {length} and {noise.size(-1)})."
        )
    if lengths is not None:
        mask = torch.arange(0, length, device=lengths.device).expand(waveform.shape)
        mask = mask < lengths.unsqueeze(-1)
        masked_waveform, masked_noise = waveform * mask, noise * mask
    else:
        masked_waveform, masked_noise = waveform, noise
    energy_signal = torch.linalg.vector_norm(masked_waveform, ord=2, dim=-1) ** 2
    energy_noise = torch.linalg.vector_norm(masked_noise, ord=2, dim=-1) ** 2
    original_snr_db = 10 * (torch.log10(energy_signal) - torch.log10(energy_noise))
    scale = 10 ** ((original_snr_db - snr) / 20.0)
    return waveform + scale.unsqueeze(-1) * noise


def preemphasis(waveform, coeff=0.97):
    """``y[i] = x[i] - coeff * x[i - 1]`` along the last dimension (``y[0] = x[0]``)."""
    rest = waveform[..., 1:] - coeff * waveform[..., :-1]
    return torch.cat([waveform[..., :1], rest], dim=-1)


def deemphasis(waveform, coeff=0.97):
    """``y[i] = x[i] + coeff * y[i - 1]``: the inverse of :func:`preemphasis` (an IIR
    filter, unclamped as torchaudio's is not)."""
    from .filtering import lfilter

    a = torch.tensor([1.0, -coeff], dtype=waveform.dtype, device=waveform.device)
    b = torch.tensor([1.0, 0.0], dtype=waveform.dtype, device=waveform.device)
    return lfilter(waveform, a_coeffs=a, b_coeffs=b)
