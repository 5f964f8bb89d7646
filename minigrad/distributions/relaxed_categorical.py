"""``torch.distributions.relaxed_categorical``: ExpRelaxedCategorical and RelaxedOneHotCategorical (defined in :mod:`.relaxed`)."""

from .relaxed import ExpRelaxedCategorical, RelaxedOneHotCategorical

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]
