"""The cases of tests/edges_api.py: (name, category, fn(m)[, options]) with ``m`` minigrad or
torch. Each is a call a beginner writes with a wrong argument or input (or its nearby valid
form, which must compute), run in both frameworks and compared by tests/edges_api.py."""

from __future__ import annotations


def _params(m, n=1):
    return [m.nn.Parameter(m.ones(2)) for _ in range(n)]


def _sgd(m, **kw):
    return m.optim.SGD(_params(m), lr=0.1, **kw)


def _stepped(m, make, steps):
    """The learning rates of scheduler ``make(opt)`` over ``steps`` optimizer and scheduler
    steps."""
    opt = _sgd(m, momentum=0.9)
    sched = make(m, opt)
    lrs = []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def _ds(m, n=10):
    return m.utils.data.TensorDataset(m.arange(n * 2.0).reshape(n, 2), m.arange(n))


def _batches(m, **kw):
    return [b for b in m.utils.data.DataLoader(_ds(m), **kw)]


def _lstm_hx(m, h_shape, c_shape):
    lstm = m.nn.LSTM(3, 4)
    return lstm(m.zeros(5, 2, 3), (m.zeros(*h_shape), m.zeros(*c_shape)))


def _mha_kdim(m, key_dim):
    mha = m.nn.MultiheadAttention(8, 2, kdim=4, vdim=4)
    q = m.zeros(5, 1, 8)
    return mha(q, m.zeros(6, 1, key_dim), m.zeros(6, 1, 4))


def _ce(m, logits, target, **kw):
    return m.nn.CrossEntropyLoss(**kw)(m.tensor(logits), m.tensor(target))


def _nll(m, target, **kw):
    return m.nn.NLLLoss(**kw)(m.tensor([[-1.0, -2.0, -0.5], [-0.1, -3.0, -2.0]]), m.tensor(target))


N, C, L, P, S, D = "nn_init", "nn_call", "loss", "optim", "sched", "data"
LOGITS = [[1.0, 2.0, 0.5, 0.0], [0.1, -1.0, 2.0, 1.0]]

CASES = [
    # -- nn module constructors ---------------------------------------------------------------
    ("Linear(0,3)", N, lambda m: m.nn.Linear(0, 3)(m.zeros(2, 0))),
    ("Linear(3,0)", N, lambda m: m.nn.Linear(3, 0)(m.zeros(2, 3))),
    ("Linear(-1,3)", N, lambda m: m.nn.Linear(-1, 3)),
    ("Linear(3,-2)", N, lambda m: m.nn.Linear(3, -2)),
    ("Linear(2.5,3)", N, lambda m: m.nn.Linear(2.5, 3)),
    ("Conv2d-groups-in", N, lambda m: m.nn.Conv2d(3, 6, 3, groups=2)),
    ("Conv2d-groups-out", N, lambda m: m.nn.Conv2d(4, 6, 3, groups=4)),
    ("Conv2d-groups-0", N, lambda m: m.nn.Conv2d(4, 4, 3, groups=0)),
    ("Conv2d-same-stride2", N, lambda m: m.nn.Conv2d(3, 4, 3, stride=2, padding="same")),
    ("Conv2d-same", N, lambda m: m.nn.Conv2d(3, 4, 4, padding="same")(m.zeros(1, 3, 5, 5))),
    (
        "Conv2d-pad-string",
        N,
        lambda m: m.nn.Conv2d(3, 4, 3, padding="full"),
        {"words": "Invalid padding string 'full', should be one of"},
    ),
    (
        "Conv2d-padding-mode",
        N,
        lambda m: m.nn.Conv2d(3, 4, 3, padding_mode="wrap"),
        {"words": "but got padding_mode='wrap'"},
    ),
    ("Conv1d-same-dilation", N, lambda m: m.nn.Conv1d(2, 2, 3, padding="same", dilation=2)),
    (
        "ConvTranspose2d-same",
        N,
        lambda m: m.nn.ConvTranspose2d(3, 4, 3, padding="same")(m.zeros(1, 3, 5, 5)),
        {"words": "must be tuple of ints, but found element of type str"},
    ),
    (
        "ConvTranspose2d-pad-mode",
        N,
        lambda m: m.nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
    ),
    ("Dropout(-0.1)", N, lambda m: m.nn.Dropout(-0.1)),
    ("Dropout(1.5)", N, lambda m: m.nn.Dropout(p=1.5)),
    ("Dropout2d(2)", N, lambda m: m.nn.Dropout2d(2)),
    ("Dropout(1)", N, lambda m: m.nn.Dropout(1.0)(m.ones(3)), {"values": True}),
    ("AlphaDropout(-1)", N, lambda m: m.nn.AlphaDropout(-1)),
    ("LSTM-layers-0", N, lambda m: m.nn.LSTM(3, 4, num_layers=0)),
    ("LSTM-layers-1.5", N, lambda m: m.nn.LSTM(3, 4, num_layers=1.5), {"words": "float"}),
    ("LSTM-dropout-1-layer", N, lambda m: m.nn.LSTM(3, 4, dropout=0.5)),
    ("LSTM-dropout-1.5", N, lambda m: m.nn.LSTM(3, 4, num_layers=2, dropout=1.5)),
    ("LSTM-hidden-0", N, lambda m: m.nn.LSTM(3, 0)),
    ("LSTM-proj-big", N, lambda m: m.nn.LSTM(3, 4, proj_size=4)),
    ("LSTM-proj-neg", N, lambda m: m.nn.LSTM(3, 4, proj_size=-1)),
    ("GRU-proj", N, lambda m: m.nn.GRU(3, 4, proj_size=2)),
    ("GRU-dropout-1-layer", N, lambda m: m.nn.GRU(3, 4, dropout=0.2)),
    ("RNN-nonlinearity", N, lambda m: m.nn.RNN(3, 4, nonlinearity="sigmoid")),
    ("Embedding-pad-big", N, lambda m: m.nn.Embedding(5, 3, padding_idx=5)),
    ("Embedding-pad-neg", N, lambda m: m.nn.Embedding(5, 3, padding_idx=-6)),
    ("Embedding-pad-neg-ok", N, lambda m: m.nn.Embedding(5, 3, padding_idx=-1).padding_idx),
    ("Embedding-pretrained-1d", N, lambda m: m.nn.Embedding.from_pretrained(m.ones(4))),
    ("EmbeddingBag-mode", N, lambda m: m.nn.EmbeddingBag(5, 3, mode="median")(m.tensor([[1, 2]]))),
    ("MHA-heads", N, lambda m: m.nn.MultiheadAttention(8, 3)),
    ("MHA-embed-0", N, lambda m: m.nn.MultiheadAttention(0, 1)),
    ("BatchNorm1d(0)", N, lambda m: m.nn.BatchNorm1d(0)(m.zeros(2, 0))),
    ("BatchNorm1d(-1)", N, lambda m: m.nn.BatchNorm1d(-1)),
    ("BatchNorm2d-momentum-None", N, lambda m: m.nn.BatchNorm2d(2, momentum=None).momentum),
    ("LayerNorm(0)", N, lambda m: m.nn.LayerNorm(0)(m.zeros(2, 0))),
    ("LayerNorm([])", N, lambda m: m.nn.LayerNorm([])(m.ones(2, 3))),
    ("LayerNorm-shape", N, lambda m: m.nn.LayerNorm((2, 3))(m.ones(4, 2, 3))),
    ("GroupNorm-divides", N, lambda m: m.nn.GroupNorm(3, 4)),
    ("GroupNorm-0", N, lambda m: m.nn.GroupNorm(0, 4)),
    ("Upsample-none", N, lambda m: m.nn.Upsample()(m.zeros(1, 1, 4))),
    ("Upsample-both", N, lambda m: m.nn.Upsample(size=4, scale_factor=2)(m.zeros(1, 1, 4))),
    ("Upsample-mode", N, lambda m: m.nn.Upsample(scale_factor=2, mode="cubic")(m.zeros(1, 1, 4))),
    (
        "Upsample-align-nearest",
        N,
        lambda m: m.nn.Upsample(scale_factor=2, align_corners=True)(m.zeros(1, 1, 4)),
    ),
    (
        "Upsample-bilinear-3d",
        N,
        lambda m: m.nn.Upsample(scale_factor=2, mode="bilinear")(m.zeros(1, 1, 4)),
    ),
    ("MaxPool2d-pad-half", N, lambda m: m.nn.MaxPool2d(2, padding=2)(m.zeros(1, 1, 4, 4))),
    ("AvgPool2d-pad-half", N, lambda m: m.nn.AvgPool2d(3, padding=2)(m.zeros(1, 1, 4, 4))),
    ("MaxPool2d-stride-0", N, lambda m: m.nn.MaxPool2d(2, stride=0)(m.zeros(1, 1, 4, 4))),
    ("Softmax-no-dim", N, lambda m: m.nn.Softmax()(m.ones(2, 3)), {"values": True}),
    ("LogSoftmax-no-dim", N, lambda m: m.nn.LogSoftmax()(m.ones(3)), {"values": True}),
    ("PixelShuffle-divides", N, lambda m: m.nn.PixelShuffle(2)(m.zeros(1, 3, 2, 2))),
    ("Flatten-dims", N, lambda m: m.nn.Flatten(start_dim=3)(m.zeros(2, 3))),
    ("Unflatten-sizes", N, lambda m: m.nn.Unflatten(1, (2, 2))(m.zeros(2, 3))),
    ("TEL-heads", N, lambda m: m.nn.TransformerEncoderLayer(8, 3)),
    ("TEL-activation", N, lambda m: m.nn.TransformerEncoderLayer(8, 2, activation="swish")),
    (
        "TE-nested-warning",
        N,
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2), 1),
    ),
    ("Sequential-not-module", N, lambda m: m.nn.Sequential(m.nn.Linear(2, 2), "relu")),
    ("ModuleList-not-module", N, lambda m: m.nn.ModuleList([m.nn.ReLU(), 3])),
    ("Identity-args", N, lambda m: m.nn.Identity(3, foo=1)(m.ones(2)), {"values": True}),
    (
        "CE-reduction",
        N,
        lambda m: m.nn.CrossEntropyLoss(reduction="avg")(m.ones(2, 3), m.tensor([0, 1])),
    ),
    ("CE-smoothing", N, lambda m: _ce(m, LOGITS, [0, 1], label_smoothing=1.5)),
    ("MSE-size_average", N, lambda m: m.nn.MSELoss(size_average=True)),
    ("Parameter-int", N, lambda m: m.nn.Parameter(m.tensor([1, 2]))),
    ("register_buffer-name", N, lambda m: m.nn.Module().register_buffer("a.b", m.ones(1))),
    ("add_module-name", N, lambda m: m.nn.Module().add_module("", m.nn.ReLU())),
    # -- module forward on wrong inputs -------------------------------------------------------
    ("Linear-int64", C, lambda m: m.nn.Linear(3, 2)(m.ones(4, 3, dtype=m.int64))),
    ("Linear-float64", C, lambda m: m.nn.Linear(3, 2)(m.ones(4, 3, dtype=m.float64))),
    ("Linear-features", C, lambda m: m.nn.Linear(3, 2)(m.ones(4, 5))),
    ("Linear-0d", C, lambda m: m.nn.Linear(3, 2)(m.tensor(1.0))),
    ("Linear-1d", C, lambda m: m.nn.Linear(3, 2)(m.ones(3))),
    ("Linear-3d", C, lambda m: m.nn.Linear(3, 2)(m.ones(2, 5, 3))),
    ("Conv2d-unbatched", C, lambda m: m.nn.Conv2d(3, 4, 3)(m.zeros(3, 8, 8))),
    ("Conv2d-2d", C, lambda m: m.nn.Conv2d(3, 4, 3)(m.zeros(8, 8))),
    ("Conv2d-5d", C, lambda m: m.nn.Conv2d(3, 4, 3)(m.zeros(1, 1, 3, 8, 8))),
    ("Conv2d-channels", C, lambda m: m.nn.Conv2d(3, 4, 3)(m.zeros(1, 2, 8, 8))),
    ("Conv2d-small", C, lambda m: m.nn.Conv2d(3, 4, 5)(m.zeros(1, 3, 3, 3))),
    ("Conv2d-int64", C, lambda m: m.nn.Conv2d(3, 4, 3)(m.zeros(1, 3, 8, 8, dtype=m.int64))),
    ("Conv2d-float64", C, lambda m: m.nn.Conv2d(3, 4, 3)(m.zeros(1, 3, 8, 8, dtype=m.float64))),
    ("Conv1d-4d", C, lambda m: m.nn.Conv1d(3, 4, 3)(m.zeros(1, 3, 8, 8))),
    ("Conv1d-unbatched", C, lambda m: m.nn.Conv1d(3, 4, 3)(m.zeros(3, 8))),
    ("LSTM-unbatched", C, lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 3))),
    ("LSTM-4d", C, lambda m: m.nn.LSTM(3, 4)(m.zeros(1, 5, 2, 3))),
    ("LSTM-features", C, lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 2, 6))),
    ("LSTM-hx-batch", C, lambda m: _lstm_hx(m, (1, 3, 4), (1, 3, 4))),
    ("LSTM-hx-layers", C, lambda m: _lstm_hx(m, (2, 2, 4), (2, 2, 4))),
    ("LSTM-cx-size", C, lambda m: _lstm_hx(m, (1, 2, 4), (1, 2, 5))),
    ("LSTM-hx-tensor", C, lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 2, 3), m.zeros(1, 2, 4))),
    ("LSTM-unbatched-hx-3d", C, lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 3), (m.zeros(1, 1, 4),) * 2)),
    ("GRU-unbatched-hx-3d", C, lambda m: m.nn.GRU(3, 4)(m.zeros(5, 3), m.zeros(1, 1, 4))),
    ("GRU-hx-tuple", C, lambda m: m.nn.GRU(3, 4)(m.zeros(5, 2, 3), (m.zeros(1, 2, 4),))),
    ("LSTM-int64", C, lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 2, 3, dtype=m.int64))),
    ("RNN-batch_first", C, lambda m: m.nn.RNN(3, 4, batch_first=True)(m.zeros(2, 5, 3))),
    ("Embedding-float", C, lambda m: m.nn.Embedding(5, 3)(m.tensor([1.0, 2.0]))),
    ("Embedding-int32", C, lambda m: m.nn.Embedding(5, 3)(m.tensor([1, 2], dtype=m.int32))),
    ("Embedding-oob", C, lambda m: m.nn.Embedding(5, 3)(m.tensor([1, 5]))),
    ("Embedding-neg", C, lambda m: m.nn.Embedding(5, 3)(m.tensor([-1]))),
    ("Embedding-0d", C, lambda m: m.nn.Embedding(5, 3)(m.tensor(2))),
    ("MHA-kdim-key", C, lambda m: _mha_kdim(m, 8)),
    ("MHA-kdim-ok", C, lambda m: _mha_kdim(m, 4)),
    ("MHA-embed", C, lambda m: m.nn.MultiheadAttention(8, 2)(*[m.zeros(5, 1, 6)] * 3)),
    ("MHA-4d", C, lambda m: m.nn.MultiheadAttention(8, 2)(*[m.zeros(1, 5, 1, 8)] * 3)),
    ("BatchNorm1d-batch-1", C, lambda m: m.nn.BatchNorm1d(3)(m.ones(1, 3))),
    ("BatchNorm1d-batch-1-eval", C, lambda m: m.nn.BatchNorm1d(3).eval()(m.ones(1, 3))),
    ("BatchNorm1d-features", C, lambda m: m.nn.BatchNorm1d(3)(m.ones(2, 4))),
    ("BatchNorm1d-4d", C, lambda m: m.nn.BatchNorm1d(3)(m.ones(2, 3, 2, 2))),
    ("BatchNorm2d-3d", C, lambda m: m.nn.BatchNorm2d(3)(m.ones(3, 2, 2))),
    ("BatchNorm1d-int64", C, lambda m: m.nn.BatchNorm1d(3)(m.ones(2, 3, dtype=m.int64))),
    ("InstanceNorm1d-2d", C, lambda m: m.nn.InstanceNorm1d(3)(m.ones(3, 4))),
    ("LayerNorm-last", C, lambda m: m.nn.LayerNorm(4)(m.ones(2, 3))),
    ("GroupNorm-channels", C, lambda m: m.nn.GroupNorm(2, 4)(m.ones(2, 3, 5))),
    ("MaxPool2d-2d", C, lambda m: m.nn.MaxPool2d(2)(m.ones(4, 4))),
    ("MaxPool2d-int64", C, lambda m: m.nn.MaxPool2d(2)(m.ones(1, 4, 4, dtype=m.int64))),
    ("AdaptiveAvgPool2d-2d", C, lambda m: m.nn.AdaptiveAvgPool2d(2)(m.ones(4, 4))),
    ("Dropout-int64", C, lambda m: m.nn.Dropout()(m.ones(4, dtype=m.int64))),
    ("ReLU-int64", C, lambda m: m.nn.ReLU()(m.tensor([-1, 2])), {"values": True}),
    ("GELU-approx", C, lambda m: m.nn.GELU(approximate="fast")(m.ones(2))),
    ("Sequential-extra-arg", C, lambda m: m.nn.Sequential(m.nn.ReLU())(m.ones(2), m.ones(2))),
    ("MaxPool1d-1d", C, lambda m: m.nn.MaxPool1d(2)(m.ones(4))),
    ("MaxPool3d-2d", C, lambda m: m.nn.MaxPool3d(2)(m.ones(4, 4))),
    ("AvgPool1d-1d", C, lambda m: m.nn.AvgPool1d(2)(m.ones(4))),
    ("AvgPool3d-2d", C, lambda m: m.nn.AvgPool3d(2)(m.ones(4, 4))),
    ("AdaptiveMaxPool2d-2d", C, lambda m: m.nn.AdaptiveMaxPool2d(2)(m.ones(4, 4))),
    ("AdaptiveAvgPool1d-1d", C, lambda m: m.nn.AdaptiveAvgPool1d(2)(m.ones(4))),
    ("AdaptiveAvgPool3d-2d", C, lambda m: m.nn.AdaptiveAvgPool3d(2)(m.ones(4, 4))),
    ("MaxPool2d-unbatched", C, lambda m: m.nn.MaxPool2d(2)(m.ones(1, 4, 4))),
    ("GRU-hx-batch", C, lambda m: m.nn.GRU(3, 4)(m.zeros(5, 2, 3), m.zeros(1, 3, 4))),
    ("GRU-batched-hx-2d", C, lambda m: m.nn.GRU(3, 4)(m.zeros(5, 2, 3), m.zeros(1, 4))),
    ("LSTM-batched-hx-2d", C, lambda m: m.nn.LSTM(3, 4)(m.zeros(5, 2, 3), (m.zeros(1, 4),) * 2)),
    ("RNN-float64", C, lambda m: m.nn.RNN(3, 4)(m.zeros(5, 2, 3, dtype=m.float64))),
    ("LSTM-input-size-float", C, lambda m: m.nn.LSTM(3.0, 4)),
    (
        "MHA-key-rank",
        C,
        lambda m: m.nn.MultiheadAttention(8, 2)(m.zeros(5, 1, 8), m.zeros(6, 8), m.zeros(6, 8)),
    ),
    (
        "MHA-key-value",
        C,
        lambda m: m.nn.MultiheadAttention(8, 2)(
            m.zeros(5, 1, 8), m.zeros(6, 1, 8), m.zeros(6, 1, 4)
        ),
    ),
    (
        "MHA-vdim-value",
        C,
        lambda m: m.nn.MultiheadAttention(8, 2, kdim=4, vdim=4)(
            m.zeros(5, 1, 8), m.zeros(6, 1, 4), m.zeros(6, 1, 8)
        ),
    ),
    ("MHA-unbatched", C, lambda m: m.nn.MultiheadAttention(8, 2)(*[m.zeros(5, 8)] * 3)[0]),
    ("BatchNorm3d-4d", C, lambda m: m.nn.BatchNorm3d(2)(m.ones(2, 2, 2, 2))),
    (
        "BatchNorm1d-no-stats",
        C,
        lambda m: m.nn.BatchNorm1d(3, track_running_stats=False)(m.ones(2, 4)),
    ),
    ("GroupNorm-1d", C, lambda m: m.nn.GroupNorm(2, 4)(m.ones(4))),
    ("GroupNorm-wrong-C", C, lambda m: m.nn.GroupNorm(2, 4)(m.ones(2, 6, 3))),
    ("LayerNorm-2d-shape", C, lambda m: m.nn.LayerNorm((2, 3))(m.ones(3))),
    ("Dropout-int32", C, lambda m: m.nn.Dropout()(m.ones(4, dtype=m.int32))),
    (
        "Dropout-bool-eval",
        C,
        lambda m: m.nn.Dropout().eval()(m.ones(4, dtype=m.bool)),
        {"values": True},
    ),
    (
        "Conv1d-float64-no-bias",
        C,
        lambda m: m.nn.Conv1d(3, 4, 3, bias=False)(m.zeros(1, 3, 8, dtype=m.float64)),
    ),
    ("Conv2d-dilated-small", C, lambda m: m.nn.Conv2d(3, 4, 3, dilation=2)(m.zeros(1, 3, 4, 4))),
    # -- losses on bad targets ----------------------------------------------------------------
    ("CE-float-index", L, lambda m: _ce(m, LOGITS, [0.0, 1.0])),
    (
        "CE-int32-index",
        L,
        lambda m: m.nn.CrossEntropyLoss()(m.tensor(LOGITS), m.tensor([0, 1], dtype=m.int32)),
    ),
    ("CE-target-2d", L, lambda m: _ce(m, LOGITS, [[0, 1], [1, 0]])),
    ("CE-target-batch", L, lambda m: _ce(m, LOGITS, [0, 1, 2])),
    ("CE-target-oob", L, lambda m: _ce(m, LOGITS, [0, 4])),
    ("CE-target-neg", L, lambda m: _ce(m, LOGITS, [0, -1])),
    (
        "CE-probs",
        L,
        lambda m: _ce(m, LOGITS, [[0.5, 0.2, 0.2, 0.1], [0.0, 0.0, 1.0, 0.0]]),
        {"values": True},
    ),
    (
        "CE-probs-not-1",
        L,
        lambda m: _ce(m, LOGITS, [[0.5, 0.5, 0.5, 0.5], [2.0, 0.0, 0.0, 0.0]]),
        {"values": True},
    ),
    ("CE-probs-int", L, lambda m: _ce(m, LOGITS, [[1, 0, 0, 0], [0, 1, 0, 0]])),
    ("CE-probs-shape", L, lambda m: _ce(m, LOGITS, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])),
    (
        "CE-probs-ignore",
        L,
        lambda m: _ce(m, LOGITS, [[1.0, 0, 0, 0], [0, 1.0, 0, 0]], ignore_index=1),
    ),
    ("CE-ignore", L, lambda m: _ce(m, LOGITS, [0, -100]), {"values": True}),
    ("CE-all-ignored", L, lambda m: _ce(m, LOGITS, [-100, -100]), {"values": True}),
    ("CE-1d-input", L, lambda m: _ce(m, LOGITS[0], 2), {"values": True}),
    ("CE-int64-input", L, lambda m: _ce(m, [[1, 2], [0, 1]], [0, 1])),
    ("CE-weight-size", L, lambda m: _ce(m, LOGITS, [0, 1], weight=m.ones(3))),
    ("NLL-ignore", L, lambda m: _nll(m, [0, 2], ignore_index=2), {"values": True}),
    ("NLL-ignore-neg", L, lambda m: _nll(m, [-1, 1], ignore_index=-1), {"values": True}),
    ("NLL-all-ignored", L, lambda m: _nll(m, [1, 1], ignore_index=1), {"values": True}),
    ("NLL-oob", L, lambda m: _nll(m, [0, 7])),
    ("NLL-float-target", L, lambda m: _nll(m, [0.0, 1.0])),
    ("NLL-3d-target", L, lambda m: m.nn.NLLLoss()(m.zeros(2, 3, 5), m.zeros(2, dtype=m.int64))),
    (
        "NLL-weight-ignore",
        L,
        lambda m: _nll(m, [0, 2], weight=m.tensor([1.0, 2.0, 3.0]), ignore_index=0),
        {"values": True},
    ),
    ("MSE-broadcast", L, lambda m: m.nn.MSELoss()(m.ones(3, 1), m.zeros(3)), {"values": True}),
    ("MSE-int", L, lambda m: m.nn.MSELoss()(m.ones(3, dtype=m.int64), m.zeros(3, dtype=m.int64))),
    ("L1-broadcast", L, lambda m: m.nn.L1Loss()(m.ones(3), m.zeros(2, 3)), {"values": True}),
    ("BCE-range", L, lambda m: m.nn.BCELoss()(m.tensor([0.5, 1.5]), m.tensor([0.0, 1.0]))),
    ("BCE-shape", L, lambda m: m.nn.BCELoss()(m.full((3, 1), 0.5), m.zeros(3))),
    ("BCE-int-target", L, lambda m: m.nn.BCELoss()(m.full((2,), 0.5), m.tensor([0, 1]))),
    ("BCEWithLogits-shape", L, lambda m: m.nn.BCEWithLogitsLoss()(m.zeros(3, 1), m.zeros(3))),
    ("BCEWithLogits-int", L, lambda m: m.nn.BCEWithLogitsLoss()(m.zeros(2), m.tensor([0, 1]))),
    (
        "KLDiv-mean",
        L,
        lambda m: m.nn.KLDivLoss()(m.zeros(2, 3), m.full((2, 3), 1 / 3)),
        {"values": True},
    ),
    ("Huber-delta", L, lambda m: m.nn.HuberLoss(delta=-1.0)(m.zeros(2), m.ones(2))),
    ("SmoothL1-beta", L, lambda m: m.nn.SmoothL1Loss(beta=-1.0)(m.zeros(2), m.ones(2))),
    (
        "CTC-blank",
        L,
        lambda m: m.nn.CTCLoss(blank=5)(
            m.zeros(4, 1, 3).log_softmax(2), m.tensor([[1, 2]]), [4], [2]
        ),
    ),
    (
        "BCE-float64-target",
        L,
        lambda m: m.nn.BCELoss()(m.full((2,), 0.5), m.tensor([0.0, 1.0], dtype=m.float64)),
    ),
    (
        "BCE-ok",
        L,
        lambda m: m.nn.BCELoss()(m.full((2,), 0.5), m.tensor([0.0, 1.0])),
        {"values": True},
    ),
    (
        "CE-3d-target-size",
        L,
        lambda m: m.nn.CrossEntropyLoss()(m.zeros(2, 3, 4), m.zeros(2, 3, dtype=m.int64)),
    ),
    (
        "CE-probs-ignore-neg",
        L,
        lambda m: _ce(m, LOGITS, [[1.0, 0, 0, 0], [0, 1.0, 0, 0]], ignore_index=-5),
        {"values": True},
    ),
    ("CE-smoothing-neg", L, lambda m: _ce(m, LOGITS, [0, 1], label_smoothing=-0.1)),
    ("NLL-reduction", L, lambda m: _nll(m, [0, 1], reduction="average")),
    ("LayerNorm-empty-rows", L, lambda m: m.nn.LayerNorm(3)(m.zeros(0, 3))),
    # -- optimizers ---------------------------------------------------------------------------
    ("SGD-lr-neg", P, lambda m: m.optim.SGD(_params(m), lr=-1)),
    ("SGD-momentum-neg", P, lambda m: _sgd(m, momentum=-0.5)),
    ("SGD-nesterov", P, lambda m: _sgd(m, nesterov=True)),
    ("SGD-nesterov-dampening", P, lambda m: _sgd(m, momentum=0.9, dampening=0.1, nesterov=True)),
    ("SGD-weight-decay-neg", P, lambda m: _sgd(m, weight_decay=-1)),
    ("SGD-empty", P, lambda m: m.optim.SGD([], lr=0.1)),
    ("SGD-empty-generator", P, lambda m: m.optim.SGD(m.nn.ReLU().parameters(), lr=0.1)),
    ("SGD-twice", P, lambda m: m.optim.SGD(_params(m) * 2, lr=0.1)),
    ("SGD-twice-groups", P, lambda m: m.optim.SGD([{"params": p} for p in _params(m) * 2], lr=0.1)),
    ("SGD-non-leaf", P, lambda m: m.optim.SGD([m.ones(2, requires_grad=True) * 2], lr=0.1)),
    ("SGD-tensor", P, lambda m: m.optim.SGD(_params(m)[0], lr=0.1)),
    ("SGD-set", P, lambda m: m.optim.SGD(set(_params(m)), lr=0.1)),
    ("SGD-no-lr", P, lambda m: m.optim.SGD(_params(m)).defaults["lr"]),
    ("SGD-group-no-params", P, lambda m: m.optim.SGD([{"lr": 0.1}], lr=0.1)),
    (
        "SGD-add-group-overlap",
        P,
        lambda m: (lambda p: m.optim.SGD(p, lr=0.1).add_param_group({"params": p}))(_params(m)),
    ),
    ("SGD-int-param", P, lambda m: m.optim.SGD([m.ones(2, dtype=m.int64)], lr=0.1)),
    ("SGD-lr-tensor", P, lambda m: m.optim.SGD(_params(m), lr=m.tensor(0.1)).defaults["lr"]),
    ("Adam-lr-neg", P, lambda m: m.optim.Adam(_params(m), lr=-0.01)),
    ("Adam-beta0", P, lambda m: m.optim.Adam(_params(m), betas=(1.0, 0.999))),
    ("Adam-beta1", P, lambda m: m.optim.Adam(_params(m), betas=(0.9, -0.1))),
    ("Adam-eps", P, lambda m: m.optim.Adam(_params(m), eps=-1e-8)),
    ("Adam-weight-decay", P, lambda m: m.optim.Adam(_params(m), weight_decay=-0.1)),
    ("AdamW-beta1", P, lambda m: m.optim.AdamW(_params(m), betas=(0.9, 1.5))),
    ("AdamW-lr", P, lambda m: m.optim.AdamW(_params(m), lr=-1)),
    ("RMSprop-alpha", P, lambda m: m.optim.RMSprop(_params(m), alpha=-0.9)),
    ("RMSprop-momentum", P, lambda m: m.optim.RMSprop(_params(m), momentum=-1)),
    ("Adagrad-lr-decay", P, lambda m: m.optim.Adagrad(_params(m), lr_decay=-1)),
    ("Adagrad-init-acc", P, lambda m: m.optim.Adagrad(_params(m), initial_accumulator_value=-1)),
    ("Adadelta-rho", P, lambda m: m.optim.Adadelta(_params(m), rho=1.5)),
    (
        "load_state_dict-groups",
        P,
        lambda m: _sgd(m).load_state_dict({"state": {}, "param_groups": []}),
    ),
    ("SGD-set-group", P, lambda m: m.optim.SGD([{"params": set(_params(m))}], lr=0.1)),
    ("SGD-not-tensor", P, lambda m: m.optim.SGD([m.nn.Parameter(m.ones(1)), 3.0], lr=0.1)),
    ("SGD-group-not-dict", P, lambda m: _sgd(m).add_param_group([m.nn.Parameter(m.ones(1))])),
    ("Adam-amsgrad-str", P, lambda m: m.optim.Adam(_params(m), amsgrad="yes").defaults["amsgrad"]),
    (
        "Adam-step-no-grad",
        P,
        lambda m: (lambda o: (o.step(), o.state_dict()["state"]))(m.optim.Adam(_params(m)))[1],
    ),
    ("SGD-module", P, lambda m: m.optim.SGD(m.nn.Linear(2, 2), lr=0.1)),
    ("SGD-lr-str", P, lambda m: m.optim.SGD(_params(m), lr="0.1")),
    ("LBFGS-no-closure", P, lambda m: m.optim.LBFGS(_params(m)).step()),
    (
        "SGD-maximize",
        P,
        lambda m: (lambda p: (m.optim.SGD(p, lr=0.1, maximize=True), p))(_params(m))[1],
    ),
    (
        "zero_grad-none",
        P,
        lambda m: (lambda p: (m.optim.SGD(p, lr=0.1).zero_grad(), p[0].grad))(_params(m))[1],
    ),
    # -- learning-rate schedulers -------------------------------------------------------------
    (
        "StepLR-0",
        S,
        lambda m: _stepped(m, lambda m, o: m.optim.lr_scheduler.StepLR(o, step_size=0), 2),
    ),
    ("StepLR-ok", S, lambda m: _stepped(m, lambda m, o: m.optim.lr_scheduler.StepLR(o, 2, 0.5), 4)),
    ("StepLR-module", S, lambda m: m.optim.lr_scheduler.StepLR(m.nn.Linear(2, 2), 1)),
    ("OneCycle-no-steps", S, lambda m: m.optim.lr_scheduler.OneCycleLR(_sgd(m), 0.1)),
    ("OneCycle-total-0", S, lambda m: m.optim.lr_scheduler.OneCycleLR(_sgd(m), 0.1, total_steps=0)),
    (
        "OneCycle-epochs-0",
        S,
        lambda m: m.optim.lr_scheduler.OneCycleLR(_sgd(m), 0.1, epochs=0, steps_per_epoch=3),
    ),
    (
        "OneCycle-past-end",
        S,
        lambda m: _stepped(
            m, lambda m, o: m.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=3), 4
        ),
    ),
    (
        "OneCycle-pct",
        S,
        lambda m: m.optim.lr_scheduler.OneCycleLR(_sgd(m), 0.1, total_steps=5, pct_start=1.5),
    ),
    (
        "OneCycle-anneal",
        S,
        lambda m: m.optim.lr_scheduler.OneCycleLR(
            _sgd(m), 0.1, total_steps=5, anneal_strategy="lin"
        ),
    ),
    (
        "OneCycle-no-momentum",
        S,
        lambda m: m.optim.lr_scheduler.OneCycleLR(
            m.optim.SGD(_params(m), lr=0.1), 0.1, total_steps=5
        ),
    ),
    ("LambdaLR-list", S, lambda m: m.optim.lr_scheduler.LambdaLR(_sgd(m), [lambda e: 1.0] * 2)),
    (
        "MultiplicativeLR-list",
        S,
        lambda m: m.optim.lr_scheduler.MultiplicativeLR(_sgd(m), [lambda e: 1.0] * 2),
    ),
    ("CosineWR-T0", S, lambda m: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(_sgd(m), T_0=0)),
    (
        "CosineWR-Tmult",
        S,
        lambda m: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(_sgd(m), T_0=2, T_mult=0),
    ),
    (
        "CosineWR-eta",
        S,
        lambda m: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(_sgd(m), T_0=2, eta_min="0"),
    ),
    (
        "CyclicLR-momentum",
        S,
        lambda m: m.optim.lr_scheduler.CyclicLR(m.optim.SGD(_params(m), lr=0.1), 0.01, 0.1),
    ),
    (
        "CyclicLR-mode",
        S,
        lambda m: m.optim.lr_scheduler.CyclicLR(_sgd(m), 0.01, 0.1, mode="linear"),
    ),
    ("Plateau-mode", S, lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_sgd(m), mode="mx")),
    ("Plateau-factor", S, lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_sgd(m), factor=1.0)),
    (
        "Plateau-threshold-mode",
        S,
        lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_sgd(m), threshold_mode="abs"),
    ),
    (
        "Plateau-min-lr-list",
        S,
        lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_sgd(m), min_lr=[0.1, 0.2]),
    ),
    ("LinearLR-start", S, lambda m: m.optim.lr_scheduler.LinearLR(_sgd(m), start_factor=0)),
    ("LinearLR-end", S, lambda m: m.optim.lr_scheduler.LinearLR(_sgd(m), end_factor=1.5)),
    ("ConstantLR-factor", S, lambda m: m.optim.lr_scheduler.ConstantLR(_sgd(m), factor=1.5)),
    (
        "Sequential-milestones",
        S,
        lambda m: (
            lambda o: m.optim.lr_scheduler.SequentialLR(
                o,
                [m.optim.lr_scheduler.ConstantLR(o), m.optim.lr_scheduler.ConstantLR(o)],
                milestones=[1, 2],
            )
        )(_sgd(m)),
    ),
    (
        "Polynomial-ok",
        S,
        lambda m: _stepped(m, lambda m, o: m.optim.lr_scheduler.PolynomialLR(o, total_iters=2), 4),
    ),
    (
        "step-before-optimizer",
        S,
        lambda m: (lambda o: m.optim.lr_scheduler.StepLR(o, 1).step())(_sgd(m)),
    ),
    ("get_lr-direct", S, lambda m: m.optim.lr_scheduler.StepLR(_sgd(m), 1).get_lr()),
    (
        "step-epoch",
        S,
        lambda m: (lambda o: (o.step(), m.optim.lr_scheduler.StepLR(o, 1).step(3)))(_sgd(m))[1],
    ),
    (
        "MultiStepLR-ok",
        S,
        lambda m: _stepped(m, lambda m, o: m.optim.lr_scheduler.MultiStepLR(o, [2, 1]), 3),
    ),
    (
        "ExponentialLR-gamma0",
        S,
        lambda m: _stepped(m, lambda m, o: m.optim.lr_scheduler.ExponentialLR(o, 0.0), 2),
    ),
    (
        "StepLR-after-step",
        S,
        lambda m: (lambda o: (o.step(), m.optim.lr_scheduler.StepLR(o, 1).step()))(_sgd(m)),
    ),
    (
        "two-schedulers",
        S,
        lambda m: (
            lambda o: (
                m.optim.lr_scheduler.StepLR(o, 1),
                o.step(),
                m.optim.lr_scheduler.ExponentialLR(o, 0.5).step(),
            )
        )(_sgd(m)),
    ),
    (
        "CosineWR-before-optimizer",
        S,
        lambda m: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(_sgd(m), 2).step(),
    ),
    (
        "Plateau-threshold-mode-bad",
        S,
        lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_sgd(m), threshold_mode="absolute"),
    ),
    # -- data utilities -----------------------------------------------------------------------
    ("DataLoader-batch-0", D, lambda m: _batches(m, batch_size=0)),
    ("DataLoader-batch-neg", D, lambda m: _batches(m, batch_size=-2)),
    ("DataLoader-batch-float", D, lambda m: _batches(m, batch_size=2.0)),
    ("DataLoader-batch-None", D, lambda m: _batches(m, batch_size=None)[:2]),
    ("DataLoader-sampler-shuffle", D, lambda m: _batches(m, sampler=range(10), shuffle=True)),
    ("DataLoader-sampler-ok", D, lambda m: _batches(m, sampler=[3, 1], batch_size=2)),
    (
        "DataLoader-batch_sampler-size",
        D,
        lambda m: _batches(m, batch_sampler=[[0, 1]], batch_size=2),
    ),
    (
        "DataLoader-batch_sampler-drop",
        D,
        lambda m: _batches(m, batch_sampler=[[0, 1]], drop_last=True),
    ),
    ("DataLoader-workers-neg", D, lambda m: _batches(m, num_workers=-1)),
    ("DataLoader-timeout", D, lambda m: _batches(m, timeout=-1)),
    ("DataLoader-prefetch", D, lambda m: _batches(m, prefetch_factor=2)),
    ("DataLoader-persistent", D, lambda m: _batches(m, persistent_workers=True)),
    (
        "DataLoader-drop-all",
        D,
        lambda m: len(m.utils.data.DataLoader(_ds(m), batch_size=20, drop_last=True)),
    ),
    ("DataLoader-len", D, lambda m: len(m.utils.data.DataLoader(_ds(m), batch_size=3))),
    ("DataLoader-shuffle-str", D, lambda m: _batches(m, shuffle="yes", batch_size=5)[0][1].shape),
    (
        "DataLoader-ragged",
        D,
        lambda m: list(m.utils.data.DataLoader([m.ones(3), m.ones(4)], batch_size=2)),
    ),
    (
        "DataLoader-dict",
        D,
        lambda m: next(iter(m.utils.data.DataLoader([{"x": m.ones(2), "y": 1}] * 2, batch_size=2))),
    ),
    (
        "DataLoader-numpy",
        D,
        lambda m: next(iter(m.utils.data.DataLoader([[1.5, 2], [3.5, 4]], batch_size=2))),
    ),
    ("random_split-sum", D, lambda m: m.utils.data.random_split(_ds(m), [3, 3])),
    ("random_split-over", D, lambda m: m.utils.data.random_split(_ds(m), [8, 3])),
    (
        "random_split-fractions",
        D,
        lambda m: [len(s) for s in m.utils.data.random_split(_ds(m), [0.33, 0.33, 0.34])],
    ),
    ("random_split-fractions-sum", D, lambda m: m.utils.data.random_split(_ds(m), [0.5, 0.6])),
    ("random_split-fraction-neg", D, lambda m: m.utils.data.random_split(_ds(m), [1.5, -0.5])),
    ("random_split-neg", D, lambda m: m.utils.data.random_split(_ds(m), [12, -2])),
    (
        "random_split-zero",
        D,
        lambda m: [len(s) for s in m.utils.data.random_split(_ds(m), [10, 0])],
    ),
    ("Subset-oob", D, lambda m: m.utils.data.Subset(_ds(m), [20])[0]),
    ("Subset-neg", D, lambda m: m.utils.data.Subset(_ds(m), [-1])[0], {"values": True}),
    ("Subset-len", D, lambda m: len(m.utils.data.Subset(_ds(m), [1, 2, 30]))),
    ("TensorDataset-sizes", D, lambda m: m.utils.data.TensorDataset(m.ones(10, 2), m.ones(9))),
    ("TensorDataset-empty", D, lambda m: len(m.utils.data.TensorDataset())),
    ("TensorDataset-oob", D, lambda m: _ds(m)[10]),
    ("ConcatDataset-empty", D, lambda m: m.utils.data.ConcatDataset([])),
    ("ConcatDataset-oob", D, lambda m: m.utils.data.ConcatDataset([_ds(m), _ds(m)])[-21]),
    ("RandomSampler-num-0", D, lambda m: m.utils.data.RandomSampler(_ds(m), num_samples=0)),
    ("RandomSampler-replacement", D, lambda m: m.utils.data.RandomSampler(_ds(m), replacement=1)),
    (
        "BatchSampler-0",
        D,
        lambda m: m.utils.data.BatchSampler(range(4), batch_size=0, drop_last=False),
    ),
    (
        "BatchSampler-drop",
        D,
        lambda m: m.utils.data.BatchSampler(range(4), batch_size=2, drop_last=1),
    ),
    ("WeightedSampler-2d", D, lambda m: m.utils.data.WeightedRandomSampler([[1.0, 2.0]], 2)),
    ("WeightedSampler-num", D, lambda m: m.utils.data.WeightedRandomSampler([1.0, 2.0], 0)),
    ("WeightedSampler-neg", D, lambda m: list(m.utils.data.WeightedRandomSampler([1.0, -2.0], 2))),
    ("WeightedSampler-zero", D, lambda m: list(m.utils.data.WeightedRandomSampler([0.0, 0.0], 2))),
    ("SubsetRandomSampler-len", D, lambda m: len(m.utils.data.SubsetRandomSampler([3, 4, 5]))),
    (
        "WeightedSampler-nan",
        D,
        lambda m: list(m.utils.data.WeightedRandomSampler([1.0, float("nan")], 2)),
    ),
    (
        "WeightedSampler-inf",
        D,
        lambda m: list(m.utils.data.WeightedRandomSampler([1.0, float("inf")], 2)),
    ),
    ("ConcatDataset-oob-pos", D, lambda m: m.utils.data.ConcatDataset([_ds(m)])[10]),
    (
        "ConcatDataset-neg",
        D,
        lambda m: m.utils.data.ConcatDataset([_ds(m), _ds(m)])[-20],
        {"values": True},
    ),
    ("random_split-one", D, lambda m: [len(s) for s in m.utils.data.random_split(_ds(m, 1), [1])]),
    (
        "random_split-fractions-zero",
        D,
        lambda m: [len(s) for s in m.utils.data.random_split(_ds(m, 3), [0.9, 0.1, 0.0])],
    ),
    (
        "DataLoader-tensor",
        D,
        lambda m: (
            _batches(m.utils.data.DataLoader(m.arange(5.0), batch_size=2) and m, batch_size=3)[0][
                0
            ].shape
        ),
    ),
    (
        "DataLoader-of-tensor",
        D,
        lambda m: list(m.utils.data.DataLoader(m.arange(5.0), batch_size=2)),
        {"values": True},
    ),
    ("Subset-float-index", D, lambda m: m.utils.data.Subset(_ds(m), [1.5])[0]),
    ("DataLoader-len-None", D, lambda m: len(m.utils.data.DataLoader(_ds(m), batch_size=None))),
    (
        "DataLoader-sampler-len",
        D,
        lambda m: len(m.utils.data.DataLoader(_ds(m), sampler=[1, 2, 3], batch_size=2)),
    ),
    ("random_split-float-int", D, lambda m: m.utils.data.random_split(_ds(m), [5.0, 5.0])),
]
