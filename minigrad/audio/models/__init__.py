"""``torchaudio.models`` on minigrad: :class:`Wav2Letter`, :class:`DeepSpeech` and
:class:`ConvTasNet` (``conv_tasnet_base``) with
torchaudio's layers and state_dict keys (no pretrained weights). The other models
(Conformer, wav2vec 2.0, Tacotron2, ...) raise ``NotImplementedError``."""

from ...vision._missing import missing_names
from .conv_tasnet import ConvTasNet, conv_tasnet_base
from .deepspeech import DeepSpeech
from .wav2letter import Wav2Letter

__all__ = ["ConvTasNet", "DeepSpeech", "Wav2Letter", "conv_tasnet_base"]

__getattr__ = missing_names(
    __name__,
    "Conformer Emformer HDemucs RNNT RNNTBeamSearch SquimObjective SquimSubjective "
    "Tacotron2 Wav2Vec2Model WaveRNN conformer_rnnt_model emformer_rnnt_model "
    "hdemucs_high hdemucs_low hdemucs_medium hubert_base hubert_large hubert_pretrain_model "
    "wav2vec2_base wav2vec2_large wav2vec2_model wavlm_base wavlm_model",
    package=("minigrad.audio", "torchaudio"),
)
