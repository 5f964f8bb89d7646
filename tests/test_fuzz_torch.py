"""Differential fuzzing against PyTorch: elementwise ops, reductions, shape ops and type
promotion over bool, uint8, int32, int64, float16, float32 and float64 tensors of random
shapes (empty and 0-d included) and values (extremes, NaN and infinities included).

For every drawn case either both frameworks raise, or both return the same shapes, dtypes and
values. Hypothesis runs derandomized (the same cases on every run, so CI is reproducible) and
bounded: ``CASES`` counts them, about 900, in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad

torch = pytest.importorskip("torch")
# overflow to inf, NaN from inf - inf and the like are part of what is compared
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
EXAMPLES = {"binary": 250, "unary": 150, "reduce": 250, "shape": 150, "promote": 100}
CASES = sum(EXAMPLES.values())


def fuzz(kind: str):
    return settings(
        max_examples=EXAMPLES[kind],
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# -- values ----------------------------------------------------------------------------------


def _elements(dtype: str, extreme: bool):
    """Values of ``dtype``: small exact numbers, and with ``extreme`` the dtype's limits,
    zeros of both signs, infinities and NaN."""
    if dtype == "bool":
        return st.booleans()
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        small = st.integers(max(int(info.min), -8), 8)
        if not extreme:
            return small
        return st.one_of(small, st.sampled_from([int(info.min), int(info.max), 0, -1]))
    small = st.integers(-16, 16).map(lambda k: k / 2)  # exact in every float dtype
    if not extreme:
        return small
    big = float(np.finfo(dtype).max)
    specials = [0.0, -0.0, float("inf"), -float("inf"), float("nan"), big, -big, 1e-3, 300.0]
    return st.one_of(small, st.sampled_from(specials))


def _clip(dtype: str, values):
    """Cast Python values into ``dtype`` as a tensor library would hold them."""
    if dtype.startswith("uint"):
        return [v % 256 for v in values]
    return values


@st.composite
def arrays(draw, dtype=None, shape=None, extreme=True, min_dims=0):
    dtype = dtype or draw(st.sampled_from(DTYPES))
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=0, max_side=4))
    size = int(np.prod(shape))
    values = draw(st.lists(_elements(dtype, extreme), min_size=size, max_size=size))
    return np.array(_clip(dtype, values), dtype=dtype).reshape(shape)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together (size-1, empty and missing leading dims included)."""
    ndim = draw(st.integers(0, 3))
    full = draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim))
    shapes = []
    for _ in range(2):
        lead = draw(st.integers(0, ndim))
        shapes.append(tuple(1 if draw(st.booleans()) else n for n in full[lead:]))
    return shapes


# -- comparing -------------------------------------------------------------------------------


def _run(fn, module, args):
    try:
        return fn(module, *args), None
    except Exception as e:
        return None, e


def _convert(module, a):
    if isinstance(a, np.ndarray):
        return module.tensor(a) if module is minigrad else torch.from_numpy(a.copy())
    return a


def check(fn, *args):
    """``fn(module, *args)`` on both frameworks: both raise, or both agree."""
    expected, t_err = _run(fn, torch, [_convert(torch, a) for a in args])
    got, m_err = _run(fn, minigrad, [_convert(minigrad, a) for a in args])
    if t_err is not None:
        assert m_err is not None, f"PyTorch raises {t_err!r}; minigrad returned {got!r}"
        return
    if m_err is not None:
        raise AssertionError(f"minigrad raises {m_err!r}; PyTorch returns {expected!r}")
    _same(got, expected)


def _same(got, expected):
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            _same(g, e)
        return
    if not isinstance(expected, torch.Tensor):
        assert got == expected or (got != got and expected != expected)
        return
    assert isinstance(got, minigrad.Tensor), f"expected a tensor, got {type(got).__name__}"
    name = str(expected.dtype).split(".")[-1]
    assert got.dtype.name == name, f"dtype {got.dtype.name}, PyTorch {name}"
    assert got.shape == tuple(expected.shape), f"shape {got.shape}, PyTorch {expected.shape}"
    a, b = got.detach().numpy(), expected.detach().numpy()
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b)
        return
    rtol = {"float16": 2e-3, "float32": 2e-5, "float64": 1e-12}[name]
    atol = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}[name]
    np.testing.assert_allclose(a.astype("float64"), b.astype("float64"), rtol=rtol, atol=atol)


# -- elementwise -------------------------------------------------------------------------------

BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "floor_divide": lambda m, a, b: a // b,
    "remainder": lambda m, a, b: a % b,
    "div_trunc": lambda m, a, b: m.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda m, a, b: m.div(a, b, rounding_mode="floor"),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "eq": lambda m, a, b: a == b,
    "lt": lambda m, a, b: a < b,
    "ge": lambda m, a, b: a >= b,
    "and": lambda m, a, b: a & b,
    "or": lambda m, a, b: a | b,
    "where": lambda m, a, b: m.where(a > 0, a, b),
}
# PyTorch takes only tensors here; minigrad also takes a Python number (on purpose)
TENSOR_ONLY = {"maximum", "minimum"}
SCALARS = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0, 300, -1, 2**40, 2**63 - 1]),
    st.sampled_from([0.0, 1.5, -2.5, float("inf"), float("nan")]),
    st.booleans(),
)


@fuzz("binary")
@given(
    op=st.sampled_from(sorted(BINARY)),
    shapes=broadcast_pair(),
    dtypes=st.tuples(st.sampled_from(DTYPES), st.sampled_from(DTYPES)),
    scalar=st.one_of(st.none(), SCALARS),
    data=st.data(),
)
def test_binary_ops_match_pytorch(op, shapes, dtypes, scalar, data):
    """Arithmetic, comparisons, logic and where on tensor pairs or a tensor and a Python
    scalar: values (with wrap-around for integers), result dtype and broadcast shape."""
    if op in TENSOR_ONLY:
        scalar = None
    a = data.draw(arrays(dtypes[0], shapes[0]))
    b = scalar if scalar is not None else data.draw(arrays(dtypes[1], shapes[1]))
    check(BINARY[op], a, b)
    if scalar is not None and op != "where":
        check(BINARY[op], scalar, a)


UNARY = {
    "neg": lambda m, x: -x,
    "abs": lambda m, x: x.abs(),
    "sign": lambda m, x: x.sign(),
    "exp": lambda m, x: x.exp(),
    "log": lambda m, x: x.log(),
    "sqrt": lambda m, x: x.sqrt(),
    "sin": lambda m, x: x.sin(),
    "tanh": lambda m, x: x.tanh(),
    "sigmoid": lambda m, x: x.sigmoid(),
    "relu": lambda m, x: m.relu(x),
    "floor": lambda m, x: x.floor(),
    "ceil": lambda m, x: x.ceil(),
    "round": lambda m, x: x.round(),
    "trunc": lambda m, x: x.trunc(),
    "reciprocal": lambda m, x: x.reciprocal(),
    "square": lambda m, x: x.square(),
    "clamp": lambda m, x: x.clamp(-2, 3),
    "isnan": lambda m, x: x.isnan(),
    "isinf": lambda m, x: x.isinf(),
    "isfinite": lambda m, x: x.isfinite(),
    "logical_not": lambda m, x: x.logical_not(),
    "invert": lambda m, x: ~x,
    "to_int32": lambda m, x: x.to(m.int32) if not x.is_floating_point() else x,
    "to_float64": lambda m, x: x.to(m.float64),
    "to_float16": lambda m, x: x.to(m.float16),
    "to_bool": lambda m, x: x.to(m.bool),
}


@fuzz("unary")
@given(op=st.sampled_from(sorted(UNARY)), x=arrays())
def test_unary_ops_match_pytorch(op, x):
    if op == "sign" and x.dtype == bool:
        return  # sign of a bool tensor: issue 17 class 10, fixed on another branch
    check(UNARY[op], x)


# -- reductions --------------------------------------------------------------------------------

REDUCE = {
    "sum": lambda m, x, d, k: x.sum(d, keepdim=k) if d is not None else x.sum(),
    "sum_int32": lambda m, x, d, k: x.sum(dtype=m.int32),
    "sum_float32": lambda m, x, d, k: x.sum(dtype=m.float32),
    "mean": lambda m, x, d, k: x.mean(d, keepdim=k) if d is not None else x.mean(),
    "prod": lambda m, x, d, k: x.prod(d[0], keepdim=k) if d else x.prod(),
    "amax": lambda m, x, d, k: x.amax(d, keepdim=k) if d is not None else x.amax(),
    "amin": lambda m, x, d, k: x.amin(d, keepdim=k) if d is not None else x.amin(),
    "max_dim": lambda m, x, d, k: x.max(d[0], keepdim=k) if d else x.max(),
    "argmax": lambda m, x, d, k: x.argmax(d[0], keepdim=k) if d else x.argmax(),
    "argmin": lambda m, x, d, k: x.argmin(d[0], keepdim=k) if d else x.argmin(),
    "logsumexp": lambda m, x, d, k: x.logsumexp(d or 0, keepdim=k),
    "norm": lambda m, x, d, k: x.norm(dim=d, keepdim=k),
    "norm1": lambda m, x, d, k: x.norm(p=1, dim=d, keepdim=k),
    "var": lambda m, x, d, k: x.var(d, keepdim=k),
    "std": lambda m, x, d, k: x.std(d, keepdim=k, correction=0),
    "cumsum": lambda m, x, d, k: x.cumsum(d[0] if d else 0),
    "all": lambda m, x, d, k: x.all(d[0], keepdim=k) if d else x.all(),
    "any": lambda m, x, d, k: x.any(d[0], keepdim=k) if d else x.any(),
    "softmax": lambda m, x, d, k: x.softmax(d[0] if d else 0),
    "log_softmax": lambda m, x, d, k: x.log_softmax(d[0] if d else 0),
    "sort": lambda m, x, d, k: x.sort(dim=d[0] if d else -1, descending=k, stable=True),
    "argsort": lambda m, x, d, k: x.argsort(dim=d[0] if d else -1, descending=k, stable=True),
    "topk": lambda m, x, d, k: (
        x.topk(min(2, x.shape[d[0]] if x.ndim else 1), d[0] if d else -1, largest=k).values
    ),
}
# computed by PyTorch with float16 (not float32) accumulation on the CPU: NaN or inf where the
# exact result is finite, so the values cannot be compared (minigrad's are the float32 ones)
FLOAT16_DIFFERS = {"prod", "log_softmax"}
# reducing a non-empty dim of an empty tensor: issue 17 class 11, fixed on another branch
EMPTY_OWNED = {"amax", "amin", "max_dim", "argmax", "argmin"}
# PyTorch returns an empty integer tensor for softmax of an empty integer tensor (it checks
# the dtype only when there is something to compute); minigrad always refuses integers
SOFTMAX = {"softmax", "log_softmax"}


@fuzz("reduce")
@given(
    op=st.sampled_from(sorted(REDUCE)),
    x=arrays(extreme=False),
    keepdim=st.booleans(),
    data=st.data(),
    extreme=st.integers(0, 4),
)
def test_reductions_match_pytorch(op, x, keepdim, data, extreme):
    """Reductions over random dims and keepdim, for every dtype: result dtype (int64 sums,
    float16 kept), values (float16 accumulated in float32), empty dims, NaN/inf where drawn
    (one case in five), values scaled by 1024 (one in five: their float16 sums overflow in
    float16, not in float32) and rows 512 times longer (one in five: float16 partial sums
    would drop the small terms)."""
    if extreme == 1 and x.dtype.kind == "f":
        x = x * np.asarray(1024, dtype=x.dtype)  # still exact: multiples of 512
    if extreme == 2 and x.ndim:
        x = np.repeat(x, 512, axis=-1)  # long rows: float16 partial sums lose the small terms
    if extreme == 0 and x.dtype.kind == "f" and x.size:
        x = x.copy()
        x.reshape(-1)[data.draw(st.integers(0, x.size - 1))] = data.draw(
            st.sampled_from([float("nan"), float("inf"), -float("inf")])
        )
    if x.dtype == np.float16 and op in FLOAT16_DIFFERS:
        return
    if x.size == 0 and (op in EMPTY_OWNED or (op in SOFTMAX and x.dtype.kind != "f")):
        return
    ndim = x.ndim
    if ndim:
        dims = data.draw(
            st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda d: d % ndim, max_size=ndim)
        )
    else:
        dims = data.draw(st.sampled_from([[], [0], [-1]]))
    dim = tuple(dims) if dims else None
    check(REDUCE[op], x, dim if op not in ("cumsum",) else dims, keepdim)


# -- shape ops ---------------------------------------------------------------------------------


SHAPE = {
    "flatten": lambda m, x, r: x.flatten(),
    "reshape_neg1": lambda m, x, r: x.reshape(-1, *x.shape[2:]) if x.ndim >= 2 else x.reshape(-1),
    "flip": lambda m, x, r: x.flip(tuple(range(x.ndim))),
    "transpose": lambda m, x, r: x.transpose(0, -1) if x.ndim else x,
    "permute": lambda m, x, r: x.permute(tuple(reversed(range(x.ndim)))),
    "unsqueeze": lambda m, x, r: x.unsqueeze(r % (x.ndim + 1)),
    "squeeze": lambda m, x, r: x.squeeze(),
    "expand": lambda m, x, r: x.expand(2, *x.shape),
    "repeat": lambda m, x, r: x.repeat(*([2] * x.ndim)) if x.ndim else x.repeat(2),
    "tril": lambda m, x, r: x.tril(r - 1) if x.ndim >= 2 else x,
    "clone": lambda m, x, r: x.clone(),
    "split": lambda m, x, r: x.split(max(1, r), dim=-1) if x.ndim else x,
    "chunk": lambda m, x, r: x.chunk(max(1, r), dim=0) if x.ndim else x,
    "stack": lambda m, x, r: m.stack([x, x], dim=r % (x.ndim + 1)),
    "cat_self": lambda m, x, r: m.cat([x, x], dim=r % x.ndim) if x.ndim else x,
    "getitem": lambda m, x, r: x[..., :r] if x.ndim else x,
    "masked_fill": lambda m, x, r: x.masked_fill(x != x, r),
}


@fuzz("shape")
@given(op=st.sampled_from(sorted(SHAPE)), x=arrays(), r=st.integers(0, 3))
def test_shape_ops_match_pytorch(op, x, r):
    check(SHAPE[op], x, r)


# -- type promotion ----------------------------------------------------------------------------


@fuzz("promote")
@given(
    dtypes=st.lists(st.sampled_from(DTYPES), min_size=2, max_size=3),
    dims=st.lists(st.sampled_from([(), (0,), (2,), (1, 2)]), min_size=3, max_size=3),
    data=st.data(),
)
def test_promotion_in_cat_and_arithmetic_matches_pytorch(dtypes, dims, data):
    """cat (legacy empty (0,) tensors included in promotion), and chained arithmetic mixing
    0-d and dimensioned tensors, follow torch.result_type."""
    xs = [data.draw(arrays(d, s)) for d, s in zip(dtypes, dims)]
    check(lambda m, *t: m.cat(list(t)), *[x for x in xs if x.ndim])
    check(lambda m, *t: t[0] + t[1] * 2 - t[-1], *xs)
    check(lambda m, *t: m.where(t[0] != 0, t[1], t[-1]), *xs)
