"""torchaudio.transforms as ``nn.Module``s over :mod:`minigrad.audio.functional`, with
torchaudio's constructor arguments, attributes and buffers (so their state_dict keys match:
``MelSpectrogram`` holds ``spectrogram.window`` and ``mel_scale.fb``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import minigrad as torch
from minigrad import nn

from ..._warnings import warn_user
from .. import functional as F
from ..functional._convolve import _check_convolve_mode
from ..functional._resample import (
    _apply_sinc_resample_kernel,
    _sinc_resample_kernel,
    _source_target_sample_rate,
)


def _window(window_fn, win_length, wkwargs):
    return window_fn(win_length) if wkwargs is None else window_fn(win_length, **wkwargs)


class Spectrogram(nn.Module):
    """Spectrogram ``(..., n_fft // 2 + 1, frames)`` of a waveform ``(..., time)``
    (:func:`~minigrad.audio.functional.spectrogram`); buffer ``window``."""

    def __init__(self, n_fft: int = 400, win_length=None, hop_length=None, pad: int = 0,
                 window_fn: Callable = torch.hann_window, power=2.0, normalized=False,
                 wkwargs=None, center=True, pad_mode="reflect", onesided=True,
                 return_complex=None):  # fmt: skip
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs))
        self.pad, self.power, self.normalized = pad, power, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided
        if return_complex is not None:
            warn_user(
                "`return_complex` argument is now deprecated and is not effective."
                "`torchaudio.transforms.Spectrogram(power=None)` always returns a tensor with "
                "complex dtype. Please remove the argument in the function call."
            )

    def forward(self, waveform):
        return F.spectrogram(waveform, self.pad, self.window, self.n_fft, self.hop_length,
                             self.win_length, self.power, self.normalized, self.center,
                             self.pad_mode, self.onesided)  # fmt: skip


class InverseSpectrogram(nn.Module):
    """Waveform from a complex spectrogram (:func:`~minigrad.audio.functional.inverse_spectrogram`)."""

    def __init__(self, n_fft: int = 400, win_length=None, hop_length=None, pad: int = 0,
                 window_fn: Callable = torch.hann_window, normalized=False, wkwargs=None,
                 center=True, pad_mode="reflect", onesided=True):  # fmt: skip
        super().__init__()
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs))
        self.pad, self.normalized = pad, normalized
        self.center, self.pad_mode, self.onesided = center, pad_mode, onesided

    def forward(self, spectrogram, length=None):
        return F.inverse_spectrogram(spectrogram, length, self.pad, self.window, self.n_fft,
                                     self.hop_length, self.win_length, self.normalized,
                                     self.center, self.pad_mode, self.onesided)  # fmt: skip


class GriffinLim(nn.Module):
    """Waveform from a magnitude spectrogram (:func:`~minigrad.audio.functional.griffinlim`)."""

    def __init__(self, n_fft: int = 400, n_iter: int = 32, win_length=None, hop_length=None,
                 window_fn: Callable = torch.hann_window, power: float = 2.0, wkwargs=None,
                 momentum: float = 0.99, length=None, rand_init: bool = True):  # fmt: skip
        super().__init__()
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in the range [0, 1). Found: {momentum}")
        self.n_fft, self.n_iter = n_fft, n_iter
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs))
        self.length, self.power, self.momentum, self.rand_init = length, power, momentum, rand_init

    def forward(self, specgram):
        return F.griffinlim(specgram, self.window, self.n_fft, self.hop_length, self.win_length,
                            self.power, self.n_iter, self.momentum, self.length,
                            self.rand_init)  # fmt: skip


class AmplitudeToDB(nn.Module):
    """Power (``stype="power"``) or amplitude spectrogram to decibels, floored ``top_db``
    below the peak (:func:`~minigrad.audio.functional.amplitude_to_DB`)."""

    def __init__(self, stype: str = "power", top_db=None):
        super().__init__()
        if top_db is not None and top_db < 0:
            raise ValueError("top_db must be positive value")
        self.stype, self.top_db = stype, top_db
        self.multiplier = 10.0 if stype == "power" else 20.0
        self.amin, self.ref_value = 1e-10, 1.0
        self.db_multiplier = math.log10(max(self.amin, self.ref_value))

    def forward(self, x):
        return F.amplitude_to_DB(x, self.multiplier, self.amin, self.db_multiplier, self.top_db)


class MelScale(nn.Module):
    """A spectrogram ``(..., n_stft, time)`` to mel bins ``(..., n_mels, time)``; buffer
    ``fb`` (:func:`~minigrad.audio.functional.melscale_fbanks`)."""

    def __init__(self, n_mels: int = 128, sample_rate: int = 16000, f_min: float = 0.0,
                 f_max=None, n_stft: int = 201, norm=None, mel_scale: str = "htk"):  # fmt: skip
        super().__init__()
        self.n_mels, self.sample_rate, self.f_min, self.n_stft = n_mels, sample_rate, f_min, n_stft
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.norm, self.mel_scale = norm, mel_scale
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        fb = F.melscale_fbanks(n_stft, self.f_min, self.f_max, n_mels, sample_rate, norm,
                               mel_scale)  # fmt: skip
        self.register_buffer("fb", fb)

    def forward(self, specgram):
        return torch.matmul(specgram.transpose(-1, -2), self.fb).transpose(-1, -2)


class MelSpectrogram(nn.Module):
    """Mel spectrogram ``(..., n_mels, frames)`` of a waveform: :class:`Spectrogram` then
    :class:`MelScale` (submodules ``spectrogram`` and ``mel_scale``, as torchaudio).

    Example:
        >>> MelSpectrogram(sample_rate=16000, n_fft=400, n_mels=64)(torch.randn(1, 16000)).shape
        torch.Size([1, 64, 81])
    """

    def __init__(self, sample_rate: int = 16000, n_fft: int = 400, win_length=None,
                 hop_length=None, f_min: float = 0.0, f_max=None, pad: int = 0,
                 n_mels: int = 128, window_fn: Callable = torch.hann_window, power: float = 2.0,
                 normalized: bool = False, wkwargs=None, center: bool = True,
                 pad_mode: str = "reflect", onesided=None, norm=None,
                 mel_scale: str = "htk"):  # fmt: skip
        super().__init__()
        if onesided is not None:
            warn_user(
                "Argument 'onesided' has been deprecated and has no influence on the behavior "
                "of this module."
            )
        self.sample_rate, self.n_fft = sample_rate, n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.pad, self.power, self.normalized = pad, power, normalized
        self.n_mels, self.f_max, self.f_min = n_mels, f_max, f_min
        self.spectrogram = Spectrogram(
            n_fft=n_fft, win_length=self.win_length, hop_length=self.hop_length, pad=pad,
            window_fn=window_fn, power=power, normalized=normalized, wkwargs=wkwargs,
            center=center, pad_mode=pad_mode, onesided=True,
        )  # fmt: skip
        self.mel_scale = MelScale(n_mels, sample_rate, f_min, f_max, n_fft // 2 + 1, norm,
                                  mel_scale)  # fmt: skip

    def forward(self, waveform):
        return self.mel_scale(self.spectrogram(waveform))


def _check_dct_type(dct_type):
    if dct_type != 2:
        raise ValueError(f"DCT type not supported: {dct_type}")


class MFCC(nn.Module):
    """Mel-frequency cepstral coefficients ``(..., n_mfcc, frames)``: the DCT (buffer
    ``dct_mat``) of the dB (or log, ``log_mels``) mel spectrogram (submodule
    ``MelSpectrogram``, built from ``melkwargs``)."""

    def __init__(self, sample_rate: int = 16000, n_mfcc: int = 40, dct_type: int = 2,
                 norm: str = "ortho", log_mels: bool = False, melkwargs=None):  # fmt: skip
        super().__init__()
        _check_dct_type(dct_type)
        self.sample_rate, self.n_mfcc, self.dct_type, self.norm = (
            sample_rate,
            n_mfcc,
            dct_type,
            norm,
        )
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.MelSpectrogram = MelSpectrogram(sample_rate=sample_rate, **(melkwargs or {}))
        if n_mfcc > self.MelSpectrogram.n_mels:
            raise ValueError("Cannot select more MFCC coefficients than # mel bins")
        self.register_buffer("dct_mat", F.create_dct(n_mfcc, self.MelSpectrogram.n_mels, norm))
        self.log_mels = log_mels

    def forward(self, waveform):
        mel = self.MelSpectrogram(waveform)
        mel = torch.log(mel + 1e-6) if self.log_mels else self.amplitude_to_DB(mel)
        return torch.matmul(mel.transpose(-1, -2), self.dct_mat).transpose(-1, -2)


class LFCC(nn.Module):
    """Linear-frequency cepstral coefficients ``(..., n_lfcc, frames)``: the DCT (buffer
    ``dct_mat``) of the dB (or log) linear filter-bank energies (buffer ``filter_mat``) of a
    spectrogram (submodule ``Spectrogram``, built from ``speckwargs``)."""

    def __init__(self, sample_rate: int = 16000, n_filter: int = 128, f_min: float = 0.0,
                 f_max=None, n_lfcc: int = 40, dct_type: int = 2, norm: str = "ortho",
                 log_lf: bool = False, speckwargs=None):  # fmt: skip
        super().__init__()
        _check_dct_type(dct_type)
        self.sample_rate, self.f_min = sample_rate, f_min
        self.f_max = f_max if f_max is not None else float(sample_rate // 2)
        self.n_filter, self.n_lfcc, self.dct_type, self.norm = n_filter, n_lfcc, dct_type, norm
        self.top_db = 80.0
        self.amplitude_to_DB = AmplitudeToDB("power", self.top_db)
        self.Spectrogram = Spectrogram(**(speckwargs or {}))
        if n_lfcc > self.Spectrogram.n_fft:
            raise ValueError("Cannot select more LFCC coefficients than # fft bins")
        filter_mat = F.linear_fbanks(self.Spectrogram.n_fft // 2 + 1, self.f_min, self.f_max,
                                     n_filter, sample_rate)  # fmt: skip
        self.register_buffer("filter_mat", filter_mat)
        self.register_buffer("dct_mat", F.create_dct(n_lfcc, n_filter, norm))
        self.log_lf = log_lf

    def forward(self, waveform):
        spec = self.Spectrogram(waveform)
        spec = torch.matmul(spec.transpose(-1, -2), self.filter_mat).transpose(-1, -2)
        spec = torch.log(spec + 1e-6) if self.log_lf else self.amplitude_to_DB(spec)
        return torch.matmul(spec.transpose(-1, -2), self.dct_mat).transpose(-1, -2)


class MuLawEncoding(nn.Module):
    """Mu-law companding to ``quantization_channels`` codes."""

    def __init__(self, quantization_channels: int = 256):
        super().__init__()
        self.quantization_channels = quantization_channels

    def forward(self, x):
        return F.mu_law_encoding(x, self.quantization_channels)


class MuLawDecoding(MuLawEncoding):
    """Mu-law codes back to a signal in [-1, 1]."""

    def forward(self, x_mu):
        return F.mu_law_decoding(x_mu, self.quantization_channels)


class Resample(nn.Module):
    """Resample from ``orig_freq`` to ``new_freq`` with a kernel computed once (buffer
    ``kernel``; float32 unless ``dtype``), :func:`~minigrad.audio.functional.resample`'s."""

    def __init__(self, orig_freq: int = 16000, new_freq: int = 16000,
                 resampling_method: str = "sinc_interp_hann", lowpass_filter_width: int = 6,
                 rolloff: float = 0.99, beta=None, *, dtype=None):  # fmt: skip
        super().__init__()
        self.orig_freq, self.new_freq = orig_freq, new_freq
        self.gcd = math.gcd(int(orig_freq), int(new_freq))
        self.resampling_method = resampling_method
        self.lowpass_filter_width, self.rolloff, self.beta = lowpass_filter_width, rolloff, beta
        if orig_freq != new_freq:
            kernel, self.width = _sinc_resample_kernel(
                orig_freq, new_freq, self.gcd, lowpass_filter_width, rolloff, resampling_method,
                beta, dtype=dtype,
            )  # fmt: skip
            self.register_buffer("kernel", kernel)

    def forward(self, waveform):
        if self.orig_freq == self.new_freq:
            return waveform
        return _apply_sinc_resample_kernel(waveform, self.orig_freq, self.new_freq, self.gcd,
                                           self.kernel, self.width)  # fmt: skip


class PitchShift(nn.modules.LazyModuleMixin, nn.Module):
    """Shift the pitch by ``n_steps`` (:func:`~minigrad.audio.functional.pitch_shift`) with
    buffer ``window`` and, as torchaudio, the resampling ``kernel`` a lazy parameter made in
    the input's dtype on the first call."""

    def __init__(self, sample_rate: int, n_steps, bins_per_octave: int = 12, n_fft: int = 512,
                 win_length=None, hop_length=None, window_fn: Callable = torch.hann_window,
                 wkwargs=None):  # fmt: skip
        super().__init__()
        self.n_steps, self.bins_per_octave, self.sample_rate = n_steps, bins_per_octave, sample_rate
        self.n_fft = n_fft
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 4
        window = window_fn(self.win_length, **(wkwargs or {}))
        self.register_buffer("window", window)
        rate = 2.0 ** (-float(n_steps) / bins_per_octave)
        self.orig_freq = int(sample_rate / rate)
        self.gcd = math.gcd(int(self.orig_freq), int(sample_rate))
        if self.orig_freq != sample_rate:
            self.width = -1
            self.kernel = nn.UninitializedParameter(device=None, dtype=None)

    def initialize_parameters(self, waveform):
        """Make the resampling kernel in ``waveform``'s dtype (on the first call)."""
        if self.has_uninitialized_params() and self.orig_freq != self.sample_rate:
            with torch.no_grad():
                kernel, self.width = _sinc_resample_kernel(
                    self.orig_freq, self.sample_rate, self.gcd, dtype=waveform.dtype,
                    device=waveform.device,
                )  # fmt: skip
                self.kernel.materialize(kernel.shape)
                self.kernel.copy_(kernel)

    def forward(self, waveform):
        from ..functional.functional import _fix_waveform_shape, _stretch_waveform

        stretched = _stretch_waveform(waveform, self.n_steps, self.bins_per_octave, self.n_fft,
                                      self.win_length, self.hop_length, self.window)  # fmt: skip
        if self.orig_freq == self.sample_rate:
            return _fix_waveform_shape(stretched, waveform.shape)
        shifted = _apply_sinc_resample_kernel(stretched, self.orig_freq, self.sample_rate,
                                              self.gcd, self.kernel, self.width)  # fmt: skip
        return _fix_waveform_shape(shifted, waveform.shape)


class Speed(nn.Module):
    """Play ``factor`` times faster (:func:`~minigrad.audio.functional.speed`) with the
    resampler built once (submodule ``resampler``); returns ``(waveform, lengths)``."""

    def __init__(self, orig_freq, factor):
        super().__init__()
        self.orig_freq, self.factor = orig_freq, factor
        self.source_sample_rate, self.target_sample_rate = _source_target_sample_rate(
            orig_freq, factor
        )
        self.resampler = Resample(orig_freq=self.source_sample_rate,
                                  new_freq=self.target_sample_rate)  # fmt: skip

    def forward(self, waveform, lengths=None):
        out_lengths = None
        if lengths is not None:
            ratio = self.target_sample_rate / self.source_sample_rate
            out_lengths = torch.ceil(lengths * ratio).to(lengths.dtype)
        return self.resampler(waveform), out_lengths


class SpeedPerturbation(nn.Module):
    """:class:`Speed` by one of ``factors``, drawn per call from the global generator
    (``torch.randint``, as torchaudio, so the same draws under one seed)."""

    def __init__(self, orig_freq, factors):
        super().__init__()
        self.speeders = nn.ModuleList([Speed(orig_freq=orig_freq, factor=f) for f in factors])

    def forward(self, waveform, lengths=None):
        idx = int(torch.randint(len(self.speeders), ()))
        return self.speeders[idx](waveform, lengths)


class InverseMelScale(nn.Module):
    """Linear-frequency spectrogram from a mel one: the least-squares solution of
    ``fb^T X = melspec`` (``torch.linalg.lstsq``), clipped at 0; buffer ``fb``."""

    def __init__(self, n_stft, n_mels=128, sample_rate=16000, f_min=0.0, f_max=None, norm=None,
                 mel_scale="htk", driver="gels"):  # fmt: skip
        super().__init__()
        self.n_stft, self.n_mels, self.sample_rate = n_stft, n_mels, sample_rate
        self.f_max = f_max or float(sample_rate // 2)
        self.f_min, self.norm, self.mel_scale, self.driver = f_min, norm, mel_scale, driver
        if f_min > self.f_max:
            raise ValueError(f"Require f_min: {f_min} <= f_max: {self.f_max}")
        if driver not in ["gels", "gelsy", "gelsd", "gelss"]:
            raise ValueError(
                f'driver must be one of ["gels", "gelsy", "gelsd", "gelss"]. Found {driver}.'
            )
        fb = F.melscale_fbanks(n_stft, f_min, self.f_max, n_mels, sample_rate, norm, mel_scale)
        self.register_buffer("fb", fb)

    def forward(self, melspec):
        shape = melspec.shape
        melspec = melspec.reshape(-1, shape[-2], shape[-1])
        if self.n_mels != shape[-2]:
            raise ValueError(f"Expected an input with {self.n_mels} mel bins. Found: {shape[-2]}")
        fb_t = self.fb.transpose(-1, -2)[None].expand(melspec.shape[0], -1, -1)
        specgram = torch.relu(torch.linalg.lstsq(fb_t, melspec, driver=self.driver).solution)
        return specgram.reshape(tuple(shape[:-2]) + (self.fb.shape[0], shape[-1]))


class SlidingWindowCmn(nn.Module):
    """Sliding-window cepstral mean (and variance) normalization
    (:func:`~minigrad.audio.functional.sliding_window_cmn`)."""

    def __init__(self, cmn_window=600, min_cmn_window=100, center=False, norm_vars=False):
        super().__init__()
        self.cmn_window, self.min_cmn_window = cmn_window, min_cmn_window
        self.center, self.norm_vars = center, norm_vars

    def forward(self, specgram):
        return F.sliding_window_cmn(specgram, self.cmn_window, self.min_cmn_window, self.center,
                                    self.norm_vars)  # fmt: skip


class Loudness(nn.Module):
    """Loudness in LKFS (:func:`~minigrad.audio.functional.loudness`)."""

    def __init__(self, sample_rate):
        super().__init__()
        self.sample_rate = sample_rate

    def forward(self, wavefrom):  # (torchaudio's spelling)
        return F.loudness(wavefrom, self.sample_rate)


class Vad(nn.Module):
    """Trim the silence before the first voice activity
    (:func:`~minigrad.audio.functional.vad`, SoX's ``vad``), with its arguments kept as
    attributes."""

    def __init__(self, sample_rate, trigger_level=7.0, trigger_time=0.25, search_time=1.0,
                 allowed_gap=0.25, pre_trigger_time=0.0, boot_time=0.35, noise_up_time=0.1,
                 noise_down_time=0.01, noise_reduction_amount=1.35, measure_freq=20.0,
                 measure_duration=None, measure_smooth_time=0.4, hp_filter_freq=50.0,
                 lp_filter_freq=6000.0, hp_lifter_freq=150.0, lp_lifter_freq=2000.0):  # fmt: skip
        super().__init__()
        self._options = dict(
            sample_rate=sample_rate, trigger_level=trigger_level, trigger_time=trigger_time,
            search_time=search_time, allowed_gap=allowed_gap, pre_trigger_time=pre_trigger_time,
            boot_time=boot_time, noise_up_time=noise_up_time, noise_down_time=noise_down_time,
            noise_reduction_amount=noise_reduction_amount, measure_freq=measure_freq,
            measure_duration=measure_duration, measure_smooth_time=measure_smooth_time,
            hp_filter_freq=hp_filter_freq, lp_filter_freq=lp_filter_freq,
            hp_lifter_freq=hp_lifter_freq, lp_lifter_freq=lp_lifter_freq,
        )  # fmt: skip
        for name, value in self._options.items():
            setattr(self, name, value)

    def forward(self, waveform):
        return F.vad(waveform, **{name: getattr(self, name) for name in self._options})


class ComputeDeltas(nn.Module):
    """Delta coefficients along time (:func:`~minigrad.audio.functional.compute_deltas`)."""

    def __init__(self, win_length: int = 5, mode: str = "replicate"):
        super().__init__()
        self.win_length, self.mode = win_length, mode

    def forward(self, specgram):
        return F.compute_deltas(specgram, win_length=self.win_length, mode=self.mode)


class TimeStretch(nn.Module):
    """Stretch a complex STFT in time by a rate (:func:`~minigrad.audio.functional.phase_vocoder`);
    buffer ``phase_advance (n_freq, 1)``."""

    def __init__(self, hop_length=None, n_freq: int = 201, fixed_rate=None):
        super().__init__()
        self.fixed_rate = fixed_rate
        n_fft = (n_freq - 1) * 2
        hop_length = hop_length if hop_length is not None else n_fft // 2
        self.register_buffer(
            "phase_advance", torch.linspace(0, math.pi * hop_length, n_freq)[..., None]
        )

    def forward(self, complex_specgrams, overriding_rate=None):
        if not torch.is_complex(complex_specgrams):
            warn_user(
                "The input to TimeStretch must be complex type. Providing non-complex tensor "
                "produces invalid results."
            )
        if overriding_rate is None:
            if self.fixed_rate is None:
                raise ValueError(
                    "If no fixed_rate is specified, must pass a valid rate to the forward method."
                )
            overriding_rate = self.fixed_rate
        return F.phase_vocoder(complex_specgrams, overriding_rate, self.phase_advance)


_FADE_IN = {
    "linear": lambda f: f,
    "exponential": lambda f: torch.pow(2, f - 1) * f,
    "logarithmic": lambda f: torch.log10(0.1 + f) + 1,
    "quarter_sine": lambda f: torch.sin(f * math.pi / 2),
    "half_sine": lambda f: torch.sin(f * math.pi - math.pi / 2) / 2 + 0.5,
}
_FADE_OUT = {
    "linear": lambda f: -f + 1,
    "exponential": lambda f: torch.pow(2, -f) * (1 - f),
    "logarithmic": lambda f: torch.log10(1.1 - f) + 1,
    "quarter_sine": lambda f: torch.sin(f * math.pi / 2 + math.pi / 2),
    "half_sine": lambda f: torch.sin(f * math.pi + math.pi / 2) / 2 + 0.5,
}


class Fade(nn.Module):
    """Fade the first ``fade_in_len`` samples in and the last ``fade_out_len`` out, with a
    ``linear``, ``exponential``, ``logarithmic``, ``quarter_sine`` or ``half_sine`` shape (an
    unknown shape leaves the ramp as torchaudio does: a linear rise, no fade out)."""

    def __init__(self, fade_in_len: int = 0, fade_out_len: int = 0, fade_shape: str = "linear"):
        super().__init__()
        self.fade_in_len, self.fade_out_len, self.fade_shape = fade_in_len, fade_out_len, fade_shape

    def _ramp(self, length, ramp_len, shapes, ramp_first, device):
        ramp = torch.linspace(0, 1, ramp_len, device=device)
        if self.fade_shape in shapes:
            ramp = shapes[self.fade_shape](ramp)
        ones = torch.ones(length - ramp_len, device=device)
        return torch.cat((ramp, ones) if ramp_first else (ones, ramp)).clamp(0, 1)

    def forward(self, waveform):
        length, device = waveform.shape[-1], waveform.device
        fade_in = self._ramp(length, self.fade_in_len, _FADE_IN, True, device)
        fade_out = self._ramp(length, self.fade_out_len, _FADE_OUT, False, device)
        return fade_in * fade_out * waveform


class _AxisMasking(nn.Module):
    """Mask a band along the frequency (``axis=1``) or time (``axis=2``) axis."""

    def __init__(self, mask_param: int, axis: int, iid_masks: bool, p: float = 1.0):
        super().__init__()
        self.mask_param, self.axis, self.iid_masks, self.p = mask_param, axis, iid_masks, p

    def forward(self, specgram, mask_value=0.0):
        axis = self.axis + specgram.dim() - 3
        if self.iid_masks:
            return F.mask_along_axis_iid(specgram, self.mask_param, mask_value, axis, p=self.p)
        if isinstance(mask_value, torch.Tensor):
            mask_value = float(mask_value)
        return F.mask_along_axis(specgram, self.mask_param, mask_value, axis, p=self.p)


class FrequencyMasking(_AxisMasking):
    """SpecAugment's frequency masking: up to ``freq_mask_param`` consecutive bins."""

    def __init__(self, freq_mask_param: int, iid_masks: bool = False):
        super().__init__(freq_mask_param, 1, iid_masks)


class TimeMasking(_AxisMasking):
    """SpecAugment's time masking: up to ``time_mask_param`` consecutive frames (at most a
    fraction ``p`` of them)."""

    def __init__(self, time_mask_param: int, iid_masks: bool = False, p: float = 1.0):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"The value of p must be between 0.0 and 1.0 ({p} given).")
        super().__init__(time_mask_param, 2, iid_masks, p=p)


class SpecAugment(nn.Module):
    """``n_time_masks`` time masks then ``n_freq_masks`` frequency masks, filled with the
    spectrogram's mean (or zero, ``zero_masking``); per example when ``iid_masks``."""

    def __init__(self, n_time_masks: int, time_mask_param: int, n_freq_masks: int,
                 freq_mask_param: int, iid_masks: bool = True, p: float = 1.0,
                 zero_masking: bool = False):  # fmt: skip
        super().__init__()
        self.n_time_masks, self.time_mask_param = n_time_masks, time_mask_param
        self.n_freq_masks, self.freq_mask_param = n_freq_masks, freq_mask_param
        self.iid_masks, self.p, self.zero_masking = iid_masks, p, zero_masking

    def forward(self, specgram):
        mask_value = 0.0 if self.zero_masking else specgram.mean()
        time_dim = specgram.dim() - 1
        iid = specgram.dim() > 2 and self.iid_masks is True
        mask = F.mask_along_axis_iid if iid else F.mask_along_axis
        if not iid and isinstance(mask_value, torch.Tensor):
            mask_value = float(mask_value)
        for _ in range(self.n_time_masks):
            specgram = mask(specgram, self.time_mask_param, mask_value, time_dim, p=self.p)
        for _ in range(self.n_freq_masks):
            specgram = mask(specgram, self.freq_mask_param, mask_value, time_dim - 1, p=self.p)
        return specgram


class Vol(nn.Module):
    """Scale a waveform by ``gain`` (``amplitude``, ``power`` or ``db``), clamped to [-1, 1]."""

    def __init__(self, gain: float, gain_type: str = "amplitude"):
        super().__init__()
        self.gain, self.gain_type = gain, gain_type
        if gain_type in ("amplitude", "power") and gain < 0:
            raise ValueError("If gain_type = amplitude or power, gain must be positive.")

    def forward(self, waveform):
        if self.gain_type == "amplitude":
            waveform = waveform * self.gain
        elif self.gain_type == "db":
            waveform = F.gain(waveform, self.gain)
        elif self.gain_type == "power":
            waveform = F.gain(waveform, 10 * math.log10(self.gain))
        return torch.clamp(waveform, -1, 1)


class Convolve(nn.Module):
    """:func:`~minigrad.audio.functional.convolve` as a module."""

    def __init__(self, mode: str = "full"):
        _check_convolve_mode(mode)
        super().__init__()
        self.mode = mode

    def forward(self, x, y):
        return F.convolve(x, y, mode=self.mode)


class FFTConvolve(Convolve):
    """:func:`~minigrad.audio.functional.fftconvolve` as a module."""

    def forward(self, x, y):
        return F.fftconvolve(x, y, mode=self.mode)


class AddNoise(nn.Module):
    """:func:`~minigrad.audio.functional.add_noise` as a module."""

    def forward(self, waveform, noise, snr, lengths=None):
        return F.add_noise(waveform, noise, snr, lengths)


class Preemphasis(nn.Module):
    """:func:`~minigrad.audio.functional.preemphasis` as a module."""

    def __init__(self, coeff: float = 0.97):
        super().__init__()
        self.coeff = coeff

    def forward(self, waveform):
        return F.preemphasis(waveform, coeff=self.coeff)


class Deemphasis(Preemphasis):
    """:func:`~minigrad.audio.functional.deemphasis` as a module."""

    def forward(self, waveform):
        return F.deemphasis(waveform, coeff=self.coeff)


class SpectralCentroid(nn.Module):
    """The spectral centroid (Hz) of each frame; buffer ``window``."""

    def __init__(self, sample_rate: int, n_fft: int = 400, win_length=None, hop_length=None,
                 pad: int = 0, window_fn: Callable = torch.hann_window, wkwargs=None):  # fmt: skip
        super().__init__()
        self.sample_rate, self.n_fft, self.pad = sample_rate, n_fft, pad
        self.win_length = win_length if win_length is not None else n_fft
        self.hop_length = hop_length if hop_length is not None else self.win_length // 2
        self.register_buffer("window", _window(window_fn, self.win_length, wkwargs))

    def forward(self, waveform):
        return F.spectral_centroid(waveform, self.sample_rate, self.pad, self.window, self.n_fft,
                                   self.hop_length, self.win_length)  # fmt: skip


class RNNTLoss(nn.Module):
    """:func:`~minigrad.audio.functional.rnnt_loss` as a module (its options stored)."""

    def __init__(self, blank: int = -1, clamp: float = -1.0, reduction: str = "mean",
                 fused_log_softmax: bool = True):  # fmt: skip
        super().__init__()
        self.blank, self.clamp, self.reduction = blank, clamp, reduction
        self.fused_log_softmax = fused_log_softmax

    def forward(self, logits, targets, logit_lengths, target_lengths):
        return F.rnnt_loss(logits, targets, logit_lengths, target_lengths, self.blank,
                           self.clamp, self.reduction, self.fused_log_softmax)  # fmt: skip
