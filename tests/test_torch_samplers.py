"""Same seed, same samples as PyTorch's CPU: bernoulli, dropout, the in-place samplers,
multinomial, rrelu, gamma, Dirichlet, Poisson, binomial and the distributions built on them
(minigrad._torch_samplers).

Comparisons are exact (np.array_equal) where PyTorch's numbers are bit-reproducible; results
that go through float64 ``log1p``/``tan``/``exp`` or float32 softmax/``log1p`` arithmetic
allow a relative 1e-5 (float32) or 1e-12 (float64): PyTorch calls other implementations of
those functions, whose last bit can differ. Each check also draws once more from both
generators (the streams must still agree afterwards) and checks that another seed gives
other numbers.
"""

import contextlib

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]
_RNG = np.random.default_rng(7)
X = _RNG.standard_normal((16, 33))
X4 = _RNG.standard_normal((4, 6, 3, 5))
P = _RNG.random((40, 5))
W = _RNG.random((5, 9)) + 0.05


def _run(lib, fn, seed):
    lib.manual_seed(seed)
    out = fn(lib)
    return np.asarray(out.detach().numpy()), np.asarray(lib.rand(3).numpy())


def check(fn, rtol=0.0, atol=0.0):
    """``fn(lib)`` gives the same numbers with ``lib`` = minigrad and torch, and the streams
    agree afterwards; a different seed changes the numbers."""
    ours, ours_next = _run(minigrad, fn, 0)
    theirs, theirs_next = _run(torch, fn, 0)
    assert ours.shape == theirs.shape
    if rtol or atol:
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours_next, theirs_next)
    other, _ = _run(minigrad, fn, 1)
    assert not np.array_equal(ours, other)


def _tol(dtype, float32=1e-5):
    return float32 if dtype == "float32" else 1e-12


@pytest.mark.parametrize("dtype", DTYPES + ["int64", "bool"])
def test_bernoulli_scalar_p(dtype):
    check(lambda t: t.empty(50, 3, dtype=getattr(t, dtype)).bernoulli_(0.3))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bernoulli_tensor_p(dtype):
    check(lambda t: t.bernoulli(t.tensor(P.astype(dtype))))
    check(lambda t: t.empty(40, 5).bernoulli_(t.tensor(P[:1].astype(dtype))))
    check(lambda t: t.tensor(P.astype(dtype)).bernoulli(0.6))


@pytest.mark.parametrize("dtype", DTYPES)
def test_inplace_samplers(dtype):
    def empty(t):
        return t.empty(301, dtype=getattr(t, dtype))

    check(lambda t: empty(t).geometric_(0.2))
    check(lambda t: empty(t).exponential_(1.5), _tol(dtype, 0.0))
    check(lambda t: empty(t).cauchy_(1.0, 2.0), _tol(dtype, 0.0))
    check(lambda t: empty(t).log_normal_(0.5, 0.7), _tol(dtype, 0.0))
    check(lambda t: t.empty(3, dtype=getattr(t, dtype)).log_normal_(), _tol(dtype, 0.0))


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropouts(dtype):
    x, x4 = X.astype(dtype), X4.astype(dtype)
    for p in (0.2, 0.5):
        check(lambda t, p=p: t.nn.functional.dropout(t.tensor(x), p))
    check(lambda t: t.nn.functional.dropout1d(t.tensor(x4[0]), 0.3))
    check(lambda t: t.nn.functional.dropout2d(t.tensor(x4), 0.3))
    check(lambda t: t.nn.functional.dropout3d(t.tensor(x4), 0.3))
    check(lambda t: t.nn.Dropout(0.4)(t.tensor(x)))
    check(lambda t: t.nn.Dropout2d(0.4)(t.tensor(x4)))
    check(lambda t: t.nn.FeatureAlphaDropout(0.4)(t.tensor(x4)))
    with pytest.warns(UserWarning, match="channel-wise 1D"):  # a 3-D input is (N, C, L)
        check(lambda t: t.nn.functional.dropout2d(t.tensor(x4[0]), 0.3))
    check(lambda t: t.nn.AlphaDropout(0.3)(t.tensor(x)))
    check(lambda t: t.nn.functional.feature_alpha_dropout(t.tensor(x4), 0.3, True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_rrelu_and_gumbel_softmax(dtype):
    x = X.astype(dtype)
    check(lambda t: t.nn.functional.rrelu(t.tensor(x), 0.1, 0.3, training=True))
    check(lambda t: t.nn.functional.gumbel_softmax(t.tensor(x), 0.5), _tol(dtype))
    check(lambda t: t.nn.functional.gumbel_softmax(t.tensor(x), 0.5, hard=True), _tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_standard_gamma_and_dirichlet(dtype):
    alpha = (_RNG.random((60, 4)) * 3 + 0.01).astype(dtype)  # both sides of alpha = 1
    tol = _tol(dtype, 0.0)
    check(lambda t: t.distributions.Gamma(t.tensor(alpha), 1.0).sample(), tol)
    check(lambda t: t.distributions.Dirichlet(t.tensor(alpha)).sample(), tol)
    conc = minigrad.tensor(alpha, requires_grad=True)
    minigrad.distributions.Dirichlet(conc).rsample().select(-1, 0).sum().backward()
    assert conc.grad is not None and bool(minigrad.isfinite(conc.grad).all())


@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_binomial_and_private_samplers(dtype):
    rates = (_RNG.random(300) ** 2 * 40).astype(dtype)  # below and above 10
    rates[:2] = 0
    counts = np.floor(_RNG.random(300) * 80).astype(dtype)
    probs = _RNG.random(300).astype(dtype)
    probs[:3] = [0.0, 1.0, 0.5]
    alpha = (_RNG.random((20, 3)) + 0.2).astype(dtype)
    check(lambda t: t.poisson(t.tensor(rates)))
    check(lambda t: t.binomial(t.tensor(counts), t.tensor(probs)))
    check(lambda t: t.distributions.Poisson(t.tensor(rates)).sample((2,)))
    check(lambda t: t.distributions.Binomial(t.tensor(counts), t.tensor(probs)).sample())
    check(lambda t: t._standard_gamma(t.tensor(alpha)), _tol(dtype, 0.0))
    check(lambda t: t._sample_dirichlet(t.tensor(alpha)), _tol(dtype, 0.0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k, replacement", [(1, False), (1, True), (4, False), (6, True)])
def test_multinomial(dtype, k, replacement):
    w = W.astype(dtype)
    check(lambda t: t.multinomial(t.tensor(w), k, replacement))
    check(lambda t: t.multinomial(t.tensor(w[0]), k, replacement))


def test_attention_and_recurrent_dropout():
    x = X[:12, :11].reshape(3, 4, 11).astype("float32")

    def mha(t):
        layer = t.nn.MultiheadAttention(11, 1, dropout=0.3, batch_first=True)
        q = t.tensor(x)
        return layer(q, q, q)[0] + layer(q, q, q, need_weights=False)[0]

    # float32 matrix products: the numbers agree to rounding; the dropped entries exactly
    check(mha, 1e-5, 1e-6)
    check(
        lambda t: t.nn.functional.scaled_dot_product_attention(
            t.tensor(x), t.tensor(x), t.tensor(x), dropout_p=0.4
        ),
        1e-5,
        1e-6,
    )
    encoder = lambda t: t.nn.TransformerEncoderLayer(11, 1, 16, 0.2, batch_first=True)  # noqa: E731
    check(lambda t: encoder(t)(t.tensor(x)), 1e-5, 1e-6)
    for kind in ("RNN", "LSTM", "GRU"):
        check(lambda t, k=kind: getattr(t.nn, k)(11, 6, 3, dropout=0.4)(t.tensor(x))[0], 1e-5, 1e-6)


def _distributions(t, dtype, name):
    """Distribution ``name`` of library ``t`` with fixed parameters of ``dtype``."""
    d, r = t.distributions, np.random.default_rng(3)
    loc, scale = r.standard_normal((3, 4)), r.random((3, 4)) + 0.5
    probs, weights = r.random((3, 4)) * 0.9 + 0.05, r.random((3, 5)) + 0.1
    tril = np.tril(r.standard_normal((3, 3))) + 3 * np.eye(3)
    loc, scale, probs, weights, tril, temp = (
        t.tensor(a.astype(dtype)) for a in (loc, scale, probs, weights, tril, np.array(0.7))
    )
    return _MAKERS[name](d, loc, scale, probs, weights, tril, temp)


_MAKERS = {
    "Normal": lambda d, loc, scale, *_: d.Normal(loc, scale),
    "Uniform": lambda d, loc, scale, *_: d.Uniform(loc, loc + scale),
    "Bernoulli": lambda d, loc, scale, probs, *_: d.Bernoulli(probs=probs),
    "Categorical": lambda d, loc, scale, probs, w, *_: d.Categorical(probs=w),
    "OneHotCategorical": lambda d, loc, scale, probs, w, *_: d.OneHotCategorical(probs=w),
    "Exponential": lambda d, loc, scale, *_: d.Exponential(scale),
    "MultivariateNormal": lambda d, loc, s, p, w, tril, _: d.MultivariateNormal(
        loc[0, :3], scale_tril=tril
    ),
    "LogNormal": lambda d, loc, scale, *_: d.LogNormal(loc, scale),
    "Laplace": lambda d, loc, scale, *_: d.Laplace(loc, scale),
    "Cauchy": lambda d, loc, scale, *_: d.Cauchy(loc, scale),
    "Gumbel": lambda d, loc, scale, *_: d.Gumbel(loc, scale),
    "Geometric": lambda d, loc, scale, probs, *_: d.Geometric(probs),
    "RelaxedBernoulli": lambda d, loc, s, probs, w, tril, temp: d.RelaxedBernoulli(
        temp, probs=probs
    ),
    "RelaxedOneHotCategorical": lambda d, loc, s, p, w, tril, temp: d.RelaxedOneHotCategorical(
        temp, probs=w
    ),
    "Multinomial": lambda d, loc, scale, probs, w, *_: d.Multinomial(7, probs=w),
    "Gamma": lambda d, loc, scale, *_: d.Gamma(scale, scale + 1),
    "Chi2": lambda d, loc, scale, *_: d.Chi2(scale * 3),
    "Beta": lambda d, loc, scale, probs, *_: d.Beta(scale, probs + 0.2),
    "Dirichlet": lambda d, loc, scale, probs, w, *_: d.Dirichlet(w),
    "StudentT": lambda d, loc, scale, *_: d.StudentT(scale * 4, loc, scale),
}


EXACT = {"Uniform", "Bernoulli", "Categorical", "OneHotCategorical", "Geometric", "Multinomial"}
EXACT_FLOAT32 = {"Gamma", "Chi2", "Beta", "Dirichlet", "Exponential", "Cauchy"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(_MAKERS))
def test_distribution_samples(name, dtype):
    def draw(t):
        dist = _distributions(t, dtype, name)
        return dist.rsample((2,)) if dist.has_rsample else dist.sample((2,))

    exact = name in EXACT or (dtype == "float32" and name in EXACT_FLOAT32)
    check(draw, 0.0 if exact else _tol(dtype))


def test_transposed_tensors_draw_in_memory_order():
    # PyTorch fills empty_like(x) (dropout's mask, bernoulli_'s output) in memory order
    check(lambda t: t.empty(5, 4).t().bernoulli_(0.5))
    check(lambda t: t.empty(3, 4).t().bernoulli_(t.full((4, 3), 0.3)))
    check(lambda t: t.nn.functional.dropout(t.tensor(X[:6, :4]).t(), 0.5))


def test_sampler_parameters_are_checked_as_pytorch():
    for call in (
        lambda t: t.empty(3).bernoulli_(1.5),
        lambda t: t.bernoulli(t.tensor([-0.1])),
        lambda t: t.empty(3).exponential_(0.0),
        lambda t: t.empty(3).geometric_(1.0),
        lambda t: t.empty(3).log_normal_(1.0, 0.0),
        lambda t: t.empty(3).cauchy_(0.0, 0.0),
    ):
        for lib in (minigrad, torch):
            with pytest.raises(RuntimeError):
                call(lib)


def test_compiled_steps_replay_the_new_draws():
    x, p = minigrad.ones(64), minigrad.full((64,), 0.5)

    def step(x):
        return minigrad.nn.functional.dropout(x, 0.5).sum()

    def step_probs(p):  # a draw from tensor values: the step runs eagerly
        return minigrad.bernoulli(p).sum()

    for fn, arg in ((step, x), (step_probs, p)):
        compiled = minigrad.compile(fn)
        minigrad.manual_seed(0)
        with pytest.warns(RuntimeWarning) if fn is step_probs else contextlib.nullcontext():
            ours = [compiled(arg).item() for _ in range(4)]
        minigrad.manual_seed(0)
        assert ours == [fn(arg).item() for _ in range(4)] and len(set(ours)) > 1


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Beta", "Dirichlet", "StudentT"])
def test_distribution_sample_without_gradient(name):
    # these have a sample() of their own beside rsample()
    check(lambda t: _distributions(t, "float32", name).sample((2,)), 1e-6)


def test_other_devices_draw_the_same_distributions(device):
    # GPUs keep their counter-based generator: the same laws, other numbers than the CPU's
    minigrad.manual_seed(0)
    n = 4000
    ones = minigrad.ones(n, device=device)
    assert abs(float(minigrad.nn.functional.dropout(ones, 0.25).mean()) - 1.0) < 0.1
    assert abs(float(minigrad.bernoulli(ones * 0.3).mean()) - 0.3) < 0.05
    assert abs(float(minigrad.empty(n, device=device).exponential_(2.0).mean()) - 0.5) < 0.05
    assert abs(float(minigrad.empty(n, device=device).geometric_(0.5).mean()) - 2.0) < 0.15
    assert float(minigrad.empty(n, device=device).log_normal_(0.0, 0.5).min()) > 0
    assert abs(float(minigrad.empty(n, device=device).cauchy_().median())) < 0.1
    assert abs(float(minigrad.poisson(ones * 3.0).mean()) - 3.0) < 0.15
    assert abs(float(minigrad.binomial(ones * 10, ones * 0.5).mean()) - 5.0) < 0.2
    gamma = minigrad.distributions.Gamma(ones * 2.0, 1.0).sample()
    assert abs(float(gamma.mean()) - 2.0) < 0.15
    draws = minigrad.multinomial(minigrad.tensor([0.2, 0.8], device=device), n, True)
    assert abs(float(draws.double().mean()) - 0.8) < 0.05


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_dropout(dtype):
    # the mask's scale 1/(1 - p) is rounded as PyTorch's div_ rounds it
    check(lambda t: t.nn.functional.dropout(t.tensor(X).to(getattr(t, dtype)), 0.37).float())
