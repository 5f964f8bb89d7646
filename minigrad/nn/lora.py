"""LoRA helpers under short names: ``nn.lora.wrap(model, r, alpha, dropout, target_modules)``,
``nn.lora.merge(model)``, ``nn.lora.unmerge(model)``; see :mod:`minigrad.nn.adapters`."""

from .adapters import LoRALinear
from .adapters import merge_lora as merge
from .adapters import unmerge_lora as unmerge
from .adapters import wrap_lora as wrap

__all__ = ["LoRALinear", "merge", "unmerge", "wrap"]
