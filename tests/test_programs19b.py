"""A nineteenth round of PyTorch programs (b), on recent LLM and architecture code copied from
papers' reference repositories (2023-2026): latent attention, auxiliary-loss-free mixture of
experts, differential and normalized transformers, xLSTM, retention, quantized low-rank
adapters, paged caches, blockwise attention and preference losses, run with ``torch`` bound to
minigrad and with PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_mla_latent_attention(programs):
    ours, theirs = _both(programs, "mla_latent_attention")  # polar, view_as_complex, einsum absorb
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.5 * ours.losses[0]
    assert close(ours.rope_grad_sample, theirs.rope_grad_sample, 1e-3, 1e-7)
    assert ours.absorb_gap < 1e-5 and theirs.absorb_gap < 1e-5  # the latent cache decodes alike
    assert ours.copy_accuracy == theirs.copy_accuracy == 1.0
    assert ours.freqs_dtype == theirs.freqs_dtype == "torch.complex64" and ours.rope_norm_kept
    assert ours.odd_rope_error == theirs.odd_rope_error


def test_moe_aux_free_balance(programs):
    ours, theirs = _both(programs, "moe_aux_free_balance")  # bincount, where, index_add_, chunk
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.4 * ours.losses[0]
    assert ours.first_counts == theirs.first_counts and ours.last_counts == theirs.last_counts
    assert ours.imbalance == theirs.imbalance and ours.imbalance[-1] < 0.6 * ours.imbalance[0]
    assert close(ours.bias, theirs.bias, 1e-5, 1e-6) and not ours.bias_requires_grad
    assert close(ours.gate_grad_sample, theirs.gate_grad_sample, 1e-4, 1e-7)
    assert ours.counts_dtype == theirs.counts_dtype == "torch.int64" and ours.untouched == []
    assert ours.negative_error == theirs.negative_error


def test_diff_transformer(programs):
    ours, theirs = _both(programs, "diff_transformer")  # two softmaxes subtracted, per-head RMSNorm
    assert close(ours.diff_losses, theirs.diff_losses, 1e-4, 1e-6)
    assert close(ours.softmax_losses, theirs.softmax_losses, 1e-4, 1e-6)
    assert sum(ours.diff_losses[-3:]) < 0.9 * sum(ours.diff_losses[:3])
    assert ours.lambda_inits == theirs.lambda_inits
    assert close(ours.lambda_grad, theirs.lambda_grad, 1e-4, 1e-8)
    assert close(ours.first_row_sums, [ours.one_minus_lambda] * 3, 1e-5)  # rows sum to 1 - lambda
    assert ours.one_minus_lambda == pytest.approx(theirs.one_minus_lambda, rel=1e-5)
    assert ours.has_negative_weights and ours.masked_future == 0.0


def test_ngpt_normalized(programs):
    ours, theirs = _both(programs, "ngpt_normalized")  # F.normalize, SDPA scale=, eigen rates
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.6 * ours.losses[0]
    assert close(ours.hidden_norm_range, [1.0, 1.0], 1e-6)  # hidden states stay on the sphere
    assert close(ours.embedding_row_norms + ours.proj_col_norms, [1.0] * 8, 1e-6)
    assert close(ours.alpha_sample, theirs.alpha_sample, 1e-4, 1e-7)
    assert close(ours.sz_grad_sample, theirs.sz_grad_sample, 1e-4, 1e-7)
    assert ours.normalize_zero == theirs.normalize_zero == [[0.0] * 3] * 2
    assert ours.justnorm_zero_is_nan and theirs.justnorm_zero_is_nan


def test_xlstm_cells(programs):
    ours, theirs = _both(programs, "xlstm_cells")  # logsigmoid cumsum decay, stabiliser, einsum R
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.85 * ours.losses[0]
    # the recurrent weights' gradients are ~1e-5: Adam's normalised steps spread float32 rounding
    assert close(ours.r_grad_sample, theirs.r_grad_sample, 1e-3, 1e-9)
    assert close(ours.gate_grad_sample, theirs.gate_grad_sample, 1e-3, 1e-8)
    assert close(ours.slstm_m_sample, theirs.slstm_m_sample, 1e-2, 1e-3)
    assert close(ours.final_m_sample, theirs.final_m_sample, 1e-2, 1e-3)
    assert ours.parallel_recurrent_gap < 1e-5 and theirs.parallel_recurrent_gap < 1e-5
    assert ours.stable_finite and ours.naive_overflows and theirs.naive_overflows


def test_retnet_retention(programs):
    ours, theirs = _both(programs, "retnet_retention")  # decay masks, ::2 slices, recurrent state
    # a per-head RMSNorm makes the retention scale-free: the gradients along the scale are float32
    # noise, which Adam's normalised steps grow (a float64 run also drifts 1e-3 by step 20)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.5 * ours.losses[0]
    assert close(ours.first_q_grad, theirs.first_q_grad, 1e-5, 1e-8)
    assert ours.parallel_recurrent_gap < 1e-4 and theirs.parallel_recurrent_gap < 1e-4
    assert close(ours.decays, theirs.decays, 1e-6) and close(ours.final_scales, theirs.final_scales)
    assert close(ours.mask_row_norms, theirs.mask_row_norms, 1e-6)
    assert ours.rotated == theirs.rotated == [-1.0, 0.0, -3.0, 2.0, -5.0, 4.0, -7.0, 6.0]


def test_qlora_nf4_dora(programs):
    ours, theirs = _both(programs, "qlora_nf4_dora")  # ndtri levels, uint8 packing, DoRA norms
    assert close(ours.nf4_levels, theirs.nf4_levels, 1e-6) and len(ours.nf4_levels) == 16
    assert ours.nf4_levels[0] == -1.0 and ours.nf4_levels[7] == 0.0 and ours.nf4_levels[-1] == 1.0
    assert ours.packed_dtype == theirs.packed_dtype == "torch.uint8" and ours.packed_numel == 1024
    assert ours.quant_error == pytest.approx(theirs.quant_error, rel=1e-6)
    assert ours.relative_quant_error == pytest.approx(theirs.relative_quant_error, rel=1e-5)
    assert close(ours.lora_losses, theirs.lora_losses, 1e-4, 1e-7)
    assert close(ours.dora_losses, theirs.dora_losses, 1e-4, 1e-7)
    assert ours.lora_losses[-1] < 0.2 * ours.lora_losses[0] and ours.dora_losses[-1] < 0.2
    assert (ours.lora_trainable, ours.dora_trainable) == (theirs.lora_trainable, 3)
    assert close(ours.magnitude_grad_sample, theirs.magnitude_grad_sample, 1e-3, 1e-7)
    assert ours.bias_grad_is_none and ours.merge_gap < 1e-5
    assert ours.float_shift_error.startswith(theirs.float_shift_error)  # "lshift_cpu" ... 'Float'


def test_paged_kv_cache(programs):
    ours, theirs = _both(programs, "paged_kv_cache")  # index_copy_ slots, index_select, gather
    assert ours.prefill_tables == theirs.prefill_tables  # randperm's free list, in the same order
    assert ours.prefill_slots == theirs.prefill_slots and ours.prefill_slots[2] == [12, 13, 14]
    assert ours.paged_tokens == theirs.paged_tokens == theirs.reference_tokens
    assert ours.tokens_match and ours.paged_gap < 1e-5
    assert close(ours.logits_sample, theirs.logits_sample, 1e-5, 1e-6)
    assert ours.blocks_used == theirs.blocks_used and ours.free_after_release == 18
    assert ours.kept_sizes == ours.allowed_per_row == theirs.allowed_per_row
    assert ours.streaming_gap < 1e-6 and theirs.streaming_gap < 1e-6


def test_ring_attention_online(programs):
    ours, theirs = _both(programs, "ring_attention_online")  # lse merging, autograd.Function
    for gap in ("ring_gap", "ring_grad_gap", "noncausal_gap", "flash_gap", "flash_grad_gap"):
        assert getattr(ours, gap) < 5e-6 and getattr(theirs, gap) < 5e-6, gap
    assert close(ours.dk_sample, theirs.dk_sample, 1e-5, 1e-7)
    assert ours.gradcheck_ok and ours.grad_fn_name == theirs.grad_fn_name
    assert close(ours.losses, theirs.losses, 1e-4, 1e-7) and ours.losses[-1] < 0.6 * ours.losses[0]


def test_preference_losses(programs):
    ours, theirs = _both(programs, "preference_losses")  # logsigmoid, log1p(-exp), gather, -100
    assert close(ours.rm_losses, theirs.rm_losses, 1e-4, 1e-7)
    assert ours.rm_losses[-1] < 0.7 * ours.rm_losses[0]
    assert ours.rm_accuracy == theirs.rm_accuracy and ours.rm_accuracy > 0.9
    assert close(ours.results, theirs.results, 1e-4, 1e-6)
    for name in ("simpo", "orpo", "kto"):  # each loss widened the chosen-rejected margin
        assert ours.results[name]["margin"] > ours.start_margin + 0.5, name
        assert ours.results[name]["losses"][-1] < ours.results[name]["losses"][0], name
    assert ours.start_margin == pytest.approx(theirs.start_margin, rel=1e-4)
    assert ours.reference_frozen and ours.label_mask_count == theirs.label_mask_count == 80


def test_yarn_rope_scaling(programs):
    ours, theirs = _both(programs, "yarn_rope_scaling")  # NTK, dynamic NTK, YaRN ramp, QK-norm
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.85 * ours.losses[0]
    assert close(ours.long_losses, theirs.long_losses, 1e-5, 1e-6)
    assert list(ours.long_losses) == ["default", "linear", "ntk", "dynamic", "yarn"]
    assert close(ours.yarn_freq, theirs.yarn_freq, 1e-6) and ours.yarn_range == theirs.yarn_range
    assert ours.yarn_mscale == theirs.yarn_mscale and ours.ntk_base == theirs.ntk_base
    assert ours.dynamic_short_is_default and theirs.dynamic_short_is_default
    assert close(ours.q_norm_grad, theirs.q_norm_grad, 1e-4, 1e-7)


def test_mtp_medusa_mup(programs):
    ours, theirs = _both(programs, "mtp_medusa_mup")  # detach().requires_grad_(), h.backward(g)
    assert ours.group_lrs == theirs.group_lrs == [0.01, 0.005]
    assert close(ours.mtp_losses, theirs.mtp_losses, 1e-4, 1e-6)
    assert ours.mtp_losses[-1] < 0.85 * ours.mtp_losses[0]
    assert ours.detached_grad_gap < 1e-6 and theirs.detached_grad_gap < 1e-6
    assert close(ours.medusa_losses, theirs.medusa_losses, 1e-4, 1e-6)
    assert ours.medusa_losses[-1] < 0.6 * ours.medusa_losses[0] and ours.trunk_grads_none
    assert ours.draft_list == theirs.draft_list and ours.draft_accuracy == theirs.draft_accuracy
    assert ours.next_accuracy == theirs.next_accuracy


def test_blt_entropy_patching(programs):
    ours, theirs = _both(programs, "blt_entropy_patching")  # Categorical entropy, scatter_reduce
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.losses[-1] < 0.6 * ours.losses[0]
    assert close(ours.entropy_sample, theirs.entropy_sample, 1e-5, 1e-6)
    assert ours.threshold == pytest.approx(theirs.threshold, rel=1e-5)
    assert ours.patch_lengths_list == theirs.patch_lengths_list and ours.lengths_agree
    assert sum(ours.patch_lengths_list) == 48 and ours.n_patches == theirs.n_patches
    assert ours.relative_count == theirs.relative_count
    assert ours.hash_sample == theirs.hash_sample  # 257 ** arange(3): integer powers
    assert close(ours.pooled_sample, theirs.pooled_sample, 1e-5, 1e-6) and ours.mean_check < 1e-6
    assert ours.decoded_first_patch == theirs.decoded_first_patch
