"""Band-limited resampling (torchaudio.functional.resample and transforms.Resample): a
windowed-sinc kernel (Hann or Kaiser) per output phase, applied by one strided conv1d."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad.nn import functional as nnf

from ..._warnings import warn_user

_OLD_NAMES = {"sinc_interpolation": "sinc_interp_hann", "kaiser_window": "sinc_interp_kaiser"}
_KAISER_BETA = 14.769656459379492  # torchaudio's default (librosa's kaiser_best)


def _sinc_resample_kernel(orig_freq, new_freq, gcd, lowpass_filter_width=6, rolloff=0.99,
                          resampling_method="sinc_interp_hann", beta=None, device=None,
                          dtype=None):  # fmt: skip
    """``(kernel (new, 1, 2 * width + orig), width)`` for the reduced rates ``orig/gcd`` and
    ``new/gcd``: output phase j's taps are sinc(pi * base * (i / orig - j / new)) times the
    window, cut at ``lowpass_filter_width`` zero crossings of the low-pass at
    ``rolloff * min(orig, new)``. Float32 unless ``dtype`` is given (taps computed in float64
    then, as torchaudio)."""
    if int(orig_freq) != orig_freq or int(new_freq) != new_freq:
        raise Exception(
            "Frequencies must be of integer type to ensure quality resampling computation. "
            "To work around this, manually convert both frequencies to integer values "
            "that maintain their resampling rate ratio before passing them into the function."
        )
    if resampling_method in _OLD_NAMES:
        warn_user(
            f'"{resampling_method}" resampling method name is being deprecated and replaced by '
            f'"{_OLD_NAMES[resampling_method]}" in the next release. '
            "The default behavior remains unchanged."
        )
        resampling_method = _OLD_NAMES[resampling_method]
    elif resampling_method not in ("sinc_interp_hann", "sinc_interp_kaiser"):
        raise ValueError(f"Invalid resampling method: {resampling_method}")
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    if lowpass_filter_width <= 0:
        raise ValueError("Low pass filter width should be positive.")
    base_freq = min(orig_freq, new_freq) * rolloff
    width = math.ceil(lowpass_filter_width * orig_freq / base_freq)
    idx_dtype = dtype if dtype is not None else torch.float64
    idx = torch.arange(-width, width + orig_freq, dtype=idx_dtype, device=device)[None, None]
    phases = torch.arange(0, -new_freq, -1, dtype=dtype, device=device)[:, None, None]
    t = (phases / new_freq + idx / orig_freq) * base_freq
    t = t.clamp(-lowpass_filter_width, lowpass_filter_width)
    if resampling_method == "sinc_interp_hann":
        window = torch.cos(t * math.pi / lowpass_filter_width / 2) ** 2
    else:
        beta = torch.tensor(float(_KAISER_BETA if beta is None else beta))
        window = torch.i0(beta * torch.sqrt(1 - (t / lowpass_filter_width) ** 2)) / torch.i0(beta)
    t = t * math.pi
    safe_t = torch.where(t == 0, torch.ones_like(t), t)
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(safe_t) / safe_t)
    kernels = sinc * window * (base_freq / orig_freq)
    return (kernels.to(torch.float32) if dtype is None else kernels), width


def _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width):
    """Resample ``waveform (..., time)`` with a kernel from :func:`_sinc_resample_kernel`:
    ``ceil(new * time / orig)`` samples."""
    if not waveform.is_floating_point():
        raise TypeError(
            f"Expected floating point type for waveform tensor, but received {waveform.dtype}."
        )
    orig_freq, new_freq = int(orig_freq) // gcd, int(new_freq) // gcd
    shape = waveform.shape
    packed = waveform.reshape(-1, shape[-1])
    num_wavs, length = packed.shape
    padded = nnf.pad(packed, (width, width + orig_freq))
    out = nnf.conv1d(padded[:, None], kernel, stride=orig_freq)
    out = out.transpose(1, 2).reshape(num_wavs, -1)
    out = out[..., : math.ceil(new_freq * length / orig_freq)]
    return out.reshape(tuple(shape[:-1]) + tuple(out.shape[-1:]))


def resample(waveform, orig_freq, new_freq, lowpass_filter_width=6, rolloff=0.99,
             resampling_method="sinc_interp_hann", beta=None):  # fmt: skip
    """``waveform (..., time)`` resampled from ``orig_freq`` to ``new_freq`` Hz by band-limited
    (windowed-sinc) interpolation; differentiable in ``waveform``.

    Example:
        >>> resample(torch.randn(1, 16000), 16000, 8000).shape
        torch.Size([1, 8000])
    """
    if orig_freq <= 0.0 or new_freq <= 0.0:
        raise ValueError("Original frequency and desired frequecy should be positive")
    if orig_freq == new_freq:
        return waveform
    gcd = math.gcd(int(orig_freq), int(new_freq))
    kernel, width = _sinc_resample_kernel(
        orig_freq, new_freq, gcd, lowpass_filter_width, rolloff, resampling_method, beta,
        waveform.device, waveform.dtype,
    )  # fmt: skip
    return _apply_sinc_resample_kernel(waveform, orig_freq, new_freq, gcd, kernel, width)


def _source_target_sample_rate(orig_freq, factor):
    """The reduced (``factor * orig_freq``, ``orig_freq``) pair :func:`speed` resamples between."""
    source, target = int(factor * orig_freq), int(orig_freq)
    gcd = math.gcd(source, target)
    return source // gcd, target // gcd


def speed(waveform, orig_freq, factor, lengths=None):
    """``waveform`` played ``factor`` times faster (resampled from ``factor * orig_freq`` to
    ``orig_freq``), and the new ``lengths`` (None when none are given)."""
    source, target = _source_target_sample_rate(orig_freq, factor)
    out_lengths = None
    if lengths is not None:
        out_lengths = torch.ceil(lengths * target / source).to(lengths.dtype)
    return resample(waveform, source, target), out_lengths
