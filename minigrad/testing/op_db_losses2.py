"""Rows of the op table for branch losses2: CTC (through log_softmax, where PyTorch's gradient
is the loss's; on raw log-probabilities against gradcheck only), hinge embedding, soft margin,
multi-class and multi-label margin, and triplet-with-distance losses."""

from __future__ import annotations

from .samples import F, Index, OpInfo, Sample, T, V

_SIGNS = [[1.0, -1.0, 1.0, -1.0], [-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]]
_LISTS = [[0, 3, -1, 1, 2], [4, -1, 0, 0, 0], [1, 2, 3, 4, 0]]
# (tests/test_leftovers14.py checks PyTorch's error)
NO_DOUBLE_BACKWARD = "PyTorch implements no derivative of {}: differentiating the gradient raises"


def _ctc(m, x, targets, input_lengths, target_lengths, **kw):
    return F(m).ctc_loss(x.log_softmax(-1), targets, input_lengths, target_lengths, **kw)


def _ctc_samples():
    return [
        # padded targets with a repeated label (needs a blank between the two 2s)
        Sample(T((6, 2, 5)), Index([[1, 2, 2], [3, 1, 0]]), (6, 5), (3, 2)),
        # concatenated targets, inputs shorter than T
        Sample(T((5, 3, 4)), Index([1, 1, 2, 3, 2]), (5, 3, 4), (2, 2, 1), reduction="sum"),
        # an empty target, and a blank other than 0
        Sample(T((4, 2, 4)), Index([[1, 2], [0, 0]]), (4, 3), (2, 0), blank=3, reduction="none"),
        # no alignment fits sequence 1 (three 1s need five frames): zero_infinity
        Sample(T((4, 2, 3)), Index([[1, 1, 1], [2, 1, 0]]), (4, 4), (3, 2), zero_infinity=True),
        # unbatched (T, C)
        Sample(T((5, 4)), Index([2, 3, 3]), (5,), (3,), reduction="none"),
    ]


ROWS = [
    OpInfo("ctc_loss", _ctc, _ctc_samples()),
    OpInfo(
        "ctc_loss_raw",
        lambda m, x, *a, **kw: F(m).ctc_loss(x, *a, **kw),
        [Sample(T((5, 2, 4), -3.0, 0.0), Index([[1, 2, 2], [3, 1, 0]]), (5, 4), (3, 2))],
        torch=False,
        note="PyTorch's gradient adds exp(log_probs): the loss's only after a log_softmax",
    ),
    OpInfo(
        "hinge_embedding_loss",
        lambda m, x, y, **kw: F(m).hinge_embedding_loss(x, y, **kw),
        [
            Sample(T((3, 4), away=(1.0,)), V(_SIGNS, grad=False)),
            Sample(T((3, 4), away=(0.5,)), V(_SIGNS, grad=False), margin=0.5, reduction="none"),
        ],
    ),
    OpInfo(
        "soft_margin_loss",
        lambda m, x, y, **kw: F(m).soft_margin_loss(x, y, **kw),
        [Sample(T((3, 4)), V(_SIGNS, grad=False)), Sample(T((4,)), V(_SIGNS[0], grad=False))],
    ),
    OpInfo(
        "multi_margin_loss",
        lambda m, x, y, *w, **kw: F(m).multi_margin_loss(x, y, weight=w[0] if w else None, **kw),
        [
            Sample(T((3, 4)), Index([0, 3, 1])),
            Sample(T((3, 4)), Index([2, 2, 0]), p=2, margin=0.7, reduction="sum"),
            Sample(T((3, 4)), Index([1, 0, 3]), V([0.5, 1.0, 2.0, 0.3], grad=False)),
            Sample(T((4,)), Index(2), reduction="none"),
        ],
        gradgrad=False,
        note=NO_DOUBLE_BACKWARD.format("multi_margin_loss_backward"),
    ),
    OpInfo(
        "multilabel_margin_loss",
        lambda m, x, y, **kw: F(m).multilabel_margin_loss(x, y, **kw),
        [
            Sample(T((3, 5)), Index(_LISTS)),
            Sample(T((3, 5)), Index(_LISTS), reduction="none"),
            Sample(T((5,)), Index([3, 0, -1, 2, 2]), reduction="sum"),
        ],
        gradgrad=False,
        note=NO_DOUBLE_BACKWARD.format("multilabel_margin_loss_backward"),
    ),
    OpInfo(
        "triplet_margin_with_distance_loss",
        lambda m, a, p, n, **kw: F(m).triplet_margin_with_distance_loss(a, p, n, **kw),
        [
            Sample(T((3, 4)), T((3, 4)), T((3, 4)), margin=2.0),
            Sample(T((3, 4)), T((3, 4)), T((3, 4)), swap=True, margin=3.0, reduction="none"),
        ],
    ),
    OpInfo(
        "triplet_margin_with_distance_loss_custom",
        lambda m, a, p, n, **kw: F(m).triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: ((u - v) ** 2).sum(-1), **kw
        ),
        [Sample(T((3, 4)), T((3, 4)), T((3, 4)), margin=4.0, reduction="sum")],
    ),
]
