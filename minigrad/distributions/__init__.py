"""Probability distributions laid out as ``torch.distributions``: sampling (with
reparameterized ``rsample`` where the family has one), ``log_prob``, ``entropy``, moments and
closed-form KL divergences, with PyTorch's argument validation.

Families: Normal, MultivariateNormal, Uniform, Exponential, Laplace, Bernoulli, Categorical,
OneHotCategorical, Independent (batch dims read as event dims) and MixtureSameFamily (a
Categorical choice among a batch of components); and those built on the
special functions: Gamma, Chi2, Beta, Dirichlet, Poisson, Binomial, Geometric, Cauchy,
HalfNormal, LogNormal, StudentT, TransformedDistribution (a base pushed through
``transforms``, with ``biject_to``/``transform_to`` from the constraint registry), Gumbel,
LogisticNormal, Pareto, Weibull, HalfCauchy, Kumaraswamy, and the relaxed (Gumbel-softmax)
RelaxedBernoulli and RelaxedOneHotCategorical; LowRankMultivariateNormal and VonMises;
ContinuousBernoulli, FisherSnedecor, GeneralizedPareto, InverseGamma, LKJCholesky,
Multinomial, NegativeBinomial, OneHotCategoricalStraightThrough and Wishart. The families
PyTorch derives from ``ExponentialFamily`` derive from it here too. The gamma family
(Gamma, Chi2, Beta, Dirichlet, StudentT, InverseGamma, FisherSnedecor, Wishart) has
``rsample`` through the implicit reparameterization gradient of the gamma draw.

Example (REINFORCE):
    >>> dist = Categorical(logits=policy(state))
    >>> action = dist.sample()
    >>> loss = -(dist.log_prob(action) * advantage).mean()
"""

from . import constraints, transforms
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .mixture_same_family import MixtureSameFamily
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

# isort: split
# -- branch dists: transforms, TransformedDistribution and the constraint registry
from .constraint_registry import biject_to, transform_to
from .gumbel import Gumbel
from .logistic_normal import LogisticNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .relaxed import (
    ExpRelaxedCategorical,
    LogitRelaxedBernoulli,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from .transformed_distribution import TransformedDistribution
from .transformed_families import HalfCauchy, Kumaraswamy, Pareto, Weibull
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .von_mises import VonMises

# isort: split
# -- branch dists2: the exponential-family base and the families added after it
from . import (
    continuous_bernoulli,
    exp_family,
    fishersnedecor,
    generalized_pareto,
    half_cauchy,
    inverse_gamma,
    kumaraswamy,
    lkj_cholesky,
    multinomial,
    negative_binomial,
    pareto,
    relaxed_bernoulli,
    relaxed_categorical,
    weibull,
    wishart,
)
from .continuous_bernoulli import ContinuousBernoulli
from .exp_family import ExponentialFamily
from .fishersnedecor import FisherSnedecor
from .generalized_pareto import GeneralizedPareto
from .inverse_gamma import InverseGamma
from .lkj_cholesky import LKJCholesky
from .multinomial import Multinomial
from .negative_binomial import NegativeBinomial
from .one_hot_categorical import OneHotCategoricalStraightThrough
from .wishart import Wishart

# isort: split
# -- branch special: the families built on lgamma/digamma, and their neighbours
from .beta import Beta
from .binomial import Binomial
from .cauchy import Cauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .gamma import Gamma
from .geometric import Geometric
from .half_normal import HalfNormal
from .log_normal import LogNormal
from .poisson import Poisson
from .studentT import StudentT

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Exponential",
    "Independent",
    "Laplace",
    "MixtureSameFamily",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
    # -- branch dists
    *transforms.__all__,
    "Gumbel",
    "LogisticNormal",
    "TransformedDistribution",
    "biject_to",
    "transform_to",
    "transforms",
    # -- branch special
    "Beta",
    "Binomial",
    "Cauchy",
    "Chi2",
    "Dirichlet",
    "Gamma",
    "Geometric",
    "HalfNormal",
    "LogNormal",
    "Poisson",
    "StudentT",
    # -- branch dists2
    "ContinuousBernoulli",
    "ExponentialFamily",
    "FisherSnedecor",
    "GeneralizedPareto",
    "InverseGamma",
    "LKJCholesky",
    "Multinomial",
    "NegativeBinomial",
    "OneHotCategoricalStraightThrough",
    "Wishart",
    # the families of the transformed and relaxed modules, as in torch.distributions.__all__
    "HalfCauchy",
    "Kumaraswamy",
    "LowRankMultivariateNormal",
    "Pareto",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "VonMises",
    "Weibull",
]
