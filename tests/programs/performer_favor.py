"""Performer (Choromanski et al., 2021) FAVOR+ attention as lucidrains/performer-pytorch writes
it: orthogonal random features from blocks of Q factors of Gaussian matrices (torch.linalg.qr)
scaled by chi-distributed row norms, positive softmax-kernel features exp(w.x - |x|^2/2 - max)
with the data normalizer d^-1/4, linear attention by einsum (non-causal) and by a cumulative sum
of outer products (causal), redrawn projections as buffers; the kernel's estimate of softmax
attention is measured against the exact one, then a small causal Performer LM is trained."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def orthogonal_matrix_chunk(cols):
    unstructured_block = torch.randn((cols, cols))
    q, r = torch.linalg.qr(unstructured_block.cpu(), mode="reduced")
    return q.t()


def gaussian_orthogonal_random_matrix(nb_rows, nb_columns):
    nb_full_blocks = nb_rows // nb_columns
    blocks = [orthogonal_matrix_chunk(nb_columns) for _ in range(nb_full_blocks)]
    remaining = nb_rows - nb_full_blocks * nb_columns
    if remaining > 0:
        blocks.append(orthogonal_matrix_chunk(nb_columns)[:remaining])
    final_matrix = torch.cat(blocks)
    multiplier = torch.randn((nb_rows, nb_columns)).norm(dim=1)
    return torch.diag(multiplier) @ final_matrix


def softmax_kernel(data, projection_matrix, is_query, eps=1e-4):
    data_normalizer = data.shape[-1] ** -0.25
    ratio = projection_matrix.shape[0] ** -0.5
    data_dash = torch.einsum("...id,jd->...ij", data_normalizer * data, projection_matrix)
    diag_data = (data**2).sum(dim=-1) / 2.0 * data_normalizer**2
    diag_data = diag_data.unsqueeze(-1)
    if is_query:
        stab = torch.amax(data_dash, dim=-1, keepdim=True).detach()
    else:
        stab = torch.amax(data_dash, dim=(-1, -2), keepdim=True).detach()
    return ratio * (torch.exp(data_dash - diag_data - stab) + eps)


def linear_attention(q, k, v):
    k_cumsum = k.sum(dim=-2)
    d_inv = 1.0 / torch.einsum("...nd,...d->...n", q, k_cumsum.type_as(q))
    context = torch.einsum("...nd,...ne->...de", k, v)
    return torch.einsum("...de,...nd,...n->...ne", context, q, d_inv)


def causal_linear_attention(q, k, v, eps=1e-6):
    k_cumsum = k.cumsum(dim=-2) + eps
    d_inv = 1.0 / torch.einsum("...nd,...nd->...n", q, k_cumsum.type_as(q))
    context = torch.einsum("...nd,...ne->...nde", k, v).cumsum(dim=-3)
    return torch.einsum("...nde,...nd,...n->...ne", context, q, d_inv)


class FastAttention(nn.Module):
    def __init__(self, dim_heads, nb_features, causal):
        super().__init__()
        self.dim_heads, self.nb_features, self.causal = dim_heads, nb_features, causal
        self.register_buffer(
            "projection_matrix", gaussian_orthogonal_random_matrix(nb_features, dim_heads)
        )

    @torch.no_grad()
    def redraw_projection_matrix(self):
        self.projection_matrix.copy_(
            gaussian_orthogonal_random_matrix(self.nb_features, self.dim_heads)
        )

    def forward(self, q, k, v):
        q = softmax_kernel(q, self.projection_matrix, is_query=True)
        k = softmax_kernel(k, self.projection_matrix, is_query=False)
        return (causal_linear_attention if self.causal else linear_attention)(q, k, v)


class PerformerLM(nn.Module):
    def __init__(self, vocab=12, dim=16, heads=2, seq=16):
        super().__init__()
        self.heads = heads
        self.tok, self.pos = nn.Embedding(vocab, dim), nn.Embedding(seq, dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim, bias=False), nn.Linear(dim, dim)
        self.attn = FastAttention(dim // heads, 32, causal=True)
        self.ff = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, 32), nn.GELU(), nn.Linear(32, dim)
        )
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, vocab)

    def forward(self, x):
        h = self.tok(x) + self.pos(torch.arange(x.size(1)))
        q, k, v = self.qkv(self.norm(h)).chunk(3, dim=-1)
        split = lambda t: t.unflatten(-1, (self.heads, -1)).transpose(1, 2)  # noqa: E731
        out = self.attn(split(q), split(k), split(v)).transpose(1, 2).flatten(2)
        h = h + self.proj(out)
        return self.head(h + self.ff(h))


torch.manual_seed(0)
proj = gaussian_orthogonal_random_matrix(64, 8)
block_gram = proj[:8] @ proj[:8].t()
orthogonality_gap = (block_gram - torch.diag(block_gram.diag())).abs().max().item()
q, k, v = torch.randn(3, 1, 2, 10, 8).mul(0.5).unbind(0)
exact = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(8), dim=-1) @ v
fast = FastAttention(8, 256, causal=False)
approx = fast(q, k, v)
approx_error = (approx - exact).abs().mean().item()
mask = torch.ones(10, 10, dtype=torch.bool).triu(1)
exact_causal = (
    torch.softmax((q @ k.transpose(-1, -2) / math.sqrt(8)).masked_fill(mask, -float("inf")), -1) @ v
)
causal_error = (FastAttention(8, 256, causal=True)(q, k, v) - exact_causal).abs().mean().item()

model = PerformerLM()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
data = (torch.arange(16) * 5 + torch.randint(0, 12, (48, 1))) % 12  # arithmetic sequences
losses = []
for step in range(30):
    idx = torch.randint(0, 48, (16,))
    logits = model(data[idx, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 12), data[idx, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 10 == 9:
        model.attn.redraw_projection_matrix()
projection_sample = model.attn.projection_matrix[0].tolist()
