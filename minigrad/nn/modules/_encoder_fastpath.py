"""What PyTorch's nested-tensor fast path of ``nn.TransformerEncoder`` does to results.

In inference (eval mode, no gradient needed, a ``src_key_padding_mask`` and no ``mask``),
PyTorch packs the batch into a nested tensor holding only each row's kept tokens, runs the
layers on it and pads the result back with zeros before the final norm. The kept positions get
the values masked attention gives; the padded ones come out as 0 (then through the norm).
minigrad computes with the padding mask and zeroes those positions, so programs see PyTorch's
numbers. Whether a layer allows the path is decided once, when the stack is built, with
PyTorch's reason in a warning when ``enable_nested_tensor=True`` cannot be honoured.
"""

from __future__ import annotations

from ... import _autocast_state, dtypes
from ..._nested_record import warn_prototype
from ...autograd import grad_mode
from ...backends import mha
from ...creation import arange
from .. import functional as F
from .activation import GELU, ReLU


def why_not_nested(layer, layer_type) -> str:
    """PyTorch's reason a stack of ``layer`` cannot use nested tensors ('' when it can)."""
    name = "encoder_layer"
    attention = getattr(layer, "self_attn", None)
    if not isinstance(layer, layer_type):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not attention.batch_first:
        return (
            f"{name}.self_attn.batch_first was not True"
            "(use batch_first for better inference performance)"
        )
    if not attention._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if attention.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not _relu_or_gelu(layer.activation):
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if attention.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


def _relu_or_gelu(activation) -> bool:
    return activation in (F.relu, F.gelu) or isinstance(activation, (ReLU, GELU))


def nested_padding(encoder, src, mask, src_key_padding_mask):
    """The (N, S) padding PyTorch's nested path drops, or None when it would not take it.

    Each row keeps its first ``count`` tokens, ``count`` being its number of kept positions
    (what ``_nested_tensor_from_mask`` does; with ``mask_check`` a mask that is not
    left-aligned turns the path off instead)."""
    first = encoder.layers[0]
    if not (getattr(encoder, "use_nested_tensor", False) and mha.get_fastpath_enabled()):
        return None
    if first.training or src.ndim != 3 or src_key_padding_mask is None or mask is not None:
        return None
    if _autocast_state.is_autocast_enabled() or getattr(src, "is_nested", False):
        return None
    if grad_mode.is_grad_enabled() and (
        src.requires_grad or any(p.requires_grad for p in first.parameters())
    ):
        return None
    pad = src_key_padding_mask
    keep = ~pad if pad.dtype is dtypes.bool else pad == 0
    keep = keep.to(src.device)
    if encoder.mask_check and bool((keep[:, 1:] & ~keep[:, :-1]).any()):
        return None  # not left-aligned: PyTorch falls back to the masked computation
    counts = keep.to(dtypes.int64).sum(1, keepdim=True)
    warn_prototype()  # PyTorch's path packs the rows into a strided nested tensor
    return arange(keep.shape[1], device=src.device).unsqueeze(0) >= counts
