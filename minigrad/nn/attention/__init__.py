"""``minigrad.nn.attention``, as ``torch.nn.attention``: choosing the kernel that
``scaled_dot_product_attention`` runs, and (submodules) ``flex_attention``.

minigrad has two: ``SDPBackend.MATH`` (dense: the (L, S) weights of every head kept from forward
to backward) and a block-wise, FlashAttention-style kernel named by both
``SDPBackend.FLASH_ATTENTION`` and ``SDPBackend.EFFICIENT_ATTENTION`` (an online softmax over
tiles; memory O(L + S) without dropout). With both enabled (the default) the block-wise one runs from
``BLOCKWISE_FROM`` keys on. Unlike PyTorch's CPU kernels, the block-wise one supports dropout,
masks of every kind and float64; its double backward (``create_graph``) recomputes the weights
densely.

Example:
    >>> from minigrad.nn.attention import SDPBackend, sdpa_kernel
    >>> with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
    ...     y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
"""

from ..functional._attention_select import BLOCKWISE_FROM, SDPBackend, sdpa_kernel

__all__ = ["BLOCKWISE_FROM", "SDPBackend", "sdpa_kernel"]
