"""``torchaudio.models`` on minigrad: :class:`Wav2Letter` and :class:`DeepSpeech` with
torchaudio's layers and state_dict keys (no pretrained weights). The other models
(Conformer, ConvTasNet, wav2vec 2.0, Tacotron2, ...) raise ``NotImplementedError``."""

from ...vision._missing import missing_names
from .deepspeech import DeepSpeech
from .wav2letter import Wav2Letter

__all__ = ["DeepSpeech", "Wav2Letter"]

__getattr__ = missing_names(
    __name__,
    "Conformer ConvTasNet Emformer HDemucs RNNT RNNTBeamSearch SquimObjective SquimSubjective "
    "Tacotron2 Wav2Vec2Model WaveRNN conv_tasnet_base conformer_rnnt_model emformer_rnnt_model "
    "hdemucs_high hdemucs_low hdemucs_medium hubert_base hubert_large hubert_pretrain_model "
    "wav2vec2_base wav2vec2_large wav2vec2_model wavlm_base wavlm_model",
    package=("minigrad.audio", "torchaudio"),
)
