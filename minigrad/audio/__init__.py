"""``torchaudio`` on minigrad: the audio features, transforms, WAV I/O, datasets and models
that speech tutorials import (``import torchaudio``, ``import torchaudio.transforms as T``).

Follows torchaudio 2.11's public API (the newest release) and semantics, written for
minigrad: :mod:`.functional` (spectrograms, mel/linear filter banks, DCT, decibels, mu-law,
resampling with torchaudio's windowed-sinc kernels, ``lfilter`` and biquads, masking, deltas,
Griffin-Lim, the phase vocoder, convolution, noise), :mod:`.transforms` (the same as
``nn.Module``s with torchaudio's buffers), :func:`load`/:func:`save`/:func:`info` for WAV
files, :mod:`.datasets` (SPEECHCOMMANDS, YESNO, LIBRISPEECH over local copies) and
:mod:`.models` (speech recognition, synthesis, separation and quality models, no pretrained
weights: :mod:`.pipelines` names raise, saying so). Under ``python -m minigrad.as_torch`` a script's
``import torchaudio`` imports this package. Names torchaudio has and this package lacks
raise ``NotImplementedError`` naming them.
"""

from ..vision._missing import missing_names
from . import compliance, datasets, functional, models, pipelines, transforms
from ._wav import AudioMetaData, info, load, save

__version__ = "2.11.1"  # the torchaudio release whose API this follows

__all__ = ["AudioMetaData", "compliance", "datasets", "functional", "info", "load", "models",
           "pipelines", "save", "transforms"]  # fmt: skip


def list_audio_backends() -> list:
    """The I/O backends (torchaudio 2.0–2.8's function): minigrad's own WAV reader."""
    return ["wav"]


__getattr__ = missing_names(
    __name__,
    "utils io sox_effects kaldi_io load_with_torchcodec "
    "save_with_torchcodec StreamReader StreamWriter",
    package=("minigrad.audio", "torchaudio"),
)
