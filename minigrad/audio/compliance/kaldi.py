"""``torchaudio.compliance.kaldi`` on minigrad: Kaldi's ``compute-spectrogram-feats``,
``compute-fbank-feats`` and ``compute-mfcc-feats`` (the features speaker-verification and
Kaldi-trained recipes expect) with their options and defaults: povey/hamming/hanning/
rectangular/blackman windows, DC removal, pre-emphasis, dither, raw or windowed log energy,
power-of-two FFT padding, ``snip_edges``, VTLN-warped mel banks, DCT + liftering. Frames are
``unfold`` windows (torchaudio takes ``as_strided`` views); the rest follows torchaudio 2.11
op for op, so the numbers are its."""

from __future__ import annotations

import math

import minigrad as torch

from ..functional import create_dct

__all__ = [
    "get_mel_banks", "inverse_mel_scale", "inverse_mel_scale_scalar", "mel_scale",
    "mel_scale_scalar", "spectrogram", "fbank", "mfcc", "vtln_warp_freq", "vtln_warp_mel_freq",
]  # fmt: skip

MILLISECONDS_TO_SECONDS = 0.001
HAMMING, HANNING, POVEY, RECTANGULAR, BLACKMAN = (
    "hamming",
    "hanning",
    "povey",
    "rectangular",
    "blackman",
)
WINDOWS = [HAMMING, HANNING, POVEY, RECTANGULAR, BLACKMAN]


def _get_epsilon(device, dtype):
    """float32's machine epsilon (Kaldi's floor for logs), in ``dtype``."""
    return torch.tensor(torch.finfo(torch.float).eps, device=device, dtype=dtype)


def _next_power_of_2(x: int) -> int:
    return 1 if x == 0 else 2 ** (x - 1).bit_length()


def _get_strided(waveform, window_size, window_shift, snip_edges):
    """The ``(frames, window_size)`` frames of 1-D ``waveform``: whole windows only with
    ``snip_edges``, else ``round(n / shift)`` frames over the signal reflected at its ends."""
    num_samples = waveform.size(0)
    if snip_edges:
        if num_samples < window_size:
            return torch.empty((0, 0), dtype=waveform.dtype, device=waveform.device)
        m = 1 + (num_samples - window_size) // window_shift
    else:
        reversed_waveform = torch.flip(waveform, [0])
        m = (num_samples + window_shift // 2) // window_shift
        pad = window_size // 2 - window_shift // 2
        if pad > 0:
            waveform = torch.cat((reversed_waveform[-pad:], waveform, reversed_waveform), dim=0)
        else:
            waveform = torch.cat((waveform[-pad:], reversed_waveform), dim=0)
    return waveform.unfold(0, window_size, window_shift)[:m]


def _feature_window_function(window_type, window_size, blackman_coeff, device, dtype):
    """Kaldi's window functions (symmetric)."""
    if window_type == HANNING:
        return torch.hann_window(window_size, periodic=False, device=device, dtype=dtype)
    if window_type == HAMMING:
        return torch.hamming_window(window_size, periodic=False, alpha=0.54, beta=0.46,
                                    device=device, dtype=dtype)  # fmt: skip
    if window_type == POVEY:
        return torch.hann_window(window_size, periodic=False, device=device, dtype=dtype).pow(0.85)
    if window_type == RECTANGULAR:
        return torch.ones(window_size, device=device, dtype=dtype)
    if window_type == BLACKMAN:
        a = 2 * math.pi / (window_size - 1)
        n = torch.arange(window_size, device=device, dtype=dtype)
        return (blackman_coeff - 0.5 * torch.cos(a * n)
                + (0.5 - blackman_coeff) * torch.cos(2 * a * n)).to(device=device, dtype=dtype)  # fmt: skip
    raise Exception("Invalid window type " + window_type)  # (torchaudio's exception)


def _get_log_energy(strided_input, epsilon, energy_floor):
    log_energy = torch.max(strided_input.pow(2).sum(1), epsilon).log()
    if energy_floor == 0.0:
        return log_energy
    floor = torch.tensor(
        math.log(energy_floor), device=strided_input.device, dtype=strided_input.dtype
    )
    return torch.max(log_energy, floor)


def _get_waveform_and_window_properties(waveform, channel, sample_frequency, frame_shift,
                                        frame_length, round_to_power_of_two,
                                        preemphasis_coefficient):  # fmt: skip
    """The channel's samples and the window shift, size and padded size in samples, checked
    as torchaudio checks them (assertions)."""
    channel = max(channel, 0)
    assert channel < waveform.size(0), f"Invalid channel {channel} for size {waveform.size(0)}"
    waveform = waveform[channel, :]
    window_shift = int(sample_frequency * frame_shift * MILLISECONDS_TO_SECONDS)
    window_size = int(sample_frequency * frame_length * MILLISECONDS_TO_SECONDS)
    padded_window_size = _next_power_of_2(window_size) if round_to_power_of_two else window_size
    assert 2 <= window_size <= len(waveform), (
        f"choose a window size {window_size} that is [2, {len(waveform)}]"
    )
    assert 0 < window_shift, "`window_shift` must be greater than 0"
    assert padded_window_size % 2 == 0, (
        "the padded `window_size` must be divisible by two. use `round_to_power_of_two` or change "
        "`frame_length`"
    )
    assert 0.0 <= preemphasis_coefficient <= 1.0, "`preemphasis_coefficient` must be between [0,1]"
    assert sample_frequency > 0, "`sample_frequency` must be greater than zero"
    return waveform, window_shift, window_size, padded_window_size


def _get_window(waveform, padded_window_size, window_size, window_shift, window_type,
                blackman_coeff, snip_edges, raw_energy, energy_floor, dither, remove_dc_offset,
                preemphasis_coefficient):  # fmt: skip
    """Windowed frames ``(m, padded_window_size)`` and their log energies ``(m,)``."""
    device, dtype = waveform.device, waveform.dtype
    epsilon = _get_epsilon(device, dtype)
    frames = _get_strided(waveform, window_size, window_shift, snip_edges)
    if dither != 0.0:
        frames = frames + torch.randn(frames.shape, device=device, dtype=dtype) * dither
    if remove_dc_offset:
        frames = frames - torch.mean(frames, dim=1).unsqueeze(1)
    if raw_energy:
        signal_log_energy = _get_log_energy(frames, epsilon, energy_floor)
    if preemphasis_coefficient != 0.0:
        shifted = torch.nn.functional.pad(frames.unsqueeze(0), (1, 0), mode="replicate").squeeze(0)
        frames = frames - preemphasis_coefficient * shifted[:, :-1]
    window = _feature_window_function(window_type, window_size, blackman_coeff, device, dtype)
    frames = frames * window.unsqueeze(0)
    if padded_window_size != window_size:
        frames = torch.nn.functional.pad(frames, (0, padded_window_size - window_size))
    if not raw_energy:
        signal_log_energy = _get_log_energy(frames, epsilon, energy_floor)
    return frames, signal_log_energy


def _subtract_column_mean(tensor, subtract_mean):
    return tensor - torch.mean(tensor, dim=0).unsqueeze(0) if subtract_mean else tensor


def spectrogram(waveform, blackman_coeff=0.42, channel=-1, dither=0.0, energy_floor=1.0,
                frame_length=25.0, frame_shift=10.0, min_duration=0.0,
                preemphasis_coefficient=0.97, raw_energy=True, remove_dc_offset=True,
                round_to_power_of_two=True, sample_frequency=16000.0, snip_edges=True,
                subtract_mean=False, window_type=POVEY):  # fmt: skip
    """Kaldi's log power spectrogram ``(frames, padded_window_size // 2 + 1)`` of
    ``waveform (channel, time)``, column 0 the frames' log energy."""
    epsilon = _get_epsilon(waveform.device, waveform.dtype)
    waveform, window_shift, window_size, padded_window_size = _get_waveform_and_window_properties(
        waveform, channel, sample_frequency, frame_shift, frame_length, round_to_power_of_two,
        preemphasis_coefficient,
    )  # fmt: skip
    if len(waveform) < min_duration * sample_frequency:
        return torch.empty(0)
    frames, signal_log_energy = _get_window(
        waveform, padded_window_size, window_size, window_shift, window_type, blackman_coeff,
        snip_edges, raw_energy, energy_floor, dither, remove_dc_offset, preemphasis_coefficient,
    )  # fmt: skip
    power = torch.max(torch.fft.rfft(frames).abs().pow(2.0), epsilon).log()
    power = torch.cat([signal_log_energy.unsqueeze(1), power[:, 1:]], dim=1)
    return _subtract_column_mean(power, subtract_mean)


def inverse_mel_scale_scalar(mel_freq: float) -> float:
    return 700.0 * (math.exp(mel_freq / 1127.0) - 1.0)


def inverse_mel_scale(mel_freq):
    return 700.0 * ((mel_freq / 1127.0).exp() - 1.0)


def mel_scale_scalar(freq: float) -> float:
    return 1127.0 * math.log(1.0 + freq / 700.0)


def mel_scale(freq):
    return 1127.0 * (1.0 + freq / 700.0).log()


def vtln_warp_freq(vtln_low_cutoff, vtln_high_cutoff, low_freq, high_freq, vtln_warp_factor, freq):
    """Kaldi's piecewise-linear VTLN frequency warp (identity outside [low, high])."""
    assert vtln_low_cutoff > low_freq, "be sure to set the vtln_low option higher than low_freq"
    assert vtln_high_cutoff < high_freq, (
        "be sure to set the vtln_high option lower than high_freq [or negative]"
    )
    low = vtln_low_cutoff * max(1.0, vtln_warp_factor)
    high = vtln_high_cutoff * min(1.0, vtln_warp_factor)
    scale = 1.0 / vtln_warp_factor
    f_low, f_high = scale * low, scale * high
    assert low > low_freq and high < high_freq
    scale_left = (f_low - low_freq) / (low - low_freq)
    scale_right = (high_freq - f_high) / (high_freq - high)
    res = torch.where(torch.ge(freq, high), high_freq + scale_right * (freq - high_freq), freq)
    res = torch.where(torch.lt(freq, high), scale * freq, res)
    res = torch.where(torch.lt(freq, low), low_freq + scale_left * (freq - low_freq), res)
    outside = torch.lt(freq, low_freq) | torch.gt(freq, high_freq)
    return torch.where(outside, freq, res)


def vtln_warp_mel_freq(vtln_low_cutoff, vtln_high_cutoff, low_freq, high_freq, vtln_warp_factor,
                       mel_freq):  # fmt: skip
    """:func:`vtln_warp_freq` on the mel scale."""
    return mel_scale(vtln_warp_freq(vtln_low_cutoff, vtln_high_cutoff, low_freq, high_freq,
                                    vtln_warp_factor, inverse_mel_scale(mel_freq)))  # fmt: skip


def get_mel_banks(num_bins, window_length_padded, sample_freq, low_freq, high_freq, vtln_low,
                  vtln_high, vtln_warp_factor):  # fmt: skip
    """Kaldi's triangular mel banks ``(num_bins, window_length_padded // 2)`` and their
    centre frequencies ``(num_bins,)`` (float32, as torchaudio's)."""
    assert num_bins > 3, "Must have at least 3 mel bins"
    assert window_length_padded % 2 == 0
    num_fft_bins = window_length_padded / 2
    nyquist = 0.5 * sample_freq
    if high_freq <= 0.0:
        high_freq += nyquist
    assert (
        (0.0 <= low_freq < nyquist) and (0.0 < high_freq <= nyquist) and (low_freq < high_freq)
    ), f"Bad values in options: low-freq {low_freq} and high-freq {high_freq} vs. nyquist {nyquist}"
    fft_bin_width = sample_freq / window_length_padded
    mel_low_freq, mel_high_freq = mel_scale_scalar(low_freq), mel_scale_scalar(high_freq)
    mel_freq_delta = (mel_high_freq - mel_low_freq) / (num_bins + 1)
    if vtln_high < 0.0:
        vtln_high += nyquist
    assert vtln_warp_factor == 1.0 or (
        (low_freq < vtln_low < high_freq)
        and (0.0 < vtln_high < high_freq)
        and (vtln_low < vtln_high)
    ), (
        f"Bad values in options: vtln-low {vtln_low} and vtln-high {vtln_high}, versus "
        f"low-freq {low_freq} and high-freq {high_freq}"
    )
    bins = torch.arange(num_bins).unsqueeze(1)
    left_mel = mel_low_freq + bins * mel_freq_delta
    center_mel = mel_low_freq + (bins + 1.0) * mel_freq_delta
    right_mel = mel_low_freq + (bins + 2.0) * mel_freq_delta
    if vtln_warp_factor != 1.0:
        warp = (vtln_low, vtln_high, low_freq, high_freq, vtln_warp_factor)
        left_mel = vtln_warp_mel_freq(*warp, left_mel)
        center_mel = vtln_warp_mel_freq(*warp, center_mel)
        right_mel = vtln_warp_mel_freq(*warp, right_mel)
    center_freqs = inverse_mel_scale(center_mel)
    mel = mel_scale(fft_bin_width * torch.arange(num_fft_bins)).unsqueeze(0)
    up_slope = (mel - left_mel) / (center_mel - left_mel)
    down_slope = (right_mel - mel) / (right_mel - center_mel)
    if vtln_warp_factor == 1.0:
        banks = torch.max(torch.zeros(1), torch.min(up_slope, down_slope))
    else:
        up = torch.gt(mel, left_mel) & torch.le(mel, center_mel)
        down = torch.gt(mel, center_mel) & torch.lt(mel, right_mel)
        zeros = torch.zeros_like(up_slope)
        banks = torch.where(up, up_slope, torch.where(down, down_slope, zeros))
    return banks, center_freqs


def fbank(waveform, blackman_coeff=0.42, channel=-1, dither=0.0, energy_floor=1.0,
          frame_length=25.0, frame_shift=10.0, high_freq=0.0, htk_compat=False, low_freq=20.0,
          min_duration=0.0, num_mel_bins=23, preemphasis_coefficient=0.97, raw_energy=True,
          remove_dc_offset=True, round_to_power_of_two=True, sample_frequency=16000.0,
          snip_edges=True, subtract_mean=False, use_energy=False, use_log_fbank=True,
          use_power=True, vtln_high=-500.0, vtln_low=100.0, vtln_warp=1.0, window_type=POVEY):  # fmt: skip
    """Kaldi's (log) mel filter-bank energies ``(frames, num_mel_bins)`` of ``waveform
    (channel, time)`` (plus the log energy column with ``use_energy``)."""
    device, dtype = waveform.device, waveform.dtype
    waveform, window_shift, window_size, padded_window_size = _get_waveform_and_window_properties(
        waveform, channel, sample_frequency, frame_shift, frame_length, round_to_power_of_two,
        preemphasis_coefficient,
    )  # fmt: skip
    if len(waveform) < min_duration * sample_frequency:
        return torch.empty(0, device=device, dtype=dtype)
    frames, signal_log_energy = _get_window(
        waveform, padded_window_size, window_size, window_shift, window_type, blackman_coeff,
        snip_edges, raw_energy, energy_floor, dither, remove_dc_offset, preemphasis_coefficient,
    )  # fmt: skip
    spectrum = torch.fft.rfft(frames).abs()
    if use_power:
        spectrum = spectrum.pow(2.0)
    banks, _ = get_mel_banks(num_mel_bins, padded_window_size, sample_frequency, low_freq,
                             high_freq, vtln_low, vtln_high, vtln_warp)  # fmt: skip
    banks = torch.nn.functional.pad(banks.to(device=device, dtype=dtype), (0, 1))
    energies = torch.mm(spectrum, banks.T)
    if use_log_fbank:
        energies = torch.max(energies, _get_epsilon(device, dtype)).log()
    if use_energy:
        log_energy = signal_log_energy.unsqueeze(1)
        parts = (energies, log_energy) if htk_compat else (log_energy, energies)
        energies = torch.cat(parts, dim=1)
    return _subtract_column_mean(energies, subtract_mean)


def _get_dct_matrix(num_ceps, num_mel_bins):
    dct = create_dct(num_mel_bins, num_mel_bins, "ortho")
    dct[:, 0] = math.sqrt(1 / float(num_mel_bins))
    return dct[:, :num_ceps]


def _get_lifter_coeffs(num_ceps, cepstral_lifter):
    i = torch.arange(num_ceps)
    return 1.0 + 0.5 * cepstral_lifter * torch.sin(math.pi * i / cepstral_lifter)


def mfcc(waveform, blackman_coeff=0.42, cepstral_lifter=22.0, channel=-1, dither=0.0,
         energy_floor=1.0, frame_length=25.0, frame_shift=10.0, high_freq=0.0, htk_compat=False,
         low_freq=20.0, num_ceps=13, min_duration=0.0, num_mel_bins=23,
         preemphasis_coefficient=0.97, raw_energy=True, remove_dc_offset=True,
         round_to_power_of_two=True, sample_frequency=16000.0, snip_edges=True,
         subtract_mean=False, use_energy=False, vtln_high=-500.0, vtln_low=100.0, vtln_warp=1.0,
         window_type=POVEY):  # fmt: skip
    """Kaldi's MFCCs ``(frames, num_ceps)``: log mel energies, DCT, liftering (the first
    coefficient replaced by the log energy with ``use_energy``; last with ``htk_compat``)."""
    assert num_ceps <= num_mel_bins, (
        f"num_ceps cannot be larger than num_mel_bins: {num_ceps} vs {num_mel_bins}"
    )
    device, dtype = waveform.device, waveform.dtype
    feature = fbank(
        waveform=waveform, blackman_coeff=blackman_coeff, channel=channel, dither=dither,
        energy_floor=energy_floor, frame_length=frame_length, frame_shift=frame_shift,
        high_freq=high_freq, htk_compat=htk_compat, low_freq=low_freq, min_duration=min_duration,
        num_mel_bins=num_mel_bins, preemphasis_coefficient=preemphasis_coefficient,
        raw_energy=raw_energy, remove_dc_offset=remove_dc_offset,
        round_to_power_of_two=round_to_power_of_two, sample_frequency=sample_frequency,
        snip_edges=snip_edges, subtract_mean=False, use_energy=use_energy, use_log_fbank=True,
        use_power=True, vtln_high=vtln_high, vtln_low=vtln_low, vtln_warp=vtln_warp,
        window_type=window_type,
    )  # fmt: skip
    if use_energy:
        signal_log_energy = feature[:, num_mel_bins if htk_compat else 0]
        offset = int(not htk_compat)
        feature = feature[:, offset : num_mel_bins + offset]
    feature = feature.matmul(_get_dct_matrix(num_ceps, num_mel_bins).to(dtype=dtype, device=device))
    if cepstral_lifter != 0.0:
        lifter = _get_lifter_coeffs(num_ceps, cepstral_lifter).unsqueeze(0)
        feature = feature * lifter.to(device=device, dtype=dtype)
    if use_energy:
        feature = torch.cat([signal_log_energy.unsqueeze(1), feature[:, 1:]], dim=1)
    if htk_compat:
        energy = feature[:, :1]
        if not use_energy:
            energy = energy * math.sqrt(2)
        feature = torch.cat((feature[:, 1:], energy), dim=1)
    return _subtract_column_mean(feature, subtract_mean)
