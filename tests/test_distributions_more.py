"""The families added to complete torch.distributions (ContinuousBernoulli, FisherSnedecor,
GeneralizedPareto, InverseGamma, LKJCholesky, Multinomial, NegativeBinomial,
OneHotCategoricalStraightThrough, Wishart), the ExponentialFamily base and Gamma's rsample:
densities, moments, cdf/icdf and entropies against PyTorch in float64 with the gradients of
log_prob; sample moments; rsample gradients against the derivatives of the exact moments;
validation errors; expand; and PyTorch's submodule paths."""

import importlib
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import distributions as D

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(0)
_A = _RNG.normal(size=(2, 3, 3))
_COV = (_A @ _A.transpose(0, 2, 1) + np.eye(3)).tolist()
_TRIL = np.linalg.cholesky(np.array(_COV)).tolist()

# (family, positional params, keyword params, values for log_prob/cdf or None: torch draws)
CASES = [
    ("ContinuousBernoulli", (), dict(probs=[0.2, 0.4995, 0.8, 0.999]), [0.1, 0.5, 0.7, 0.95]),
    ("ContinuousBernoulli", (), dict(logits=[-2.0, 0.0005, 1.3, 4.0]), [0.1, 0.5, 0.7, 0.95]),
    ("FisherSnedecor", ([3.0, 5.5, 1.5], [2.5, 9.0, 6.0]), {}, [0.3, 1.2, 2.0]),
    ("InverseGamma", ([2.5, 0.7, 4.0], [1.5, 2.0, 0.3]), {}, [0.4, 1.0, 2.5]),
    ("NegativeBinomial", ([3.0, 0.5, 7.5],), dict(probs=[0.3, 0.6, 0.9]), [0.0, 4.0, 11.0]),
    ("NegativeBinomial", ([3.0, 0.5, 7.5],), dict(logits=[-0.3, 0.6, 2.0]), [0.0, 4.0, 11.0]),
    ("Multinomial", (6,), dict(probs=[[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]), [[1, 2, 3], [0, 6, 0]]),
    ("LKJCholesky", (3, [0.5, 2.0]), {}, None),
    ("Wishart", ([4.0, 5.5],), dict(covariance_matrix=_COV), None),
    ("Wishart", ([4.0, 5.5],), dict(precision_matrix=_COV), None),
    ("Wishart", ([4.0, 5.5],), dict(scale_tril=_TRIL), None),
]
IDS = [f"{c[0]}-{'-'.join(c[2]) or 'args'}" for c in CASES]
PROPERTIES = ("mean", "variance", "mode", "stddev")


def _make(lib, name, args, kwargs, dtype="float64"):
    dtype = getattr(lib, dtype)

    def param(v):
        return lib.tensor(v, dtype=dtype, requires_grad=True) if isinstance(v, list) else v

    args = [param(v) for v in args]
    kwargs = {k: param(v) for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Wishart's low-df warning
        dist = getattr(lib.distributions, name)(*args, **kwargs)
    tensors = [v for v in [*args, *kwargs.values()] if not isinstance(v, (int, float))]
    return dist, tensors


def _evaluate(fn, *args):
    """``fn(*args)`` as an array, or the name of the exception it raised."""
    try:
        return fn(*args).detach().numpy()
    except NotImplementedError:
        return "NotImplementedError"


def _values(theirs, values):
    if values is not None:
        return np.asarray(values, dtype=np.float64)
    torch.manual_seed(0)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch 2.13's Wishart warns of valid draws
        return theirs.sample((2,)).numpy()


@pytest.mark.parametrize("name,args,kwargs,values", CASES, ids=IDS)
def test_matches_torch(name, args, kwargs, values):
    mine, m_params = _make(minigrad, name, args, kwargs)
    theirs, t_params = _make(torch, name, args, kwargs)
    x = _values(theirs, values)
    lp_m, lp_t = mine.log_prob(minigrad.tensor(x)), theirs.log_prob(torch.tensor(x))
    np.testing.assert_allclose(lp_m.detach().numpy(), lp_t.detach().numpy(), rtol=1e-10)
    g_m = minigrad.autograd.grad(lp_m.sum(), m_params)
    g_t = torch.autograd.grad(lp_t.sum(), t_params)
    for a, b in zip(g_m, g_t):
        a, b = a.numpy(), b.numpy()
        if "scale_tril" in kwargs:  # the upper triangle does not enter the density
            a, b = np.tril(a), np.tril(b)
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    # PyTorch's Multinomial entropy evaluates log n! in float32
    rtol = 1e-6 if name == "Multinomial" else 1e-10
    probs = np.linspace(0.1, 0.9, x.shape[-1])
    checks = {prop: lambda d, lib, prop=prop: getattr(d, prop) for prop in PROPERTIES}
    checks["entropy"] = lambda d, lib: d.entropy()
    if name not in ("Multinomial", "Wishart", "LKJCholesky"):
        checks["cdf"] = lambda d, lib: d.cdf(lib.tensor(x))
        checks["icdf"] = lambda d, lib: d.icdf(lib.tensor(probs))
    for what, fn in checks.items():
        got, want = _evaluate(fn, mine, minigrad), _evaluate(fn, theirs, torch)
        if isinstance(want, str) or isinstance(got, str):
            assert got == want, (what, got, want)
            continue
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12, equal_nan=True, err_msg=what)


def test_generalized_pareto_matches_torch():
    """In float32: PyTorch 2.13's GeneralizedPareto fails in float64 (its isclose compares
    with a float32 zero). ξ = 0 takes the exponential's forms."""
    args = ([0.1, 0.0, -1.0], [2.0, 0.5, 1.5], [0.3, 0.0, -0.4])
    mine, m_params = _make(minigrad, "GeneralizedPareto", args, {}, "float32")
    theirs, t_params = _make(torch, "GeneralizedPareto", args, {}, "float32")
    x = [0.5, 1.0, 0.5]
    lp_m = mine.log_prob(minigrad.tensor(x))
    lp_t = theirs.log_prob(torch.tensor(x))
    np.testing.assert_allclose(lp_m.detach().numpy(), lp_t.detach().numpy(), rtol=1e-6)
    for a, b in zip(
        minigrad.autograd.grad(lp_m.sum(), m_params), torch.autograd.grad(lp_t.sum(), t_params)
    ):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    p = [0.2, 0.5, 0.9]
    pairs = [
        (mine.cdf(minigrad.tensor(x)), theirs.cdf(torch.tensor(x))),
        (mine.icdf(minigrad.tensor(p)), theirs.icdf(torch.tensor(p))),
        (mine.entropy(), theirs.entropy()),
        (mine.mean, theirs.mean),
        (mine.variance, theirs.variance),
        (mine.mode, theirs.mode),
    ]
    for a, b in pairs:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-7)


def test_exponential_family_hierarchy_and_log_normalizers_match_torch():
    for name in dir(torch.distributions):
        cls = getattr(torch.distributions, name)
        if isinstance(cls, type) and issubclass(cls, torch.distributions.ExponentialFamily):
            assert issubclass(getattr(D, name), D.ExponentialFamily), name
    families = [
        ("Normal", ([0.3, -1.0], [1.5, 0.4])),
        ("Gamma", ([2.5, 0.7], [1.5, 2.0])),
        ("Beta", ([1.5, 0.8], [2.0, 1.2])),
        ("Exponential", ([1.5, 0.4],)),
        ("Poisson", ([1.5, 0.4],)),
        ("Dirichlet", ([[1.5, 0.8, 3.0]],)),
        ("ContinuousBernoulli", ([0.2, 0.7],)),
        ("Bernoulli", ([0.2, 0.7],)),
        ("Wishart", ([4.0, 5.5], _COV)),
    ]
    for name, args in families:
        mine, _ = _make(minigrad, name, args, {})
        theirs, _ = _make(torch, name, args, {})
        got = mine._log_normalizer(*mine._natural_params).detach().numpy()
        want = theirs._log_normalizer(*theirs._natural_params).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10, err_msg=name)
        if name == "Poisson":  # E[log x!] has no closed form: no carrier measure
            with pytest.raises(NotImplementedError):
                D.ExponentialFamily.entropy(mine)
            continue
        # the Bregman entropy equals the closed form (Beta's and Dirichlet's carrier measure
        # E[-Σ log x] is given here; PyTorch leaves it out)
        np.testing.assert_allclose(
            D.ExponentialFamily.entropy(mine).detach().numpy(),
            mine.entropy().detach().numpy(),
            rtol=1e-9,
            err_msg=name,
        )


# -- sampling -------------------------------------------------------------------------------------
def _moments(samples, dims=0):
    s = samples.detach().numpy()
    return s.mean(dims), s.var(dims)


def _check_moments(dist, n, rtol_mean, rtol_var):
    mean, var = _moments(dist.sample((n,)))
    np.testing.assert_allclose(mean, dist.mean.detach().numpy(), rtol=rtol_mean)
    np.testing.assert_allclose(var, dist.variance.detach().numpy(), rtol=rtol_var)


def _t(values, requires_grad=False):
    return minigrad.tensor(values, dtype=minigrad.float64, requires_grad=requires_grad)


def test_sample_moments():
    minigrad.manual_seed(0)
    n = 40000
    _check_moments(D.ContinuousBernoulli(_t([0.1, 0.4999, 0.85])), n, 0.02, 0.04)
    _check_moments(D.FisherSnedecor(_t([5.0, 12.0]), _t([20.0, 30.0])), n, 0.02, 0.15)
    _check_moments(D.GeneralizedPareto(_t([0.0, 1.0]), _t([1.0, 2.0]), _t([0.1, -0.3])), n, 0.03,
                   0.1)  # fmt: skip
    _check_moments(D.InverseGamma(_t([6.0, 9.0]), _t([2.0, 5.0])), n, 0.02, 0.12)
    _check_moments(D.NegativeBinomial(_t([3.0, 0.7]), probs=_t([0.4, 0.8])), n, 0.03, 0.06)
    _check_moments(D.Gamma(_t([0.3, 4.0]), _t([1.0, 2.0])), n, 0.03, 0.08)
    multinomial = D.Multinomial(7, probs=_t([0.2, 0.3, 0.5]))
    draws = multinomial.sample((n // 4,))
    assert bool((draws.sum(-1) == 7).all())
    _check_moments(multinomial, n // 4, 0.03, 0.06)


def test_lkj_samples_have_the_marginal_correlation_law():
    """Each off-diagonal correlation of LKJ(η) in dimension D is 2·Beta(b, b) - 1 with
    b = η - 1 + D/2: mean 0, variance 1/(2η + D - 1)."""
    minigrad.manual_seed(1)
    eta = _t([0.5, 2.0])
    dist = D.LKJCholesky(3, eta)
    chol = dist.sample((6000,))
    assert bool(D.constraints.corr_cholesky.check(chol).all())
    corr = (chol @ chol.mT).numpy()
    off = corr[..., [1, 2, 2], [0, 0, 1]]  # (n, batch, 3)
    np.testing.assert_allclose(off.mean(0), 0, atol=0.03)
    expected = 1 / (2 * eta.numpy() + 2)
    np.testing.assert_allclose(off.var(0), np.repeat(expected[:, None], 3, 1), rtol=0.06)
    assert bool(dist.log_prob(chol[:5]).isfinite().all())


def test_wishart_samples_have_its_mean_and_variance():
    minigrad.manual_seed(2)
    cov = np.array(_COV[0])
    dist = D.Wishart(_t(5.0), covariance_matrix=_t(cov))
    draws = dist.sample((20000,))
    assert bool(D.constraints.positive_definite.check(draws[:50]).all())
    mean, var = _moments(draws)
    np.testing.assert_allclose(mean, dist.mean.numpy(), rtol=0.03, atol=0.03 * np.abs(cov).max())
    np.testing.assert_allclose(var, dist.variance.numpy(), rtol=0.1)


# -- reparameterized gradients --------------------------------------------------------------------
def test_gamma_rsample_gradient_is_the_exact_implicit_derivative():
    """dx/dα at a fixed quantile: equal to finite differences of SciPy's inverse incomplete
    gamma (PyTorch's approximation is within 1e-3 of it)."""
    from minigrad.distributions.gamma import standard_gamma_grad

    alpha = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 100.0, 3.0, 0.5])
    x = np.array([0.01, 0.2, 1.3, 0.5, 14.0, 90.0, 20.0, 3.0])
    mine = standard_gamma_grad(_t(alpha), _t(x)).numpy()
    theirs = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-3)
    special = pytest.importorskip("scipy.special")
    u, h = special.gammainc(alpha, x), 1e-6 * alpha
    fd = (special.gammaincinv(alpha + h, u) - special.gammaincinv(alpha - h, u)) / (2 * h)
    np.testing.assert_allclose(mine, fd, rtol=1e-7)


def test_gamma_cdf_is_the_regularized_incomplete_gamma():
    """Gamma and Chi2 ``cdf`` equal PyTorch's (``gammainc``), with its gradient in the value;
    the gradient in α (which PyTorch refuses) equals SciPy's by finite differences."""
    a = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 100.0, 500.0, 3.0])
    x = np.array([0.01, 0.2, 1.3, 0.5, 14.0, 90.0, 530.0, 20.0])
    conc, value = _t(a, requires_grad=True), _t(x, requires_grad=True)
    cdf = D.Gamma(conc, _t(2.0)).cdf(value / 2)
    t_value = torch.tensor(x / 2, requires_grad=True)
    t_cdf = torch.distributions.Gamma(torch.tensor(a), torch.tensor(2.0)).cdf(t_value)
    # (PyTorch's gammainc is 7e-10 off at α = 100, x = 90, where minigrad's agrees with SciPy)
    np.testing.assert_allclose(cdf.detach().numpy(), t_cdf.detach().numpy(), rtol=1e-9)
    g_conc, g_value = minigrad.autograd.grad(cdf.sum(), [conc, value])
    (t_grad,) = torch.autograd.grad(t_cdf.sum(), [t_value])
    np.testing.assert_allclose(2 * g_value.numpy(), t_grad.numpy(), rtol=1e-10)
    special = pytest.importorskip("scipy.special")
    np.testing.assert_allclose(cdf.detach().numpy(), special.gammainc(a, x), rtol=1e-13)
    h = 1e-6 * a
    fd = (special.gammainc(a + h, x) - special.gammainc(a - h, x)) / (2 * h)
    np.testing.assert_allclose(g_conc.numpy(), fd, rtol=1e-5, atol=1e-12)
    far = _t([2.0, 2.0], requires_grad=True)  # far in the upper tail: P = 1, ∂P/∂α = 0
    (g_far,) = minigrad.autograd.grad(D.Gamma(far, _t(1.0)).cdf(_t([1e3, 1e6])).sum(), [far])
    np.testing.assert_allclose(g_far.numpy(), 0.0, atol=1e-14)
    df = [1.5, 4.0]
    np.testing.assert_allclose(
        D.Chi2(_t(df)).cdf(_t([0.7, 5.0])).numpy(),
        torch.distributions.Chi2(torch.tensor(df, dtype=torch.float64))
        .cdf(torch.tensor([0.7, 5.0], dtype=torch.float64))
        .numpy(),
        rtol=1e-12,
    )


def _rsample_gradient(make, params, n, reduce=lambda x: x):
    """The gradient of the sample mean of ``reduce(rsample)`` (batch dims kept)."""
    ts = [_t(p, requires_grad=True) for p in params]
    draws = reduce(make(*ts).rsample((n,)))
    return [g.numpy() for g in minigrad.autograd.grad(draws.mean(0).sum(), ts)]


def test_rsample_gradients_estimate_the_derivatives_of_the_mean():
    minigrad.manual_seed(3)
    n = 40000
    a, b = np.array([0.4, 3.0]), np.array([1.5, 0.5])
    ga, gb = _rsample_gradient(D.Gamma, (a, b), n)
    np.testing.assert_allclose(ga, 1 / b, rtol=0.03)  # E x = α/β
    np.testing.assert_allclose(gb, -a / b**2, rtol=0.03)
    a, b = np.array([4.0, 6.0]), np.array([2.0, 0.5])
    ga, gb = _rsample_gradient(D.InverseGamma, (a, b), n)  # E x = β/(α - 1)
    np.testing.assert_allclose(ga, -b / (a - 1) ** 2, rtol=0.05)
    np.testing.assert_allclose(gb, 1 / (a - 1), rtol=0.03)
    (g,) = _rsample_gradient(lambda p: D.ContinuousBernoulli(p), (np.array([0.2, 0.7]),), n)
    p = _t([0.2, 0.7], requires_grad=True)
    (exact,) = minigrad.autograd.grad(D.ContinuousBernoulli(p).mean.sum(), [p])
    np.testing.assert_allclose(g, exact.numpy(), rtol=0.03)
    d1, d2 = np.array([5.0, 8.0]), np.array([12.0, 20.0])
    _, g2 = _rsample_gradient(D.FisherSnedecor, (d1, d2), n)  # E x = d₂/(d₂ - 2)
    np.testing.assert_allclose(g2, -2 / (d2 - 2) ** 2, rtol=0.15)
    loc, scale, xi = np.array([0.5]), np.array([2.0]), np.array([0.2])
    g_loc, g_scale, g_xi = _rsample_gradient(D.GeneralizedPareto, (loc, scale, xi), n)
    np.testing.assert_allclose([g_loc[0], g_scale[0]], [1.0, 1 / (1 - xi[0])], rtol=0.03)
    np.testing.assert_allclose(g_xi, scale / (1 - xi) ** 2, rtol=0.05)


def test_gamma_family_rsample_gradients_estimate_the_derivatives_of_the_mean():
    """Beta, Dirichlet and StudentT draw through Gamma's reparameterized draws. (15,000 draws:
    the estimates' errors stay under a sixth of the tolerances over seeds 1-6; the draws and the
    Dirichlet gradient series cost time linear in their number.)"""
    minigrad.manual_seed(6)
    n = 15000
    a, b = np.array([0.7, 3.0]), np.array([2.0, 1.5])
    ga, gb = _rsample_gradient(D.Beta, (a, b), n)  # E x = a/(a + b)
    np.testing.assert_allclose(ga, b / (a + b) ** 2, rtol=0.05)
    np.testing.assert_allclose(gb, -a / (a + b) ** 2, rtol=0.05)
    c = np.array([[0.7, 2.0, 1.3]])
    (g,) = _rsample_gradient(D.Dirichlet, (c,), n, lambda x: x[..., 0])  # E x₀ = c₀/Σc
    total = c.sum()
    np.testing.assert_allclose(g[0], [(total - c[0, 0]) / total**2, *(-c[0, 0] / total**2,) * 2],
                               rtol=0.05)  # fmt: skip
    df, loc, scale = np.array([5.0, 9.0]), np.array([0.0, 0.0]), np.array([2.0, 0.5])
    g_df, g_loc, g_scale = _rsample_gradient(D.StudentT, (df, loc, scale), n, lambda x: x.abs())
    # d E|x|/dσ = E|t| = 2√ν·Γ((ν+1)/2)/(√π·(ν-1)·Γ(ν/2)) for the standard t, at μ = 0
    from math import gamma, pi, sqrt

    mean_abs = np.array([2 * sqrt(v) * gamma((v + 1) / 2) / (sqrt(pi) * (v - 1) * gamma(v / 2))
                         for v in df])  # fmt: skip
    assert np.all(np.isfinite(g_df)) and np.all(g_df < 0)  # heavier tails for smaller ν
    np.testing.assert_allclose(g_scale, mean_abs, rtol=0.05, atol=0.05)
    assert D.Beta.has_rsample and D.Dirichlet.has_rsample and D.StudentT.has_rsample


def test_binomial_enumerate_support_as_torch():
    mine = D.Binomial(_t([4.0, 4.0]), _t([0.3, 0.6])).enumerate_support()
    theirs = torch.distributions.Binomial(torch.tensor([4.0, 4.0]), torch.tensor([0.3, 0.6]))
    np.testing.assert_array_equal(mine.numpy(), theirs.enumerate_support().numpy())
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        D.Binomial(_t([4.0, 3.0]), _t([0.3, 0.6])).enumerate_support()


def test_wishart_rsample_gradient_estimates_the_derivative_of_the_mean():
    """E[tr X] = ν·tr Σ: its derivative in ν is tr Σ (through the chi-squared draws)."""
    minigrad.manual_seed(4)
    cov = np.array(_COV[1])
    df = _t(4.5, requires_grad=True)
    draws = D.Wishart(df, covariance_matrix=_t(cov)).rsample((20000,))
    (g,) = minigrad.autograd.grad(draws.diagonal(dim1=-2, dim2=-1).sum(-1).mean(), [df])
    np.testing.assert_allclose(g.numpy(), np.trace(cov), rtol=0.03)


def test_straight_through_one_hot_passes_the_gradient_to_probs():
    minigrad.manual_seed(5)
    probs = _t([0.2, 0.3, 0.5], requires_grad=True)
    dist = D.OneHotCategoricalStraightThrough(probs)
    draw = dist.rsample((4,))
    assert bool(((draw == 0) | (draw == 1)).all()) and bool((draw.sum(-1) == 1).all())
    weights = _t([1.0, -2.0, 3.0])
    (g,) = minigrad.autograd.grad((draw * weights).sum(), [probs])
    # the categorical normalizes probs: d(p/Σp)/dp applied to the summed upstream gradient
    p = probs.detach().numpy()
    upstream = 4 * weights.numpy()
    np.testing.assert_allclose(g.numpy(), (upstream - (upstream * p).sum()) / p.sum(), rtol=1e-12)
    assert D.OneHotCategoricalStraightThrough.has_rsample and issubclass(
        D.OneHotCategoricalStraightThrough, D.OneHotCategorical
    )


# -- validation, expand, module paths -------------------------------------------------------------
def test_validation_errors_as_torch():
    for lib in (minigrad, torch):
        d = lib.distributions
        before = d.Distribution._validate_args  # on, as by default, whatever ran before
        d.Distribution.set_default_validate_args(True)
        try:
            _check_validation_errors(lib, d)
        finally:
            d.Distribution.set_default_validate_args(before)


def _check_validation_errors(lib, d):
    """The distributions' argument checks, with validation on (``lib``'s ``d``)."""

    def t(v, lib=lib):
        return lib.tensor(v, dtype=lib.float64)

    with pytest.raises(ValueError, match="probs"):
        d.ContinuousBernoulli(t([1.5]), validate_args=True)
    with pytest.raises(ValueError, match="probs"):
        d.NegativeBinomial(t([2.0]), probs=t([1.0]))
    with pytest.raises(ValueError, match="support"):
        d.NegativeBinomial(t([2.0]), probs=t([0.5])).log_prob(t([0.5]))
    with pytest.raises(NotImplementedError, match="inhomogeneous"):
        d.Multinomial(t(3.0), probs=t([0.5, 0.5]))
    with pytest.raises(ValueError, match="dim"):
        d.LKJCholesky(1)
    with pytest.raises(ValueError, match="df"):
        d.Wishart(t(1.5), covariance_matrix=lib.eye(3, dtype=lib.float64))
    with pytest.raises(ValueError, match="scale"):
        d.GeneralizedPareto(t([0.0]), t([-1.0]), t([0.1]))
    with pytest.raises(ValueError):  # (PyTorch's names its Gamma's concentration)
        d.FisherSnedecor(t([-1.0]), t([2.0]))
    with pytest.raises(ValueError, match="concentration"):
        d.InverseGamma(t([-1.0]), t([2.0]))
    with pytest.raises(ValueError):
        d.Multinomial(3, probs=t([0.5, 0.5])).log_prob(t([-1.0, 4.0]))


with pytest.raises(ValueError, match="Exactly one"):
    D.Wishart(_t(4.0), covariance_matrix=_t(_COV[0]), scale_tril=_t(_TRIL[0]))


@pytest.mark.parametrize("name,args,kwargs,values", CASES, ids=IDS)
def test_expand(name, args, kwargs, values):
    mine, _ = _make(minigrad, name, args, kwargs)
    big = mine.expand((4,) + tuple(mine.batch_shape))
    assert tuple(big.batch_shape) == (4,) + tuple(mine.batch_shape)
    assert type(big) is type(mine)
    draw = big.sample()
    assert tuple(draw.shape) == tuple(big.batch_shape) + tuple(big.event_shape)
    np.testing.assert_allclose(
        big.log_prob(draw).detach().numpy(), mine.log_prob(draw).detach().numpy(), rtol=1e-12
    )


def test_torch_submodule_paths():
    names = {
        "multinomial": ["Multinomial"],
        "negative_binomial": ["NegativeBinomial"],
        "pareto": ["Pareto"],
        "weibull": ["Weibull"],
        "half_cauchy": ["HalfCauchy"],
        "kumaraswamy": ["Kumaraswamy"],
        "relaxed_bernoulli": ["RelaxedBernoulli", "LogitRelaxedBernoulli"],
        "relaxed_categorical": ["RelaxedOneHotCategorical", "ExpRelaxedCategorical"],
        "continuous_bernoulli": ["ContinuousBernoulli"],
        "exp_family": ["ExponentialFamily"],
        "fishersnedecor": ["FisherSnedecor"],
        "generalized_pareto": ["GeneralizedPareto"],
        "inverse_gamma": ["InverseGamma"],
        "lkj_cholesky": ["LKJCholesky"],
        "wishart": ["Wishart"],
        "one_hot_categorical": ["OneHotCategoricalStraightThrough"],
    }
    for module, classes in names.items():
        theirs = importlib.import_module(f"torch.distributions.{module}")
        mine = importlib.import_module(f"minigrad.distributions.{module}")
        for cls in classes:
            assert hasattr(theirs, cls) and getattr(mine, cls) is getattr(D, cls), (module, cls)
    torch_public = {n for n in dir(torch.distributions) if not n.startswith("_")}
    assert torch_public <= set(dir(D)), sorted(torch_public - set(dir(D)))


def _on(device):
    def t(values):
        return minigrad.tensor(values, dtype=minigrad.float64, device=device)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            D.ContinuousBernoulli(t([0.2, 0.8])),
            D.FisherSnedecor(t([3.0, 5.0]), t([6.0, 9.0])),
            D.GeneralizedPareto(t([0.0, 1.0]), t([1.0, 2.0]), t([0.1, -0.3])),
            D.InverseGamma(t([2.5, 4.0]), t([1.5, 0.3])),
            D.NegativeBinomial(t([3.0, 0.5]), probs=t([0.3, 0.6])),
            D.Multinomial(4, probs=t([0.2, 0.3, 0.5])),
            D.LKJCholesky(3, t([0.5, 2.0])),
            D.Wishart(t([4.0, 5.5]), covariance_matrix=t(_COV)),
            D.Gamma(t([0.5, 3.0]), t([1.0, 2.0])),
            D.Beta(t([0.5, 3.0]), t([1.0, 2.0])),
        ]


def test_new_families_run_on_each_device(device):
    """Draws, densities and KL stay on the parameters' device and equal the CPU's values."""
    for dist, reference in zip(_on(device), _on("cpu")):
        draw = dist.sample((3,))
        assert draw.device == minigrad.device(device), type(dist).__name__
        log_prob = dist.log_prob(draw)
        assert log_prob.device == draw.device
        np.testing.assert_allclose(
            log_prob.cpu().numpy(), reference.log_prob(draw.cpu()).numpy(), rtol=1e-10
        )
        if not isinstance(dist, (D.LKJCholesky, D.FisherSnedecor, D.NegativeBinomial)):
            np.testing.assert_allclose(
                dist.entropy().detach().cpu().numpy(),
                reference.entropy().detach().numpy(),
                rtol=1e-10,
            )
    gamma, beta = _on(device)[-2:]
    assert D.kl_divergence(beta, gamma).device == minigrad.device(device)


def test_constraints_added_for_these_families_match_torch():
    c, tc = D.constraints, torch.distributions.constraints
    batch = np.array(
        [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 3.0], [0.0, 1.0]], [[1.0, 0.0], [2.0, -1.0]]]
    )
    for name in ("lower_triangular", "square", "symmetric", "positive_semidefinite"):
        got = getattr(c, name).check(minigrad.tensor(batch)).tolist()
        assert got == getattr(tc, name).check(torch.tensor(batch)).tolist(), name
    values = [-1.0, 0.0, 1.5, 3.0]
    for name in ("nonnegative_integer", "positive_integer"):
        mine, theirs = getattr(c, name), getattr(tc, name)
        assert (
            mine.check(minigrad.tensor(values)).tolist()
            == theirs.check(torch.tensor(values)).tolist()
        )
        assert repr(mine) == repr(theirs) and mine.is_discrete
    counts = [[1.0, 2.0], [3.0, 1.0], [-1.0, 2.0]]
    assert (
        c.multinomial(3).check(minigrad.tensor(counts)).tolist()
        == tc.multinomial(3).check(torch.tensor(counts)).tolist()
    )

    class WithSupport:
        @c.dependent_property(is_discrete=True, event_dim=1)
        def support(self):
            return c.integer_interval(0, 3)

    assert isinstance(WithSupport().support, type(c.integer_interval(0, 3)))
    assert c.is_dependent(WithSupport.support) and WithSupport.support.event_dim == 1
    assert c.is_dependent(c.dependent) and not c.is_dependent(c.real)


def test_every_family_has_expand():
    """The families that lacked ``expand``: a view of the parameters that scores as before."""
    cases = [
        D.Binomial(_t([4.0, 5.0]), _t([0.3, 0.6])),
        D.Geometric(_t([0.3, 0.6])),
        D.HalfNormal(_t([1.0, 2.0])),
        D.StudentT(_t([3.0, 5.0]), _t([0.0, 1.0]), _t([1.0, 2.0])),
        D.Gamma(_t([3.0, 5.0]), _t([1.0, 2.0])),
        D.Chi2(_t([3.0, 5.0])),
        D.Beta(_t([3.0, 5.0]), _t([1.0, 2.0])),
        D.Dirichlet(_t([[3.0, 5.0, 1.0]])),
        D.Poisson(_t([3.0, 5.0])),
        D.Bernoulli(_t([0.3, 0.6])),
        D.Categorical(_t([[0.3, 0.7], [0.5, 0.5]])),
        D.OneHotCategorical(_t([[0.3, 0.7], [0.5, 0.5]])),
        D.LogitRelaxedBernoulli(_t([0.5, 1.0]), _t([0.3, 0.6])),
        D.RelaxedOneHotCategorical(_t(0.5), _t([[0.3, 0.7], [0.5, 0.5]])),
        D.MultivariateNormal(_t([[0.0, 1.0], [1.0, 2.0]]), _t([[2.0, 0.5], [0.5, 1.0]])),
        D.MixtureSameFamily(
            D.Categorical(_t([0.3, 0.7])), D.Normal(_t([0.0, 1.0]), _t([1.0, 2.0]))
        ),
    ]
    for dist in cases:
        big = dist.expand((3,) + tuple(dist.batch_shape))
        assert type(big) is type(dist)
        draw = big.sample()
        assert tuple(draw.shape) == (3,) + tuple(dist.batch_shape) + tuple(dist.event_shape)
        np.testing.assert_allclose(
            big.log_prob(draw).numpy(), dist.log_prob(draw).numpy(), rtol=1e-12
        )
    public = [getattr(D, n) for n in dir(D) if not n.startswith("_")]
    lacking = [
        c.__name__
        for c in public
        if isinstance(c, type)
        and issubclass(c, D.Distribution)
        and c not in (D.Distribution, D.ExponentialFamily)
        and next(k for k in c.__mro__ if "expand" in vars(k)) is D.Distribution
    ]
    assert not lacking, lacking


def test_gamma_gradients_are_exact_once_and_refuse_a_second_derivative():
    """The implicit rsample gradient and the cdf's gradients are computed without a graph:
    a second derivative through them raises (as PyTorch refuses it), never treats them as
    constants."""
    a = minigrad.tensor([2.0, 3.5], dtype=minigrad.float64, requires_grad=True)
    x = minigrad.tensor([1.5, 4.0], dtype=minigrad.float64, requires_grad=True)
    gamma = minigrad.distributions.Gamma(a, 1.0)
    for value in (gamma.cdf(x) * a, gamma.rsample((3,)) * a):
        (g,) = minigrad.autograd.grad(value.sum(), a, create_graph=True)
        with pytest.raises(RuntimeError, match="once_differentiable"):
            minigrad.autograd.grad(g.sum(), a)


def test_relaxed_bernoulli_keeps_its_temperature_as_given_as_torch():
    for lib in (minigrad, torch):
        d = lib.distributions.RelaxedBernoulli(lib.tensor(0.5), probs=lib.tensor([0.3, 0.6]))
        assert tuple(d.temperature.shape) == () and tuple(d.batch_shape) == (2,)
        assert tuple(d.expand((4, 2)).temperature.shape) == ()


def test_star_import_gives_every_name_torch_distributions_exports():
    assert set(torch.distributions.__all__) <= set(minigrad.distributions.__all__)
    assert all(hasattr(minigrad.distributions, n) for n in minigrad.distributions.__all__)
