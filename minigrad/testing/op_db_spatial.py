"""Rows of the op table for the spatial layers: 3-D convolution and pooling, LP pooling,
unpooling, the ``*_with_indices`` forms, channel_shuffle, pdist, the upsample aliases,
affine_grid and grid_sample."""

from __future__ import annotations

import itertools

import numpy as np

from .samples import F, Index, OpInfo, Sample, T, V


def _call(name):
    return lambda m, *args, **kwargs: getattr(F(m), name)(*args, **kwargs)


POSITIVE = dict(low=0.2, high=2.0)  # lp pooling takes fractional powers of the window sums

# max_unpool: indices a max pool could give (one per window, inside the output)
UNPOOL_1D = Index([[[1, 2, 5], [0, 3, 4]]])  # (1, 2, 3) into L = 6
UNPOOL_2D = Index([[[[0, 3], [9, 14]], [[5, 2], [12, 15]]]])  # (1, 2, 2, 2) into 4 x 4
UNPOOL_3D = Index([[[[[0, 7], [18, 29]], [[37, 42], [56, 63]]]]])  # (1, 1, 2, 2, 2) into 4³


# 3-D: four points whose coordinates fall inside, below and above the volume on every axis (a
# 2x2x2 random grid cost four times as much in gradgradcheck for no other branch), none within
# 0.05 of a pixel position (a kink of the interpolation) under either align_corners
GRID_3D = [[[[[-0.6, 0.3, 0.8], [1.15, -1.2, 0.4]], [[-1.25, 0.7, 1.1], [0.35, 1.2, -1.15]]]]]


def _grid_rows():
    rows = []
    for nd, (x, grid) in {
        # small (2-D): six samples each, and gradgradcheck differentiates every input twice
        2: (T((2, 1, 4, 3)), T((2, 2, 2, 2), -1.3, 1.3)),
        3: (T((1, 1, 3, 3, 2)), V(GRID_3D)),
    }.items():
        samples = [
            Sample(x, grid, mode="bilinear", padding_mode=pm, align_corners=ac)
            for pm, ac in itertools.product(("zeros", "border", "reflection"), (True, False))
        ]
        rows.append(OpInfo(f"grid_sample_{nd}d", _call("grid_sample"), samples))
        shape = grid.shape if isinstance(grid, T) else np.shape(grid.values)
        nearest = T(shape, -1.3, 1.3, grad=False)  # positions only pick pixels
        rows.append(
            OpInfo(
                f"grid_sample_nearest_{nd}d",
                _call("grid_sample"),
                [
                    Sample(x, nearest, mode="nearest", padding_mode=pm, align_corners=ac)
                    for pm, ac in (("zeros", False), ("border", True), ("reflection", False))
                ],
            )
        )
    x, grid = T((1, 1, 4, 4)), T((1, 2, 2, 2), -1.3, 1.3)  # small: gradgradcheck is costly
    rows.append(
        OpInfo(
            "grid_sample_bicubic_2d",
            _call("grid_sample"),
            [
                Sample(x, grid, mode="bicubic", padding_mode=pm, align_corners=ac)
                for pm, ac in (("zeros", False), ("border", True), ("reflection", False))
            ],
        )
    )
    return rows


ROWS = [
    OpInfo(
        "conv3d",
        _call("conv3d"),
        [
            Sample(T((1, 2, 3, 4, 3)), T((3, 2, 2, 2, 2)), T((3,))),
            Sample(
                T((2, 4, 3, 2, 3)),  # (small: gradgradcheck perturbs every element)
                T((2, 2, 2, 1, 2)),
                None,
                stride=(2, 1, 1),
                padding=(1, 0, 1),
                dilation=(1, 1, 2),
                groups=2,
            ),  # fmt: skip
            Sample(T((2, 3, 3, 3)), T((2, 2, 3, 1, 2)), T((2,)), padding="same"),
        ],
    ),
    OpInfo(
        "conv_transpose3d",
        _call("conv_transpose3d"),
        [
            Sample(T((1, 2, 2, 3, 2)), T((2, 3, 2, 2, 2)), T((3,))),
            Sample(
                T((1, 4, 2, 2, 3)),
                T((4, 1, 2, 2, 1)),
                None,
                stride=(2, 1, 2),
                padding=(1, 0, 0),
                output_padding=(1, 0, 1),
                groups=2,
                dilation=(1, 2, 1),
            ),  # fmt: skip
            Sample(T((2, 2, 2, 2)), T((2, 2, 2, 1, 2)), T((2,)), stride=2),
        ],
    ),
    OpInfo(
        "max_pool3d",
        _call("max_pool3d"),
        [
            Sample(T((1, 2, 4, 4, 4)), 2),
            Sample(T((1, 1, 5, 4, 5)), (3, 2, 2), stride=(2, 1, 2), padding=(1, 1, 0)),
            Sample(T((2, 3, 4, 5)), 2, ceil_mode=True, dilation=(1, 2, 1), return_indices=True),
        ],
    ),
    OpInfo(
        "avg_pool3d",
        _call("avg_pool3d"),
        [
            Sample(T((1, 2, 4, 4, 4)), 2),
            Sample(T((1, 1, 5, 4, 5)), (3, 2, 2), stride=(2, 1, 2), padding=(1, 1, 0)),
            Sample(
                T((2, 3, 4, 5)),
                (2, 3, 2),
                padding=(1, 1, 0),
                ceil_mode=True,
                count_include_pad=False,
            ),  # fmt: skip
            Sample(T((1, 1, 3, 3, 3)), 2, stride=1, divisor_override=3),
        ],
    ),
    OpInfo(
        "adaptive_avg_pool3d",
        _call("adaptive_avg_pool3d"),
        [Sample(T((1, 2, 5, 4, 6)), (2, None, 4)), Sample(T((2, 3, 3, 3)), 1)],
    ),
    OpInfo(
        "adaptive_max_pool3d",
        _call("adaptive_max_pool3d"),
        [
            Sample(T((1, 1, 5, 3, 6)), (2, None, 4)),  # overlapping windows on D and W
            Sample(T((2, 3, 3, 3)), 2, return_indices=True),
        ],
    ),
    OpInfo(
        "max_pool_with_indices",
        lambda m, x, *a, **kw: getattr(F(m), f"max_pool{x.ndim - 2}d_with_indices")(x, *a, **kw),
        [
            Sample(T((1, 2, 7)), 3, stride=2, padding=1),
            Sample(T((1, 2, 5, 4)), 2, ceil_mode=True),
            Sample(T((1, 1, 4, 3, 4)), 2, stride=1),
        ],
    ),
    OpInfo(
        "adaptive_max_pool_with_indices",
        lambda m, x, *a: getattr(F(m), f"adaptive_max_pool{x.ndim - 2}d_with_indices")(x, *a),
        [
            Sample(T((1, 2, 7)), 3),
            Sample(T((1, 2, 7, 5)), (3, 2)),
            Sample(T((1, 1, 5, 3, 4)), (2, 3, 3)),
        ],
    ),
    OpInfo(
        "lp_pool1d",
        _call("lp_pool1d"),
        [Sample(T((1, 2, 7), **POSITIVE), 2, 3), Sample(T((2, 6), **POSITIVE), 3.0, 2, 1)],
    ),
    OpInfo(
        "lp_pool2d",
        _call("lp_pool2d"),
        [
            Sample(T((1, 2, 4, 4), **POSITIVE), 2, 2),
            Sample(T((1, 1, 5, 4), **POSITIVE), 1.5, (2, 3), stride=1, ceil_mode=True),
        ],
    ),
    OpInfo("lp_pool3d", _call("lp_pool3d"), [Sample(T((1, 2, 4, 3, 4), **POSITIVE), 2, 2)]),
    OpInfo(
        "max_unpool1d",
        _call("max_unpool1d"),
        [Sample(T((1, 2, 3)), UNPOOL_1D, 2), Sample(T((1, 2, 3)), UNPOOL_1D, 2, output_size=[7])],
    ),
    OpInfo(
        "max_unpool2d",
        _call("max_unpool2d"),
        [
            Sample(T((1, 2, 2, 2)), UNPOOL_2D, 2),
            Sample(T((1, 2, 2, 2)), UNPOOL_2D, 2, output_size=(1, 2, 5, 5)),
        ],
    ),
    OpInfo("max_unpool3d", _call("max_unpool3d"), [Sample(T((1, 1, 2, 2, 2)), UNPOOL_3D, 2)]),
    OpInfo(
        "channel_shuffle",
        _call("channel_shuffle"),
        [Sample(T((2, 6, 3, 2)), 3), Sample(T((1, 4, 5)), 2)],
    ),
    OpInfo(
        "pdist",
        _call("pdist"),
        [Sample(T((4, 3))), Sample(T((5, 2)), p=1.5)],
        gradgrad=False,
        note="PyTorch implements no derivative of _pdist_backward: differentiating raises "
        "(tests/test_leftovers14.py checks its error)",
    ),
    OpInfo(
        "upsample",
        _call("upsample"),
        [
            Sample(T((1, 2, 3, 2)), scale_factor=2),
            Sample(T((1, 2, 3, 2)), size=(4, 5), mode="bilinear", align_corners=False),
        ],
    ),
    OpInfo("upsample_nearest", _call("upsample_nearest"), [Sample(T((1, 2, 3, 2)), size=5)]),
    OpInfo(
        "upsample_bilinear", _call("upsample_bilinear"), [Sample(T((1, 2, 3, 2)), scale_factor=2)]
    ),
    OpInfo(
        "affine_grid",
        _call("affine_grid"),
        [
            Sample(T((2, 2, 3)), (2, 1, 3, 4), align_corners=False),
            Sample(T((1, 2, 3)), (1, 2, 1, 3), align_corners=True),
            Sample(T((2, 3, 4)), (2, 1, 2, 3, 2), align_corners=False),
        ],
    ),
    *_grid_rows(),
]
