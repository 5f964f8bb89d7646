"""Rows of the op table for branch surface: ``gradient``, ``segment_reduce``, the
``as_strided`` family, the ``*_copy`` functions, ``rsub``/``fill``, and the top-level forms
with ATen signatures (``conv_tbc``, ``convolution``, ``native_layer_norm``, ...)."""

from __future__ import annotations

from .samples import F, Index, OpInfo, Sample, T, V

_COORDS = [0.0, 0.5, 1.7, 2.0, 3.1]


_SAMPLES_2D = [[[0.3, 0.8], [0.55, 0.1]]]
_SAMPLES_3D = [[[0.3, 0.8, 0.5], [0.55, 0.1, 0.95]]]
_SCATTER = [
    Sample(T((3, 4)), T((2, 2)), (2, 2), (4, 1), 1),
    Sample(T((6,)), T((3,)), (3,), (2,)),
]


def _fn(name):
    return lambda m, *a, **kw: getattr(m, name)(*a, **kw)


def _gradient(m, x, *coords, **kw):
    if coords:
        kw["spacing"] = coords
    return m.gradient(x, **kw)


def _segment(m, x, lengths, **kw):
    return m.segment_reduce(x, kw.pop("reduce"), lengths=lengths, **kw)


# every ``*_copy`` function with a sample; the op table walks those of TABLE_COPIES (the view
# ops differ there), tests/test_surface.py compares all of them with PyTorch
COPY_CASES = [
    ("alias_copy", Sample(T((3, 4)))),
    ("detach_copy", Sample(T((3, 4)))),
    ("diagonal_copy", Sample(T((3, 4)), 1)),
    ("expand_copy", Sample(T((3, 1)), (3, 4))),
    ("permute_copy", Sample(T((2, 3, 4)), (2, 0, 1))),
    ("select_copy", Sample(T((3, 4)), 1, 2)),
    ("slice_copy", Sample(T((5, 3)), 0, 1, None, 2)),
    ("split_copy", Sample(T((5, 3)), 2)),
    ("split_with_sizes_copy", Sample(T((2, 5)), [1, 4], 1)),
    ("squeeze_copy", Sample(T((1, 3, 1)), (0, 2))),
    ("t_copy", Sample(T((3, 4)))),
    ("transpose_copy", Sample(T((2, 3, 4)), 0, 2)),
    ("unbind_copy", Sample(T((3, 4)), 1)),
    ("unfold_copy", Sample(T((7, 2)), 0, 3, 2)),
    ("unsqueeze_copy", Sample(T((3, 4)), 1)),
    ("view_copy", Sample(T((3, 4)), (2, 6))),
]
TABLE_COPIES = ("diagonal_copy", "expand_copy", "slice_copy", "split_copy", "unfold_copy")


def _copy_rows():
    return [
        OpInfo(name, _fn(name), [sample]) for name, sample in COPY_CASES if name in TABLE_COPIES
    ]


ROWS = [
    OpInfo(
        "gradient",
        _gradient,
        [
            Sample(T((5, 4))),
            Sample(T((5, 4)), spacing=2.0, edge_order=2),
            Sample(T((5, 4)), spacing=[2.0, 0.5], dim=[1, 0]),
            Sample(T((5, 3)), V(_COORDS, grad=False), dim=0, edge_order=2),
        ],
    ),
    OpInfo(
        "segment_reduce",
        _segment,
        [
            Sample(T((6, 3)), Index([2, 0, 3, 1]), reduce="sum"),
            Sample(T((6, 3)), Index([2, 1, 3]), reduce="mean", initial=0.5),
            Sample(T((6,)), Index([2, 1, 3]), reduce="max"),
            Sample(T((6, 2)), Index([3, 3]), reduce="min", initial=0.9),
            Sample(T((6, 2), 0.5, 1.5), Index([1, 2, 3]), reduce="prod"),
            Sample(T((3, 6)), Index([[2, 4], [1, 5], [3, 3]]), reduce="mean", axis=1),
        ],
    ),
    OpInfo(
        "as_strided",
        _fn("as_strided"),
        [
            Sample(T((6,)), (2, 3), (1, 2)),
            Sample(T((3, 4)), (3, 3), (1, 1), 2),  # overlapping windows: gradients add
            Sample(T((2, 3)), (2, 2), (3, 1)),
        ],
    ),
    OpInfo(
        "as_strided_scatter",
        _fn("as_strided_scatter"),
        _SCATTER,
        torch=False,
        note="PyTorch 2.13 gives input the gradient inside the window instead of outside it "
        "(gradcheck confirms minigrad's); the forward is compared in FORWARD_ONLY",
    ),
    OpInfo("as_strided_copy", _fn("as_strided_copy"), [Sample(T((6,)), (2, 2), (2, 1), 1)]),
    OpInfo(
        "rsub",
        _fn("rsub"),
        [Sample(T((3, 4)), T((3, 4))), Sample(T((3, 1)), T((4,)), alpha=2)],
    ),
    OpInfo("fill", _fn("fill"), [Sample(T((3, 4)), T(()))]),
    OpInfo(
        "conv_tbc",
        _fn("conv_tbc"),
        [
            Sample(T((4, 2, 2)), T((3, 2, 3)), T((3,)), 1),
            Sample(T((4, 1, 2)), T((2, 2, 3)), T((3,))),
        ],
    ),
    OpInfo(
        "convolution",
        _fn("convolution"),
        [
            Sample(
                T((1, 2, 4, 4)), T((2, 2, 3, 3)), T((2,)), (1, 1), (1, 0), (1, 1), False, (0, 0), 1
            ),
            Sample(T((1, 2, 4)), T((2, 3, 3)), None, (2,), (1,), (1,), True, (1,), 1),
        ],
    ),
    OpInfo(
        "native_layer_norm",
        lambda m, *a: m.native_layer_norm(*a)[0],
        [Sample(T((2, 3, 4)), (4,), T((4,)), T((4,)), 1e-5)],
    ),
    OpInfo(
        "native_group_norm",
        _fn("native_group_norm"),
        [Sample(T((2, 4, 3)), T((4,)), T((4,)), 2, 4, 3, 2, 1e-5)],
    ),
    OpInfo(
        "native_batch_norm",
        lambda m, *a: m.native_batch_norm(*a)[0],
        [Sample(T((4, 3, 2)), T((3,)), T((3,)), None, None, True, 0.1, 1e-5)],
    ),
    OpInfo("norm_except_dim", _fn("norm_except_dim"), [Sample(T((3, 4, 5)), 2, 1)]),
    OpInfo(
        "kl_div_int_reduction",
        lambda m, x, y: m.kl_div(x, y, 2, log_target=True),
        [Sample(T((3, 4)), T((3, 4)))],
    ),
    OpInfo(
        "embedding_aten",
        lambda m, w, i: m.embedding(w, i),
        [Sample(T((5, 3)), Index([[0, 1, 4], [1, 3, 2]]))],
    ),
    OpInfo(
        "fractional_max_pool2d",
        lambda m, x, s, **kw: F(m).fractional_max_pool2d(x, 2, _random_samples=s, **kw),
        [
            Sample(T((1, 2, 6, 7)), V(_SAMPLES_2D, grad=False), output_size=(3, 4)),
            Sample(T((2, 5, 5)), V([[[0.9, 0.25], [0.4, 0.7]]], grad=False), output_size=(2, 3)),
        ],
    ),
    OpInfo(
        "fractional_max_pool3d",
        lambda m, x, s, **kw: F(m).fractional_max_pool3d(x, 2, _random_samples=s, **kw),
        [Sample(T((1, 2, 4, 5, 4)), V(_SAMPLES_3D, grad=False), output_size=(2, 3, 2))],
    ),
    *_copy_rows(),
]

# the statistics outputs (no gradient in PyTorch either), compared on their forward
FORWARD_ONLY = [
    OpInfo("as_strided_scatter_forward", _fn("as_strided_scatter"), _SCATTER, grad=False),
    OpInfo(
        "native_layer_norm_stats",
        _fn("native_layer_norm"),
        [Sample(T((2, 3, 4)), (3, 4), None, None, 1e-5)],
        grad=False,
    ),
    OpInfo(
        "native_batch_norm_stats",
        _fn("native_batch_norm"),
        [
            Sample(T((4, 3, 2)), None, None, None, None, True, 0.1, 1e-5),
            Sample(T((4, 3)), None, None, V([0.1, 0.2, 0.3]), V([1.0, 2.0, 0.5]), False, 0.1, 1e-5),
        ],
        grad=False,
    ),
]
