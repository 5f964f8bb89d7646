"""torchaudio.functional's spectral functions: spectrograms and their inverses, filter banks,
the DCT matrix, decibels, mu-law companding, deltas, masking, Griffin-Lim, the phase vocoder.

Written for minigrad on its public ops (``stft``/``istft``, ``conv1d``), so everything a
torchaudio function differentiates is differentiable here too, on every device.
"""

from __future__ import annotations

import math

import minigrad as torch
from minigrad.nn import functional as nnf

from ..._warnings import warn_user
from ._convolve import add_noise, convolve, deemphasis, fftconvolve, preemphasis
from ._resample import resample, speed
from .filtering import biquad, gain, highpass_biquad, lfilter, lowpass_biquad

__all__ = [
    "spectrogram", "inverse_spectrogram", "griffinlim", "amplitude_to_DB", "DB_to_amplitude",
    "melscale_fbanks", "linear_fbanks", "create_dct", "mu_law_encoding", "mu_law_decoding",
    "phase_vocoder", "mask_along_axis", "mask_along_axis_iid", "compute_deltas",
    "detect_pitch_frequency", "spectral_centroid", "resample", "speed", "convolve",
    "fftconvolve", "add_noise", "preemphasis", "deemphasis", "lfilter", "biquad",
    "lowpass_biquad", "highpass_biquad", "gain",
]  # fmt: skip


def _spec_norms(normalized) -> tuple[bool, bool]:
    """(frame-length norm, window norm) for ``normalized``: ``True`` or ``"window"`` divides by
    the window's L2 norm, ``"frame_length"`` lets stft divide by ``sqrt(n_fft)``."""
    if isinstance(normalized, str):
        if normalized not in ("frame_length", "window"):
            raise ValueError(f"Invalid normalized parameter: {normalized}")
        return normalized == "frame_length", normalized == "window"
    if isinstance(normalized, bool):
        return False, normalized
    raise TypeError("Input type not supported")


def spectrogram(waveform, pad, window, n_fft, hop_length, win_length, power, normalized,
                center=True, pad_mode="reflect", onesided=True, return_complex=None):  # fmt: skip
    """The spectrogram ``(..., n_fft // 2 + 1, frames)`` of ``waveform (..., time)``:
    ``|stft|**power``, or the complex STFT when ``power`` is None."""
    if return_complex is not None:
        warn_user(
            "`return_complex` argument is now deprecated and is not effective."
            "`torchaudio.functional.spectrogram(power=None)` always returns a tensor with "
            "complex dtype. Please remove the argument in the function call."
        )
    if pad > 0:
        waveform = nnf.pad(waveform, (pad, pad), "constant")
    frame_norm, window_norm = _spec_norms(normalized)
    shape = waveform.shape
    spec = torch.stft(
        waveform.reshape(-1, shape[-1]), n_fft=n_fft, hop_length=hop_length,
        win_length=win_length, window=window, center=center, pad_mode=pad_mode,
        normalized=frame_norm, onesided=onesided, return_complex=True,
    )  # fmt: skip
    spec = spec.reshape(tuple(shape[:-1]) + tuple(spec.shape[-2:]))
    if window_norm:
        spec = spec / window.pow(2.0).sum().sqrt()
    if power is None:
        return spec
    return spec.abs() if power == 1.0 else spec.abs().pow(power)


def inverse_spectrogram(spectrogram, length, pad, window, n_fft, hop_length, win_length,
                        normalized, center=True, pad_mode="reflect", onesided=True):  # fmt: skip
    """The waveform ``(..., time)`` whose complex spectrogram ``(..., freq, frames)`` is
    given (least squares, by ``istft``); ``pad`` is removed when ``length`` is given."""
    frame_norm, window_norm = _spec_norms(normalized)
    if not spectrogram.is_complex():
        raise ValueError("Expected `spectrogram` to be complex dtype.")
    if window_norm:
        spectrogram = spectrogram * window.pow(2.0).sum().sqrt()
    shape = spectrogram.shape
    waveform = torch.istft(
        spectrogram.reshape(-1, shape[-2], shape[-1]), n_fft=n_fft, hop_length=hop_length,
        win_length=win_length, window=window, center=center, normalized=frame_norm,
        onesided=onesided, length=length + 2 * pad if length is not None else None,
    )  # fmt: skip
    if length is not None and pad > 0:
        waveform = waveform[:, pad:-pad]
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


def _complex_dtype(real):
    """The complex dtype holding two of ``real``."""
    table = {torch.float64: torch.complex128, torch.float32: torch.complex64}
    if real not in table:
        raise ValueError(f"Unexpected dtype {real}")
    return table[real]


def griffinlim(specgram, window, n_fft, hop_length, win_length, power, n_iter, momentum,
               length, rand_init):  # fmt: skip
    """A waveform ``(..., time)`` whose magnitude spectrogram approximates ``specgram``
    ``(..., freq, frames)``: fast Griffin-Lim (``momentum`` in [0, 1)) from a random or zero
    phase, ``n_iter`` rounds of istft/stft."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in range [0, 1). Found: {momentum}")
    momentum = momentum / (1 + momentum)
    shape = specgram.shape
    specgram = specgram.reshape(-1, shape[-2], shape[-1]).pow(1 / power)
    cdtype = _complex_dtype(specgram.dtype)
    if rand_init:
        angles = torch.rand(specgram.shape, dtype=cdtype, device=specgram.device)
    else:
        angles = torch.ones(specgram.shape, dtype=cdtype, device=specgram.device)
    stft_args = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window)
    previous = None
    for _ in range(n_iter):
        inverse = torch.istft(specgram * angles, length=length, **stft_args)
        rebuilt = torch.stft(inverse, center=True, pad_mode="reflect", normalized=False,
                             onesided=True, return_complex=True, **stft_args)  # fmt: skip
        angles = rebuilt
        if momentum and previous is not None:
            angles = angles - previous * momentum
        angles = angles / (angles.abs() + 1e-16)
        previous = rebuilt
    waveform = torch.istft(specgram * angles, length=length, **stft_args)
    return waveform.reshape(tuple(shape[:-2]) + tuple(waveform.shape[-1:]))


def amplitude_to_DB(x, multiplier, amin, db_multiplier, top_db=None):  # noqa: N802
    """``multiplier * log10(max(x, amin)) - multiplier * db_multiplier``, floored at
    ``top_db`` below the maximum of each spectrogram (of each item for 4-D and larger input,
    of the whole tensor for 2-D and 3-D input, as torchaudio)."""
    x_db = multiplier * torch.log10(torch.clamp(x, min=amin)) - multiplier * db_multiplier
    if top_db is None:
        return x_db
    shape = x_db.shape
    channels = shape[-3] if x_db.dim() > 2 else 1
    packed = x_db.reshape(-1, channels, shape[-2], shape[-1])
    floor = (packed.amax(dim=(-3, -2, -1)) - top_db).view(-1, 1, 1, 1)
    return torch.maximum(packed, floor).reshape(shape)


def DB_to_amplitude(x, ref, power):  # noqa: N802 (torchaudio's name)
    """``ref * (10 ** (x / 10)) ** power``: decibels back to power (``power=1``) or amplitude
    (``power=0.5``)."""
    return ref * torch.pow(torch.pow(10.0, 0.1 * x), power)


_SLANEY_F_SP = 200.0 / 3  # Hz per mel below 1 kHz on the Slaney scale
_SLANEY_LOGSTEP = math.log(6.4) / 27.0


def _check_mel_scale(mel_scale):
    if mel_scale not in ("slaney", "htk"):
        raise ValueError('mel_scale should be one of "htk" or "slaney".')


def _hz_to_mel(freq: float, mel_scale: str = "htk") -> float:
    """Hz to mels (HTK: 2595 log10(1 + f/700); Slaney: linear below 1 kHz, log above)."""
    _check_mel_scale(mel_scale)
    if mel_scale == "htk":
        return 2595.0 * math.log10(1.0 + freq / 700.0)
    if freq >= 1000.0:
        return 1000.0 / _SLANEY_F_SP + math.log(freq / 1000.0) / _SLANEY_LOGSTEP
    return freq / _SLANEY_F_SP


def _mel_to_hz(mels, mel_scale: str = "htk"):
    """Mels (a tensor) back to Hz: the inverse of :func:`_hz_to_mel`."""
    _check_mel_scale(mel_scale)
    if mel_scale == "htk":
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    min_log_mel = 1000.0 / _SLANEY_F_SP
    log_part = 1000.0 * torch.exp(_SLANEY_LOGSTEP * (mels - min_log_mel))
    return torch.where(mels >= min_log_mel, log_part, _SLANEY_F_SP * mels)


def _triangular_filterbank(all_freqs, f_pts):
    """Triangles ``(n_freqs, len(f_pts) - 2)``: filter i rises from f_pts[i] to f_pts[i+1]
    and falls to f_pts[i+2], sampled at ``all_freqs`` (librosa's construction)."""
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return torch.minimum(down, up).clamp(min=0.0)


def melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"):
    """Triangular mel filter banks ``(n_freqs, n_mels)`` (``spec.mT @ fb`` applies them);
    ``norm="slaney"`` scales each to constant energy."""
    if norm is not None and norm != "slaney":
        raise ValueError('norm must be one of None or "slaney"')
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_pts = torch.linspace(
        _hz_to_mel(f_min, mel_scale=mel_scale), _hz_to_mel(f_max, mel_scale=mel_scale), n_mels + 2
    )
    f_pts = _mel_to_hz(m_pts, mel_scale=mel_scale)
    fb = _triangular_filterbank(all_freqs, f_pts)
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2 : n_mels + 2] - f_pts[:n_mels])).unsqueeze(0)
    if bool((fb.amax(dim=0) == 0.0).any()):
        warn_user(
            "At least one mel filterbank has all zero values. "
            f"The value for `n_mels` ({n_mels}) may be set too high. "
            f"Or, the value for `n_freqs` ({n_freqs}) may be set too low."
        )
    return fb


def linear_fbanks(n_freqs, f_min, f_max, n_filter, sample_rate):
    """Triangular filter banks ``(n_freqs, n_filter)`` evenly spaced in Hz."""
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    return _triangular_filterbank(all_freqs, torch.linspace(f_min, f_max, n_filter + 2))


def create_dct(n_mfcc, n_mels, norm):
    """The DCT-II matrix ``(n_mels, n_mfcc)`` (right-multiplied to rows of ``n_mels``),
    orthonormal for ``norm="ortho"``, scaled by 2 for ``norm=None``."""
    if norm is not None and norm != "ortho":
        raise ValueError('norm must be either "ortho" or None')
    n = torch.arange(float(n_mels))
    k = torch.arange(float(n_mfcc)).unsqueeze(1)
    dct = torch.cos(math.pi / float(n_mels) * (n + 0.5) * k)  # (n_mfcc, n_mels)
    if norm is None:
        return (dct * 2.0).t()
    scale = torch.full((n_mfcc, 1), math.sqrt(2.0 / float(n_mels)))
    scale[0] = scale[0] / math.sqrt(2.0)
    return (dct * scale).t()


def mu_law_encoding(x, quantization_channels):
    """Mu-law companding of ``x`` in [-1, 1] to int64 codes in [0, quantization_channels)."""
    mu = quantization_channels - 1.0
    if not x.is_floating_point():
        warn_user(
            "The input Tensor must be of floating type. This will be an error in the v0.12 release."
        )
        x = x.to(torch.float)
    mu = torch.tensor(mu, dtype=x.dtype, device=x.device)
    x_mu = torch.sign(x) * torch.log1p(mu * torch.abs(x)) / torch.log1p(mu)
    return ((x_mu + 1) / 2 * mu + 0.5).to(torch.int64)


def mu_law_decoding(x_mu, quantization_channels):
    """Mu-law codes back to a signal in [-1, 1] (the inverse of :func:`mu_law_encoding`)."""
    if not x_mu.is_floating_point():
        x_mu = x_mu.to(torch.float)
    mu = torch.tensor(quantization_channels - 1.0, dtype=x_mu.dtype, device=x_mu.device)
    x = x_mu / mu * 2 - 1.0
    return torch.sign(x) * (torch.exp(torch.abs(x) * torch.log1p(mu)) - 1.0) / mu


def phase_vocoder(complex_specgrams, rate, phase_advance):
    """Speed a complex STFT ``(..., freq, frames)`` up by ``rate`` without changing pitch:
    ``ceil(frames / rate)`` frames, magnitudes interpolated, phases accumulated with the
    expected ``phase_advance`` ``(freq, 1)`` per hop."""
    if rate == 1.0:
        return complex_specgrams
    shape = complex_specgrams.shape
    specs = complex_specgrams.reshape(-1, shape[-2], shape[-1])
    real_dtype = torch.real(specs).dtype
    steps = torch.arange(0, specs.shape[-1], rate, device=specs.device, dtype=real_dtype)
    alphas = steps % 1.0
    phase_0 = specs[..., :1].angle()
    specs = nnf.pad(specs, [0, 2])
    spec_0 = specs.index_select(-1, steps.long())
    spec_1 = specs.index_select(-1, (steps + 1).long())
    phase = spec_1.angle() - spec_0.angle() - phase_advance
    phase = phase - 2 * math.pi * torch.round(phase / (2 * math.pi))  # wrap to [-pi, pi]
    phase = torch.cat([phase_0, (phase + phase_advance)[..., :-1]], dim=-1)
    mag = alphas * spec_1.abs() + (1 - alphas) * spec_0.abs()
    stretched = torch.polar(mag, torch.cumsum(phase, -1))
    return stretched.reshape(tuple(shape[:-2]) + tuple(stretched.shape[1:]))


def _mask_param(mask_param, p, axis_length):
    return mask_param if p == 1.0 else min(mask_param, int(axis_length * p))


def _check_mask_axis(dim, axis, p):
    if axis not in (dim - 2, dim - 1):
        raise ValueError(
            "Only Frequency and Time masking are supported"
            f" (axis {dim - 2} and axis {dim - 1} supported; {axis} given)."
        )
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")


def mask_along_axis_iid(specgrams, mask_param, mask_value, axis, p=1.0):
    """Mask ``[v0, v0 + v)`` along ``axis`` (one of the last two) of ``specgrams``
    ``(..., freq, time)``, with ``v ~ U(0, mask_param)`` and ``v0 ~ U(0, size - v)`` drawn
    for each leading index (each example and channel)."""
    dim = specgrams.dim()
    if dim < 3:
        raise ValueError(f"Spectrogram must have at least three dimensions ({dim} given).")
    _check_mask_axis(dim, axis, p)
    mask_param = _mask_param(mask_param, p, specgrams.shape[axis])
    if mask_param < 1:
        return specgrams
    device, dtype = specgrams.device, specgrams.dtype
    lead = tuple(specgrams.shape[: dim - 2])
    value = torch.rand(lead, device=device, dtype=dtype) * mask_param
    min_value = torch.rand(lead, device=device, dtype=dtype) * (specgrams.size(axis) - value)
    start = min_value.long()[..., None, None]
    end = (min_value.long() + value.long())[..., None, None]
    pos = torch.arange(0, specgrams.size(axis), device=device, dtype=dtype)
    masked = (pos >= start) & (pos < end)
    moved = specgrams.transpose(axis, -1)
    if isinstance(mask_value, torch.Tensor):
        moved = torch.where(masked, mask_value.to(dtype), moved)
    else:
        moved = moved.masked_fill(masked, mask_value)
    return moved.transpose(axis, -1)


def mask_along_axis(specgram, mask_param, mask_value, axis, p=1.0):
    """Mask ``[v0, v0 + v)`` along ``axis`` (one of the last two), the same interval for
    every example (``v ~ U(0, mask_param)``, ``v0 ~ U(0, size - v)``)."""
    dim = specgram.dim()
    if dim < 2:
        raise ValueError(
            f"Spectrogram must have at least two dimensions (time and frequency) ({dim} given)."
        )
    _check_mask_axis(dim, axis, p)
    mask_param = _mask_param(mask_param, p, specgram.shape[axis])
    if mask_param < 1:
        return specgram
    shape = specgram.shape
    packed = specgram.reshape(-1, shape[-2], shape[-1])
    length = packed.size(axis - dim + 3)
    value = torch.rand(1) * mask_param
    min_value = torch.rand(1) * (length - value)
    start = int(min_value.long())
    end = start + int(value.long())
    pos = torch.arange(0, length, device=specgram.device, dtype=specgram.dtype)
    masked = (pos >= start) & (pos < end)
    if axis == dim - 2:
        masked = masked.unsqueeze(-1)
    packed = packed.masked_fill(masked, mask_value)
    return packed.reshape(shape)


def compute_deltas(specgram, win_length=5, mode="replicate"):
    """Delta coefficients along time of ``specgram (..., freq, time)``:
    ``d_t = sum_n n (c_{t+n} - c_{t-n}) / (2 sum_n n^2)``, n = 1..(win_length - 1) // 2,
    the edges padded by ``mode``."""
    if win_length < 3:
        raise ValueError(
            f"Window length should be greater than or equal to 3. Found win_length {win_length}"
        )
    shape = specgram.shape
    packed = specgram.reshape(1, -1, shape[-1])
    n = (win_length - 1) // 2
    denom = n * (n + 1) * (2 * n + 1) / 3
    padded = nnf.pad(packed, (n, n), mode=mode)
    kernel = torch.arange(-n, n + 1, 1, device=specgram.device, dtype=specgram.dtype)
    kernel = kernel.repeat(packed.shape[1], 1, 1)
    return (nnf.conv1d(padded, kernel, groups=packed.shape[1]) / denom).reshape(shape)


def detect_pitch_frequency(waveform, sample_rate, frame_time=10 ** (-2), win_length=30,
                           freq_low=85, freq_high=3400):  # fmt: skip
    """Pitch (Hz) per frame of ``waveform (..., time)`` by normalized cross-correlation
    (NCCF), its per-frame best lag, then a median filter of ``win_length`` frames."""
    from ._pitch import detect_pitch_frequency as detect

    return detect(waveform, sample_rate, frame_time, win_length, freq_low, freq_high)


def spectral_centroid(waveform, sample_rate, pad, window, n_fft, hop_length, win_length):
    """The magnitude-weighted mean frequency (Hz) of each frame: ``(..., frames)``."""
    specgram = spectrogram(waveform, pad=pad, window=window, n_fft=n_fft, hop_length=hop_length,
                           win_length=win_length, power=1.0, normalized=False)  # fmt: skip
    freqs = torch.linspace(0, sample_rate // 2, steps=1 + n_fft // 2, device=specgram.device)
    freqs = freqs.reshape((-1, 1))
    return (freqs * specgram).sum(dim=-2) / specgram.sum(dim=-2)


def _stretch_waveform(waveform, n_steps, bins_per_octave=12, n_fft=512, win_length=None,
                      hop_length=None, window=None):  # fmt: skip
    """``waveform (..., time)`` flattened to rows and stretched in time by
    ``2 ** (n_steps / bins_per_octave)`` with the phase vocoder (STFT, :func:`phase_vocoder`,
    inverse STFT), as torchaudio's ``pitch_shift`` does before resampling."""
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if window is None:
        window = torch.hann_window(win_length, device=waveform.device)
    length = waveform.shape[-1]
    rows = waveform.reshape(-1, length)
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    spec = torch.stft(rows, n_fft, hop_length, win_length, window, center=True,
                      pad_mode="reflect", normalized=False, onesided=True, return_complex=True)  # fmt: skip
    advance = torch.linspace(0, math.pi * hop_length, spec.shape[-2], device=spec.device)[..., None]
    stretched = phase_vocoder(spec, rate, advance)
    return torch.istft(stretched, n_fft, hop_length, win_length, window,
                       length=int(round(length / rate)))  # fmt: skip


def _fix_waveform_shape(shifted, shape):
    """``shifted`` cut or zero-padded to ``shape[-1]`` samples, then unflattened to ``shape``."""
    length = shifted.shape[-1]
    shifted = (
        shifted[..., : shape[-1]]
        if length > shape[-1]
        else nnf.pad(shifted, [0, shape[-1] - length])
    )
    return shifted.view(tuple(shape[:-1]) + tuple(shifted.shape[-1:]))


def pitch_shift(waveform, sample_rate, n_steps, bins_per_octave=12, n_fft=512, win_length=None,
                hop_length=None, window=None):  # fmt: skip
    """``waveform (..., time)`` shifted by ``n_steps`` (of ``bins_per_octave`` per octave)
    keeping its length: stretched in time by the phase vocoder, then resampled back
    (torchaudio's method; ``window`` defaults to a float32 Hann window of ``win_length``)."""
    stretched = _stretch_waveform(waveform, n_steps, bins_per_octave, n_fft, win_length,
                                  hop_length, window)  # fmt: skip
    rate = 2.0 ** (-float(n_steps) / bins_per_octave)
    shifted = resample(stretched, int(sample_rate / rate), sample_rate)
    return _fix_waveform_shape(shifted, waveform.shape)
