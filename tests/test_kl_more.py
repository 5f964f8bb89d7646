"""Every KL pair of torch.distributions.kl's registry: minigrad registers the same pairs, and
each closed form (finite or infinite) equals PyTorch's in float64, with equal gradients in
the parameters; unregistered pairs and the fallbacks raise as PyTorch does."""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad.distributions import kl_divergence

torch = pytest.importorskip("torch")

# Parameters per family, two variants (p's and q's), batch of three. Supports are chosen so
# that the finite pairs are finite: the Uniform's p-variant lies inside [0.1, 0.9] (inside a
# Beta's or a Pareto's support), its q-variant covers [0, 1] with room on both sides.
PARAMS = {
    "Bernoulli": [dict(probs=[0.2, 0.5, 0.9]), dict(probs=[0.6, 0.3, 0.15])],
    "Beta": [([1.5, 0.8, 3.0], [2.0, 1.2, 0.7]), ([0.6, 2.5, 1.1], [1.3, 0.9, 4.0])],
    "Binomial": [
        dict(total_count=[5.0, 5.0, 5.0], probs=[0.3, 0.6, 0.5]),
        dict(total_count=[5.0, 5.0, 5.0], probs=[0.7, 0.2, 0.45]),
    ],
    "Cauchy": [([0.3, -1.0, 2.0], [1.5, 0.4, 2.2]), ([-0.2, 0.5, 1.0], [0.7, 1.8, 0.9])],
    "ContinuousBernoulli": [dict(probs=[0.3, 0.7, 0.4995]), dict(probs=[0.8, 0.2, 0.6])],
    "Exponential": [([1.5, 0.4, 3.0],), ([0.7, 2.0, 1.1],)],
    "Gamma": [([2.5, 0.7, 4.0], [1.5, 2.0, 0.3]), ([1.2, 3.0, 0.5], [0.8, 1.4, 2.5])],
    "Geometric": [dict(probs=[0.2, 0.5, 0.9]), dict(probs=[0.6, 0.3, 0.15])],
    "Gumbel": [([0.3, -1.0, 2.0], [1.5, 0.4, 2.2]), ([-0.2, 0.5, 1.0], [0.7, 1.8, 0.9])],
    "HalfNormal": [([1.5, 0.4, 3.0],), ([0.7, 2.0, 1.1],)],
    "Laplace": [([0.3, -1.0, 2.0], [1.5, 0.4, 2.2]), ([-0.2, 0.5, 1.0], [0.7, 1.8, 0.9])],
    "Normal": [([0.3, -1.0, 2.0], [1.5, 0.4, 2.2]), ([-0.2, 0.5, 1.0], [0.7, 1.8, 0.9])],
    "Pareto": [([0.5, 1.0, 2.0], [3.0, 2.5, 4.0]), ([0.05, 0.1, 0.08], [1.5, 2.2, 0.9])],
    "Poisson": [([1.5, 0.4, 3.0],), ([0.7, 2.0, 1.1],)],
    "Uniform": [([0.1, 0.2, 0.3], [0.6, 0.9, 0.8]), ([-0.5, -0.1, -1.0], [1.5, 2.0, 1.2])],
}


def _make(lib, name, variant):
    spec = PARAMS[name][variant]
    cls = getattr(lib.distributions, name)

    def as_tensor(v):
        return lib.tensor(v, dtype=lib.float64, requires_grad=True)

    if isinstance(spec, dict):
        tensors = {k: as_tensor(v) for k, v in spec.items()}
        return cls(**tensors), list(tensors.values())
    tensors = [as_tensor(v) for v in spec]
    return cls(*tensors), tensors


def _torch_pairs():
    from torch.distributions.kl import _KL_REGISTRY

    return sorted((p.__name__, q.__name__) for p, q in _KL_REGISTRY)


SIMPLE_PAIRS = [(p, q) for p, q in _torch_pairs() if p in PARAMS and q in PARAMS]


def test_the_registry_has_every_pair_torch_has():
    from minigrad.distributions.kl import _KL_REGISTRY

    mine = {(p.__name__, q.__name__) for p, q in _KL_REGISTRY}
    assert set(_torch_pairs()) <= mine


def _grads(lib, value, params):
    finite = value[value.isfinite()] if hasattr(value, "isfinite") else value
    if not finite.numel() or not finite.requires_grad:
        return [None] * len(params)
    return list(lib.autograd.grad(finite.sum(), params, allow_unused=True))


@pytest.mark.parametrize("p_name,q_name", SIMPLE_PAIRS, ids=[f"{p}-{q}" for p, q in SIMPLE_PAIRS])
def test_kl_matches_torch(p_name, q_name):
    p_variant, q_variant = 0, 1
    p_m, pm_params = _make(minigrad, p_name, p_variant)
    q_m, qm_params = _make(minigrad, q_name, q_variant)
    p_t, pt_params = _make(torch, p_name, p_variant)
    q_t, qt_params = _make(torch, q_name, q_variant)
    kl_m, kl_t = kl_divergence(p_m, q_m), torch.distributions.kl_divergence(p_t, q_t)
    assert tuple(kl_m.shape) == tuple(kl_t.shape)
    np.testing.assert_allclose(kl_m.detach().numpy(), kl_t.detach().numpy(), rtol=1e-10)
    got = _grads(minigrad, kl_m, pm_params + qm_params)
    want = _grads(torch, kl_t, pt_params + qt_params)
    for a, b in zip(got, want):
        if a is None or b is None:
            assert a is None or not np.any(a.numpy()), "a gradient torch does not have"
            continue
        # (the digamma/trigamma of the two libraries differ in the last digits)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7, atol=1e-12)


def test_kl_is_zero_between_equal_distributions_and_positive_otherwise():
    for name in ("Cauchy", "Geometric", "HalfNormal", "ContinuousBernoulli", "Binomial"):
        p, _ = _make(minigrad, name, 0)
        q, _ = _make(minigrad, name, 1)
        np.testing.assert_allclose(kl_divergence(p, p).detach().numpy(), 0, atol=1e-12)
        assert bool((kl_divergence(p, q) > 0).all())


def _pair(lib, name, *params):
    cls = getattr(lib.distributions, name)
    return cls(*[lib.tensor(v, dtype=lib.float64) for v in params])


def test_infinite_cases_follow_the_supports():
    # a Pareto with alpha <= 1 has no mean: KL to an exponential is infinite
    for lib in (minigrad, torch):
        p = _pair(lib, "Pareto", [1.0, 1.0], [0.8, 3.0])
        kl = lib.distributions.kl_divergence(p, _pair(lib, "Exponential", [1.0, 2.0]))
        assert np.isinf(kl.numpy()[0]) and np.isfinite(kl.numpy()[1])
    # more Binomial trials in p than in q
    p = minigrad.distributions.Binomial(minigrad.tensor([6.0, 5.0]), minigrad.tensor([0.3, 0.3]))
    q = minigrad.distributions.Binomial(minigrad.tensor([5.0, 5.0]), minigrad.tensor([0.4, 0.4]))
    assert np.isinf(kl_divergence(p, q).numpy()).tolist() == [True, False]
    with pytest.raises(NotImplementedError, match="total_count"):
        kl_divergence(q, p)


def test_continuous_bernoulli_against_the_unit_uniform_is_finite():
    """KL(CB ‖ U(0, 1)) = -H(CB); PyTorch 2.13 returns inf where q's bounds touch [0, 1]."""
    p = minigrad.distributions.ContinuousBernoulli(probs=minigrad.tensor([0.3, 0.8]))
    q = minigrad.distributions.Uniform(minigrad.tensor(0.0), minigrad.tensor(1.0))
    np.testing.assert_allclose(kl_divergence(p, q).numpy(), -p.entropy().numpy(), rtol=1e-6)


def _gaussians(lib):
    rng = np.random.default_rng(3)
    d = lib.distributions

    def t(a):
        return lib.tensor(a, dtype=lib.float64, requires_grad=True)

    a = rng.normal(size=(2, 3, 3))
    cov = t(a @ a.transpose(0, 2, 1) + np.eye(3))
    low_p = d.LowRankMultivariateNormal(
        t(rng.normal(size=(2, 3))), t(rng.normal(size=(2, 3, 2))), t(rng.uniform(0.5, 2, (2, 3)))
    )
    low_q = d.LowRankMultivariateNormal(
        t(rng.normal(size=(3,))), t(rng.normal(size=(3, 1))), t(rng.uniform(0.5, 2, (3,)))
    )
    full = d.MultivariateNormal(t(rng.normal(size=(2, 3))), covariance_matrix=cov)
    return low_p, low_q, full


def test_low_rank_and_full_gaussian_pairs_match_torch():
    mine, theirs = _gaussians(minigrad), _gaussians(torch)
    for i, j in ((0, 1), (1, 0), (0, 2), (2, 0), (1, 2)):
        kl_m = kl_divergence(mine[i], mine[j])
        kl_t = torch.distributions.kl_divergence(theirs[i], theirs[j])
        np.testing.assert_allclose(kl_m.detach().numpy(), kl_t.detach().numpy(), rtol=1e-10)
        g_m = minigrad.autograd.grad(kl_m.sum(), [mine[i].loc, mine[j].loc])
        g_t = torch.autograd.grad(kl_t.sum(), [theirs[i].loc, theirs[j].loc])
        for a, b in zip(g_m, g_t):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
    other = minigrad.distributions.MultivariateNormal(
        minigrad.zeros(2, dtype=minigrad.float64), minigrad.eye(2, dtype=minigrad.float64)
    )
    with pytest.raises(ValueError, match="event shapes"):
        kl_divergence(mine[0], other)


def test_transformed_distributions_reduce_to_their_bases():
    d = minigrad.distributions
    for lib in (minigrad, torch):
        pairs = [
            (_pair(lib, "LogNormal", [0.3, -1.0], [1.5, 0.4]),
             _pair(lib, "LogNormal", [0.1, 0.5], [0.7, 1.8])),
            (_pair(lib, "InverseGamma", [2.5, 0.7], [1.5, 2.0]),
             _pair(lib, "InverseGamma", [1.2, 3.0], [0.8, 1.4])),
            (_pair(lib, "HalfCauchy", [1.5, 0.4]), _pair(lib, "HalfCauchy", [0.7, 2.0])),
        ]  # fmt: skip
        values = [lib.distributions.kl_divergence(p, q).numpy() for p, q in pairs]
        if lib is minigrad:
            mine = values
    for a, b in zip(mine, values):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    p = d.Weibull(minigrad.tensor([1.0]), minigrad.tensor([2.0]))
    q = d.Weibull(minigrad.tensor([1.0]), minigrad.tensor([3.0]))
    with pytest.raises(NotImplementedError, match="transforms differ"):
        kl_divergence(p, q)


def _wishart(lib, df, cov):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.distributions.Wishart(
            lib.tensor(df, dtype=lib.float64), covariance_matrix=lib.tensor(cov)
        )


def test_wishart_kl_through_the_bregman_fallback_matches_torch():
    """One distribution per call to PyTorch: with a batch, PyTorch 2.13's fallback sums the
    df term over the batch (its ``_sum_rightmost`` over the event dims of a batch-shaped
    parameter); minigrad's batched result equals the one-by-one ones."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 3, 3)), rng.normal(size=(3, 3))
    covs = a @ a.transpose(0, 2, 1) + np.eye(3)
    q_cov = b @ b.T + np.eye(3)
    batched = kl_divergence(_wishart(minigrad, [4.0, 6.5], covs), _wishart(minigrad, 5.0, q_cov))
    for i, df in enumerate((4.0, 6.5)):
        mine = kl_divergence(_wishart(minigrad, df, covs[i]), _wishart(minigrad, 5.0, q_cov))
        theirs = torch.distributions.kl_divergence(
            _wishart(torch, df, covs[i]), _wishart(torch, 5.0, q_cov)
        )
        mine, theirs = mine.detach().numpy(), theirs.detach().numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-8)
        np.testing.assert_allclose(batched.detach().numpy()[i], mine, rtol=1e-12)


def test_bregman_fallback_equals_the_closed_forms():
    from minigrad.distributions.exp_family import bregman_kl

    for name in ("Normal", "Gamma", "Beta", "Exponential", "Bernoulli", "Poisson"):
        p, _ = _make(minigrad, name, 0)
        q, _ = _make(minigrad, name, 1)
        np.testing.assert_allclose(
            bregman_kl(p, q).detach().numpy(),
            kl_divergence(p, q).detach().numpy(),
            rtol=1e-9,
        )


def test_unregistered_pairs_raise_as_torch():
    d = minigrad.distributions
    normal = d.Normal(minigrad.tensor(0.0), minigrad.tensor(1.0))
    with pytest.raises(NotImplementedError, match="different exponential families"):
        kl_divergence(normal, d.Bernoulli(minigrad.tensor(0.3)))
    with pytest.raises(NotImplementedError, match="StudentT"):
        kl_divergence(d.StudentT(minigrad.tensor(3.0)), normal)
    with pytest.raises(NotImplementedError):
        torch.distributions.kl_divergence(
            torch.distributions.StudentT(torch.tensor(3.0)),
            torch.distributions.Normal(0.0, 1.0),
        )
