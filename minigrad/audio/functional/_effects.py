"""torchaudio.functional's SoX-style effects with a modulated delay line (``flanger``,
``phaser``), ``overdrive``, ``riaa_biquad`` and ``dither``.

torchaudio steps its delay lines one sample at a time with tensor ops. Both effects are
linear in the signal before the final clamp: the delay line's content at a sample is the
signal plus fed-back, interpolated taps of earlier samples, whose lags and weights depend
only on time and channel (the LFO). So here the lags and weights are tabulated once in NumPy,
the feedback recursion is :class:`_Taps` (forward: the recursion on backend arrays, one step
per sample vectorized over batch and channels; backward: its adjoint, run backwards in time;
each the other's gradient, so it differentiates twice) and the feed-forward taps are gathers.
"""

from __future__ import annotations

import math

import numpy as np

import minigrad as torch
from minigrad.autograd import Function
from minigrad.tensor import Tensor

from .filtering import biquad, lfilter


def _wave_table(wave_type, data_type, table_size, low, high, phase):
    """torchaudio's ``_generate_wave_table`` in NumPy: one period of a sine or triangle
    between ``low`` and ``high``, started at ``phase``; float32 or rounded to int32."""
    point = (np.arange(table_size) + int(phase / math.pi / 2 * table_size + 0.5)) % table_size
    if wave_type == "SINE":
        d = (np.sin(point.astype(np.float64) / table_size * 2 * math.pi) + 1) / 2
    else:
        d = point * 2.0 / table_size
        quarter = (4 * point) // table_size
        d = np.select([quarter == 0, quarter == 3], [d + 0.5, d - 1.5], 1.5 - d)
    d = d * (high - low) + low
    if data_type == "INT":
        return np.where(d < 0, d - 0.5, d + 0.5).astype(np.int32)
    return d.astype(np.float32)


def _recurse(xp, x, lags, weights, adjoint):
    """``s[:, i] = x[:, i] + sum_m weights[i, :, m] * s[:, i - lags[i, :, m]]`` (lags >= 1,
    zero before the start) on ``x (R, T)``; with ``adjoint``, the transposed system (the same
    taps scattered backwards in time)."""
    rows, length = x.shape
    pad = int(lags.max()) if lags.size else 0
    s = xp.zeros((rows, pad + length), dtype=x.dtype)
    s[:, pad:] = x
    row = xp.arange(rows)
    lags, weights = xp.asarray(pad - lags), xp.asarray(weights, dtype=x.dtype)
    steps = range(length - 1, -1, -1) if adjoint else range(length)
    for i in steps:
        for m in range(lags.shape[2]):
            if adjoint:
                s[row, lags[i, :, m] + i] += weights[i, :, m] * s[:, pad + i]
            else:
                s[:, pad + i] += weights[i, :, m] * s[row, lags[i, :, m] + i]
    return xp.ascontiguousarray(s[:, pad:])


class _Taps(Function):
    """The linear recursion of :func:`_recurse` on ``x (R, T)`` (or its adjoint): the
    gradient of each is the other applied to the incoming gradient."""

    @staticmethod
    def forward(ctx, x, lags, weights, adjoint):
        ctx.taps = (lags, weights, adjoint)
        return Tensor._make(_recurse(x.device.xp, x._data, lags, weights, adjoint), x.device)

    @staticmethod
    def backward(ctx, grad):
        lags, weights, adjoint = ctx.taps
        return _Taps.apply(grad, lags, weights, not adjoint), None, None, None


def _gather_taps(signal, lags, weights):
    """``out[..., c, i] = sum_m weights[i, c, m] * signal[..., c, i - lags[i, c, m]]`` (lags
    >= 0, zero before the start) for ``signal (B, C, T)``: a differentiable gather."""
    batch, channels, length = signal.shape
    pad = int(lags.max())
    padded = torch.nn.functional.pad(signal, (pad, 0))
    index = np.arange(length)[:, None, None] + pad - lags  # (T, C, M)
    index = torch.tensor(index.transpose(1, 2, 0).reshape(1, channels, -1), device=signal.device)
    picked = padded.gather(-1, index.expand(batch, channels, index.shape[-1]))
    w = torch.tensor(weights.transpose(1, 2, 0), dtype=signal.dtype, device=signal.device)
    return (picked.view(batch, channels, lags.shape[2], length) * w).sum(2)


def flanger(waveform, sample_rate, delay=0.0, depth=2.0, regen=0.0, width=71.0, speed=0.5,
            phase=25.0, modulation="sinusoidal", interpolation="linear"):  # fmt: skip
    """SoX's flanger on ``waveform (..., channel, time)`` (at most 4 channels): the signal
    mixed with a copy delayed by ``delay`` + an LFO sweeping ``depth`` ms at ``speed`` Hz
    (channels ``phase`` % apart), fed back by ``regen`` %, mixed by ``width`` %; clamped to
    [-1, 1]. Differentiable in the waveform."""
    if modulation not in ("sinusoidal", "triangular"):
        raise ValueError('Only "sinusoidal" or "triangular" modulation allowed')
    if interpolation not in ("linear", "quadratic"):
        raise ValueError('Only "linear" or "quadratic" interpolation allowed')
    shape = waveform.shape
    if shape[-2] > 4:
        raise ValueError("Max 4 channels allowed")
    x = waveform.reshape(-1, shape[-2], shape[-1])
    batch, channels, length = x.shape
    feedback, delay_gain = regen / 100, width / 100
    in_gain = 1.0 / (1 + delay_gain)
    delay_gain = delay_gain / (1 + delay_gain) * (1 - abs(feedback))
    buf_len = int((delay / 1000 + depth / 1000) * sample_rate + 0.5) + 2
    lfo_len = int(sample_rate / speed)
    lfo = _wave_table("SINE" if modulation == "sinusoidal" else "TRIANGLE", "FLOAT", lfo_len,
                      float(math.floor(delay / 1000 * sample_rate + 0.5)), buf_len - 2.0,
                      3 * math.pi / 2)  # fmt: skip
    offsets = (np.arange(channels) * lfo_len * np.float32(phase / 100) + 0.5).astype(np.int64)
    table = lfo[(np.arange(length)[:, None] + offsets) % lfo_len]  # (T, C), float32
    frac, whole = table - np.floor(table), np.floor(table).astype(np.int64)
    f = frac.astype(np.float64)
    if interpolation == "linear":
        weights = np.stack([1 - f, f], -1)
    else:
        weights = np.stack([1 - 1.5 * f + 0.5 * f * f, 2 * f - f * f, 0.5 * f * f - 0.5 * f], -1)
    lags = (whole[..., None] + np.arange(weights.shape[-1])) % buf_len  # (T, C, M), >= 0
    # The line's input u[i] = x[i] + feedback * (taps of u at i - 1): lags one longer.
    rec_lags = np.concatenate([np.ones_like(lags[:1]), lags[:-1] + 1])
    rec_weights = np.concatenate([np.zeros_like(weights[:1]), feedback * weights[:-1]])
    rows = (batch * channels, length)
    rec_lags = np.broadcast_to(rec_lags[:, None], (length, batch) + lags.shape[1:])
    rec_weights = np.broadcast_to(rec_weights[:, None], rec_lags.shape)
    line = _Taps.apply(x.reshape(rows), rec_lags.reshape(length, -1, lags.shape[-1]),
                       rec_weights.reshape(length, -1, lags.shape[-1]), False)  # fmt: skip
    delayed = _gather_taps(line.view(batch, channels, length), lags, weights)
    out = x * in_gain + delayed * delay_gain
    return out.clamp(min=-1, max=1).view(shape)


def phaser(waveform, sample_rate, gain_in=0.4, gain_out=0.74, delay_ms=3.0, decay=0.4,
           mod_speed=0.5, sinusoidal=True):  # fmt: skip
    """SoX's phaser on ``waveform (..., time)``: ``s[i] = gain_in x[i] + decay s[i - lag]``
    with the lag swept over ``delay_ms`` by a ``mod_speed`` Hz LFO, times ``gain_out``,
    clamped to [-1, 1]. Differentiable in the waveform."""
    shape = waveform.shape
    x = waveform.reshape(-1, shape[-1])
    length = x.shape[-1]
    buf_len = int(delay_ms * 0.001 * sample_rate + 0.5)
    mod_len = int(sample_rate / mod_speed + 0.5)
    mod = _wave_table("SINE" if sinusoidal else "TRIANGLE", "INT", mod_len, 1.0,
                      float(buf_len), math.pi / 2)  # fmt: skip
    lags = 1 + (-mod[np.arange(length) % mod_len].astype(np.int64)) % buf_len  # (T,)
    lags = np.broadcast_to(lags[:, None, None], (length, x.shape[0], 1))
    weights = np.full(lags.shape, decay)
    out = _Taps.apply(x * gain_in, lags, weights, False) * gain_out
    return out.clamp(min=-1, max=1).view(shape)


def overdrive(waveform, gain=20, colour=20):
    """SoX's overdrive on ``waveform (..., time)``: a soft clip ``t - t^3 / 3`` of
    ``waveform * gain_dB + colour / 200`` (hard at +-2/3 beyond +-1), DC-blocked by
    ``y[n] = t[n] - t[n-1] + 0.995 y[n-1]`` and mixed ``0.5 x + 0.75 y``; clamped to [-1, 1]."""
    driven = waveform * math.exp(gain * math.log(10) / 20.0) + colour / 200
    clipped = torch.where(
        driven < -1,
        torch.full_like(driven, -2.0 / 3.0),
        torch.where(driven > 1, torch.full_like(driven, 2.0 / 3.0), driven - driven**3 * (1.0 / 3)),
    )
    coeffs = dict(dtype=waveform.dtype, device=waveform.device)
    blocked = lfilter(clipped, torch.tensor([1.0, -0.995], **coeffs),
                      torch.tensor([1.0, -1.0], **coeffs), clamp=False)  # fmt: skip
    return (waveform * 0.5 + blocked * 0.75).clamp(min=-1, max=1)


_RIAA = {  # sample rate -> (zeros, poles) of SoX's RIAA playback curve
    44100: ([-0.2014898, 0.9233820], [0.7083149, 0.9924091]),
    48000: ([-0.1766069, 0.9321590], [0.7396325, 0.9931330]),
    88200: ([-0.1168735, 0.9648312], [0.8590646, 0.9964002]),
    96000: ([-0.1141486, 0.9676817], [0.8699137, 0.9966946]),
}


def riaa_biquad(waveform, sample_rate):
    """RIAA vinyl playback equalization (SoX's poles and zeros), 0 dB at 1 kHz."""
    if sample_rate not in _RIAA:
        raise ValueError("Sample rate must be 44.1k, 48k, 88.2k, or 96k")
    zeros, poles = _RIAA[sample_rate]
    b = [1.0, -(zeros[0] + zeros[1]), zeros[0] * zeros[1]]
    a = [1.0, -(poles[0] + poles[1]), poles[0] * poles[1]]
    y = 2 * math.pi * 1000 / sample_rate

    def response(c):  # (re, im) of c0 + c1 e^{-iy} + c2 e^{-2iy}
        return (c[0] + c[1] * math.cos(-y) + c[2] * math.cos(-2 * y),
                c[1] * math.sin(-y) + c[2] * math.sin(-2 * y))  # fmt: skip

    (b_re, b_im), (a_re, a_im) = response(b), response(a)
    g = 1 / math.sqrt((b_re**2 + b_im**2) / (a_re**2 + a_im**2))
    return biquad(waveform, b[0] * g, b[1] * g, b[2] * g, *a)


def _draw(high):
    """``int(torch.randint(high, [1]))``: torchaudio's draw, the same under one seed."""
    return int(torch.randint(high, [1]).item())


def dither(waveform, density_function="TPDF", noise_shaping=False):
    """SoX-style dither of ``waveform (..., time)`` to 16 bits: scaled by ``2**15 - 2``, a
    dither added (``"TPDF"``: a Bartlett window over time; ``"RPDF"``: one random sample
    minus 0.5; ``"GPDF"``: the sum of seven random samples, drawn as torchaudio draws them),
    rounded and scaled by ``2**-15``; ``noise_shaping`` adds the quantization error delayed
    by one sample. (torchaudio's GPDF writes its running sum into the input sample it started
    from, which its noise shaping then reads; minigrad gives the same output but leaves the
    input unchanged.)"""
    shape = waveform.shape
    x = waveform.reshape(-1, shape[-1])
    channel_size, time_size = x.shape[0] - 1, x.shape[-1] - 1
    channel = _draw(channel_size) if channel_size > 0 else 0
    time = _draw(time_size) if time_size > 0 else 0
    scaled, reference = x * (2**15 - 2), x
    if density_function == "RPDF":
        dithered = scaled + (x[channel][time] - 0.5)
    elif density_function == "GPDF":
        gaussian = x[channel][time]
        for _ in range(6):  # torchaudio's in-place sum: a draw of its first sample reads the sum
            c, t = _draw(channel_size), _draw(time_size)
            gaussian = gaussian + (gaussian if (c, t) == (channel, time) else x[c][t])
        dithered = scaled + gaussian
        where = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
        where[channel, time] = True
        reference = torch.where(where, gaussian, x)  # the sample torchaudio overwrote
    else:
        window = torch.bartlett_window(time_size + 1, dtype=scaled.dtype, device=scaled.device)
        dithered = scaled + window.repeat(channel_size + 1, 1)
    quantized = torch.round(dithered) / 2**15
    if noise_shaping:
        error = quantized - reference
        quantized = quantized + torch.nn.functional.pad(error, (1, 0))[:, : x.shape[-1]]
    return quantized.reshape(tuple(shape[:-1]) + tuple(quantized.shape[-1:]))
