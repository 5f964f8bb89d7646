"""``torch.distributions.pareto``: Pareto (defined in :mod:`.transformed_families`)."""

from .transformed_families import Pareto

__all__ = ["Pareto"]
