"""``minigrad.nn``, laid out as ``torch.nn``: ``Module`` and the layers in ``nn.modules``
(one file per family, PyTorch's file names), stateless functions and fused ops in
``nn.functional``, ``init``, ``Parameter``/``Buffer``, ``utils`` (gradient clipping, parameter
vectors), the attention-kernel switch ``nn.attention``, and minigrad's own adapters and LoRA
(``nn.adapters``, ``nn.lora``)."""

from __future__ import annotations

from . import adapters, attention, functional, grad, init, lora, modules, parallel, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _module_names
from .modules.module import RemovableHandle
from .parallel import DataParallel
from .parameter import Buffer, Parameter
from .summary import ModelSummary, summary

# -- branch optimutils
# isort: split
from .parameter import UninitializedBuffer, UninitializedParameter

__all__ = [
    "Buffer",
    "DataParallel",
    "ModelSummary",
    "Parameter",
    "RemovableHandle",
    "adapters",
    "attention",
    "functional",
    "init",
    "lora",
    "modules",
    "parallel",
    "summary",
    "utils",
    *_module_names,
    # -- branch optimutils
    "UninitializedBuffer",
    "UninitializedParameter",
]
