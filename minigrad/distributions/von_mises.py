"""The von Mises distribution: the circular analogue of the normal, on angles."""

from __future__ import annotations

import math

from .. import creation, dtypes
from ..autograd import grad_mode
from ..ops import special, where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


class VonMises(Distribution):
    """VonMises(``loc`` μ, ``concentration`` κ): density e^(κ·cos(x - μ)) / (2π·I₀(κ)) over the
    angles (PyTorch's support is the real line: values are taken modulo 2π).

    ``sample`` draws by Best and Fisher's (1979) rejection scheme, in float64, until every
    element is accepted, from PyTorch's stream; there is no ``rsample``, as in PyTorch."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        kappa = self.concentration
        log_normalizer = math.log(2 * math.pi) + special.i0e(kappa).log() + kappa
        return kappa * (value - self.loc).cos() - log_normalizer

    @property
    def mean(self):
        """The circular mean: ``loc``."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """The circular variance, 1 - I₁(κ)/I₀(κ)."""
        kappa = self.concentration
        return 1 - special.i1e(kappa) / special.i0e(kappa)

    def sample(self, sample_shape=()):
        """Angles in [-π, π) around ``loc``: Best and Fisher's wrapped-Cauchy envelope in
        float64, as PyTorch's (the same stream): each round draws three uniforms per element
        and every element accepted in a round takes that round's angle."""
        shape = self._extended_shape(sample_shape)
        with grad_mode.no_grad():
            kappa = self.concentration.to(dtype=dtypes.float64)
            proposal_r = _proposal_r(kappa)
            device = self.loc.device
            angles = creation.zeros(shape, dtype="float64", device=device)
            done = creation.zeros(shape, dtype="bool", device=device)
            while not bool(done.all()):
                u1, u2, u3 = creation.rand((3, *shape), dtype="float64", device=device).unbind()
                z = (math.pi * u1).cos()
                f = (1 + proposal_r * z) / (proposal_r + z)
                c = kappa * (proposal_r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                angles = where(accept, (u3 - 0.5).sign() * f.acos(), angles)
                done = done | accept
            loc = self.loc.to(dtype=dtypes.float64)
            return ((angles + math.pi + loc).remainder(2 * math.pi) - math.pi).to(self.loc.dtype)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(
            batch_shape, _instance, loc=self.loc.expand(batch_shape),
            concentration=self.concentration.expand(batch_shape),
        )  # fmt: skip


def _proposal_r(kappa):
    """The wrapped-Cauchy envelope's r = (1 + ρ²)/(2ρ), ρ = (τ - √(2τ))/(2κ), τ = 1 + √(1 + 4κ²);
    1/κ + κ (its expansion at 0) below κ = 1e-5, where the closed form cancels."""
    tau = 1 + (1 + 4 * kappa.pow(2)).sqrt()
    rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
    return where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho.pow(2)) / (2 * rho))
