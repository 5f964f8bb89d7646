"""LoRA helpers under short names: ``nn.lora.wrap(model, r, alpha, dropout, target_modules)``,
``nn.lora.merge(model)``, ``nn.lora.unmerge(model)``; see :mod:`minigrad.nn.adapters`."""

from .modules.adapters import LoRALinear
from .modules.adapters import merge_lora as merge
from .modules.adapters import unmerge_lora as unmerge
from .modules.adapters import wrap_lora as wrap

__all__ = ["LoRALinear", "merge", "unmerge", "wrap"]
