"""``torchaudio.functional`` on minigrad: spectrograms, filter banks, resampling, filtering,
masking, companding, convolution (see :mod:`.functional` and :mod:`.filtering`) and the RNN-T
loss (:mod:`._rnnt`). torchaudio's other names (the effects such as ``flanger``, beamforming,
alignment) raise ``NotImplementedError`` naming them."""

from ...vision._missing import missing_names
from ._rnnt import rnnt_loss
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
]  # fmt: skip

__getattr__ = missing_names(
    __name__,
    "forced_align merge_tokens TokenSpan "
    "dither "
    "flanger overdrive phaser riaa_biquad vad apply_beamforming "
    "edit_distance frechet_distance loudness mvdr_weights_rtf mvdr_weights_souden pitch_shift "
    "psd rtf_evd rtf_power sliding_window_cmn",
    package=("minigrad.audio", "torchaudio"),
)
