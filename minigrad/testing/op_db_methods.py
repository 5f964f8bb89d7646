"""Rows of the op table for branch ``methods``: the tensor methods and functions PyTorch
programs use that minigrad lacked (bitwise and integer functions, the slice scatters,
index_put/put/index_reduce, products and statistics, matrix_exp/pinv/lstsq, in-place twins)."""

from __future__ import annotations

import math

from .samples import Index, Mask, OpInfo, Sample, T, Typed, V

INF = math.inf
NAN = math.nan


def _fn(name):
    return lambda m, *args, **kwargs: getattr(m, name)(*args, **kwargs)


def _twin(name, *args, **kwargs):
    """``x.clone().<name>_(*args)``: the in-place twin on a non-leaf, checked like the function."""
    return lambda m, x, *a: getattr(x.clone(), name + "_")(*(a + args), **kwargs)


def _pointwise_rows():
    return [
        OpInfo("ldexp", _fn("ldexp"), [Sample(T((3, 4)), V([1.0, 2.0, -1.0, 0.0], grad=False))]),
        OpInfo("sgn", lambda m, x: m.sgn(x) * x, [Sample(T((3, 4), away=(0.0,)))]),
        OpInfo("fix", _fn("fix"), [Sample(T((3, 4), away=(-2.0, -1.0, 0.0, 1.0, 2.0)))]),
        OpInfo("clamp_min", _fn("clamp_min"), [Sample(T((3, 4), away=(0.5,)), 0.5)]),
        OpInfo("clamp_max", _fn("clamp_max"), [Sample(T((3, 4), away=(0.5,)), 0.5)]),
    ]


def _inplace_rows():
    unit = T((3, 4), -0.9, 0.9)
    positive = T((3, 4), 0.2, 2.0)
    rows = [
        ("acos", unit),
        ("asin", unit),
        ("atan", T((3, 4))),
        ("cosh", T((3, 4))),
        ("sinh", T((3, 4))),
        ("log2", positive),
        ("log10", positive),
        ("exp2", T((3, 4))),
        ("frac", T((3, 4), away=(-2.0, -1.0, 0.0, 1.0, 2.0))),
        ("deg2rad", T((3, 4))),
        ("rad2deg", T((3, 4))),
        ("negative", T((3, 4))),
        ("absolute", T((3, 4), away=(0.0,))),
        ("erf", T((3, 4))),
    ]
    out = [OpInfo(f"{name}_", _twin(name), [Sample(spec)]) for name, spec in rows]
    binary = [
        ("atan2", T((3, 4)), T((3, 4), away=(0.0,))),
        ("hypot", T((3, 4), away=(0.0,)), T((3, 4), away=(0.0,))),
        ("fmod", T((3, 4), 0.1, 3.0), V(0.7, grad=False)),
        ("remainder", T((3, 4), 0.1, 3.0), V(0.7, grad=False)),
        ("copysign", T((3, 4), away=(0.0,)), T((4,), away=(0.0,))),
        ("xlogy", T((3, 4)), positive),
        ("subtract", T((3, 4)), T((3, 4))),
        ("multiply", T((3, 4)), T((4,))),
        ("divide", T((3, 4)), positive),
        ("true_divide", T((3, 4)), positive),
    ]
    out += [OpInfo(f"{name}_", _twin(name), [Sample(a, b)]) for name, a, b in binary]
    out += [
        OpInfo("logit_", _twin("logit", 0.05), [Sample(T((3, 4), 0.1, 0.9))]),
        OpInfo("clamp_min_", _twin("clamp_min", 0.5), [Sample(T((3, 4), away=(0.5,)))]),
        OpInfo("clamp_max_", _twin("clamp_max", 0.5), [Sample(T((3, 4), away=(0.5,)))]),
        OpInfo("tril_", _twin("tril", 1), [Sample(T((3, 4)))]),
        OpInfo("triu_", _twin("triu", -1), [Sample(T((3, 4)))]),
        OpInfo(
            "float_power_",
            lambda m, x: x.double().clone().float_power_(2.5),
            [Sample(T((3, 4), 0.5, 2.0))],
        ),
        OpInfo("renorm_", _twin("renorm", 2, 0, 1.0), [Sample(T((3, 4)))]),
        OpInfo(
            "addmv_",
            lambda m, x, a, v: x.clone().addmv_(a, v, beta=0.5),
            [Sample(T((3,)), T((3, 4)), T((4,)))],
        ),
        OpInfo(
            "index_put_",
            lambda m, x, i, v: x.clone().index_put_((i,), v),
            [Sample(T((3, 4)), Index([2, 0]), T((2, 4)))],
        ),
        OpInfo(
            "put_",
            lambda m, x, i, s: x.clone().put_(i, s),
            [Sample(T((3, 4)), Index([5, 2]), T((2,)))],
        ),
        OpInfo(
            "frexp_mantissa",
            lambda m, x: m.frexp(x).mantissa,
            [Sample(T((3, 4), away=(-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)))],
        ),
        OpInfo(
            "addr_",
            lambda m, x, a, b: x.clone().addr_(a, b, alpha=2),
            [Sample(T((3, 4)), T((3,)), T((4,)))],
        ),
    ]
    return out


def _movement_rows():
    return [
        OpInfo("fliplr", _fn("fliplr"), [Sample(T((3, 4))), Sample(T((2, 3, 2)))]),
        OpInfo("flipud", _fn("flipud"), [Sample(T((3, 4))), Sample(T((3,)))]),
        OpInfo("moveaxis", _fn("moveaxis"), [Sample(T((2, 3, 4)), 0, -1)]),
        OpInfo("msort", _fn("msort"), [Sample(T((4, 3)))]),
        OpInfo("narrow_copy", _fn("narrow_copy"), [Sample(T((4, 3)), 0, 1, 2)]),
        OpInfo(
            "split_with_sizes",
            _fn("split_with_sizes"),
            [Sample(T((5, 3)), [2, 3]), Sample(T((2, 5)), [1, 0, 4], 1)],
        ),
        OpInfo("select", _fn("select"), [Sample(T((3, 4)), 1, -1), Sample(T((2, 3, 4)), 0, 1)]),
        OpInfo("diagflat", _fn("diagflat"), [Sample(T((2, 2))), Sample(T((3,)), -1)]),
        OpInfo("H", lambda m, x: x.H, [Sample(T((3, 4)))]),
        OpInfo("mH", lambda m, x: x.mH, [Sample(T((2, 3, 4)))]),
        OpInfo("adjoint", lambda m, x: x.adjoint(), [Sample(T((2, 3, 4)))]),
    ]


def _scatter_rows():
    return [
        OpInfo(
            "select_scatter",
            _fn("select_scatter"),
            [Sample(T((3, 4)), T((4,)), 0, 1), Sample(T((3, 4)), T((3,)), 1, -1)],
        ),
        OpInfo(
            "slice_scatter",
            lambda m, x, s, **kw: m.slice_scatter(x, s, **kw),
            [
                Sample(T((5, 4)), T((2, 4)), dim=0, start=1, end=5, step=2),
                Sample(T((3, 6)), T((3, 2)), dim=1, start=4),
            ],
        ),
        OpInfo(
            "diagonal_scatter",
            _fn("diagonal_scatter"),
            [Sample(T((3, 4)), T((3,))), Sample(T((3, 4)), T((2,)), 2)],
        ),
        OpInfo(
            "index_put",
            lambda m, x, i, j, v, acc: m.index_put(x, (i, j), v, accumulate=acc),
            [
                Sample(T((3, 4)), Index([0, 2, 0]), Index([1, 3, 1]), T((3,)), True),
                Sample(T((3, 4)), Index([0, 2]), Index([1, -1]), T((2,)), False),
            ],
        ),
        OpInfo(
            "index_put_rows",
            lambda m, x, i, v: m.index_put(x, (i,), v, accumulate=True),
            [
                Sample(T((3, 4)), Index([2, 0, 2]), T((3, 4))),
                Sample(T((3, 4)), Mask([True, False, True]), T((4,))),
            ],
        ),
        OpInfo(
            "put",
            lambda m, x, i, s, acc: x.put(i, s, acc),
            [
                Sample(T((3, 4)), Index([0, 11, 0]), T((3,)), True),
                Sample(T((3, 4)), Index([[1, -1]]), T((1, 2)), False),
            ],
        ),
        OpInfo(
            "index_reduce",
            lambda m, x, i, s, r, **kw: x.index_reduce(0, i, s, r, **kw),
            [
                Sample(T((3, 2), 0.5, 2.0), Index([0, 2, 0]), T((3, 2), 0.5, 2.0), "prod"),
                Sample(T((3, 2)), Index([0, 2, 0]), T((3, 2)), "mean", include_self=False),
                Sample(T((3, 2)), Index([1, 2, 0]), T((3, 2)), "amax"),
                Sample(T((3, 2)), Index([1, 1, 0]), T((3, 2)), "amin", include_self=False),
            ],
        ),
    ]


def _product_rows():
    return [
        OpInfo(
            "addmv",
            lambda m, x, a, v, **kw: m.addmv(x, a, v, **kw),
            [
                Sample(T((3,)), T((3, 4)), T((4,))),
                Sample(T((1,)), T((3, 4)), T((4,)), beta=0.5, alpha=2),
            ],
        ),
        OpInfo(
            "addr",
            lambda m, x, a, b, **kw: m.addr(x, a, b, **kw),
            [
                Sample(T((3, 4)), T((3,)), T((4,))),
                Sample(T((4,)), T((3,)), T((4,)), beta=2, alpha=0.5),
            ],
        ),
        OpInfo(
            "inner",
            _fn("inner"),
            [Sample(T((3,)), T((3,))), Sample(T((2, 3)), T((4, 3))), Sample(T((2, 3)), T(()))],
        ),
        OpInfo("vdot", _fn("vdot"), [Sample(T((4,)), T((4,)))]),
        OpInfo("dist", _fn("dist"), [Sample(T((3, 4)), T((4,))), Sample(T((3, 4)), T((3, 4)), 3)]),
        OpInfo(
            "cov",
            lambda m, x, **kw: m.cov(x, **kw),
            [
                Sample(T((3, 5))),
                Sample(T((5,))),
                Sample(T((2, 4)), correction=0),
            ],
        ),
        OpInfo(
            "cov_weights",
            lambda m, x, fw, aw: m.cov(x, fweights=fw, aweights=aw),
            [
                Sample(T((2, 4)), Index([1, 2, 1, 3]), None),
                Sample(T((2, 4)), None, T((4,), 0.5, 2.0)),
                Sample(T((3, 4)), Index([1, 2, 1, 3]), T((4,), 0.5, 2.0)),
            ],
        ),
        OpInfo("corrcoef", _fn("corrcoef"), [Sample(T((3, 5)))]),
        OpInfo(
            "renorm", _fn("renorm"), [Sample(T((3, 4)), 2, 0, 1.0), Sample(T((3, 4)), 1, 1, 2.0)]
        ),
        OpInfo(
            "logcumsumexp",
            _fn("logcumsumexp"),
            [Sample(T((3, 4)), 1), Sample(T((4, 2)), 0), Sample(V([-20.0, 0.0, 1.0, 3.0]), 0)],
        ),
        OpInfo(
            "matrix_power", _fn("matrix_power"), [Sample(T((3, 3)), 3), Sample(T((2, 3, 3)), -2)]
        ),
        OpInfo(
            "matrix_exp",
            lambda m, x: m.linalg.matrix_exp(x),
            [Sample(T((3, 3))), Sample(T((2, 2, 2), -3.0, 3.0))],
        ),
        OpInfo("pinverse", lambda m, x: m.pinverse(x), [Sample(T((3, 4))), Sample(T((4, 2)))]),
        OpInfo("linalg_pinv", lambda m, x: m.linalg.pinv(x), [Sample(T((2, 4, 3)))]),
        OpInfo(
            "linalg_lstsq",
            lambda m, a, b: m.linalg.lstsq(a, b).solution,
            [Sample(T((5, 3)), T((5, 2))), Sample(T((5, 3)), T((5, 2)))],
        ),
    ]


def _triangle(a, upper):
    """A triangular factor (PyTorch's gradient treats the whole input as the factor)."""
    return a.triu() if upper else a.tril()


def _solve_rows():
    def well_posed(m, a):
        return a + 3 * m.eye(a.shape[-1], dtype=a.dtype, device=a.device)

    return [
        OpInfo(
            "cholesky_solve",
            lambda m, b, a, upper: b.cholesky_solve(_triangle(well_posed(m, a), upper), upper),
            [Sample(T((3, 2)), T((3, 3)), False), Sample(T((3, 2)), T((3, 3)), True)],
        ),
        OpInfo(
            "cholesky_inverse",
            lambda m, a: well_posed(m, a).tril().cholesky_inverse(),
            [Sample(T((3, 3)))],
        ),
        OpInfo(
            "triangular_solve",
            lambda m, b, a, **kw: b.triangular_solve(well_posed(m, a), **kw),
            [
                Sample(T((3, 2)), T((3, 3))),
                Sample(T((3, 2)), T((3, 3)), upper=False, transpose=True, unitriangular=True),
            ],
        ),
        OpInfo("angle", lambda m, x: x.angle(), [Sample(T((3, 4), away=(0.0,)))]),
    ]


def _ints(values, dtype="int64"):
    return Typed(values, dtype)


def _f(values):
    """Fixed float64 values that vmap leaves unbatched (rows that read arrays or raise)."""
    return Typed(values, "float64")


FORWARD_ONLY = [
    OpInfo(
        "bitwise",
        lambda m, a, b: (
            m.bitwise_and(a, b),
            m.bitwise_or(a, b),
            m.bitwise_xor(a, b),
            m.bitwise_not(a),
            a.bitwise_and(3),
            m.gcd(a, b),
            m.lcm(a, b),
        ),
        [
            Sample(_ints([5, -6, 0, 12]), _ints([3, 4, 7, -8])),
            Sample(_ints([5, 6], "uint8"), _ints([3, 250], "uint8")),
        ],
        grad=False,
    ),
    OpInfo(
        "bitwise_bool",
        lambda m, a, b: (a.bitwise_and(b), a.bitwise_not(), a.bitwise_xor(b)),
        [Sample(Mask([True, False]), Mask([True, True]))],
        grad=False,
    ),
    OpInfo(
        "shifts",
        lambda m, a, b: (
            m.bitwise_left_shift(a, b),
            m.bitwise_right_shift(a, b),
            a.bitwise_left_shift(2),
        ),
        [
            Sample(_ints([1, -8, 3, -3]), _ints([65, 2, -1, 70])),
            Sample(_ints([1, 200], "uint8"), _ints([9, 3], "uint8")),
        ],
        grad=False,
    ),
    OpInfo(
        "float_bits",
        lambda m, x, y: (m.frexp(x), m.nextafter(x, y), m.isposinf(x), m.isneginf(x), m.isreal(x)),
        [Sample(_f([1.5, -INF, 0.0, INF, NAN, -3.0]), _f([2.0, 0.0, -1.0, 0.0, 1.0, -4.0]))],
        grad=False,
    ),
    OpInfo(
        "comparison_names",
        lambda m, a, b: (
            m.greater(a, b),
            m.less(a, b),
            m.greater_equal(a, b),
            m.less_equal(a, b),
            a.not_equal(b),
            a.greater(0.5),
        ),
        [Sample(V([1.0, 2.0, 3.0]), V([1.0, 0.0, 4.0]))],
        grad=False,
    ),
    OpInfo(
        "unique_consecutive",
        lambda m, x, **kw: m.unique_consecutive(x, **kw),
        [
            Sample(_ints([1, 1, 2, 2, 3, 1, 1, 2])),
            Sample(_ints([1, 1, 2, 2, 3, 1]), return_inverse=True, return_counts=True),
            Sample(
                _ints([[1, 1], [1, 1], [2, 3], [1, 1]]),
                return_inverse=True,
                return_counts=True,
                dim=0,
            ),
            Sample(_ints([[1, 1, 2], [1, 1, 3]]), return_counts=True, dim=1),
        ],
        grad=False,
    ),
    OpInfo(
        "mode",
        lambda m, x, *a, **kw: m.mode(x, *a, **kw),
        [
            Sample(_ints([[1, 2, 2, 1, 3], [4, 4, 0, 0, 0]]), 1),
            Sample(_f([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]]), 0, keepdim=True),
            Sample(_f([3.0, 3.0, 1.0])),
        ],
        grad=False,
    ),
    OpInfo(
        "lstsq_extras",
        lambda m, a, b: m.linalg.lstsq(a, b)[1:],
        [Sample(_f([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]), _f([[1.0], [2.0], [2.0]]))],
        grad=False,
    ),
    OpInfo(
        "bitwise_float",
        lambda m, x: m.bitwise_and(x, x),
        [Sample(_f([1.0]))],
        grad=False,
        raises=NotImplementedError,
    ),
    OpInfo(
        "frexp_int",
        lambda m, x: m.frexp(x),
        [Sample(_ints([1, 2]))],
        grad=False,
        raises=RuntimeError,
    ),
    OpInfo(
        "fliplr_1d",
        lambda m, x: m.fliplr(x),
        [Sample(_f([1.0, 2.0]))],
        grad=False,
        raises=RuntimeError,
    ),
    OpInfo(
        "select_range",
        lambda m, x: m.select(x, 0, 3),
        [Sample(_f([1.0, 2.0]))],
        grad=False,
        raises=IndexError,
    ),
    OpInfo(
        "split_sizes_sum",
        lambda m, x: m.split_with_sizes(x, [1, 2]),
        [Sample(_f([1.0, 2.0]))],
        grad=False,
        raises=RuntimeError,
    ),
    OpInfo(
        "select_scatter_shape",
        lambda m, x, s: m.select_scatter(x, s, 0, 0),
        [Sample(_f([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), _f([1.0, 2.0]))],
        grad=False,
        raises=RuntimeError,
    ),
    OpInfo(
        "float_power_float32",
        lambda m, x: x.to(m.float32).float_power_(2),
        [Sample(_f([1.0, 2.0]))],
        grad=False,
        raises=RuntimeError,
    ),
    OpInfo(
        "index_reduce_sum",
        lambda m, x, i: x.index_reduce(0, i, x, "sum"),
        [Sample(_f([1.0, 2.0]), Index([0, 1]))],
        grad=False,
        raises=RuntimeError,
    ),
]

ROWS = _pointwise_rows() + _movement_rows() + _scatter_rows() + _product_rows() + _solve_rows()

# In-place twins: checked by tests/test_methods.py (gradcheck, gradgradcheck, PyTorch) rather
# than the op table, whose vmap and device walks do not apply to in-place updates.
INPLACE_ROWS = _inplace_rows()

# In-place forward rows (comparisons, integer and logical twins): compared with PyTorch by
# tests/test_methods.py (the op table's ONNX walk exports no in-place op).
INPLACE_FORWARD_ROWS = [
    OpInfo(
        "comparisons_",
        lambda m, a, b: tuple(
            getattr(a.clone(), n)(b)
            for n in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_equal_")
        ),
        [Sample(_f([1.0, 2.0, 3.0]), _f([1.0, 0.0, 4.0])), Sample(_ints([1, 2, 3]), 2)],
        grad=False,
    ),
    OpInfo(
        "integer_",
        lambda m, a, b: (
            a.clone().bitwise_and_(b),
            a.clone().bitwise_or_(b),
            a.clone().bitwise_xor_(b),
            a.clone().bitwise_not_(),
            a.clone().gcd_(b),
            a.clone().lcm_(b),
            a.clone().bitwise_left_shift_(b),
            a.clone().bitwise_right_shift_(b),
            a.clone().floor_divide_(b),
            a.clone().remainder_(b),
        ),
        [Sample(_ints([5, -6, 9, 12]), _ints([3, 4, 7, 5]))],
        grad=False,
    ),
    OpInfo(
        "logical_",
        lambda m, a, b: (
            a.clone().logical_and_(b),
            a.clone().logical_or_(b),
            a.clone().logical_xor_(b),
            a.clone().logical_not_(),
        ),
        [Sample(_f([1.0, 0.0, 2.0, 0.0]), _f([1.0, 1.0, 0.0, 0.0]))],
        grad=False,
    ),
    OpInfo(
        "heaviside_",
        lambda m, x, v: x.clone().heaviside_(v),
        [Sample(_f([-1.0, 0.0, 2.0]), _f([0.5, 0.5, 0.5]))],
        grad=False,
    ),
]
