"""Differential Transformer attention (Ye et al. 2024) as Microsoft's ``multihead_diffattn.py``
writes it: queries and keys are split into two groups of heads, the attention map is the
difference of two softmaxes, ``attn1 - lambda * attn2``, with lambda re-parameterised as
``exp(lq1 . lk1) - exp(lq2 . lk2) + lambda_init`` and lambda_init depending on the layer depth;
a per-head ``nn.RMSNorm`` (sub-layer norm) and the ``(1 - lambda_init)`` factor follow, the
causal mask comes from ``torch.triu`` of ``-inf`` and ``torch.nan_to_num``, and the value heads
are repeated for grouped-query attention with ``expand``/``reshape``. Two layers are trained on
an associative-recall task against a plain softmax baseline of the same width."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, SEQ, DIM, HEADS = 24, 10, 32, 2  # HEADS differential heads = 2 * HEADS softmax maps


def lambda_init_fn(depth):
    return 0.8 - 0.6 * math.exp(-0.3 * depth)


def repeat_kv(x, n_rep):
    bs, n_kv_heads, slen, head_dim = x.shape
    if n_rep == 1:
        return x
    x = x[:, :, None, :, :].expand(bs, n_kv_heads, n_rep, slen, head_dim)
    return x.reshape(bs, n_kv_heads * n_rep, slen, head_dim)


class MultiheadDiffAttn(nn.Module):
    def __init__(self, depth, num_kv_heads=1):
        super().__init__()
        self.num_heads, self.num_kv_heads = HEADS, num_kv_heads
        self.n_rep = HEADS // num_kv_heads
        self.head_dim = DIM // HEADS // 2
        self.scaling = self.head_dim**-0.5
        self.q_proj = nn.Linear(DIM, DIM, bias=False)
        self.k_proj = nn.Linear(DIM, DIM // self.n_rep, bias=False)
        self.v_proj = nn.Linear(DIM, DIM // self.n_rep, bias=False)
        self.out_proj = nn.Linear(DIM, DIM, bias=False)
        self.lambda_init = lambda_init_fn(depth)
        self.lambda_q1 = nn.Parameter(torch.zeros(self.head_dim).normal_(mean=0, std=0.1))
        self.lambda_k1 = nn.Parameter(torch.zeros(self.head_dim).normal_(mean=0, std=0.1))
        self.lambda_q2 = nn.Parameter(torch.zeros(self.head_dim).normal_(mean=0, std=0.1))
        self.lambda_k2 = nn.Parameter(torch.zeros(self.head_dim).normal_(mean=0, std=0.1))
        self.subln = nn.RMSNorm(2 * self.head_dim, eps=1e-5, elementwise_affine=True)

    def lambda_full(self):
        lambda_1 = torch.exp(torch.sum(self.lambda_q1 * self.lambda_k1, dim=-1).float())
        lambda_2 = torch.exp(torch.sum(self.lambda_q2 * self.lambda_k2, dim=-1).float())
        return lambda_1 - lambda_2 + self.lambda_init

    def forward(self, x):
        bsz, tgt_len, _ = x.size()
        q = self.q_proj(x).view(bsz, tgt_len, 2 * self.num_heads, self.head_dim)
        k = self.k_proj(x).view(bsz, tgt_len, 2 * self.num_kv_heads, self.head_dim)
        v = self.v_proj(x).view(bsz, tgt_len, self.num_kv_heads, 2 * self.head_dim)
        q, k = q.transpose(1, 2) * self.scaling, repeat_kv(k.transpose(1, 2), self.n_rep)
        v = repeat_kv(v.transpose(1, 2), self.n_rep)
        attn_weights = torch.matmul(q, k.transpose(-1, -2))
        attn_mask = torch.triu(torch.zeros([tgt_len, tgt_len]).float().fill_(float("-inf")), 1)
        attn_weights = torch.nan_to_num(attn_weights) + attn_mask
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).type_as(attn_weights)
        attn_weights = attn_weights.view(bsz, self.num_heads, 2, tgt_len, tgt_len)
        attn_weights = attn_weights[:, :, 0] - self.lambda_full() * attn_weights[:, :, 1]
        attn = self.subln(torch.matmul(attn_weights, v)) * (1 - self.lambda_init)
        attn = attn.transpose(1, 2).reshape(bsz, tgt_len, self.num_heads * 2 * self.head_dim)
        return self.out_proj(attn), attn_weights


class Softmax(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.attn = nn.MultiheadAttention(DIM, HEADS, bias=False, batch_first=True)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.size(1))
        return self.attn(x, x, x, attn_mask=mask, need_weights=False)[0], None


class LM(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.embed, self.pos = nn.Embedding(VOCAB, DIM), nn.Parameter(0.02 * torch.randn(SEQ, DIM))
        self.layers = nn.ModuleList(attention(depth) for depth in range(2))
        self.norms = nn.ModuleList(nn.RMSNorm(DIM) for _ in range(2))
        self.head = nn.Linear(DIM, VOCAB, bias=False)

    def forward(self, tokens):
        h = self.embed(tokens) + self.pos[: tokens.size(1)]
        maps = []
        for norm, layer in zip(self.norms, self.layers):
            update, weights = layer(norm(h))
            h, maps = h + update, maps + [weights]
        return self.head(h), maps


def recall_batch(n):
    """Key-value pairs, then a query key: the answer is its value (at the last position)."""
    keys = torch.stack([torch.randperm(6)[: (SEQ - 2) // 2] for _ in range(n)])
    values = torch.randint(8, 16, keys.shape)
    seq = torch.stack([keys, values], dim=-1).flatten(1)
    pick = torch.randint(0, keys.size(1), (n,))
    query = keys.gather(1, pick[:, None])
    return torch.cat([seq, torch.full((n, 1), 16), query], dim=1), values.gather(1, pick[:, None])


results = {}
for name, attention in [("diff", MultiheadDiffAttn), ("softmax", Softmax)]:
    torch.manual_seed(1)
    model = LM(attention)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(10):
        tokens, answer = recall_batch(16)
        logits, maps = model(tokens)
        loss = F.cross_entropy(logits[:, -1], answer.squeeze(1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    results[name] = (losses, maps, model)

diff_losses, _, diff_model = results["diff"]
with torch.no_grad():
    maps = diff_model(tokens)[1]
softmax_losses = results["softmax"][0]
lambda_inits = [layer.lambda_init for layer in results["diff"][2].layers]
row_sums = maps[1][0, 0].sum(-1).detach()  # each row sums to 1 - lambda
first_row_sums = row_sums[:3].tolist()
one_minus_lambda = 1 - results["diff"][2].layers[1].lambda_full().item()
lambda_grad = results["diff"][2].layers[0].lambda_q1.grad[:4].tolist()
has_negative_weights = bool((maps[1] < 0).any())
masked_future = maps[0][0, 0, 0, 1:].abs().max().item()
