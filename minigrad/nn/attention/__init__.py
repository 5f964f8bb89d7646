"""``minigrad.nn.attention``, as ``torch.nn.attention``: choosing the kernel that
``scaled_dot_product_attention`` runs; submodules ``flex_attention``, ``bias`` (causal masks)
and ``varlen``.

minigrad has two: ``SDPBackend.MATH`` (dense: the (L, S) weights of every head kept from forward
to backward) and a block-wise, FlashAttention-style kernel named by both
``SDPBackend.FLASH_ATTENTION`` and ``SDPBackend.EFFICIENT_ATTENTION`` (an online softmax over
tiles; memory O(L + S) without dropout). With both enabled (the default) the block-wise one runs from
``BLOCKWISE_FROM`` keys on; it supports dropout, masks of every kind and float64, and its
double backward (``create_graph``) recomputes the weights densely. On CPU tensors ``sdpa_kernel``
refuses what PyTorch's CPU build refuses: FLASH_ATTENTION alone with inputs PyTorch's flash
kernel does not take ("No available kernel.  Aborting execution." after its warnings), and
EFFICIENT_ATTENTION or CUDNN_ATTENTION alone ("No viable backend ...").

Example:
    >>> from minigrad.nn.attention import SDPBackend, sdpa_kernel
    >>> with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
    ...     y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
"""

from ..functional._attention_select import BLOCKWISE_FROM, SDPBackend, sdpa_kernel
from ._flash_impls import (
    WARN_FOR_UNFUSED_KERNELS,
    activate_flash_attention_impl,
    current_flash_attention_impl,
    list_flash_attention_impls,
    register_flash_attention_impl,
    restore_flash_attention_impl,
)

__all__ = [
    "BLOCKWISE_FROM",
    "SDPBackend",
    "sdpa_kernel",
    "WARN_FOR_UNFUSED_KERNELS",
    "register_flash_attention_impl",
    "activate_flash_attention_impl",
    "list_flash_attention_impls",
    "current_flash_attention_impl",
    "restore_flash_attention_impl",
]
