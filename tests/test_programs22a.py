"""A twenty-second round of PyTorch programs: sequence models and long-context attention as
their reference code writes them (S4D, the LRU, Griffin's RG-LRU, Linformer, Nyströmformer,
BigBird, DeBERTa, XLNet, BART infilling, ELMo, BiDAF, Mistral's rolling KV cache, Gemma's soft
capping), run with ``torch`` bound to minigrad and with PyTorch itself and compared value by
value. Float32 training is compared at 1e-5 relative where the runs stay within a few ulps
(2e-7 to 7e-6 measured); where a program's training amplifies rounding (oscillating steps), its
early steps are compared at 1e-5 and the rest looser, justified by a float64 run of both
libraries agreeing to 1e-13 (LRU, BiDAF); ELMo's float32-only encoder (``torch.FloatTensor``
weights) drifts 5e-6 over its Adagrad steps and is compared at 2e-5."""

import pytest
import test_programs5
from test_programs5 import close
from test_programs5 import forget_einops_backend as _forget_einops_backend

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch


pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    runs = []
    for torch in (False, True):
        _forget_einops_backend()
        runs.append(programs(name, torch=torch))
    _forget_einops_backend()
    return tuple(runs)


def test_s4d_bidirectional(programs):
    ours, theirs = _both(programs, "s4d_bidirectional")  # complex kernel, rfft conv, _optim groups
    assert ours.kernel_vs_recurrence < 1e-5 and theirs.kernel_vs_recurrence < 1e-5
    assert ours.complex_param == theirs.complex_param
    assert ours.complex_param == [(3, 4, 2), "torch.float32", "torch.complex64", "torch.complex64"]
    assert (ours.kernel_shape, ours.kernel_dtype) == (theirs.kernel_shape, theirs.kernel_dtype)
    assert ours.groups == theirs.groups == [(16, 0.05, 0.01), (6, 0.01, 0.0)]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.accs == theirs.accs
    assert close(ours.lrs, theirs.lrs, 1e-6, 1e-9) and ours.C_grad_dtype == "torch.float32"
    assert ours.losses[-1] < 0.85 * ours.losses[0] and ours.accs[-1] >= 0.75


def test_lru_complex_recurrence(programs):
    ours, theirs = _both(programs, "lru_complex_recurrence")  # complex Adam, parallel scan
    assert ours.scan_vs_loop < 1e-5 and theirs.scan_vs_loop < 1e-5
    assert ours.cumprod_check < 1e-5 and theirs.cumprod_check < 1e-5
    assert close(ours.lambda_moduli, theirs.lambda_moduli, 1e-6)
    assert 0.4 <= min(ours.lambda_moduli) and max(ours.lambda_moduli) <= 0.9
    assert ours.param_dtypes == theirs.param_dtypes and ours.complex_state == theirs.complex_state
    assert ours.complex_state == ["torch.complex64", "torch.complex64"]
    # the oscillating steps grow float32 rounding to 3e-5; in float64 the runs agree to 7e-14
    assert close(ours.losses[:15], theirs.losses[:15], 1e-5, 1e-6)
    assert close(ours.losses, theirs.losses, 2e-4, 1e-6)
    assert close(ours.b_grad_sample, theirs.b_grad_sample, 1e-3, 1e-6)
    assert ours.losses[-1] < 0.1 * ours.losses[0]


def test_griffin_rglru(programs):
    ours, theirs = _both(programs, "griffin_rglru")  # custom sqrt grad, y[:, t] = ..., resets
    assert close(ours.a_range, theirs.a_range, 1e-6) and 0.4 < ours.a_range[0] < ours.a_range[1] < 1
    assert ours.sqrt_grad == theirs.sqrt_grad and ours.sqrt_grad[-1] == 1.0
    assert ours.y_grad_fn == theirs.y_grad_fn == "CopySlices"
    assert (
        ours.inplace_error == theirs.inplace_error
        and "modified by an inplace" in ours.inplace_error
    )
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.1 * ours.losses[0]
    assert ours.decode_gap < 1e-4 and theirs.decode_gap < 1e-4  # cached decoding = full run
    assert ours.cache_shapes == theirs.cache_shapes == [(8, 3, 16), (8, 16)]
    assert ours.accuracy == pytest.approx(theirs.accuracy) and ours.accuracy > 0.9


def test_linformer_projected(programs):
    ours, theirs = _both(programs, "linformer_projected")  # einsum sequence projections
    assert ours.identity_gap < 1e-5 and theirs.identity_gap < 1e-5  # k = n, identity = full
    assert ours.short_shape == theirs.short_shape == (3, 9, 8)
    assert ours.shared_names == theirs.shared_names and "proj_v" not in ours.shared_names
    assert ours.too_long == theirs.too_long and ours.param_count == theirs.param_count
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.accs == theirs.accs
    assert ours.losses[-1] < 0.3 * ours.losses[0] and ours.accs[-1] > 0.9


def test_nystromformer_landmarks(programs):
    ours, theirs = _both(programs, "nystromformer_landmarks")  # iterative pinv, padded masks
    assert ours.pinv_gap < 1e-10 and theirs.pinv_gap < 1e-10  # 20 iterations reach linalg.pinv
    assert ours.pinv_gap_6 == pytest.approx(theirs.pinv_gap_6, rel=1e-10)
    assert ours.exact_gap < 1e-10 and ours.row_sums == pytest.approx(1.0)  # n landmarks: exact
    assert ours.masked_shape == theirs.masked_shape == (2, 7, 8) and ours.masked_finite
    assert close(ours.masked_values, theirs.masked_values, 1e-5, 1e-6)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.4 * ours.losses[0]
    assert ours.conv_grad_norm == pytest.approx(theirs.conv_grad_norm, rel=1e-5)


def test_bigbird_block_sparse(programs):
    ours, theirs = _both(programs, "bigbird_block_sparse")  # global + window + random gathers
    assert ours.dense_gap < 1e-12 and theirs.dense_gap < 1e-12  # sparse = dense under its mask
    assert ours.attended_fraction == theirs.attended_fraction < 1
    assert ours.gather_shape == theirs.gather_shape == (2, 2, 6, 4, 8)
    assert ours.gather_error == theirs.gather_error
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.accs == theirs.accs
    assert ours.losses[-1] < 0.05 * ours.losses[0] and ours.accs[-1] == 1.0


def test_deberta_disentangled(programs):
    ours, theirs = _both(programs, "deberta_disentangled")  # buckets, gathers, XSoftmax
    assert ours.bucket_values == theirs.bucket_values and ours.bucket_dtype == theirs.bucket_dtype
    assert ours.bucket_values[:3] == [-7.0] * 3 and ours.bucket_values[18:23] == [-2, -1, 0, 1, 2]
    assert ours.rel_pos_summary == theirs.rel_pos_summary
    assert ours.rel_pos_summary == [(1, 6, 6), "torch.int64", [0, -1, -2, -3, -4, -5]]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.4 * ours.losses[0]
    assert ours.probe_accuracy == pytest.approx(theirs.probe_accuracy) and ours.probe_accuracy > 0.9
    assert ours.probs_grad_fn == theirs.probs_grad_fn == "XDropoutBackward"
    assert ours.padded_attention == theirs.padded_attention == 0.0
    assert ours.probs_shape == theirs.probs_shape == (24, 2, 10, 10)
    assert close(ours.rel_grad, theirs.rel_grad, 1e-4, 1e-7)


def test_xlnet_two_stream(programs):
    ours, theirs = _both(programs, "xlnet_two_stream")  # rel_shift, perm mask, target mapping
    assert ours.shift_values == theirs.shift_values == [[3, 4, 5], [10, 11, 12], [17, 18, 19]]
    assert ours.perm_summary == theirs.perm_summary  # masked tokens never see themselves
    assert ours.perm_summary[1] == ours.perm_summary[2]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.3 * ours.losses[0]
    assert ours.tied and theirs.tied and ours.param_names == theirs.param_names


def test_bart_text_infilling(programs):
    ours, theirs = _both(programs, "bart_text_infilling")  # Poisson spans, nn.Transformer
    assert ours.example_pair == theirs.example_pair and 3 in ours.example_pair[1]
    assert ours.masks_in_sources == theirs.masks_in_sources
    assert ours.length_ratio == pytest.approx(theirs.length_ratio) and ours.length_ratio < 0.9
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert ours.decoded == theirs.decoded
    assert ours.token_accuracy == pytest.approx(theirs.token_accuracy)
    assert ours.token_accuracy > 4 / 16  # chance: 1/16


def test_elmo_char_bilm(programs):
    ours, theirs = _both(programs, "elmo_char_bilm")  # char CNN, highway, packed biLM, ScalarMix
    assert ours.gate_biases == theirs.gate_biases == [[1.0] * 6] * 2  # .data.fill_ of a slice
    assert ours.boundary_summary == theirs.boundary_summary
    assert ours.boundary_summary[:2] == [(2, 8, 10), [6, 5]]
    # Adagrad's steps move both runs apart by a few ulps (5e-6 relative at most)
    assert close(ours.losses, theirs.losses, 2e-5, 1e-6)
    assert close(ours.tag_losses, theirs.tag_losses, 2e-5, 1e-6)
    assert close(ours.mix_weights, theirs.mix_weights, 2e-5, 1e-6)
    assert sum(ours.losses[-1]) < 0.7 * sum(ours.losses[0])
    assert ours.tag_losses[-1] < 0.5 * ours.tag_losses[0]


def test_bidaf_attention_flow(programs):
    ours, theirs = _both(programs, "bidaf_attention_flow")  # trilinear sim, c2q/q2c, best span
    assert ours.best_demo == theirs.best_demo == [[[0, 0], [0, 2]], "torch.int64"]
    assert ours.mask_error == theirs.mask_error
    # the late steps grow float32 rounding to 4e-5; in float64 the runs agree to 1e-14
    assert close(ours.losses[:25], theirs.losses[:25], 1e-5, 1e-6)
    assert close(ours.losses, theirs.losses, 2e-4, 1e-6)
    assert ours.exact[:25] == theirs.exact[:25]
    assert ours.losses[-1] < 0.2 * ours.losses[0] and ours.exact[-1] > 0.8
    assert close(ours.attention_rows, theirs.attention_rows, 1e-6)
    assert ours.masked_question_weight == theirs.masked_question_weight == 0.0  # pads get none


def test_mistral_rolling_cache(programs):
    ours, theirs = _both(programs, "mistral_rolling_cache")  # polar RoPE, GQA, scatter_ buffer
    assert ours.freqs_summary[:2] == theirs.freqs_summary[:2] == ["torch.complex64", (6, 4)]
    assert close(ours.freqs_summary, theirs.freqs_summary, 1e-6, 1e-7)
    assert ours.band_rows == theirs.band_rows == [1, 2, 3, 4, 5, 5]
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.1 * ours.losses[0]
    assert ours.cache_gap < 1e-4 and theirs.cache_gap < 1e-4  # rolling buffer = banded pass
    assert ours.wide_gap == pytest.approx(theirs.wide_gap, rel=1e-4) and ours.wide_gap > 1
    assert ours.generated_tokens == theirs.generated_tokens and ours.cache_slots == 4
    assert ours.sdpa_gap < 1e-5 and theirs.sdpa_gap < 1e-5  # band mask + is_causal in SDPA
    assert ours.continuation_correct == theirs.continuation_correct > 0.5


def test_gemma_softcap_qknorm(programs):
    ours, theirs = _both(programs, "gemma_softcap_qknorm")  # soft caps, QK-norm, tied head
    assert ours.tied and theirs.tied and ours.unique_params == theirs.unique_params == 28
    assert ours.state_keys == theirs.state_keys == ["embed_tokens.weight", "lm_head.weight"]
    assert ours.norm_repr == theirs.norm_repr == "Gemma3RMSNorm((8,), eps=1e-06)"
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert ours.accuracy == pytest.approx(theirs.accuracy) and ours.accuracy > 0.7
    assert ours.max_logit == pytest.approx(theirs.max_logit, rel=1e-5) and ours.max_logit < 30
    assert ours.capped_max == theirs.capped_max == 30.0  # tanh saturates at the cap
    assert ours.sliding_zeros == theirs.sliding_zeros == [True, True] and ours.global_nonzero
    assert close(ours.q_norm_weight, theirs.q_norm_weight, 1e-4, 1e-7)  # small, Adam-driven
    assert ours.still_tied and theirs.still_tied and ours.same_logits and theirs.same_logits
