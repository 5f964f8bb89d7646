"""Rows of the op table for branch linalg2: LU (``linalg.lu_factor``/``lu``/``lu_solve`` and
the older ``torch.lu``, ``lu_unpack``, ``lu_solve``), the ``*_ex`` functions, Householder
products (``householder_product``, ``orgqr``, ``ormqr``, ``geqrf``), ``cond``, ``tensorinv``,
``tensorsolve``, ``vander``, ``vecdot``, ``diagonal``, ``nuclear_norm``, ``frobenius_norm``.
Matrices are random (partial pivoting keeps LU well-posed, and its pivots do not change
under the finite differences) or diagonally dominant where they are inverted."""

from __future__ import annotations

import math

from .samples import C, OpInfo, Sample, T, V

TOL = (1e-3, 1e-4)
SMALL = dict(low=-0.5, high=0.5)


def _dominant(m, a, shift=3.0):
    return a + shift * m.eye(a.shape[-1], dtype=a.dtype, device=a.device)


def _lu_rows():
    return [
        OpInfo(
            "linalg_lu_factor",
            lambda m, a: m.linalg.lu_factor(a),
            [Sample(T((3, 3))), Sample(T((3, 5)))],
            float32_tol=TOL,
        ),
        OpInfo(
            "linalg_lu",
            lambda m, a: m.linalg.lu(a),
            [Sample(T((2, 4, 3)))],
            float32_tol=TOL,
        ),
        OpInfo(
            "linalg_lu_solve",
            lambda m, a, b, **kw: m.linalg.lu_solve(*m.linalg.lu_factor(_dominant(m, a)), b, **kw),
            [
                Sample(T((3, 3)), T((3, 2))),
                Sample(T((2, 3, 3)), T((2, 3)), left=False, adjoint=True),
            ],
            float32_tol=TOL,
        ),
        OpInfo(
            "lu_unpack_solve",
            lambda m, a, b: (m.lu_unpack(*m.lu(a)), m.lu_solve(b, *m.lu(_dominant(m, a)))),
            [Sample(T((3, 3)), T((3, 2)))],
            float32_tol=TOL,
        ),
        OpInfo(
            "linalg_ex",
            lambda m, a, b: (
                m.linalg.inv_ex(_dominant(m, a)),
                m.linalg.solve_ex(_dominant(m, a), b),
                m.linalg.cholesky_ex(a @ a.mT + m.eye(3, dtype=a.dtype, device=a.device)),
            ),
            [Sample(T((2, 3, 3), **SMALL), T((3, 2)))],
            float32_tol=TOL,
        ),
    ]


def _householder_rows():
    return [
        OpInfo(
            "linalg_householder_product",
            lambda m, a, tau: m.linalg.householder_product(a, tau),
            [Sample(T((4, 3)), T((3,))), Sample(T((2, 4, 3)), T((2, 2)))],
            float32_tol=TOL,
        ),
        OpInfo(
            "ormqr",
            lambda m, a, tau, c, **kw: m.ormqr(a, tau, c, **kw),
            [
                Sample(T((4, 3)), T((3,)), T((4, 2))),
                Sample(T((2, 4, 2)), T((2, 2)), T((2, 3, 4)), left=False, transpose=True),
            ],
            float32_tol=TOL,
        ),
        OpInfo("orgqr", lambda m, a, tau: a.orgqr(tau), [Sample(T((3, 3)), T((2,)))]),
    ]


def _lobpcg(m, a, x, **kw):
    """The two largest eigenpairs of an SPD matrix from the start ``x``, outputs that do not
    depend on the eigenvectors' signs; tight tolerance in float64 (for finite differences)."""
    spd = a @ a.mT + m.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    tol = 1e-13 if a.dtype == m.float64 else None
    e, v = m.lobpcg(spd, X=x, tol=tol, **kw)
    return e, v * v


def _other_rows():
    return [
        OpInfo(
            "lobpcg",
            _lobpcg,
            [Sample(T((6, 6)), T((6, 2), grad=False))],
            float32_tol=(2e-2, 2e-3),
        ),
        OpInfo(
            "linalg_cond",
            lambda m, a, *p: m.linalg.cond(a, *p),
            [Sample(T((3, 4))), Sample(T((2, 3, 3)), -2)],
            float32_tol=TOL,
        ),
        OpInfo(
            "linalg_cond_norms",
            lambda m, a: tuple(m.linalg.cond(_dominant(m, a), p) for p in ("fro", "nuc", 1)),
            [Sample(T((3, 3), **SMALL))],
            torch=False,
            note="PyTorch's cond has no working derivative for these norms (it raises about an "
            "in-place change of inv_ex's output); the forward is compared in linalg_cond_values",
        ),
        OpInfo(
            "linalg_tensorinv",
            lambda m, a: m.linalg.tensorinv(_dominant(m, a).reshape(2, 3, 6)),
            [Sample(T((6, 6), **SMALL))],
            float32_tol=TOL,
        ),
        OpInfo(
            "linalg_tensorsolve",
            lambda m, a, b, **kw: m.linalg.tensorsolve(_dominant(m, a).reshape(*b.shape, 6), b),
            [Sample(T((6, 6), **SMALL), T((2, 3))), Sample(T((6, 6), **SMALL), T((3, 2)))],
            float32_tol=TOL,
        ),
        OpInfo(
            "linalg_vander",
            lambda m, x, **kw: m.linalg.vander(x, **kw),
            [Sample(T((2, 4))), Sample(T((3,)), N=5)],
        ),
        OpInfo(
            "linalg_vecdot",
            lambda m, x, y, **kw: m.linalg.vecdot(x, y, **kw),
            [Sample(T((3, 4)), T((4,))), Sample(T((3, 1)), T((3, 2)), dim=0)],
        ),
        OpInfo(
            "linalg_diagonal",
            lambda m, a, **kw: m.linalg.diagonal(a, **kw),
            [Sample(T((3, 4)), offset=1), Sample(T((2, 3, 4)), dim1=0, dim2=2)],
        ),
        OpInfo(
            "nuclear_frobenius_norm",
            lambda m, a: (m.nuclear_norm(a), m.nuclear_norm(a, (0, 2)), m.frobenius_norm(a, 1)),
            [Sample(T((2, 3, 4)))],
            float32_tol=TOL,
        ),
    ]


FORWARD_ONLY = [
    OpInfo(
        "linalg_cond_values",
        lambda m, a: tuple(m.linalg.cond(a, p) for p in ("fro", "nuc", math.inf, -math.inf, 1, -1)),
        [Sample(T((2, 3, 3)))],
        grad=False,
        float32_tol=TOL,
    ),
    OpInfo(
        "vander",
        lambda m, x, *a, **kw: m.vander(x, *a, **kw),
        [Sample(T((3,))), Sample(T((3,)), 4, increasing=True)],
        grad=False,
        note="PyTorch's vander has no working derivative (an in-place change); minigrad's "
        "is linalg.vander's, checked in linalg_vander",
    ),
    OpInfo(
        "geqrf",
        lambda m, a: m.geqrf(a),
        [Sample(T((4, 3))), Sample(T((2, 3, 4)))],
        grad=False,
        float32_tol=TOL,
        note="the same LAPACK routine (geqrf) in NumPy and PyTorch",
    ),
    OpInfo(
        "linalg_ldl",
        lambda m, a, b, **kw: (
            lambda ld, pivots: (ld, pivots, m.linalg.ldl_solve(ld, pivots, b, **kw))
        )(*m.linalg.ldl_factor(a, **kw)),
        [
            Sample(T((4, 4)), T((4, 2))),
            Sample(T((2, 5, 5)), T((5, 1)), hermitian=True),
            Sample(V([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]]), T((3, 2))),
        ],
        grad=False,
        float32_tol=TOL,
        note="Bunch-Kaufman pivoting gives LAPACK's pivots (2x2 blocks for the last sample)",
    ),
    OpInfo(
        "lu_legacy",
        lambda m, a: tuple(a.lu(get_infos=True)) + tuple(m.linalg.lu_factor_ex(a)),
        [Sample(T((2, 4, 4)))],
        grad=False,
        float32_tol=TOL,
    ),
]

ROWS = _lu_rows() + _householder_rows() + _other_rows()

# complex rows, walked by tests/test_complex.py with the rest of op_db_complex.COMPLEX_OPS
COMPLEX_ROWS = [
    OpInfo(
        "linalg.lu_factor",
        lambda m, a: m.linalg.lu_factor(a).LU,
        [Sample(C((2, 3, 3)))],
    ),
    OpInfo("linalg.lu_U", lambda m, a: m.linalg.lu(a).U, [Sample(C((4, 3)))]),
    OpInfo(
        "linalg.lu_solve",
        lambda m, a, b, **kw: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, **kw),
        [Sample(C((3, 3)), C((3, 2))), Sample(C((3, 3)), C((2, 3)), left=False, adjoint=True)],
    ),
    OpInfo(
        "linalg.householder_product",
        lambda m, a, tau: m.linalg.householder_product(a, tau),
        [Sample(C((4, 3)), C((2,)))],
    ),
    OpInfo(
        "ormqr",
        lambda m, a, tau, c, **kw: m.ormqr(a, tau, c, **kw),
        [Sample(C((4, 2)), C((2,)), C((3, 4)), left=False, transpose=True)],
    ),
    OpInfo("linalg.inv_ex", lambda m, a: m.linalg.inv_ex(a).inverse, [Sample(C((3, 3)))]),
    OpInfo(
        "linalg.solve_ex",
        lambda m, a, b: m.linalg.solve_ex(a, b).result,
        [Sample(C((3, 3)), C((3,)))],
    ),
    OpInfo("linalg.vecdot", lambda m, x, y: m.linalg.vecdot(x, y), [Sample(C((3, 4)), C((4,)))]),
    OpInfo("linalg.vander", lambda m, x: m.linalg.vander(x), [Sample(C((2, 3)))]),
    OpInfo("linalg.cond", lambda m, a: m.linalg.cond(a), [Sample(C((3, 3)))]),
]
