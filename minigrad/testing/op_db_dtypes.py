"""Forward rows of the op table for integer, bool and float16 semantics: division and modulo
by zero, exact int64 arithmetic, checked conversion of out-of-range values, float16
accumulation, sorting of unsigned and extreme integers and NaN, and the dtypes reductions,
masked_fill and cat return. Each row runs on minigrad and PyTorch and must agree (or raise
``raises`` on both)."""

from __future__ import annotations

import numpy as np

from .samples import F, Mask, OpInfo, Sample, Typed

NAN, INF = float("nan"), float("inf")
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
SIGNED_PAIRS = Sample(Typed([7, -7, 7, -7, 0, 6], "int64"), Typed([2, 2, -2, -2, 3, -3], "int64"))
INT_DIVISION = [
    SIGNED_PAIRS,
    Sample(Typed([200, 7, 255], "uint8"), 3),
    Sample(Typed([[5, -5, 9]], "int32"), Typed([[3], [-3]], "int32")),
    Sample(Typed([2**62 + 1, -(2**62 + 1), I64_MAX, I64_MIN + 1], "int64"), 1),
    Sample(Typed([2**62 + 1, -(2**62 + 1), I64_MAX, I64_MIN + 1], "int64"), 7),
    Sample(Typed([-9, 9], "int8"), Typed(4, "int8")),
]
BY_ZERO = [
    Sample(Typed([5, -7, 3], "int64"), 0),
    Sample(Typed([5, -7, 3], "int64"), Typed([1, 0, 2], "int64")),
    Sample(Typed([5], "uint8"), Typed([0], "uint8")),
    Sample(Typed([5], "int32"), Typed(0, "int32")),
]
FLOAT16_ONES = Typed(np.ones(70000), "float16")


def _rows():
    forward = dict(grad=False, float32_tol=(1e-3, 1e-3))
    return [
        OpInfo("floor_divide_int", lambda m, a, b: a // b, INT_DIVISION, **forward),
        OpInfo("remainder_int", lambda m, a, b: a % b, INT_DIVISION, **forward),
        OpInfo(
            "div_trunc_int",
            lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
            INT_DIVISION,
            note="exact for int64 beyond 2**53 (no float64 round trip)",
            **forward,
        ),
        OpInfo(
            "div_floor_int",
            lambda m, a, b: m.div(a, b, rounding_mode="floor"),
            INT_DIVISION,
            **forward,
        ),
        OpInfo("div_true_int", lambda m, a, b: a / b, INT_DIVISION[:3] + BY_ZERO[:2], **forward),
        OpInfo(
            "floor_divide_by_zero", lambda m, a, b: a // b, BY_ZERO, raises=RuntimeError, **forward
        ),
        OpInfo("remainder_by_zero", lambda m, a, b: a % b, BY_ZERO, raises=RuntimeError, **forward),
        OpInfo(
            "div_trunc_by_zero",
            lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
            BY_ZERO,
            raises=RuntimeError,
            **forward,
        ),
        OpInfo(
            "floor_divide_float_by_zero",
            lambda m, a, b: (a // b, a % b),
            [Sample(Typed([5.0, -5.0, 0.0], "float32"), 0.0)],
            note="floating division by zero follows IEEE (inf, nan), as in PyTorch",
            **forward,
        ),
        # sums, products and cumulative sums: their dtypes, and float16 accumulation
        OpInfo(
            "sum_dtypes",
            lambda m, x, *dt: x.sum(dtype=getattr(m, dt[0])) if dt else x.sum(),
            [
                Sample(Typed([200, 200, 100], "uint8")),
                Sample(Typed([True, True, False], "bool")),
                Sample(Typed([2**31 - 1, 1], "int32")),
                Sample(Typed([200, 100], "uint8"), "int32"),
                Sample(Typed([1.5, 2.5], "float32"), "int32"),
                Sample(Typed([2**62, 2**62 - 1], "int64")),
                Sample(FLOAT16_ONES, "float32"),
            ],
            **forward,
        ),
        OpInfo(
            "prod_dtypes",
            lambda m, x, *dt: x.prod(dtype=getattr(m, dt[0])) if dt else x.prod(),
            [
                Sample(Typed([3, -2, 7], "int32")),
                Sample(Typed([3, 2, 7], "int32"), "int32"),
                Sample(Typed([True, True], "bool")),
            ],
            **forward,
        ),
        OpInfo(
            "cumsum_dtypes",
            lambda m, x, *dt: x.cumsum(0, dtype=getattr(m, dt[0])) if dt else x.cumsum(0),
            [
                Sample(Typed([True, True, False, True], "bool")),
                Sample(Typed([200, 100, 50], "uint8")),
                Sample(Typed([1, 2, 3], "int32"), "int16"),
                Sample(Typed(np.ones(5000), "float16")),
            ],
            note="5,000 float16 ones reach 5000 (float16 alone stops at 2048)",
            **forward,
        ),
        OpInfo(
            "float16_reductions",
            lambda m, x: (x.sum(), x.mean(), x.norm(), x.var(), x.std(), x.norm(p=3)),
            [Sample(FLOAT16_ONES), Sample(Typed(np.linspace(-20, 30, 4001), "float16"))],
            note="float16 accumulates in float32 and rounds once, as in PyTorch",
            grad=False,
            float32_tol=(2e-3, 1e-3),
        ),
        OpInfo(
            "float16_softmax",
            lambda m, x, d: F(m).softmax(x, dim=d),
            [
                Sample(Typed(np.zeros(70000), "float16"), 0),
                Sample(Typed(np.linspace(-8, 8, 3000).reshape(3, 1000), "float16"), 1),
            ],
            **forward,
        ),
        # sorting: unsigned and extreme integers, bools, NaN and infinities
        OpInfo(
            "sort_dtypes",
            lambda m, x, **kw: x.sort(stable=True, **kw),
            [
                Sample(Typed([0, 255, 3, 255, 1], "uint8"), descending=True),
                Sample(Typed([I64_MIN, I64_MAX, 0, -1, I64_MIN], "int64"), descending=True),
                Sample(Typed([I64_MIN, I64_MAX, 0, -1, I64_MIN], "int64")),
                Sample(Typed([True, False, True, False], "bool"), descending=True),
                Sample(Typed([3.0, NAN, 1.0, NAN, 3.0, -INF, INF, -0.0, 0.0], "float32")),
                Sample(
                    Typed([3.0, NAN, 1.0, NAN, 3.0, -INF, INF, -0.0, 0.0], "float64"),
                    descending=True,
                ),
                Sample(Typed([[2, 1, 2], [0, 0, 9]], "int16"), dim=0, descending=True),
            ],
            **forward,
        ),
        OpInfo(
            "argsort_dtypes",
            lambda m, x, **kw: x.argsort(stable=True, **kw),
            [
                Sample(Typed([0, 255, 3, 255, 1], "uint8"), descending=True),
                Sample(Typed([1.0, NAN, -INF, NAN], "float32"), descending=True),
            ],
            **forward,
        ),
        OpInfo(
            "topk_dtypes",
            lambda m, x, k, **kw: x.topk(k, **kw).values,
            [
                Sample(Typed([0, 255, 3, 254, 1], "uint8"), 2),
                Sample(Typed([I64_MIN, I64_MAX, 0, -1], "int64"), 3),
                Sample(Typed([3.0, NAN, 1.0, -INF, INF], "float32"), 3),
                Sample(Typed([3.0, NAN, 1.0, -INF, INF], "float32"), 3, largest=False),
            ],
            note="values only: PyTorch does not fix the order of tied indices in topk",
            **forward,
        ),
        # dtypes kept or promoted
        OpInfo(
            "masked_fill_dtypes",
            lambda m, x, mask, v: x.masked_fill(mask, v),
            [
                Sample(Typed([1, 2, 3], "int64"), Mask([True, False, True]), 2.5),
                Sample(Typed([1, 2, 3], "int32"), Mask([True, False, False]), 7),
                Sample(Typed([1, 2, 3], "uint8"), Mask([True, False, False]), -1),
                Sample(Typed([True, False, False], "bool"), Mask([False, True, False]), 2.5),
                Sample(Typed([1.0, 2.0], "float16"), Mask([True, False]), 65504.0),
                Sample(Typed([1.0, 2.0], "float32"), Mask([True, False]), -INF),
            ],
            **forward,
        ),
        OpInfo(
            "masked_fill_overflow",
            lambda m, x, mask, v: x.masked_fill(mask, v),
            [
                Sample(Typed([1, 2, 3], "uint8"), Mask([True, False, True]), 300),
                Sample(Typed([1, 2, 3], "int8"), Mask([True, False, True]), -129),
                Sample(Typed([1.0, 2.0], "float16"), Mask([True, False]), 1e6),
                Sample(Typed([1, 2], "int32"), Mask([True, False]), NAN),
            ],
            raises=RuntimeError,
            **forward,
        ),
        OpInfo(
            "cat_promotes",
            lambda m, a, b: m.cat([a, b]),
            [
                Sample(Typed([1, 2], "int64"), Typed([], "float64")),
                Sample(Typed([[1, 2]], "int64"), Typed(np.zeros((0, 2)), "float16")),
                Sample(Typed([], "float64"), Typed([True], "bool")),
                Sample(Typed([1, 2], "uint8"), Typed([-1], "int8")),
                Sample(Typed([[1, 2]], "int32"), Typed([], "bool")),
            ],
            **forward,
        ),
        # creation: checked ranges and exact int64
        OpInfo(
            "arange_int64",
            lambda m, *a: m.arange(*a),
            [
                Sample(2**53, 2**53 + 4),
                Sample(2**62, 2**62 + 10, 3),
                Sample(I64_MIN, I64_MIN + 3),
                Sample(10, 0, -3),
                Sample(0, 1, 0.1),
            ],
            **forward,
        ),
        OpInfo(
            "tensor_from_python",
            lambda m, data, *dt: m.tensor(data, dtype=getattr(m, dt[0])) if dt else m.tensor(data),
            [
                Sample([-1, 255], "uint8"),
                Sample([-255], "uint8"),
                Sample([1.5, -1.5], "int32"),
                Sample([[np.float64(1.5)], [2.0]]),
                Sample([np.int32(1), 2.5]),
                Sample([np.float16(1.5)]),
                Sample([np.uint8(3), True]),
                Sample([1, np.float64(1.5)]),
                Sample([70000.0], "float16"),
            ],
            **forward,
        ),
        OpInfo(
            "tensor_out_of_range",
            lambda m, data, dt: m.tensor(data, dtype=getattr(m, dt)),
            [
                Sample([300], "uint8"),
                Sample([-256], "uint8"),
                Sample([128, 1], "int8"),
                Sample([-1.0], "uint8"),
                Sample([NAN], "int32"),
                Sample([2**31], "int32"),
                Sample([np.int64(300)], "uint8"),
            ],
            raises=RuntimeError,
            **forward,
        ),
    ]


ROWS = _rows()
