"""A tenth round of PyTorch programs, written as current research code writes them (RWKV and
Hyena sequence mixers, speculative decoding, DPO and GRPO losses, ConvNeXt, Swin, a diffusion
transformer trained by flow matching, Muon, a TopK sparse autoencoder, KANs, STFT-domain
denoising, flow warping and deformable convolution, PatchTST, bfloat16 training), run with
``torch`` bound to minigrad and with PyTorch itself; minigrad's generator follows PyTorch's
streams, so the two runs are compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_rwkv_time_mix(programs):
    ours, theirs = _both(programs, "rwkv_time_mix")  # token shift, stable WKV recurrence
    assert ours.wkv_gap < 1e-12 and close(ours.wkv_sample, theirs.wkv_sample, 1e-12)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.decay_grad, theirs.decay_grad, 1e-3, 1e-8)
    assert close(ours.first_grad, theirs.first_grad, 1e-3, 1e-8)
    assert ours.losses[-1] < ours.losses[0]


def test_speculative_decoding(programs):
    ours, theirs = _both(programs, "speculative_decoding")  # draft + verify, residual resampling
    assert ours.spec_greedy == ours.target_greedy == theirs.spec_greedy
    assert ours.sampled == theirs.sampled and ours.acceptance == theirs.acceptance
    assert ours.target_loss == pytest.approx(theirs.target_loss, rel=1e-4)
    assert ours.draft_loss == pytest.approx(theirs.draft_loss, rel=1e-4)
    assert close(ours.expected_acceptance, theirs.expected_acceptance, 1e-4, 1e-5)
    assert ours.tv_distance == pytest.approx(theirs.tv_distance, rel=1e-4)


def test_dpo_grpo(programs):
    ours, theirs = _both(programs, "dpo_grpo")  # frozen reference, gathered token log-probs
    for key in ("loss", "accuracy", "margin"):
        assert close(ours.history[key], theirs.history[key], 1e-4, 1e-6), key
    assert ours.reference_frozen and theirs.reference_frozen
    assert close(ours.grpo_losses, theirs.grpo_losses, 1e-3, 1e-6)
    assert close(ours.mean_rewards, theirs.mean_rewards, 1e-6) and close(ours.kls, theirs.kls)


def test_convnext(programs):
    ours, theirs = _both(programs, "convnext")  # channels-first LayerNorm, drop path, GRN
    assert ours.layer_norm_gap < 1e-5
    for v2 in (False, True):
        a, b = ours.results[v2], theirs.results[v2]
        assert close(a["losses"], b["losses"], 1e-5, 1e-6), v2
        assert close(a["logits"], b["logits"], 1e-4, 1e-5), v2
        assert a["accuracy"] == b["accuracy"] and a["eval_repeat_gap"] == 0.0


def test_istft_denoise(programs):
    ours, theirs = _both(programs, "istft_denoise")  # mel filterbank, mask, polar, istft
    a, b = ours.fbank_info, theirs.fbank_info
    assert (a["shape"], a["peaks"]) == (b["shape"], b["peaks"])
    assert close(a["column_sums"], b["column_sums"], 1e-5)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-4)
    assert close(ours.noisy_sdr, theirs.noisy_sdr, 1e-5) and close(
        ours.enhanced_sdr, theirs.enhanced_sdr, 1e-4
    )
    assert ours.mask_mean == pytest.approx(theirs.mask_mean, rel=1e-5)
    assert ours.round_trip_gap < 1e-5 and sum(ours.enhanced_sdr) > sum(ours.noisy_sdr)


def test_flow_warp_deformable(programs):
    ours, theirs = _both(programs, "flow_warp_deformable")  # grid_sample modes, DCNv2
    assert ours.warps.keys() == theirs.warps.keys()
    for key, (total, row) in theirs.warps.items():
        assert ours.warps[key][0] == pytest.approx(total, rel=1e-5), key
        assert close(ours.warps[key][1], row, 1e-5, 1e-6), key
    assert ours.shift_gap < 1e-6 and ours.deform_gap < 1e-5
    assert close(ours.fit_losses, theirs.fit_losses, 1e-4, 1e-6)
    assert close(ours.mean_flow, theirs.mean_flow, 1e-4)
    assert close(ours.volume_info, theirs.volume_info, 1e-5)
    assert close(ours.deform_losses, theirs.deform_losses, 1e-5)
    assert close(ours.offset_grad, theirs.offset_grad, 1e-4, 1e-7)


def test_patchtst(programs):
    ours, theirs = _both(programs, "patchtst")  # RevIN, unfold patches, padding masks
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.mse == pytest.approx(theirs.mse, rel=1e-5) and ours.mse < ours.naive_mse
    assert close(ours.forecast_sample, theirs.forecast_sample, 1e-5)
    assert ours.kept_gap < 1e-5 and ours.padded_abs == theirs.padded_abs == 0.0
    assert ours.nested_warnings == theirs.nested_warnings


def test_dit_flow_matching(programs):
    ours, theirs = _both(programs, "dit_flow_matching")  # adaLN-Zero, CFG dropout, Euler
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.gate_grad_norm == pytest.approx(theirs.gate_grad_norm, rel=1e-4)
    assert close(ours.sample_stats, theirs.sample_stats, 1e-4, 1e-5)
    assert close(ours.pos_embed_sample, theirs.pos_embed_sample, 1e-6)


def test_muon_optimizer(programs):
    ours, theirs = _both(programs, "muon_optimizer")  # bfloat16 Newton-Schulz, torch.optim.Muon
    assert close(ours.svals32, theirs.svals32, 1e-5) and close(ours.svals16, theirs.svals16, 1e-5)
    assert ours.tall_shape == theirs.tall_shape == [20, 12]
    assert ours.bf16_gap == pytest.approx(theirs.bf16_gap, rel=1e-4)
    # the hand-written optimizer agrees to float rounding; minigrad's optim.Muon drifts from
    # torch.optim.Muon by about 1% in eight steps (float32 rounding that moves bfloat16 ones)
    assert close(ours.ours_losses, theirs.ours_losses, 1e-5)
    assert close(ours.ours_norms, theirs.ours_norms, 1e-5)
    assert close(ours.hidden_sample, theirs.hidden_sample, 1e-5, 1e-6)
    assert close(ours.builtin_losses, theirs.builtin_losses, 1e-3)
    assert close(ours.builtin_norms, theirs.builtin_norms, 3e-2)
    assert ours.weight_gap == pytest.approx(theirs.weight_gap, rel=0.1)


def test_sparse_autoencoder(programs):
    ours, theirs = _both(programs, "sparse_autoencoder")  # topk + scatter_, AuxK, unit norms
    for key in ("mse", "aux"):
        assert close(ours.history[key], theirs.history[key], 1e-4, 1e-6), key
    assert ours.history["dead"] == theirs.history["dead"] and max(ours.history["dead"]) > 0
    assert ours.l0 == theirs.l0 == 4.0
    assert ours.fraction_explained == pytest.approx(theirs.fraction_explained, rel=1e-5)
    assert close(ours.recovered, theirs.recovered, 1e-5) and close(ours.column_norms, [1.0] * 5)


def test_kan(programs):
    ours, theirs = _both(programs, "kan")  # B-spline bases, lstsq coefficients, grid update
    assert close(ours.basis_sums, [[1.0, 1.0]] * 4, 1e-6)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)
    assert close(ours.grid_after, theirs.grid_after, 1e-5, 1e-6)
    assert ours.test_mse == pytest.approx(theirs.test_mse, rel=1e-4)
    assert ours.reg == pytest.approx(theirs.reg, rel=1e-4)


def test_swin_window_attention(programs):
    ours, theirs = _both(programs, "swin_window_attention")  # windows, roll, relative bias
    assert ours.partition_round_trip and ours.mask_info == theirs.mask_info == [[4, 16, 16], 448]
    assert ours.index_info == theirs.index_info
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.table_grad, theirs.table_grad, 1e-4, 1e-10)
    assert ours.accuracy == theirs.accuracy


def test_hyena(programs):
    ours, theirs = _both(programs, "hyena")  # fftconv, implicit filters, gating
    assert ours.fft_gap < 1e-5 and ours.causal_gap < 1e-5
    assert close(ours.filter_sample, theirs.filter_sample, 1e-5, 1e-6)
    assert close(ours.pos_z, theirs.pos_z, 1e-6)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.freq_grad, theirs.freq_grad, 1e-3, 1e-8)


def test_bf16_training(programs):
    ours, theirs = _both(programs, "bf16_training")  # autocast + accumulation, pure bfloat16
    assert close(ours.fp32_losses, theirs.fp32_losses, 1e-5, 1e-6)
    assert close(ours.fp32_norms, theirs.fp32_norms, 1e-4)
    assert ours.amp_dtypes == theirs.amp_dtypes  # as_torch: minigrad's dtypes print as torch's
    assert ours.amp_losses[0] == pytest.approx(theirs.amp_losses[0], rel=1e-6)  # one forward
    # some bfloat16 backward formulas round after each composed step (PyTorch's kernels
    # once): gradients agree to bfloat16's precision, and training carries that along
    assert close(ours.amp_losses, theirs.amp_losses, 5e-4) and close(
        ours.amp_norms, theirs.amp_norms, 5e-3
    )
    for key in ("sgd_state", "adamw_state"):
        assert getattr(ours, key) == getattr(theirs, key)
    assert (
        ours.sgd_losses[:2] == theirs.sgd_losses[:2]
        and ours.adamw_losses[:2] == theirs.adamw_losses[:2]
    )
    assert close(ours.sgd_losses, theirs.sgd_losses, 0, 0.03)
    assert close(ours.adamw_losses, theirs.adamw_losses, 0, 0.03)
    assert close(ours.bf16_weight, theirs.bf16_weight, 0, 4e-3)
