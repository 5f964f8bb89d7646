"""An eighteenth round of PyTorch programs, on evaluation, metrics and decoding code written by
hand in torch (ROC/PR curves, calibration and bootstrap intervals, detection mAP, n-gram and
edit-distance scores, sampling strategies, image-quality and distribution metrics, rank
correlations and retrieval, segmentation scores), run with ``torch`` bound to minigrad and with
PyTorch itself and compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_roc_pr_auc_by_hand(programs):
    ours, theirs = _both(programs, "roc_pr_auc_by_hand")  # sort+cumsum curves, bincount, F1
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.n_thresholds == theirs.n_thresholds == 11  # tied scores merged
    assert close(ours.roc_points, theirs.roc_points, 1e-6, 1e-7)
    assert close(ours.pr_points, theirs.pr_points, 1e-6, 1e-7)
    assert close(ours.auc_values, theirs.auc_values, 1e-5, 1e-6)
    assert ours.auc_values[0] == pytest.approx(ours.auc_values[2], abs=1e-6)  # trapezoid == U
    assert ours.best_threshold == theirs.best_threshold and ours.auc_dtype == theirs.auc_dtype
    assert ours.class_metrics == theirs.class_metrics
    assert close(ours.averaged, theirs.averaged, 1e-6, 1e-7)
    assert ours.dtypes == theirs.dtypes == ["torch.int64", "torch.float32", "torch.float64"]
    assert str(ours.raw_precision) == str(theirs.raw_precision)  # nan for a never-predicted class
    assert close(ours.ovr_auc, theirs.ovr_auc, 1e-5, 1e-6)


def test_calibration_bootstrap(programs):
    ours, theirs = _both(programs, "calibration_bootstrap")  # bucketize ECE, quantile CIs
    assert close(ours.calibration, theirs.calibration, 1e-5, 1e-6)
    assert ours.calibration[5] < ours.calibration[0]  # tempering the logits calibrates them
    assert close(ours.tables, theirs.tables, 1e-6, 1e-7)
    assert close(ours.classwise_ece, theirs.classwise_ece, 1e-5, 1e-6)
    assert ours.first_draws == theirs.first_draws  # the seeded generator draws the same indices
    assert close(ours.boot_ci, theirs.boot_ci, 1e-6, 0)
    assert close(ours.ece_ci, theirs.ece_ci, 1e-5, 1e-6)
    assert close(ours.boot_stats, theirs.boot_stats, 1e-6, 1e-7)
    assert str(ours.nan_results) == str(theirs.nan_results)
    for mine, pytorchs in zip(ours.errors, theirs.errors):
        assert mine[0] == pytorchs[0] and mine[1].startswith(pytorchs[1])


def test_detection_map_coco(programs):
    ours, theirs = _both(programs, "detection_map_coco")  # IoU matching, cummax, searchsorted
    assert ours.classes == theirs.classes and ours.first_order == theirs.first_order
    assert close(ours.iou_sample, theirs.iou_sample, 1e-5, 1e-6)
    assert close(ours.voc, theirs.voc, 1e-5, 1e-6) and close(ours.envelopes, theirs.envelopes)
    assert close(ours.coco_table, theirs.coco_table, 1e-5, 1e-6)
    assert close([ours.coco_map, ours.ap50, ours.ap75], [theirs.coco_map, theirs.ap50, theirs.ap75])
    assert ours.ap50 > ours.ap75 > ours.coco_table[-1][0]  # stricter IoU, lower AP
    assert close(ours.thresholds, theirs.thresholds, 1e-7) and ours.small == theirs.small


def test_text_generation_metrics(programs):
    ours, theirs = _both(programs, "text_generation_metrics")  # unfold n-grams, unique(dim=0)
    assert close(ours.bleu_results, theirs.bleu_results, 1e-6, 1e-7)
    assert ours.self_bleu == theirs.self_bleu == 1.0
    assert ours.gram_results == theirs.gram_results and ours.gram_results[2] == "torch.int64"
    assert ours.rouge == theirs.rouge
    assert ours.wer == theirs.wer and ours.op_counts == theirs.op_counts
    assert ours.wer_dtype == theirs.wer_dtype == "torch.int32"
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < ours.losses[0]
    assert close(ours.ppl_results, theirs.ppl_results, 1e-5, 1e-6)
    assert ours.gather_gap < 1e-5 and close(ours.pad_nll, theirs.pad_nll, 1e-5, 1e-6)


def test_decoding_search_strategies(programs):
    ours, theirs = _both(programs, "decoding_search_strategies")  # exponential_ race, beams
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6)
    assert ours.greedy_runs == theirs.greedy_runs
    assert ours.greedy_runs["no_repeat_2"] != ours.greedy_runs["plain"]
    assert ours.greedy_runs["penalties"] != ours.greedy_runs["plain"]
    assert close(ours.truncation, theirs.truncation, 1e-5, 1e-6)
    assert ours.samples == theirs.samples and ours.truncated_ok and theirs.truncated_ok
    assert [b[0] for b in ours.beams] == [b[0] for b in theirs.beams]
    assert close([b[1] for b in ours.beams], [b[1] for b in theirs.beams], 1e-4, 1e-5)
    assert ours.contrastive == theirs.contrastive
    assert close(ours.last_degeneration, theirs.last_degeneration, 1e-5, 1e-6)


def test_image_quality_metrics(programs):
    ours, theirs = _both(programs, "image_quality_metrics")  # depthwise Gaussian SSIM, MS-SSIM
    assert close(ours.metrics, theirs.metrics, 1e-4, 1e-5)
    assert ours.ssim_self == pytest.approx([1.0, 1.0], abs=1e-6)
    assert close(ours.gms, theirs.gms, 1e-4, 1e-5) and close(
        ours.window_values, theirs.window_values
    )
    assert close(ours.first_grad, theirs.first_grad, 1e-3, 1e-6)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < ours.losses[0]
    assert close(ours.after, theirs.after, 1e-4, 1e-5) and ours.gain > 0.03 and ours.log_check
    assert min(a - b for a, b in zip(ours.after[1], ours.metrics[2])) > 0.005  # SSIM rose


def test_fid_kid_mmd(programs):
    ours, theirs = _both(programs, "fid_kid_mmd")  # eigvals/eigh sqrtm, cov, randperm subsets
    for name in ("close", "far"):
        assert close(ours.fids[name], theirs.fids[name], 1e-4, 1e-7), name
        assert ours.fids[name][0] == pytest.approx(ours.fids[name][1], rel=1e-9)
        assert close(ours.kids[name], theirs.kids[name], 1e-4, 1e-7), name
        assert ours.prd[name] == theirs.prd[name], name
    assert ours.fids["far"][0] > 10 * ours.fids["close"][0]
    assert ours.ns_error < 1e-10 and ours.sqrt_gap < 1e-10
    assert close(ours.cov_check, theirs.cov_check, 1e-6) and ours.cov_check[0] == "torch.float64"
    assert close(ours.weighted_cov, theirs.weighted_cov, 1e-4, 1e-7)
    assert close(ours.mmd_results, theirs.mmd_results, 1e-4, 1e-7)
    assert ours.p_value == theirs.p_value


def test_rank_correlation_retrieval(programs):
    ours, theirs = _both(programs, "rank_correlation_retrieval")  # average ranks, tau-b, NDCG
    assert close(ours.correlations, theirs.correlations, 1e-5, 1e-6)
    assert ours.rank_samples == theirs.rank_samples  # tied ranks averaged; argsort-twice ties
    assert close(ours.perfect, [1.0, -1.0], 1e-6, 1e-6)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.2 * ours.losses[0]
    assert ours.retrieval[0] == theirs.retrieval[0] and ours.retrieval[4] == theirs.retrieval[4]
    assert close(ours.retrieval[1:4], theirs.retrieval[1:4], 1e-5, 1e-6)
    assert ours.top_indices == theirs.top_indices
    assert (ours.score_shape, ours.score_dtype) == (theirs.score_shape, theirs.score_dtype)


def test_streaming_segmentation_metrics(programs):
    ours, theirs = _both(programs, "streaming_segmentation_metrics")  # buffers, bincount, histc
    assert ours.metrics[0] == theirs.metrics[0] and ours.metrics[2] == theirs.metrics[2]  # nan
    assert close(ours.metrics[1::2], theirs.metrics[1::2], 1e-9, 1e-12)
    assert ours.merge_equal and ours.counted == ours.expected == theirs.expected
    assert ours.state_keys == theirs.state_keys == ["mat"] and ours.restored_equal
    assert ours.after_reset == 0
    assert ours.pr_curve[0] == theirs.pr_curve[0] and close(ours.pr_curve[1:], theirs.pr_curve[1:])
    assert close(ours.running, theirs.running, 1e-9, 1e-12)
    assert close(ours.batch_check, theirs.batch_check, 1e-6, 1e-9)
    assert close(ours.running[1:], ours.batch_check, 1e-6, 1e-9)  # Welford == two-pass
    assert close([ours.hausdorff, ours.hd95], [theirs.hausdorff, theirs.hd95], 1e-6)


def test_agreement_forecast_metrics(programs):
    ours, theirs = _both(programs, "agreement_forecast_metrics")  # kappas, CRPS, histogram
    assert close(ours.kappas, theirs.kappas, 1e-9, 1e-12) and ours.self_kappa == 1.0
    assert ours.kappas[0] < ours.kappas[1] < ours.kappas[2]  # near misses count less
    assert ours.fleiss == pytest.approx(theirs.fleiss, rel=1e-9)
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.3 * ours.losses[0]
    assert close(ours.point_scores, theirs.point_scores, 1e-4, 1e-5)
    assert close(ours.crps, theirs.crps, 1e-4, 1e-5)
    assert close(ours.pit_results, theirs.pit_results, 1e-4, 1e-5)
    assert ours.pit_dtypes == theirs.pit_dtypes == ["torch.float32", "torch.float32"]


def test_ab_test_significance(programs):
    ours, theirs = _both(programs, "ab_test_significance")  # Chi2/Binomial/Normal, cummax
    assert close(ours.acc, theirs.acc, 1e-7)
    assert ours.mcnemar[:2] == theirs.mcnemar[:2]
    assert close(ours.mcnemar, theirs.mcnemar, 1e-6, 1e-9)
    assert close(ours.z_test, theirs.z_test, 1e-5, 1e-7)
    assert ours.resampling[4] == theirs.resampling[4]  # the seeded generator's draws
    assert close(ours.resampling, theirs.resampling, 1e-5, 1e-7)
    assert ours.corrections[2:] == theirs.corrections[2:]
    assert close(ours.corrections[:2], theirs.corrections[:2], 1e-6, 1e-9)
    assert close([ours.bonferroni, ours.sidak], [theirs.bonferroni, theirs.sidak], 1e-5, 1e-8)
    assert close(ours.effect, theirs.effect, 1e-5)


def test_ctr_group_metrics(programs):
    ours, theirs = _both(programs, "ctr_group_metrics")  # segment_reduce, take_along_dim(-1)
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.5 * ours.losses[0]
    assert close(ours.overall, theirs.overall, 1e-5, 1e-6)
    assert close(ours.gauc, theirs.gauc, 1e-5, 1e-6) and ours.gauc[1] == theirs.gauc[1] == 12
    assert ours.segments[:3] == theirs.segments[:3] and close(ours.segments, theirs.segments)
    assert close(ours.scatter_stats, theirs.scatter_stats, 1e-5, 1e-6) and ours.same_max
    assert close(ours.last, theirs.last, 1e-5, 1e-6)
    assert close(ours.ctr_by_position, theirs.ctr_by_position, 1e-6)
    assert close(ours.pred_by_position, theirs.pred_by_position, 1e-5, 1e-6)
    assert close(ours.bias_weights, theirs.bias_weights, 1e-4, 1e-5)
