"""A seventeenth round of PyTorch programs: the semantics that surprise people in Stack Overflow
answers and GitHub issues (in-place ops and autograd's version counter, ``expand`` against
``repeat``, ``chunk`` and ``split`` sizes, loss targets, index rules, ties in sorting, dtype
promotion, parameter registration, ``state_dict`` and optimizer loading), each a small script
run with ``torch`` bound to minigrad and with PyTorch itself, its values and error messages
compared."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def _same(ours, theirs, *names):
    for name in names:
        assert getattr(ours, name) == getattr(theirs, name), name


def _same_error(ours, theirs, *names):
    """The same error type, and PyTorch's message inside minigrad's (which may name the op)."""
    for name in names:
        _error_matches(getattr(ours, name), getattr(theirs, name), name)


def _error_matches(mine, pytorchs, name=""):
    assert pytorchs is not None and mine is not None, name
    # (minigrad's IndexOutOfRangeError is both an IndexError and a RuntimeError, as each of
    # PyTorch's index checks raises one or the other)
    both = ("IndexError", "RuntimeError")
    assert mine[0] == pytorchs[0] or (mine[0] == "IndexOutOfRangeError" and pytorchs[0] in both)
    assert pytorchs[1].lower().rstrip(".") in mine[1].lower(), (name, mine, pytorchs)


def test_inplace_autograd_gotchas(programs):
    ours, theirs = _both(programs, "inplace_autograd_gotchas")
    _same(ours, theirs, "sigmoid_error", "relu_error", "masked_error", "detach_error")
    assert "is at version 1; expected version 0 instead" in ours.sigmoid_error[1]
    _same_error(ours, theirs, "leaf_error", "leaf_index_error", "second_error")
    assert ours.relu_ok_grad == pytest.approx(theirs.relu_ok_grad, rel=1e-5)
    assert close(ours.masked_fix_grad, theirs.masked_fix_grad, 1e-6)
    _same(ours, theirs, "leaf_after", "data_grad", "detach_flags", "versions", "nonleaf")
    assert close(ours.first_grad, theirs.first_grad, 1e-6) and ours.first_grad[1] == 0.0
    assert close(ours.retained_grad, theirs.retained_grad, 1e-6)
    for name in ("int_error", "int_error_method"):  # (PyTorch words the two a little apart)
        mine, pytorchs = getattr(ours, name), getattr(theirs, name)
        assert mine[0] == pytorchs[0] == "RuntimeError"
        assert "tensors of floating point" in mine[1].lower() and "can require gradients" in mine[1]
    assert ours.float_ok and theirs.float_ok


def test_expand_repeat_split_gotchas(programs):
    ours, theirs = _both(programs, "expand_repeat_split_gotchas")
    _same(ours, theirs, "expand_facts", "seen", "write_error", "write_error_index")
    assert ours.write_error_index is None  # ``expanded[0, 0] = v`` writes the shared element
    _same(ours, theirs, "ok_after_clone", "bad_expand", "expand_minus_one", "expand_new_dims")
    _same(ours, theirs, "repeat_shapes", "repeat_error", "repeat_interleave", "view_error")
    _same(ours, theirs, "reshape_facts", "view_infer_error", "chunk_sizes", "split_sizes")
    _same(ours, theirs, "split_error", "chunk_error", "narrow_facts", "shapes", "stack_error")
    _same(ours, theirs, "cat_error", "cat_dim_error", "stack_empty_error", "mixed")
    _same(ours, theirs, "squeeze_facts")
    _same_error(ours, theirs, "narrow_error", "unsqueeze_error", "view_two_minus")
    assert close(ours.tile_results, theirs.tile_results, 1e-5, 1e-6)
    assert ours.tile_results[-1] == 0.0


def test_loss_target_gotchas(programs):
    ours, theirs = _both(programs, "loss_target_gotchas")
    for name in ("same_for_one_hot", "smoothing", "weighted", "bce_values", "nll_values"):
        assert close(getattr(ours, name), getattr(theirs, name), 1e-5, 1e-6), name
    assert ours.same_for_one_hot[0] == pytest.approx(ours.same_for_one_hot[1], rel=1e-6)
    assert ours.double_softmax == pytest.approx(theirs.double_softmax, rel=1e-5)
    assert ours.soft_loss == pytest.approx(theirs.soft_loss, rel=1e-5)
    assert close(ours.ignore, theirs.ignore, 1e-5, 1e-6) and ours.ignore[1][1] == 0.0
    assert ours.all_ignored != ours.all_ignored and theirs.all_ignored != theirs.all_ignored  # nan
    for mine, pytorchs in zip(
        ours.ce_errors + ours.bce_errors, theirs.ce_errors + theirs.bce_errors
    ):
        _error_matches(mine, pytorchs)
    assert ours.seq_loss == pytest.approx(theirs.seq_loss, rel=1e-5)
    assert ours.seq_loss == pytest.approx(ours.flat_loss, rel=1e-6)
    _same_error(ours, theirs, "seq_error", "nll_error")
    assert ours.mse_warning == theirs.mse_warning and len(ours.mse_warning) == 1
    assert ours.broadcast_mse == pytest.approx(theirs.broadcast_mse, rel=1e-5)
    assert ours.right_mse == pytest.approx(theirs.right_mse, rel=1e-5)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.7 * ours.losses[0]
    assert ours.agreement == theirs.agreement


def test_index_scatter_gotchas(programs):
    ours, theirs = _both(programs, "index_scatter_gotchas")
    _same(ours, theirs, "gathered", "gather_small", "scattered", "scatter_values")
    _same(ours, theirs, "repeat_index", "put_last", "select_facts", "pairs", "grid", "shapes")
    assert ours.repeat_index[0] == [0.0, 1.0, 0.0, 1.0, 1.0]  # x[idx] += 1: one per index
    assert ours.put_last == [2.0, 0.0, 0.0]  # a repeated index without accumulate: the last
    _same(ours, theirs, "values_split", "masked_rows", "bool_errors", "filled", "filled_row")
    _same(ours, theirs, "filled_int", "selected")
    for name in ("gather_errors", "scatter_errors", "select_errors", "masked_fill_errors"):
        for mine, pytorchs in zip(getattr(ours, name), getattr(theirs, name)):
            assert (mine is None) == (pytorchs is None), name
            if mine is not None:
                _error_matches(mine, pytorchs, name)
    assert close(ours.take, theirs.take, 1e-6) and close(ours.class_means, ours.reference, 1e-5)
    assert close(ours.class_means, theirs.class_means, 1e-5, 1e-6)


def test_sort_unique_ties(programs):
    ours, theirs = _both(programs, "sort_unique_ties")
    _same(ours, theirs, "tie_results", "sorted_pairs", "stable_sort", "nan_results")
    assert ours.tie_results[:3] == [1, 1, 1]  # ties: the first index
    assert ours.sorted_pairs == [[3, 3, 3, 2, 2, 1, 1], [1, 4, 6, 0, 3, 2, 5]]
    assert close(ours.order_stats, theirs.order_stats, 1e-6)
    assert ours.order_stats[4] == 2.0 and ours.order_stats[5] == 2.5  # median is no mean
    _same(ours, theirs, "unique_results", "row_results", "cols", "run_results", "unique_float")
    _same(ours, theirs, "unique_2d_flat", "search", "encoding", "rank_list")
    assert ours.mrr == pytest.approx(theirs.mrr, rel=1e-6)
    assert theirs.topk_error in ours.topk_error


def test_dtype_division_where(programs):
    ours, theirs = _both(programs, "dtype_division_where")
    _same(ours, theirs, "division", "zero_div", "where_dtypes", "where_values", "where_error")
    assert (
        ours.a.tolist() == theirs.a.tolist() == [7, -7, 7, -7]
    )  # the refused int div_ left it as it was
    for mine, pytorchs in zip(ours.div_errors, theirs.div_errors):
        _error_matches(mine, pytorchs)
    _same(ours, theirs, "clamps", "reductions", "mean_error", "mean_dtype_ok", "wrapping")
    _same(ours, theirs, "iadd_ok", "rounding", "float_compare", "quant")
    _same_error(ours, theirs, "iadd_error", "isclose_error")
    _error_matches(ours.clamp_errors[0], theirs.clamp_errors[0])
    for mine, pytorchs in zip(ours.clamp_errors[1:], theirs.clamp_errors[1:]):  # no mixed bounds
        assert mine[0] == pytorchs[0] == "TypeError"
        assert mine[1].startswith("clamp() received an invalid combination of arguments - got")
    assert close(ours.dequant.tolist(), theirs.dequant.tolist(), 1e-6)


def test_param_registration_gotchas(programs):
    ours, theirs = _both(programs, "param_registration_gotchas")
    for name in ("ListOfParams", "Registered"):
        mine, pytorchs = ours.results[name], theirs.results[name]
        assert mine[:5] == pytorchs[:5] and mine[6:] == pytorchs[6:], name
        assert close(mine[5], pytorchs[5], 1e-5), name
    assert ours.results["ListOfParams"][0] == 0  # a list of Parameters registers none
    _same(ours, theirs, "optimizer_error", "strict_error", "load_report", "loaded_equal")
    _same(ours, theirs, "shape_error", "assign_error", "assign_ok", "del_ok", "bias_keys")
    _same_error(ours, theirs, "group_error")
    # PyTorch loads a saved state into groups of the same sizes whatever their parameters'
    # shapes (the next step fails); minigrad refuses the mismatched shapes when loading
    assert theirs.size_error is None and "has shape" in ours.size_error[1]
    assert ours.optimizer_facts[:6] == theirs.optimizer_facts[:6]
    assert close(ours.optimizer_facts[6], theirs.optimizer_facts[6], 1e-4, 1e-8)
    assert repr(ours.fresh) == repr(theirs.fresh)


def test_eval_nograd_inference(programs):
    ours, theirs = _both(programs, "eval_nograd_inference")
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert close(ours.running_after_train, theirs.running_after_train, 1e-5, 1e-6)
    assert close(ours.nograd_updates, theirs.nograd_updates, 1e-5, 1e-6)
    assert ours.nograd_updates[0] == 8  # the three no_grad passes in train mode counted
    _same(ours, theirs, "eval_facts", "flags", "single_error", "single_ok", "single_2d")
    assert ours.eval_facts[:4] == [False, True, True, False]
    assert close(ours.eval_out, theirs.eval_out, 1e-5, 1e-6)
    assert close(ours.bn_variants, theirs.bn_variants, 1e-6)
    _same(ours, theirs, "dropout_eval", "dropout_scale", "inside", "modes", "ng_grad")
    _same(ours, theirs, "cloned_ok", "inf_after", "normal_facts", "decorated", "grad_modes")
    for mine, pytorchs in zip(ours.inference_errors, theirs.inference_errors):
        assert mine[0] == pytorchs[0] and mine[1][:70] == pytorchs[1][:70]


def test_einsum_edge_cases(programs):
    ours, theirs = _both(programs, "einsum_edge_cases")
    _same(ours, theirs, "basics", "ellipsis_facts")
    assert ours.basics[0] == [0.0, 4.0, 8.0] and ours.basics[1] == 12.0
    assert close(ours.diagonal_grad, theirs.diagonal_grad, 1e-6)
    for mine, pytorchs in zip(ours.errors, theirs.errors):
        _error_matches(mine, pytorchs)
    assert close(ours.bilinear[0], theirs.bilinear[0], 1e-5, 1e-5) and ours.bilinear[1] < 1e-3
    assert close(ours.bilinear[2], theirs.bilinear[2], 1e-5, 1e-4)
    assert ours.attention[0] and theirs.attention[0]
    assert close(ours.attention[1:], theirs.attention[1:], 1e-5, 1e-5)


def test_tensor_creation_conversion(programs):
    ours, theirs = _both(programs, "tensor_creation_conversion")
    assert ours.ctor[1:] == theirs.ctor[1:] and ours.ctor[0] == theirs.ctor[0] == [3]
    _same(ours, theirs, "legacy", "inference", "copy_warning", "copy_facts", "scalars_ok")
    assert len(ours.copy_warning) == 1 and "detach().clone()" in ours.copy_warning[0]
    _same(ours, theirs, "stacked", "ragged_error", "sharing", "dtype_from_numpy", "numpy_error")
    assert ours.sharing[0] == [5.0, 7.0, 0.0] and ours.sharing[2] == [0.0, 0.0, 0.0]
    _same(ours, theirs, "numpy_ok", "noncontig_from_numpy", "negative_stride", "scalar_errors")
    _same(ours, theirs, "scalars", "likes", "like_error", "ranges")
    _same_error(ours, theirs, "list_error", "range_error")


def test_optimizer_grad_gotchas(programs):
    ours, theirs = _both(programs, "optimizer_grad_gotchas")
    _same(ours, theirs, "accumulated", "after_zero", "after_zero_false", "skipped", "frozen")
    assert ours.accumulated and ours.after_zero == [True, True]
    assert ours.skipped[1] == [1.0, 1.0]  # b had no grad: no weight decay, no momentum state
    _same(ours, theirs, "empty_error", "groups", "order_warning", "lrs")
    _same_error(ours, theirs, "dup_error", "add_error", "nonfinite_error")
    assert close(ours.clipping, theirs.clipping, 1e-5) and ours.clipping[2] == pytest.approx(1.0)
    assert close(ours.clipped_values, theirs.clipped_values, 1e-6)
    assert ours.accumulation_gap < 1e-6
    for name in ("adam", "adamw"):
        assert close(ours.results[name], theirs.results[name], 1e-5, 1e-6), name
    assert ours.results["adam"][1] != ours.results["adamw"][1]


def test_tied_weights_module_gotchas(programs):
    ours, theirs = _both(programs, "tied_weights_module_gotchas")
    _same(ours, theirs, "counts", "copies", "loaded", "conversions", "hook_calls")
    assert ours.counts[:3] == [3, 4, 108]  # the tied weight once, twice with duplicates
    _same(ours, theirs, "module_names", "shared_params")
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.75 * ours.losses[0]
    assert ours.tied_after[:2] == theirs.tied_after[:2] == [True, 3]
    assert ours.tied_after[2] == pytest.approx(theirs.tied_after[2], rel=1e-4)
