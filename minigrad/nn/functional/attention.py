"""scaled_dot_product_attention as one fused op with two kernels, picked by sequence length.

``softmax(q·kᵀ·scale + mask)·v`` runs either densely (:mod:`._attention_dense`: the (L, S)
weights of every head kept from forward to backward, the backward working in place) or block by
block (:mod:`._attention_blocks`: an online softmax over tiles, keeping only the output and a
log-sum-exp per query, so memory grows as O(L + S)). :mod:`._attention_select` says which runs
(``minigrad.nn.attention.sdpa_kernel`` narrows the choice, as PyTorch's does). Both have a
closed-form backward on arrays; when the backward must itself be differentiable
(``create_graph``) it recomputes the weights through :class:`AttentionWeights`, whose output
stays connected to q and k — densely, for either kernel.
"""

from __future__ import annotations

import math

from ... import backend, dtypes
from ..._memory_format import follow_layout
from ...autograd import grad_mode
from ...autograd.graph import names_node
from ...ops import Op
from ...ops.base import autocast_inputs, constant
from ._attention_blocks import block_backward, block_forward
from ._attention_dense import (
    AttentionWeights,
    dense_backward,
    dense_forward,
    fused_half,
    half_backward,
    weights_backward,
)
from ._attention_dropout import AttentionDropout
from ._attention_select import (
    check_cpu_backends,
    choose_blocks,
    flash_refusal,
    pytorch_flash_layout,
)

__all__ = ["AttentionWeights", "scaled_dot_product_attention"]


class ScaledDotProductAttention(Op):
    """y = (P ⊙ keep)·v with P = softmax(q·kᵀ·scale + mask), keep = 0 or 1/(1-p) (dropout);
    dv = (P ⊙ keep)ᵀ·dy, dP = (dy·vᵀ) ⊙ keep, then dq, dk, dmask as AttentionWeights

    Called on (q, k, v, mask, dropout) with ``dropout`` an :class:`AttentionDropout` or None.
    ``blocks`` None runs the dense kernel (P kept for backward), else the block-wise kernel with
    those (query, key) block sizes (the output and the log-sum-exp per query kept). ``causal``
    masks keys after each query without an (L, S) mask array.
    """

    save_inputs = True

    def __init__(self, scale: float, mask_is_bool: bool, causal: bool = False, blocks=None):
        self.scale, self.mask_is_bool, self.causal = scale, mask_is_bool, causal
        self.blocks = blocks
        self.save_output = blocks is not None  # block-wise backward uses Σ dy ⊙ y per query

    def forward(self, q, k, v, mask, dropout):
        settings = (self.mask_is_bool, self.causal, dropout, self.scale)
        if self.blocks is None:
            needs = self.needs_input_grad
            half = fused_half(self.xp, v, dropout, len(needs) > 3 and needs[3])
            y, p = dense_forward(self.xp, q, k, v, mask, *settings, half=half)
            if half and needs:  # float16/bfloat16: half_backward reads float32 weights
                self.keep(half_weights=p, half_out=y)
                p = p.astype(q.dtype) if q.dtype == self.xp.float16 else p
            self.keep(weights=p)  # (in the dtype q·kᵀ has, for the graph-building backward)
            return y
        y, lse = block_forward(self.xp, q, k, v, mask, *settings, self.blocks)
        self.keep(lse=lse)
        return y

    def backward(self, gy):
        q, k, v, mask, dropout, *out = self.saved
        needs = self.needs_input_grad[:4]
        if grad_mode.is_grad_enabled():  # create_graph: a differentiable backward
            return self._graph_backward(gy, q, k, v, mask, dropout, needs) + (None,)
        arrays = [None if t is None else t._data for t in (gy, q, k, v, mask)]
        if self.blocks is None:
            kept = self.kept_arrays
            if kept.get("half_out") is None:
                p = kept["weights"]
                grads = dense_backward(self.xp, *arrays[:4], p, dropout, self.scale, needs)
            else:  # float16/bfloat16 as PyTorch's fused CPU kernel
                p, y = kept["half_weights"], kept["half_out"]
                grads = half_backward(self.xp, *arrays[:4], p, y, self.scale, needs)
        else:
            grads = block_backward(
                self.xp, *arrays, self.mask_is_bool, self.causal, dropout, self.scale,
                self.blocks, out[0]._data, self.kept_arrays["lse"], needs,
            )  # fmt: skip
        dev = self.device
        return tuple(None if g is None else constant(g, dev) for g in grads) + (None,)

    def _graph_backward(self, gy, q, k, v, mask, dropout, needs):
        """The backward as tensor ops, differentiable in q, k, v, mask and dy."""
        need_q, need_k, need_v, need_mask = needs
        p = self.reuse(
            "weights",
            lambda: AttentionWeights(self.scale, self.mask_is_bool, self.causal)(q, k, mask),
            q,
            k,
            mask,
        )
        keep = None
        if dropout is not None:
            keep = constant(dropout.mask() * p._data.dtype.type(dropout.scale), gy.device)
        gv = (p if keep is None else p * keep).mT @ gy if need_v else None
        gq = gk = gmask = None
        if need_q or need_k or need_mask:
            gp = gy @ v.mT
            if keep is not None:
                gp = gp * keep
            gq, gk, gmask = weights_backward(p, gp, q, k, self.scale, (need_q, need_k, need_mask))
        return gq, gk, gv, gmask


def _attention_node(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
    enable_gqa=False,
) -> str:  # fmt: skip
    """PyTorch's node of attention on the CPU: its fused kernel's where its dispatcher takes
    the flash kernel (4-D inputs of one batch size and head size without dropout), else the
    last step of its math kernel: the cast back of a float16 or bfloat16 result, or the last
    product (the view of a batched matmul, or a plain matrix product)."""
    shapes = [tuple(t.shape) for t in (query, key, value)]
    nested = query.is_nested  # (named by the shapes alone)
    if getattr(attn_mask, "_sdpa", None) is not None:  # a CausalBias: it runs attention itself
        attn_mask = None
    refusal = None if nested else flash_refusal(query, key, value, attn_mask, dropout_p, enable_gqa)
    if nested or refusal == "empty" or pytorch_flash_layout(refusal):
        if all(len(s) == 4 for s in shapes) and not dropout_p:
            if len({s[0] for s in shapes}) == 1 and len({s[-1] for s in shapes}) == 1:
                return "ScaledDotProductFlashAttentionForCpuBackward0"
    elif query.dtype in (dtypes.float16, dtypes.bfloat16):
        return "ToCopyBackward0"
    return "MmBackward0" if len(shapes[0]) == 2 else "UnsafeViewBackward0"


@names_node(_attention_node)
def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
):
    """Attention of queries over keys, ``softmax(q·kᵀ·scale + mask)·v``, as PyTorch computes it.

    Args:
        query: (..., L, E).
        key: (..., S, E); batch dims broadcast against the query's.
        value: (..., S, Ev).
        attn_mask: bool (True: the query may attend to that key) or float (added to the
            scores), broadcastable to (..., L, S). A query row with no allowed key outputs zeros.
        dropout_p: dropout on the attention weights (applied whenever > 0, as PyTorch; pass 0.0
            in eval mode).
        is_causal: mask keys after each query (upper-left aligned ``tril``). With attn_mask both
            apply, as in PyTorch's CPU flash kernel; where PyTorch's math kernel would run
            instead (dropout, unequal head counts) it raises, as there.
        scale: defaults to 1/√E.
        enable_gqa: let key/value have fewer heads (dim -3) than query, each shared by a group.

    Returns:
        (..., L, Ev).

    float16/bfloat16 on the CPU round where PyTorch's fused CPU kernel does (the softmax
    numerators before the product with v; in backward the weights and dS): outputs and
    gradients are PyTorch's bit for bit for fewer than 16 keys, a rounding apart in some above.

    Example:
        >>> q = k = v = minigrad.randn(2, 4, 8, 16)   # (batch, heads, seq, head dim)
        >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
        minigrad.Size([2, 4, 8, 16])
    """
    sdpa_hook = getattr(attn_mask, "_sdpa", None)  # nn.attention.bias.CausalBias
    if sdpa_hook is not None:
        return sdpa_hook(query, key, value, dropout_p, is_causal, scale, enable_gqa)
    if query.is_nested:  # ragged sequences: each batch entry on its own (minigrad.nested)
        from ...nested._nn import scaled_dot_product_attention as nested_sdpa

        return nested_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)
    query, key, value = autocast_inputs("scaled_dot_product_attention", query, key, value)
    _check_qkv(query, key, value)
    refusal = flash_refusal(query, key, value, attn_mask, dropout_p, enable_gqa)
    if query.device.type == "cpu":
        check_cpu_backends(refusal)
    if enable_gqa:
        key, value = _repeat_heads(query, key), _repeat_heads(query, value)
    if scale is None:  # (an empty head dim: PyTorch divides by sqrt(0) too)
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else math.inf
    scale = float(scale)
    if is_causal and attn_mask is not None:
        attn_mask, is_causal = _causal_and_mask(query, key, attn_mask, refusal), False
    if 0 in (key.shape[-2], query.shape[-2], value.shape[-1]):
        # no keys, queries or value features: PyTorch reads no mask; a query over no keys gets
        # zeros (the weighted sum of none). (An empty batch still has its mask checked.)
        weights = (query @ key.transpose(-2, -1)).softmax(-1)
        return weights @ value
    low = None
    if query.dtype in (dtypes.float16, dtypes.bfloat16) and not pytorch_flash_layout(refusal):
        # PyTorch's math kernel (taken where its flash kernel is not) computes float16 and
        # bfloat16 in float32 and rounds the output once (its last node: ToCopyBackward0)
        low, query, key, value = query.dtype, query.float(), key.float(), value.float()
    mask_is_bool = False
    if attn_mask is not None:
        attn_mask, mask_is_bool = _canonical_mask(attn_mask, query)
    shape = _scores_shape(query, key, attn_mask)
    dropout = _dropout(query, shape, dropout_p)
    blocks = choose_blocks(shape[-2], shape[-1], math.prod(shape[:-2]), is_causal)
    op = ScaledDotProductAttention(scale, mask_is_bool, is_causal, blocks)
    out = op(query, key, value, attn_mask, dropout)
    if low is not None:
        return out.to(low)
    if pytorch_flash_layout(refusal):
        follow_layout(out, query)
    return out


def _causal_and_mask(query, key, attn_mask, refusal):
    """``is_causal=True`` with an ``attn_mask``: PyTorch's CPU flash kernel applies both (the
    mask and the upper-left ``tril``), its math kernel (taken where flash refuses the inputs:
    dropout, other head counts, ...) raises. Returns the one mask that does both."""
    if not pytorch_flash_layout(refusal):
        raise RuntimeError(  # PyTorch's words, naming its kernel
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    causal = key.new_ones(query.shape[-2], key.shape[-2], dtype=dtypes.bool).tril()
    if attn_mask.dtype is dtypes.bool:
        return attn_mask & causal
    return attn_mask.masked_fill(~causal, -math.inf)


def _dropout(query, shape: tuple, p: float):
    """None without dropout, else the :class:`AttentionDropout` of weights of ``shape``."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {p}")
    if p == 0.0:
        return None
    with backend.on(query.device):  # the mask is made on the query's GPU
        generator = backend.default_generator(query.device)
        return AttentionDropout(p, generator, shape, query._data.dtype)


def _canonical_mask(mask, query):
    """The mask as (tensor of at least 2 dims, is_bool); float masks take the query's dtype."""
    if mask.ndim < 2:  # kernels slice the mask's last two dims
        mask = mask.reshape((1,) * (2 - mask.ndim) + tuple(mask.shape))
    if mask.dtype is dtypes.bool:
        return mask, True
    if not mask.dtype.is_floating_point:
        raise TypeError(
            f"scaled_dot_product_attention: attn_mask must be bool or floating point, got "
            f"{mask.dtype}"
        )
    if mask.dtype is not query.dtype:
        mask = mask.to(query.dtype)
    return mask, False


def _check_qkv(q, k, v) -> None:
    name = "scaled_dot_product_attention"
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            f"{name}: query, key and value must have at least 2 dims (..., seq, embed), got "
            f"shapes {list(q.shape)}, {list(k.shape)} and {list(v.shape)}"
        )
    if not (q.dtype is k.dtype is v.dtype) or not q.dtype.is_floating_point:
        raise RuntimeError(
            f"{name}: expected query, key and value to have the same floating dtype, got "
            f"{q.dtype}, {k.dtype} and {v.dtype}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(
            f"{name}: query and key must have the same embedding size (last dim), got query "
            f"{list(q.shape)} and key {list(k.shape)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"{name}: key and value must have the same sequence length (dim -2), got key "
            f"{list(k.shape)} and value {list(v.shape)}"
        )


def _repeat_heads(query, t):
    """``t`` with each head (dim -3) repeated to match the query's head count (grouped queries)."""
    if query.ndim < 3 or t.ndim < 3:
        raise RuntimeError("scaled_dot_product_attention: enable_gqa needs a heads dim (-3)")
    heads, kv_heads = query.shape[-3], t.shape[-3]
    if heads % kv_heads:
        raise RuntimeError(
            f"scaled_dot_product_attention: number of query heads ({heads}) must be divisible by "
            f"the number of key/value heads ({kv_heads}) with enable_gqa"
        )
    rep = heads // kv_heads
    if rep == 1:
        return t
    lead, (s, e) = t.shape[:-3], t.shape[-2:]
    return t.unsqueeze(-3).expand(*lead, kv_heads, rep, s, e).reshape(*lead, heads, s, e)


def _scores_shape(q, k, mask) -> tuple:
    """The shape of the attention weights, (batch..., L, S): the batch dims of q, k (and the
    mask) broadcast; a mask that does not broadcast to it is an error."""
    shapes = [q.shape[:-2], k.shape[:-2]]
    length, source = q.shape[-2], k.shape[-2]
    batch = _broadcast(shapes)
    if batch is None:  # (PyTorch's words from its matmul of q and k)
        ndim = max(len(s) for s in shapes)
        a, b = ((1,) * (ndim - len(s)) + tuple(s) for s in shapes)
        d = next(i for i in range(ndim) if a[i] != b[i] and 1 not in (a[i], b[i]))
        raise RuntimeError(
            f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at "
            f"non-singleton dimension {d} (scaled_dot_product_attention: query and key batch "
            "dims; for fewer key/value heads pass enable_gqa=True)"
        )
    if mask is not None:
        full = batch + (length, source)
        m = tuple(mask.shape)
        ok = m[-2] in (1, length) and m[-1] in (1, source)
        batch = _broadcast(shapes + [m[:-2]]) if ok else None
        if batch is None:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {list(mask.shape)} is not "
                f"broadcastable to the attention weights of shape {list(full)}"
            )
    return batch + (length, source)


def _broadcast(shapes) -> tuple | None:
    """The broadcast of batch shapes, or None where two sizes differ and neither is 1."""
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        sizes = {s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)
