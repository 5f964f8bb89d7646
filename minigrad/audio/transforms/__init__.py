"""``torchaudio.transforms`` on minigrad: the feature extractors and augmentations as
``nn.Module``s (see :mod:`._transforms`). torchaudio's other transforms (multi-channel
beamforming, ``Vad``, ``Loudness``, ...) raise ``NotImplementedError``."""

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
    InverseSpectrogram,
    MelScale,
    MelSpectrogram,
    MuLawDecoding,
    MuLawEncoding,
    PitchShift,
    Preemphasis,
    Resample,
    RNNTLoss,
    SpecAugment,
    SpectralCentroid,
    Spectrogram,
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
]  # fmt: skip

__getattr__ = missing_names(
    __name__,
    "InverseMelScale Loudness MVDR PSD RTFMVDR SlidingWindowCmn "
    "SoudenMVDR Speed SpeedPerturbation Vad",
    package=("minigrad.audio", "torchaudio"),
)
