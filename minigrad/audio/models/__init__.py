"""``torchaudio.models`` on minigrad: :class:`Wav2Letter`, :class:`DeepSpeech`,
:class:`ConvTasNet` (``conv_tasnet_base``), :class:`Conformer`, :class:`WaveRNN`,
:class:`Tacotron2`, :class:`Emformer`, :class:`RNNT` (``emformer_rnnt_model``/``_base``)
with :class:`RNNTBeamSearch`, :class:`HDemucs` (``hdemucs_low``/``_medium``/``_high``)
:class:`SquimObjective`/:class:`SquimSubjective` and :class:`Wav2Vec2Model` (``wav2vec2_model`` and the
wav2vec 2.0 / HuBERT builders) with torchaudio's layers and state_dict keys (no pretrained
weights). The other models (WavLM, HuBERT pretraining, ...) raise ``NotImplementedError``."""

from ...vision._missing import missing_names
from .conformer import Conformer
from .conv_tasnet import ConvTasNet, conv_tasnet_base
from .deepspeech import DeepSpeech
from .emformer import Emformer
from .hdemucs import HDemucs, hdemucs_high, hdemucs_low, hdemucs_medium
from .rnnt import RNNT, emformer_rnnt_base, emformer_rnnt_model
from .rnnt_decoder import Hypothesis, RNNTBeamSearch
from .squim import (
    SquimObjective,
    SquimSubjective,
    squim_objective_base,
    squim_objective_model,
    squim_subjective_base,
    squim_subjective_model,
)
from .tacotron2 import Tacotron2
from .wav2letter import Wav2Letter
from .wav2vec2 import (
    Wav2Vec2Model,
    hubert_base,
    hubert_large,
    hubert_xlarge,
    wav2vec2_base,
    wav2vec2_large,
    wav2vec2_large_lv60k,
    wav2vec2_model,
    wav2vec2_xlsr_1b,
    wav2vec2_xlsr_2b,
    wav2vec2_xlsr_300m,
    wavlm_base,
    wavlm_large,
    wavlm_model,
)
from .wavernn import WaveRNN

__all__ = [
    "Conformer", "ConvTasNet", "DeepSpeech", "Emformer", "HDemucs", "Hypothesis", "RNNT", "RNNTBeamSearch",
    "Tacotron2", "emformer_rnnt_base", "emformer_rnnt_model", "hdemucs_high", "hdemucs_low",
    "hdemucs_medium", "SquimObjective", "SquimSubjective", "squim_objective_base",
    "squim_objective_model", "squim_subjective_base", "squim_subjective_model",
    "wav2vec2_xlsr_1b", "wav2vec2_xlsr_2b", "wav2vec2_xlsr_300m", "wavlm_base", "wavlm_large",
    "wavlm_model", "Wav2Letter", "Wav2Vec2Model", "WaveRNN",
    "conv_tasnet_base",
    "hubert_base", "hubert_large", "hubert_xlarge", "wav2vec2_base", "wav2vec2_large",
    "wav2vec2_large_lv60k", "wav2vec2_model",
]  # fmt: skip

__getattr__ = missing_names(
    __name__,
    "HuBERTPretrainModel hubert_pretrain_model hubert_pretrain_base hubert_pretrain_large "
    "hubert_pretrain_xlarge",
    package=("minigrad.audio", "torchaudio"),
)
