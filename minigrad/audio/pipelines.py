"""``torchaudio.pipelines`` on minigrad: every bundle there downloads pretrained weights (and
often a tokenizer or vocabulary) from PyTorch's servers, which minigrad.audio does not do.
Naming a bundle raises ``NotImplementedError`` saying so and which minigrad model it builds
on, so a script can build that model and load a state_dict it already has. (A plain
``NotImplementedError``, so that ``from torchaudio.pipelines import BUNDLE`` shows it too.)"""

from __future__ import annotations

_BUNDLES = {  # bundle name -> the minigrad.audio.models builder its model comes from
    **dict.fromkeys(
        "WAV2VEC2_BASE WAV2VEC2_ASR_BASE_10M WAV2VEC2_ASR_BASE_100H WAV2VEC2_ASR_BASE_960H "
        "VOXPOPULI_ASR_BASE_10K_EN VOXPOPULI_ASR_BASE_10K_ES VOXPOPULI_ASR_BASE_10K_DE "
        "VOXPOPULI_ASR_BASE_10K_FR VOXPOPULI_ASR_BASE_10K_IT".split(),
        "wav2vec2_base",
    ),
    **dict.fromkeys(
        "WAV2VEC2_LARGE WAV2VEC2_ASR_LARGE_10M WAV2VEC2_ASR_LARGE_100H "
        "WAV2VEC2_ASR_LARGE_960H".split(),
        "wav2vec2_large",
    ),
    **dict.fromkeys(
        "WAV2VEC2_LARGE_LV60K WAV2VEC2_ASR_LARGE_LV60K_10M WAV2VEC2_ASR_LARGE_LV60K_100H "
        "WAV2VEC2_ASR_LARGE_LV60K_960H WAV2VEC2_XLSR53 WAV2VEC2_XLSR_300M".split(),
        "wav2vec2_large_lv60k / wav2vec2_xlsr_300m",
    ),
    "WAV2VEC2_XLSR_1B": "wav2vec2_xlsr_1b",
    "WAV2VEC2_XLSR_2B": "wav2vec2_xlsr_2b",
    "HUBERT_BASE": "hubert_base",
    **dict.fromkeys("HUBERT_LARGE HUBERT_ASR_LARGE".split(), "hubert_large"),
    **dict.fromkeys("HUBERT_XLARGE HUBERT_ASR_XLARGE".split(), "hubert_xlarge"),
    "MMS_FA": "wav2vec2_model (with functional.forced_align)",
    **dict.fromkeys("WAVLM_BASE WAVLM_BASE_PLUS WAVLM_LARGE".split(), None),
    **dict.fromkeys(
        "TACOTRON2_GRIFFINLIM_CHAR_LJSPEECH TACOTRON2_GRIFFINLIM_PHONE_LJSPEECH "
        "TACOTRON2_WAVERNN_CHAR_LJSPEECH TACOTRON2_WAVERNN_PHONE_LJSPEECH".split(),
        "Tacotron2 (and WaveRNN or transforms.GriffinLim)",
    ),
    "EMFORMER_RNNT_BASE_LIBRISPEECH": "emformer_rnnt_base (with RNNTBeamSearch)",
    "CONVTASNET_BASE_LIBRI2MIX": "conv_tasnet_base",
    **dict.fromkeys("HDEMUCS_HIGH_MUSDB_PLUS HDEMUCS_HIGH_MUSDB".split(), "hdemucs_high"),
    "SQUIM_OBJECTIVE": "squim_objective_base",
    "SQUIM_SUBJECTIVE": "squim_subjective_base",
    **dict.fromkeys(
        "Wav2Vec2Bundle Wav2Vec2ASRBundle Wav2Vec2FABundle Tacotron2TTSBundle RNNTBundle "
        "SourceSeparationBundle SquimObjectiveBundle SquimSubjectiveBundle".split(),
        None,
    ),
}


def __getattr__(name: str):
    if name not in _BUNDLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    builder = _BUNDLES[name]
    hint = (
        f"; build minigrad.audio.models.{builder} and load_state_dict() weights you already have"
        if builder
        else ""
    )
    raise NotImplementedError(  # (not an AttributeError: ``from ... import`` shows this message)
        f"torchaudio.pipelines.{name} is not implemented in minigrad.audio: its bundles download "
        f"pretrained weights from PyTorch's servers, which minigrad does not do{hint}"
    )
