"""Accuracy of the special functions over wide ranges: against mpmath (high precision) and
PyTorch (float64, where PyTorch itself is accurate), plus NaN/inf behaviour and minigrad.special."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad import _special_math as S

RNG = np.random.default_rng(7)


def _relative_error(got, ref):
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300))


def _points():
    """Large, small, negative non-integer arguments (off the poles)."""
    xs = np.concatenate([RNG.uniform(-30, 30, 200), RNG.uniform(0, 3, 200),
                         10 ** RNG.uniform(-10, 3, 100), -RNG.uniform(0, 5, 100)])  # fmt: skip
    return xs[np.abs(xs - np.round(xs)) > 1e-3]


def _mp(fn, xs, dps=50):
    """``fn`` at each point with ``dps`` decimal digits (a number, or one per point)."""
    mpmath = pytest.importorskip("mpmath")
    out = []
    for x in xs:
        with mpmath.workdps(dps(x) if callable(dps) else dps):
            out.append(float(fn(mpmath, mpmath.mpf(float(x)))))
    return np.array(out)


def _digits_of(p):
    """Enough digits for 2p - 1 to keep p's own 50 (p down to 1e-300)."""
    return 50 + math.ceil(-math.log10(p))


@pytest.mark.parametrize(
    ("name", "kernel", "ref", "tol"),
    [
        ("lgamma", S.lgamma, lambda mp, x: mp.log(abs(mp.gamma(x))), 1e-12),
        ("digamma", S.digamma, lambda mp, x: mp.digamma(x), 1e-12),
        ("trigamma", lambda x: S.polygamma(1, x), lambda mp, x: mp.polygamma(1, x), 1e-13),
        ("polygamma3", lambda x: S.polygamma(3, x), lambda mp, x: mp.polygamma(3, x), 1e-13),
        ("i0", S.i0, lambda mp, x: mp.besseli(0, x), 1e-14),
        ("i1", S.i1, lambda mp, x: mp.besseli(1, x), 1e-14),
        ("i0e", S.i0e, lambda mp, x: mp.besseli(0, x) * mp.exp(-abs(x)), 1e-14),
        ("i1e", S.i1e, lambda mp, x: mp.besseli(1, x) * mp.exp(-abs(x)), 1e-14),
    ],
)
def test_kernels_match_mpmath_over_wide_ranges(name, kernel, ref, tol):
    xs = _points()
    if name in ("i0", "i1"):
        xs = xs[np.abs(xs) < 700]  # beyond, both are inf
    got, want = kernel(xs), _mp(ref, xs)
    # near a zero of the function only the absolute error is small (as in PyTorch's kernels)
    err = np.abs(got - want) / np.maximum(np.abs(want), 1e-2)
    assert err.max() < tol, (name, xs[np.argmax(err)], err.max())


def test_inverse_and_tail_functions_match_mpmath():
    mpmath = pytest.importorskip("mpmath")
    ys = np.concatenate([RNG.uniform(-1, 1, 200), 1 - 10 ** RNG.uniform(-16, -1, 50),
                         10 ** RNG.uniform(-300, -1, 50)])  # fmt: skip
    # 50 digits give the float64 reference exactly (y and 1 - y are exact at that precision)
    assert _relative_error(S.erfinv(ys), _mp(lambda mp, y: mp.erfinv(y), ys)) < 1e-14
    ps = np.concatenate([RNG.uniform(0, 1, 200), 10 ** RNG.uniform(-300, -1, 50),
                         1 - 10 ** RNG.uniform(-16, -1, 50)])  # fmt: skip
    want = _mp(lambda mp, p: mp.sqrt(2) * mp.erfinv(2 * p - 1), ps, _digits_of)
    assert _relative_error(S.ndtri(ps), want) < 1e-14
    xs = np.concatenate([RNG.uniform(-25, 40, 200), 10 ** RNG.uniform(1, 10, 30)])
    with mpmath.workdps(50):
        erfcx = [float(mpmath.exp(mpmath.mpf(x) ** 2) * mpmath.erfc(x)) for x in xs]
    assert _relative_error(S.erfcx(xs), erfcx) < 1e-13
    xs = RNG.uniform(-38, 5, 200)
    assert _relative_error(S.log_ndtr(xs), _mp(lambda mp, x: mp.log(mp.ncdf(x)), xs)) < 1e-13
    xs = xs[xs > -37]  # below, Φ(x) < 1e-300 is subnormal
    assert _relative_error(S.ndtr(xs), _mp(lambda mp, x: mp.ncdf(x), xs)) < 1e-12


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv", "erfc", "i0", "sinc"])
def test_matches_torch_in_float64_on_many_points(name):
    torch = pytest.importorskip("torch")
    xs = np.clip(_points(), -0.999, 0.999) if name == "erfinv" else _points()
    if name == "i0":
        xs = xs[np.abs(xs) < 700]
    got = getattr(minigrad, name)(minigrad.tensor(xs, dtype=minigrad.float64)).numpy()
    want = getattr(torch, name)(torch.tensor(xs, dtype=torch.float64)).numpy()
    err = np.abs(got - want) / np.maximum(np.abs(want), 1e-2)
    assert err.max() < 1e-12, (xs[np.argmax(err)], err.max())


def test_polygamma_at_infinity_and_poles():
    x = minigrad.tensor([math.inf, 1e300, 0.0, -3.0, math.nan], dtype=minigrad.float64)
    assert minigrad.polygamma(2, x).tolist()[:4] == [0.0, -0.0, -math.inf, -math.inf]
    assert minigrad.polygamma(3, x).tolist()[2:4] == [math.inf, math.inf]
    assert math.isnan(minigrad.polygamma(1, x).tolist()[4])
    with pytest.raises(RuntimeError, match="negative n"):
        minigrad.polygamma(-1, x)


def test_special_module_names_and_methods():
    torch = pytest.importorskip("torch")
    x = np.linspace(0.1, 3.0, 7)
    mx, tx = minigrad.tensor(x, dtype=minigrad.float64), torch.tensor(x, dtype=torch.float64)
    for name in ["expit", "gammaln", "psi", "digamma", "erf", "erfc", "erfcx", "ndtr", "log_ndtr",
                 "i0", "i0e", "i1", "i1e", "sinc", "entr", "log1p", "expm1", "exp2"]:  # fmt: skip
        got = getattr(minigrad.special, name)(mx).numpy()
        np.testing.assert_allclose(got, getattr(torch.special, name)(tx).numpy(), rtol=1e-12)
    np.testing.assert_allclose(minigrad.special.logit(mx / 4).numpy(),
                               torch.special.logit(tx / 4).numpy(), rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(
        minigrad.special.multigammaln(mx + 2, 3).numpy(),
        torch.special.multigammaln(tx + 2, 3).numpy(),
        rtol=1e-12,
    )
    for name in ["softmax", "log_softmax", "logsumexp"]:
        np.testing.assert_allclose(
            getattr(minigrad.special, name)(mx, 0).numpy(),
            getattr(torch.special, name)(tx, 0).numpy(),
            rtol=1e-12,
        )
    np.testing.assert_allclose(minigrad.special.round(mx, decimals=1).numpy(),
                               torch.special.round(tx, decimals=1).numpy())  # fmt: skip
    y = mx.clone()
    y.lgamma_()
    np.testing.assert_allclose(y.numpy(), torch.lgamma(tx).numpy(), rtol=1e-12)
    np.testing.assert_allclose(mx.polygamma(2).numpy(), tx.polygamma(2).numpy(), rtol=1e-12)
    y = mx.clone()
    y.polygamma_(1)
    np.testing.assert_allclose(y.numpy(), tx.polygamma(1).numpy(), rtol=1e-8)  # torch: ~1e-9


def test_float32_and_integer_inputs():
    x = minigrad.tensor([1, 2, 5])
    assert minigrad.lgamma(x).dtype is minigrad.float32
    np.testing.assert_allclose(minigrad.lgamma(x).numpy(), [0.0, 0.0, math.log(24)], atol=1e-6)


def test_mvlgamma_p_must_be_positive():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        torch.mvlgamma(torch.tensor([1.5]), 0)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        minigrad.mvlgamma(minigrad.tensor([1.5]), 0)


def test_every_backend_special_function_exists_in_cupyx():
    special = pytest.importorskip("cupyx.scipy.special")
    missing = [n for n in minigrad.backend.SPECIAL_FUNCTIONS if not hasattr(special, n)]
    assert not missing, missing
