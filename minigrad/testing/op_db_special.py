"""Rows of the op table for the special functions (minigrad.ops.special, minigrad.special):
lgamma, digamma, polygamma, erfc, erfcx, erfinv, ndtr, ndtri, log_ndtr, the modified Bessel
functions, sinc, entr, xlog1py and mvlgamma. Inputs stay off the poles and kinks."""

from __future__ import annotations

from .samples import OpInfo, Sample, T, V

NAN, INF = float("nan"), float("inf")
POLES = (-3.0, -2.0, -1.0, 0.0)  # of lgamma, digamma, polygamma


def _special(name):
    return lambda m, *args: getattr(m.special, name)(*args)


def _rows():
    wide = T((3, 4), -3.5, 6.0, away=POLES)
    rows = [
        OpInfo("lgamma", lambda m, x: m.lgamma(x), [Sample(wide), Sample(T((5,), 0.05, 30.0))]),
        OpInfo("digamma", lambda m, x: m.digamma(x), [Sample(wide)]),
        OpInfo("polygamma_1", lambda m, x: m.polygamma(1, x), [Sample(T((3, 4), 0.3, 5.0))]),
        OpInfo("polygamma_3", lambda m, x: m.polygamma(3, x), [Sample(T((3, 4), 0.3, 5.0))]),
        OpInfo("erfc", lambda m, x: m.erfc(x), [Sample(T((3, 4), -3.0, 3.0))]),
        OpInfo("erfcx", _special("erfcx"), [Sample(T((3, 4), -2.0, 5.0))]),
        OpInfo("erfinv", lambda m, x: m.erfinv(x), [Sample(T((3, 4), -0.9, 0.9))]),
        OpInfo("ndtr", _special("ndtr"), [Sample(T((3, 4), -4.0, 4.0))]),
        OpInfo("ndtri", _special("ndtri"), [Sample(T((3, 4), 0.05, 0.95))]),
        OpInfo("log_ndtr", _special("log_ndtr"), [Sample(T((3, 4), -6.0, 4.0))]),
        OpInfo("i0", lambda m, x: m.i0(x), [Sample(T((3, 4), -4.0, 4.0))]),
        OpInfo("i0e", _special("i0e"), [Sample(T((3, 4), -4.0, 4.0, away=(0.0,)))]),
        OpInfo("i1", _special("i1"), [Sample(T((3, 4), -4.0, 4.0))]),
        OpInfo("i1e", _special("i1e"), [Sample(T((3, 4), -4.0, 4.0, away=(0.0,)))]),
        OpInfo("sinc", lambda m, x: m.sinc(x), [Sample(T((3, 4), -2.5, 2.5, away=(0.0,)))]),
        OpInfo("entr", _special("entr"), [Sample(T((3, 4), 0.1, 3.0))]),
        OpInfo(
            "xlog1py",
            _special("xlog1py"),
            [Sample(T((3, 4)), T((3, 4), -0.8, 2.0)), Sample(V([0.0, 1.0, 2.0], grad=False), V([0.5, 2.0, 3.0]))],
        ),
        OpInfo("mvlgamma", lambda m, x: m.mvlgamma(x, 3), [Sample(T((3, 4), 1.2, 5.0))]),
        OpInfo("special_gammaln", _special("gammaln"), [Sample(T((4,), 0.2, 4.0))]),
        OpInfo("special_multigammaln", _special("multigammaln"), [Sample(T((4,), 1.7, 4.0), 4)]),
    ]  # fmt: skip
    return rows


def _forward_rows():
    """Edge values compared with PyTorch on the forward only (NaN, ±inf, poles, tails)."""
    edges = V([NAN, INF, -INF, 0.0, -0.0, -1.0, -2.5, 1e-300, 1e300, 2.0, 1.0, -1e10 - 0.5])
    # (not -1e10 - 0.5: PyTorch's polygamma takes over two minutes there)
    poly = V([NAN, -INF, 0.0, -1.0, -2.5, 1e-300, 2.0, 1.0, -1e4 - 0.5])
    unit = V([NAN, -1.0, 1.0, 0.0, 1e-300, -0.999999999, 0.5, 1.5, -2.0])
    prob = V([NAN, 0.0, 1.0, 1e-300, 1e-20, 0.3, 0.999999, 1.5, -0.5])
    tails = V([NAN, INF, -INF, -40.0, -10.0, -1.0, 0.0, 5.0, 30.0])
    bessel = V([NAN, INF, -INF, 0.0, -1e-8, 15.0, 25.0, -300.0, 700.0, 800.0])
    return [
        OpInfo("lgamma_edges", lambda m, x: m.lgamma(x), [Sample(edges)], grad=False),
        OpInfo("digamma_edges", lambda m, x: m.digamma(x), [Sample(edges)], grad=False),
        # PyTorch's polygamma(2, ·) is NaN at inf and 1e300 (the true value is 0 and -1e-600);
        # tests/test_special.py checks ours there against mpmath
        OpInfo("polygamma_edges", lambda m, x: m.polygamma(2, x), [Sample(poly)], grad=False),
        OpInfo("erfinv_edges", lambda m, x: m.erfinv(x), [Sample(unit)], grad=False),
        OpInfo("ndtri_edges", _special("ndtri"), [Sample(prob)], grad=False),
        OpInfo("log_ndtr_edges", _special("log_ndtr"), [Sample(tails)], grad=False),
        OpInfo("erfc_edges", lambda m, x: m.erfc(x), [Sample(tails)], grad=False),
        OpInfo("erfcx_edges", _special("erfcx"), [Sample(tails)], grad=False),
        OpInfo("i0_edges", _special("i0"), [Sample(bessel)], grad=False),
        OpInfo("i0e_edges", _special("i0e"), [Sample(bessel)], grad=False),
        OpInfo("i1_edges", _special("i1"), [Sample(bessel)], grad=False),
        OpInfo("i1e_edges", _special("i1e"), [Sample(bessel)], grad=False),
        OpInfo("sinc_edges", lambda m, x: m.sinc(x), [Sample(V([NAN, INF, 0.0, 1.0, -3.0, 0.5]))], grad=False),
        OpInfo("entr_edges", _special("entr"), [Sample(V([NAN, INF, -1.0, 0.0, 0.5]))], grad=False),
    ]  # fmt: skip


ROWS = _rows()
FORWARD_ONLY = _forward_rows()
