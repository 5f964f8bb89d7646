"""Pitch detection for torchaudio.functional.detect_pitch_frequency: the normalized
cross-correlation of each frame with its lagged copies, the best lag per frame, a median."""

from __future__ import annotations

import math

import minigrad as torch
from minigrad.nn import functional as nnf

_EPSILON = 1e-9


def _nccf(waveform, sample_rate, frame_time, freq_low):
    """``(batch, frames, lags)``: for each lag 1..ceil(sr / freq_low), the frame's product
    with its lagged copy over both copies' squared norms (torchaudio's normalization)."""
    lags = int(math.ceil(sample_rate / freq_low))
    frame_size = int(math.ceil(sample_rate * frame_time))
    length = waveform.shape[-1]
    frames = int(math.ceil(length / frame_size))
    waveform = nnf.pad(waveform, (0, lags + frames * frame_size - length))
    columns = []
    for lag in range(1, lags + 1):
        s1 = waveform[..., :-lag].unfold(-1, frame_size, frame_size)[..., :frames, :]
        s2 = waveform[..., lag:].unfold(-1, frame_size, frame_size)[..., :frames, :]
        energy_1 = (_EPSILON + torch.linalg.vector_norm(s1, ord=2, dim=-1)).pow(2)
        energy_2 = (_EPSILON + torch.linalg.vector_norm(s2, ord=2, dim=-1)).pow(2)
        columns.append(((s1 * s2).sum(-1) / energy_1 / energy_2).unsqueeze(-1))
    return torch.cat(columns, -1)


def _best_lag(nccf, sample_rate, freq_high):
    """The 1-based lag of each frame's maximum above ``sr / freq_high``, preferring the best
    in the first half of the lags when it reaches 99% of the overall best."""
    lag_min = int(math.ceil(sample_rate / freq_high))
    best_value, best_index = torch.max(nccf[..., lag_min:], -1)
    half_value, half_index = torch.max(nccf[..., lag_min : nccf.shape[-1] // 2], -1)
    take_half = half_value > 0.99 * best_value
    return torch.where(take_half, half_index, best_index) + lag_min + 1


def _median_smoothing(indices, win_length):
    """Running median over ``win_length`` frames, the front padded with the first value."""
    pad = (win_length - 1) // 2
    front = indices[..., :1].expand(*indices.shape[:-1], pad)
    rolled = torch.cat([front, indices], dim=-1).unfold(-1, win_length, 1)
    return torch.median(rolled, -1).values


def detect_pitch_frequency(waveform, sample_rate, frame_time, win_length, freq_low, freq_high):
    """See :func:`minigrad.audio.functional.detect_pitch_frequency`."""
    shape = list(waveform.shape)
    packed = waveform.reshape([-1] + shape[-1:])
    indices = _best_lag(_nccf(packed, sample_rate, frame_time, freq_low), sample_rate, freq_high)
    indices = _median_smoothing(indices, win_length)
    freq = sample_rate / (_EPSILON + indices.to(torch.float))
    return freq.reshape(shape[:-1] + list(freq.shape[-1:]))
