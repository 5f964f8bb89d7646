"""``torchaudio.datasets`` on minigrad, over local copies in torchaudio's layouts (nothing is
downloaded): :class:`SPEECHCOMMANDS`, :class:`YESNO`, :class:`LIBRISPEECH`. The other
datasets raise ``NotImplementedError``."""

from ...vision._missing import missing_names
from .librispeech import LIBRISPEECH
from .speechcommands import SPEECHCOMMANDS
from .yesno import YESNO

__all__ = ["LIBRISPEECH", "SPEECHCOMMANDS", "YESNO"]

__getattr__ = missing_names(
    __name__,
    "CMUARCTIC CMUDict COMMONVOICE DR_VCTK FluentSpeechCommands GTZAN IEMOCAP LIBRITTS "
    "LibriLightLimited LibriMix LibriSpeechBiasing LJSPEECH MUSDB_HQ QUESST14 Snips TEDLIUM "
    "VCTK_092 VoxCeleb1Identification VoxCeleb1Verification",
    package=("minigrad.audio", "torchaudio"),
)
