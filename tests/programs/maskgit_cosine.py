"""MaskGIT (Chang et al., 2022) token modelling as its PyTorch re-implementations write it: a
bidirectional transformer (``nn.TransformerEncoder``, ``batch_first``, learned positions) over
a grid of VQ token ids with an extra ``[MASK]`` id; training masks ``ceil(gamma(r) * N)`` tokens
per sequence with the cosine schedule ``gamma(r) = cos(r * pi / 2)`` (``r ~ U(0, 1)``), chosen by
``torch.rand(...).topk`` / ``scatter_``, and a cross-entropy on the masked positions only
(``ignore_index=-100`` on the rest); decoding starts all-masked and over T steps samples tokens
(``torch.multinomial`` on the softmax with a temperature), keeps the known ones, scores the new
ones by confidence plus annealed Gumbel noise (``-log(-log(u))``) and re-masks the
``floor(gamma((t + 1) / T) * N)`` least confident with ``torch.sort`` and ``masked_fill``.
The toy "codebook images" repeat one token, so any kept token determines the rest and the model can learn the structure."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(11)
vocab, seq_len, dim = 6, 16, 32
mask_token_id = vocab


def make_batch(b):
    first = torch.randint(0, vocab, (b, 1))
    return first.expand(b, seq_len).clone()  # one token repeated: any kept token fixes the rest


def gamma_func(r):
    return torch.cos(r * math.pi / 2) if torch.is_tensor(r) else math.cos(r * math.pi / 2)


class BidirectionalTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab + 1, dim)
        self.pos_emb = nn.Parameter(torch.zeros(1, seq_len, dim))
        nn.init.trunc_normal_(self.pos_emb, 0.0, 0.02)
        layer = nn.TransformerEncoderLayer(
            dim,
            nhead=4,
            dim_feedforward=64,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, idx):
        h = self.tok_emb(idx) + self.pos_emb[:, : idx.size(1)]
        return self.head(self.ln(self.encoder(h)))


def mask_tokens(x):
    b, n = x.shape
    r = torch.rand(b)
    num_masked = torch.ceil(gamma_func(r) * n).clamp(min=1).long()
    scores = torch.rand(b, n)
    ranks = scores.argsort(dim=1).argsort(dim=1)
    mask = ranks < num_masked[:, None]
    inputs = x.masked_fill(mask, mask_token_id)
    targets = x.masked_fill(~mask, -100)
    return inputs, targets, mask


model = BidirectionalTransformer()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.96), weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 10))

losses, mask_fracs = [], []
for step in range(40):
    x = make_batch(16)
    inputs, targets, mask = mask_tokens(x)
    logits = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), ignore_index=-100)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    mask_fracs.append(mask.float().mean().item())


@torch.no_grad()
def decode(model, b, T=4, temperature=1.0, choice_temperature=4.5):
    idx = torch.full((b, seq_len), mask_token_id, dtype=torch.long)
    unknown_init = (idx == mask_token_id).sum(dim=1)
    history = []
    for t in range(T):
        logits = model(idx) / temperature
        probs = F.softmax(logits, dim=-1)
        sampled = torch.multinomial(probs.reshape(-1, vocab), 1).reshape(b, seq_len)
        unknown = idx == mask_token_id
        sampled = torch.where(unknown, sampled, idx)
        ratio = (t + 1) / T
        mask_ratio = gamma_func(ratio)
        selected_probs = torch.gather(probs, -1, sampled.unsqueeze(-1)).squeeze(-1)
        selected_probs = torch.where(
            unknown, selected_probs, torch.full_like(selected_probs, float("inf"))
        )
        mask_len = torch.floor(unknown_init.float() * mask_ratio).long()
        mask_len = torch.maximum(
            torch.zeros_like(mask_len), torch.minimum(unknown.sum(-1) - 1, mask_len)
        )
        u = torch.rand_like(selected_probs).clamp(1e-20, 1.0)
        gumbel = -torch.log(-torch.log(u))
        confidence = torch.log(selected_probs) + choice_temperature * (1.0 - ratio) * gumbel
        sorted_confidence, _ = torch.sort(confidence, dim=-1)
        cut_off = torch.gather(sorted_confidence, -1, mask_len.unsqueeze(-1))
        masking = confidence < cut_off
        idx = torch.where(masking, torch.full_like(sampled, mask_token_id), sampled)
        history.append((idx == mask_token_id).sum().item())
    return idx, history


model.eval()
samples, masked_history = decode(model, 8)
consistency = (samples == samples.mode(dim=1).values[:, None]).float().mean().item()
schedule = [round(gamma_func(r), 6) for r in (0.0, 0.25, 0.5, 0.75, 1.0)]
final_lr = scheduler.get_last_lr()[0]
sample_list = samples[:2].tolist()
