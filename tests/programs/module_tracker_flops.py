"""Per-module accounting as torchtitan-era tooling writes it: ``torch.utils.module_tracker.
ModuleTracker`` asked from inside a custom ``autograd.Function`` which modules are running
(``tracker.parents``) and whether it is the backward pass (``tracker.is_bw``), so that every
matrix product of a small transformer block is charged to its module, forward and backward;
``FlopCounterMode(display=False)`` counts the same step (total and per module), and the
training script's MFU arithmetic (6·N FLOPs per token) is checked against the counter."""

from collections import defaultdict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode
from torch.utils.module_tracker import ModuleTracker

torch.manual_seed(0)
calls = defaultdict(list)


class Probe(torch.autograd.Function):
    """Identity that records where it runs, forward and backward."""

    @staticmethod
    def forward(ctx, x, tag):
        ctx.tag = tag
        calls[tag].append(("fw", sorted(tracker.parents), tracker.is_bw))
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        calls[ctx.tag].append(("bw", sorted(tracker.parents), tracker.is_bw))
        return grad, None


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, d // self.heads).unbind(2)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / (d // self.heads) ** 0.5
        att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        y = Probe.apply(att.softmax(-1) @ v, "attention")
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim=16, heads=2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + Probe.apply(self.mlp(self.norm2(x)), "mlp")


class TinyLM(nn.Module):
    def __init__(self, vocab=32, dim=16, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(Block(dim) for _ in range(layers))
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, idx):
        x = self.embed(idx)
        for layer in self.layers:
            x = layer(x)
        return self.head(Probe.apply(x, "trunk"))


model = TinyLM()
idx = torch.randint(0, 32, (2, 8))
targets = torch.randint(0, 32, (2, 8))

with ModuleTracker() as tracker:
    outside = sorted(tracker.parents)
    loss = F.cross_entropy(model(idx).flatten(0, 1), targets.flatten())
    between = (sorted(tracker.parents), tracker.is_bw)
    loss.backward()
    after = (sorted(tracker.parents), tracker.is_bw)

trace = {tag: entries for tag, entries in calls.items()}
print(f"attention probe (forward, layer 0): {trace['attention'][0]}")

model.zero_grad()
with FlopCounterMode(display=False) as counter:
    loss = F.cross_entropy(model(idx).flatten(0, 1), targets.flatten())
    loss.backward()
total_flops = counter.get_total_flops()
by_module = counter.get_flop_counts()
module_flops = {
    name: sum(by_module[name].values())
    for name in ("TinyLM", "TinyLM.head", "TinyLM.layers.0.attn", "TinyLM.layers.1.mlp")
}
op_names = sorted(str(op) for op in by_module["TinyLM"])

n_tokens = idx.numel()
n_params = sum(p.numel() for name, p in model.named_parameters() if "embed" not in name)
dense_flops = 6 * n_params * n_tokens  # the training script's estimate (no attention scores)
attention_flops = total_flops - dense_flops
print(f"total {total_flops} flops, 6*N*T = {dense_flops}, attention scores {attention_flops}")
