"""Trading compute for memory the PyTorch way: ``torch.autograd.graph.saved_tensors_hooks``
(a pack hook that stores saved activations in float16 and counts them, an unpack hook that
restores float32), ``save_on_cpu``, ``torch.utils.checkpoint.checkpoint`` (non-reentrant, a
function with kwargs; reentrant) and ``checkpoint_sequential`` on a deep MLP; every variant's
gradients are compared with plain backward; einsum in sublist format inside the blocks."""

import numpy as np
import torch
import torch.nn as nn
from numpy_init import init_from_numpy, randn
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

rng = np.random.default_rng(12)
x = randn(rng, 16, 12)
y = randn(rng, 16, 4)


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(dim, dim))
        self.bias = nn.Parameter(torch.empty(dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, h):
        z = torch.einsum(h, [0, 1], self.weight, [2, 1], [0, 2]) + self.bias
        return h + torch.tanh(self.norm(z))


blocks = init_from_numpy(nn.Sequential(*[Block(12) for _ in range(6)], nn.Linear(12, 4)), seed=8)


def grads_of(run):
    blocks.zero_grad()
    out = run(x)
    loss = nn.functional.mse_loss(out, y)
    loss.backward()
    return loss.item(), [p.grad.clone() for p in blocks.parameters()]


def gap(a, b):
    return max((u - v).abs().max().item() for u, v in zip(a, b))


plain_loss, plain = grads_of(blocks)
packed = {"count": 0, "elements": 0}


def pack_hook(t):
    packed["count"] += 1
    packed["elements"] += t.numel()
    return t.to(torch.float16) if t.dtype == torch.float32 else t


def unpack_hook(t):
    return t.to(torch.float32) if t.dtype == torch.float16 else t


with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    half_loss, half = grads_of(blocks)
fp16_gap = gap(plain, half)
with torch.autograd.graph.save_on_cpu():
    cpu_loss, on_cpu = grads_of(blocks)
cpu_gap = gap(plain, on_cpu)


def run_checkpointed(inp, use_reentrant=False):
    h = inp
    for block in blocks[:-1]:
        h = checkpoint(block, h, use_reentrant=use_reentrant)
    return blocks[-1](h)


ckpt_loss, ckpt = grads_of(run_checkpointed)
checkpoint_gap = gap(plain, ckpt)
inp = x.clone().requires_grad_()  # the reentrant variant needs an input that requires grad
reentrant_loss, reentrant = grads_of(lambda _: run_checkpointed(inp, use_reentrant=True))
reentrant_gap = gap(plain, reentrant)
seq_loss, seq = grads_of(lambda t: checkpoint_sequential(blocks, 3, t, use_reentrant=False))
sequential_gap = gap(plain, seq)


def scaled_block(h, scale=1.0):
    return blocks[0](h) * scale


kw = x.clone().requires_grad_()
checkpoint(scaled_block, kw, scale=2.0, use_reentrant=False).sum().backward()
kwarg_grad = kw.grad.sum().item()
losses = [plain_loss, half_loss, cpu_loss, ckpt_loss, reentrant_loss, seq_loss]
pack_count = packed["count"]
