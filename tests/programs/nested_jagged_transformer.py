"""A transformer encoder layer trained on ragged batches with jagged nested tensors, as the
"Accelerating PyTorch Transformers by replacing nn.Transformer with Nested Tensors" tutorial
builds it: packed QKV projection, ``unflatten``/``transpose`` into heads, SDPA on the jagged
layout, ``nn.LayerNorm`` and an MLP on the packed values, residual adds; a per-sequence mean
pool from ``values()`` and ``offsets()``; a few optimizer steps, compared with running each
sequence alone through the same layer."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    def __init__(self, E, nheads):
        super().__init__()
        self.nheads = nheads
        self.packed_proj = nn.Linear(E, 3 * E)
        self.out_proj = nn.Linear(E, E)

    def forward(self, x):
        # (PyTorch's CPU kernels want each of q, k, v contiguous before the transpose)
        q, k, v = (t.contiguous() for t in torch.chunk(self.packed_proj(x), 3, dim=-1))
        q, k, v = (t.unflatten(-1, [self.nheads, -1]).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out_proj(out.transpose(1, 2).flatten(-2))


class EncoderLayer(nn.Module):
    def __init__(self, E, nheads, hidden):
        super().__init__()
        self.attn = MultiHeadAttention(E, nheads)
        self.norm1, self.norm2 = nn.LayerNorm(E), nn.LayerNorm(E)
        self.mlp = nn.Sequential(nn.Linear(E, hidden), nn.GELU(), nn.Linear(hidden, E))

    def forward(self, x):
        x = self.norm1(x + self.attn(x))
        return self.norm2(x + self.mlp(x))


def pool(nt):
    """Mean over each sequence of a jagged (B, j, E) tensor."""
    values, offsets = nt.values(), nt.offsets()
    return torch.stack([values[s:e].mean(0) for s, e in zip(offsets[:-1], offsets[1:])])


torch.manual_seed(6)
E, heads = 8, 2
layer = EncoderLayer(E, heads, 16)
head = nn.Linear(E, 2)
lengths = [5, 2, 7, 3]
sequences = [torch.randn(n, E) for n in lengths]
targets = torch.tensor([0, 1, 1, 0])
batch = torch.nested.nested_tensor(sequences, layout=torch.jagged)
info = {
    "offsets": batch.offsets().tolist(),
    "shape": [batch.size(0), batch.size(-1)],
    "is_nested": batch.is_nested,
}
with torch.no_grad():
    nested_out = layer(batch)
    alone = [layer(s.unsqueeze(0)).squeeze(0) for s in sequences]
gaps = [(a - b).abs().max().item() for a, b in zip(nested_out.unbind(), alone)]
info["out_lengths"] = [t.shape[0] for t in nested_out.unbind()]

params = list(layer.parameters()) + list(head.parameters())
opt = torch.optim.Adam(params, lr=0.01)
losses = []
for step in range(4):
    opt.zero_grad()
    loss = F.cross_entropy(head(pool(layer(batch))), targets)
    loss.backward()
    opt.step()
    losses.append(loss.item())
grad_norm = sum(p.grad.norm() ** 2 for p in params).sqrt().item()
final_sample = layer(batch).unbind()[2][0].tolist()
