"""``minigrad.distributions`` against ``torch.distributions``: log densities, entropies,
moments, CDFs and KL divergences on the same parameters; sample shapes and statistics;
gradients through ``rsample`` and ``log_prob``; validation errors."""

import numpy as np
import pytest

import minigrad
from minigrad import distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions

RNG = np.random.default_rng(0)
LOC, SCALE = RNG.normal(size=(2, 3)), RNG.uniform(0.5, 2.0, size=(2, 3))
PROBS = RNG.uniform(0.1, 1.0, size=(2, 4))
A = RNG.normal(size=(2, 3, 3))
COV = A @ np.swapaxes(A, -1, -2) + np.eye(3)


def _both(make):
    """The same distribution from both libraries, with float64 parameters (leaves)."""
    return make(D, minigrad), make(TD, torch)


FAMILIES = {
    "normal": lambda d, m: d.Normal(m.tensor(LOC), m.tensor(SCALE)),
    "uniform": lambda d, m: d.Uniform(m.tensor(LOC), m.tensor(LOC + SCALE)),
    "exponential": lambda d, m: d.Exponential(m.tensor(SCALE)),
    "laplace": lambda d, m: d.Laplace(m.tensor(LOC), m.tensor(SCALE)),
    "bernoulli_probs": lambda d, m: d.Bernoulli(probs=m.tensor(PROBS / 1.5)),
    "bernoulli_logits": lambda d, m: d.Bernoulli(logits=m.tensor(LOC)),
    "categorical_probs": lambda d, m: d.Categorical(probs=m.tensor(PROBS)),
    "categorical_logits": lambda d, m: d.Categorical(logits=m.tensor(PROBS)),
    "one_hot": lambda d, m: d.OneHotCategorical(probs=m.tensor(PROBS)),
    "mvn_cov": lambda d, m: d.MultivariateNormal(m.tensor(LOC), covariance_matrix=m.tensor(COV)),
    "mvn_tril": lambda d, m: d.MultivariateNormal(
        m.tensor(LOC[0]), scale_tril=m.tensor(np.linalg.cholesky(COV))
    ),
    "mvn_precision": lambda d, m: d.MultivariateNormal(
        m.tensor(LOC), precision_matrix=m.tensor(np.linalg.inv(COV))
    ),
    "independent": lambda d, m: d.Independent(d.Normal(m.tensor(LOC), m.tensor(SCALE)), 1),
}


def _close(a, b, rtol=1e-7):
    np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=rtol, atol=1e-9)


@pytest.mark.parametrize("name", FAMILIES)
def test_densities_moments_and_shapes_match_torch(name):
    ours, theirs = _both(FAMILIES[name])
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    value = theirs.sample((5,))
    _close(ours.log_prob(minigrad.tensor(value.numpy())), theirs.log_prob(value))
    _close(ours.entropy(), theirs.entropy())
    for moment in ("mean", "variance", "stddev"):
        if name.startswith("categorical"):
            continue  # NaN in both
        _close(getattr(ours, moment), getattr(theirs, moment))
    assert tuple(ours.sample((4, 2)).shape) == tuple(theirs.sample((4, 2)).shape)
    if name in ("normal", "uniform", "exponential", "laplace"):
        _close(ours.cdf(minigrad.tensor(value.numpy())), theirs.cdf(value))


@pytest.mark.parametrize(
    "name, other",
    [
        ("normal", lambda d, m: d.Normal(m.tensor(LOC[::-1].copy()), m.tensor(SCALE * 1.3))),
        ("exponential", lambda d, m: d.Exponential(m.tensor(SCALE[::-1].copy()))),
        ("laplace", lambda d, m: d.Laplace(m.tensor(LOC * 0.5), m.tensor(SCALE[::-1].copy()))),
        ("bernoulli_probs", lambda d, m: d.Bernoulli(probs=m.tensor(PROBS[::-1] / 1.2))),
        ("categorical_probs", lambda d, m: d.Categorical(logits=m.tensor(LOC[:, :1] * PROBS))),
        ("one_hot", lambda d, m: d.OneHotCategorical(logits=m.tensor(PROBS[::-1].copy()))),
        ("uniform", lambda d, m: d.Uniform(m.tensor(LOC - 1), m.tensor(LOC + SCALE + 1))),
        (
            "mvn_cov",
            lambda d, m: d.MultivariateNormal(m.tensor(LOC * 2), m.tensor(COV[::-1].copy())),
        ),
        (
            "independent",
            lambda d, m: d.Independent(d.Normal(m.tensor(LOC * 2), m.tensor(SCALE)), 1),
        ),
    ],
)
def test_kl_divergence_matches_torch(name, other):
    (p_ours, p_theirs), (q_ours, q_theirs) = _both(FAMILIES[name]), _both(other)
    _close(D.kl_divergence(p_ours, q_ours), TD.kl_divergence(p_theirs, q_theirs))


@pytest.mark.parametrize("name", ["normal", "uniform", "exponential", "laplace", "mvn_cov"])
def test_sample_statistics(name):
    minigrad.manual_seed(0)
    dist = FAMILIES[name](D, minigrad)
    draws = dist.sample((20000,))
    assert not draws.requires_grad
    np.testing.assert_allclose(draws.mean(0).numpy(), dist.mean.detach().numpy(), atol=0.08)
    np.testing.assert_allclose(draws.var(0).numpy(), dist.variance.detach().numpy(), rtol=0.1)


@pytest.mark.parametrize(
    "make, location",
    [
        (lambda a, b: D.Normal(a, b), True),
        (lambda a, b: D.Laplace(a, b), True),
        (lambda a, b: D.Uniform(a, a + b), True),
        (lambda a, b: D.MultivariateNormal(a, scale_tril=minigrad.diag_embed(b)), True),
        (lambda a, b: D.Exponential(b), False),
    ],
)
def test_rsample_is_differentiable_in_the_parameters(make, location):
    loc = minigrad.tensor(LOC[0], requires_grad=True)
    scale = minigrad.tensor(SCALE[0], requires_grad=True)
    draws = make(loc, scale).rsample((7,))
    assert draws.requires_grad
    draws.sum().backward()
    if location:  # a shift of the location shifts every draw: d(sum)/d(loc) = number of draws
        np.testing.assert_allclose(loc.grad.numpy(), 7.0)
    assert scale.grad is not None and bool(scale.grad.isfinite().all())


def test_categorical_sampling_follows_the_probabilities_and_reinforce_trains():
    minigrad.manual_seed(0)
    probs = minigrad.tensor([0.1, 0.6, 0.3])
    counts = minigrad.bincount(D.Categorical(probs).sample((30000,)), minlength=3)
    np.testing.assert_allclose(counts.numpy() / 30000, probs.numpy(), atol=0.015)
    logits = minigrad.zeros(3, requires_grad=True)
    optimizer = minigrad.optim.SGD([logits], lr=0.5)
    reward = minigrad.tensor([0.0, 0.0, 1.0])
    for _ in range(200):  # REINFORCE on a three-armed bandit
        dist = D.Categorical(logits=logits)
        action = dist.sample((16,))
        loss = -(dist.log_prob(action) * reward[action]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert D.Categorical(logits=logits).probs[2].item() > 0.9


@pytest.fixture
def validation_on():
    """Both libraries' default argument validation on (PyTorch's default), whatever a test run
    before in this worker left; put back after."""
    before = D.Distribution._validate_args, TD.Distribution._validate_args
    D.Distribution.set_default_validate_args(True)
    TD.Distribution.set_default_validate_args(True)
    yield
    D.Distribution._validate_args, TD.Distribution._validate_args = before


@pytest.mark.parametrize(
    "make",
    [
        lambda d, m: d.Normal(m.tensor([0.0]), m.tensor([-1.0])),
        lambda d, m: d.Bernoulli(probs=m.tensor([1.5])),
        lambda d, m: d.Categorical(),
        lambda d, m: d.Categorical(probs=m.tensor([0.5, 0.5]), logits=m.tensor([0.0, 0.0])),
        lambda d, m: d.Normal(m.tensor(0.0), m.tensor(1.0)).log_prob(m.tensor(float("nan"))),
        lambda d, m: d.Categorical(probs=m.tensor([0.5, 0.5])).log_prob(m.tensor(5)),
        lambda d, m: d.Exponential(m.tensor(1.0)).log_prob(m.tensor(-1.0)),
        lambda d, m: d.MultivariateNormal(m.zeros(2)),
        lambda d, m: d.Independent(d.Normal(m.zeros(2), m.ones(2)), 2),
    ],
)
def test_invalid_arguments_raise_as_torch(make, validation_on):
    with pytest.raises(ValueError) as theirs:
        make(TD, torch)
    with pytest.raises(ValueError) as ours:
        make(D, minigrad)
    assert str(ours.value).split()[:2] == str(theirs.value).split()[:2]


def test_layout_and_validation_switch():
    from minigrad.distributions.categorical import Categorical
    from minigrad.distributions.normal import Normal

    assert Normal is D.Normal and Categorical is D.Categorical
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(minigrad.tensor(0.0), minigrad.tensor(-1.0))  # no check
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(NotImplementedError, match="KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.StudentT(3.0))  # (Normal-Exponential is inf now)


_RNG = np.random.default_rng(7)
_LOGITS, _MU, _SIGMA = (
    _RNG.normal(size=(4, 3)),
    _RNG.normal(size=(4, 3, 2)),
    _RNG.uniform(0.3, 1.5, size=(4, 3, 2)),
)
MIXTURES = {  # (mixture over 3 components, components) with batch (4,)
    "normal": lambda d, m: d.MixtureSameFamily(
        d.Categorical(logits=m.tensor(_LOGITS)),
        d.Normal(m.tensor(_MU[..., 0]), m.tensor(_SIGMA[..., 0])),
    ),
    "independent_2d": lambda d, m: d.MixtureSameFamily(
        d.Categorical(probs=m.tensor(np.exp(_LOGITS))),
        d.Independent(d.Normal(m.tensor(_MU), m.tensor(_SIGMA)), 1),
    ),
    "shared_weights": lambda d, m: d.MixtureSameFamily(
        d.Categorical(logits=m.tensor(_LOGITS[0])),
        d.Laplace(m.tensor(_MU[..., 1]), m.tensor(_SIGMA[..., 1])),
    ),
}


@pytest.mark.parametrize("name", MIXTURES)
def test_mixture_same_family_matches_torch(name):
    ours, theirs = MIXTURES[name](D, minigrad), MIXTURES[name](torch.distributions, torch)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) == (4,)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    value = torch.tensor(ours.sample((5,)).numpy())
    got = ours.log_prob(minigrad.tensor(value.numpy()))
    np.testing.assert_allclose(got.numpy(), theirs.log_prob(value).numpy(), rtol=1e-5, atol=1e-6)
    far = value * 1e3  # every component density underflows: the log-sum-exp must not
    np.testing.assert_allclose(
        ours.log_prob(minigrad.tensor(far.numpy())).numpy(), theirs.log_prob(far).numpy(), rtol=1e-5
    )
    for moment in ("mean", "variance", "stddev"):
        np.testing.assert_allclose(
            getattr(ours, moment).numpy(), getattr(theirs, moment).numpy(), rtol=1e-5, atol=1e-6
        )
    draws = ours.sample((4000,))
    # (PyTorch's own sample() fails when the mixture weights broadcast over the batch)
    expected = (4000,) + tuple(theirs.batch_shape) + tuple(theirs.event_shape)
    assert tuple(draws.shape) == expected and not draws.requires_grad
    np.testing.assert_allclose(draws.mean(0).numpy(), theirs.mean.numpy(), atol=0.12)
    np.testing.assert_allclose(draws.var(0).numpy(), theirs.variance.numpy(), rtol=0.15)
    if name == "normal":
        np.testing.assert_allclose(
            ours.cdf(minigrad.tensor(value.numpy())).numpy(), theirs.cdf(value).numpy(), rtol=1e-5
        )


def test_mixture_same_family_gradients_and_errors_match_torch():
    grads = []
    for d, m in ((D, minigrad), (torch.distributions, torch)):
        logits = m.tensor(_LOGITS, requires_grad=True)
        mu = m.tensor(_MU[..., 0], requires_grad=True)
        gmm = d.MixtureSameFamily(
            d.Categorical(logits=logits), d.Normal(mu, m.tensor(_SIGMA[..., 0]))
        )
        (-gmm.log_prob(m.tensor([0.1, -0.2, 0.3, 2.0])).sum()).backward()
        grads.append((logits.grad.numpy(), mu.grad.numpy()))
        assert not gmm.has_rsample
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    bad = [
        lambda d, m: d.MixtureSameFamily(
            d.Normal(m.zeros(3), m.ones(3)), d.Normal(m.zeros(3), m.ones(3))
        ),
        lambda d, m: d.MixtureSameFamily(d.Categorical(m.ones(2)), d.Normal(m.zeros(3), m.ones(3))),
        lambda d, m: d.MixtureSameFamily(
            d.Categorical(m.ones(5, 3)), d.Normal(m.zeros(4, 3), m.ones(4, 3))
        ),
    ]
    for make in bad:
        with pytest.raises(ValueError):
            make(torch.distributions, torch)
        with pytest.raises(ValueError):
            make(D, minigrad)
