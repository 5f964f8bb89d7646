"""A masked protein language model with a contact head (ESM-1b's recipe, Rives et al. 2021, and
the outer-product / attention-map contact predictors of Rao et al. 2020 and AlphaFold's outer
product mean): amino-acid tokens with BERT-style 15 % masking (80 % <mask>, 10 % random, 10 %
kept) drawn with ``torch.bernoulli``; a small ``nn.TransformerEncoder`` (pre-norm, GELU,
``src_key_padding_mask`` for padded sequences); the MLM loss with ``ignore_index=-100``; a
contact head that takes the outer product of per-residue projections with ``einsum``,
symmetrises it, and is trained with BCE on contacts from synthetic 3-D coordinates
(``torch.cdist`` < 8 Angstrom, ``|i - j| >= 3``, ``triu`` masks); precision at L/2 for long-range
contacts from ``topk``."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
AA = "ACDEFGHIKLMNPQRSTVWY"
PAD, MASK, VOCAB = 20, 21, 22
B, L, DIM = 6, 24, 32


def fake_protein(length):
    """A random-walk backbone (3.8 A steps) and a sequence whose residues correlate with burial."""
    steps = F.normalize(torch.randn(length, 3), dim=-1) * 3.8
    coords = torch.cumsum(steps, 0)
    burial = (torch.cdist(coords, coords) < 8).sum(1)
    tokens = (burial * 3 + torch.randint(0, 4, (length,))) % 20
    return tokens, coords


lengths = [L, L, L - 4, L - 6, L, L - 2]
tokens = torch.full((B, L), PAD, dtype=torch.long)
contacts = torch.zeros(B, L, L)
for b, n in enumerate(lengths):
    t, xyz = fake_protein(n)
    tokens[b, :n] = t
    contacts[b, :n, :n] = (torch.cdist(xyz, xyz) < 8.0).float()
padding = tokens == PAD
sep = (torch.arange(L)[None, :] - torch.arange(L)[:, None]).abs()
pair_valid = (~padding[:, :, None]) & (~padding[:, None, :]) & (sep >= 3)


def mask_tokens(tokens, p=0.15):
    labels = tokens.clone()
    chosen = torch.bernoulli(torch.full(tokens.shape, p)).bool() & ~padding
    labels[~chosen] = -100
    inputs = tokens.clone()
    replace = torch.bernoulli(torch.full(tokens.shape, 0.8)).bool() & chosen
    inputs[replace] = MASK
    random = torch.bernoulli(torch.full(tokens.shape, 0.5)).bool() & chosen & ~replace
    inputs[random] = torch.randint(0, 20, tokens.shape)[random]
    return inputs, labels


class ProteinLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.pos = nn.Parameter(torch.randn(1, L, DIM) * 0.02)
        layer = nn.TransformerEncoderLayer(
            DIM, 4, 64, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(DIM)
        self.lm_head = nn.Linear(DIM, VOCAB)
        self.left, self.right = nn.Linear(DIM, 16), nn.Linear(DIM, 16)
        self.contact_bias = nn.Parameter(torch.tensor(-2.0))

    def forward(self, x):
        h = self.norm(self.encoder(self.embed(x) + self.pos, src_key_padding_mask=x == PAD))
        outer = torch.einsum("bic,bjc->bij", self.left(h), self.right(h)) / 4.0
        return self.lm_head(h), (outer + outer.transpose(1, 2)) / 2 + self.contact_bias


torch.manual_seed(1)
model = ProteinLM()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
mlm_losses, contact_losses = [], []
for step in range(25):
    inputs, labels = mask_tokens(tokens)
    logits, contact_logits = model(inputs)
    mlm = F.cross_entropy(logits.reshape(-1, VOCAB), labels.reshape(-1), ignore_index=-100)
    contact = F.binary_cross_entropy_with_logits(contact_logits[pair_valid], contacts[pair_valid])
    loss = mlm + contact
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    mlm_losses.append(mlm.item())
    contact_losses.append(contact.item())

model.eval()
with torch.no_grad():
    logits, contact_logits = model(tokens)
    probs = torch.sigmoid(contact_logits)
    long_range = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=6)
    precisions = []
    for b, n in enumerate(lengths):
        scores = probs[b][long_range & pair_valid[b]]
        truth = contacts[b][long_range & pair_valid[b]]
        top = scores.topk(n // 2).indices
        precisions.append(truth[top].mean().item())
    symmetric_gap = (contact_logits - contact_logits.transpose(1, 2)).abs().max().item()
    pad_embedding_norm = model.embed.weight[PAD].norm().item()
    perplexity = torch.exp(F.cross_entropy(logits[~padding], tokens[~padding])).item()
contact_rate = contacts[pair_valid].mean().item()
n_masked = int((mask_tokens(tokens)[1] != -100).sum())
