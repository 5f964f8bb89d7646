"""nGPT, the normalized transformer (Loshchilov et al. 2024), as NVIDIA's reference ``model.py``
writes it: hidden states live on the unit sphere (``justnorm``), each block moves them towards the
normalised attention and MLP outputs with learned per-dimension "eigen learning rates"
(``alpha`` parameters stored at a small scale and rescaled), queries and keys are normalised and
scaled by ``sqk``, the SwiGLU MLP by ``suv``, the logits by ``sz``; there is no LayerNorm, no
weight decay and no warm-up, and after every optimizer step every matrix is renormalised along
its embedding dimension with ``F.normalize`` under ``torch.no_grad()``."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, SEQ, DIM, HEADS, LAYERS = 16, 12, 32, 4, 2


def justnorm(x, dim=-1):
    return x / x.norm(p=2, dim=dim, keepdim=True)


class Scale(nn.Module):
    """A learned vector stored as ``init_scaling`` and used as ``value * init / init_scaling``."""

    def __init__(self, size, init, init_scaling):
        super().__init__()
        self.init, self.init_scaling = init, init_scaling
        self.param = nn.Parameter(init_scaling * torch.ones(size))

    def forward(self):
        return self.param * (self.init / self.init_scaling)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(DIM, DIM, bias=False)
        self.key = nn.Linear(DIM, DIM, bias=False)
        self.value = nn.Linear(DIM, DIM, bias=False)
        self.att_c_proj = nn.Linear(DIM, DIM, bias=False)
        self.c_fc = nn.Linear(DIM, 2 * 4 * DIM, bias=False)
        self.mlp_c_proj = nn.Linear(4 * DIM, DIM, bias=False)
        base_scale = 1.0 / math.sqrt(DIM)
        self.attn_alpha = Scale(DIM, 0.05, base_scale)
        self.mlp_alpha = Scale(DIM, 0.05, base_scale)
        self.sqk = Scale(DIM, 1.0, base_scale)
        self.suv = Scale(2 * 4 * DIM, 1.0, 1.0)

    def forward(self, h):
        b, t, c = h.shape
        q = self.query(h).view(b, t, HEADS, c // HEADS)
        k = self.key(h).view(b, t, HEADS, c // HEADS)
        v = self.value(h).view(b, t, HEADS, c // HEADS)
        sqk = self.sqk().view(1, 1, HEADS, c // HEADS)
        q, k = sqk * justnorm(q), sqk * justnorm(k)
        softmax_scale = math.sqrt(c // HEADS)  # unit q and k: undo the 1/sqrt(d) of SDPA
        y = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),
            is_causal=True,
            scale=softmax_scale,
        )
        h_att = self.att_c_proj(y.transpose(1, 2).contiguous().view(b, t, c))
        lr = torch.abs(self.attn_alpha())
        h = justnorm(h + lr * (justnorm(h_att) - h))

        uv = self.c_fc(h) * (self.suv() * math.sqrt(c))
        u, v = torch.chunk(uv, 2, dim=-1)
        h_mlp = self.mlp_c_proj(u * F.silu(v))
        lr = torch.abs(self.mlp_alpha())
        return justnorm(h + lr * (justnorm(h_mlp) - h))


class NGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, DIM)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.lm_head = nn.Linear(DIM, VOCAB, bias=False)
        self.sz = Scale(VOCAB, 1.0, 1.0 / math.sqrt(DIM))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=1.0 / math.sqrt(DIM))
        self.normalize_matrices()

    def forward(self, idx):
        h = self.wte(idx)
        for block in self.blocks:
            h = block(h)
        return self.sz() * self.lm_head(h)

    @torch.no_grad()
    def normalize_matrices(self):
        """Rows of the embedding and output matrices, columns of the input projections."""
        self.wte.weight.copy_(F.normalize(self.wte.weight, dim=1))
        self.lm_head.weight.copy_(F.normalize(self.lm_head.weight, dim=1))
        for block in self.blocks:
            for layer in (block.query, block.key, block.value, block.c_fc):
                layer.weight.copy_(F.normalize(layer.weight, dim=1))
            for layer in (block.att_c_proj, block.mlp_c_proj):
                layer.weight.copy_(F.normalize(layer.weight, dim=0))


model = NGPT()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-2, betas=(0.9, 0.95), weight_decay=0.0)
base = torch.randint(0, VOCAB, (8, 4))
data = base.repeat(1, SEQ // 4)  # a period-4 pattern: learnable from the context
losses = []
for step in range(11):
    logits = model(data[:, :-1])
    loss = F.cross_entropy(logits.flatten(0, 1), data[:, 1:].flatten())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    model.normalize_matrices()
    losses.append(loss.item())

with torch.no_grad():
    h = model.wte(data)
    hidden_norms = model.blocks[0](h).norm(dim=-1)
hidden_norm_range = [hidden_norms.min().item(), hidden_norms.max().item()]
embedding_row_norms = model.wte.weight.norm(dim=1)[:4].tolist()
proj_col_norms = model.blocks[1].mlp_c_proj.weight.norm(dim=0)[:4].tolist()
alpha_sample = model.blocks[0].attn_alpha().abs()[:4].tolist()
sz_grad_sample = model.sz.param.grad[:4].tolist()
normalize_zero = F.normalize(torch.zeros(2, 3), dim=1).tolist()  # eps keeps zeros finite
justnorm_zero_is_nan = bool(justnorm(torch.zeros(1, 3)).isnan().all())
