"""``torch.distributions.half_cauchy``: HalfCauchy (defined in :mod:`.transformed_families`)."""

from .transformed_families import HalfCauchy

__all__ = ["HalfCauchy"]
