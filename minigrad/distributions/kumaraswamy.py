"""``torch.distributions.kumaraswamy``: Kumaraswamy (defined in :mod:`.transformed_families`)."""

from .transformed_families import Kumaraswamy

__all__ = ["Kumaraswamy"]
