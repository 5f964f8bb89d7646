"""Rows of the op table for the tensor functions found missing by running PyTorch programs:
inverse trigonometric and hyperbolic functions, atan2, hypot, logaddexp, xlogy, fmod, the
pointwise compositions (addcmul, logit, copysign, fmax, ...), order statistics (median,
kthvalue, quantile), NaN-aware reductions, selection (take, masked_select, repeat_interleave,
unfold), splitting and stacking variants, kron, cross, block_diag, rot90, cartesian_prod."""

from __future__ import annotations

import math

from .samples import Index, Mask, OpInfo, Sample, T, V

NAN = math.nan
UNIT = dict(low=-0.9, high=0.9)  # inside the domain of asin, acos, atanh


def _fn(name):
    return lambda m, *args, **kwargs: getattr(m, name)(*args, **kwargs)


def _unary_rows():
    domains = {
        "asin": T((3, 4), **UNIT),
        "acos": T((3, 4), **UNIT),
        "atanh": T((3, 4), **UNIT),
        "atan": T((3, 4)),
        "sinh": T((3, 4)),
        "cosh": T((3, 4)),
        "asinh": T((3, 4)),
        "acosh": T((3, 4), 1.2, 3.0),
        "log2": T((3, 4), 0.2, 3.0),
        "log10": T((3, 4), 0.2, 3.0),
        "exp2": T((3, 4)),
        "logit": T((3, 4), 0.1, 0.9),
        "frac": T((3, 4), away=(-2.0, -1.0, 0.0, 1.0, 2.0)),
        "deg2rad": T((3, 4)),
        "rad2deg": T((3, 4)),
    }
    return [OpInfo(name, _fn(name), [Sample(spec)]) for name, spec in domains.items()]


def _binary_rows():
    positive = T((3, 4), 0.2, 2.0)
    return [
        OpInfo("atan2", _fn("atan2"), [Sample(T((3, 4)), T((3, 4), away=(0.0,))), Sample(T((3, 1)), T((4,)))]),
        OpInfo("hypot", _fn("hypot"), [Sample(T((3, 4), away=(0.0,)), T((3, 4), away=(0.0,)))]),
        OpInfo("logaddexp", _fn("logaddexp"), [Sample(T((3, 4)), T((3, 4))), Sample(T((2, 1, 3)), T((4, 3)))]),
        OpInfo("logaddexp2", _fn("logaddexp2"), [Sample(T((3, 4)), T((3, 4)))]),
        OpInfo(
            "xlogy",
            _fn("xlogy"),
            [Sample(T((3, 4)), positive), Sample(V([0.0, 1.0, 2.0], grad=False), V([0.5, 2.0, 3.0]))],
        ),
        OpInfo("fmod", _fn("fmod"), [Sample(T((3, 4), 0.1, 3.0), V(0.7, grad=False)), Sample(T((3, 4), 0.1, 3.0), 0.7)]),
        OpInfo("addcmul", lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), [Sample(T((3, 4)), T((3, 4)), T((4,)))]),
        OpInfo("addcdiv", lambda m, x, a, b: m.addcdiv(x, a, b, value=2), [Sample(T((3, 4)), T((3, 4)), positive)]),
        OpInfo("copysign", _fn("copysign"), [Sample(T((3, 4), away=(0.0,)), T((3, 4), away=(0.0,)))]),
        OpInfo("fmax", _fn("fmax"), [Sample(T((3, 4)), T((3, 4)))]),
        OpInfo("fmin", _fn("fmin"), [Sample(T((3, 4)), T((3, 4)))]),
        OpInfo("float_power", _fn("float_power"), [Sample(T((3, 4), 0.5, 2.0), 2.5), Sample(T((3,), 0.5, 2.0), T((3,)))]),
    ]  # fmt: skip


def _statistics_rows():
    return [
        OpInfo(
            "median",
            lambda m, x, *a, **k: m.median(x, *a, **k),
            [Sample(T((3, 5))), Sample(T((3, 4)), 1), Sample(T((4, 3)), 0, keepdim=True)],
        ),
        OpInfo(
            "median_nan",
            lambda m, x, **k: (m.median(x, 1, **k), m.nanmedian(x, 1, **k), m.nanmedian(x)),
            [Sample(V([[1.0, NAN, 3.0, 0.5, NAN], [2.0, 1.0, 4.0, -1.0, 0.0], [NAN, NAN, 1.0, 2.0, 3.0]]))],
            grad=False,
        ),
        OpInfo("kthvalue", lambda m, x, k, *a, **kw: m.kthvalue(x, k, *a, **kw), [Sample(T((3, 5)), 2), Sample(T((4, 3)), 3, 0, keepdim=True)]),
        OpInfo(
            "quantile",
            # a list q becomes a tensor inside, so that vmap's tests keep it unbatched
            lambda m, x, q, **kw: m.quantile(x, q if isinstance(q, float) else m.tensor(q, dtype=x.dtype, device=x.device), **kw),
            [
                Sample(T((3, 5)), 0.3),
                Sample(T((3, 5)), [0.1, 0.5, 1.0], dim=1),
                Sample(T((4, 3)), [0.25, 0.75], dim=0, keepdim=True),
                Sample(T((2, 3)), 0.4, dim=None, keepdim=True),
            ]
            + [Sample(T((3, 6)), 0.35, dim=1, interpolation=i) for i in ("lower", "higher", "midpoint", "nearest")],
        ),
        OpInfo(
            "nanquantile",
            lambda m, x, q, **kw: (m.nanquantile(x, q, **kw), m.quantile(x, q, **kw)),
            [Sample(V([[1.0, NAN, 3.0, 0.5], [2.0, 1.0, 4.0, -1.0]]), 0.6, dim=1)],
            grad=False,
        ),
        OpInfo("nansum_nanmean", lambda m, x: (m.nansum(x, 1), m.nanmean(x, 0), m.nansum(x)), [Sample(V([[1.0, NAN, 3.0], [2.0, 1.0, NAN]]))]),
        OpInfo("std_mean", lambda m, x, **k: m.std_mean(x, **k), [Sample(T((3, 4)), dim=1), Sample(T((3, 4)), correction=0)]),
        OpInfo("var_mean", lambda m, x, **k: m.var_mean(x, **k), [Sample(T((3, 4)), dim=0, keepdim=True)]),
        OpInfo("aminmax", lambda m, x, **k: tuple(m.aminmax(x, **k)), [Sample(T((3, 4))), Sample(T((3, 4)), dim=1)]),
        OpInfo("count_nonzero", lambda m, x, *a: m.count_nonzero(x, *a), [Sample(V([[0.0, 1.0], [2.0, 0.0], [0.0, 0.0]])), Sample(V([[0.0, 1.0], [2.0, 3.0]]), 1)], grad=False),
        OpInfo("histc", lambda m, x, **k: m.histc(x, **k), [Sample(T((20,))), Sample(T((5, 4)), bins=4, min=-1, max=1)], grad=False),
    ]  # fmt: skip


def _selection_rows():
    return [
        OpInfo("take", _fn("take"), [Sample(T((3, 4)), Index([[0, 11], [5, 5]]))]),
        OpInfo(
            "take_along_dim",
            _fn("take_along_dim"),
            [Sample(T((3, 4)), Index([[0, 3], [1, 1], [2, 0]]), 1), Sample(T((3, 4)), Index([[1, 2, 0, 1]]), 0), Sample(T((3, 4)), Index([2, 7]))],
        ),
        OpInfo("masked_select", _fn("masked_select"), [Sample(T((3, 4)), Mask([True, False, True, True]))]),
        OpInfo(
            "repeat_interleave",
            lambda m, x, *a, **k: m.repeat_interleave(x, *a, **k),
            [Sample(T((2, 3)), 2), Sample(T((2, 3)), Index([1, 0, 3]), 1), Sample(T((3, 2)), Index([2]), dim=0)],
        ),
        OpInfo("unfold_windows", lambda m, x, *a: x.unfold(*a), [Sample(T((2, 7)), 1, 3, 2), Sample(T((5, 2)), 0, 2, 1)]),
        OpInfo("tensor_split", lambda m, x, s, **k: m.tensor_split(x, s, **k), [Sample(T((7, 2)), 3), Sample(T((2, 7)), [1, 5], dim=1)]),
        OpInfo("hvd_split", lambda m, x: (m.hsplit(x, 2), m.vsplit(x, [1]), m.dsplit(x, 3)), [Sample(T((2, 4, 3)))]),
        OpInfo(
            "stacks",
            lambda m, a, b: (m.hstack([a, b]), m.vstack([a, b]), m.dstack([a, b]), m.column_stack([a, b])),
            [Sample(T((3,)), T((3,))), Sample(T((2, 3)), T((2, 3)))],
        ),
        OpInfo("atleast", lambda m, a, b, c: m.atleast_3d(a, b, c) + m.atleast_2d(a, b) + (m.atleast_1d(a),), [Sample(V(1.5), T((3,)), T((2, 3)))]),
    ]  # fmt: skip


def _matrix_rows():
    return [
        OpInfo("kron", _fn("kron"), [Sample(T((2, 3)), T((3, 2))), Sample(T((2,)), T((3, 2)))]),
        OpInfo("cross", lambda m, a, b, **k: m.cross(a, b, **k), [Sample(T((4, 3)), T((4, 3)), dim=1), Sample(T((3, 2)), T((3, 1)), dim=0)]),
        OpInfo("linalg_cross", lambda m, a, b: m.linalg.cross(a, b), [Sample(T((2, 3)), T((1, 3)))]),
        OpInfo("block_diag", _fn("block_diag"), [Sample(T((2, 3)), T((1, 2)), T((3,)), V(2.0))]),
        OpInfo("rot90", lambda m, x, *a: m.rot90(x, *a), [Sample(T((2, 3))), Sample(T((2, 3, 4)), 2, [1, 2]), Sample(T((2, 3)), -1, [1, 0])]),
        OpInfo("cartesian_prod", _fn("cartesian_prod"), [Sample(T((2,)), T((3,))), Sample(T((2,)), T((2,)), T((2,)))]),
        OpInfo("combinations", lambda m, x, **k: m.combinations(x, **k), [Sample(T((4,))), Sample(T((3,)), r=3, with_replacement=True)]),
    ]  # fmt: skip


FORWARD_ONLY = [
    OpInfo(
        "fmax_fmin_nan",
        lambda m, a, b: (m.fmax(a, b), m.fmin(a, b)),
        [Sample(V([1.0, NAN, 2.0, NAN]), V([NAN, 3.0, 2.0, NAN]))],
        grad=False,
    ),
    OpInfo(
        "predicates",
        lambda m, x, v: (m.signbit(x), m.heaviside(x, v), m.isin(x, x[:2]), m.argwhere(x > 0)),
        [Sample(V([-1.0, 0.0, -0.0, 2.0, NAN]), V(0.5))],
        grad=False,
    ),
    OpInfo(
        "repeat_interleave_counts",
        lambda m, c: m.repeat_interleave(c),
        [Sample(Index([2, 0, 3]))],
        grad=False,
    ),
]

ROWS = _unary_rows() + _binary_rows() + _statistics_rows() + _selection_rows() + _matrix_rows()
