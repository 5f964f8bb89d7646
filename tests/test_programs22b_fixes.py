"""Regression tests for the minigrad bugs that the twenty-second round of PyTorch programs (b:
reinforcement learning and world models) brought up, each checked against PyTorch."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

FAMILIES = [  # (constructor, keyword arguments): each takes probs or logits
    ("Bernoulli", {}),
    ("Geometric", {}),
    ("Binomial", {"total_count": 5}),
    ("Categorical", {}),
    ("OneHotCategorical", {}),
    ("OneHotCategoricalStraightThrough", {}),
    ("ContinuousBernoulli", {}),
    ("RelaxedBernoulli", {"temperature": 0.5}),
    ("RelaxedOneHotCategorical", {"temperature": 0.5}),
]


def _make(lib, name, kwargs, which):
    value = lib.tensor([[0.3, 0.6], [0.1, 0.2]])
    return getattr(lib.distributions, name)(**kwargs, **{which: value})


def _repr(d):
    return repr(d).replace("minigrad", "torch")


@pytest.mark.parametrize("which", ["probs", "logits"])
@pytest.mark.parametrize("name,kwargs", FAMILIES)
def test_repr_shows_only_the_given_parametrization_until_the_other_is_used(name, kwargs, which):
    """PyTorch stores the one of probs/logits that was given and derives the other lazily, so
    ``print(Categorical(logits=...))`` shows ``logits`` alone (minigrad computed both at
    once and printed both; OneHotCategorical printed them where PyTorch prints neither)."""
    ours, theirs = _make(minigrad, name, kwargs, which), _make(torch, name, kwargs, which)
    assert _repr(ours) == _repr(theirs)
    wider = (3, *theirs.batch_shape)
    assert _repr(ours.expand(wider)) == _repr(theirs.expand(wider))
    ours.probs, ours.logits, theirs.probs, theirs.logits  # noqa: B018 - derives the other one
    assert _repr(ours) == _repr(theirs)
    assert sorted(k for k in vars(ours) if not k.startswith("_")) == sorted(
        k for k in vars(theirs) if not k.startswith("_")
    )


def test_lazily_derived_parameter_has_pytorchs_values_and_gradient():
    logits = minigrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    d = minigrad.distributions.Categorical(logits=logits)
    assert "probs" not in vars(d)
    d.entropy().backward()
    expected = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    torch.distributions.Categorical(logits=expected).entropy().backward()
    assert d.probs.tolist() == pytest.approx(expected.softmax(-1).tolist(), rel=1e-6)
    assert logits.grad.tolist() == pytest.approx(expected.grad.tolist(), rel=1e-5, abs=1e-7)
    assert d.probs is d.probs  # computed once, then stored on the instance


def test_one_hot_categorical_still_validates_its_parameters():
    with pytest.raises(ValueError, match="probs"):
        minigrad.distributions.OneHotCategorical(probs=minigrad.tensor([-0.5, 1.5]))
    with pytest.raises(ValueError, match="probs"):
        torch.distributions.OneHotCategorical(probs=torch.tensor([-0.5, 1.5]))


def test_binomial_given_logits_keeps_them_and_clamps_derived_logits():
    ours = minigrad.distributions.Binomial(3, logits=minigrad.tensor([0.25, -2.0]))
    theirs = torch.distributions.Binomial(3, logits=torch.tensor([0.25, -2.0]))
    assert _repr(ours) == _repr(theirs)
    assert ours.probs.tolist() == pytest.approx(theirs.probs.tolist(), rel=1e-6)
    edge = minigrad.distributions.Binomial(3, probs=minigrad.tensor([0.0, 1.0]))
    edge_t = torch.distributions.Binomial(3, probs=torch.tensor([0.0, 1.0]))
    assert edge.logits.tolist() == pytest.approx(edge_t.logits.tolist())  # finite, as PyTorch


@pytest.mark.parametrize(
    "make",
    [
        lambda D, t: D.Kumaraswamy(t(1.0), t(2.0)),
        lambda D, t: D.TransformedDistribution(D.Normal(t(0.0), t(1.0)), [D.ExpTransform()]),
        lambda D, t: D.LogNormal(t(0.0), t(1.0)),
        lambda D, t: D.Pareto(t(1.0), t(2.0)),
        lambda D, t: D.HalfCauchy(t([1.0, 2.0])),
        lambda D, t: D.HalfNormal(t([1.0, 2.0])),
        lambda D, t: D.Beta(t([1.0, 2.0]), t([0.5, 3.0])),
    ],
)
def test_families_print_the_parameters_they_store(make):
    """A TransformedDistribution prints as any Distribution (its stored arg_constraints
    parameters): ``Kumaraswamy(concentration1: 1.0, concentration0: 2.0)``; minigrad printed
    every transformed family as ``Name()``. PyTorch keeps HalfNormal's and HalfCauchy's scale
    in their base distribution and Beta's concentrations in a Dirichlet, so those print
    ``Name()`` (minigrad printed their parameters)."""
    ours = make(minigrad.distributions, minigrad.tensor)
    theirs = make(torch.distributions, torch.tensor)
    assert _repr(ours) == _repr(theirs)


@pytest.mark.parametrize("name", ["OneHotCategorical", "OneHotCategoricalStraightThrough"])
@pytest.mark.parametrize("expand", [True, False])
def test_one_hot_categorical_enumerates_its_support(name, expand):
    """``has_enumerate_support`` is True and PyTorch lists the K one-hot vectors (exact
    inference over a discrete latent, as in a Dreamer-style ELBO); minigrad raised
    NotImplementedError."""
    logits = [[0.2, -1.0, 0.5], [1.0, 0.0, 0.0]]
    ours = getattr(minigrad.distributions, name)(logits=minigrad.tensor(logits))
    theirs = getattr(torch.distributions, name)(logits=torch.tensor(logits))
    values, expected = ours.enumerate_support(expand), theirs.enumerate_support(expand)
    assert values.tolist() == expected.tolist() and values.dtype.is_floating_point
    assert ours.log_prob(values).flatten().tolist() == pytest.approx(
        theirs.log_prob(expected).flatten().tolist()
    )


def test_logit_relaxed_bernoulli_has_param_shape():
    ours = minigrad.distributions.relaxed_bernoulli.LogitRelaxedBernoulli(
        minigrad.tensor(0.5), logits=minigrad.zeros(2, 3)
    )
    assert tuple(ours.param_shape) == (2, 3)


def test_kl_to_a_family_with_a_smaller_support_is_infinite():
    p = minigrad.distributions.Beta(minigrad.tensor([1.0, 2.0]), minigrad.tensor([0.5, 3.0]))
    q = minigrad.distributions.Pareto(minigrad.tensor([1.0, 1.0]), minigrad.tensor([2.0, 2.0]))
    kl = minigrad.distributions.kl_divergence(p, q)
    assert kl.tolist() == [float("inf")] * 2 and kl.dtype == minigrad.float32


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_cpu_variance_is_accumulated_in_float64_and_rounded_once(dtype):
    """PyTorch's CPU var/std kernels accumulate in float64 and round to float32 (and then to
    float16/bfloat16, which they compute as float32), so a float32 std (advantage and return
    normalisation in every policy-gradient loop) is the correctly rounded one; minigrad
    computed in float32 and was one ulp off in about a third of the cases."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.standard_normal((4, int(rng.integers(2, 30)))) * 3 + 1
        ours, theirs = minigrad.tensor(x).to(getattr(minigrad, dtype)), torch.tensor(x)
        theirs = theirs.to(getattr(torch, dtype))
        for name in ("var", "std"):
            assert getattr(ours, name)().item() == getattr(theirs, name)().item()
            assert (
                getattr(ours, name)(1).float().tolist() == getattr(theirs, name)(1).float().tolist()
            )
            assert getattr(ours, name)(0, correction=0).float().tolist() == (
                getattr(theirs, name)(0, correction=0).float().tolist()
            )


def test_cpu_variance_keeps_the_input_dtype_and_its_gradient():
    x = minigrad.tensor([[1.0, 2.0, 4.0], [0.5, 0.25, 3.0]], requires_grad=True)
    expected = torch.tensor([[1.0, 2.0, 4.0], [0.5, 0.25, 3.0]], requires_grad=True)
    y, y_t = x.std(1), expected.std(1)
    assert y.dtype == minigrad.float32 and y.grad_fn.name() == y_t.grad_fn.name()
    y.sum().backward()
    y_t.sum().backward()
    assert x.grad.dtype == minigrad.float32
    assert x.grad.flatten().tolist() == pytest.approx(expected.grad.flatten().tolist(), rel=1e-6)


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_returns_the_mean_of_the_same_float64_pass(name):
    """PyTorch's var_mean/std_mean take the mean from their float64 Welford pass (rounded
    once), which differs from ``torch.mean``'s float32 sum by an ulp in most rows; minigrad
    returned ``mean()``'s and matched in 6% of rows."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 200)) * 3 + 1).astype(np.float32)
    spread, centre = getattr(minigrad, name)(minigrad.tensor(x), 1)
    spread_t, centre_t = getattr(torch, name)(torch.tensor(x), 1)
    assert centre.tolist() == centre_t.tolist() and spread.tolist() == spread_t.tolist()
    assert centre.dtype == minigrad.float32 and centre.grad_fn is None
