"""Probability distributions laid out as ``torch.distributions``: sampling (with
reparameterized ``rsample`` where the family has one), ``log_prob``, ``entropy``, moments and
closed-form KL divergences, with PyTorch's argument validation.

Families: Normal, MultivariateNormal, Uniform, Exponential, Laplace, Bernoulli, Categorical,
OneHotCategorical, and Independent (batch dims read as event dims). Families whose densities
need the gamma function (Beta, Gamma, Dirichlet, Poisson, ...) are not here yet.

Example (REINFORCE):
    >>> dist = Categorical(logits=policy(state))
    >>> action = dist.sample()
    >>> loss = -(dist.log_prob(action) * advantage).mean()
"""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Exponential",
    "Independent",
    "Laplace",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
]
