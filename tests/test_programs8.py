"""An eighth round of PyTorch programs, written as PyTorch's tutorials and blog posts use the
features that came last (``__torch_function__`` subclasses and modes, ``torch.fx``, nested and
masked tensors, sparse compressed layouts, quantization, flex attention, ``linear_cross_entropy``,
pytrees, ``FlopCounterMode``, float8 and unsigned dtypes, ``SobolEngine``), run with ``torch``
bound to minigrad and with PyTorch itself and compared value by value (the mechanism of
``tests/test_programs5.py``). Where PyTorch's CPU build cannot run a feature, the program
compares with the dense or loop equivalent on each side."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_logging_tensor(programs):
    ours, theirs = _both(programs, "logging_tensor")  # a subclass logging calls; ScalarTensor
    assert ours.logged == theirs.logged == ["linear", "tanh", "pow", "sum", "backward"]
    assert ours.out_type == ours.loss_type == ours.plain_type == "LoggingTensor"
    assert close([ours.loss_value, ours.grad_sum], [theirs.loss_value, theirs.grad_sum], 1e-5)
    assert (ours.scalar_mean, ours.sum_scalar, ours.mixed) == (0.4, 5, 35.0)
    assert ours.unhandled == theirs.unhandled == "TypeError" and ours.is_instance


def test_metadata_tensor(programs):
    ours, theirs = _both(programs, "metadata_tensor")  # tags merged through ops and tuples
    assert ours.results == theirs.results
    assert close(ours.prod_values, theirs.prod_values, 1e-5) and ours.argmax == theirs.argmax
    assert close([ours.c_values, ours.plain_sum], [theirs.c_values, theirs.plain_sum], 1e-5)
    assert ours.has_tf == theirs.has_tf == [True, False] and ours.overridable


def test_function_mode(programs):
    ours, theirs = _both(programs, "function_mode")  # op counting, default dtype, nesting
    assert ours.counts == theirs.counts
    assert ours.loss_value == pytest.approx(theirs.loss_value, rel=1e-5)
    assert ours.dtypes == theirs.dtypes == ["float64", "int32", "float64"]
    assert ours.after == "float32" and ours.nested == theirs.nested


def test_pytree_batches(programs):
    ours, theirs = _both(programs, "pytree_batches")  # tree_map to a device, registered nodes
    for key in ("n_leaves", "leaf_kinds", "box_label", "pair_type", "half_dtypes"):
        assert getattr(ours, key) == getattr(theirs, key), key
    assert close(ours.doubled_image + ours.box_values, theirs.doubled_image + theirs.box_values)
    assert ours.all_tensors and ours.any_int and ours.structure_same
    assert ours.clipped_norm == pytest.approx(theirs.clipped_norm, rel=1e-5)


def test_sobol_monte_carlo(programs):
    ours, theirs = _both(programs, "sobol_monte_carlo")  # QMC error, fast_forward, draw_base2
    assert ours.first == theirs.first and ours.base2 == theirs.base2
    assert close(ours.errors, theirs.errors, 1e-6, 1e-12) and ours.errors[-1] < 1e-3
    assert ours.fast_forward_ok and ours.num_generated == theirs.num_generated == 5
    assert ours.pi_estimate == theirs.pi_estimate and ours.in_cube  # (scrambling: own draws)


def test_sobol_hparam_search(programs):
    ours, theirs = _both(programs, "sobol_hparam_search")  # log-uniform box, best setting
    assert close(ours.setting_values, theirs.setting_values, 1e-6)
    assert close(ours.results, theirs.results, 1e-4, 1e-6) and ours.best == theirs.best


def test_fx_conv_bn_fusion(programs):
    ours, theirs = _both(programs, "fx_conv_bn_fusion")  # fold BN into conv, erase the nodes
    assert ours.fused_count == theirs.fused_count == 2 and ours.max_gap < 1e-5
    assert ours.node_ops == theirs.node_ops and ours.targets == theirs.targets
    assert close(ours.outputs, theirs.outputs, 1e-4, 1e-6) and not ours.code_mentions_bn


def test_fx_relu_to_gelu(programs):
    ours, theirs = _both(programs, "fx_relu_to_gelu")  # graph pass, Transformer, replace_pattern
    assert ours.original_targets == theirs.original_targets
    assert close(ours.gelu_values, ours.manual, 1e-6) and ours.gelu_count == 4
    assert close(ours.gelu_values, theirs.gelu_values, 1e-5)
    assert close(ours.mul_values, theirs.mul_values, 1e-5) and close(
        ours.mul_values, ours.manual_mul
    )
    assert ours.match_count == theirs.match_count == 1 and ours.rewritten_gap < 1e-6


def test_fx_profiler(programs):
    ours, theirs = _both(programs, "fx_profiler")  # Interpreter profiling, features, truncation
    assert ours.shapes == theirs.shapes and ours.node_names == theirs.node_names
    assert ours.timed_nodes == theirs.timed_nodes
    assert close([ours.relu_mean, ours.pool_sum], [theirs.relu_mean, theirs.pool_sum], 1e-5)
    assert close(ours.log_probs, theirs.log_probs, 1e-5)
    assert ours.trunk_shape == [2, 64] and ours.trunk_matches and ours.placeholder_count == 1


def test_nested_attention(programs):
    ours, theirs = _both(programs, "nested_attention")  # jagged SDPA vs padded + key mask
    assert ours.nested_shape == theirs.nested_shape and ours.offsets == theirs.offsets
    assert ours.ragged_shapes == theirs.ragged_shapes and ours.values_shape == [16, 8]
    assert ours.output_gap < 1e-5 and ours.grad_gap < 1e-5
    assert close(ours.first_rows, theirs.first_rows, 1e-4, 1e-6)
    assert ours.loss_value == pytest.approx(theirs.loss_value, rel=1e-5)


def test_masked_semantics(programs):
    ours, theirs = _both(programs, "masked_semantics")  # reductions skipping masked values
    assert ours.results["row_mask"] == theirs.results["row_mask"] == [True, True, False, True]
    for key in ("row_sums", "row_means", "row_max", "col_sums"):
        a, b = ours.results[key], theirs.results[key]
        assert [x is None for x in a] == [x is None for x in b], key
        assert close([x for x in a if x is not None], [x for x in b if x is not None], 1e-5)
    assert ours.product_mask == theirs.product_mask and ours.mismatch == "ValueError"
    assert close([ours.total_value, ours.product_sum], [theirs.total_value, theirs.product_sum])
    assert ours.where_filled == pytest.approx(theirs.where_filled, rel=1e-5)


def test_masked_gradients(programs):
    ours, theirs = _both(programs, "masked_gradients")  # NaN vs masked gradients of where
    for key in ("where_grad", "sqrt_grad", "double_where_grad"):
        a, b = getattr(ours, key), getattr(theirs, key)
        assert [x != x for x in a] == [x != x for x in b], key
        assert close([x for x in a if x == x], [x for x in b if x == x], 1e-5), key
    assert ours.masked_grad_data == theirs.masked_grad_data == [None, None, None, 0.5, 0.25]
    assert ours.plain_row_nan and ours.masked_rows[2] == [None] * 4
    mine, torchs = ours.masked_rows[:2], theirs.masked_rows[:2]
    assert [[v is None for v in r] for r in mine] == [[v is None for v in r] for r in torchs]
    kept = [[v for r in rows for v in r if v is not None] for rows in (mine, torchs)]
    assert close(kept[0], kept[1], 1e-5)  # (pytest.approx takes no None among the values)


def test_gcn_csr(programs):
    ours, theirs = _both(programs, "gcn_csr")  # CSR normalised adjacency, sparse.mm
    assert (ours.nnz, ours.crow, ours.cols) == (theirs.nnz, theirs.crow, theirs.cols)
    assert close(ours.sparse_losses, theirs.sparse_losses, 1e-4, 1e-6)
    assert close(ours.dense_losses, ours.sparse_losses, 1e-5) and ours.spmm_gap < 1e-5
    assert ours.sparse_acc == theirs.sparse_acc == ours.dense_acc and ours.roundtrip
    assert close(ours.csr_matvec, theirs.csr_matvec, 1e-5) and ours.layout == "sparse_csr"


def test_block_sparse_linear(programs):
    ours, theirs = _both(programs, "block_sparse_linear")  # BSR/CSC pruned weights
    assert ours.bsr_info == theirs.bsr_info and ours.csc_info == theirs.csc_info
    assert max(ours.bsr_gap, ours.csr_mm_gap, ours.csc_mm_gap) < 1e-5
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.still_sparse
    assert ours.final_bsr_nnz_blocks == theirs.final_bsr_nnz_blocks == 6


def test_static_ptq_cnn(programs):
    ours, theirs = _both(programs, "static_ptq_cnn")  # fuse, prepare, calibrate, convert
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.fused_gap < 1e-5
    assert ours.fused_types == theirs.fused_types and ours.quant_types == theirs.quant_types
    assert ours.observed_scale == pytest.approx(theirs.observed_scale, rel=1e-5)
    assert ours.weight_int == theirs.weight_int and ours.q_acc == theirs.q_acc == 1.0
    assert ours.weight_scale == pytest.approx(theirs.weight_scale, rel=1e-5)
    assert (ours.out_scale, ours.out_zero_point) == pytest.approx(
        (theirs.out_scale, theirs.out_zero_point), rel=1e-5
    )  # requantization may round one value the other way: one quantum
    assert close(ours.q_values, theirs.q_values, 0, ours.out_scale + 1e-5)


def test_qat_mlp(programs):
    ours, theirs = _both(programs, "qat_mlp")  # fake quantization, frozen observers, convert
    assert ours.qat_types == theirs.qat_types and ours.int8_types == theirs.int8_types
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert close(ours.fc1_weight_scales, theirs.fc1_weight_scales, 1e-5)
    assert ours.fc1_weight_zero_points == theirs.fc1_weight_zero_points
    assert ours.act_scale == pytest.approx(theirs.act_scale, rel=1e-5)
    assert close(ours.int8_values, theirs.int8_values, 0, ours.fc3_scale + 1e-5)
    assert ours.agreement == theirs.agreement and ours.accuracy == theirs.accuracy


def test_dynamic_quant_lstm(programs):
    ours, theirs = _both(programs, "dynamic_quant_lstm")  # quantize_dynamic {LSTM, Linear}
    assert close(ours.train_losses, theirs.train_losses, 1e-4, 1e-6)
    assert ours.module_types == theirs.module_types == ["Embedding", "LSTM", "Linear"]
    assert ours.float_ppl == pytest.approx(theirs.float_ppl, rel=1e-5)
    assert ours.quant_ppl == pytest.approx(theirs.quant_ppl, rel=1e-4) and ours.smaller
    # float weights equal to 1e-7 can still round to neighbouring int8 values: a few quanta
    assert close(ours.quant_values, theirs.quant_values, 0, 0.02)
    assert ours.decoder_weight_scale == pytest.approx(theirs.decoder_weight_scale, rel=1e-5)


def test_flex_document_alibi(programs):
    ours, theirs = _both(programs, "flex_document_alibi")  # ALiBi score_mod, document mask
    assert ours.output_gap < 1e-5 and theirs.output_gap < 1e-5
    assert close(ours.out_sample, theirs.out_sample, 1e-4, 1e-6)
    assert ours.kv_blocks == theirs.kv_blocks and ours.sparsity == theirs.sparsity
    assert max(ours.grad_gaps) < 1e-5 and theirs.grad_gaps is None  # no CPU backward there
    assert ours.plain_gap < 1e-6


def test_linear_cross_entropy_lm(programs):
    ours, theirs = _both(programs, "linear_cross_entropy_lm")  # fused head, tied weights
    assert close(ours.fused_losses, theirs.fused_losses, 1e-4, 1e-6)
    assert close(ours.fused_losses, ours.plain_losses, 1e-5)
    assert close(ours.per_token_values, theirs.per_token_values, 1e-4, 1e-6)
    assert ours.summed_value == pytest.approx(theirs.summed_value, rel=1e-4)
    assert ours.ignored_zero == theirs.ignored_zero == 0.0


def test_flop_counter_transformer(programs):
    ours, theirs = _both(programs, "flop_counter_transformer")  # a training step's FLOPs
    assert theirs.sdpa_counted == 0  # PyTorch's CPU attention kernel has no formula
    assert ours.sdpa_counted == 3 * 4 * 3 * 2 * 10 * 10 * 8  # QK^T and AV, backward twice
    assert ours.total - ours.sdpa_counted == theirs.total
    assert ours.forward_total - ours.sdpa_counted // 3 == theirs.forward_total
    assert ours.layer_counts == theirs.layer_counts
    assert ours.linear_total == theirs.linear_total == ours.expected_linear
    assert ours.loss_value == pytest.approx(theirs.loss_value, rel=1e-5)


def test_low_precision_dtypes(programs):
    ours, theirs = _both(programs, "low_precision_dtypes")  # float8 scaling, uint16/32/64
    assert ours.finfo == theirs.finfo and ours.iinfo == theirs.iinfo
    for name in ("e4m3", "e5m2"):
        a, b = ours.results[name], theirs.results[name]
        assert close(a["first"], b["first"], 1e-6) and a["itemsize"] == b["itemsize"] == 1
        assert a["rel_error"] == pytest.approx(b["rel_error"], rel=1e-5)
    assert ours.big == theirs.big and ours.e5m2_big == theirs.e5m2_big
    assert ours.float8_linear_error == pytest.approx(theirs.float8_linear_error, rel=1e-5)
    assert ours.float8_linear_error < 0.05  # torch._scaled_mm with tensorwise scales
    assert close(ours.float8_linear_sample, theirs.float8_linear_sample, 1e-6)
    assert ours.uint_values == theirs.uint_values and ours.as_int64 == theirs.as_int64
    assert ours.element_sizes == theirs.element_sizes and ours.bit_ops == theirs.bit_ops
    assert ours.u16_float == theirs.u16_float and ours.u8_sum == theirs.u8_sum == 300
