"""The nested-tensor tutorial's ragged multi-head attention: sentences of different lengths in
one ``torch.nested`` jagged tensor, projected with ``nn.Linear``, split into heads with
``unflatten``/``transpose``, attended with ``F.scaled_dot_product_attention`` and merged back,
with no padding; compared with the padded, key-masked computation and its gradients."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from numpy_init import init_from_numpy, randn


class MultiHeadAttention(nn.Module):
    def __init__(self, E, nheads):
        super().__init__()
        self.nheads = nheads
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(E, E), nn.Linear(E, E), nn.Linear(E, E)
        self.out_proj = nn.Linear(E, E)

    def forward(self, x, attn_mask=None):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        q, k, v = (t.unflatten(-1, [self.nheads, -1]).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.out_proj(out.transpose(1, 2).flatten(-2))


rng = np.random.default_rng(8)
E, heads = 8, 2
lengths = [3, 6, 2, 5]
sentences = [randn(rng, n, E) for n in lengths]
mha = init_from_numpy(MultiHeadAttention(E, heads), seed=8)

nested = torch.nested.nested_tensor(sentences, layout=torch.jagged)
nested_shape = [nested.size(0), nested.size(2), nested.dim()]
offsets = nested.offsets().tolist()
out = mha(nested)
ragged = [t for t in out.unbind()]
ragged_shapes = [list(t.shape) for t in ragged]
loss = sum((t**2).sum() for t in ragged)
loss.backward()
nested_grads = [p.grad.clone() for p in mha.parameters()]
mha.zero_grad()

padded = torch.nested.to_padded_tensor(torch.nested.nested_tensor(sentences), 0.0)
keep = torch.arange(max(lengths))[None, :] < torch.tensor(lengths)[:, None]
mask = keep[:, None, None, :]
padded_out = mha(padded, attn_mask=mask)
padded_loss = (padded_out**2 * keep[..., None]).sum()
padded_loss.backward()
padded_grads = [p.grad for p in mha.parameters()]
output_gap = max(
    (r - padded_out[i, :n]).abs().max().item() for i, (r, n) in enumerate(zip(ragged, lengths))
)
grad_gap = max((a - b).abs().max().item() for a, b in zip(nested_grads, padded_grads))
loss_value = loss.item()
padded_loss_value = padded_loss.item()
first_rows = [t[0].tolist() for t in ragged]
values_shape = list(out.values().shape)
