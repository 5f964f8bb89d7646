"""A fourteenth round of PyTorch programs: the official tutorials and recipes and popular
repositories' training loops (makemore, minGPT, pytorch/examples, timm, fairseq), run with
``torch`` bound to minigrad and with PyTorch itself and compared value by value."""

import re

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_makemore_mlp(programs):
    ours, theirs = _both(programs, "makemore_mlp")  # counts table, multinomial(generator=)
    assert ours.count_total == theirs.count_total and ours.n_params == theirs.n_params == 1537
    assert ours.bigram_samples == theirs.bigram_samples  # the same Generator draws
    assert ours.count_nll == pytest.approx(theirs.count_nll, rel=1e-6)
    assert close(ours.net_losses, theirs.net_losses, 1e-5, 1e-6)
    assert ours.net_losses[-1] < 0.65 * ours.net_losses[0]
    assert close(ours.lossi, theirs.lossi, 1e-5, 1e-6)
    assert close(ours.split_losses, theirs.split_losses, 1e-5)
    assert ours.mlp_samples == theirs.mlp_samples and ours.saturated == theirs.saturated


def test_makemore_backprop_ninja(programs):
    ours, theirs = _both(programs, "makemore_backprop_ninja")  # retain_grad, manual backward
    assert ours.autograd_loss == pytest.approx(theirs.autograd_loss, rel=1e-6)
    assert set(ours.comparisons) == set(theirs.comparisons) and len(ours.comparisons) == 28
    assert all(a and b for a, b in ours.comparisons.values())  # every hand gradient allclose
    assert all(a and b for a, b in theirs.comparisons.values())
    # the exact (==) checks of the top of the graph hold in both; lower ones depend on rounding
    for name in ("logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "logits"):
        assert ours.exact[name] and theirs.exact[name], name
    assert ours.logit_max_grad < 1e-6 and ours.fused_loss_gap < 1e-6
    assert close(ours.manual_losses, theirs.manual_losses, 1e-5, 1e-6)
    assert ours.manual_losses[-1] < 0.4 * ours.manual_losses[0]


def test_mingpt_sort(programs):
    ours, theirs = _both(programs, "mingpt_sort")  # CfgNode, Trainer callbacks, decay sets
    assert ours.first_example == theirs.first_example  # the same global-RNG draws
    assert ours.config_dict == theirs.config_dict and ours.config_dict["block_size"] == 7
    assert ours.decay_sizes == theirs.decay_sizes == [5, 12]
    # float32 rounding, 2e-7 apart at first, grows through Adam's late steps to ~2e-3
    assert close(ours.losses[:16], theirs.losses[:16], 1e-5, 1e-6) and len(ours.losses) == 40
    assert close(ours.losses, theirs.losses, 1e-2, 1e-4)
    assert ours.losses[-1] < 0.4 * ours.losses[0]
    assert ours.sorted_fraction == theirs.sorted_fraction > 0.3


def test_fused_conv_bn_function(programs):
    ours, theirs = _both(programs, "fused_conv_bn_function")  # custom Functions, fuse_conv_bn
    assert ours.gradchecks == theirs.gradchecks == [True, True, True]
    assert max(ours.library_gaps) < 1e-12  # hand conv backward == torch.nn.grad's
    for name in ("fused", "plain"):
        assert close(ours.runs[name], theirs.runs[name], 1e-4, 1e-5), name
    # the same network: the tutorial's batch norm divides by sqrt(unbiased var) + eps
    assert close(ours.runs["fused"], ours.runs["plain"], 2e-3, 1e-4)
    assert ours.runs["fused"][-1] < 0.7 * ours.runs["fused"][0]
    assert ours.fused_accuracy == theirs.fused_accuracy
    assert max(ours.fold_gaps) < 1e-5
    assert close(ours.library_fused_bias, theirs.library_fused_bias, 1e-5, 1e-6)
    assert close(ours.running_var, theirs.running_var, 1e-5)


def test_shapes_meta_recipe(programs):
    ours, theirs = _both(programs, "shapes_meta_recipe")  # meta device, Dropout2d on 2-D
    assert ours.meta_repr == theirs.meta_repr  # grad_fn=<ConvolutionBackward0> on meta too
    assert ours.large_shape == theirs.large_shape == (1024, 5, 65535, 65535)
    assert ours.large_device == "meta" and ours.weight_is_meta
    assert ours.hook_lines == theirs.hook_lines and len(ours.hook_lines) == 8
    assert ours.lenet_out == theirs.lenet_out == ((1024, 10), "meta", True)
    assert ours.meta_params == theirs.meta_params == 62006
    assert ours.dropout_warnings == theirs.dropout_warnings and len(ours.dropout_warnings) == 1
    assert close(ours.train_result, theirs.train_result, 1e-5, 1e-6)
    assert ours.dropped_mask == theirs.dropped_mask and ours.kept_values == [0.0, 2.0]
    assert close(ours.eval_result, theirs.eval_result, 1e-5, 1e-6)
    assert ours.module_repr == theirs.module_repr


def test_char_rnn_generation(programs):
    ours, theirs = _both(programs, "char_rnn_generation")  # Tensor([0]) += loss, str[tensor]
    assert (
        ours.ascii_sample == theirs.ascii_sample == ["ukasz", "Kasia", "Bozena", "Angel", "Inigo"]
    )
    assert ours.example_shapes == theirs.example_shapes
    assert ours.example_target == theirs.example_target and ours.example_target[-1] == 58  # EOS
    assert close(ours.all_losses, theirs.all_losses, 1e-5, 1e-6)
    assert ours.all_losses[-1] < 0.7 * ours.all_losses[0]
    assert ours.loss_requires_grad and ours.samples == theirs.samples


def _fields(lines):
    """ProgressMeter lines split into their loss values and the rest (printed exactly)."""
    split = [line.split("\t") for line in lines]
    losses = [float(x) for f in split for x in f[1].replace("(", " ").strip(")").split()[1:]]
    return losses, [[f[0], *f[2:]] for f in split]


def test_imagenet_example_loop(programs):
    ours, theirs = _both(programs, "imagenet_example_loop")  # AverageMeter of 0-d tensors
    our_losses, our_rest = _fields(ours.lines)
    their_losses, their_rest = _fields(theirs.lines)
    assert our_rest == their_rest and len(our_rest) == 8  # '{val:6.2f}' of 0-d tensors
    assert our_rest[0][0] == "Epoch: [0][1/4]" and "Acc@1" in our_rest[0][1]
    assert close(our_losses, their_losses, 1e-4)
    assert close(ours.epoch_losses, theirs.epoch_losses, 1e-5, 1e-6)
    assert ours.summaries == theirs.summaries and ours.bests == theirs.bests
    assert ours.lrs == theirs.lrs and ours.resumed_lr == theirs.resumed_lr
    assert ours.files == ["checkpoint.pth.tar", "model_best.pth.tar"]
    assert ours.best_acc1_type == theirs.best_acc1_type == "Tensor"  # max(tensor, float)
    assert ours.start_epoch == theirs.start_epoch == 2  # the best epoch's copy
    assert ours.momentum_keys == ["momentum_buffer"]
    assert ours.resumed_summary == theirs.resumed_summary == theirs.summaries[1]


def test_timm_vit_blocks(programs):
    ours, theirs = _both(programs, "timm_vit_blocks")  # erfinv_ init, DropPath, layer decay
    assert close(ours.trunc_stats, theirs.trunc_stats, 1e-4, 1e-8)
    assert ours.trunc_stats[2] <= 0.08 and abs(ours.trunc_stats[1] - 0.02) < 0.002
    assert ours.dp_repr == theirs.dp_repr == "DropPath(drop_prob=0.200)"
    assert ours.group_summary == theirs.group_summary and len(ours.group_summary) == 10
    assert close(ours.lrs, theirs.lrs, 1e-9, 0.0)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)  # the same bernoulli_ drop paths
    assert ours.losses[-1] < 0.8 * ours.losses[0]
    assert ours.smoothing_gap < 1e-6 and ours.explicit_gap < 1e-5
    assert ours.accuracy == theirs.accuracy and close(ours.gammas, theirs.gammas, 1e-4)
    assert close(ours.big_out, theirs.big_out, 1e-4, 1e-5)
    assert ours.resampled[0] == 37 and close(ours.resampled[1], theirs.resampled[1], 1e-4, 1e-7)


def test_annotated_transformer(programs):
    ours, theirs = _both(programs, "annotated_transformer")  # KLDivLoss sum, index_fill_, Noam
    assert ours.mask_example == theirs.mask_example
    assert close(ours.true_dist_example, theirs.true_dist_example, 1e-6, 1e-7)
    assert ours.true_dist_example[2] == [0.0] * 5  # the padding row, by nonzero + index_fill_
    assert close(ours.lrs, theirs.lrs, 1e-9, 0.0)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and len(ours.losses) == 40
    assert ours.losses[-1] < 0.85 * ours.losses[0]
    assert ours.decoded == theirs.decoded and ours.decoded[0] == 1
    assert close(ours.fairseq, theirs.fairseq, 1e-5)
    assert ours.fairseq[0] == pytest.approx(ours.fairseq[2], rel=1e-5)  # fairseq == F.cross_entropy


def test_deep_learning_nlp_tutorial(programs):
    ours, theirs = _both(programs, "deep_learning_nlp_tutorial")  # BoW, N-gram, CBOW, tagger
    assert ours.creo_before == theirs.creo_before  # manual_seed(1) draws the same weights
    assert close(ours.creo_after, theirs.creo_after, 1e-5, 1e-6)
    assert close(ours.bow_test, theirs.bow_test, 1e-5, 1e-6)
    assert ours.bow_test[0][0][0] > ours.bow_test[0][0][1]  # "Yo creo que si" is Spanish
    assert close(ours.losses, theirs.losses, 1e-6) and ours.losses[1] < ours.losses[0]
    assert close(ours.beauty, theirs.beauty, 1e-5, 1e-6)
    assert close(ours.cbow_losses, theirs.cbow_losses, 1e-5)
    assert ours.cbow_losses[-1] < 0.2 * ours.cbow_losses[0]
    assert ours.stepwise_gap < 1e-6 and close(ours.lstm_out_last, theirs.lstm_out_last, 1e-5)
    assert close(ours.tagger_losses, theirs.tagger_losses, 1e-5, 1e-6)
    assert ours.predicted_tags == theirs.predicted_tags == [0, 1, 2, 0, 1]  # DET NN V DET NN


def test_autograd_fundamentals(programs):
    ours, theirs = _both(programs, "autograd_fundamentals")  # next_functions, vjp, hvp
    assert ours.chain == theirs.chain  # 2 * b records b first, as PyTorch's __rmul__
    assert ours.chain[-1] == [("torch::autograd::AccumulateGrad", 0)] and ours.leaf_is_a
    assert ours.sin_grad_gap == 0.0 and ours.param_info == theirs.param_info
    assert ours.fc3_grad_norm == pytest.approx(theirs.fc3_grad_norm, rel=1e-5)
    # minigrad composes mse_loss and records no TBackward0 under addmm: only the loss node and
    # the leaves agree
    assert ours.loss_graph[0] == theirs.loss_graph[0] == "MseLossBackward0"
    leaves = [n for n in ours.loss_graph if n.endswith("AccumulateGrad")]
    assert len(leaves) == len([n for n in theirs.loss_graph if n.endswith("AccumulateGrad")]) == 10
    assert ours.bias_grad_before is None and theirs.bias_grad_before is None
    assert close(ours.bias_grad_after, theirs.bias_grad_after, 1e-5, 1e-7)
    assert close(ours.blitz_losses, theirs.blitz_losses, 1e-5)
    assert ours.grad_before_backward is None and close(ours.accumulated, theirs.accumulated, 1e-5)
    assert close(ours.accumulated[2], [3 * g for g in ours.accumulated[0]], 1e-5)
    assert ours.zeroed == [0.0, 0.0, 0.0] and ours.switches == theirs.switches
    assert ours.inplace_error.startswith(theirs.inplace_error)
    assert ours.doublings == theirs.doublings and close(ours.vjp, theirs.vjp, 1e-6)
    assert close(ours.jac, theirs.jac, 1e-6) and ours.hvp_gap < 1e-6


def test_yolov5_train_loop(programs):
    ours, theirs = _both(programs, "yolov5_train_loop")  # np.interp warm-up, ModelEMA, CIoU
    assert ours.norm_names == theirs.norm_names  # 'Norm' in k over nn.__dict__
    assert ours.group_sizes == theirs.group_sizes == [3, 2, 3]
    assert close(ours.warmup_log, theirs.warmup_log, 1e-12, 0.0) and len(ours.warmup_log) == 7
    assert ours.accumulates == theirs.accumulates
    assert close(ours.epoch_losses, theirs.epoch_losses, 1e-4, 1e-6)
    assert ours.epoch_losses[-1][0] < ours.epoch_losses[0][0]  # the box loss goes down
    assert ours.final_lrs == theirs.final_lrs and ours.lr_types == theirs.lr_types
    assert ours.ema_updates == theirs.ema_updates == 22 and ours.ema_gap > 0
    assert ours.ema_gap == pytest.approx(theirs.ema_gap, rel=1e-3)
    assert close(ours.ema_running_mean, theirs.ema_running_mean, 1e-4, 1e-6)  # buffers too
    assert close([ours.ema_iou, ours.model_iou], [theirs.ema_iou, theirs.model_iou], 1e-4)
    assert close(ours.iou_variants, theirs.iou_variants, 1e-6, 1e-7)


def _numbers(text):
    """The numbers in ``text`` and the text with each replaced by '#'."""
    pattern = r"-?\d+\.?\d*(?:e[-+]?\d+)?"
    return [float(x) for x in re.findall(pattern, text)], re.sub(pattern, "#", text)


def test_torchvision_references_cls(programs):
    ours, theirs = _both(programs, "torchvision_references_cls")  # SmoothedValue, EMA, groups
    assert ours.group_summary == theirs.group_summary == [(6, 1e-4), (4, 0.0), (1, 0.0)]
    for mine, their in zip(ours.logs, theirs.logs, strict=True):  # MetricLogger lines
        (a, text), (b, their_text) = _numbers(mine), _numbers(their)
        assert text == their_text and close(a, b, 1e-3, 1e-4), (mine, their)
    assert ours.lrs == theirs.lrs and ours.n_averaged == theirs.n_averaged == [0, 0, 2, 4, 6, 8]
    assert ours.evals == theirs.evals and ours.evals[-1][0] == 100.0
    assert close(ours.ema_running_var, theirs.ema_running_var, 1e-4)  # use_buffers=True
    assert ours.acc_dtype == theirs.acc_dtype == "torch.float32"
    assert ours.meter_str == theirs.meter_str == ["2.0000 (2.5000)", 2.0, 3.0, 2.0]


def test_torchscript_intro(programs):
    ours, theirs = _both(programs, "torchscript_intro")  # trace vs script, save / jit.load
    assert ours.tracer_warnings == theirs.tracer_warnings and len(ours.tracer_warnings) == 1
    assert ours.traced_repr == theirs.traced_repr and ours.traced_class == "TopLevelTracedModule"
    assert ours.traced_gap == 0.0 and ours.scripted_class == theirs.scripted_class
    assert close(ours.branches, theirs.branches, 1e-5) and ours.gate_outputs == theirs.gate_outputs
    assert ours.loaded_repr == theirs.loaded_repr
    assert close(ours.loaded_sums, theirs.loaded_sums, 1e-5) and ours.loaded_gaps == [0.0, 0.0]
    assert close(ours.loop_out, theirs.loop_out, 1e-5)
