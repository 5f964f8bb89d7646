"""Nested forms of ``nn.functional`` functions whose dense forms work on the shape before
any op runs (``F.dropout`` and ``F.scaled_dot_product_attention`` hand nested inputs here)."""

from __future__ import annotations

from .._memory_format import jagged
from ..tensor import Tensor
from ._core import buffer_of, components, make, pack
from ._rules import _map, _nt, _repack


def map_components(input, fn) -> Tensor:
    """``fn`` on each component of nested ``input``, packed again in its layout (for functions
    such as ``F.embedding`` whose input is read before any op runs)."""
    return _map(input, fn)


def dropout(input, p: float, training: bool, inplace: bool = False) -> Tensor:
    """Dropout of a nested tensor: one mask over its packed values."""
    from ..nn.functional import dropout as dense_dropout

    if not training or p == 0.0:
        return input
    out = make(dense_dropout(buffer_of(input), p, training), input._data.meta)
    return input.copy_(out) if inplace else out


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False) -> Tensor:  # fmt: skip
    """Attention of each batch entry on its own (q, k, v components): the ragged-sequence
    pattern of PyTorch's nested-tensor tutorial ((B, H, j, E) jagged q, k, v)."""
    from ..nn.functional import scaled_dot_product_attention as dense_sdpa

    if attn_mask is not None:
        raise NotImplementedError(
            "scaled_dot_product_attention: minigrad takes no attn_mask with nested q/k/v (as "
            "PyTorch's nested kernels); use is_causal or pad the batch"
        )
    parts = []
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not _nt(t):
            raise RuntimeError(
                f"scaled_dot_product_attention: expected {name} to be nested like the others"
            )
        parts.append(components(t))
    if not len(parts[0]) == len(parts[1]) == len(parts[2]):
        raise RuntimeError("scaled_dot_product_attention: q, k and v differ in batch size")
    out = [
        dense_sdpa(q, k, v, None, dropout_p, is_causal, scale, enable_gqa)
        for q, k, v in zip(*parts)
    ]
    meta = query._data.meta
    if meta.layout is jagged and meta.ragged_idx == 2 and len(meta.shape) == 4:
        # (B, H, j, D) from a (B, j, H, D) batch: PyTorch's kernel writes (sum j, H, D)
        # values, so that ``out.transpose(1, 2).view(B, -1, H * D)`` works as there
        return pack([o.transpose(0, 1) for o in out], jagged, 1, like=meta).transpose(1, 2)
    return _repack(out, meta)
