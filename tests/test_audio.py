"""minigrad.audio (torchaudio's API): functional and transforms against torchaudio 2.11.1's
outputs on tiny inputs (tests/data/torchaudio_reference.json, written by
tests/data/make_torchaudio_reference.py), gradients, WAV I/O, datasets over tiny folder
trees, models' parameter counts, and the ``torchaudio`` binding under as_torch."""

import io
import json
import math
import os
import sys

import numpy as np
import pytest

import minigrad as torch
import minigrad.audio as ta
from minigrad.audio import functional as F
from minigrad.audio import models as M
from minigrad.audio import transforms as T
from minigrad.autograd import gradcheck, gradgradcheck

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "data"))
from make_torchaudio_reference import (
    CONFORMER,
    EFFECTS,
    RNNT_CASES,
    TASNET,
    W2V,
    W2V_BUILDERS,
    WAVERNN,
    fill_from_numpy,
    inputs,
    model_cases,
    rnnt_inputs,
)  # fmt: skip

with open(os.path.join(os.path.dirname(__file__), "data", "torchaudio_reference.json")) as _f:
    REF = json.load(_f)


def _cases(x, noise, kernel, tone):
    """The generator's calls, on minigrad.audio."""
    t = lambda a, dtype=torch.float64: torch.tensor(a, dtype=dtype)  # noqa: E731
    w = torch.hann_window(16, dtype=torch.float64)
    spec = F.spectrogram(t(x), 0, w, 16, 4, 16, None, False)
    power = spec.abs() ** 2
    a2 = t([[1.0, -0.5, 0.2], [2.0, 0.3, 0.1]])
    b2 = t([[0.4, 0.2, 0.1], [1.0, 0.0, 0.5]])
    phase_advance = torch.linspace(0, math.pi * 4, 9, dtype=torch.float64)[:, None]
    out = {
        "spectrogram": lambda: F.spectrogram(t(x), 2, w, 16, 4, 16, 2.0, False),
        "spectrogram_complex_window_norm": lambda: torch.view_as_real(
            F.spectrogram(t(x), 0, w, 16, 4, 16, None, True)
        ),
        "inverse_spectrogram": lambda: F.inverse_spectrogram(spec, 64, 0, w, 16, 4, 16, False),
        "amplitude_to_DB_3d": lambda: F.amplitude_to_DB(power[None], 10.0, 1e-10, 0.0, 30.0)[0],
        "amplitude_to_DB_4d": lambda: F.amplitude_to_DB(power[None, None], 20.0, 1e-10, 0.0, 10.0),
        "mu_law_encoding": lambda: F.mu_law_encoding(t(np.clip(x, -1, 1)), 256),
        "resample_hann_5_3": lambda: F.resample(t(x), 5, 3),
        "resample_kaiser_3_4": lambda: F.resample(
            t(x), 3, 4, resampling_method="sinc_interp_kaiser"
        ),
        "compute_deltas": lambda: F.compute_deltas(power),
        "phase_vocoder_1.3": lambda: torch.view_as_real(F.phase_vocoder(spec, 1.3, phase_advance)),
        "lfilter_2d": lambda: F.lfilter(t(x), a2, b2),
        "lowpass_biquad": lambda: F.lowpass_biquad(t(x), 8000, 1000.0),
        "highpass_biquad": lambda: F.highpass_biquad(t(x), 8000, 1500.0, 0.5),
        "add_noise": lambda: F.add_noise(t(x), t(noise), t([3.0, 10.0]), torch.tensor([40, 64])),
        "deemphasis": lambda: F.deemphasis(t(x)),
        "detect_pitch_frequency": lambda: F.detect_pitch_frequency(t(tone), 4000),
        "griffinlim": lambda: F.griffinlim(power, w, 16, 4, 16, 2.0, 3, 0.99, 64, False),
        "linear_fbanks": lambda: F.linear_fbanks(17, 0.0, 4000.0, 5, 8000),
    }
    for name, args in EFFECTS:  # (dcshift is given a fresh waveform: torchaudio's edits it)
        out[f"{name}{args}"] = lambda n=name, a=args: getattr(F, n)(t(x), *a)
    out["filtfilt"] = lambda: F.filtfilt(t(x), a2[0], b2[0])
    masks = t(np.abs(x).reshape(2, 1, 8, 8) + 1.0)

    def seeded(seed, call):  # the masks and random phases match torchaudio's under one seed
        torch.manual_seed(seed)
        return call()

    out["mask_along_axis_iid_seed0"] = lambda: seeded(
        0, lambda: F.mask_along_axis_iid(masks, 5, 0.0, 3)
    )
    out["mask_along_axis_seed1"] = lambda: seeded(1, lambda: F.mask_along_axis(masks, 5, -1.0, 2))
    out["SpecAugment_seed2"] = lambda: seeded(2, lambda: T.SpecAugment(2, 4, 2, 3)(masks))
    out["griffinlim_rand_init_seed3"] = lambda: seeded(
        3, lambda: F.griffinlim(power, w, 16, 4, 16, 2.0, 2, 0.5, 64, True)
    )
    for mode in ("full", "valid", "same"):
        out[f"convolve_{mode}"] = lambda m=mode: F.convolve(t(x), t(kernel), m)
        out[f"fftconvolve_{mode}"] = lambda m=mode: F.fftconvolve(t(x), t(kernel), m)
    for scale in ("htk", "slaney"):
        for norm in (None, "slaney"):
            out[f"melscale_fbanks_{scale}_{norm}"] = lambda s=scale, n=norm: F.melscale_fbanks(
                17, 30.0, 3500.0, 6, 8000, n, s
            )
    for norm in (None, "ortho"):
        out[f"create_dct_{norm}"] = lambda n=norm: F.create_dct(4, 6, n)
    x32 = t(x, torch.float32)
    out["ConvTasNet"] = lambda: fill_from_numpy(M.ConvTasNet(**TASNET), torch)(x32[:, None, :61])
    out["MelSpectrogram"] = lambda: T.MelSpectrogram(8000, n_fft=16, n_mels=6)(x32)
    out["MFCC"] = lambda: T.MFCC(8000, n_mfcc=4, melkwargs={"n_fft": 16, "n_mels": 6})(x32)
    out["LFCC"] = lambda: T.LFCC(8000, n_filter=6, n_lfcc=4, speckwargs={"n_fft": 16})(x32)
    out["Resample_8000_6000"] = lambda: T.Resample(8000, 6000)(x32)
    out.update(model_cases(M, torch, x32))
    for blank, clamp, fused in RNNT_CASES:
        name = f"rnnt_loss_{blank}_{clamp}_{fused}"
        out[name] = lambda a=(blank, clamp, fused): _rnnt(*a)[0]
        out[name + "_grad"] = lambda a=(blank, clamp, fused): _rnnt(*a)[1]
    return out


def _rnnt(blank, clamp, fused):
    """Per-sequence costs and the gradient of their sum weighted [1, 2, 0.5] (RNNTLoss)."""
    x, targets, t_len, u_len = (torch.tensor(a) for a in rnnt_inputs())
    logits = x.requires_grad_()
    costs = T.RNNTLoss(blank, clamp, "none", fused)(logits, targets, t_len, u_len)
    (costs * torch.tensor([1.0, 2.0, 0.5])).sum().backward()
    return costs, logits.grad


CASES = _cases(*inputs())


def test_reference_covers_every_case():
    assert sorted(CASES) == sorted(REF["outputs"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torchaudio(name):
    got = CASES[name]().detach().numpy()
    want = np.asarray(REF["outputs"][name])
    assert got.shape == want.shape
    tol = 1e-4 if got.dtype == np.float32 else 1e-6
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(REF["modules"]))
def test_state_dict_keys_and_parameter_counts(name):
    make = {
        "MelSpectrogram": lambda: T.MelSpectrogram(8000, n_fft=16, n_mels=6),
        "MFCC": lambda: T.MFCC(8000, n_mfcc=4, melkwargs={"n_fft": 16, "n_mels": 6}),
        "LFCC": lambda: T.LFCC(8000, n_filter=6, n_lfcc=4, speckwargs={"n_fft": 16}),
        "Resample": lambda: T.Resample(8000, 6000),
        "TimeStretch": lambda: T.TimeStretch(n_freq=9),
        "Wav2Letter": lambda: M.Wav2Letter(),
        "Wav2Letter_mfcc": lambda: M.Wav2Letter(num_classes=10, input_type="mfcc", num_features=13),
        "DeepSpeech": lambda: M.DeepSpeech(n_feature=20, n_hidden=32, n_class=5),
        "ConvTasNet": lambda: M.ConvTasNet(**TASNET),
        "conv_tasnet_base": M.conv_tasnet_base,
        "Conformer": lambda: M.Conformer(**CONFORMER),
        "WaveRNN": lambda: M.WaveRNN(**WAVERNN),
        "wav2vec2_model_tiny": lambda: M.wav2vec2_model(
            "group_norm", **W2V, encoder_layer_norm_first=False, aux_num_out=5
        ),
        **{name: getattr(M, name) for name in W2V_BUILDERS},
    }
    big = ("Wav2Letter", "conv_") + W2V_BUILDERS
    with torch.device("meta" if name.startswith(big) else "cpu"):
        module = make[name]()  # 23-315M parameters: shapes only (initializing them takes ~10 s)
    want = REF["modules"][name]
    assert {k: list(v.shape) for k, v in module.state_dict().items()} == want["state_dict"]
    assert sum(p.numel() for p in module.parameters()) == want["parameters"]


def test_model_forward_shapes():
    with torch.device("meta"):  # Wav2Letter has 16-26M parameters: shapes on the meta device
        w2l = M.Wav2Letter(num_classes=5, input_type="mfcc", num_features=4)
        assert w2l(torch.randn(2, 4, 30)).shape == (2, 5, 16)  # torchaudio's shapes
        assert M.Wav2Letter()(torch.randn(2, 1, 16000)).shape == (2, 40, 51)
    torch.manual_seed(0)
    out = M.DeepSpeech(n_feature=6, n_hidden=8, n_class=3)(torch.randn(2, 1, 7, 6))
    assert out.shape == (2, 7, 3)
    np.testing.assert_allclose(out.exp().sum(-1).detach().numpy(), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="input_type"):
        M.Wav2Letter(input_type="spectrum")
    with pytest.raises(ValueError, match="channel==1"):
        M.ConvTasNet(**TASNET)(torch.randn(1, 2, 16))
    with pytest.raises(ValueError, match="total_scale == hop_length"):
        M.WaveRNN([2, 3], 16, 5)
    with pytest.raises(ValueError, match="input channel of specgram"):
        M.WaveRNN(**WAVERNN)(torch.randn(1, 1, 12), torch.randn(1, 2, 5, 4))


def test_wav2vec2_fine_tuning_step_and_errors():
    torch.manual_seed(0)
    w2v = dict(W2V, encoder_dropout=0.1, encoder_layer_drop=0.5)
    model = M.wav2vec2_model("layer_norm", **w2v, encoder_layer_norm_first=True, aux_num_out=4)
    logits, lengths = model(torch.randn(2, 192), torch.tensor([192, 100]))  # training mode
    assert logits.shape == (2, 9, 4) and lengths.tolist() == [9, 4]
    logits.log_softmax(-1).sum().backward()
    conv = model.encoder.transformer.pos_conv_embed.conv.parametrizations.weight
    assert conv.original0.grad is not None and conv.original1.grad.abs().sum() > 0
    assert model.feature_extractor.conv_layers[0].conv.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="2D"):
        model(torch.randn(2, 1, 192))
    with pytest.raises(ValueError, match="num_layers"):
        model.extract_features(torch.randn(1, 192), num_layers=3)
    with pytest.raises(ValueError, match="not divisible"):
        M.wav2vec2_model("group_norm", **dict(W2V, encoder_num_heads=5), **_NO_AUX)
    with pytest.raises(ValueError, match="norm mode"):
        M.wav2vec2_model("batch_norm", **W2V, **_NO_AUX)


def test_rnnt_loss_reductions_gradcheck_and_errors():
    from minigrad.audio.functional._rnnt import _RNNTLoss

    x, targets, t_len, u_len = (torch.tensor(a) for a in rnnt_inputs())
    costs = F.rnnt_loss(x, targets, t_len, u_len, reduction="none")
    assert torch.allclose(F.rnnt_loss(x, targets, t_len, u_len), costs.mean())
    assert torch.allclose(T.RNNTLoss(reduction="sum")(x, targets, t_len, u_len), costs.sum())
    small = _dbl(2, 2, 3, 3)  # float64 through the Function (the public op takes float32/16)
    i32 = lambda a: torch.tensor(a, dtype=torch.int32)  # noqa: E731
    lens = (i32([[1, 2], [2, 1]]), i32([2, 1]), i32([2, 1]))
    for fused in (True, False):
        assert gradcheck(lambda a, f=fused: _RNNTLoss.apply(a, *lens, 0, -1.0, f), (small,))
    with pytest.raises(RuntimeError, match="targets must be int32 type"):
        F.rnnt_loss(x, targets.long(), t_len, u_len)
    with pytest.raises(RuntimeError, match="logits must be float32 or float16"):
        F.rnnt_loss(x.double(), targets, t_len, u_len)
    with pytest.raises(RuntimeError, match="input length mismatch"):
        F.rnnt_loss(x[:, :4], targets, t_len, u_len)
    with pytest.raises(RuntimeError, match="blank must be within"):
        F.rnnt_loss(x, targets, t_len, u_len, blank=6)
    with pytest.raises(ValueError, match="reduction should be one of"):
        F.rnnt_loss(x, targets, t_len, u_len, reduction="avg")


_NO_AUX = {"encoder_layer_norm_first": False, "aux_num_out": None}


def _dbl(*shape, seed=0):
    torch.manual_seed(seed)
    return (torch.randn(*shape, dtype=torch.float64) * 0.3).requires_grad_()


def test_gradcheck_transforms():
    x = _dbl(1, 24)
    mel = T.MelSpectrogram(8000, n_fft=8, hop_length=4, n_mels=3).double()
    assert gradcheck(mel, (x,))
    assert gradcheck(T.Resample(5, 3).double(), (x,))
    mfcc = T.MFCC(8000, n_mfcc=2, log_mels=True, melkwargs={"n_fft": 8, "n_mels": 3})
    assert gradcheck(mfcc.double(), (x,))
    spec = T.Spectrogram(n_fft=8, hop_length=4, power=None).double()
    inverse = T.InverseSpectrogram(n_fft=8, hop_length=4).double()
    assert gradcheck(lambda v: inverse(spec(v), 24), (x,))
    assert gradcheck(lambda v: F.compute_deltas(v.reshape(1, 4, 6)), (x,))
    assert gradcheck(lambda v: F.convolve(v, v[:, :3]) + F.fftconvolve(v, v[:, 2:5]), (x,))
    noise = torch.randn(1, 24, dtype=torch.float64)
    assert gradcheck(
        lambda v: F.add_noise(v, noise, torch.tensor([5.0], dtype=torch.float64)), (x,)
    )
    assert gradcheck(lambda v: T.AmplitudeToDB(top_db=20)(v.abs() + 0.1), (x,))


def test_gradcheck_griffinlim_and_phase_vocoder():
    torch.manual_seed(0)
    w = torch.hann_window(8, dtype=torch.float64)
    spec = (torch.rand(1, 5, 3, dtype=torch.float64) + 0.5).requires_grad_()
    assert gradcheck(lambda s: F.griffinlim(s, w, 8, 4, 8, 2.0, 1, 0.5, 8, False), (spec,))
    c = torch.randn(1, 5, 4, dtype=torch.complex128, requires_grad=True)
    advance = torch.linspace(0, math.pi * 4, 5, dtype=torch.float64)[:, None]
    assert gradcheck(lambda c: torch.view_as_real(F.phase_vocoder(c, 1.3, advance)), (c,))


def test_lfilter_gradients_in_signal_and_both_coefficients():
    x = _dbl(2, 2, 8)
    a = torch.tensor([[1.0, -0.5, 0.2], [1.5, 0.3, 0.1]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[0.4, 0.2, 0.1], [1.0, 0.0, 0.3]], dtype=torch.float64, requires_grad=True)
    unclamped = lambda x, a, b: F.lfilter(x, a, b, clamp=False)  # noqa: E731
    assert gradcheck(unclamped, (x, a, b))
    assert gradgradcheck(unclamped, (x[:1, :1, :5].detach().requires_grad_(), a[:1], b[:1]))
    cutoff = torch.tensor(900.0, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda c: F.lowpass_biquad(x[0], 8000, c), (cutoff,))


def test_lfilter_errors():
    x = torch.randn(2, 10)
    with pytest.raises(ValueError, match="same size"):
        F.lfilter(x, torch.tensor([1.0, 0.5]), torch.tensor([1.0, 0.5, 0.1]))
    with pytest.raises(ValueError, match="number of batches"):
        F.lfilter(torch.randn(3, 10), torch.ones(2, 2), torch.ones(2, 2))


def test_masking_and_specaugment():
    torch.manual_seed(0)
    spec = torch.rand(3, 2, 12, 20) + 1.0
    for axis, size in ((2, 12), (3, 20)):
        out = F.mask_along_axis_iid(spec, 5, 0.0, axis)
        zeros = (out == 0).any(dim=5 - axis)  # (3, 2, size): masked positions per example
        assert zeros.shape == (3, 2, size)
        assert int(zeros.sum(-1).max()) < 5  # v < mask_param
        out = F.mask_along_axis(spec[0, 0], 5, -1.0, axis - 2)
        assert int((out == -1.0).all(dim=3 - axis).sum()) < 5
    masked = T.TimeMasking(6, iid_masks=True)(spec)
    assert masked.shape == spec.shape
    augmented = T.SpecAugment(2, 3, 2, 2, zero_masking=True)(spec)
    assert bool(((augmented == 0) | (augmented == spec)).all())
    with pytest.raises(ValueError, match="Only Frequency and Time masking"):
        F.mask_along_axis(spec, 3, 0.0, 1)
    with pytest.raises(ValueError, match="between 0.0 and 1.0"):
        T.TimeMasking(3, p=1.5)


def test_transform_errors_and_time_stretch():
    with pytest.raises(ValueError, match="momentum"):
        T.GriffinLim(momentum=1.0)
    with pytest.raises(ValueError, match="f_min"):
        T.MelScale(f_min=9000.0, sample_rate=16000)
    with pytest.raises(ValueError, match="Invalid resampling method"):
        F.resample(torch.randn(1, 10), 2, 3, resampling_method="linear")
    with pytest.raises(ValueError, match="fixed_rate"):
        T.TimeStretch(n_freq=5)(torch.randn(1, 5, 4, dtype=torch.complex64))
    assert T.TimeStretch(n_freq=5, fixed_rate=2.0)(
        torch.randn(5, 7, dtype=torch.complex64)
    ).shape == (5, 4)
    with pytest.raises(ValueError, match="Unrecognized mode"):
        F.convolve(torch.randn(1, 4), torch.randn(1, 2), mode="circular")


def test_mu_law_and_db_round_trips():
    x = torch.linspace(-1, 1, 11)
    decoded = F.mu_law_decoding(F.mu_law_encoding(x, 256), 256)
    np.testing.assert_allclose(decoded.numpy(), x.numpy(), atol=0.02)
    power = torch.rand(5) + 0.1
    db = T.AmplitudeToDB()(power)
    np.testing.assert_allclose(F.DB_to_amplitude(db, 1.0, 1.0).numpy(), power.numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    "encoding,bits,dtype,tol",
    [("PCM_S", 16, torch.int16, 2**-15), ("PCM_S", 32, torch.int32, 1e-8),
     ("PCM_F", 32, torch.float32, 0), ("PCM_U", 8, torch.uint8, 2**-7)],
)  # fmt: skip
def test_wav_round_trip(tmp_path, encoding, bits, dtype, tol):
    x = torch.tensor((np.sin(np.arange(2 * 50).reshape(2, 50) / 3.0) * 0.5).astype(np.float32))
    path = tmp_path / "clip.wav"
    ta.save(path, x, 8000, encoding=encoding, bits_per_sample=bits)
    y, rate = ta.load(path)
    assert rate == 8000 and y.dtype == torch.float32 and y.shape == (2, 50)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=tol + 1e-7)
    raw, _ = ta.load(str(path), normalize=False)
    assert raw.dtype == dtype
    part, _ = ta.load(path, frame_offset=10, num_frames=5, channels_first=False)
    np.testing.assert_array_equal(part.numpy(), y.numpy()[:, 10:15].T)
    meta = ta.info(path)
    assert (meta.sample_rate, meta.num_frames, meta.num_channels) == (8000, 50, 2)
    assert (meta.bits_per_sample, meta.encoding) == (bits, encoding)


def test_wav_matches_the_standard_library(tmp_path):
    import wave

    samples = np.array([[0, 1000, -32768, 32767, 5], [1, -1, 2, -2, 3]], dtype=np.int16)
    with wave.open(str(tmp_path / "std.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(11025)
        w.writeframes(samples.T.tobytes())
    raw, rate = ta.load(tmp_path / "std.wav", normalize=False)
    assert rate == 11025
    np.testing.assert_array_equal(raw.numpy(), samples)
    scaled, _ = ta.load(tmp_path / "std.wav")
    np.testing.assert_allclose(scaled.numpy(), samples / 32768.0, rtol=1e-6)
    wide = np.array([0, 1, -1, 2**23 - 1, -(2**23)], dtype=np.int64)  # 24-bit mono
    with wave.open(str(tmp_path / "w24.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(8000)
        w.writeframes(b"".join(int(v).to_bytes(3, "little", signed=True) for v in wide))
    with open(tmp_path / "w24.wav", "rb") as f:  # a file object reads as a path does
        y, _ = ta.load(io.BytesIO(f.read()))
    np.testing.assert_allclose(y.numpy()[0], wide / 2.0**23, rtol=1e-6)
    assert ta.info(tmp_path / "w24.wav").bits_per_sample == 24


def test_other_formats_raise_naming_what_works(tmp_path):
    (tmp_path / "a.flac").write_bytes(b"fLaC\x00\x00\x00\x22" + bytes(40))
    with pytest.raises(RuntimeError, match="not a WAV file.*PCM"):
        ta.load(tmp_path / "a.flac")
    with pytest.raises(RuntimeError, match="format 'mp3' is not supported"):
        ta.save(tmp_path / "a.mp3", torch.zeros(1, 4), 8000)
    with pytest.raises(ValueError, match="PCM_S.*24"):
        ta.save(tmp_path / "a.wav", torch.zeros(1, 4), 8000, encoding="PCM_S", bits_per_sample=24)


def _write_clip(path, n=160, rate=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    ta.save(path, torch.full((1, n), 0.25), rate, encoding="PCM_S", bits_per_sample=16)


def test_speechcommands_layout_and_subsets(tmp_path):
    base = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    names = ["yes/aa11_nohash_0.wav", "yes/bb22_nohash_1.wav", "no/aa11_nohash_2.wav",
             "no/cc33_nohash_0.wav", "_background_noise_/noise_nohash_0.wav"]  # fmt: skip
    for name in names:
        _write_clip(base / name)
    (base / "validation_list.txt").write_text("yes/bb22_nohash_1.wav\n")
    (base / "testing_list.txt").write_text("no/cc33_nohash_0.wav\n")
    full = ta.datasets.SPEECHCOMMANDS(tmp_path)
    assert len(full) == 4
    waveform, rate, label, speaker, utterance = full[0]
    assert (rate, label, speaker, utterance) == (16000, "no", "aa11", 2)
    assert waveform.shape == (1, 160)
    assert [x[2:] for x in ta.datasets.SPEECHCOMMANDS(tmp_path, subset="training")] == [
        ("no", "aa11", 2), ("yes", "aa11", 0)]  # fmt: skip
    assert ta.datasets.SPEECHCOMMANDS(tmp_path, subset="validation")[0][2:] == ("yes", "bb22", 1)
    assert ta.datasets.SPEECHCOMMANDS(tmp_path, subset="testing").get_metadata(0)[
        0
    ] == os.path.join("speech_commands_v0.02", "no", "cc33_nohash_0.wav")
    with pytest.raises(ValueError, match="subset"):
        ta.datasets.SPEECHCOMMANDS(tmp_path, subset="train")


def test_datasets_never_download(tmp_path):
    with pytest.raises(RuntimeError, match="download=True.*not implemented"):
        ta.datasets.SPEECHCOMMANDS(tmp_path, download=True)
    with pytest.raises(RuntimeError, match="doesn't exist"):
        ta.datasets.SPEECHCOMMANDS(tmp_path)
    with pytest.raises(RuntimeError, match="Dataset not found"):
        ta.datasets.YESNO(tmp_path)
    with pytest.raises(RuntimeError, match="download=True.*not implemented"):
        ta.datasets.LIBRISPEECH(tmp_path, download=True)


def test_yesno_from_a_local_archive(tmp_path):
    import tarfile

    _write_clip(tmp_path / "src" / "waves_yesno" / "0_1_1_0_0_1_0_1.wav", rate=8000)
    with tarfile.open(tmp_path / "waves_yesno.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "waves_yesno", arcname="waves_yesno")
    dataset = ta.datasets.YESNO(tmp_path, download=True)  # extracts the archive, no network
    waveform, rate, labels = dataset[0]
    assert (len(dataset), rate, labels) == (1, 8000, [0, 1, 1, 0, 0, 1, 0, 1])


def test_librispeech_metadata(tmp_path):
    chapter = tmp_path / "LibriSpeech" / "dev-clean" / "84" / "121123"
    chapter.mkdir(parents=True)
    (chapter / "84-121123-0000.flac").write_bytes(b"fLaC")
    (chapter / "84-121123.trans.txt").write_text("84-121123-0000 GO DO YOU HEAR\n")
    dataset = ta.datasets.LIBRISPEECH(tmp_path, url="dev-clean")
    assert dataset.get_metadata(0)[1:] == (16000, "GO DO YOU HEAR", 84, 121123, 0)
    with pytest.raises(RuntimeError, match="not a WAV file"):
        dataset[0]


def test_missing_names_raise_not_implemented():
    assert callable(F.equalizer_biquad) and callable(F.filtfilt)
    with pytest.raises(NotImplementedError, match="torchaudio.sox_effects"):
        _ = ta.sox_effects
    with pytest.raises(NotImplementedError, match="torchaudio.models.hubert_pretrain_base"):
        _ = M.hubert_pretrain_base
    assert not hasattr(ta, "sox_effects") and not hasattr(T, "NotATransform")


def test_bound_as_torchaudio():
    from minigrad import as_torch

    with as_torch.imports():
        import torchaudio
        import torchaudio.transforms as TT

        assert torchaudio is ta and TT is T and torchaudio.__name__ == "torchaudio"
        assert TT.MelSpectrogram(n_fft=32, n_mels=4)(torch.randn(1, 64)).shape == (1, 4, 5)


# the program's first losses under PyTorch 2.13 + torchaudio 2.11.1 (torchaudio.load replaced
# by a wave reader there: torchaudio 2.9+ needs torchcodec to decode)
PYTORCH_LOSSES = [1.0482547283172607, 1.1452952623367310, 0.5265632867813110]


def test_speech_commands_tutorial_program(monkeypatch):
    import importlib

    from minigrad import as_torch

    monkeypatch.syspath_prepend(os.path.join(os.path.dirname(__file__), "programs"))
    for name in ("speech_commands_audio", "numpy_init"):
        sys.modules.pop(name, None)
    with as_torch.imports():
        run = importlib.import_module("speech_commands_audio")
    for name in ("speech_commands_audio", "numpy_init"):
        sys.modules.pop(name, None)
    assert run.first_item == ((1, 2400), 16000, "no", "s00", 0)
    assert run.sizes == (15, 3) and run.labels == ["no", "up", "yes"]
    assert run.buffer_keys == ["0.kernel", "1.mel_scale.fb", "1.spectrogram.window"]
    assert run.feature_shape == (5, 1, 16, 19)
    np.testing.assert_allclose(run.losses[:3], PYTORCH_LOSSES, rtol=1e-5)
    assert run.losses[-1] < 0.05 and run.accuracy == 1.0
