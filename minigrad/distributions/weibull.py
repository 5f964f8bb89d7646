"""``torch.distributions.weibull``: Weibull (defined in :mod:`.transformed_families`)."""

from .transformed_families import Weibull

__all__ = ["Weibull"]
