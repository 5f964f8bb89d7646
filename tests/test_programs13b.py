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
