"""``torchaudio.functional`` on minigrad: spectrograms, filter banks, resampling, filtering,
masking, companding, convolution, pitch shifting (see :mod:`.functional` and :mod:`.filtering`),
the delay-line effects (:mod:`._effects`), measures (:mod:`._measures`), beamforming
(:mod:`._beamforming`), CTC forced alignment (:mod:`._alignment`) and the RNN-T loss
(:mod:`._rnnt`) and SoX's voice-activity trimming (:mod:`._vad`): all of torchaudio 2.11's
names."""

from ...vision._missing import missing_names
from ._alignment import TokenSpan, forced_align, merge_tokens
from ._beamforming import (
    apply_beamforming,
    mvdr_weights_rtf,
    mvdr_weights_souden,
    psd,
    rtf_evd,
    rtf_power,
)
from ._effects import dither, flanger, overdrive, phaser, riaa_biquad
from ._measures import edit_distance, frechet_distance, loudness, sliding_window_cmn
from ._rnnt import rnnt_loss
from ._vad import vad
from .filtering import (
    allpass_biquad,
    band_biquad,
    bandpass_biquad,
    bandreject_biquad,
    bass_biquad,
    biquad,
    contrast,
    dcshift,
    deemph_biquad,
    equalizer_biquad,
    filtfilt,
    gain,
    highpass_biquad,
    lfilter,
    lowpass_biquad,
    treble_biquad,
)  # fmt: skip
from .functional import (
    DB_to_amplitude,
    add_noise,
    amplitude_to_DB,
    compute_deltas,
    convolve,
    create_dct,
    deemphasis,
    detect_pitch_frequency,
    fftconvolve,
    griffinlim,
    inverse_spectrogram,
    linear_fbanks,
    mask_along_axis,
    mask_along_axis_iid,
    melscale_fbanks,
    mu_law_decoding,
    mu_law_encoding,
    phase_vocoder,
    pitch_shift,
    preemphasis,
    resample,
    spectral_centroid,
    spectrogram,
    speed,
)  # fmt: skip

__all__ = [
    "allpass_biquad", "band_biquad", "bandpass_biquad", "bandreject_biquad", "bass_biquad",
    "contrast", "dcshift", "deemph_biquad", "equalizer_biquad", "filtfilt", "treble_biquad",
    "DB_to_amplitude", "add_noise", "amplitude_to_DB", "biquad", "compute_deltas", "convolve",
    "create_dct", "deemphasis", "detect_pitch_frequency", "fftconvolve", "gain", "griffinlim",
    "highpass_biquad", "inverse_spectrogram", "lfilter", "linear_fbanks", "lowpass_biquad",
    "mask_along_axis", "mask_along_axis_iid", "melscale_fbanks", "mu_law_decoding",
    "mu_law_encoding", "phase_vocoder", "preemphasis", "resample", "rnnt_loss",
    "spectral_centroid", "spectrogram", "speed",
    "TokenSpan", "flanger", "forced_align", "merge_tokens", "overdrive", "phaser", "pitch_shift",
    "riaa_biquad", "edit_distance", "frechet_distance", "loudness", "sliding_window_cmn",
    "dither", "vad", "apply_beamforming", "mvdr_weights_rtf", "mvdr_weights_souden", "psd", "rtf_evd", "rtf_power",
]  # fmt: skip

__getattr__ = missing_names(
    __name__,
    "",  # every torchaudio.functional name is here
    package=("minigrad.audio", "torchaudio"),
)
