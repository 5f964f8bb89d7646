"""Rows of the op table for ``minigrad.nn.functional``: the fused ops (softmax, log-softmax,
cross-entropy, layer/batch/group norm, linear, embedding, binary cross-entropy) and the losses
and activations composed from primitives, each compared with ``torch.nn.functional``."""

from __future__ import annotations

from .samples import KINKS, F, Index, OpInfo, Sample, T, V

BIG_LOGITS = V([[1000.0, -1000.0, 0.0, 2.0], [-1000.0, 1000.0, 999.5, -3.0]])
WEIGHT5 = T((5,), 0.5, 2.0, grad=False)
TARGETS4 = Index([0, 4, 2, 1])


def _softmax_samples():
    return [
        Sample(T((3, 4)), 1),
        Sample(T((2, 3, 4)), 0),
        Sample(T((4, 3), transposed=True), -1),
        Sample(BIG_LOGITS, 1),
        Sample(T(()), 0),
    ]


def _cross_entropy_rows():
    return [
        OpInfo(
            "cross_entropy",
            lambda m, x, t, **kw: F(m).cross_entropy(x, t, **kw),
            [
                Sample(T((4, 5)), TARGETS4),
                Sample(T((4, 5)), Index([0, -100, 2, 1])),
                Sample(T((4, 5)), Index([0, 3, 2, 3]), ignore_index=3),
                Sample(T((4, 5)), TARGETS4, label_smoothing=0.1),
                Sample(T((4, 5)), Index([0, -100, 2, 1]), label_smoothing=0.2, reduction="sum"),
                Sample(T((4, 5)), TARGETS4, reduction="none"),
                Sample(T((2, 4, 3)), Index([[0, 1, 3], [2, -100, 0]])),
                Sample(
                    T((2, 3, 2, 2)), Index([[[0, 1], [2, 2]], [[1, 0], [0, 2]]]), reduction="none"
                ),
                Sample(BIG_LOGITS, Index([0, 2])),
                Sample(T((5,)), Index(3)),
            ],
        ),
        OpInfo(
            "cross_entropy_weight",
            lambda m, x, t, w, **kw: F(m).cross_entropy(x, t, weight=w, **kw),
            [
                Sample(T((4, 5)), TARGETS4, WEIGHT5),
                Sample(T((4, 5)), Index([0, -100, 2, 2]), WEIGHT5, label_smoothing=0.3),
                Sample(T((4, 5)), TARGETS4, WEIGHT5, reduction="none", label_smoothing=0.1),
                Sample(T((2, 5, 3)), Index([[0, 1, 4], [2, 3, 0]]), WEIGHT5, reduction="sum"),
            ],
        ),
        OpInfo(
            "cross_entropy_probs",
            lambda m, x, t, *w, **kw: F(m).cross_entropy(x, t, weight=w[0] if w else None, **kw),
            [
                Sample(T((3, 4)), T((3, 4), 0.0, 1.0)),
                Sample(T((3, 4)), T((3, 4), 0.0, 1.0), label_smoothing=0.2, reduction="sum"),
                Sample(T((3, 4)), T((3, 4), 0.0, 1.0), T((4,), 0.5, 2.0, grad=False)),
                Sample(T((2, 4, 3)), T((2, 4, 3), 0.0, 1.0), reduction="none"),
                Sample(BIG_LOGITS, V([[0.5, 0.0, 0.5, 0.0], [0.0, 0.25, 0.75, 0.0]])),
            ],
        ),
        OpInfo(
            "nll_loss",
            lambda m, x, t, *w, **kw: F(m).nll_loss(x, t, weight=w[0] if w else None, **kw),
            [
                Sample(T((4, 5)), TARGETS4),
                Sample(T((4, 5)), Index([0, -100, 2, 1]), reduction="none"),
                Sample(T((4, 5)), Index([0, 1, 2, 1]), WEIGHT5),
                Sample(T((2, 4, 3)), Index([[0, 1, 3], [2, 3, 0]]), reduction="sum"),
            ],
        ),
    ]


def _norm_rows():
    return [
        OpInfo(
            "layer_norm",
            lambda m, x, *wb: F(m).layer_norm(x, (4,), *wb),
            [
                Sample(T((3, 4)), T((4,)), T((4,))),
                Sample(T((2, 3, 4)), T((4,))),
                Sample(T((3, 4), transposed=True), T((4,)), T((4,))),
            ],
        ),
        OpInfo(
            "layer_norm_2d",
            lambda m, x: F(m).layer_norm(x, (3, 4)),
            [Sample(T((2, 3, 4)))],
        ),
        OpInfo(
            "batch_norm_train",
            lambda m, x, *wb: F(m).batch_norm(x, None, None, *wb, training=True),
            [
                Sample(T((4, 3)), T((3,)), T((3,))),
                Sample(T((4, 3, 5)), T((3,)), T((3,))),
                Sample(T((2, 3, 2, 2))),
            ],
        ),
        OpInfo(
            "batch_norm_eval",
            lambda m, x, rm, rv, w, b: F(m).batch_norm(x, rm, rv, w, b, training=False),
            [
                Sample(
                    T((4, 3, 2)),
                    T((3,), grad=False),
                    T((3,), 0.5, 2.0, grad=False),
                    T((3,)),
                    T((3,)),
                )
            ],
        ),
        OpInfo(
            "batch_norm_running_stats",
            lambda m, x, rm, rv: (F(m).batch_norm(x, rm, rv, training=True, momentum=0.3), rm, rv),
            [Sample(T((5, 3, 2)), T((3,), grad=False), T((3,), 0.5, 2.0, grad=False))],
            grad=False,
        ),
        OpInfo(
            "group_norm",
            lambda m, x, *wb: F(m).group_norm(x, 2, *wb),
            [Sample(T((2, 4, 3)), T((4,)), T((4,))), Sample(T((3, 6)))],
        ),
    ]


def _basic_rows():
    return [
        OpInfo(
            "linear",
            lambda m, x, w, *b: F(m).linear(x, w, *b),
            [
                Sample(T((3, 4)), T((5, 4)), T((5,))),
                Sample(T((2, 3, 4)), T((5, 4)), T((5,))),
                Sample(T((4,)), T((5, 4)), T((5,))),
                Sample(T((3, 4)), T((5, 4))),
                Sample(T((3, 4), transposed=True), T((5, 4), transposed=True), T((5,))),
                Sample(T((3, 4), grad=False), T((5, 4)), T((5,))),
            ],
        ),
        OpInfo(
            "embedding",
            lambda m, i, w: F(m).embedding(i, w),
            [Sample(Index([[0, 2], [4, 2]]), T((5, 3)))],
        ),
        OpInfo(
            "embedding_padding",
            # masking the padded positions makes the true Jacobian match the zero gradient that
            # padding_idx gets by definition, so gradcheck applies
            lambda m, i, w: F(m).embedding(i, w, padding_idx=0) * (i != 0).unsqueeze(-1),
            [Sample(Index([0, 2, 0, 1, 0]), T((5, 3)))],
        ),
    ]


def _weights(m, kwargs: dict, x) -> dict:
    """``kwargs`` with the (pos_)weight lists as float64 tensors on ``x``'s device: constants,
    not arguments of the row, as PyTorch refuses a gradient for them (and vmap/grad rows take
    one of each argument)."""
    return {
        k: m.tensor(v, dtype=m.float64, device=x.device) if k.endswith("weight") else v
        for k, v in kwargs.items()
    }


def _binary_rows():
    probs, targets = T((3, 4), 0.05, 0.95), T((3, 4), 0.0, 1.0)
    return [
        OpInfo(
            "binary_cross_entropy",
            lambda m, x, t, *w, **kw: F(m).binary_cross_entropy(x, t, *w, **kw),
            [
                Sample(probs, targets),
                Sample(probs, targets, T((3, 4), 0.5, 2.0, grad=False), reduction="sum"),
                Sample(probs, targets, reduction="none"),
            ],
        ),
        OpInfo(
            "bce_with_logits",
            lambda m, x, t, **kw: F(m).binary_cross_entropy_with_logits(x, t, **_weights(m, kw, x)),
            [
                Sample(T((3, 4)), targets),
                Sample(BIG_LOGITS, V([[1.0, 0.0, 0.5, 1.0], [1.0, 0.0, 1.0, 0.0]])),
                Sample(T((3, 4)), targets, weight=[[0.5, 2.0, 1.0, 1.5]] * 3, reduction="none"),
            ],
        ),
        OpInfo(
            "bce_with_logits_pos_weight",
            lambda m, x, t, **kw: F(m).binary_cross_entropy_with_logits(x, t, **_weights(m, kw, x)),
            [Sample(T((3, 4)), targets, pos_weight=[0.5, 3.0, 1.0, 2.0])],
        ),
    ]


def _regression_rows():
    above, below = T((3, 4), 0.2, 2.0), T((3, 4), -2.0, -0.2)
    return [
        OpInfo(
            "mse_loss",
            lambda m, x, t, **kw: F(m).mse_loss(x, t, **kw),
            [Sample(T((3, 4)), T((3, 4))), Sample(T((3, 4)), T((3, 4)), reduction="sum")],
        ),
        OpInfo(
            "l1_loss",
            lambda m, x, t, **kw: F(m).l1_loss(x, t, **kw),
            [Sample(above, below), Sample(below, above, reduction="none")],
        ),
        OpInfo(
            "smooth_l1_loss",
            lambda m, x, t, **kw: F(m).smooth_l1_loss(x, t, **kw),
            [
                Sample(T((3, 4), -0.4, 0.4), T((3, 4), -0.4, 0.4)),
                Sample(above, below, beta=0.5, reduction="sum"),
            ],
        ),
        OpInfo(
            "huber_loss",
            lambda m, x, t, **kw: F(m).huber_loss(x, t, **kw),
            [Sample(T((3, 4), -0.4, 0.4), T((3, 4))), Sample(above, below, delta=0.5)],
        ),
        OpInfo(
            "kl_div",
            lambda m, x, t, **kw: F(m).kl_div(x, t, **kw),
            [
                Sample(T((3, 4), -3.0, -0.1), T((3, 4), 0.1, 1.0), reduction="batchmean"),
                Sample(
                    T((3, 4), -3.0, -0.1),
                    V([[0.0, 0.5, 0.5, 0.0]] * 3, grad=False),
                    reduction="sum",
                ),
                Sample(T((3, 4)), T((3, 4), -3.0, 0.0), reduction="batchmean", log_target=True),
            ],
        ),
    ]


def _activation_rows():
    return [
        OpInfo("softmax", lambda m, x, d: F(m).softmax(x, dim=d), _softmax_samples()),
        OpInfo("log_softmax", lambda m, x, d: F(m).log_softmax(x, dim=d), _softmax_samples()),
        OpInfo("softmin", lambda m, x: F(m).softmin(x, dim=1), [Sample(T((3, 4)))]),
        OpInfo(
            "logsigmoid",
            lambda m, x: F(m).logsigmoid(x),
            [Sample(T((3, 4))), Sample(V([-800.0, -30.0, 0.5, 30.0, 800.0]))],
        ),
        OpInfo("softsign", lambda m, x: F(m).softsign(x), [Sample(T((3, 4), away=KINKS))]),
        OpInfo("mish", lambda m, x: F(m).mish(x), [Sample(T((3, 4)))]),
        OpInfo("glu", lambda m, x: F(m).glu(x, 0), [Sample(T((4, 3)))]),
        OpInfo(
            "hardtanh",
            lambda m, x: F(m).hardtanh(x, -0.5, 0.5),
            [Sample(T((3, 4), away=(-0.5, 0.5)))],
        ),
        OpInfo("normalize", lambda m, x: F(m).normalize(x, dim=1), [Sample(T((3, 4)))]),
        OpInfo(
            "one_hot",
            lambda m, t: F(m).one_hot(t, 4),
            [Sample(Index([0, 3, 1])), Sample(Index([[2], [0]]))],
            grad=False,
        ),
    ]


ROWS = (
    _activation_rows()
    + _cross_entropy_rows()
    + _norm_rows()
    + _basic_rows()
    + _binary_rows()
    + _regression_rows()
)
