"""Pareto, Weibull, HalfCauchy and Kumaraswamy (families on TransformedDistribution) against
torch.distributions: log_prob and its gradients, cdf/icdf, moments, entropy, samples in the
support, differentiable rsample, expand."""

import numpy as np
import pytest

import minigrad
from minigrad.autograd import gradcheck

FAMILIES = [
    ("Pareto", ([1.5, 0.7], [2.5, 3.5]), [2.0, 1.1]),
    ("Weibull", ([1.5, 0.7], [0.8, 2.5]), [0.4, 1.3]),
    ("HalfCauchy", ([1.5, 0.7],), [0.4, 2.3]),
    ("Kumaraswamy", ([1.5, 0.7], [2.5, 0.9]), [0.3, 0.8]),
]
IDS = [f[0] for f in FAMILIES]


def _make(lib, name, params, requires_grad=False):
    tensors = [lib.tensor(p, dtype=lib.float64, requires_grad=requires_grad) for p in params]
    return getattr(lib.distributions, name)(*tensors), tensors


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("name,params,value", FAMILIES, ids=IDS)
def test_matches_torch(name, params, value):
    torch = pytest.importorskip("torch")
    mine, m_params = _make(minigrad, name, params, requires_grad=True)
    theirs, t_params = _make(torch, name, params, requires_grad=True)
    x_m, x_t = (lib.tensor(value, dtype=lib.float64) for lib in (minigrad, torch))
    lp_m, lp_t = mine.log_prob(x_m), theirs.log_prob(x_t)
    np.testing.assert_allclose(_np(lp_m), _np(lp_t), rtol=1e-12)
    lp_m.sum().backward()
    lp_t.sum().backward()
    for a, b in zip(m_params, t_params):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), rtol=1e-10)
    np.testing.assert_allclose(_np(mine.cdf(x_m)), _np(theirs.cdf(x_t)), rtol=1e-12)
    probs = [0.2, 0.7]
    np.testing.assert_allclose(
        _np(mine.icdf(minigrad.tensor(probs, dtype=minigrad.float64))),
        _np(theirs.icdf(torch.tensor(probs, dtype=torch.float64))),
        rtol=1e-12,
    )
    # (PyTorch's Kumaraswamy mode is NaN even where the mode exists: checked on its own below)
    for prop in ("mean", "variance") + (() if name == "Kumaraswamy" else ("mode",)):
        np.testing.assert_allclose(
            _np(getattr(mine, prop)), _np(getattr(theirs, prop)), rtol=1e-10, equal_nan=True
        )
    np.testing.assert_allclose(_np(mine.entropy()), _np(theirs.entropy()), rtol=1e-10)


@pytest.mark.parametrize("name,params,value", FAMILIES, ids=IDS)
def test_rsample_is_differentiable_and_in_the_support(name, params, value):
    dist, tensors = _make(minigrad, name, params, requires_grad=True)
    sample = dist.rsample((500,))
    assert tuple(sample.shape) == (500, 2)
    assert bool(dist.support.check(sample.detach()).all())
    sample.mean().backward()
    assert all(t.grad is not None and np.isfinite(_np(t.grad)).all() for t in tensors)
    assert tuple(dist.expand((3, 2)).sample().shape) == (3, 2)


@pytest.mark.parametrize("name,params,value", FAMILIES, ids=IDS)
def test_log_prob_passes_gradcheck(name, params, value):
    x = minigrad.tensor(value, dtype=minigrad.float64)

    def log_prob(*ps):
        return getattr(minigrad.distributions, name)(*ps).log_prob(x)

    ps = tuple(minigrad.tensor(p, dtype=minigrad.float64, requires_grad=True) for p in params)
    assert gradcheck(log_prob, ps)


def test_kumaraswamy_mode_is_the_density_maximum():
    """((a - 1)/(ab - 1))^(1/a) for a, b ≥ 1 (not both 1): the argmax of the density on a grid
    (PyTorch 2.13 returns NaN here)."""
    dist = minigrad.distributions.Kumaraswamy(
        minigrad.tensor([1.5, 3.0], dtype=minigrad.float64),
        minigrad.tensor([2.5, 1.2], dtype=minigrad.float64),
    )
    grid = minigrad.linspace(1e-4, 1 - 1e-4, 20001, dtype=minigrad.float64)
    densest = grid[dist.log_prob(grid.unsqueeze(-1)).argmax(0)]
    np.testing.assert_allclose(_np(dist.mode), _np(densest), atol=1e-4)
    small = minigrad.distributions.Kumaraswamy(minigrad.tensor([0.5]), minigrad.tensor([2.0]))
    assert np.isnan(_np(small.mode)).all()  # a < 1: the density is unbounded at 0


def _relaxed(lib, temperature, logits):
    t = lib.tensor(temperature, dtype=lib.float64, requires_grad=True)
    l = lib.tensor(logits, dtype=lib.float64, requires_grad=True)  # noqa: E741
    return t, l


def test_relaxed_distributions_match_torch():
    torch = pytest.importorskip("torch")
    logits = [[0.2, -1.0, 0.5], [1.0, 0.0, -0.3]]
    simplex_points = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]
    results = []
    for lib in (minigrad, torch):
        t, l = _relaxed(lib, 0.7, logits)  # noqa: E741
        categorical = lib.distributions.RelaxedOneHotCategorical(t, logits=l)
        bernoulli = lib.distributions.RelaxedBernoulli(t, logits=l[:, 0])
        lp_c = categorical.log_prob(lib.tensor(simplex_points, dtype=lib.float64))
        lp_b = bernoulli.log_prob(lib.tensor([0.3, 0.8], dtype=lib.float64))
        (lp_c.sum() + lp_b.sum()).backward()
        results.append([_np(lp_c), _np(lp_b), _np(t.grad), _np(l.grad)])
        assert tuple(categorical.batch_shape) == (2,) and tuple(categorical.event_shape) == (3,)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_gumbel_softmax_samples_pick_categories_with_their_probabilities():
    """The argmax of a relaxed one-hot sample is a Categorical(probs) draw at any temperature
    (the Gumbel-max trick); samples lie on the simplex and carry gradients to the logits."""
    minigrad.manual_seed(0)
    probs = [0.1, 0.6, 0.3]
    logits = minigrad.tensor(probs, dtype=minigrad.float64).log().requires_grad_()
    dist = minigrad.distributions.RelaxedOneHotCategorical(minigrad.tensor(2.0), logits=logits)
    samples = dist.rsample((20000,))
    np.testing.assert_allclose(_np(samples.sum(-1)), 1.0, rtol=1e-12)
    counts = np.bincount(_np(samples.argmax(-1)), minlength=3) / 20000
    np.testing.assert_allclose(counts, probs, atol=0.015)
    (samples[:, 1]).mean().backward()
    assert logits.grad is not None and _np(logits.grad)[1] > 0
    sharp = minigrad.distributions.RelaxedBernoulli(
        minigrad.tensor(0.05), probs=minigrad.tensor([0.3])
    )
    draws = _np(sharp.sample((4000,)))
    assert ((draws < 0.01) | (draws > 0.99)).mean() > 0.85 and abs(
        (draws > 0.5).mean() - 0.3
    ) < 0.03


def test_closed_form_kl_divergences_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        dists = lib.distributions

        def t(values, lib=lib):
            return lib.tensor(values, dtype=lib.float64)

        pareto = dists.kl_divergence(
            dists.Pareto(t([1.5, 1.0]), t([2.0, 3.0])), dists.Pareto(t([1.2, 1.5]), t([2.5, 1.0]))
        )  # (the second pair's support starts below q's: infinite)
        gumbel = dists.kl_divergence(
            dists.Gumbel(t([0.3, -1.0]), t([1.5, 0.7])), dists.Gumbel(t([1.0, 0.2]), t([0.8, 2.0]))
        )
        results.append((_np(pareto), _np(gumbel)))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_low_rank_multivariate_normal_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = (rng.normal(size=(2, 4)), rng.normal(size=(4, 2)), rng.uniform(0.5, 1.5, (2, 4)))
    x = rng.normal(size=(3, 2, 4))
    results = []
    for lib in (minigrad, torch):
        params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        dist = lib.distributions.LowRankMultivariateNormal(*params)
        log_prob = dist.log_prob(lib.tensor(x, dtype=lib.float64))
        (log_prob.sum() + dist.entropy().sum()).backward()
        assert tuple(dist.batch_shape) == (2,) and tuple(dist.event_shape) == (4,)
        values = [log_prob, dist.entropy(), dist.variance, dist.covariance_matrix]
        values += [dist.precision_matrix, dist.scale_tril] + [p.grad for p in params]
        results.append([_np(v) for v in values])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_low_rank_multivariate_normal_samples_have_its_covariance():
    minigrad.manual_seed(0)
    w = minigrad.tensor([[1.0, 0.0], [0.5, 1.0], [0.0, -1.0]], dtype=minigrad.float64)
    d = minigrad.tensor([0.5, 0.2, 1.0], dtype=minigrad.float64)
    loc = minigrad.tensor([1.0, -2.0, 0.5], dtype=minigrad.float64, requires_grad=True)
    dist = minigrad.distributions.LowRankMultivariateNormal(loc, w, d)
    samples = dist.rsample((40000,))
    np.testing.assert_allclose(_np(samples.mean(0)), _np(loc), atol=0.03)
    np.testing.assert_allclose(np.cov(_np(samples).T), _np(dist.covariance_matrix), atol=0.05)
    samples.sum().backward()
    np.testing.assert_allclose(_np(loc.grad), 40000.0)

    def log_prob(loc, w, d):
        x = minigrad.tensor([[0.3, -1.0, 2.0]], dtype=minigrad.float64)
        return minigrad.distributions.LowRankMultivariateNormal(loc, w, d).log_prob(x)

    args = (loc.detach().requires_grad_(), w.requires_grad_(), d.requires_grad_())
    assert gradcheck(log_prob, args)


def test_von_mises_matches_torch_and_samples_its_circular_moments():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (minigrad, torch):
        loc = lib.tensor([0.5, -2.0], dtype=lib.float64, requires_grad=True)
        kappa = lib.tensor([2.0, 0.3], dtype=lib.float64, requires_grad=True)
        dist = lib.distributions.VonMises(loc, kappa)
        log_prob = dist.log_prob(lib.tensor([0.1, 3.0], dtype=lib.float64))
        log_prob.sum().backward()
        results.append([_np(log_prob), _np(dist.variance), _np(loc.grad), _np(kappa.grad)])
    # PyTorch's Bessel functions are polynomial fits: its d/dκ at κ = 0.3 is 5e-7 off, where
    # minigrad's 0.13532475852235 agrees with mpmath to all 14 digits
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    minigrad.manual_seed(0)
    dist = minigrad.distributions.VonMises(
        minigrad.tensor([0.5, -2.0], dtype=minigrad.float64),
        minigrad.tensor([2.0, 0.3], dtype=minigrad.float64),
    )
    draws = np.exp(1j * _np(dist.sample((20000,))))
    resultant = draws.mean(0)  # E e^(iθ) = e^(iμ)·I₁(κ)/I₀(κ)
    np.testing.assert_allclose(np.angle(resultant[0]), 0.5, atol=0.03)
    np.testing.assert_allclose(np.abs(resultant), 1 - _np(dist.variance), atol=0.01)
