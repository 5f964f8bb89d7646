"""``minigrad.nn``: modules, parameters, containers, layers, losses, ``init`` and ``functional``;
convolution and pooling, attention and transformer blocks, adapters and LoRA."""

from __future__ import annotations

from . import functional, init, lora, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _layer_names
from .modules import adapters
from .modules._multihead import MultiheadAttention
from .modules.adapters import Adapter, LoRALinear
from .modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .modules.conv import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    MaxPool1d,
    MaxPool2d,
)
from .modules.module import Module, RemovableHandle
from .modules.transformer import (
    CausalSelfAttention,
    FeedForward,
    TransformerDecoderBlock,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .parameter import Buffer, Parameter
from .summary import ModelSummary, summary

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "Adapter",
    "AvgPool1d",
    "AvgPool2d",
    "Buffer",
    "CausalSelfAttention",
    "Conv1d",
    "Conv2d",
    "FeedForward",
    "LoRALinear",
    "MaxPool1d",
    "MaxPool2d",
    "MultiheadAttention",
    "TransformerDecoderBlock",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "Module",
    "ModuleDict",
    "ModuleList",
    "ModelSummary",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "RemovableHandle",
    "Sequential",
    "adapters",
    "functional",
    "init",
    "lora",
    "summary",
    "utils",
    *_layer_names,
]
