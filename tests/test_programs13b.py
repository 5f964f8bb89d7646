"""A thirteenth round of PyTorch programs, on recommendation, language, speech, time series and
tabular data (SASRec, GRU4Rec's session-parallel batches, Mult-VAE, Autoformer's
auto-correlation, ...), run with ``torch`` bound to minigrad and with PyTorch itself;
minigrad's generator follows PyTorch's streams, so the two runs are compared value by value."""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings(
    "ignore::RuntimeWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)


def _both(programs, name):
    return programs(name), programs(name, torch=True)


def test_sasrec(programs):
    ours, theirs = _both(programs, "sasrec")  # MHA attn_mask, Conv1d FFN, masked BCE
    assert ours.users.tolist() == theirs.users.tolist()
    assert close(ours.losses, theirs.losses, 1e-5, 1e-6) and ours.losses[-1] < 0.8 * ours.losses[0]
    assert close(ours.scores.tolist(), theirs.scores.tolist(), 1e-3, 1e-4)
    assert [ours.hit1, ours.hit10, ours.ndcg10] == [theirs.hit1, theirs.hit10, theirs.ndcg10]
    assert ours.hit10 > 0.8 and ours.hit1 > 0.2  # random ranking: 0.5 and 0.05


def test_gru4rec_bpr(programs):
    ours, theirs = _both(programs, "gru4rec_bpr")  # GRUCell lanes reset by masks, in-batch
    assert ours.n_steps == theirs.n_steps  # negatives, TOP1 and BPR-max, Adagrad, clipping
    for name in ("top1", "bpr_max"):
        a, b = ours.results[name], theirs.results[name]
        assert close(a["losses"], b["losses"], 1e-4, 1e-5) and a["losses"][-1] < a["losses"][0]
        assert close([a["recall5"], a["mrr5"]], [b["recall5"], b["mrr5"]], 1e-6)
        assert a["recall5"] > 0.6


def test_mult_vae_cf(programs):
    ours, theirs = _both(programs, "mult_vae_cf")  # F.normalize, log_softmax likelihood, KL
    for name in ("vae", "dae"):  # annealing, topk on -inf-masked scores
        a, b = ours.results[name], theirs.results[name]
        assert close(a["losses"], b["losses"], 1e-5, 1e-6)
        assert close([a["ndcg"], a["recall"]], [b["ndcg"], b["recall"]], 1e-6)
        assert a["ndcg"] > ours.pop_ndcg + 0.1  # beats recommending the popular items
    assert ours.anneals == theirs.anneals and max(ours.anneals) == 0.2


def test_autoformer_autocorr(programs):
    ours, theirs = _both(programs, "autoformer_autocorr")  # rfft * conj -> irfft, topk lags,
    assert ours.decomp_gap < 1e-6  # torch.roll aggregation, AvgPool1d decomposition
    assert close(ours.trend.tolist(), theirs.trend.tolist(), 1e-5, 1e-6)
    for name in ("autoformer", "linear"):
        a, b = ours.results[name], theirs.results[name]
        assert (
            close(a["losses"], b["losses"], 1e-4, 1e-5) and a["losses"][-1] < 0.2 * a["losses"][0]
        )
        assert a["test_mse"] == pytest.approx(b["test_mse"], rel=1e-4)
    assert ours.last_delays == theirs.last_delays


def test_esim_nli(programs):
    ours, theirs = _both(programs, "esim_nli")  # packed BiLSTMs, masked softmax alignment,
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)  # masked mean/max pooling
    assert close(ours.logits.tolist(), theirs.logits.tolist(), 1e-3, 1e-4)
    assert ours.accuracy == theirs.accuracy and ours.accuracy > 0.7  # chance: 1/3
    assert ours.padding_gap < 1e-5  # extra padding changes nothing


def test_tacotron_attention(programs):
    ours, theirs = _both(programs, "tacotron_attention")  # location conv over cumulative
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)  # attention, prenet dropout on
    assert close(ours.attn_losses, theirs.attn_losses, 1e-4, 1e-6)
    assert ours.attn_losses[-1] < ours.attn_losses[0] and ours.mel_losses[-1] < ours.mel_losses[0]
    assert ours.padded_attention == 0.0  # -inf masked encoder steps get no weight
    assert ours.inference_steps == theirs.inference_steps  # the gate stops both at one step
    assert close(ours.mels_inf.tolist(), theirs.mels_inf.tolist(), 1e-3, 1e-5)


def test_hifigan_discriminators(programs):
    ours, theirs = _both(programs, "hifigan_discriminators")  # weight_norm parametrizations,
    assert close(ours.d_losses, theirs.d_losses, 1e-4, 1e-5)  # spectral_norm, reflect pad,
    assert close(ours.g_losses, theirs.g_losses, 1e-4, 1e-5)  # periods viewed as 2-D
    assert close(ours.mel_losses, theirs.mel_losses, 1e-4, 1e-5)
    assert ours.mel_losses[-1] < 0.8 * ours.mel_losses[0]
    assert ours.score_shapes == theirs.score_shapes == [(4, 16), (4, 15), (4, 32), (4, 17)]
    assert ours.fmap_shapes == theirs.fmap_shapes
    assert ours.param_names == theirs.param_names and ours.sn_buffers == theirs.sn_buffers
    assert ours.removal_gap < 1e-6 and ours.last_lr == pytest.approx(theirs.last_lr, rel=1e-12)
    assert close(ours.before.tolist(), theirs.before.tolist(), 1e-3, 1e-4)


def test_xvector_tdnn(programs):
    ours, theirs = _both(programs, "xvector_tdnn")  # dilated Conv1d, masked statistics
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)  # pooling, AAM softmax margin
    assert ours.losses[-1] < 0.1 * ours.losses[0]
    assert close(ours.trial_scores.tolist(), theirs.trial_scores.tolist(), 1e-3, 1e-4)
    assert ours.eer == pytest.approx(theirs.eer, abs=1e-6) and ours.eer < 0.2
    assert close(ours.running_var, theirs.running_var, 1e-4, 1e-6)
    assert ours.padding_gap < 1e-5  # frames past the length are ignored


def test_lightgcn_bpr(programs):
    ours, theirs = _both(programs, "lightgcn_bpr")  # sparse COO normalized adjacency,
    assert ours.graph_nnz == theirs.graph_nnz  # coalesce, sparse.sum, sparse.mm, BPR
    assert close(ours.row_sums, theirs.row_sums, 1e-6, 1e-7)
    for name in ("lightgcn", "mf"):
        a, b = ours.results[name], theirs.results[name]
        assert close(a["losses"], b["losses"], 1e-4, 1e-5)
        assert close([a["recall"], a["precision"]], [b["recall"], b["precision"]], 1e-6)
    assert ours.results["lightgcn"]["recall"] > ours.results["mf"]["recall"] + 0.2
    assert close(ours.rating.tolist(), theirs.rating.tolist(), 1e-4, 1e-6)
    assert ours.grad_rows == theirs.grad_rows


def test_dlrm_interactions(programs):
    ours, theirs = _both(programs, "dlrm_interactions")  # EmbeddingBag sum + per-sample
    for op in ("dot", "cat"):  # weights, sparse grads under SGD, bmm dot interactions
        a, b = ours.results[op], theirs.results[op]
        assert (
            close(a["losses"], b["losses"], 1e-4, 1e-5) and a["losses"][-1] < 0.7 * a["losses"][0]
        )
        assert a["accuracy"] == b["accuracy"] and a["accuracy"] > 0.65
    assert ours.emb_grad_layout == theirs.emb_grad_layout == "sparse_coo"
    assert close(ours.emb_grad_dense, theirs.emb_grad_dense, 1e-4, 1e-6)
    assert ours.include_last_gap == 0.0  # include_last_offset=True gives the same bags
    assert close(ours.plain.tolist(), theirs.plain.tolist(), 1e-4, 1e-5)


def test_rnnt_loss(programs):
    ours, theirs = _both(programs, "rnnt_loss")  # (B, T, U+1, V) joint lattice, logaddexp
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)  # forward variables, greedy decode
    assert ours.losses[-1] < 0.25 * ours.losses[0]
    assert ours.grad_norm == pytest.approx(theirs.grad_norm, rel=1e-3)
    assert ours.hyps == theirs.hyps and ours.correct >= 3


def test_batched_crf_tagger(programs):
    ours, theirs = _both(programs, "batched_crf_tagger")  # pytorch-crf: logsumexp forward
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)  # algorithm under torch.where
    assert ours.losses[-1] < 0.1 * ours.losses[0]  # masks, Viterbi backtracking
    assert ours.decoded == theirs.decoded and ours.token_accuracy > 0.95
    assert ours.sum_llh == pytest.approx(theirs.sum_llh, rel=1e-4)
    assert close(ours.transitions, theirs.transitions, 1e-3, 1e-5)


def test_performer_favor(programs):
    ours, theirs = _both(programs, "performer_favor")  # linalg.qr orthogonal features,
    assert ours.orthogonality_gap < 1e-5  # einsum with '...' (gradients), cumsum causal
    assert close(ours.proj.tolist(), theirs.proj.tolist(), 1e-4, 1e-5)  # linear attention
    assert ours.approx_error < 0.03 and ours.causal_error < 0.03  # FAVOR+ estimates softmax
    assert close(
        [ours.approx_error, ours.causal_error], [theirs.approx_error, theirs.causal_error], 1e-3
    )
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.losses[-1] < 0.05 * ours.losses[0]
    assert close(ours.projection_sample, theirs.projection_sample, 1e-5, 1e-6)  # redrawn


def test_plr_numeric_embeddings(programs):
    ours, theirs = _both(programs, "plr_numeric_embeddings")  # quantile, unique, bucketize
    assert close(ours.bin_edges, theirs.bin_edges, 1e-6, 1e-7)  # (right=True), trunc_normal_
    assert close(ours.sample_encoding, theirs.sample_encoding, 1e-6, 1e-7)
    for name in ("raw", "ple", "plr"):
        a, b = ours.results[name], theirs.results[name]
        assert close(a["losses"], b["losses"], 1e-4, 1e-5)
        assert a["rmse"] == pytest.approx(b["rmse"], rel=1e-4)
    assert ours.results["plr"]["rmse"] < 0.6 * ours.results["raw"]["rmse"]


def test_informer_probsparse(programs):
    ours, theirs = _both(programs, "informer_probsparse")  # sampled keys, topk(sorted=False),
    # advanced-index writes, ProbMask; float32 drift over the steps (summation orders in
    # backward): in float64 the losses agree to 7e-9
    assert close(ours.losses, theirs.losses, 2e-3, 1e-5)
    assert ours.losses[-1] < 0.5 * ours.losses[0]
    # the distilling Conv1d's bias feeds BatchNorm1d, so its true gradient is 0 and Adam steps
    # it by the sign of rounding noise: the running means (not the training losses) drift apart
    assert ours.test_mse == pytest.approx(theirs.test_mse, rel=2e-2)
    assert ours.lazy_row == theirs.lazy_row == [124.0, 125.0, 126.0, 127.0]  # mean of V


def test_electra_rtd(programs):
    ours, theirs = _both(programs, "electra_rtd")  # bernoulli masking, multinomial sampling,
    assert close(ours.mlm_losses, theirs.mlm_losses, 1e-4, 1e-5)  # norm_first GELU encoders
    assert close(ours.rtd_losses, theirs.rtd_losses, 1e-4, 1e-5)  # with key padding masks
    assert ours.mlm_losses[-1] < 0.75 * ours.mlm_losses[0]
    assert [ours.n_masked, ours.n_replaced] == [theirs.n_masked, theirs.n_replaced]
    assert ours.mlm_accuracy == theirs.mlm_accuracy and ours.mlm_accuracy > 0.1  # chance 0.05
    # 40 steps teach the discriminator the base rate of replacements, not yet which ones
    assert ours.detection_accuracy == pytest.approx(theirs.detection_accuracy, abs=1e-6)
    assert close(ours.disc_logits.tolist(), theirs.disc_logits.tolist(), 1e-3, 1e-4)


def test_xdeepfm_cin(programs):
    ours, theirs = _both(programs, "xdeepfm_cin")  # einsum outer products, Conv1d(k=1)
    assert ours.y.tolist() == theirs.y.tolist()  # compression, split_half, rank AUC
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5) and ours.losses[-1] < 0.5 * ours.losses[0]
    # repeated rows score near-equal after 40 steps (3e-4 apart): their rank order may differ
    assert ours.test_auc == pytest.approx(theirs.test_auc, abs=2e-3) and ours.test_auc > 0.65
    assert ours.cin_out_shape == theirs.cin_out_shape == (2, 12)
    assert ours.conv_grad == pytest.approx(theirs.conv_grad, rel=1e-4)


def test_mqrnn_quantile(programs):
    ours, theirs = _both(programs, "mqrnn_quantile")  # GRU encoder, global/local MLPs over
    assert close(ours.losses, theirs.losses, 1e-4, 1e-5)  # horizons, pinball loss by max,
    assert ours.losses[-1] < 0.4 * ours.losses[0]  # ordered quantiles by softplus cumsum
    assert ours.test_loss == pytest.approx(theirs.test_loss, rel=1e-4)
    assert ours.coverage == theirs.coverage and 0.7 < ours.coverage <= 1.0
    assert ours.crossing == theirs.crossing == 0
    assert close(ours.weighted_ql, theirs.weighted_ql, 1e-4, 1e-6)
    assert ours.last_lr == theirs.last_lr == 0.0025  # StepLR halved it twice
