"""The rest of torch.special (Bessel and Airy functions, orthogonal polynomials, incomplete
gamma, Hurwitz zeta): accuracy against mpmath over wide ranges, against PyTorch where PyTorch
is accurate, their derivatives, and the names and errors of the API."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad import _special_bessel as B
from minigrad import _special_gamma as G
from minigrad import _special_math
from minigrad import _special_poly as P

RNG = np.random.default_rng(11)
F64 = minigrad.float64


def _mp(fn, *columns, dps=40):
    """``fn(mpmath, *values)`` at each point, to ``dps`` digits, as float64."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(dps):
        return np.array([float(fn(mpmath, *map(mpmath.mpf, map(float, v)))) for v in zip(*columns)])


def _error(got, want, floor):
    """The largest error relative to max(|want|, floor) (absolute near the zeros)."""
    return np.max(np.abs(got - want) / np.maximum(np.abs(want), floor))


_BESSEL_POINTS = np.concatenate([RNG.uniform(0, 3, 25), RNG.uniform(2, 26, 35),
                                 10 ** RNG.uniform(-6, 1.5, 15), 10 ** RNG.uniform(1.5, 3, 10)])  # fmt: skip
_BESSEL = [  # (kernel, mpmath reference, floor of the relative error)
    (B.bessel_j0, lambda mp, x: mp.besselj(0, x), 1e-2),
    (B.bessel_j1, lambda mp, x: mp.besselj(1, x), 1e-2),
    (B.bessel_y0, lambda mp, x: mp.bessely(0, x), 1e-2),
    (B.bessel_y1, lambda mp, x: mp.bessely(1, x), 1e-2),
    (B.modified_bessel_k0, lambda mp, x: mp.besselk(0, x), 1e-300),
    (B.modified_bessel_k1, lambda mp, x: mp.besselk(1, x), 1e-300),
    (B.scaled_modified_bessel_k0, lambda mp, x: mp.besselk(0, x) * mp.exp(x), 1e-300),
    (B.scaled_modified_bessel_k1, lambda mp, x: mp.besselk(1, x) * mp.exp(x), 1e-300),
    (B.spherical_bessel_j0, lambda mp, x: mp.sin(x) / x, 1e-2),
    (B.spherical_bessel_j1, lambda mp, x: mp.sin(x) / x**2 - mp.cos(x) / x, 1e-2),
]


@pytest.mark.parametrize("kernel,ref,floor", _BESSEL, ids=[k[0].__name__ for k in _BESSEL])
def test_bessel_kernels_match_mpmath(kernel, ref, floor):
    xs = _BESSEL_POINTS
    assert _error(kernel(np, xs), _mp(ref, xs, dps=30), floor) < 3e-14


def test_airy_and_its_derivative_match_mpmath():
    """Also on [-9, -1], where PyTorch's Ai is only about 1e-6 accurate."""
    xs = np.concatenate([RNG.uniform(-30, -9, 20), RNG.uniform(-9, -1, 30),
                         RNG.uniform(-1, 10, 30), RNG.uniform(10, 100, 10)])  # fmt: skip
    ai, aip = B.airy(np, xs)
    # relative to the envelope |x|^(∓1/4)/√π of the oscillations (absolute near the zeros)
    envelope = np.maximum(np.abs(xs), 1.0) ** -0.25 * 1e-2
    want = _mp(lambda mp, x: mp.airyai(x), xs)
    assert _error(ai, want, envelope) < 1e-12
    assert _error(aip, _mp(lambda mp, x: mp.airyai(x, 1), xs), 1e-2 * envelope**-1) < 1e-12


def test_bessel_values_close_to_pytorch_everywhere():
    """PyTorch's J0, J1, Y0, Y1 are only ~1e-7 accurate below 10: agree to that."""
    torch = pytest.importorskip("torch")
    xs = np.linspace(0.05, 60.0, 500)
    for name in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0",
                 "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
                 "spherical_bessel_j0", "modified_bessel_i0", "modified_bessel_i1"):  # fmt: skip
        ours = getattr(minigrad.special, name)(minigrad.tensor(xs, dtype=F64)).numpy()
        theirs = getattr(torch.special, name)(torch.tensor(xs)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=2e-6, err_msg=name)


def test_bessel_derivatives_match_mpmath():
    xs = np.array([0.3, 1.7, 4.2, 11.0, 27.5])
    x = minigrad.tensor(xs, dtype=F64, requires_grad=True)
    # the references in closed form (mpmath has no derivative of K)
    cases = {
        "bessel_j0": lambda mp, v: mp.besselj(0, v, derivative=1),
        "bessel_j1": lambda mp, v: mp.besselj(1, v, derivative=1),
        "bessel_y0": lambda mp, v: -mp.bessely(1, v),
        "bessel_y1": lambda mp, v: mp.bessely(0, v) - mp.bessely(1, v) / v,
        "modified_bessel_k0": lambda mp, v: -mp.besselk(1, v),
        "modified_bessel_k1": lambda mp, v: -mp.besselk(0, v) - mp.besselk(1, v) / v,
        "scaled_modified_bessel_k1": lambda mp, v: mp.exp(v) * (mp.besselk(1, v) * (1 - 1 / v) - mp.besselk(0, v)),
        "spherical_bessel_j0": lambda mp, v: mp.cos(v) / v - mp.sin(v) / v**2,
        "airy_ai": lambda mp, v: mp.airyai(v, 1),
    }  # fmt: skip
    for name, ref in cases.items():
        (grad,) = minigrad.autograd.grad(getattr(minigrad.special, name)(x).sum(), x)
        assert _error(grad.numpy(), _mp(ref, xs), 1e-2) < 1e-13, name
    # second derivatives: Airy's equation Ai'' = x·Ai, and j0'' from j1' = j0 - 2j1/x
    (g,) = minigrad.autograd.grad(minigrad.special.airy_ai(x).sum(), x, create_graph=True)
    (gg,) = minigrad.autograd.grad(g.sum(), x)
    assert _error(gg.numpy(), xs * B.airy_ai(np, xs), 1e-2) < 1e-13
    (g,) = minigrad.autograd.grad(
        minigrad.special.spherical_bessel_j0(x).sum(), x, create_graph=True
    )
    (gg,) = minigrad.autograd.grad(g.sum(), x)
    want = _mp(lambda mp, v: -mp.sin(v) / v - 2 * mp.cos(v) / v**2 + 2 * mp.sin(v) / v**3, xs)
    assert _error(gg.numpy(), want, 1e-2) < 1e-13


def test_bessel_edges_and_derivatives_at_zero():
    x = minigrad.tensor([0.0, -2.0, math.inf, math.nan], dtype=F64, requires_grad=True)
    S = minigrad.special
    assert S.bessel_j0(x).tolist()[:2] == [1.0, B.bessel_j0(np, np.array(2.0)).item()]
    assert S.bessel_j1(x).tolist()[1] == -B.bessel_j1(np, np.array(2.0)).item()  # odd
    y0 = S.bessel_y0(x).tolist()
    assert y0[0] == -math.inf and math.isnan(y0[1]) and math.isnan(y0[2])
    k0 = S.modified_bessel_k0(x).tolist()
    assert k0[0] == math.inf and math.isnan(k0[1]) and k0[2] == 0.0
    zero = minigrad.tensor([0.0], dtype=F64, requires_grad=True)
    for name, slope in [("bessel_j1", 0.5), ("bessel_j0", 0.0), ("spherical_bessel_j0", 0.0)]:
        (g,) = minigrad.autograd.grad(getattr(S, name)(zero).sum(), zero)
        assert g.tolist() == [slope], name


# -- polynomials ------------------------------------------------------------------------------


def test_polynomials_match_pytorch_on_a_grid():
    torch = pytest.importorskip("torch")
    # (not x = NaN: PyTorch's vectorised loop returns finite numbers there for some kinds)
    xs = np.array([-3, -1.5, -1, -0.99, -0.5, -0.1, 0, 0.1, 0.3, 0.5, 0.77, 0.99, 1, 1.2, 2.5])
    x, n = np.meshgrid(xs, np.arange(-2, 40, dtype=np.float64))
    for kind in P.FAMILIES:
        ours = getattr(minigrad.special, kind)(minigrad.tensor(x), minigrad.tensor(n)).numpy()
        theirs = getattr(torch.special, kind)(torch.tensor(x), torch.tensor(n)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-11, err_msg=kind)


def test_polynomial_derivatives_match_numpy_polynomials():
    from numpy.polynomial import chebyshev, hermite, hermite_e, laguerre, legendre

    xs = np.linspace(-1.5, 1.5, 13)
    families = {"chebyshev_polynomial_t": (chebyshev.chebval, chebyshev.chebder),
                "hermite_polynomial_h": (hermite.hermval, hermite.hermder),
                "hermite_polynomial_he": (hermite_e.hermeval, hermite_e.hermeder),
                "laguerre_polynomial_l": (laguerre.lagval, laguerre.lagder),
                "legendre_polynomial_p": (legendre.legval, legendre.legder)}  # fmt: skip
    for kind, (value, derivative) in families.items():
        for degree in (0, 1, 4, 9):
            basis = np.eye(degree + 1)[degree]  # the coefficients of the degree-th polynomial
            for order in (1, 2, 3):
                want = value(xs, derivative(basis, order))
                got = P.polynomial(np, kind, xs, np.full_like(xs, degree), order)
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9, err_msg=kind)


def test_polynomial_gradients_and_the_degree():
    x = minigrad.tensor([0.2, -0.7, 1.0], dtype=F64, requires_grad=True)
    n = minigrad.tensor([3.0, 5.0, 4.0], dtype=F64, requires_grad=True)
    S = minigrad.special
    t = S.chebyshev_polynomial_t(x, n)
    gx, gn = minigrad.autograd.grad(t.sum(), [x, n], allow_unused=True)
    u = S.chebyshev_polynomial_u(x.detach(), n.detach() - 1)
    np.testing.assert_allclose(gx.numpy(), (n.detach() * u).numpy(), rtol=1e-13)  # T_n' = nU_{n-1}
    assert gn is None  # the degree is not differentiable, as in PyTorch
    # the shifted family is the plain one at 2x - 1 (chain rule: a factor 2 per derivative)
    xs = x.detach()
    (g,) = minigrad.autograd.grad(S.shifted_chebyshev_polynomial_w(x, 6).sum(), x)
    x2 = (2 * xs - 1).requires_grad_()
    (g2,) = minigrad.autograd.grad(S.chebyshev_polynomial_w(x2, 6).sum(), x2)
    np.testing.assert_allclose(g.numpy(), 2 * g2.numpy(), rtol=1e-12)


def test_polynomial_arguments_and_dtypes():
    S = minigrad.special
    out = S.chebyshev_polynomial_u(0.3, minigrad.tensor([0, 1, 2, 3]))
    assert out.dtype is minigrad.float32
    np.testing.assert_allclose(out.numpy(), [1.0, 0.6, -0.64, -0.984], rtol=1e-6)
    assert S.hermite_polynomial_h(minigrad.tensor([1, 2]), 3).tolist() == [-4.0, 40.0]
    assert S.legendre_polynomial_p(minigrad.tensor([0.5], dtype=F64), 2.9).tolist() == [-0.125]
    assert S.laguerre_polynomial_l(minigrad.tensor([2.0]), -1).tolist() == [0.0]
    with pytest.raises(NotImplementedError, match="Half"):
        S.chebyshev_polynomial_t(minigrad.tensor([0.5], dtype=minigrad.float16), 2)
    # a huge degree inside (-1, 1) takes the closed form, with no loop to n (as PyTorch)
    big = S.chebyshev_polynomial_t(minigrad.tensor([0.3], dtype=F64), 10**7).item()
    assert abs(big - math.cos(1e7 * math.acos(0.3))) < 1e-8
    # zeta at negative q (integer s) sums down to positive q, as PyTorch
    z = S.zeta(minigrad.tensor([2.0, 3.0], dtype=F64), minigrad.tensor([-20.5, -30.25], dtype=F64))
    np.testing.assert_allclose(z.numpy(), [9.82199434464988, -62.0120247], rtol=1e-8)
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        S.chebyshev_polynomial_t(0.5, 2)  # as PyTorch: one of them must be a tensor


# -- incomplete gamma and zeta ----------------------------------------------------------------


def test_gammainc_and_gammaincc_match_mpmath():
    a = np.concatenate([10 ** RNG.uniform(-3, 2, 120), RNG.uniform(0.1, 20, 60)])
    x = np.concatenate([a[:120] * 10 ** RNG.uniform(-1.5, 1.5, 120), RNG.uniform(0.5, 3, 60)])
    p, q = G.gammainc(np, a, x, _special_math.lgamma, _special_math.erfc)
    want_p = _mp(lambda mp, s, t: mp.gammainc(s, 0, t, regularized=True), a, x)
    want_q = _mp(lambda mp, s, t: mp.gammainc(s, t, mp.inf, regularized=True), a, x)
    # the smaller of P, Q is the one computed directly; the other is its complement
    assert _error(p, want_p, 1e-2) < 3e-13 and _error(q, want_q, 1e-2) < 3e-13
    assert _error(np.minimum(p, q), np.minimum(want_p, want_q), 1e-300) < 3e-13


def test_gammainc_for_tiny_and_huge_a():
    # Q(a, x) = a·E1(x) + O(a²): no cancellation in 1 - P (PyTorch loses it below a = 1e-16)
    a, x = np.array([1e-106, 1e-20, 1e-17]), np.array([0.98, 0.5, 0.2])
    _, q = G.gammainc(np, a, x, _special_math.lgamma, _special_math.erfc)
    assert _error(q, _mp(lambda mp, s, t: s * mp.e1(t), a, x), 1e-300) < 1e-14
    # the uniform expansion above a = 2e5, and the series/fraction just below
    a = np.array([1.5e5, 1.5e5, 3e5, 3e5, 1e8, 1e8])
    x = a + np.array([-2.0, 0.5, -0.1, 3.0, -1.0, 1.0]) * np.sqrt(a)
    _, q = G.gammainc(np, a, x, _special_math.lgamma, _special_math.erfc)
    assert (
        _error(
            q,
            _mp(lambda mp, s, t: mp.gammainc(s, t, mp.inf, regularized=True), a, x, dps=30),
            1e-300,
        )
        < 1e-10
    )


def test_gammainc_gradient_and_refusal():
    torch = pytest.importorskip("torch")
    a, x = np.array([0.5, 2.0, 7.5]), np.array([0.3, 2.5, 9.0])
    xm = minigrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    for name in ("gammainc", "gammaincc"):
        (gm,) = minigrad.autograd.grad(
            getattr(minigrad.special, name)(minigrad.tensor(a), xm).sum(), xm
        )
        (gt,) = torch.autograd.grad(getattr(torch.special, name)(torch.tensor(a), xt).sum(), xt)
        np.testing.assert_allclose(gm.numpy(), gt.numpy(), rtol=1e-12)
    am = minigrad.tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="igamma: input"):
        minigrad.special.gammainc(am, minigrad.tensor(x)).sum().backward()
    # a scalar first argument, the top-level and method forms, and in place
    ref = minigrad.special.gammainc(minigrad.tensor([2.5] * 3, dtype=F64), xm.detach())
    assert ref.shape == (3,)
    with pytest.raises(TypeError, match="argument 'input' .* must be Tensor, not float"):
        minigrad.special.gammainc(2.5, xm.detach())  # as PyTorch: input is a Tensor
    assert (
        minigrad.igamma(minigrad.tensor(a), xm.detach()).tolist()
        == minigrad.tensor(a).igamma(xm.detach()).tolist()
    )
    t = minigrad.tensor(a)
    assert t.igamma_(xm.detach()) is t
    np.testing.assert_allclose(
        t.numpy(), torch.igamma(torch.tensor(a), xt.detach()).numpy(), rtol=1e-12
    )
    t = minigrad.tensor(a)
    assert t.igammac_(xm.detach()) is t
    np.testing.assert_allclose(
        t.numpy(), torch.igammac(torch.tensor(a), xt.detach()).numpy(), rtol=1e-12
    )
    with pytest.raises(NotImplementedError, match="Long"):
        minigrad.igamma(minigrad.tensor([1, 2]), minigrad.tensor([1, 2]))


def test_zeta_matches_mpmath_and_its_gradient():
    s = np.concatenate([RNG.uniform(1.01, 10, 100), RNG.uniform(10, 80, 30)])
    q = np.concatenate([10 ** RNG.uniform(-3, 3, 100), RNG.uniform(0.01, 5, 30)])
    want = _mp(lambda mp, a, b: mp.zeta(a, b), s, q)
    assert _error(G.zeta(np, s, q), want, 1e-300) < 1e-14
    qm = minigrad.tensor(q[:5], dtype=F64, requires_grad=True)
    (g,) = minigrad.autograd.grad(minigrad.special.zeta(minigrad.tensor(s[:5]), qm).sum(), qm)
    want = _mp(lambda mp, a, b: -a * mp.zeta(a + 1, b), s[:5], q[:5])
    assert _error(g.numpy(), want, 1e-300) < 1e-14
    # the limits where PyTorch gives NaN
    edges = G.zeta(np, np.array([3.0, 1e300, 1e300, 1e300]), np.array([np.inf, 2.0, 1.0, 0.5]))
    assert edges.tolist() == [0.0, 0.0, 1.0, math.inf]
    sm = minigrad.tensor([2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="zeta"):
        minigrad.special.zeta(sm, minigrad.tensor([1.0])).backward()


# -- the API ----------------------------------------------------------------------------------


def test_every_public_torch_special_function_exists():
    torch = pytest.importorskip("torch")
    public = {
        n
        for n in dir(torch.special)
        if not n.startswith("_") and callable(getattr(torch.special, n))
    }
    missing = sorted(n for n in public - {"Tensor"} if not hasattr(minigrad.special, n))
    assert not missing
    for name in ("i0_", "sinc_", "erfc_", "igamma", "igammac"):
        assert hasattr(minigrad, name), name
    for name in ("igamma", "igammac", "igamma_", "igammac_", "hardshrink", "prelu"):
        assert hasattr(minigrad.Tensor, name), name


def test_top_level_in_place_and_methods_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-1.5, -0.2, 0.3, 2.0])
    for name in ("i0_", "sinc_", "erfc_"):
        t = minigrad.tensor(x, dtype=F64)
        assert getattr(minigrad, name)(t) is t
        np.testing.assert_allclose(
            t.numpy(), getattr(torch, name)(torch.tensor(x)).numpy(), rtol=1e-12
        )
    got = minigrad.tensor(x).hardshrink(0.25).numpy()
    np.testing.assert_array_equal(got, torch.tensor(x).hardshrink(0.25).numpy())
    w = np.array([0.1, 0.2])
    xx = RNG.standard_normal((3, 2, 4))
    got = minigrad.tensor(xx).prelu(minigrad.tensor(w)).numpy()
    np.testing.assert_allclose(got, torch.tensor(xx).prelu(torch.tensor(w)).numpy(), rtol=1e-15)


def test_vmap_batches_the_new_ops_without_a_loop():
    import warnings

    x = minigrad.tensor(RNG.uniform(0.2, 3.0, (3, 4)), dtype=F64)
    S = minigrad.special
    functions = [S.bessel_j1, S.modified_bessel_k0, S.airy_ai, lambda t: S.hermite_polynomial_h(t, 4),
                 lambda t: S.gammaincc(t, 2 * t), lambda t: S.zeta(t + 1.5, t)]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the loop fallback warns
        for f in functions:
            np.testing.assert_array_equal(minigrad.func.vmap(f)(x).numpy(), f(x).numpy())
