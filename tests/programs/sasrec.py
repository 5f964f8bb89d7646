"""SASRec (Kang & McAuley, 2018), self-attentive sequential recommendation, as its PyTorch ports
(pmixer/SASRec.pytorch) write it: item and learned position embeddings scaled by sqrt(d), a
causal mask with a padding mask on left-padded histories, point-wise feed-forward layers made of
Conv1d with kernel 1, positive and sampled negative items scored by dot products and trained
with BCE-with-logits masked where the history is padding, and HR@10 / NDCG@10 at the end by
ranking the held-out next item among 20 sampled ones."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

N_ITEMS, MAXLEN, D = 40, 10, 16


class PointWiseFeedForward(nn.Module):
    def __init__(self, d, dropout):
        super().__init__()
        self.conv1 = nn.Conv1d(d, d, kernel_size=1)
        self.conv2 = nn.Conv1d(d, d, kernel_size=1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):  # (B, L, d): Conv1d wants channels first
        y = self.conv2(self.dropout(F.relu(self.conv1(x.transpose(-1, -2)))))
        return self.dropout(y).transpose(-1, -2) + x


class SASRec(nn.Module):
    def __init__(self, blocks=2, heads=2, dropout=0.2):
        super().__init__()
        self.item_emb = nn.Embedding(N_ITEMS + 1, D, padding_idx=0)
        self.pos_emb = nn.Embedding(MAXLEN, D)
        self.drop = nn.Dropout(dropout)
        self.attn_norms = nn.ModuleList([nn.LayerNorm(D, eps=1e-8) for _ in range(blocks)])
        self.attns = nn.ModuleList(
            [nn.MultiheadAttention(D, heads, dropout=dropout) for _ in range(blocks)]
        )
        self.ffn_norms = nn.ModuleList([nn.LayerNorm(D, eps=1e-8) for _ in range(blocks)])
        self.ffns = nn.ModuleList([PointWiseFeedForward(D, dropout) for _ in range(blocks)])
        self.last_norm = nn.LayerNorm(D, eps=1e-8)

    def log2feats(self, seqs):
        x = self.item_emb(seqs) * math.sqrt(D)
        x = self.drop(x + self.pos_emb(torch.arange(seqs.size(1)).expand_as(seqs)))
        timeline_mask = seqs == 0
        x = x * ~timeline_mask.unsqueeze(-1)
        causal = ~torch.tril(torch.ones(seqs.size(1), seqs.size(1), dtype=torch.bool))
        for norm, attn, ffn_norm, ffn in zip(
            self.attn_norms, self.attns, self.ffn_norms, self.ffns
        ):
            x = x.transpose(0, 1)  # MultiheadAttention without batch_first: (L, B, d)
            q = norm(x)
            out, _ = attn(q, x, x, attn_mask=causal)
            x = (q + out).transpose(0, 1)
            x = ffn(ffn_norm(x)) * ~timeline_mask.unsqueeze(-1)
        return self.last_norm(x)

    def forward(self, seqs, pos, neg):
        feats = self.log2feats(seqs)
        return (feats * self.item_emb(pos)).sum(-1), (feats * self.item_emb(neg)).sum(-1)

    def predict(self, seqs, candidates):
        final = self.log2feats(seqs)[:, -1, :]  # the last position sees the whole history
        return (self.item_emb(candidates) @ final.unsqueeze(-1)).squeeze(-1)


def make_users(n, generator):
    """Users walk the item ring with a personal stride, so the next item is predictable."""
    start = torch.randint(1, N_ITEMS + 1, (n, 1), generator=generator)
    stride = torch.randint(1, 4, (n, 1), generator=generator)
    walk = (start + stride * torch.arange(MAXLEN + 2)) % N_ITEMS + 1
    lengths = torch.randint(4, MAXLEN + 2, (n,), generator=generator)
    keep = torch.arange(MAXLEN + 2) >= (MAXLEN + 2 - lengths).unsqueeze(1)
    return walk * keep  # left-padded with 0


torch.manual_seed(0)
g = torch.Generator().manual_seed(1)
users = make_users(128, g)
seq, pos, test_item = users[:, :-2], users[:, 1:-1], users[:, -1]
neg = torch.randint(1, N_ITEMS + 1, pos.shape, generator=g)
model = SASRec()
for name, p in model.named_parameters():
    if p.dim() > 1:
        nn.init.xavier_normal_(p)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3, betas=(0.9, 0.98))
losses = []
for epoch in range(10):
    model.train()
    for idx in torch.randperm(128).split(64):
        pos_logits, neg_logits = model(seq[idx], pos[idx], neg[idx])
        mask = pos[idx] != 0
        loss = F.binary_cross_entropy_with_logits(
            pos_logits[mask], torch.ones_like(pos_logits[mask])
        )
        loss = loss + F.binary_cross_entropy_with_logits(
            neg_logits[mask], torch.zeros_like(neg_logits[mask])
        )
        loss = loss + 1e-4 * model.item_emb.weight.norm()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

model.eval()
with torch.no_grad():
    test_seq = users[:, 1:-1]  # the history up to the held-out item
    candidates = torch.cat(
        [test_item.unsqueeze(1), torch.randint(1, N_ITEMS + 1, (128, 19), generator=g)], 1
    )
    scores = model.predict(test_seq, candidates)
    rank = (scores > scores[:, :1]).sum(1)  # how many candidates beat the true item
    hit10 = (rank < 10).float().mean().item()
    hit1 = (rank == 0).float().mean().item()
    ndcg10 = torch.where(rank < 10, 1 / torch.log2(rank.float() + 2), torch.zeros(())).mean().item()
pad_grad = model.item_emb.weight.grad[0].abs().sum().item()
print(
    f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, HR@1 {hit1:.3f} HR@10 {hit10:.3f}, NDCG@10 {ndcg10:.3f}"
)
