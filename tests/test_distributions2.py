"""The distributions built on the special functions (Gamma, Chi2, Beta, Dirichlet, Poisson,
Binomial, Geometric, Cauchy, HalfNormal, LogNormal, StudentT) against torch.distributions:
log densities, entropies, moments, CDFs and KL divergences on the same parameters; sample
shapes and sample moments over many draws; gradients of log_prob."""

import numpy as np
import pytest

import minigrad
from minigrad import distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions

RNG = np.random.default_rng(3)
POS = RNG.uniform(0.4, 3.0, size=(2, 3))
POS2 = RNG.uniform(0.4, 3.0, size=(2, 3))
LOC = RNG.normal(size=(2, 3))
PROB = RNG.uniform(0.1, 0.9, size=(2, 3))
CONC = RNG.uniform(0.5, 3.0, size=(2, 4))

FAMILIES = {
    "gamma": lambda d, m: d.Gamma(m.tensor(POS), m.tensor(POS2)),
    "chi2": lambda d, m: d.Chi2(m.tensor(POS * 2)),
    "beta": lambda d, m: d.Beta(m.tensor(POS), m.tensor(POS2)),
    "dirichlet": lambda d, m: d.Dirichlet(m.tensor(CONC)),
    "poisson": lambda d, m: d.Poisson(m.tensor(POS * 3)),
    "binomial": lambda d, m: d.Binomial(m.tensor(np.full((2, 3), 7.0)), m.tensor(PROB)),
    "binomial_logits": lambda d, m: d.Binomial(5, logits=m.tensor(LOC)),
    "geometric": lambda d, m: d.Geometric(m.tensor(PROB)),
    "geometric_logits": lambda d, m: d.Geometric(logits=m.tensor(LOC)),
    "cauchy": lambda d, m: d.Cauchy(m.tensor(LOC), m.tensor(POS)),
    "half_normal": lambda d, m: d.HalfNormal(m.tensor(POS)),
    "log_normal": lambda d, m: d.LogNormal(m.tensor(LOC), m.tensor(POS / 3)),
    "student_t": lambda d, m: d.StudentT(m.tensor(POS * 2), m.tensor(LOC), m.tensor(POS2)),
}
NO_ENTROPY = {"poisson", "binomial", "binomial_logits"}  # PyTorch: none, or by enumeration
CDF = {"cauchy", "half_normal"}


def _both(name):
    return FAMILIES[name](D, minigrad), FAMILIES[name](TD, torch)


def _close(a, b, rtol=1e-9):
    np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("name", FAMILIES)
def test_densities_entropies_and_moments_match_torch(name):
    ours, theirs = _both(name)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    value = theirs.sample((5,))
    _close(ours.log_prob(minigrad.tensor(value.numpy())), theirs.log_prob(value))
    if name not in NO_ENTROPY:
        _close(ours.entropy(), theirs.entropy())
    for moment in ("mean", "variance", "stddev"):
        _close(getattr(ours, moment), getattr(theirs, moment))
    if name in CDF:
        _close(ours.cdf(minigrad.tensor(value.numpy())), theirs.cdf(value))


@pytest.mark.parametrize("name", sorted(set(FAMILIES) - {"cauchy"}))
def test_sample_shapes_and_moments(name):
    ours, theirs = _both(name)
    minigrad.manual_seed(0)
    n = 20000
    draws = ours.sample((n,))
    assert tuple(draws.shape) == (n,) + tuple(theirs.batch_shape) + tuple(theirs.event_shape)
    assert tuple(ours.sample().shape) == tuple(theirs.sample().shape)
    assert not draws.requires_grad
    mean, want, sd = np.asarray(draws.mean(0)), theirs.mean.numpy(), theirs.stddev.numpy()
    finite = np.isfinite(sd)  # StudentT with df ≤ 2: no finite variance, skip those entries
    # within six standard errors of the mean
    assert np.all(np.abs(mean[finite] - want[finite]) < 6 * sd[finite] / np.sqrt(n)), (mean, want)
    var = np.asarray(draws.var(0))
    light = finite & (name not in ("student_t", "log_normal"))  # heavy tails: slow to converge
    np.testing.assert_allclose(var[light], theirs.variance.numpy()[light], rtol=0.1)


def test_cauchy_sample_median_and_rsample_gradient():
    loc = minigrad.tensor(LOC, requires_grad=True)
    dist = D.Cauchy(loc, minigrad.tensor(POS))
    minigrad.manual_seed(1)
    draws = dist.rsample((20000,))
    assert np.all(np.abs(np.median(np.asarray(draws.detach()), 0) - LOC) < 0.1 * POS)
    draws.sum().backward()
    np.testing.assert_allclose(np.asarray(loc.grad), 20000.0)


@pytest.mark.parametrize(
    ("p", "q"),
    [
        (lambda d, m: d.Gamma(m.tensor(POS), m.tensor(POS2)), lambda d, m: d.Gamma(m.tensor(POS2), m.tensor(POS))),
        (lambda d, m: d.Beta(m.tensor(POS), m.tensor(POS2)), lambda d, m: d.Beta(m.tensor(POS2), m.tensor(POS))),
        (lambda d, m: d.Dirichlet(m.tensor(CONC)), lambda d, m: d.Dirichlet(m.tensor(CONC[::-1].copy()))),
        (lambda d, m: d.Poisson(m.tensor(POS)), lambda d, m: d.Poisson(m.tensor(POS2))),
    ],
)  # fmt: skip
def test_kl_divergences_match_torch(p, q):
    ours = D.kl_divergence(p(D, minigrad), q(D, minigrad))
    _close(ours, TD.kl_divergence(p(TD, torch), q(TD, torch)))


def test_log_prob_and_entropy_gradients_match_torch():
    a, b = minigrad.tensor(POS, requires_grad=True), minigrad.tensor(POS2, requires_grad=True)
    ta, tb = torch.tensor(POS, requires_grad=True), torch.tensor(POS2, requires_grad=True)
    x = RNG.uniform(0.1, 0.9, size=(2, 3))
    D.Beta(a, b).log_prob(minigrad.tensor(x)).sum().backward()
    TD.Beta(ta, tb).log_prob(torch.tensor(x)).sum().backward()
    _close(a.grad, ta.grad)
    _close(b.grad, tb.grad)
    a.grad = ta.grad = None
    D.Gamma(a, b).entropy().sum().backward()
    TD.Gamma(ta, tb).entropy().sum().backward()
    _close(a.grad, ta.grad)


def test_poisson_has_no_rsample_and_validation_errors():  # (the gamma family has one now)
    with pytest.raises(NotImplementedError, match="rsample"):
        D.Poisson(minigrad.tensor([1.0])).rsample()
    with pytest.raises(ValueError, match="concentration"):
        D.Gamma(minigrad.tensor([-1.0]), minigrad.tensor([1.0]), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        D.Poisson(minigrad.tensor([1.0]), validate_args=True).log_prob(minigrad.tensor([0.5]))
