"""Rows of the op table for the distance functions and the margin and likelihood losses
composed from primitives (``F.cosine_similarity``, ``F.triplet_margin_loss``, ...)."""

from __future__ import annotations

from .samples import F, Index, OpInfo, Sample, T, V


def _call(name):
    return lambda m, *args, **kwargs: getattr(F(m), name)(*args, **kwargs)


SIGNS = V([1.0, -1.0, 1.0, -1.0], grad=False)
LABELS = V([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]], grad=False)
COUNTS = T((4, 3), 0.0, 3.0, grad=False, away=(1.0,))

BAGS = Index([1, 0, 4, 4, 3, 2, 0, 1])  # with offsets OFFSETS: bags of 2, 0, 3 and 3 entries
OFFSETS = Index([0, 2, 2, 5])

ROWS = [
    OpInfo(
        "embedding_bag",
        _call("embedding_bag"),
        [
            Sample(BAGS, T((5, 3)), OFFSETS, mode="sum"),
            Sample(BAGS, T((5, 3)), OFFSETS, mode="mean", padding_idx=0),
            Sample(BAGS, T((5, 3)), OFFSETS, mode="max"),
            Sample(Index([[1, 2, 0], [4, 4, 3]]), T((5, 3)), mode="mean"),
            Sample(BAGS, T((5, 3)), Index([0, 2, 2, 5, 8]), include_last_offset=True, mode="max"),
        ],
    ),
    OpInfo(
        "embedding_bag_weighted",
        lambda m, i, w, o, p: F(m).embedding_bag(i, w, o, mode="sum", per_sample_weights=p),
        [Sample(BAGS, T((5, 3)), OFFSETS, T((8,)))],
    ),
    OpInfo(
        "pad_modes",
        lambda m, x, *pad, **kw: F(m).pad(x, pad, **kw),
        [
            Sample(T((2, 3, 5)), 2, 1, mode="reflect"),
            Sample(T((1, 2, 4, 5)), 1, 2, 3, 0, mode="replicate"),
            Sample(T((1, 2, 4, 5)), 2, 1, 1, 3, mode="circular"),
            Sample(T((1, 1, 3, 4, 4)), 1, 1, 2, 0, 1, 2, mode="reflect"),
        ],
    ),
    OpInfo("pixel_shuffle", _call("pixel_shuffle"), [Sample(T((2, 8, 3, 2)), 2)]),
    OpInfo("pixel_unshuffle", _call("pixel_unshuffle"), [Sample(T((2, 2, 4, 6)), 2)]),
    OpInfo(
        "bilinear",
        _call("bilinear"),
        [
            Sample(T((4, 3)), T((4, 5)), T((2, 3, 5)), T((2,))),
            Sample(T((2, 3, 3)), T((2, 3, 2)), T((4, 3, 2))),
        ],
    ),
    OpInfo(
        "adaptive_max_pool2d",
        _call("adaptive_max_pool2d"),
        [
            Sample(T((2, 3, 7, 9)), (2, 3)),
            Sample(T((1, 2, 6, 4)), (3, None)),
            Sample(T((3, 5, 5)), 1),
        ],
    ),
    OpInfo("adaptive_max_pool1d", _call("adaptive_max_pool1d"), [Sample(T((2, 3, 10)), 4)]),
    OpInfo(
        "interpolate",
        _call("interpolate"),
        [
            Sample(T((1, 2, 5)), size=8, mode="linear"),
            Sample(T((1, 2, 5)), scale_factor=1.7, mode="nearest"),
            Sample(T((2, 1, 3, 4)), scale_factor=(1.5, 2.0), mode="bilinear"),
            Sample(T((1, 2, 3, 4)), size=(5, 2), mode="bilinear", align_corners=True),
            Sample(T((1, 1, 2, 3, 2)), scale_factor=2.0, mode="trilinear"),
            Sample(T((1, 2, 6, 4)), size=(3, 2), mode="area"),
            Sample(T((1, 2, 4, 3)), scale_factor=2.5, mode="nearest-exact"),
        ],
    ),
    OpInfo(
        "interpolate_antialias",
        _call("interpolate"),
        [
            Sample(T((1, 2, 9, 7)), size=(4, 3), mode="bilinear", antialias=True),
            Sample(T((1, 2, 9, 7)), size=(4, 10), mode="bicubic", antialias=True),
        ],
    ),
    OpInfo(
        "conv_transpose2d",
        _call("conv_transpose2d"),
        [
            Sample(T((2, 4, 3, 3)), T((4, 2, 3, 3)), T((2,)), stride=2),
            Sample(
                T((1, 4, 3, 4)),
                T((4, 3, 2, 3)),
                None,
                stride=(2, 1),
                padding=1,
                output_padding=(1, 0),
                groups=2,
                dilation=(1, 2),
            ),
            Sample(T((4, 3, 3)), T((4, 1, 2, 2)), T((1,)), stride=2, output_padding=1),
        ],  # fmt: skip
    ),
    OpInfo(
        "conv_transpose1d",
        _call("conv_transpose1d"),
        [Sample(T((2, 3, 5)), T((3, 2, 3)), T((2,)), stride=3, padding=1, output_padding=2)],
    ),
    OpInfo(
        "cosine_similarity",
        _call("cosine_similarity"),
        [Sample(T((4, 3)), T((4, 3))), Sample(T((2, 3, 4)), T((1, 3, 4)), dim=2)],
    ),
    OpInfo(
        "pairwise_distance",
        _call("pairwise_distance"),
        [
            Sample(T((4, 3)), T((4, 3))),
            Sample(T((4, 3)), T((4, 3)), p=1.0),
            Sample(T((4, 3)), T((4, 3)), p=3.0, keepdim=True),
        ],
    ),
    OpInfo(
        "margin_ranking_loss",
        _call("margin_ranking_loss"),
        [
            Sample(T((4,)), T((4,)), SIGNS, margin=0.1),
            Sample(T((4,)), T((4,)), SIGNS, reduction="none"),
        ],
    ),
    OpInfo(
        "triplet_margin_loss",
        _call("triplet_margin_loss"),
        [
            Sample(T((4, 3)), T((4, 3)), T((4, 3)), margin=2.0),
            Sample(T((4, 3)), T((4, 3)), T((4, 3)), margin=2.0, swap=True, reduction="sum"),
        ],
    ),
    OpInfo(
        "cosine_embedding_loss",
        _call("cosine_embedding_loss"),
        [Sample(T((4, 3)), T((4, 3)), SIGNS, margin=-0.5)],
    ),
    OpInfo(
        "multilabel_soft_margin_loss",
        _call("multilabel_soft_margin_loss"),
        [
            Sample(T((3, 4)), LABELS),
            Sample(T((3, 4)), LABELS, T((4,), 0.5, 2.0, grad=False), reduction="none"),
        ],
    ),
    OpInfo(
        "gaussian_nll_loss",
        _call("gaussian_nll_loss"),
        [
            Sample(T((4, 3)), T((4, 3)), T((4, 3), 0.5, 2.0)),
            Sample(T((4, 3)), T((4, 3)), T((4,), 0.5, 2.0), full=True, reduction="sum"),
        ],
    ),
    OpInfo(
        "poisson_nll_loss",
        _call("poisson_nll_loss"),
        [
            Sample(T((4, 3)), COUNTS),
            Sample(T((4, 3), 0.5, 2.0), COUNTS, log_input=False, full=True, reduction="none"),
        ],
    ),
]
