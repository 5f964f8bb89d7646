"""``torchaudio.transforms`` on minigrad: the feature extractors and augmentations as
``nn.Module``s (see :mod:`._transforms`) and the multi-channel beamformers
(:mod:`._multi_channel`): all of torchaudio 2.11's transforms."""

from ...vision._missing import missing_names
from ._multi_channel import MVDR, PSD, RTFMVDR, SoudenMVDR
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
    Vad,
    Vol,
)  # fmt: skip

__all__ = [
    "AddNoise", "AmplitudeToDB", "ComputeDeltas", "Convolve", "Deemphasis", "Fade",
    "FFTConvolve", "FrequencyMasking", "GriffinLim", "InverseSpectrogram", "LFCC", "MFCC",
    "MelScale", "MelSpectrogram", "MuLawDecoding", "MuLawEncoding", "PitchShift", "Preemphasis",
    "RNNTLoss",
    "Resample",
    "SpecAugment", "SpectralCentroid", "Spectrogram", "TimeMasking", "TimeStretch", "Vol",
    "InverseMelScale", "Loudness", "SlidingWindowCmn", "Speed", "SpeedPerturbation", "MVDR", "PSD",
    "RTFMVDR", "SoudenMVDR", "Vad",
]  # fmt: skip

__getattr__ = missing_names(
    __name__,
    "",  # every torchaudio.transforms name is here
    package=("minigrad.audio", "torchaudio"),
)
