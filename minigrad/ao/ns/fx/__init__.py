"""``torch.ao.ns.fx``: the error measures (:mod:`.utils`) of the Numeric Suite."""

from . import utils

__all__ = ["utils"]
