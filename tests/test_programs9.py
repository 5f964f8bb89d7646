"""A ninth round of PyTorch programs, written as PyTorch's tutorials and recipes show the newest
features (dynamic, static, QAT and FX graph mode quantization, ``torch.fx`` passes,
``torch.export``, nested and masked tensors, sparse compressed tensors, ``__torch_function__``
and flex attention), run with ``torch`` bound to minigrad and with PyTorch itself. Since
minigrad's generator follows PyTorch's streams, most programs seed with ``torch.manual_seed`` and
draw their data and weights with torch's own functions, and the two runs are compared value by
value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_dynamic_quant_bert(programs):
    ours, theirs = _both(programs, "dynamic_quant_bert")  # quantize_dynamic({nn.Linear})
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert (ours.float_acc, ours.quant_acc) == (theirs.float_acc, theirs.quant_acc)
    assert (ours.float_f1, ours.quant_f1) == (theirs.float_f1, theirs.quant_f1)
    assert ours.layer_types == theirs.layer_types
    assert ours.query_int == theirs.query_int
    assert ours.query_scale == pytest.approx(theirs.query_scale, rel=1e-6)
    # float rounding can move an activation across an int8 rounding boundary: one step, ~2e-3
    assert close(ours.quant_logit_values, theirs.quant_logit_values, 1e-4, 5e-3)
    assert ours.logit_gap == pytest.approx(theirs.logit_gap, rel=1e-3)
    assert ours.quant_size < 0.7 * ours.float_size  # (minigrad's checkpoint keys differ)


def test_fx_graph_mode_ptq(programs):
    ours, theirs = _both(programs, "fx_graph_mode_ptq")  # prepare_fx, calibrate, convert_fx
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.fused_gap < 1e-5
    assert ours.fused_types == theirs.fused_types and ours.quant_types == theirs.quant_types
    assert ours.observer_count == theirs.observer_count
    assert (
        close(ours.conv1_scales, theirs.conv1_scales, 1e-5) and ours.conv1_ints == theirs.conv1_ints
    )
    assert close(ours.quant_values, theirs.quant_values, 1e-4, 1e-5)
    assert close(ours.partial_values, theirs.partial_values, 1e-4, 1e-5)
    assert ours.head_type == theirs.head_type == "Linear"
    assert (ours.quant_acc, ours.partial_acc) == (theirs.quant_acc, theirs.partial_acc)


def test_export_tutorial(programs):
    ours, theirs = _both(programs, "export_tutorial")  # export, signature, cond, Dim, save/load
    for key in ("parameters", "buffers", "user_inputs", "n_outputs", "state_keys", "loaded_params"):
        assert getattr(ours, key) == getattr(theirs, key), key
    assert close(ours.values, theirs.values, 1e-5) and ours.exported_gap == 0.0
    assert ours.static_error == theirs.static_error == "Guard failed: x.size()[0] == 3"
    assert ours.range_error == theirs.range_error == "Guard failed: x.size()[0] <= 16"
    assert ours.bad_error == theirs.bad_error == "refused"
    assert close(ours.cond_values, theirs.cond_values, 1e-5)
    assert max(ours.dyn_gaps) < 1e-6 and ours.loaded_gap < 1e-6


def test_nested_tensor_tutorial(programs):
    ours, theirs = _both(programs, "nested_tensor_tutorial")  # ragged MHA vs padded + mask
    for key in ("dim", "is_nested", "size0", "padded", "unbound", "gram_shapes", "reshaped"):
        assert ours.basics[key] == theirs.basics[key], key
    assert close(ours.basics["linear"], theirs.basics["linear"], 1e-6)
    assert close(ours.basics["softmax_rows"], theirs.basics["softmax_rows"], 1e-6)
    assert ours.basics["sin_sum"] == pytest.approx(theirs.basics["sin_sum"], rel=1e-5)
    a, b = ours.jagged_info, theirs.jagged_info
    assert (a["offsets"], a["values_shape"], a["shape"]) == (
        b["offsets"],
        b["values_shape"],
        b["shape"],
    )
    assert a["relu_sum"] == pytest.approx(b["relu_sum"], rel=1e-5)
    assert max(ours.gaps) < 1e-5 and ours.padded_shape == theirs.padded_shape == [4, 6, 8]
    assert close(ours.nested_rows, theirs.nested_rows, 1e-4, 1e-6)


def test_masked_adagrad(programs):
    ours, theirs = _both(programs, "masked_adagrad")  # sparse Adagrad: COO and MaskedTensor
    for key in ("sparse_state", "sparse_param", "masked_state", "masked_param"):
        assert close(getattr(ours, key), getattr(theirs, key), 1e-6), key
    assert close(ours.masked_param, ours.sparse_param, 1e-7)
    assert ours.masked_layout.split(".")[-1] == theirs.masked_layout.split(".")[-1] == "sparse_coo"
    assert ours.update_nnz == theirs.update_nnz == 3
    assert close(ours.adagrad_values, theirs.adagrad_values, 1e-6)
    assert close(ours.manual_values, ours.adagrad_values, 1e-6)


def test_masked_sparsity(programs):
    ours, theirs = _both(programs, "masked_sparsity")  # COO/CSR masked tensors and their ops
    assert ours.layouts == theirs.layouts and ours.coo_nnz == theirs.coo_nnz == 2
    assert ours.from_dense == theirs.from_dense
    for results in ("coo_result", "csr_result"):
        a, b = getattr(ours, results), getattr(theirs, results)
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], list):
                assert [[x is None for x in r] for r in a[key]] == [
                    [x is None for x in r] for r in b[key]
                ], key
                kept = [[x for r in rows for x in r if x is not None] for rows in (a[key], b[key])]
                assert close(kept[0], kept[1], 1e-6), key
            elif isinstance(b[key], str):  # a class name, a dtype name
                assert a[key] == b[key], key
            else:  # a sum (pytest 9 refuses strings inside approx)
                assert a[key] == pytest.approx(b[key], rel=1e-6), key


def test_flex_attention_tutorial(programs):
    ours, theirs = _both(programs, "flex_attention_tutorial")  # score/mask mods, block masks
    assert ours.block_info == theirs.block_info
    assert max(ours.gaps.values()) < 1e-5 and max(theirs.gaps.values()) < 1e-5
    for key in ("causal_sample", "sliding_sample", "prefix_sample"):
        assert close(getattr(ours, key), getattr(theirs, key), 1e-5, 1e-6), key


def test_torch_function_dispatch(programs):
    ours, theirs = _both(programs, "torch_function_dispatch")  # tensor-likes, modes rewriting
    assert ours.diag == theirs.diag and ours.subclass_results == theirs.subclass_results
    assert close(ours.custom, theirs.custom, 1e-6)
    assert ours.mode_calls == theirs.mode_calls == ["gelu", "dropout"] and ours.mode_gap == 0.0
    assert close(ours.rewritten_values, theirs.rewritten_values, 1e-5, 1e-6)


def test_fx_graph_transforms(programs):
    ours, theirs = _both(programs, "fx_graph_transforms")  # decompose, invert, leaves, insert
    for key in ("decomposed_ops", "inverse_ops", "leaf_ops", "shapes", "dtypes", "split_children"):
        assert getattr(ours, key) == getattr(theirs, key), key
    assert ours.decompose_gap == ours.leaf_gap == ours.insert_gap == ours.split_gap == 0.0
    assert ours.invert_gap < 1e-6


def test_qat_conv_bn(programs):
    ours, theirs = _both(programs, "qat_conv_bn")  # fuse_modules_qat, freeze_bn_stats, convert
    for key in ("fused_types", "qat_types", "quant_types", "frozen", "accuracies"):
        assert getattr(ours, key) == getattr(theirs, key), key
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert close(ours.running_mean, theirs.running_mean, 1e-4, 1e-6)
    assert close(ours.conv1_scales, theirs.conv1_scales, 1e-5)
    assert ours.act_scale == pytest.approx(theirs.act_scale, rel=1e-5)
    assert close(ours.quant_values, theirs.quant_values, 0, ours.act_scale + 1e-5)
    assert ours.observer_enabled == theirs.observer_enabled == 0 and ours.fake_gap < 0.05


def test_quantized_residual(programs):
    ours, theirs = _both(programs, "quantized_residual")  # FloatFunctional.add_relu, quantize()
    a, b = ours.basics, theirs.basics
    for key in ("int_repr", "qparams", "channel_ints", "qscheme"):
        assert a[key] == b[key], key
    assert close(a["channel_scales"], b["channel_scales"]) and a["deq_gap"] <= 0.025 + 1e-6
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.block_types == theirs.block_types
    assert ours.skip_info[0] == theirs.skip_info[0] == "QFunctional"
    assert close(ours.skip_info[1:], theirs.skip_info[1:], 1e-5)
    assert ours.out_scale == pytest.approx(theirs.out_scale, rel=1e-5)
    assert close(ours.quant_values, theirs.quant_values, 0, ours.out_scale + 1e-5)
    assert ours.agreement == theirs.agreement


def test_sparse_attention_sddmm(programs):
    ours, theirs = _both(programs, "sparse_attention_sddmm")  # sampled_addmm, sparse softmax
    a, b = ours.attention, theirs.attention
    assert (a["nnz"], a["crow"], a["layouts"]) == (b["nnz"], b["crow"], b["layouts"])
    assert a["gap"] < 1e-5 and close(a["row_sums"], [1.0] * 12, 1e-6)
    assert close(a["sample"], b["sample"], 1e-5, 1e-6)
    g, h = ours.grads, theirs.grads
    assert (
        (g["w_layout"], g["w_grad_nnz"]) == (h["w_layout"], h["w_grad_nnz"]) == ("sparse_csr", 17)
    )
    assert g["w_grad_gap"] < 1e-5 and g["x_grad_gap"] < 1e-5
    assert close(g["x_grad"], h["x_grad"], 1e-5)
    assert ours.layouts == theirs.layouts and ours.addmm_gap < 1e-5
    assert close(ours.row_sums, theirs.row_sums, 1e-5)


def test_dynamic_quant_configs(programs):
    ours, theirs = _both(programs, "dynamic_quant_configs")  # per-channel, float16, by name
    for name, want in theirs.results.items():
        got = ours.results[name]
        assert (got["types"], got["dynamic"]) == (want["types"], want["dynamic"]), name
        assert close(got["sample"], want["sample"], 1e-4, 1e-6), name
        assert got["gap"] == pytest.approx(want["gap"], rel=1e-3, abs=1e-6), name
    assert ours.qscheme == theirs.qscheme == "per_channel_affine"
    assert close(ours.channel_scales, theirs.channel_scales, 1e-6)
    assert ours.fp16_dtype == theirs.fp16_dtype


def test_nested_jagged_transformer(programs):
    ours, theirs = _both(programs, "nested_jagged_transformer")  # NJT encoder layer, training
    assert ours.info == theirs.info and max(ours.gaps) < 1e-5
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert ours.grad_norm == pytest.approx(theirs.grad_norm, rel=1e-4)
    assert close(ours.final_sample, theirs.final_sample, 1e-4, 1e-5)


def test_fx_qat(programs):
    ours, theirs = _both(programs, "fx_qat")  # prepare_qat_fx, train, convert_fx
    assert ours.prepared_types == theirs.prepared_types and ours.quant_types == theirs.quant_types
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)
    assert ours.fc_scale == pytest.approx(theirs.fc_scale, rel=1e-5)
    assert close(ours.quant_values, theirs.quant_values, 0, ours.fc_scale + 1e-5)
    assert (ours.agreement, ours.accuracy) == (theirs.agreement, theirs.accuracy)
    assert ours.fake_gap < 0.2


def test_export_dynamic(programs):
    ours, theirs = _both(programs, "export_dynamic")  # kwargs, dict outputs, shared Dim
    for key in ("user_inputs", "buffers", "n_outputs", "errors", "auto_shape"):
        assert getattr(ours, key) == getattr(theirs, key), key
    for a, b in zip(ours.results, theirs.results):
        assert a[:2] == b[:2] and max(a[2:]) < 1e-6
    assert ours.loose_gap == 0.0 and ours.shares_parameters and theirs.shares_parameters
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6)


def test_masked_functional(programs):
    ours, theirs = _both(programs, "masked_functional")  # torch.masked.* with mask=
    assert ours.shapes == theirs.shapes and ours.dtypes == theirs.dtypes
    for name, want in theirs.values.items():
        got = ours.values[name]
        assert [v is None for v in got] == [v is None for v in want], name
        assert close([v for v in got if v is not None], [v for v in want if v is not None]), name
    assert close(ours.mean_grad, theirs.mean_grad, 1e-12)
    assert ours.row_sum_mask == theirs.row_sum_mask == [True, True, False, True]
    assert ours.filled == pytest.approx(theirs.filled, rel=1e-6)


def test_static_quant_mobilenet(programs):
    ours, theirs = _both(programs, "static_quant_mobilenet")  # depthwise, FloatFunctional.add
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.fused_block == theirs.fused_block
    assert ours.depthwise_info == theirs.depthwise_info == ("ConvReLU2d", 16, [16, 1, 3, 3])
    assert ours.depthwise_ints == theirs.depthwise_ints
    assert close([ours.skip_scale, ours.out_scale], [theirs.skip_scale, theirs.out_scale], 1e-5)
    assert close(ours.quant_values, theirs.quant_values, 0, ours.out_scale + 1e-5)
    assert ours.agreement == theirs.agreement


def test_quant_numeric_suite(programs):
    ours, theirs = _both(programs, "quant_numeric_suite")  # compare_weights/outputs, SQNR
    assert ours.weight_keys == theirs.weight_keys and ours.act_keys == theirs.act_keys
    assert ours.weight_dtypes == theirs.weight_dtypes == ["qint8"]
    for key, value in theirs.weight_sqnr.items():
        assert ours.weight_sqnr[key] == pytest.approx(value, rel=1e-5), key
    for key, value in theirs.act_sqnr.items():
        assert ours.act_sqnr[key] == pytest.approx(value, rel=1e-4), key
    assert ours.worst == theirs.worst == "conv1.stats"


def test_meta_device_loading(programs):
    ours, theirs = _both(programs, "meta_device_loading")  # meta init, mmap, assign=True
    for key in ("meta_info", "assigned_info", "missing_keys", "state_keys"):
        assert getattr(ours, key) == getattr(theirs, key), key
    assert ours.assigned_gap == ours.empty_gap == ours.skip_gap == 0.0
    assert close(ours.reference_sample, theirs.reference_sample, 1e-4, 1e-5)
