"""torchaudio.functional.filtering: IIR/FIR filtering by difference equation (``lfilter``,
differentiable in the waveform and both coefficient sets), biquads built on it, ``gain``.

The FIR part is a grouped conv1d; the recursive part is :class:`_IIR`, a custom Function
whose forward steps through time on backend arrays (vectorized over batch and channels) and
whose backward is the same recursion run backwards in time (Forgione et al., dynoNet; Yu et
al.), itself differentiable.
"""

from __future__ import annotations

import math

import minigrad as torch
from minigrad.autograd import Function
from minigrad.nn import functional as nnf
from minigrad.tensor import Tensor


def _iir_arrays(xp, x, a):
    """``y[n] = x[n] - sum_{k>=1} a[:, k] y[n - k]`` on arrays ``x (B, C, N)``, ``a (C, K)``,
    one time step at a time (each step vectorized over batch and channels)."""
    order = a.shape[1]
    batch, channels, length = x.shape
    padded = xp.zeros((batch, channels, length + order - 1), dtype=x.dtype)
    tail = a[None, :, 1:]  # a_1 .. a_{K-1}
    for n in range(length):
        past = padded[:, :, n : n + order - 1][:, :, ::-1]  # y[n-1], ..., y[n-K+1]
        padded[:, :, n + order - 1] = x[:, :, n] - (past * tail).sum(-1)
    return xp.ascontiguousarray(padded[:, :, order - 1 :])


class _IIR(Function):
    """The all-pole part of a filter with normalized ``a (C, K)`` (``a[:, 0] == 1``) on
    ``x (B, C, N)``. Backward: dx is the same filter run on the reversed gradient, and
    ``da[c, k] = -sum_{b,n} dx[b, c, n] y[b, c, n - k]``."""

    @staticmethod
    def forward(ctx, x, a):
        ctx.save_for_backward(x, a)
        return Tensor._make(_iir_arrays(x.device.xp, x._data, a._data), x.device)

    @staticmethod
    def backward(ctx, grad):
        x, a = ctx.saved_tensors
        tmp = _IIR.apply(grad.flip(2), a).flip(2)
        order = a.shape[1]
        y = _IIR.apply(x, a)  # recomputed, so that the gradient is differentiable in x and a
        windows = nnf.pad(y, (order - 1, 0)).unfold(2, order, 1)  # (B, C, N, K): y[n-K+1..n]
        da = -torch.einsum("bcn,bcnk->ck", tmp, windows).flip(1)
        return tmp, da


def lfilter(waveform, a_coeffs, b_coeffs, clamp=True, batching=True):
    """Filter ``waveform (..., time)`` by the difference equation
    ``sum_k a[k] y[n-k] = sum_k b[k] x[n-k]`` (zero initial state), clamped to [-1, 1] when
    ``clamp``. Coefficients are 1-D ``(order + 1)`` or 2-D ``(num_filters, order + 1)``; 2-D
    ones filter ``waveform[..., i, :]`` with filter i (``batching``) or every signal with each
    filter (a new ``num_filters`` dimension). Differentiable in all three tensors."""
    if a_coeffs.shape != b_coeffs.shape:
        raise ValueError(
            "Expected coeffs to be the same size."
            f"Found: a_coeffs size: {a_coeffs.shape}, b_coeffs size: {b_coeffs.shape}"
        )
    if a_coeffs.ndim > 2:
        raise ValueError(
            f"Expected coeffs to have greater than 1 dimension. Found: {a_coeffs.ndim}"
        )
    if a_coeffs.ndim > 1:
        if batching:
            if waveform.ndim <= 0 or waveform.shape[-2] != a_coeffs.shape[0]:
                raise ValueError(
                    "Expected number of batches in waveform and coeffs to be the same."
                    f"Found: coeffs batches: {a_coeffs.shape[0]}, "
                    f"waveform batches: {waveform.shape[-2] if waveform.ndim > 1 else None}"
                )
        else:
            waveform = torch.stack([waveform] * a_coeffs.shape[0], -2)
    else:
        a_coeffs, b_coeffs = a_coeffs.unsqueeze(0), b_coeffs.unsqueeze(0)
    shape = waveform.shape
    packed = waveform.reshape(-1, a_coeffs.shape[0], shape[-1])
    a0 = a_coeffs[:, 0:1]
    b = (b_coeffs / a0).flip(1)
    channels, order = b.shape
    fir = nnf.conv1d(nnf.pad(packed, (order - 1, 0)), b.unsqueeze(1), groups=channels)
    output = _IIR.apply(fir, a_coeffs / a0)
    if clamp:
        output = torch.clamp(output, min=-1.0, max=1.0)
    return output.reshape(tuple(shape[:-1]) + tuple(output.shape[-1:]))


def biquad(waveform, b0, b1, b2, a0, a1, a2):
    """A second-order IIR filter (floats or tensors as coefficients; differentiable in them)."""

    def coeff(c):
        return torch.as_tensor(c, dtype=waveform.dtype, device=waveform.device).view(1)

    a = torch.cat([coeff(a0), coeff(a1), coeff(a2)])
    b = torch.cat([coeff(b0), coeff(b1), coeff(b2)])
    return lfilter(waveform, a, b)


def _design(waveform, sample_rate, cutoff_freq, q):
    """(cos w0, alpha) of the RBJ cookbook for a cutoff, as tensors of ``waveform``'s dtype."""
    cutoff = torch.as_tensor(cutoff_freq, dtype=waveform.dtype, device=waveform.device)
    q = torch.as_tensor(q, dtype=waveform.dtype, device=waveform.device)
    w0 = 2 * math.pi * cutoff / sample_rate
    return torch.cos(w0), torch.sin(w0) / 2.0 / q


def lowpass_biquad(waveform, sample_rate, cutoff_freq, Q=0.707):  # noqa: N803 (torchaudio's name)
    """Two-pole low-pass at ``cutoff_freq`` Hz (SoX's / the RBJ cookbook's design)."""
    cos_w0, alpha = _design(waveform, sample_rate, cutoff_freq, Q)
    b0 = (1 - cos_w0) / 2
    return biquad(waveform, b0, 1 - cos_w0, b0, 1 + alpha, -2 * cos_w0, 1 - alpha)


def highpass_biquad(waveform, sample_rate, cutoff_freq, Q=0.707):  # noqa: N803 (torchaudio's name)
    """Two-pole high-pass at ``cutoff_freq`` Hz (SoX's / the RBJ cookbook's design)."""
    cos_w0, alpha = _design(waveform, sample_rate, cutoff_freq, Q)
    b0 = (1 + cos_w0) / 2
    return biquad(waveform, b0, -1 - cos_w0, b0, 1 + alpha, -2 * cos_w0, 1 - alpha)


def gain(waveform, gain_db=1.0):
    """``waveform`` amplified by ``gain_db`` decibels (``10 ** (gain_db / 20)``)."""
    if gain_db == 0:
        return waveform
    return waveform * 10 ** (gain_db / 20)


def _center(waveform, sample_rate, freq, Q):  # noqa: N803 (torchaudio's name)
    """(cos w0, sin w0, alpha = sin w0 / 2Q) for a centre frequency, as tensors."""
    freq = torch.as_tensor(freq, dtype=waveform.dtype, device=waveform.device)
    q = torch.as_tensor(Q, dtype=waveform.dtype, device=waveform.device)
    w0 = 2 * math.pi * freq / sample_rate
    return torch.cos(w0), torch.sin(w0), torch.sin(w0) / 2 / q


def allpass_biquad(waveform, sample_rate, central_freq, Q=0.707):  # noqa: N803
    """Two-pole all-pass around ``central_freq`` (SoX's design)."""
    cos_w0, _, alpha = _center(waveform, sample_rate, central_freq, Q)
    return biquad(waveform, 1 - alpha, -2 * cos_w0, 1 + alpha, 1 + alpha, -2 * cos_w0, 1 - alpha)


def bandpass_biquad(waveform, sample_rate, central_freq, Q=0.707, const_skirt_gain=False):  # noqa: N803
    """Two-pole band-pass at ``central_freq``: 0 dB peak gain, or constant skirt gain."""
    cos_w0, sin_w0, alpha = _center(waveform, sample_rate, central_freq, Q)
    gain = sin_w0 / 2 if const_skirt_gain else alpha
    return biquad(waveform, gain, 0.0, -gain, 1 + alpha, -2 * cos_w0, 1 - alpha)


def bandreject_biquad(waveform, sample_rate, central_freq, Q=0.707):  # noqa: N803
    """Two-pole band-reject (notch) at ``central_freq``."""
    cos_w0, _, alpha = _center(waveform, sample_rate, central_freq, Q)
    return biquad(waveform, 1.0, -2 * cos_w0, 1.0, 1 + alpha, -2 * cos_w0, 1 - alpha)


def band_biquad(waveform, sample_rate, central_freq, Q=0.707, noise=False):  # noqa: N803
    """SoX's two-pole resonator ``band`` at ``central_freq`` (``noise``: unpitched-audio gain)."""
    cos_w0, _, _ = _center(waveform, sample_rate, central_freq, Q)
    bandwidth = torch.as_tensor(central_freq, dtype=waveform.dtype) / Q
    a2 = torch.exp(-2 * math.pi * bandwidth / sample_rate)
    a1 = -4 * a2 / (1 + a2) * cos_w0
    b0 = torch.sqrt(1 - a1 * a1 / (4 * a2)) * (1 - a2)
    if noise:
        b0 = torch.sqrt(((1 + a2) * (1 + a2) - a1 * a1) * (1 - a2) / (1 + a2)) / b0 * b0
    return biquad(waveform, b0, 0.0, 0.0, 1.0, a1, a2)


def equalizer_biquad(waveform, sample_rate, center_freq, gain, Q=0.707):  # noqa: N803
    """Peaking equalizer: ``gain`` dB around ``center_freq``."""
    cos_w0, _, alpha = _center(waveform, sample_rate, center_freq, Q)
    amp = torch.exp(torch.as_tensor(gain, dtype=waveform.dtype) / 40.0 * math.log(10))
    return biquad(waveform, 1 + alpha * amp, -2 * cos_w0, 1 - alpha * amp, 1 + alpha / amp,
                  -2 * cos_w0, 1 - alpha / amp)  # fmt: skip


def _shelf(amp, cos_w0, alpha, sign):
    """RBJ shelf coefficients (b0, b1, b2, a0, a1, a2): ``sign`` -1 low (bass), +1 high."""
    t1, t2, t3 = 2 * amp**0.5 * alpha, (amp - 1) * cos_w0, (amp + 1) * cos_w0
    return (amp * (amp + 1 + sign * t2 + t1), -2 * sign * amp * (amp - 1 + sign * t3),
            amp * (amp + 1 + sign * t2 - t1), amp + 1 - sign * t2 + t1,
            2 * sign * (amp - 1 - sign * t3), amp + 1 - sign * t2 - t1)  # fmt: skip


def bass_biquad(waveform, sample_rate, gain, central_freq=100, Q=0.707):  # noqa: N803
    """Low-shelf boost or cut of ``gain`` dB below ``central_freq``."""
    cos_w0, _, alpha = _center(waveform, sample_rate, central_freq, Q)
    amp = torch.exp(torch.as_tensor(gain, dtype=waveform.dtype) / 40 * math.log(10))
    b0, b1, b2, a0, a1, a2 = _shelf(amp, cos_w0, alpha, -1)
    return biquad(waveform, b0 / a0, b1 / a0, b2 / a0, a0 / a0, a1 / a0, a2 / a0)


def treble_biquad(waveform, sample_rate, gain, central_freq=3000, Q=0.707):  # noqa: N803
    """High-shelf boost or cut of ``gain`` dB above ``central_freq``."""
    cos_w0, _, alpha = _center(waveform, sample_rate, central_freq, Q)
    amp = torch.exp(torch.as_tensor(gain, dtype=waveform.dtype) / 40 * math.log(10))
    return biquad(waveform, *_shelf(amp, cos_w0, alpha, 1))


_DEEMPH = {44100: (5283, 0.4845, -9.477), 48000: (5356, 0.479, -9.62)}  # freq, slope, dB


def deemph_biquad(waveform, sample_rate):
    """The CD (44.1 kHz) or DAT (48 kHz) de-emphasis shelf, SoX's ``deemph``."""
    if sample_rate not in _DEEMPH:
        raise ValueError("Sample rate must be 44100 (audio-CD) or 48000 (DAT)")
    freq, slope, gain = _DEEMPH[sample_rate]
    w0 = 2 * math.pi * freq / sample_rate
    amp = math.exp(gain / 40.0 * math.log(10))
    alpha = math.sin(w0) / 2 * math.sqrt((amp + 1 / amp) * (1 / slope - 1) + 2)
    return biquad(waveform, *_shelf(amp, math.cos(w0), alpha, 1))


def filtfilt(waveform, a_coeffs, b_coeffs, clamp=True):
    """Zero-phase filtering: :func:`lfilter` forwards, then backwards in time."""
    forward = lfilter(waveform, a_coeffs, b_coeffs, clamp=False, batching=True)
    return lfilter(forward.flip(-1), a_coeffs, b_coeffs, clamp=clamp, batching=True).flip(-1)


def contrast(waveform, enhancement_amount=75.0):
    """SoX's ``contrast``: ``sin(x pi/2 + c sin(2 pi x))``, c = enhancement_amount / 750."""
    if not 0 <= enhancement_amount <= 100:
        raise ValueError("Allowed range of values for enhancement_amount : 0-100")
    phase = waveform * (math.pi / 2)
    return torch.sin(phase + enhancement_amount / 750.0 * torch.sin(phase * 4))


def dcshift(waveform, shift, limiter_gain=None):
    """``waveform + shift`` clamped to [-1, 1]; with ``limiter_gain``, the samples beyond the
    limiter threshold (on the side of the shift) are compressed instead (SoX's ``dcshift``)."""
    if limiter_gain is None or shift == 0:
        return (waveform + shift).clamp(min=-1, max=1)
    threshold = 1.0 - (abs(shift) - limiter_gain)
    plain = (waveform + shift).clamp(min=-1, max=1)
    if shift > 0:
        limited = (waveform - threshold) * limiter_gain / (1 - threshold) + threshold + shift
        return torch.where(waveform > threshold, limited.clamp(max=threshold), plain)
    limited = (waveform + threshold) * limiter_gain / (1 - threshold) - threshold + shift
    return torch.where(waveform < -threshold, limited.clamp(min=-threshold), plain)
