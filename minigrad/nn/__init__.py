"""``minigrad.nn``: modules, parameters, containers, layers, losses, ``init`` and ``functional``;
convolution and pooling, attention and transformer blocks, adapters and LoRA."""

from __future__ import annotations

from . import adapters, functional, init, lora, parallel, utils
from .adapters import Adapter, LoRALinear
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv_layers import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    MaxPool1d,
    MaxPool2d,
)
from .layers import *  # noqa: F403
from .layers import __all__ as _layer_names
from .module import Module, RemovableHandle
from .multihead import MultiheadAttention
from .parameter import Buffer, Parameter
from .summary import ModelSummary, summary
from .transformer import (
    CausalSelfAttention,
    FeedForward,
    TransformerDecoderBlock,
    TransformerEncoder,
    TransformerEncoderLayer,
)

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
    "parallel",
    "summary",
    "utils",
    *_layer_names,
]
