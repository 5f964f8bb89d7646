"""``torch.utils.data._utils``'s module paths, which older data pipelines import from
(``from torch.utils.data._utils.collate import default_collate``); the code lives in
``minigrad.utils.data``."""

from . import collate, worker

__all__ = ["collate", "worker"]
