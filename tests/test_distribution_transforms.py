"""Transforms, TransformedDistribution and the constraint registry against
torch.distributions: forward and inverse values, log-determinants, domains and codomains,
log densities of transformed distributions (SAC's tanh-Normal, a flow with event dims),
gradients at given values, gradcheck of the log-determinants in float64, biject_to/transform_to
round trips, and the errors for invalid arguments."""

import math

import numpy as np
import pytest

import minigrad
from minigrad import distributions as D
from minigrad.autograd import gradcheck
from minigrad.distributions import constraints
from minigrad.distributions import transforms as T

torch = pytest.importorskip("torch")
TD = torch.distributions
TT = torch.distributions.transforms

RNG = np.random.default_rng(11)
X = RNG.normal(size=(3, 4))
POS = RNG.uniform(0.3, 2.5, size=(3, 4))
LOC = RNG.normal(size=(4,))
SCALE = RNG.uniform(0.5, 2.0, size=(4,))


def both(make):
    """``make(module, tensor)`` built on minigrad and on torch (float64 inputs)."""
    return make(T, lambda a: minigrad.tensor(a)), make(TT, lambda a: torch.tensor(a))


def close(ours, theirs, atol=1e-10, rtol=1e-8):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol, rtol=rtol)


# name -> (make(module, tensor), input values)
TRANSFORMS = {
    "exp": (lambda m, t: m.ExpTransform(), X),
    "tanh": (lambda m, t: m.TanhTransform(), X * 3),
    "sigmoid": (lambda m, t: m.SigmoidTransform(), X * 3),
    "softplus": (lambda m, t: m.SoftplusTransform(), X * 3),
    "power": (lambda m, t: m.PowerTransform(t(np.array(2.5))), POS),
    "power_tensor": (lambda m, t: m.PowerTransform(t(SCALE)), POS),
    "affine_number": (lambda m, t: m.AffineTransform(1.5, -2.0), X),
    "affine_tensor": (lambda m, t: m.AffineTransform(t(LOC), t(SCALE)), X),
    "affine_event": (lambda m, t: m.AffineTransform(t(LOC), t(SCALE), event_dim=1), X),
    "stick_breaking": (lambda m, t: m.StickBreakingTransform(), X),
    "compose": (
        lambda m, t: m.ComposeTransform([m.AffineTransform(0.3, 2.0), m.TanhTransform()]),
        X,
    ),
    "compose_event": (
        lambda m, t: m.ComposeTransform(
            [m.ExpTransform(), m.AffineTransform(t(LOC), t(SCALE), event_dim=1)]
        ),
        X,
    ),
    "independent": (lambda m, t: m.IndependentTransform(m.SigmoidTransform(), 1), X),
    "reshape": (lambda m, t: m.ReshapeTransform((3, 4), (2, 6)), X),
    "cat": (
        lambda m, t: m.CatTransform(
            [m.ExpTransform(), m.SigmoidTransform(), m.AffineTransform(1.0, 3.0)],
            dim=-1,
            lengths=[1, 2, 1],
        ),
        X,
    ),
    "cat_batch_dim": (
        lambda m, t: m.CatTransform([m.TanhTransform(), m.SigmoidTransform()], 0, [2, 1]),
        X,
    ),
    "stack": (
        lambda m, t: m.StackTransform(
            [m.ExpTransform(), m.TanhTransform(), m.AffineTransform(0.5, -1.0), m.ExpTransform()],
            dim=1,
        ),
        X,
    ),
    "corr_cholesky": (lambda m, t: m.CorrCholeskyTransform(), RNG.normal(size=(2, 3, 6)) * 2),
    "cdf_normal": (
        lambda m, t: m.CumulativeDistributionTransform(
            (D if m is T else TD).Normal(t(LOC), t(SCALE))
        ),
        X,
    ),
    "exp_inverse": (lambda m, t: m.ExpTransform().inv, POS),
    "stick_breaking_inverse": (
        lambda m, t: m.StickBreakingTransform().inv,
        np.exp(X) / np.exp(X).sum(-1, keepdims=True),
    ),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_matches_torch(name):
    make, values = TRANSFORMS[name]
    ours, theirs = both(make)
    x, tx = minigrad.tensor(values), torch.tensor(values)
    y, ty = ours(x), theirs(tx)
    close(y, ty)
    close(ours.inv(y), theirs.inv(ty), atol=1e-8)
    close(ours.log_abs_det_jacobian(x, y), theirs.log_abs_det_jacobian(tx, ty), atol=1e-8)
    assert repr(ours.domain) == repr(theirs.domain)
    assert repr(ours.codomain) == repr(theirs.codomain)
    assert ours.bijective == theirs.bijective
    assert ours.domain.event_dim == theirs.domain.event_dim
    assert ours.codomain.event_dim == theirs.codomain.event_dim
    assert tuple(ours.forward_shape(x.shape)) == tuple(theirs.forward_shape(tx.shape))
    assert tuple(ours.inverse_shape(y.shape)) == tuple(theirs.inverse_shape(ty.shape))


def test_non_injective_transforms_match_torch():
    x, tx = minigrad.tensor(X), torch.tensor(X)
    for make in (lambda m: m.SoftmaxTransform(), lambda m: m.AbsTransform()):
        ours, theirs = make(T), make(TT)
        close(ours(x), theirs(tx))
        close(ours.inv(ours(x)), theirs.inv(theirs(tx)))
        assert not ours.bijective
    square = X[:, :3]
    ours, theirs = T.LowerCholeskyTransform(), TT.LowerCholeskyTransform()
    y = ours(minigrad.tensor(square))
    close(y, theirs(torch.tensor(square)))
    assert bool(constraints.lower_cholesky.check(y))
    close(ours.inv(y), torch.tensor(square).tril())  # the upper part is not recovered
    with pytest.raises(NotImplementedError, match="AbsTransform.log_abs_det_jacobian"):
        T.AbsTransform().log_abs_det_jacobian(minigrad.tensor(X), minigrad.tensor(X))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_positive_definite_transform_matches_torch():
    ours, theirs = T.PositiveDefiniteTransform(), TT.PositiveDefiniteTransform()
    x = X[:, :3]
    y = ours(minigrad.tensor(x))
    close(y, theirs(torch.tensor(x)))
    assert bool(constraints.positive_definite.check(y))
    close(ours.inv(y), theirs.inv(theirs(torch.tensor(x))), atol=1e-8)
    assert isinstance(D.transform_to(constraints.positive_definite), T.PositiveDefiniteTransform)


def test_corr_cholesky_gives_correlation_matrices_and_its_log_det_is_the_jacobians():
    t = T.CorrCholeskyTransform()
    x = minigrad.tensor(X[0, :3], requires_grad=True)
    y = t(x)
    corr = (y @ y.mT).detach().numpy()
    np.testing.assert_allclose(np.diag(corr), np.ones(3), atol=1e-12)
    assert bool(constraints.corr_cholesky.check(y))
    assert isinstance(D.biject_to(constraints.corr_cholesky), T.CorrCholeskyTransform)
    # the free entries of L are its strictly lower triangle: their Jacobian's determinant
    jac = minigrad.autograd.functional.jacobian(lambda v: t(v)[[1, 2, 2], [0, 0, 1]], x)
    expected = np.log(abs(np.linalg.det(jac.detach().numpy())))
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, y).item(), expected, rtol=1e-10)
    assert gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (x,))
    with pytest.raises(ValueError, match="not a flattened lower-diagonal number"):
        t.forward_shape((5,))
    with pytest.raises(ValueError, match="not square"):
        t.inverse_shape((3, 4))


def test_cat_and_stack_argument_errors():
    with pytest.raises(ValueError, match="expected size 3 along dim -1"):
        T.CatTransform([T.ExpTransform()] * 3, dim=-1)(minigrad.tensor(X))
    with pytest.raises(ValueError, match="2 transforms but 1 lengths"):
        T.CatTransform([T.ExpTransform()] * 2, lengths=[1])
    with pytest.raises(ValueError, match="2 transforms for size 4"):
        T.StackTransform([T.ExpTransform()] * 2, dim=1)(minigrad.tensor(X))
    with pytest.raises(TypeError, match="StackTransform expects Transforms"):
        T.StackTransform([T.ExpTransform(), 1])


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_tanh_log_det_is_stable_where_one_minus_tanh_squared_underflows():
    x = minigrad.tensor([-40.0, -20.0, 0.0, 20.0, 40.0])
    tx = torch.tensor([-40.0, -20.0, 0.0, 20.0, 40.0])
    ours = T.TanhTransform().log_abs_det_jacobian(x, x.tanh())
    assert np.isfinite(ours.numpy()).all()
    close(ours, TT.TanhTransform().log_abs_det_jacobian(tx, tx.tanh()), atol=1e-5, rtol=1e-6)
    naive = (1 - x.tanh() ** 2).log()
    assert not np.isfinite(naive.numpy()).all()  # what the stable form avoids


@pytest.mark.parametrize(
    "make",
    [
        lambda: T.TanhTransform(),
        lambda: T.SigmoidTransform(),
        lambda: T.SoftplusTransform(),
        lambda: T.StickBreakingTransform(),
        lambda: T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)]),
    ],
)
def test_log_det_gradcheck_float64(make):
    t = make()
    x = minigrad.tensor(X * 0.7, requires_grad=True)
    assert gradcheck(lambda x: t.log_abs_det_jacobian(x, t(x)), (x,))
    assert gradcheck(lambda x: t(x), (x,))


def test_log_det_is_log_of_the_jacobian_determinant():
    """StickBreaking's triangular log-determinant against the full Jacobian by autograd."""
    t = T.StickBreakingTransform()
    x = minigrad.tensor(X[0], requires_grad=True)
    jac = minigrad.autograd.functional.jacobian(lambda v: t(v)[:-1], x)
    expected = np.log(abs(np.linalg.det(jac.detach().numpy())))
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)).item(), expected, rtol=1e-10)


def test_inverse_caching_and_equality():
    t = T.ExpTransform()
    assert t.inv is t.inv and t.inv.inv is t
    assert t == T.ExpTransform() and t != T.TanhTransform() and t.inv == T.ExpTransform().inv
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    compose = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, 2.0)])
    assert compose.inv.inv is compose
    assert compose.inv.parts[0] == T.AffineTransform(0.0, 2.0).inv
    x = minigrad.tensor(X)
    assert T.identity_transform(x) is x and T.identity_transform.inv(x) is x
    assert not T.identity_transform.log_abs_det_jacobian(x, x).numpy().any()
    with pytest.raises(TypeError, match="unhashable"):
        hash(T.ExpTransform())  # equal transforms compare by value, as in PyTorch
    assert compose.sign == 1 and T.AffineTransform(0.0, -2.0).sign == -1
    with pytest.raises(NotImplementedError):
        _ = T.AbsTransform().sign


def test_transforms_pickle_and_copy():
    import copy
    import pickle

    chain = T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0)])
    _ = chain.inv  # holds a weak reference, which pickle cannot store
    for clone in (pickle.loads(pickle.dumps(chain)), copy.deepcopy(chain)):
        assert clone == chain
        close(clone.inv(clone(minigrad.tensor(X))), minigrad.tensor(X))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_cache_size_one_returns_the_same_objects():
    cached = T.TanhTransform(cache_size=1)
    x = minigrad.tensor([40.0, -40.0, 0.3], dtype=minigrad.float64)
    y = cached(x)
    assert cached(x) is y and cached.inv(y) is x  # no atanh(±1) = ±inf
    uncached = T.TanhTransform()
    assert not np.isfinite(uncached.inv(y).numpy()).all()
    assert uncached.with_cache(1)._cache_size == 1 and cached.with_cache(1) is cached
    assert T.ComposeTransform([T.ExpTransform()], cache_size=1).parts[0]._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def test_compose_domain_and_codomain_event_dims_match_torch():
    def chain(m):
        return m.ComposeTransform([m.ExpTransform(), m.StickBreakingTransform()])

    ours, theirs = chain(T), chain(TT)
    assert repr(ours.domain) == repr(theirs.domain)
    assert repr(ours.codomain) == repr(theirs.codomain)
    with pytest.raises(ValueError, match="domain.event_dim or .codomain.event_dim"):
        _ = T.ComposeTransform([T.ReshapeTransform((4,), (2, 2))]).event_dim


def test_invalid_arguments():
    with pytest.raises(ValueError, match="different numbers of elements"):
        T.ReshapeTransform((2, 3), (4,))
    with pytest.raises(ValueError, match="Too few dimensions"):
        T.ReshapeTransform((2, 3), (6,)).forward_shape((5,))
    with pytest.raises(ValueError, match="Shape mismatch"):
        T.ReshapeTransform((2, 3), (6,)).forward_shape((2, 4))
    with pytest.raises(TypeError, match="ComposeTransform expects Transforms"):
        T.ComposeTransform([T.ExpTransform(), "exp"])
    normal = D.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="must be a Transform or list"):
        D.TransformedDistribution(normal, 3)
    with pytest.raises(ValueError, match="needs to have shape with size at least 1"):
        D.TransformedDistribution(normal, T.StickBreakingTransform())
    with pytest.raises(ValueError, match="within the support"):
        D.TransformedDistribution(normal, T.ExpTransform()).log_prob(minigrad.tensor(-1.0))


def sac_policy(d, t, mu, std, low=-2.0, high=2.0):
    """SAC's squashed Gaussian, rescaled to the action bounds."""
    half = (high - low) / 2
    tr = [d.transforms.TanhTransform(cache_size=1), d.transforms.AffineTransform(half + low, half)]
    return d.TransformedDistribution(d.Normal(t(mu), t(std)), tr)


def test_sac_tanh_normal_log_prob_and_gradients_match_torch():
    mu, std = RNG.normal(size=(5, 2)), RNG.uniform(0.2, 1.5, size=(5, 2))
    actions = np.tanh(RNG.normal(size=(5, 2))) * 1.9
    m_mu = minigrad.tensor(mu, requires_grad=True)
    t_mu = torch.tensor(mu, requires_grad=True)
    ours = sac_policy(D, lambda a: a, m_mu, minigrad.tensor(std))
    theirs = sac_policy(TD, lambda a: a, t_mu, torch.tensor(std))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) == (5, 2)
    assert tuple(ours.event_shape) == ()
    lp, tlp = ours.log_prob(minigrad.tensor(actions)), theirs.log_prob(torch.tensor(actions))
    close(lp, tlp, atol=1e-8)
    w = RNG.normal(size=(5, 2))
    (lp * minigrad.tensor(w)).sum().backward()
    (tlp * torch.tensor(w)).sum().backward()
    close(m_mu.grad, t_mu.grad, atol=1e-8)
    close(ours.cdf(minigrad.tensor(actions)), theirs.cdf(torch.tensor(actions)), atol=1e-8)
    probs = RNG.uniform(0.05, 0.95, size=(5, 2))
    close(ours.icdf(minigrad.tensor(probs)), theirs.icdf(torch.tensor(probs)), atol=1e-8)


def test_rsample_is_differentiable_and_in_the_support():
    # (seed 0 with std 3 saturates one action to 2.0 in float32, where PyTorch's log-density is
    # infinite too: the affine map's inverse is a new tensor, so tanh's cache misses)
    minigrad.manual_seed(1)
    mu = minigrad.zeros(64, 2, requires_grad=True)
    dist = sac_policy(D, lambda a: a, mu, minigrad.ones(64, 2) * 2.0)
    assert dist.has_rsample
    action = dist.rsample()
    assert action.requires_grad and tuple(action.shape) == (64, 2)
    assert bool(dist.support.check(action).all())
    assert float(action.abs().max()) <= 2.0
    logp = dist.log_prob(action)  # the cached pre-tanh values: finite even at saturation
    assert np.isfinite(logp.detach().numpy()).all()
    (action.sum() - logp.sum()).backward()
    assert mu.grad is not None and np.isfinite(mu.grad.numpy()).all()
    assert float(mu.grad.abs().sum()) > 0
    draw = dist.sample((3,))
    assert not draw.requires_grad and tuple(draw.shape) == (3, 64, 2)


def flow(d, t):
    """A flow of several transforms, some acting on vectors: Normal over (3, 4) read as 4-vectors,
    an affine layer with event_dim 1, a reshape of the whole (3, 4) event, tanh, and exp."""
    base = d.Normal(t(X), t(POS))
    return d.TransformedDistribution(
        base,
        [
            d.transforms.AffineTransform(t(LOC), t(SCALE), event_dim=1),
            d.transforms.ReshapeTransform((3, 4), (2, 6)),
            d.transforms.TanhTransform(),
            d.transforms.AffineTransform(0.5, 2.0),
            d.transforms.ExpTransform(),
        ],
    )


def test_flow_with_event_dims_matches_torch():
    ours, theirs = flow(D, minigrad.tensor), flow(TD, torch.tensor)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape) == ()
    assert tuple(ours.event_shape) == tuple(theirs.event_shape) == (2, 6)
    assert repr(ours.support) == repr(theirs.support)
    value = np.exp(0.5 + 2.0 * np.tanh(RNG.normal(size=(7, 2, 6)) * 0.5))
    close(ours.log_prob(minigrad.tensor(value)), theirs.log_prob(torch.tensor(value)), atol=1e-7)
    assert tuple(ours.rsample((7,)).shape) == (7, 2, 6)


@pytest.mark.parametrize(
    "make",
    [
        lambda d, t: d.TransformedDistribution(d.Normal(t(LOC), t(SCALE)), d.ExpTransform()),
        lambda d, t: d.TransformedDistribution(
            d.Normal(t(X), t(POS)), [d.transforms.StickBreakingTransform()]
        ),
        lambda d, t: d.TransformedDistribution(
            d.Normal(t(LOC), t(SCALE)), [d.transforms.AffineTransform(t(X), 2.0)]
        ),
        lambda d, t: d.TransformedDistribution(
            d.Independent(d.Normal(t(X), t(POS)), 1), [d.transforms.SigmoidTransform()]
        ),
    ],
)
def test_transformed_shapes_and_log_prob_match_torch(make):
    ours, theirs = make(D, minigrad.tensor), make(TD, torch.tensor)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert repr(ours.support) == repr(theirs.support)
    with torch.no_grad():
        value = theirs.sample((2,)).numpy()
    close(ours.log_prob(minigrad.tensor(value)), theirs.log_prob(torch.tensor(value)), atol=1e-8)
    expanded, texpanded = (
        ours.expand((6,) + tuple(ours.batch_shape)),
        theirs.expand((6,) + tuple(theirs.batch_shape)),
    )
    assert tuple(expanded.batch_shape) == tuple(texpanded.batch_shape)
    assert tuple(expanded.sample().shape) == tuple(texpanded.sample().shape)


def test_expand_of_a_base_without_expand_names_it():
    class NoExpand(D.Normal):  # (every family has expand now)
        expand = D.Distribution.expand

    base = NoExpand(minigrad.tensor(POS), minigrad.tensor(POS))
    with pytest.raises(NotImplementedError, match="NoExpand.expand is not implemented"):
        D.TransformedDistribution(base, T.ExpTransform()).expand((2, 3, 4))


def test_log_normal_is_a_transformed_normal_as_in_torch():
    loc, scale = minigrad.tensor(LOC), minigrad.tensor(SCALE)
    values = np.exp(RNG.normal(size=(3, 4)))
    ours, theirs = D.LogNormal(loc, scale), TD.LogNormal(torch.tensor(LOC), torch.tensor(SCALE))
    assert isinstance(ours, D.TransformedDistribution) and isinstance(ours.base_dist, D.Normal)
    density = np.exp(-((np.log(values) - LOC) ** 2) / (2 * SCALE**2)) / (
        values * SCALE * np.sqrt(2 * np.pi)
    )
    np.testing.assert_allclose(ours.log_prob(minigrad.tensor(values)).numpy(), np.log(density))
    close(ours.cdf(minigrad.tensor(values)), theirs.cdf(torch.tensor(values)))
    probs = RNG.uniform(0.05, 0.95, size=(3, 4))
    close(ours.icdf(minigrad.tensor(probs)), theirs.icdf(torch.tensor(probs)), atol=1e-8)
    expanded = ours.expand((5, 4))
    assert type(expanded) is D.LogNormal and tuple(expanded.loc.shape) == (5, 4)
    assert repr(ours) == repr(theirs) == "LogNormal()"


@pytest.mark.parametrize("shape", [(), (4,), (3, 4)])
def test_logistic_normal_matches_torch(shape):
    loc, scale = X[(0,) * (2 - len(shape))] * 0.5, POS[(0,) * (2 - len(shape))]
    ours = D.LogisticNormal(minigrad.tensor(loc), minigrad.tensor(scale))
    theirs = TD.LogisticNormal(torch.tensor(loc), torch.tensor(scale))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    close(ours.loc, theirs.loc)
    with torch.no_grad():
        value = theirs.sample((5,))
    close(ours.log_prob(minigrad.tensor(value.numpy())), theirs.log_prob(value), atol=1e-8)
    mu = minigrad.tensor(loc, requires_grad=True)
    draw = D.LogisticNormal(mu, minigrad.tensor(scale)).rsample((6,))
    assert bool(constraints.simplex.check(draw).all())
    draw[..., 0].sum().backward()
    assert mu.grad is not None and tuple(mu.grad.shape) == tuple(mu.shape)
    with pytest.raises(ValueError, match="scale"):
        D.LogisticNormal(minigrad.tensor(loc), -minigrad.tensor(scale))


def test_gumbel_matches_torch():
    loc, scale = X, POS
    ours, theirs = (
        D.Gumbel(minigrad.tensor(loc), minigrad.tensor(scale)),
        TD.Gumbel(torch.tensor(loc), torch.tensor(scale)),
    )
    value = RNG.normal(size=(2, 3, 4)) * 3
    close(ours.log_prob(minigrad.tensor(value)), theirs.log_prob(torch.tensor(value)))
    for name in ("mean", "mode", "stddev", "variance"):
        close(getattr(ours, name), getattr(theirs, name))
    close(ours.entropy(), theirs.entropy())
    near = loc + scale * RNG.uniform(-1.0, 2.0, size=(2, 3, 4))  # cdf inside (tiny, 1 - eps)
    close(ours.cdf(minigrad.tensor(near)), theirs.cdf(torch.tensor(near)), atol=1e-8)
    assert tuple(ours.expand((5, 3, 4)).sample().shape) == (5, 3, 4)
    # the transformed draws follow the closed-form density: compare the sample mean
    minigrad.manual_seed(0)
    draws = D.Gumbel(minigrad.tensor(1.0), minigrad.tensor(2.0)).sample((20000,))
    assert abs(draws.mean().item() - (1.0 + 2.0 * 0.5772156649)) < 0.06
    mu = minigrad.tensor(loc, requires_grad=True)
    D.Gumbel(mu, minigrad.tensor(scale)).rsample().sum().backward()
    close(mu.grad, minigrad.ones(3, 4, dtype=minigrad.float64))  # d(loc + noise)/d loc


CONSTRAINTS = {
    "real": lambda c: c.real,
    "positive": lambda c: c.positive,
    "nonnegative": lambda c: c.nonnegative,
    "greater_than": lambda c: c.greater_than(-1.5),
    "less_than": lambda c: c.less_than(2.5),
    "unit_interval": lambda c: c.unit_interval,
    "interval": lambda c: c.interval(-2.0, 3.0),
    "half_open_interval": lambda c: c.half_open_interval(-2.0, 3.0),
    "simplex": lambda c: c.simplex,
    "independent_positive": lambda c: c.independent(c.positive, 1),
    "real_vector": lambda c: c.real_vector,
    "cat": lambda c: c.cat([c.positive, c.interval(-1.0, 1.0), c.real], dim=-1, lengths=[1, 2, 1]),
    "stack": lambda c: c.stack([c.positive, c.less_than(0.0), c.real], dim=0),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_registry_round_trips_and_matches_torch(registry, name):
    constraint = CONSTRAINTS[name](constraints)
    ours = getattr(D, registry)(constraint)
    theirs = getattr(TD, registry)(CONSTRAINTS[name](TD.constraints))
    x, tx = minigrad.tensor(X), torch.tensor(X)
    y = ours(x)
    close(y, theirs(tx))
    assert bool(constraint.check(y).all())
    if registry == "biject_to" or ours.bijective:
        assert ours.bijective
        close(ours.inv(y), x, atol=1e-8)
        close(ours.log_abs_det_jacobian(x, y), theirs.log_abs_det_jacobian(tx, theirs(tx)))
    assert repr(ours.codomain) == repr(theirs.codomain)


def test_transform_to_lower_cholesky_and_unregistered_constraints():
    y = D.transform_to(constraints.lower_cholesky)(minigrad.tensor(X[:, :3]))
    assert bool(constraints.lower_cholesky.check(y))
    with pytest.raises(NotImplementedError, match="Cannot transform _LowerCholesky"):
        D.biject_to(constraints.lower_cholesky)
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean"):
        D.transform_to(constraints.boolean)


def test_register_decorator_adds_a_factory():
    registry = D.constraint_registry.ConstraintRegistry()

    @registry.register(constraints.positive)
    def _softplus(constraint):
        return T.SoftplusTransform()

    assert isinstance(registry(constraints.positive), T.SoftplusTransform)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        registry.register(int, _softplus)


def test_unconstrained_parameter_optimization_through_biject_to():
    """A positive scale fit by gradient descent in unconstrained coordinates."""
    target = minigrad.tensor(math.e)
    transform = D.biject_to(constraints.positive)
    raw = transform.inv(minigrad.tensor(0.5)).detach().requires_grad_()
    for _ in range(200):
        loss = (transform(raw) - target) ** 2
        (grad,) = minigrad.autograd.grad(loss, raw)
        raw = (raw - 0.1 * grad).detach().requires_grad_()
    assert abs(float(transform(raw)) - math.e) < 1e-3


def test_flow_log_prob_gradcheck_float64():
    """log_prob of a flow with vector events, differentiated in its parameters and value."""
    loc = minigrad.tensor(LOC, requires_grad=True)
    scale = minigrad.tensor(SCALE, requires_grad=True)
    shift = minigrad.tensor(X[0], requires_grad=True)
    value = minigrad.tensor(POS[:2], requires_grad=True)

    def log_prob(loc, scale, shift, value):
        base = D.Independent(D.Normal(loc, scale), 1)
        chain = [T.AffineTransform(shift, 2.0, event_dim=1), T.SoftplusTransform()]
        return D.TransformedDistribution(base, chain).log_prob(value)

    assert gradcheck(log_prob, (loc, scale, shift, value))


def test_transforms_and_distributions_are_freed_without_the_cycle_collector():
    import gc
    import weakref

    gc.disable()
    try:
        mu = minigrad.zeros(3, requires_grad=True)
        tanh = T.TanhTransform(cache_size=1)
        chain = T.ComposeTransform([tanh, T.AffineTransform(0.0, 2.0)], cache_size=1)
        inverses = (chain.inv, tanh.inv)
        dist = D.TransformedDistribution(D.Normal(mu, 1.0), [chain])
        action = dist.rsample()
        dist.log_prob(action).sum().backward()
        refs = [weakref.ref(o) for o in (tanh, chain, *inverses, dist)]
        del tanh, chain, inverses, dist, action
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
