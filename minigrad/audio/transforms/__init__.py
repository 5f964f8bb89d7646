"""``torchaudio.transforms`` on minigrad: the feature extractors and augmentations as
``nn.Module``s (see :mod:`._transforms`). torchaudio's other transforms (multi-channel
beamforming, ``Vad``) raise ``NotImplementedError``."""

from ...vision._missing import missing_names
from ._transforms import (
    LFCC,
    MFCC,
    AddNoise,
    AmplitudeToDB,
    ComputeDeltas,
    Convolve,
    Deemphasis,
    Fade,
    FFTConvolve,
    FrequencyMasking,
    GriffinLim,
    InverseMelScale,
    InverseSpectrogram,
    Loudness,
    MelScale,
    MelSpectrogram,
    MuLawDecoding,
    MuLawEncoding,
    PitchShift,
    Preemphasis,
    Resample,
    RNNTLoss,
    SlidingWindowCmn,
    SpecAugment,
    SpectralCentroid,
    Spectrogram,
    Speed,
    SpeedPerturbation,
    TimeMasking,
    TimeStretch,
    Vol,
)  # fmt: skip

__all__ = [
    "AddNoise", "AmplitudeToDB", "ComputeDeltas", "Convolve", "Deemphasis", "Fade",
    "FFTConvolve", "FrequencyMasking", "GriffinLim", "InverseSpectrogram", "LFCC", "MFCC",
    "MelScale", "MelSpectrogram", "MuLawDecoding", "MuLawEncoding", "PitchShift", "Preemphasis",
    "RNNTLoss",
    "Resample",
    "SpecAugment", "SpectralCentroid", "Spectrogram", "TimeMasking", "TimeStretch", "Vol",
    "InverseMelScale", "Loudness", "SlidingWindowCmn", "Speed", "SpeedPerturbation",
]  # fmt: skip

__getattr__ = missing_names(
    __name__,
    "MVDR PSD RTFMVDR SoudenMVDR Vad",
    package=("minigrad.audio", "torchaudio"),
)
