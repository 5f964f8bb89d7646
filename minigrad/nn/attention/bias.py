"""``minigrad.nn.attention.bias``, as ``torch.nn.attention.bias``: causal masks aligned to the
upper-left or the lower-right corner of the (L, S) scores, passed to
``F.scaled_dot_product_attention`` as ``attn_mask``.

``causal_upper_left(L, S)`` lets query i see keys j <= i (``is_causal=True``);
``causal_lower_right(L, S)`` lets it see j <= i + S - L, so the last query sees every key (a
decoder step over a KV cache). Unlike PyTorch's, :class:`CausalBias` is not a Tensor subclass:
it works as an ``attn_mask`` of ``scaled_dot_product_attention`` and materializes with
``_materialize()``; other ops need that bool tensor.

Example:
    >>> from minigrad.nn.attention.bias import causal_lower_right
    >>> y = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(4, 10))
"""

from __future__ import annotations

from enum import IntEnum

from ... import creation, dtypes
from ..._warnings import warn_user
from ..functional.attention import scaled_dot_product_attention

__all__ = ["CausalBias", "CausalVariant", "causal_lower_right", "causal_upper_left"]


class CausalVariant(IntEnum):
    """Where the causal diagonal starts: the upper-left or the lower-right corner."""

    UPPER_LEFT = 1
    LOWER_RIGHT = 2


class CausalBias:
    """A causal attention mask of (seq_len_q, seq_len_kv), materialized only when needed."""

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise TypeError(f"CausalBias: variant must be a CausalVariant, got {variant!r}")
        self.variant = variant
        self.seq_len_q = int(seq_len_q)
        self.seq_len_kv = int(seq_len_kv)
        if variant is CausalVariant.LOWER_RIGHT and self.seq_len_q > self.seq_len_kv:
            warn_user(
                "Lower right causal bias: the first seq_len_q - seq_len_kv queries see no key "
                "(their attention output is zeros)"
            )

    shape = property(lambda self: (self.seq_len_q, self.seq_len_kv))
    dtype = dtypes.bool

    def _upper_left(self, device=None):
        """Query i sees keys j <= i."""
        q = creation.arange(self.seq_len_q, device=device).reshape(-1, 1)
        return q >= creation.arange(self.seq_len_kv, device=device)

    def _lower_right(self, device=None):
        """Query i sees keys j <= i + seq_len_kv - seq_len_q."""
        q = creation.arange(self.seq_len_q, device=device).reshape(-1, 1)
        return q + (self.seq_len_kv - self.seq_len_q) >= creation.arange(
            self.seq_len_kv, device=device
        )

    def _materialize(self, device=None):
        """The (seq_len_q, seq_len_kv) bool mask (True: may attend)."""
        if self.variant is CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        return self._lower_right(device)

    def _sdpa(self, query, key, value, dropout_p, is_causal, scale, enable_gqa):
        """``scaled_dot_product_attention`` with this mask (the causal kernel where it can)."""
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if (query.shape[-2], key.shape[-2]) != self.shape:
            raise RuntimeError(
                f"scaled_dot_product_attention: CausalBias of shape {self.shape} does not match "
                f"query length {query.shape[-2]} and key length {key.shape[-2]}"
            )
        square = self.seq_len_q == self.seq_len_kv
        if self.variant is CausalVariant.UPPER_LEFT or square:
            return scaled_dot_product_attention(
                query, key, value, None, dropout_p, True, scale, enable_gqa
            )
        mask = self._lower_right(query.device)
        return scaled_dot_product_attention(
            query, key, value, mask, dropout_p, False, scale, enable_gqa
        )

    def __repr__(self) -> str:
        return repr(self._materialize())


def causal_upper_left(*size) -> CausalBias:
    """A :class:`CausalBias` of ``size`` = (seq_len_q, seq_len_kv) aligned to the upper left."""
    if len(size) != 2:
        raise ValueError(f"causal_upper_left only supports 2D tensors, got size {size}")
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size) -> CausalBias:
    """A :class:`CausalBias` of ``size`` = (seq_len_q, seq_len_kv) aligned to the lower right."""
    if len(size) != 2:
        raise ValueError(f"causal_lower_right only supports 2D tensors, got size {size}")
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
