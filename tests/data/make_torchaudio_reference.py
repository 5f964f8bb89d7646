"""Writes torchaudio_reference.json: torchaudio's outputs on tiny inputs, which
tests/test_audio.py compares minigrad.audio with (torchaudio is rarely installed next to
minigrad's tests). Run with torch and torchaudio importable (torchaudio 2.11.1 was used; its
C++ extension is not needed):  python tests/data/make_torchaudio_reference.py"""

import json
import math
import os

import numpy as np

TASNET = dict(num_sources=2, enc_kernel_size=8, enc_num_feats=16, msk_num_feats=8,
              msk_num_hidden_feats=12, msk_num_layers=3, msk_num_stacks=2)  # fmt: skip
W2V = dict(extractor_conv_layer_config=[(8, 10, 5), (8, 3, 2), (8, 2, 2)], extractor_conv_bias=True,
           encoder_embed_dim=12, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=6,
           encoder_pos_conv_groups=3, encoder_num_layers=2, encoder_num_heads=3,
           encoder_attention_dropout=0.0, encoder_ff_interm_features=16,
           encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_drop=0.0)  # fmt: skip
CONFORMER = dict(input_dim=8, num_heads=2, ffn_dim=12, num_layers=2, depthwise_conv_kernel_size=3)
WAVERNN = dict(upsample_scales=[2, 3], n_classes=16, hop_length=6, n_res_block=1, n_rnn=8,
               n_fc=6, kernel_size=3, n_freq=5, n_hidden=6, n_output=8)  # fmt: skip
W2V_BUILDERS = ("wav2vec2_base", "wav2vec2_large_lv60k")  # hubert_base: wav2vec2_base's shapes


EFFECTS = [  # (functional name, arguments after the waveform)
    ("allpass_biquad", (8000, 1000.0)), ("bandpass_biquad", (8000, 1000.0, 0.5, True)),
    ("bandreject_biquad", (8000, 1200.0)), ("band_biquad", (8000, 900.0, 0.7, True)),
    ("equalizer_biquad", (8000, 1000.0, 6.0)), ("bass_biquad", (8000, 5.0)),
    ("treble_biquad", (8000, -4.0)), ("deemph_biquad", (44100,)), ("contrast", (60.0,)),
    ("dcshift", (0.3, 0.05)), ("dcshift", (-0.3, 0.05)), ("dcshift", (0.2,)),
]  # fmt: skip


def fill_from_numpy(model, torch):
    """Every parameter U(-0.3, 0.3) from one NumPy stream, in named_parameters order."""
    rng = np.random.default_rng(5)
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)), dtype=p.dtype))
    return model


def model_cases(M, torch, x32):
    """name -> call, of tiny wav2vec 2.0 models (both extractor modes, both layer norm orders,
    valid lengths masking the attention, an aux head, extract_features) and Conformers (batch
    norm in eval and training mode, group norm with the convolution first) and a WaveRNN
    (training and eval mode, ``infer`` sampling under a seed), weights filled."""

    def model(mode, first, aux):
        m = M.wav2vec2_model(mode, encoder_layer_norm_first=first, aux_num_out=aux, **W2V)
        return fill_from_numpy(m, torch).eval()

    def conformer(group_norm, convolution_first, train):
        m = M.Conformer(**CONFORMER, use_group_norm=group_norm, convolution_first=convolution_first)
        return fill_from_numpy(m, torch).train(train)

    def wavernn(train, infer=False):
        m = fill_from_numpy(M.WaveRNN(**WAVERNN), torch).train(train)
        spec = x32.reshape(2, 1, 8, 8)[:, :, :5, :6]
        if infer:
            torch.manual_seed(0)
            return m.infer(spec[:, 0, :, :3], torch.tensor([3, 2]))[0]
        return m(x32[:, None, :24], spec)

    wave, lengths = x32.repeat(1, 3), torch.tensor([192, 120])  # 9 frames; 5 valid in the second
    feats, flen = x32.reshape(2, 8, 8), torch.tensor([8, 5])
    return {
        "Wav2Vec2_group_norm_aux_lengths": lambda: model("group_norm", False, 5)(wave, lengths)[0],
        "Wav2Vec2_out_lengths": lambda: model("group_norm", False, 5)(wave, lengths)[1],
        "Wav2Vec2_layer_norm_first_extract_features": lambda: torch.stack(
            model("layer_norm", True, None).extract_features(wave, None, 1)[0]
        ),
        "Conformer_eval": lambda: conformer(False, False, False)(feats, flen)[0],
        "Conformer_group_norm_convolution_first": lambda: conformer(True, True, False)(feats, flen)[
            0
        ],
        "Conformer_train_batch_norm": lambda: conformer(False, False, True)(feats, flen)[0],
        "WaveRNN_train": lambda: wavernn(True),
        "WaveRNN_eval": lambda: wavernn(False),
        "WaveRNN_infer_seed0": lambda: wavernn(False, infer=True),
    }


def rnnt_inputs():
    """Logits (3, 5, 4, 6), int32 targets and lengths (the longest sets the lattice's size)."""
    logits = np.random.default_rng(0).standard_normal((3, 5, 4, 6)).astype(np.float32)
    targets = np.array([[1, 2, 3], [4, 1, 0], [2, 0, 0]], np.int32)
    return logits, targets, np.array([5, 3, 4], np.int32), np.array([3, 2, 1], np.int32)


RNNT_CASES = [(0, -1.0, True), (-1, -1.0, False), (0, 0.05, True)]  # (blank, clamp, fused)


def rnnt_reference(torch, blank, clamp, fused):
    """torchaudio's rnnt_loss (its C++ op does not load next to PyTorch 2.13) by its defining
    recursion under PyTorch's autograd: per-sequence costs and d(sum of costs * [1, 2, 0.5]) /
    d logits, clamped to [-clamp, clamp] before the weights as torchaudio's kernel."""
    x, targets, t_len, u_len = rnnt_inputs()
    logits = torch.tensor(x, requires_grad=True)
    blank = blank % x.shape[-1]
    lp = torch.log_softmax(logits, -1) if fused else logits
    costs = []
    for b in range(x.shape[0]):
        alpha = {(0, 0): lp[b, 0, 0, 0] * 0}
        for t in range(t_len[b]):
            for u in range(u_len[b] + 1):
                terms = [alpha[t - 1, u] + lp[b, t - 1, u, blank]] if t else []
                terms += [alpha[t, u - 1] + lp[b, t, u - 1, targets[b, u - 1]]] if u else []
                if terms:
                    alpha[t, u] = terms[0] if len(terms) == 1 else torch.logaddexp(*terms)
        costs.append(-(alpha[t, u] + lp[b, t, u, blank]))
    costs = torch.stack(costs)
    (grad,) = torch.autograd.grad(costs.sum(), logits)
    if clamp > 0:
        grad = grad.clamp(-clamp, clamp)
    return costs, grad * torch.tensor([1.0, 2.0, 0.5])[:, None, None, None]


def inputs():
    """The inputs, shared with tests/test_audio.py (NumPy's PCG64 streams are stable)."""
    rng = np.random.default_rng(19)
    x = rng.standard_normal((2, 64)) * 0.3
    noise = rng.standard_normal((2, 64))
    kernel = rng.standard_normal((2, 5))
    tone = np.sin(2 * np.pi * 250 * np.arange(800) / 4000)[None]
    return x, noise, kernel, tone


def cases(x, noise, kernel, tone):
    """name -> output tensor, for every checked call."""
    import torch
    import torchaudio.functional as F
    import torchaudio.transforms as T

    t = torch.tensor
    w = torch.hann_window(16, dtype=torch.float64)
    spec = F.spectrogram(t(x), 0, w, 16, 4, 16, None, False)
    power = spec.abs() ** 2
    a2 = t([[1.0, -0.5, 0.2], [2.0, 0.3, 0.1]], dtype=torch.float64)
    b2 = t([[0.4, 0.2, 0.1], [1.0, 0.0, 0.5]], dtype=torch.float64)
    out = {
        "spectrogram": F.spectrogram(t(x), 2, w, 16, 4, 16, 2.0, False),
        "spectrogram_complex_window_norm": torch.view_as_real(
            F.spectrogram(t(x), 0, w, 16, 4, 16, None, True)
        ),
        "inverse_spectrogram": F.inverse_spectrogram(spec, 64, 0, w, 16, 4, 16, False),
        "amplitude_to_DB_3d": F.amplitude_to_DB(power[None], 10.0, 1e-10, 0.0, 30.0)[0],
        "amplitude_to_DB_4d": F.amplitude_to_DB(power[None, None], 20.0, 1e-10, 0.0, 10.0),
        "mu_law_encoding": F.mu_law_encoding(t(np.clip(x, -1, 1)), 256),
        "resample_hann_5_3": F.resample(t(x), 5, 3),
        "resample_kaiser_3_4": F.resample(t(x), 3, 4, resampling_method="sinc_interp_kaiser"),
        "compute_deltas": F.compute_deltas(power),
        "phase_vocoder_1.3": torch.view_as_real(
            F.phase_vocoder(
                spec, 1.3, torch.linspace(0, math.pi * 4, 9, dtype=torch.float64)[:, None]
            )
        ),
        "lfilter_2d": F.lfilter(t(x), a2, b2),
        "lowpass_biquad": F.lowpass_biquad(t(x), 8000, 1000.0),
        "highpass_biquad": F.highpass_biquad(t(x), 8000, 1500.0, 0.5),
        "add_noise": F.add_noise(t(x), t(noise), t([3.0, 10.0]), t([40, 64])),
        "deemphasis": F.deemphasis(t(x)),
        "detect_pitch_frequency": F.detect_pitch_frequency(t(tone), 4000),
        "griffinlim": F.griffinlim(power, w, 16, 4, 16, 2.0, 3, 0.99, 64, False),
    }
    for name, args in EFFECTS:
        out[f"{name}{args}"] = getattr(F, name)(t(x), *args)
    out["filtfilt"] = F.filtfilt(t(x), a2[0], b2[0])
    masks = t(np.abs(x).reshape(2, 1, 8, 8) + 1.0)
    torch.manual_seed(0)
    out["mask_along_axis_iid_seed0"] = F.mask_along_axis_iid(masks, 5, 0.0, 3)
    torch.manual_seed(1)
    out["mask_along_axis_seed1"] = F.mask_along_axis(masks, 5, -1.0, 2)
    torch.manual_seed(2)
    out["SpecAugment_seed2"] = T.SpecAugment(2, 4, 2, 3)(masks)
    torch.manual_seed(3)
    out["griffinlim_rand_init_seed3"] = F.griffinlim(power, w, 16, 4, 16, 2.0, 2, 0.5, 64, True)
    for mode in ("full", "valid", "same"):
        out[f"convolve_{mode}"] = F.convolve(t(x), t(kernel), mode)
        out[f"fftconvolve_{mode}"] = F.fftconvolve(t(x), t(kernel), mode)
    for scale in ("htk", "slaney"):
        for norm in (None, "slaney"):
            out[f"melscale_fbanks_{scale}_{norm}"] = F.melscale_fbanks(
                17, 30.0, 3500.0, 6, 8000, norm, scale
            )
    out["linear_fbanks"] = F.linear_fbanks(17, 0.0, 4000.0, 5, 8000)
    for norm in (None, "ortho"):
        out[f"create_dct_{norm}"] = F.create_dct(4, 6, norm)
    x32 = t(x, dtype=torch.float32)
    import torchaudio.models as M

    tasnet = fill_from_numpy(M.ConvTasNet(**TASNET), torch)
    out["ConvTasNet"] = tasnet(x32[:, None, :61])  # 61: padded to whole strides, then cut
    out["MelSpectrogram"] = T.MelSpectrogram(8000, n_fft=16, n_mels=6)(x32)
    out["MFCC"] = T.MFCC(8000, n_mfcc=4, melkwargs={"n_fft": 16, "n_mels": 6})(x32)
    out["LFCC"] = T.LFCC(8000, n_filter=6, n_lfcc=4, speckwargs={"n_fft": 16})(x32)
    out["Resample_8000_6000"] = T.Resample(8000, 6000)(x32)
    out.update({k: call() for k, call in model_cases(M, torch, x32).items()})
    for blank, clamp, fused in RNNT_CASES:
        costs, grad = rnnt_reference(torch, blank, clamp, fused)
        out[f"rnnt_loss_{blank}_{clamp}_{fused}"] = costs.detach()
        out[f"rnnt_loss_{blank}_{clamp}_{fused}_grad"] = grad
    return out


EFFECTS20 = [  # (functional name, arguments after the (2, 64) float64 waveform), audio20's
    ("flanger", (8000, 1.0, 2.0, 30.0, 71.0, 200.0, 25.0, "sinusoidal", "linear")),
    ("flanger", (8000, 0.0, 3.0, -50.0, 40.0, 150.0, 60.0, "triangular", "quadratic")),
    ("phaser", (8000, 0.6, 0.9, 3.0, 0.5, 250.0, True)), ("phaser", (8000, 0.4, 0.74, 2.0, 0.7, 300.0, False)),
    ("overdrive", (20.0, 20.0)), ("overdrive", (10.0, 60.0)), ("riaa_biquad", (44100,)),
    ("pitch_shift", (100, 3, 12, 16)), ("pitch_shift", (100, -2.5, 10, 16, 12, 3)),
]  # fmt: skip
TACOTRON2 = dict(n_mels=4, n_symbol=10, symbol_embedding_dim=6, encoder_embedding_dim=6,
                 encoder_n_convolution=2, encoder_kernel_size=3, decoder_rnn_dim=8,
                 decoder_max_step=5, attention_rnn_dim=8, attention_hidden_dim=5,
                 attention_location_n_filter=3, attention_location_kernel_size=3, prenet_dim=4,
                 postnet_n_convolution=2, postnet_kernel_size=3, postnet_embedding_dim=5)  # fmt: skip
EMFORMER = dict(input_dim=8, num_heads=2, ffn_dim=12, num_layers=2, segment_length=4,
                left_context_length=3, right_context_length=2)  # fmt: skip
RNNT = dict(input_dim=6, encoding_dim=8, num_symbols=5, segment_length=4, right_context_length=2,
            time_reduction_input_dim=4, time_reduction_stride=2, transformer_num_heads=2,
            transformer_ffn_dim=10, transformer_num_layers=2, transformer_dropout=0.0,
            transformer_activation="gelu", transformer_left_context_length=2,
            transformer_max_memory_size=0, transformer_weight_init_scale_strategy="depthwise",
            transformer_tanh_on_mem=True, symbol_embedding_dim=6, num_lstm_layers=2,
            lstm_layer_norm=True, lstm_layer_norm_epsilon=1e-3, lstm_dropout=0.0)  # fmt: skip
HDEMUCS = dict(sources=["drums", "bass"], audio_channels=2, channels=4, nfft=64, depth=3,
               norm_starts=2, norm_groups=2, dconv_attn=2, dconv_lstm=2)  # fmt: skip
SOURCES = ["drums", "bass", "other", "vocals"]
SQUIM = dict(feat_dim=6, win_len=8, d_model=8, nhead=2, hidden_dim=5, num_blocks=2,
             rnn_type="LSTM", chunk_size=5)  # fmt: skip
WAVLM = dict(encoder_num_buckets=8, encoder_max_distance=20)
MERGE_TOKENS = ([0, 3, 3, 0, 0, 2, 2, 2, 3, 0, 3], 0)  # (an alignment, blank)


def measure_cases(F, T, torch, x):
    """name -> output, of the measures and the transforms that wrap them (shared with the
    tests: ``F``/``T``/``torch`` are torchaudio's or minigrad's)."""
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    spec, x32 = t(x).reshape(2, 16, 4), torch.tensor(x, dtype=torch.float32)
    loud = t(np.tile(x, 10)[:, :610].reshape(1, 2, 610) * np.array([[[1.0], [0.5]]]))
    cov = t(x[0, :16].reshape(4, 4))
    cov_x, cov_y = cov @ cov.T + t(np.eye(4)), cov.T @ cov + 0.5 * t(np.eye(4))
    out = {
        f"sliding_window_cmn_{w}_{m}_{c}_{v}": F.sliding_window_cmn(spec, w, m, c, v)
        for w, m, c, v in [(600, 100, False, False), (5, 3, False, True), (4, 6, True, True),
                           (3, 1, True, False), (20, 2, False, True)]
    }  # fmt: skip
    out["loudness_1000"] = F.loudness(loud, 1000)
    out["Loudness_500"] = T.Loudness(500)(loud[0])
    out["edit_distance"] = torch.tensor([F.edit_distance("kitten", "sitting"),
                                         F.edit_distance([1, 2, 3], [3, 2]),
                                         F.edit_distance("", "abc")])  # fmt: skip
    out["frechet_distance"] = F.frechet_distance(t(x[0, :4]), cov_x, t(x[1, :4]), cov_y)
    out["InverseMelScale"] = T.InverseMelScale(9, 5, 8000)(
        torch.tensor(np.abs(x[:, :60]), dtype=torch.float32).reshape(2, 2, 5, 6)
    )
    out["Speed_1.25_lengths"] = torch.cat(
        [v.flatten().to(torch.float32) for v in T.Speed(100, 1.25)(x32, torch.tensor([64, 50]))]
    )
    torch.manual_seed(5)
    out["SpeedPerturbation_seed5"] = torch.cat(
        [T.SpeedPerturbation(100, [0.9, 1.1, 1.0])(x32)[0].flatten() for _ in range(3)]
    )
    return out


def beamforming_cases(F, T, torch, x, noise):
    """name -> output (complex ones as (..., 2) real), of the beamforming functions and
    transforms on a (3 channel, 5 freq, 6 frame) complex128 spectrogram with soft masks."""
    spec = torch.complex(torch.tensor(x.flatten()[:90]), torch.tensor(noise.flatten()[:90]))
    spec = spec.reshape(3, 5, 6)
    mask_s = torch.tensor(1 / (1 + np.exp(-4 * x.flatten()[:30].reshape(5, 6))))
    mask_n = torch.tensor(1 / (1 + np.exp(-4 * noise.flatten()[30:60].reshape(5, 6))))
    psd_s, psd_n = F.psd(spec, mask_s), F.psd(spec, mask_n, False)
    ref = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    rtf = F.rtf_power(psd_s, psd_n, 0)
    evd = F.rtf_evd(psd_s)
    evd = evd * (evd[..., :1].abs() / evd[..., :1])  # the eigenvectors' arbitrary phases removed
    out = {
        "psd_mask": psd_s, "psd_unnormalized": psd_n, "psd_no_mask": F.psd(spec),
        "mvdr_weights_souden_0": F.mvdr_weights_souden(psd_s, psd_n, 0),
        "mvdr_weights_souden_ref": F.mvdr_weights_souden(psd_s, psd_n, ref, False),
        "rtf_power_3": rtf, "rtf_power_1_ref": F.rtf_power(psd_s, psd_n, ref, 1),
        "rtf_evd_phase_fixed": evd,
        "mvdr_weights_rtf_1": F.mvdr_weights_rtf(rtf, psd_n, 1),
        "mvdr_weights_rtf_none": F.mvdr_weights_rtf(rtf, psd_n, None, False),
        "apply_beamforming": F.apply_beamforming(F.mvdr_weights_souden(psd_s, psd_n, 0), spec),
        "PSD_multi_mask": T.PSD(True)(spec, torch.stack([mask_s, mask_n, mask_s])),
        "RTFMVDR": T.RTFMVDR()(spec, rtf, psd_n, 2),
        "SoudenMVDR": T.SoudenMVDR()(spec, psd_s, psd_n, ref),
    }  # fmt: skip
    for solution in ("ref_channel", "stv_evd", "stv_power"):
        out[f"MVDR_{solution}"] = T.MVDR(1, solution)(spec, mask_s, mask_n)
    online = T.MVDR(online=True)
    out["MVDR_online"] = torch.stack([online(spec, mask_s, mask_n), online(spec, mask_n, mask_s)])
    return {k: torch.view_as_real(v) if v.is_complex() else v for k, v in out.items()}


DITHER = [("TPDF", False), ("RPDF", True), ("GPDF", False), ("GPDF", True)]


def dither_cases(F, torch, x):
    """name -> output of ``dither`` under a seed per case, on (3, 2, 8) waveforms and, for
    GPDF, a (2, 2) one (its seven draws then often meet the first sample, whose in-place sum
    torchaudio reads back)."""
    out = {}
    for i, (density, shaping) in enumerate(DITHER):
        wave = torch.tensor(x.flatten()[:48].reshape(3, 2, 8))
        torch.manual_seed(10 + i)
        out[f"dither_{density}_{shaping}"] = F.dither(wave, density, shaping)
        torch.manual_seed(20 + i)
        out[f"dither_{density}_{shaping}_tiny"] = F.dither(wave[0, :, :2].clone(), density, shaping)
    return out


def vad_cases(F, T, torch):
    """name -> ``vad`` output on 1 s at 4 kHz: quiet noise, then a voiced buzz (a 150 Hz
    pulse train on a 700 Hz carrier) from 0.55 s on; one channel, two channels with a gap
    and a pre-trigger, a silent one (empty output), and the transform."""
    rng = np.random.default_rng(3)
    sr = 4000
    t = np.arange(sr) / sr
    buzz = np.sin(2 * np.pi * 150 * t) ** 7 * np.sin(2 * np.pi * 700 * t)
    wave = 0.002 * rng.standard_normal(sr) + np.where(t > 0.55, 0.5 * buzz, 0.0)
    two = torch.tensor(np.stack([wave, np.roll(wave, 200) * 0.8]), dtype=torch.float32)
    wave = torch.tensor(wave, dtype=torch.float32)
    return {
        "vad_mono": F.vad(wave, sr),
        "vad_stereo_gap_pre_trigger": F.vad(
            two, sr, trigger_level=5.0, allowed_gap=0.1, pre_trigger_time=0.05
        ),  # fmt: skip
        "vad_silence": F.vad(0.001 * wave[:2000], sr),
        "Vad_transform": T.Vad(sr, trigger_time=0.2, noise_reduction_amount=1.0)(wave),
    }


def kaldi_cases(kaldi, torch, x, tone):
    """name -> compliance.kaldi features of 0.2 s at 4 kHz (a tone plus noise, 2 channels):
    spectrogram, fbank and mfcc under their defaults and under other windows, energies,
    ``htk_compat``, ``snip_edges=False``, VTLN warping, mean subtraction."""
    wave = tone[:, :800] + 0.1 * np.tile(x, (1, 13))[:, :800]
    wave = torch.tensor(wave, dtype=torch.float32)
    common = dict(sample_frequency=4000.0, frame_length=25.0, frame_shift=10.0)
    return {
        "kaldi_spectrogram": kaldi.spectrogram(wave, **common),
        "kaldi_spectrogram_hamming_no_snip": kaldi.spectrogram(
            wave, **common, window_type="hamming", snip_edges=False, raw_energy=False,
            subtract_mean=True, channel=1,
        ),
        "kaldi_fbank": kaldi.fbank(wave, **common, num_mel_bins=10),
        "kaldi_fbank_energy_htk_vtln": kaldi.fbank(
            wave, **common, num_mel_bins=8, use_energy=True, htk_compat=True, vtln_warp=0.9,
            vtln_low=200.0, vtln_high=-300.0, window_type="blackman", energy_floor=0.0,
        ),
        "kaldi_fbank_magnitude_no_log": kaldi.fbank(
            wave, **common, num_mel_bins=6, use_power=False, use_log_fbank=False,
            window_type="rectangular", round_to_power_of_two=False, preemphasis_coefficient=0.0,
        ),
        "kaldi_mfcc": kaldi.mfcc(wave, **common, num_mel_bins=10, num_ceps=6),
        "kaldi_mfcc_energy_htk": kaldi.mfcc(
            wave, **common, num_mel_bins=10, num_ceps=5, use_energy=True, htk_compat=True,
            window_type="hanning", cepstral_lifter=0.0, snip_edges=False,
        ),
        "kaldi_mfcc_htk_no_energy": kaldi.mfcc(wave, **common, num_mel_bins=8, num_ceps=7, htk_compat=True),
    }  # fmt: skip


def audio20_cases(x):
    """name -> output, for audio20's additions: the effects (on float32 for ``pitch_shift``,
    whose default window is float32), ``PitchShift`` and ``merge_tokens``' spans as rows
    ``[token, start, end, score]`` (its C++ ``forced_align`` does not load here: the tests
    check that one against a brute-force Viterbi)."""
    import torch
    import torchaudio.functional as F
    import torchaudio.transforms as T

    out = {}
    for name, args in EFFECTS20:
        wave = torch.tensor(x, dtype=torch.float32 if name == "pitch_shift" else torch.float64)
        out[f"{name}{args}"] = getattr(F, name)(wave, *args)
    out["PitchShift"] = T.PitchShift(100, 4, n_fft=16)(torch.tensor(x, dtype=torch.float32))
    tokens, blank = MERGE_TOKENS
    scores = torch.linspace(-2.0, -0.1, len(tokens), dtype=torch.float64)
    spans = F.merge_tokens(torch.tensor(tokens), scores, blank)
    out["merge_tokens"] = torch.tensor([[s.token, s.start, s.end, s.score] for s in spans])
    out.update(measure_cases(F, T, torch, x))
    out.update(beamforming_cases(F, T, torch, x, inputs()[1]))
    out.update(dither_cases(F, torch, x))
    out.update(vad_cases(F, T, torch))
    import torchaudio.compliance.kaldi as kaldi

    out.update(kaldi_cases(kaldi, torch, x, inputs()[3]))
    import torchaudio.models as M

    x32 = torch.tensor(x, dtype=torch.float32)
    out.update({k: call() for k, call in audio20_model_cases(M, torch, x32).items()})
    return out


def audio20_model_cases(M, torch, x32):
    """name -> call, of a tiny Tacotron2 (weights filled): teacher-forced ``forward`` in eval
    mode (the prenet's dropout stays on) and in training mode with ``mask_padding``, and
    ``infer`` (up to ``decoder_max_step`` frames), each under a seed."""

    def tacotron(train, mask_padding=False, seed=0):
        torch.manual_seed(seed)
        m = M.Tacotron2(mask_padding=mask_padding, **TACOTRON2)
        return fill_from_numpy(m, torch).train(train)

    tokens = torch.tensor([[1, 4, 2, 9, 3], [5, 6, 7, 0, 0]])
    mel = x32.reshape(2, 4, 16)[:, :, :6]

    def forward(train, mask_padding):
        m = tacotron(train, mask_padding)
        torch.manual_seed(1)
        return torch.cat(
            [t.flatten() for t in m(tokens, torch.tensor([5, 3]), mel, torch.tensor([6, 4]))]
        )

    def infer():
        m = tacotron(False)
        torch.manual_seed(2)
        out, lengths, alignments = m.infer(tokens, torch.tensor([5, 3]))
        return torch.cat([out.flatten(), lengths.to(out.dtype), alignments.flatten()])

    frames = x32.repeat(1, 3).reshape(2, 24, 8)[:, :14]  # 3 segments of 4 and 2 look-ahead

    def emformer(**kwargs):
        torch.manual_seed(3)
        return fill_from_numpy(M.Emformer(**EMFORMER, **kwargs), torch).eval()

    def emformer_infer():
        m, states, out = emformer(max_memory_size=2), None, []
        for seg in range(3):
            y, lengths, states = m.infer(
                frames[:, 4 * seg : 4 * seg + 6], torch.tensor([6, 5]), states
            )
            out += [y.flatten(), lengths.to(y.dtype)]
        return torch.cat(out + [s.flatten().to(y.dtype) for state in states for s in state])

    sources = x32.repeat(1, 2).reshape(2, 128)[:, :60].reshape(2, 10, 6)  # 8 frames + 2 ahead

    def rnnt():
        torch.manual_seed(4)
        return fill_from_numpy(M.emformer_rnnt_model(**RNNT), torch).eval()

    def rnnt_forward():
        out, src_len, tgt_len, state = rnnt()(
            sources,
            torch.tensor([8, 6]),
            torch.tensor([[1, 3, 2], [0, 2, 0]]),
            torch.tensor([3, 2]),
        )
        rest = [src_len, tgt_len] + [s for layer in state for s in layer]
        return torch.cat([out.flatten()] + [t.flatten().to(out.dtype) for t in rest])

    def hypotheses(hypos):  # [n tokens, tokens..., score] per hypothesis, best first
        return torch.tensor([v for h in hypos for v in [len(h[0])] + h[0] + [h[3]]])

    def beam_search():
        return hypotheses(M.RNNTBeamSearch(rnnt(), blank=4)(sources[0], torch.tensor(8), 3))

    def beam_search_streaming():
        search, state, hypos = M.RNNTBeamSearch(rnnt(), blank=4, step_max_tokens=2), None, None
        for seg in range(2):
            chunk = sources[1, 4 * seg : 4 * seg + 6]
            hypos, state = search.infer(chunk, torch.tensor(6), 2, state, hypos)
        return hypotheses(hypos)

    def hdemucs():
        torch.manual_seed(6)
        m = fill_from_numpy(M.HDemucs(**HDEMUCS), torch).eval()
        return m(x32.reshape(2, 2, 32).repeat(1, 1, 3)[..., :90])  # 90: padded to whole hops

    def blstm_framed():  # > 200 steps: half-overlapping windows of 200
        hd = getattr(M, "_hdemucs", None) or M.hdemucs  # torchaudio's module, minigrad's
        torch.manual_seed(7)
        m = fill_from_numpy(hd._BLSTM(3, layers=1, skip=True), torch)
        return m(x32.flatten().repeat(11)[:1380].reshape(2, 3, 230))

    def squim_objective():
        torch.manual_seed(8)
        return torch.stack(fill_from_numpy(M.squim_objective_model(**SQUIM), torch).eval()(x32))

    def squim_subjective():
        torch.manual_seed(9)
        ssl = M.wav2vec2_model("layer_norm", encoder_layer_norm_first=True, aux_num_out=None, **W2V)
        predictor = getattr(M.squim, "subjective", M.squim).Predictor  # torchaudio's, minigrad's
        model = M.SquimSubjective(ssl, torch.nn.Linear(12, 4), predictor(8, 5))
        return fill_from_numpy(model, torch).eval()(x32, x32[:, :40])

    def wavlm(mode, first, aux):
        torch.manual_seed(11)
        m = M.wavlm_model(mode, encoder_layer_norm_first=first, aux_num_out=aux, **WAVLM, **W2V)
        return fill_from_numpy(m, torch).eval()

    wave = x32.repeat(1, 3)  # 9 frames: relative offsets up to 8, past the exact buckets

    return {
        "WavLM_group_norm_aux": lambda: wavlm("group_norm", False, 5)(wave)[0],
        "WavLM_layer_norm_first_extract_features": lambda: torch.stack(
            wavlm("layer_norm", True, None).extract_features(wave, None, 2)[0]
        ),
        "SquimObjective": squim_objective,
        "SquimSubjective": squim_subjective,
        "HDemucs": hdemucs,
        "HDemucs_BLSTM_framed": blstm_framed,
        "RNNT_forward": rnnt_forward,
        "RNNTBeamSearch": beam_search,
        "RNNTBeamSearch_infer_streaming": beam_search_streaming,
        "Emformer_memory": lambda: emformer(max_memory_size=2)(frames, torch.tensor([12, 9]))[0],
        "Emformer_gelu_tanh_batch1": lambda: emformer(
            activation="gelu", weight_init_scale_strategy=None, tanh_on_mem=True
        )(frames[:1], torch.tensor([12]))[0],
        "Emformer_infer_memory": emformer_infer,
        "Tacotron2_eval": lambda: forward(False, False),
        "Tacotron2_train_mask_padding": lambda: forward(True, True),
        "Tacotron2_infer": infer,
    }


def audio20_modules():
    """state_dict keys/shapes and parameter counts of audio20's models."""
    import torchaudio.models as M

    mods = {"Tacotron2": M.Tacotron2(), "Tacotron2_tiny": M.Tacotron2(**TACOTRON2),
            "Emformer_memory": M.Emformer(**EMFORMER, max_memory_size=2),
            "emformer_rnnt_base": M.emformer_rnnt_base(4097),
            "emformer_rnnt_model_tiny": M.emformer_rnnt_model(**RNNT),
            "hdemucs_low": M.hdemucs_low(SOURCES), "hdemucs_high": M.hdemucs_high(SOURCES),
            "HDemucs_tiny": M.HDemucs(**HDEMUCS), "squim_objective_base": M.squim_objective_base(),
            "squim_subjective_base": M.squim_subjective_base(),
            "squim_objective_model_tiny": M.squim_objective_model(**SQUIM),
            "wav2vec2_xlsr_300m": M.wav2vec2_xlsr_300m(), "wavlm_base": M.wavlm_base(),
            "wavlm_model_tiny": M.wavlm_model("group_norm", encoder_layer_norm_first=False,
                                              aux_num_out=5, **WAVLM, **W2V)}  # fmt: skip
    return {
        name: {
            "state_dict": {k: list(v.shape) for k, v in m.state_dict().items()},
            "parameters": sum(p.numel() for p in m.parameters()),
        }
        for name, m in mods.items()
    }


def keys_and_counts():
    """state_dict keys/shapes of transforms and parameter counts of models."""
    import torchaudio.models as M
    import torchaudio.transforms as T

    mods = {
        "MelSpectrogram": T.MelSpectrogram(8000, n_fft=16, n_mels=6),
        "MFCC": T.MFCC(8000, n_mfcc=4, melkwargs={"n_fft": 16, "n_mels": 6}),
        "LFCC": T.LFCC(8000, n_filter=6, n_lfcc=4, speckwargs={"n_fft": 16}),
        "Resample": T.Resample(8000, 6000),
        "TimeStretch": T.TimeStretch(n_freq=9),
        "Wav2Letter": M.Wav2Letter(),
        "Wav2Letter_mfcc": M.Wav2Letter(num_classes=10, input_type="mfcc", num_features=13),
        "DeepSpeech": M.DeepSpeech(n_feature=20, n_hidden=32, n_class=5),
        "ConvTasNet": M.ConvTasNet(**TASNET),
        "conv_tasnet_base": M.conv_tasnet_base(),
        "Conformer": M.Conformer(**CONFORMER),
        "WaveRNN": M.WaveRNN(**WAVERNN),
        "wav2vec2_model_tiny": M.wav2vec2_model(
            "group_norm", **W2V, encoder_layer_norm_first=False, aux_num_out=5
        ),
        **{name: getattr(M, name)() for name in W2V_BUILDERS},
    }
    return {
        name: {
            "state_dict": {k: list(v.shape) for k, v in m.state_dict().items()},
            "parameters": sum(p.numel() for p in m.parameters()),
        }
        for name, m in mods.items()
    }


def _rounded(values):
    """Nested lists with floats to 10 significant digits (the tests compare to 1e-6)."""
    if isinstance(values, list):
        return [_rounded(v) for v in values]
    return float(f"{values:.10g}") if isinstance(values, float) else values


def main():
    import torchaudio

    outputs = {k: _rounded(v.tolist()) for k, v in cases(*inputs()).items()}
    audio20 = {k: _rounded(v.tolist()) for k, v in audio20_cases(inputs()[0]).items()}
    ref = {"torchaudio": torchaudio.__version__, "outputs": outputs, "modules": keys_and_counts(),
           "audio20": audio20, "audio20_modules": audio20_modules()}  # fmt: skip
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchaudio_reference.json")
    with open(path, "w") as f:
        json.dump(ref, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
