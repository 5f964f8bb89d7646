"""Informer (Zhou et al., 2021) as the authors' PyTorch code (zhouhaoyi/Informer2020,
models/attn.py) writes it: ProbSparse self-attention that samples keys per query
(torch.randint, gather through expand and fancy indexing), ranks queries by the sparsity
measure max - mean of the sampled scores (topk), attends fully only for the top queries and
fills the rest with the mean of V (a causal ProbMask and the cumulative sum of V in the decoder),
self-attention distilling by Conv1d + BatchNorm1d + ELU + MaxPool1d(stride 2), and a generative
decoder fed the start token window plus zero placeholders, trained with MSE."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SEQ, LABEL, PRED, D = 32, 8, 8, 16


class ProbAttention(nn.Module):
    def __init__(self, mask_flag, factor=2):
        super().__init__()
        self.mask_flag, self.factor = mask_flag, factor

    def _prob_QK(self, Q, K, sample_k, n_top):
        B, H, L_K, E = K.shape
        _, _, L_Q, _ = Q.shape
        K_expand = K.unsqueeze(-3).expand(B, H, L_Q, L_K, E)
        index_sample = torch.randint(L_K, (L_Q, sample_k))
        K_sample = K_expand[:, :, torch.arange(L_Q).unsqueeze(1), index_sample, :]
        Q_K_sample = torch.matmul(Q.unsqueeze(-2), K_sample.transpose(-2, -1)).squeeze(-2)
        M = Q_K_sample.max(-1)[0] - torch.div(Q_K_sample.sum(-1), L_K)
        M_top = M.topk(n_top, sorted=False)[1]
        Q_reduce = Q[torch.arange(B)[:, None, None], torch.arange(H)[None, :, None], M_top, :]
        return torch.matmul(Q_reduce, K.transpose(-2, -1)), M_top

    def _get_initial_context(self, V, L_Q):
        B, H, L_V, D = V.shape
        if not self.mask_flag:
            return V.mean(dim=-2).unsqueeze(-2).expand(B, H, L_Q, D).clone()
        return V.cumsum(dim=-2)

    def _update_context(self, context_in, V, scores, index, L_Q):
        B, H, L_V, D = V.shape
        if self.mask_flag:
            _mask = torch.ones(L_Q, scores.shape[-1], dtype=torch.bool).triu(1)
            _mask_ex = _mask[None, None, :].expand(B, H, L_Q, scores.shape[-1])
            indicator = _mask_ex[
                torch.arange(B)[:, None, None], torch.arange(H)[None, :, None], index, :
            ]
            scores = scores.masked_fill(indicator, -math.inf)
        attn = torch.softmax(scores, dim=-1)
        context_in[torch.arange(B)[:, None, None], torch.arange(H)[None, :, None], index, :] = (
            torch.matmul(attn, V)
        )
        return context_in

    def forward(self, queries, keys, values):
        B, L_Q, H, D = queries.shape
        _, L_K, _, _ = keys.shape
        queries, keys, values = (t.transpose(2, 1) for t in (queries, keys, values))
        U_part = min(self.factor * int(math.ceil(math.log(L_K))), L_K)
        u = min(self.factor * int(math.ceil(math.log(L_Q))), L_Q)
        scores_top, index = self._prob_QK(queries, keys, U_part, u)
        scores_top = scores_top * (1.0 / math.sqrt(D))
        context = self._get_initial_context(values, L_Q)
        context = self._update_context(context, values, scores_top, index, L_Q)
        return context.transpose(2, 1).contiguous()


class AttentionLayer(nn.Module):
    def __init__(self, mask_flag, heads=2):
        super().__init__()
        self.inner, self.heads = ProbAttention(mask_flag), heads
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))

    def forward(self, x, cross=None):
        cross = x if cross is None else cross
        B, L, _ = x.shape
        split = lambda t: t.view(B, t.size(1), self.heads, -1)  # noqa: E731
        out = self.inner(split(self.q(x)), split(self.k(cross)), split(self.v(cross)))
        return self.o(out.view(B, L, -1))


class ConvLayer(nn.Module):  # self-attention distilling
    def __init__(self):
        super().__init__()
        self.downConv = nn.Conv1d(D, D, 3, padding=1, padding_mode="circular")
        self.norm, self.activation = nn.BatchNorm1d(D), nn.ELU()
        self.maxPool = nn.MaxPool1d(kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        x = self.activation(self.norm(self.downConv(x.permute(0, 2, 1))))
        return self.maxPool(x).transpose(1, 2)


class Informer(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc_embed, self.dec_embed = nn.Linear(1, D), nn.Linear(1, D)
        self.pos = nn.Parameter(torch.randn(SEQ, D) * 0.1)
        self.enc_attn, self.distil = AttentionLayer(False), ConvLayer()
        self.enc_norm, self.dec_norm = nn.LayerNorm(D), nn.LayerNorm(D)
        self.dec_self, self.dec_cross = AttentionLayer(True), AttentionLayer(False)
        self.projection = nn.Linear(D, 1)

    def forward(self, x_enc, x_dec):
        h = self.enc_embed(x_enc) + self.pos
        h = self.distil(self.enc_norm(h + self.enc_attn(h)))  # (B, SEQ/2, D)
        d = self.dec_embed(x_dec) + self.pos[: x_dec.size(1)]
        d = d + self.dec_self(d)
        d = self.dec_norm(d + self.dec_cross(d, h))
        return self.projection(d)[:, -PRED:]


torch.manual_seed(0)
t = torch.arange(SEQ + PRED + 160, dtype=torch.float32)
series = (
    torch.sin(2 * math.pi * t / 16)
    + 0.3 * torch.cos(2 * math.pi * t / 5)
    + 0.05 * torch.randn(t.shape)
)
windows = torch.stack([series[s : s + SEQ + PRED] for s in range(0, 160, 4)]).unsqueeze(-1)
x_enc, target = windows[:, :SEQ], windows[:, SEQ:]
x_dec = torch.cat([x_enc[:, -LABEL:], torch.zeros_like(target)], dim=1)  # start token + zeros
model = Informer()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
losses = []
for epoch in range(5):
    model.train()
    for idx in torch.randperm(32).split(8):
        loss = F.mse_loss(model(x_enc[idx], x_dec[idx]), target[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
model.eval()
with torch.no_grad():
    test_mse = F.mse_loss(model(x_enc[32:], x_dec[32:]), target[32:]).item()
    ones = torch.ones(1, SEQ, 2, 4)
    lazy = ProbAttention(False)(ones, ones, torch.arange(SEQ * 8.0).view(1, SEQ, 2, 4))
lazy_row = lazy[0, 0, 0].tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, test MSE {test_mse:.4f}")
