"""Blockwise attention with the online softmax, as FlashAttention's pseudo-code and the
ring-attention reference code (``ring-flash-attention``'s ``update_out_and_lse``) write it in
plain PyTorch: the sequence is split over simulated "devices", key/value chunks travel round
the ring, each block's partial output and log-sum-exp are merged with ``torch.sigmoid`` and
``F.logsigmoid`` (causal: later chunks are skipped, the diagonal one is masked); and a
FlashAttention-style ``torch.autograd.Function`` whose forward keeps a running max and
denominator per row and saves only the log-sum-exp, and whose backward recomputes the
probabilities block by block. Both match ``F.scaled_dot_product_attention`` and its gradients;
the Function passes ``gradcheck`` in float64 and trains a small attention model."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
B, H, S, D, WORLD, BLOCK = 2, 2, 16, 8, 4, 4


def block_attention(q, k, v, causal):
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))
    if causal:
        mask = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
    lse = torch.logsumexp(scores, dim=-1, keepdim=True)
    return torch.exp(scores - lse) @ v, lse


def update_out_and_lse(out, lse, block_out, block_lse):
    if out is None:
        return block_out, block_lse
    out = out - F.sigmoid(block_lse - lse) * (out - block_out)
    lse = lse - F.logsigmoid(lse - block_lse)
    return out, lse


def ring_attention(q, k, v, causal=True):
    qs, ks, vs = (t.chunk(WORLD, dim=-2) for t in (q, k, v))
    outs = []
    for rank in range(WORLD):
        out = lse = None
        for step in range(WORLD):  # at step s, rank r holds the kv chunk of rank (r - s) % WORLD
            src = (rank - step) % WORLD
            if causal and src > rank:
                continue
            block_out, block_lse = block_attention(
                qs[rank], ks[src], vs[src], causal and src == rank
            )
            out, lse = update_out_and_lse(out, lse, block_out, block_lse)
        outs.append(out)
    return torch.cat(outs, dim=-2)


class FlashAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        scale = 1.0 / math.sqrt(q.size(-1))
        m = torch.full(q.shape[:-1] + (1,), float("-inf"), dtype=q.dtype)
        denom = torch.zeros_like(m)
        acc = torch.zeros_like(q)
        for start in range(0, k.size(-2), BLOCK):
            kb, vb = k[..., start : start + BLOCK, :], v[..., start : start + BLOCK, :]
            s = q @ kb.transpose(-1, -2) * scale
            m_new = torch.maximum(m, s.amax(dim=-1, keepdim=True))
            p = torch.exp(s - m_new)
            correction = torch.exp(m - m_new)
            denom = denom * correction + p.sum(dim=-1, keepdim=True)
            acc = acc * correction + p @ vb
            m = m_new
        out = acc / denom
        ctx.save_for_backward(q, k, v, out, m + torch.log(denom))
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, out, lse = ctx.saved_tensors
        delta = (grad_out * out).sum(dim=-1, keepdim=True)
        dq, dk, dv = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
        for start in range(0, k.size(-2), BLOCK):
            kb, vb = k[..., start : start + BLOCK, :], v[..., start : start + BLOCK, :]
            p = torch.exp(q @ kb.transpose(-1, -2) * ctx.scale - lse)
            dv[..., start : start + BLOCK, :] = p.transpose(-1, -2) @ grad_out
            dp = grad_out @ vb.transpose(-1, -2)
            ds = p * (dp - delta) * ctx.scale
            dq += ds @ kb
            dk[..., start : start + BLOCK, :] = ds.transpose(-1, -2) @ q
        return dq, dk, dv


q, k, v = (torch.randn(B, H, S, D, requires_grad=True) for _ in range(3))
reference = F.scaled_dot_product_attention(q, k, v, is_causal=True)
ring = ring_attention(q, k, v)
ring_gap = (ring - reference).abs().max().item()
upstream = torch.randn_like(reference)
ref_grads = torch.autograd.grad(reference, (q, k, v), upstream)
ring_grads = torch.autograd.grad(ring, (q, k, v), upstream)
ring_grad_gap = max((a - b).abs().max().item() for a, b in zip(ring_grads, ref_grads))
noncausal_gap = (
    (ring_attention(q, k, v, causal=False) - F.scaled_dot_product_attention(q, k, v))
    .abs()
    .max()
    .item()
)

flash = FlashAttention.apply(q, k, v)
plain = F.scaled_dot_product_attention(q, k, v)
flash_gap = (flash - plain).abs().max().item()
flash_grads = torch.autograd.grad(flash, (q, k, v), upstream)
plain_grads = torch.autograd.grad(plain, (q, k, v), upstream)
flash_grad_gap = max((a - b).abs().max().item() for a, b in zip(flash_grads, plain_grads))
dk_sample = flash_grads[1][0, 0, 0, :4].tolist()
small = [torch.randn(1, 1, 8, 4, dtype=torch.float64, requires_grad=True) for _ in range(3)]
gradcheck_ok = torch.autograd.gradcheck(FlashAttention.apply, small, eps=1e-6, atol=1e-5)
grad_fn_name = type(flash.grad_fn).__name__


class TinyAttentionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv, self.out = nn.Linear(D, 3 * D), nn.Linear(D, 1)

    def forward(self, x):
        q, k, v = self.qkv(x).unsqueeze(1).chunk(3, dim=-1)
        return self.out(FlashAttention.apply(q, k, v).squeeze(1)).squeeze(-1)


model = TinyAttentionModel()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
x = torch.randn(8, S, D)
target = x[..., 0].cumsum(-1) / torch.arange(1, S + 1)  # a mean over the sequence
losses = []
for step in range(15):
    loss = F.mse_loss(model(x), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
