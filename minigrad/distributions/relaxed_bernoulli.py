"""``torch.distributions.relaxed_bernoulli``: LogitRelaxedBernoulli and RelaxedBernoulli (defined in :mod:`.relaxed`)."""

from .relaxed import LogitRelaxedBernoulli, RelaxedBernoulli

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]
