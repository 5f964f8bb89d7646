"""Rows of the op table for the tensor ops of issue 12 (roll, cumulative ops, scatter and
index families, diagonals, tensordot, fused multiply-adds, cdist, lerp, nan_to_num, clamp with
tensor bounds) and for ``minigrad.linalg``. Linear-algebra samples keep away from degenerate
points: diagonally dominant (invertible, well-conditioned) or symmetric positive-definite
matrices, random spectra (distinct eigenvalues and singular values), and outputs that do not
depend on the signs of eigen/singular vectors."""

from __future__ import annotations

import math

from .samples import KINKS, Index, Mask, OpInfo, Sample, T, V

INF, NAN = math.inf, math.nan
SMALL = dict(low=-0.5, high=0.5)
LINALG_TOL = (1e-3, 1e-4)
SCATTER_INDEX = Index([[0, 1, 0, 2], [0, 0, 1, 2], [2, 1, 0, 0]])


def _dominant(m, a, shift=3.0):
    """``a`` plus ``shift`` on the diagonal: invertible and well-conditioned for small ``a``."""
    return a + shift * m.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _spd(m, a):
    return a @ a.mT + m.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _eigh_invariants(m, a):
    w, v = m.linalg.eigh(a + a.mT)
    return w, v * v, v @ (w.unsqueeze(-1).exp() * v.mT)


def _svd_invariants(m, a):
    u, s, vh = m.linalg.svd(a, full_matrices=False)
    return s, u @ vh, u * u, vh * vh


def _scatter_reduce_rows():
    rows = []
    for reduce in ("sum", "mean", "amax", "amin", "prod"):
        low, high = (0.5, 2.0) if reduce == "prod" else (-2.0, 2.0)
        rows.append(
            OpInfo(
                f"scatter_reduce_{reduce}",
                lambda m, x, i, s, **kw: x.scatter_reduce(0, i, s, **kw),
                [
                    Sample(
                        T((3, 4), low, high), SCATTER_INDEX, T((3, 4), low, high), reduce=reduce
                    ),
                    Sample(
                        T((3, 4), low, high),
                        SCATTER_INDEX,
                        T((3, 4), low, high),
                        reduce=reduce,
                        include_self=False,
                    ),
                ],
            )
        )
    return rows


def _linalg_rows():
    return [
        OpInfo(
            "linalg_inv",
            lambda m, a: m.linalg.inv(_dominant(m, a)),
            [Sample(T((3, 3), **SMALL)), Sample(T((2, 3, 3), **SMALL)), Sample(T((1, 1)))],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_det",
            lambda m, a, shift: m.linalg.det(_dominant(m, a, shift)),
            [Sample(T((3, 3), **SMALL), 3.0), Sample(T((2, 3, 3), **SMALL), -3.0)],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_slogdet",
            lambda m, a, shift: m.linalg.slogdet(_dominant(m, a, shift)),
            [Sample(T((3, 3), **SMALL), 3.0), Sample(T((2, 3, 3), **SMALL), -3.0)],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "logdet",
            lambda m, a: m.logdet(_dominant(m, a)),
            [Sample(T((3, 3), **SMALL))],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_solve",
            lambda m, a, b, **kw: m.linalg.solve(_dominant(m, a), b, **kw),
            [
                Sample(T((3, 3), **SMALL), T((3, 2))),
                Sample(T((3, 3), **SMALL), T((3,))),
                Sample(T((2, 3, 3), **SMALL), T((3, 2))),
                Sample(T((3, 3), **SMALL), T((2, 3)), left=False),
            ],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_cholesky",
            lambda m, a, **kw: m.linalg.cholesky(_spd(m, a), **kw),
            [Sample(T((3, 3))), Sample(T((2, 3, 3))), Sample(T((3, 3)), upper=True)],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_qr",
            lambda m, a: m.linalg.qr(a),
            [Sample(T((4, 3))), Sample(T((3, 3))), Sample(T((2, 4, 3))), Sample(T((3, 5)))],
            float32_tol=LINALG_TOL,
            note="LAPACK's Householder QR gives the same signs in NumPy and PyTorch",
        ),
        OpInfo(
            "linalg_eigh",
            _eigh_invariants,
            [Sample(T((3, 3))), Sample(T((2, 3, 3)))],
            float32_tol=LINALG_TOL,
        ),
        OpInfo("linalg_eigvalsh", lambda m, a: m.linalg.eigvalsh(a + a.mT), [Sample(T((3, 3)))]),
        OpInfo(
            "linalg_svd",
            _svd_invariants,
            [Sample(T((4, 3))), Sample(T((3, 5))), Sample(T((2, 3, 3)))],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_svdvals",
            lambda m, a: m.linalg.svdvals(a),
            [Sample(T((4, 3))), Sample(T((2, 3, 5)))],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_vector_norm",
            lambda m, x, *a, **kw: m.linalg.vector_norm(x, *a, **kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4), away=KINKS), 1, dim=1),
                Sample(T((3, 4)), INF, dim=0, keepdim=True),
                Sample(T((2, 3, 4), away=KINKS), 3.0, dim=(0, 2)),
            ],
        ),
        OpInfo(
            "linalg_matrix_norm",
            lambda m, x, *a, **kw: m.linalg.matrix_norm(x, *a, **kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4)), "nuc"),
                Sample(T((2, 3, 4)), 2),
                Sample(T((3, 4)), -2, keepdim=True),
                Sample(T((3, 4), away=KINKS), 1),
                Sample(T((3, 4), away=KINKS), -1),
                Sample(T((2, 3, 4), away=KINKS), INF, dim=(2, 0)),
                Sample(T((3, 4), away=KINKS), -INF, keepdim=True),
            ],
            float32_tol=LINALG_TOL,
        ),
        OpInfo(
            "linalg_norm",
            lambda m, x, *a, **kw: m.linalg.norm(x, *a, **kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4)), 2),
                Sample(T((5,), away=KINKS), 1),
                Sample(T((3, 4)), dim=1),
                Sample(T((2, 3, 4)), "fro", (1, 2)),
            ],
            float32_tol=LINALG_TOL,
        ),
    ]


def _rows():
    return [
        OpInfo(
            "roll",
            lambda m, x, *a: x.roll(*a),
            [
                Sample(T((3, 4)), 1, 1),
                Sample(T((3, 4)), (1, -2), (0, 1)),
                Sample(T((5,)), 7),
                Sample(T((2, 3)), -1),
            ],
        ),
        OpInfo(
            "meshgrid",
            lambda m, a, b, **kw: m.meshgrid(a, b, **kw),
            [Sample(T((3,)), T((2,)), indexing="ij"), Sample(T((3,)), T((2,)), indexing="xy")],
        ),
        OpInfo(
            "cumprod",
            lambda m, x, d: x.cumprod(d),
            [
                Sample(T((3, 4)), 1),
                Sample(T((5,)), 0),
                Sample(T((4, 3), transposed=True), 0),
                Sample(V([[1.5, 0.0, 2.0, -1.0], [0.0, 0.5, 0.0, 3.0]]), 1),
            ],
        ),
        OpInfo("cummax", lambda m, x, d: x.cummax(d), [Sample(T((3, 4)), 1), Sample(T((5,)), 0)]),
        OpInfo("cummin", lambda m, x, d: m.cummin(x, d), [Sample(T((3, 4)), 0)]),
        OpInfo(
            "diff",
            lambda m, x, *a, **kw: x.diff(*a, **kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4)), 2, 0),
                Sample(T((2, 3)), 1, -1, T((2, 1)), T((2, 2))),
            ],
        ),
        OpInfo(
            "scatter",
            lambda m, x, i, s: x.scatter(1, i, s),
            [Sample(T((3, 4)), Index([[0, 2], [1, 3], [3, 0]]), T((3, 2)))],
        ),
        OpInfo(
            "scatter_value",
            lambda m, x, i: x.scatter(0, i, 1.5),
            [Sample(T((3, 4)), Index([[0, 1, 2, 0]]))],
        ),
        *_scatter_reduce_rows(),
        OpInfo(
            "index_add",
            lambda m, x, i, s: x.index_add(0, i, s, alpha=2.0),
            [Sample(T((4, 3)), Index([0, 2, 0]), T((3, 3)))],
        ),
        OpInfo(
            "index_copy",
            lambda m, x, i, s: x.index_copy(1, i, s),
            [Sample(T((3, 4)), Index([3, 0]), T((3, 2)))],
        ),
        OpInfo(
            "index_fill",
            lambda m, x, i: x.index_fill(1, i, -1.0),
            [Sample(T((3, 4)), Index([1, 3]))],
        ),
        OpInfo(
            "masked_scatter",
            lambda m, x, mask, s: x.masked_scatter(mask, s),
            [
                Sample(T((2, 3)), Mask([[True, False, True], [False, True, True]]), T((5,))),
                Sample(T((2, 3)), Mask([True, False, True]), T((2, 4))),
            ],
        ),
        OpInfo(
            "diag",
            lambda m, x, *k: m.diag(x, *k),
            [Sample(T((3,))), Sample(T((3,)), -1), Sample(T((3, 4)), 1), Sample(T((4, 3)), -2)],
        ),
        OpInfo(
            "diagonal",
            lambda m, x, **kw: x.diagonal(**kw),
            [
                Sample(T((3, 4))),
                Sample(T((2, 3, 4)), offset=1, dim1=2, dim2=0),
                Sample(T((3, 3)), offset=-1),
            ],
        ),
        OpInfo(
            "diag_embed",
            lambda m, x, **kw: m.diag_embed(x, **kw),
            [Sample(T((2, 3))), Sample(T((2, 3)), offset=1, dim1=0, dim2=2)],
        ),
        OpInfo("trace", lambda m, x: x.trace(), [Sample(T((3, 4))), Sample(T((3, 3)))]),
        OpInfo(
            "tensordot",
            lambda m, a, b, **kw: m.tensordot(a, b, **kw),
            [
                Sample(T((2, 3, 4)), T((3, 4, 5))),
                Sample(T((2, 3, 4)), T((4, 3)), dims=([1, 2], [1, 0])),
                Sample(T((2, 3)), T((4,)), dims=0),
            ],
        ),
        OpInfo(
            "addmm",
            lambda m, i, a, b, **kw: m.addmm(i, a, b, **kw),
            [
                Sample(T((2, 4)), T((2, 3)), T((3, 4))),
                Sample(T((4,)), T((2, 3)), T((3, 4)), beta=0.5, alpha=2.0),
            ],
        ),
        OpInfo(
            "baddbmm",
            lambda m, i, a, b, **kw: m.baddbmm(i, a, b, **kw),
            [Sample(T((2, 3, 4)), T((2, 3, 5)), T((2, 5, 4)), beta=0.5, alpha=-1.0)],
        ),
        OpInfo(
            "addbmm",
            lambda m, i, a, b, **kw: m.addbmm(i, a, b, **kw),
            [Sample(T((3, 4)), T((2, 3, 5)), T((2, 5, 4)), alpha=0.5)],
        ),
        OpInfo(
            "cdist",
            lambda m, a, b, **kw: m.cdist(a, b, **kw),
            [
                Sample(T((3, 4)), T((5, 4))),
                Sample(T((3, 4)), T((2, 4)), p=1.0),
                Sample(T((2, 3, 4)), T((2, 2, 4)), p=3.0),
                Sample(T((3, 2)), T((2, 2)), p=INF),
            ],
            gradgrad=False,
            note="PyTorch implements no derivative of _cdist_backward: differentiating raises "
            "(tests/test_leftovers14.py checks its error)",
        ),
        OpInfo(  # p = 2 through matrix products: twice differentiable, as PyTorch's composite
            "cdist_mm",
            lambda m, a, b, **kw: m.cdist(a, b, **kw),
            [Sample(T((3, 4)), T((5, 4)), compute_mode="use_mm_for_euclid_dist")],
        ),
        OpInfo(
            "lerp",
            lambda m, a, b, w: m.lerp(a, b, w),
            [
                Sample(T((3, 4)), T((3, 4)), 0.3),
                Sample(T((3, 4)), T((3, 4)), 0.7),
                Sample(T((3, 1)), T((1, 4)), T((3, 4), 0.0, 1.0)),
            ],
        ),
        OpInfo(
            "nan_to_num",
            lambda m, x, **kw: m.nan_to_num(x, **kw),
            [
                Sample(V([[0.5, NAN, 1.0], [-1.0, NAN, -2.0]])),
                Sample(V([0.5, NAN, INF, -INF]), nan=1.5, posinf=10.0, neginf=-10.0),
            ],
            note="the defaults for ±inf (the dtype's limits) are checked in nan_to_num_limits",
        ),
        OpInfo(
            "clamp_tensor_both",
            lambda m, x, lo, hi: x.clamp(lo, hi),
            [Sample(T((3, 4)), T((1, 4), -1.0, -0.2), T((3, 1), 0.2, 1.0))],
        ),
        *_linalg_rows(),
    ]


FORWARD_ONLY = [
    OpInfo(
        "logical_connectives",
        lambda m, a, b: (m.logical_and(a, b), m.logical_or(a, b), m.logical_xor(a, b)),
        [
            Sample(Mask([True, False, True, False]), Mask([True, True, False, False])),
            Sample(V([0.0, 1.5, -2.0]), V([3.0, 0.0, 1.0])),
        ],
        grad=False,
    ),
    OpInfo(
        "unique",
        lambda m, x, **kw: m.unique(x, **kw),
        [
            Sample(Index([3, 1, 3, 2, 1])),
            Sample(Index([[3, 1], [3, 2]]), return_inverse=True, return_counts=True),
            Sample(Index([[1, 2], [1, 2], [0, 5]]), dim=0, return_inverse=True, return_counts=True),
            Sample(Index([[1, 2, 1], [0, 5, 0]]), dim=1, return_counts=True),
            Sample(V([2.5, -1.0, 2.5]), return_inverse=True),
        ],
        grad=False,
    ),
    OpInfo(
        "bincount",
        lambda m, x, *w, **kw: m.bincount(x, *w, **kw),
        [
            Sample(Index([0, 1, 1, 3])),
            Sample(Index([0, 1, 1, 3]), minlength=6),
            Sample(Index([0, 1, 1, 3]), V([0.5, 1.0, 2.0, 3.0])),
        ],
        grad=False,
    ),
    OpInfo(
        "searchsorted",
        lambda m, s, x, **kw: m.searchsorted(s, x, **kw),
        [
            Sample(V([1.0, 3.0, 5.0, 7.0]), V([[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]])),
            Sample(V([1.0, 3.0, 5.0, 7.0]), V([3.0, 7.0]), right=True),
            Sample(
                V([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]), V([[3.0, 6.0], [1.0, 4.0]]), side="right"
            ),
            Sample(V([1.0, 3.0, 5.0]), V([3.0, 6.0]), out_int32=True),
        ],
        grad=False,
    ),
    OpInfo(
        "bucketize",
        lambda m, x, b, **kw: m.bucketize(x, b, **kw),
        [
            Sample(V([[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]]), V([1.0, 3.0, 5.0, 7.0])),
            Sample(V([3.0, 7.0]), V([1.0, 3.0, 5.0, 7.0]), right=True),
        ],
        grad=False,
    ),
    OpInfo(
        "isclose",
        lambda m, a, b, **kw: m.isclose(a, b, **kw),
        [
            Sample(V([1.0, 1.0 + 1e-9, NAN, INF, 1.0]), V([1.0, 1.0, NAN, INF, 1.1])),
            Sample(V([1.0, NAN, 2.0]), V([1.05, NAN, 2.0]), rtol=0.1, equal_nan=True),
        ],
        grad=False,
    ),
    OpInfo(
        "cummax_ties",
        lambda m, x, d: (x.cummax(d), x.cummin(d)),
        [Sample(V([1.0, 3.0, 3.0, 2.0, 3.0, 1.0]), 0), Sample(Index([[2, 2, 1], [0, 3, 3]]), 1)],
        grad=False,
    ),
    OpInfo(
        "scatter_reduce_forward",
        lambda m, x, i, s, **kw: x.scatter(0, i, s, **kw),
        [
            Sample(
                V([[1.0, 2.0], [3.0, 4.0]]),
                Index([[0, 0], [0, 1]]),
                V([[2.0, 3.0], [4.0, 5.0]]),
                reduce="add",
            ),
            Sample(
                V([[1.0, 2.0], [3.0, 4.0]]),
                Index([[0, 0], [0, 1]]),
                V([[2.0, 3.0], [4.0, 5.0]]),
                reduce="multiply",
            ),
        ],
        grad=False,
    ),
    OpInfo(
        "integer_scans",
        lambda m, x: (x.cumprod(0), x.diff(), x.roll(1), m.diag(x)),
        [Sample(Index([1, 2, 3, 4]))],
        grad=False,
    ),
    OpInfo(
        "nan_to_num_limits",
        lambda m, x: m.nan_to_num(x),
        [Sample(V([0.5, NAN, INF, -INF]))],
        grad=False,
    ),
    OpInfo(
        "finfo_iinfo",
        lambda m, x: m.tensor(
            [
                m.finfo(m.float32).eps,
                m.finfo(m.float64).max,
                m.finfo(m.float16).tiny,
                m.iinfo(m.int32).min,
                m.finfo().resolution,
                m.finfo(m.float64).bits,
            ]
        ),
        [Sample(V([0.0]))],
        grad=False,
    ),
]

ROWS = _rows()
