"""torchaudio.functional.vad: SoX's voice-activity detector, which trims the silence (or
noise) before the first speech of a recording. Per measurement period it takes the spectrum
of a Hann-windowed frame, subtracts a running noise spectrum, and measures the cepstral power
in the voice's lifter band; once the smoothed measure passes ``trigger_level`` the audio is
kept from shortly before the trigger on. A host-side state machine, as torchaudio's, in the
same float32 arithmetic."""

from __future__ import annotations

import math

import minigrad as torch

from ..._warnings import warn_user


def _measure(measure_len_ws, samples, spectrum, noise_spectrum, spectrum_window, spectrum_start,
             spectrum_end, cepstrum_window, cepstrum_start, cepstrum_end, noise_reduction_amount,
             measure_smooth_time_mult, noise_up_time_mult, noise_down_time_mult, boot_count):  # fmt: skip
    """One measurement (updating ``spectrum`` and ``noise_spectrum`` in place): 21 plus the
    log mean cepstral power in ``[cepstrum_start, cepstrum_end)``, at least 0."""
    if spectrum.size(-1) != noise_spectrum.size(-1):
        raise ValueError(
            "Expected spectrum size to match noise spectrum size in final dimension."
            f"Found: spectrum size: {spectrum.size()}, noise_spectrum size: {noise_spectrum.size()}"
        )
    dft_len_ws, band = spectrum.size(-1), slice(spectrum_start, spectrum_end)
    buf = torch.zeros(dft_len_ws, device=samples.device)
    buf[:measure_len_ws] = samples * spectrum_window[:measure_len_ws]
    magnitude = torch.fft.rfft(buf)[band].abs()
    mult = boot_count / (1.0 + boot_count) if boot_count >= 0 else measure_smooth_time_mult
    spectrum[band] = spectrum[band] * mult + magnitude * (1 - mult)
    power = spectrum[band] ** 2
    zeros = torch.zeros(spectrum_end - spectrum_start, device=samples.device)
    noise_mult = (
        zeros
        if boot_count >= 0
        else torch.where(power > noise_spectrum[band], noise_up_time_mult, noise_down_time_mult)
    )
    noise_spectrum[band] = noise_spectrum[band] * noise_mult + power * (1 - noise_mult)
    clean = torch.sqrt(torch.max(zeros, power - noise_reduction_amount * noise_spectrum[band]))
    cepstrum = torch.zeros(dft_len_ws >> 1, device=samples.device)
    cepstrum[band] = clean * cepstrum_window
    result = float(torch.sum(torch.fft.rfft(cepstrum)[cepstrum_start:cepstrum_end].abs().pow(2)))
    result = math.log(result / (cepstrum_end - cepstrum_start)) if result > 0 else -math.inf
    return max(0, 21 + result)


def _windows(measure_len_ws, spectrum_start, spectrum_end, device):
    """The spectrum and cepstrum windows: Hann windows scaled by ``2 / sqrt(length)``."""
    spectrum_window = torch.full((measure_len_ws,), 2.0 / math.sqrt(float(measure_len_ws)),
                                 device=device)  # fmt: skip
    spectrum_window = spectrum_window * torch.hann_window(measure_len_ws, device=device)
    width = spectrum_end - spectrum_start
    cepstrum_window = torch.full((width,), 2.0 / math.sqrt(float(spectrum_end) - spectrum_start),
                                 device=device)  # fmt: skip
    return spectrum_window, cepstrum_window * torch.hann_window(width, device=device)


def _flush_count(measures, index, trigger_level, gap_len):
    """How many of the last measures to keep before the trigger (SoX's look-back)."""
    n = len(measures)
    k, j_trigger, j_zero, j = index, n, n, 0
    for j in range(n):
        if measures[k] >= trigger_level and j <= j_trigger + gap_len:
            j_zero = j_trigger = j
        elif measures[k] == 0 and j_trigger >= j_zero:
            j_zero = j
        k = (k + n - 1) % n
    return min(j, j_zero)


def vad(waveform, sample_rate, trigger_level=7.0, trigger_time=0.25, search_time=1.0,
        allowed_gap=0.25, pre_trigger_time=0.0, boot_time=0.35, noise_up_time=0.1,
        noise_down_time=0.01, noise_reduction_amount=1.35, measure_freq=20.0,
        measure_duration=None, measure_smooth_time=0.4, hp_filter_freq=50.0,
        lp_filter_freq=6000.0, hp_lifter_freq=150.0, lp_lifter_freq=2000.0):  # fmt: skip
    """``waveform (channel, time)`` (or ``(time,)``) from just before its first voice
    activity on (SoX's ``vad`` effect; to trim the end, reverse, apply, reverse)."""
    device = waveform.device
    if waveform.ndim > 2:
        warn_user(
            "Expected input tensor dimension of 1 for single channel"
            f" or 2 for multi-channel. Got {waveform.ndim} instead. "
            "Batch semantics is not supported. "
            "Please refer to https://github.com/pytorch/audio/issues/1348"
            " and https://github.com/pytorch/audio/issues/1468."
        )
    measure_duration = 2.0 / measure_freq if measure_duration is None else measure_duration
    measure_len_ws = int(sample_rate * measure_duration + 0.5)
    dft_len_ws = 16
    while dft_len_ws < measure_len_ws:
        dft_len_ws *= 2
    measure_period_ns = int(sample_rate / measure_freq + 0.5)
    measures_len = math.ceil(search_time * measure_freq)
    gap_len = int(allowed_gap * measure_freq + 0.5)
    fixed_pre_trigger_len_ns = int(pre_trigger_time * sample_rate + 0.5)
    samples_len_ns = fixed_pre_trigger_len_ns + measures_len * measure_period_ns + measure_len_ws
    spectrum_start = max(int(hp_filter_freq / sample_rate * dft_len_ws + 0.5), 1)
    spectrum_end = min(int(lp_filter_freq / sample_rate * dft_len_ws + 0.5), dft_len_ws // 2)
    spectrum_window, cepstrum_window = _windows(
        measure_len_ws, spectrum_start, spectrum_end, device
    )
    cepstrum_start = math.ceil(sample_rate * 0.5 / lp_lifter_freq)
    cepstrum_end = min(math.floor(sample_rate * 0.5 / hp_lifter_freq), dft_len_ws // 4)
    if cepstrum_end <= cepstrum_start:
        raise ValueError(
            "Expected cepstrum_start to be smaller than cepstrum_end."
            f"Found: cepstrum_start: {cepstrum_start}, cepstrum_end: {cepstrum_end}."
        )
    noise_up = torch.tensor(math.exp(-1.0 / (noise_up_time * measure_freq)), device=device)
    noise_down = torch.tensor(math.exp(-1.0 / (noise_down_time * measure_freq)), device=device)
    smooth_mult = math.exp(-1.0 / (measure_smooth_time * measure_freq))
    trigger_mult = math.exp(-1.0 / (trigger_time * measure_freq))
    boot_count_max = int(boot_time * measure_freq - 0.5)
    boot_count = measures_index = flushed_len_ns = 0
    shape = waveform.shape
    waveform = waveform.reshape(-1, shape[-1])
    n_channels, length = waveform.shape
    mean_meas = torch.zeros(n_channels, device=device)
    spectrum = torch.zeros(n_channels, dft_len_ws, device=device)
    noise_spectrum = torch.zeros(n_channels, dft_len_ws, device=device)
    measures = torch.zeros(n_channels, measures_len, device=device)
    has_triggered, num_to_flush, pos = False, 0, 0
    for pos in range(measure_len_ws, length, measure_period_ns):
        for i in range(n_channels):
            meas = _measure(measure_len_ws, waveform[i, pos - measure_len_ws : pos], spectrum[i],
                            noise_spectrum[i], spectrum_window, spectrum_start, spectrum_end,
                            cepstrum_window, cepstrum_start, cepstrum_end, noise_reduction_amount,
                            smooth_mult, noise_up, noise_down, boot_count)  # fmt: skip
            measures[i, measures_index] = meas
            mean_meas[i] = mean_meas[i] * trigger_mult + meas * (1.0 - trigger_mult)
            has_triggered = has_triggered or bool(mean_meas[i] >= trigger_level)
            if has_triggered:
                j = _flush_count(measures[i].tolist(), measures_index, trigger_level, gap_len)
                num_to_flush = min(max(num_to_flush, j), measures_len)
        measures_index = (measures_index + 1) % measures_len
        if boot_count >= 0:
            boot_count = -1 if boot_count == boot_count_max else boot_count + 1
        if has_triggered:
            flushed_len_ns = (measures_len - num_to_flush) * measure_period_ns
            break
    if not has_triggered and shape[-1] >= fixed_pre_trigger_len_ns:
        return waveform[..., :fixed_pre_trigger_len_ns].reshape(
            tuple(shape[:-1]) + (fixed_pre_trigger_len_ns,)
        )
    res = waveform[:, max(pos - samples_len_ns + flushed_len_ns, 0) :]
    return res.reshape(tuple(shape[:-1]) + tuple(res.shape[-1:]))
