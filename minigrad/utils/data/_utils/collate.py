"""``torch.utils.data._utils.collate``: the default batch collation and conversion."""

from .._collate import default_collate, default_convert

__all__ = ["default_collate", "default_convert"]
