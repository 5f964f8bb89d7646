"""minigrad.audio's audio20 additions against torchaudio 2.11.1: the delay-line effects
(``flanger``, ``phaser``), ``overdrive``, ``riaa_biquad``, ``pitch_shift``/``PitchShift`` and
``merge_tokens`` against torchaudio's outputs (the ``audio20`` part of
tests/data/torchaudio_reference.json, written by tests/data/make_torchaudio_reference.py);
``forced_align`` (torchaudio's C++ op) against a brute-force Viterbi over every path and on a
synthetic emission as in torchaudio's forced-alignment tutorial; gradients of the effects."""

import functools
import itertools
import json
import os
import sys

import numpy as np
import pytest

import minigrad as torch
from minigrad.audio import functional as F
from minigrad.audio import models as M
from minigrad.audio import transforms as T
from minigrad.audio.compliance import kaldi
from minigrad.autograd import gradcheck, gradgradcheck

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "data"))
from make_torchaudio_reference import (
    EFFECTS20,
    EMFORMER,
    HDEMUCS,
    MERGE_TOKENS,
    RNNT,
    SOURCES,
    SQUIM,
    TACOTRON2,
    W2V,
    WAVLM,
    audio20_model_cases,
    beamforming_cases,
    dither_cases,
    inputs,
    kaldi_cases,
    measure_cases,
    vad_cases,
)  # fmt: skip

with open(os.path.join(os.path.dirname(__file__), "data", "torchaudio_reference.json")) as _f:
    _REF = json.load(_f)
REF, MODULES = _REF["audio20"], _REF["audio20_modules"]

X = inputs()[0]
BEAMS = [k for k in REF if k.startswith(("psd", "mvdr", "rtf", "apply", "PSD", "RTFMVDR",
                                         "SoudenMVDR", "MVDR"))]  # fmt: skip
MEASURES = [k for k in REF if k.startswith(("sliding", "loud", "Loud", "edit", "frechet",
                                            "Inverse", "Speed"))]  # fmt: skip


def _cases():
    """The generator's audio20 calls, on minigrad.audio."""
    out = {}
    for name, args in EFFECTS20:
        dtype = torch.float32 if name == "pitch_shift" else torch.float64
        out[f"{name}{args}"] = lambda n=name, a=args, d=dtype: getattr(F, n)(
            torch.tensor(X, dtype=d), *a
        )
    out["PitchShift"] = lambda: T.PitchShift(100, 4, n_fft=16)(torch.tensor(X, dtype=torch.float32))

    def merged():
        tokens, blank = MERGE_TOKENS
        scores = torch.linspace(-2.0, -0.1, len(tokens), dtype=torch.float64)
        spans = F.merge_tokens(torch.tensor(tokens), scores, blank)
        return torch.tensor([[s.token, s.start, s.end, s.score] for s in spans])

    out["merge_tokens"] = merged
    measures = functools.cache(lambda: measure_cases(F, T, torch, X))
    out.update({name: lambda n=name: measures()[n] for name in MEASURES})
    beams = functools.cache(lambda: beamforming_cases(F, T, torch, X, inputs()[1]))
    out.update({name: lambda n=name: beams()[n] for name in BEAMS})
    dithers = functools.cache(lambda: dither_cases(F, torch, X))
    out.update({name: lambda n=name: dithers()[n] for name in REF if name.startswith("dither")})
    kaldis = functools.cache(lambda: kaldi_cases(kaldi, torch, X, inputs()[3]))
    out.update({name: lambda n=name: kaldis()[n] for name in REF if name.startswith("kaldi")})
    vads = functools.cache(lambda: vad_cases(F, T, torch))
    out.update({name: lambda n=name: vads()[n] for name in REF if name.lower().startswith("vad")})
    out.update(audio20_model_cases(M, torch, torch.tensor(X, dtype=torch.float32)))
    return out


CASES = _cases()


def test_reference_covers_every_case():
    assert sorted(CASES) == sorted(REF)


@pytest.mark.filterwarnings("ignore:Reached max decoder steps")
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")  # as torchaudio
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torchaudio(name):
    got = CASES[name]().detach().numpy()
    want = np.asarray(REF[name])
    assert got.shape == want.shape
    tol = 1e-5 if got.dtype == np.float32 else 1e-9
    if name.startswith("kaldi_spectrogram"):  # logs of float32 FFT bins 1e-5 of the peak
        tol = 1e-4
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _brute_force_alignment(lp, labels, blank):
    """(best total log-probability, path) over every token sequence of ``lp (T, C)`` that
    collapses (repeats merged, blanks dropped) to ``labels``; None when none does."""
    best = None
    for path in itertools.product(range(lp.shape[1]), repeat=lp.shape[0]):
        collapsed = [k for k, _ in itertools.groupby(path) if k != blank]
        if collapsed == labels:
            score = lp[np.arange(lp.shape[0]), path].sum()
            if best is None or score > best[0]:
                best = (score, list(path))
    return best


def test_forced_align_is_the_best_ctc_path():
    rng = np.random.default_rng(20)
    for _ in range(40):  # tiny emissions: every path enumerated (ties have probability 0)
        frames, blank = int(rng.integers(2, 6)), int(rng.integers(0, 3))
        labels = [
            int(v) for v in rng.choice([c for c in range(3) if c != blank], rng.integers(1, 3))
        ]
        lp = np.log(rng.dirichlet(np.ones(3), frames))[None]
        best = _brute_force_alignment(lp[0], labels, blank)
        targets = torch.tensor([labels], dtype=torch.int32)
        if best is None:  # T < L + repeats
            with pytest.raises(RuntimeError, match="targets length is too long for CTC"):
                F.forced_align(torch.tensor(lp), targets, blank=blank)
            continue
        paths, scores = F.forced_align(torch.tensor(lp), targets, blank=blank)
        assert paths.dtype == torch.int32 and paths.tolist() == [best[1]]
        np.testing.assert_allclose(scores.numpy()[0], lp[0, np.arange(frames), best[1]])


def test_forced_align_tutorial_emission():
    """torchaudio's "CTC forced alignment API" tutorial on a synthetic emission: frames that
    favour a known path give that path back, and merge_tokens its spans and mean scores."""
    dictionary = {c: i for i, c in enumerate("-aicrt")}  # "-": blank
    frames = list("--aa-i--cc--r-ii-t--")
    emission = np.full((len(frames), len(dictionary)), 0.02)
    emission[np.arange(len(frames)), [dictionary[c] for c in frames]] = 0.9
    emission = torch.tensor(emission / emission.sum(1, keepdims=True)).log()[None]
    targets = torch.tensor([[dictionary[c] for c in "aircrit"[:1] + "icrit"]], dtype=torch.int32)
    aligned, scores = F.forced_align(emission, targets, blank=0)
    assert "".join("-aicrt"[i] for i in aligned[0].tolist()) == "".join(frames)
    spans = F.merge_tokens(aligned[0], scores[0].exp())
    assert [("-aicrt"[s.token], s.start, s.end, len(s)) for s in spans] == [
        ("a", 2, 4, 2), ("i", 5, 6, 1), ("c", 8, 10, 2), ("r", 12, 13, 1), ("i", 14, 16, 2),
        ("t", 17, 18, 1),
    ]  # fmt: skip
    assert all(abs(s.score - 0.9 / (0.9 + 5 * 0.02)) < 1e-12 for s in spans)
    with pytest.raises(ValueError, match="shouldn't contain blank index"):
        F.forced_align(emission, torch.tensor([[0, 1]], dtype=torch.int32))
    with pytest.raises(ValueError, match="must be less than the CTC dimension"):
        F.forced_align(emission, torch.tensor([[1, 9]], dtype=torch.int32))
    with pytest.raises(RuntimeError, match="batch dimension for log_probs must be 1"):
        F.forced_align(emission.expand(2, -1, -1), torch.tensor([[1], [1]], dtype=torch.int32))
    with pytest.raises(RuntimeError, match="input length mismatch"):
        F.forced_align(emission, targets, torch.tensor([5]))
    with pytest.raises(ValueError, match="must be 1D Tensor"):
        F.merge_tokens(aligned, scores)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_state_dict_keys_and_parameter_counts(name):
    make = {
        "Tacotron2": M.Tacotron2,
        "Tacotron2_tiny": lambda: M.Tacotron2(**TACOTRON2),
        "Emformer_memory": lambda: M.Emformer(**EMFORMER, max_memory_size=2),
        "emformer_rnnt_base": lambda: M.emformer_rnnt_base(4097),
        "emformer_rnnt_model_tiny": lambda: M.emformer_rnnt_model(**RNNT),
        "hdemucs_low": lambda: M.hdemucs_low(SOURCES),
        "hdemucs_high": lambda: M.hdemucs_high(SOURCES),
        "HDemucs_tiny": lambda: M.HDemucs(**HDEMUCS),
        "squim_objective_base": M.squim_objective_base,
        "squim_subjective_base": M.squim_subjective_base,
        "squim_objective_model_tiny": lambda: M.squim_objective_model(**SQUIM),
        "wav2vec2_xlsr_300m": M.wav2vec2_xlsr_300m,
        "wavlm_base": M.wavlm_base,
        "wavlm_model_tiny": lambda: M.wavlm_model(
            "group_norm", encoder_layer_norm_first=False, aux_num_out=5, **WAVLM, **W2V
        ),
    }
    big = {"Tacotron2", "emformer_rnnt_base", "hdemucs_low", "hdemucs_high"}
    big = name in big | {"squim_subjective_base", "wav2vec2_xlsr_300m", "wavlm_base"}
    with torch.device("meta" if big else "cpu"):  # 28-315M parameters: shapes only
        module = make[name]()
    want = MODULES[name]
    assert {k: list(v.shape) for k, v in module.state_dict().items()} == want["state_dict"]
    assert sum(p.numel() for p in module.parameters()) == want["parameters"]


def test_tacotron2_gradients_and_early_stop():
    torch.manual_seed(0)
    model = M.Tacotron2(**{**TACOTRON2, "gate_threshold": 0.0, "decoder_max_step": 4})
    tokens = torch.tensor([[1, 4, 2], [5, 6, 0]])
    mel, lengths, alignments = model.infer(tokens, torch.tensor([3, 2]))  # the gate fires at once
    assert mel.shape == (2, 4, 1) and lengths.tolist() == [1, 1] and alignments.shape == (2, 1, 3)
    target = torch.randn(2, 4, 3)
    out = model(tokens, torch.tensor([3, 2]), target, torch.tensor([3, 2]))
    ((out[1] - target).pow(2).mean() + out[2].sum()).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_rnnt_training_step_and_beam_search_errors():
    torch.manual_seed(0)
    model = M.emformer_rnnt_model(**RNNT)
    sources, targets = torch.randn(2, 10, 6), torch.tensor([[1, 3], [2, 0]], dtype=torch.int32)
    inputs = torch.cat([torch.full((2, 1), 4, dtype=torch.int32), targets], 1)  # blank first
    logits, src_len, _, _ = model(sources, torch.tensor([8, 6]), inputs, torch.tensor([3, 2]))
    assert logits.shape == (2, 4, 3, 5) and src_len.tolist() == [4, 3]
    tgt_len = torch.tensor([2, 1], dtype=torch.int32)
    loss = F.rnnt_loss(logits, targets, src_len.int(), tgt_len, blank=4)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    search = M.RNNTBeamSearch(model, blank=4)
    with pytest.raises(ValueError, match=r"input must be of shape \(T, D\) or \(1, T, D\)"):
        search(sources, torch.tensor(8), 2)
    with pytest.raises(ValueError, match="expected size of 3 for dimension 1 of input"):
        search.infer(sources[0, :5], torch.tensor(5), 2)


def test_pipelines_raise_saying_they_download():
    import minigrad.audio as ta

    with pytest.raises(
        NotImplementedError, match="download pretrained weights.*models.wav2vec2_base"
    ):
        _ = ta.pipelines.WAV2VEC2_ASR_BASE_960H
    with pytest.raises(NotImplementedError, match="HDEMUCS_HIGH_MUSDB_PLUS.*hdemucs_high"):
        from minigrad.audio.pipelines import HDEMUCS_HIGH_MUSDB_PLUS  # noqa: F401
    assert not hasattr(ta.pipelines, "NOT_A_BUNDLE")


def test_effects_gradients_and_errors():
    x = torch.tensor(X[:, :10] * 0.5, requires_grad=True)  # within [-1, 1]: clamps inactive

    def flanger(w):
        return F.flanger(w, 1000, 0.0, 4.0, 40.0, 70.0, 300.0, 30.0, "triangular", "quadratic")

    def phaser(w):
        return F.phaser(w, 1000, 0.5, 0.9, 3.0, 0.6, 400.0)

    assert gradcheck(flanger, (x,)) and gradgradcheck(flanger, (x,))  # feedback: both passes
    assert gradcheck(phaser, (x,)) and gradcheck(lambda w: F.overdrive(w, 5.0, 10.0), (x,))
    spec = torch.tensor(X[0, :18].reshape(6, 3), requires_grad=True)
    assert gradcheck(lambda s: F.sliding_window_cmn(s, 3, 2, False, True), (spec,))
    with pytest.raises(ValueError, match="Max 4 channels allowed"):
        F.flanger(torch.zeros(5, 8), 8000)
    with pytest.raises(ValueError, match='"sinusoidal" or "triangular"'):
        F.flanger(torch.zeros(2, 8), 8000, modulation="square")
    with pytest.raises(ValueError, match="44.1k, 48k, 88.2k, or 96k"):
        F.riaa_biquad(torch.zeros(2, 8), 8000)
    shift = T.PitchShift(100, 4, n_fft=16)
    assert list(shift.state_dict()) == ["kernel", "window"] and shift.has_uninitialized_params()
