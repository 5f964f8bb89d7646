"""Sentence embeddings as SimCSE (Gao et al., 2021) and Sentence-BERT train them: a small
TransformerEncoder with a key padding mask, attention-mask-weighted mean pooling, unsupervised
SimCSE (the same batch encoded twice, dropout the only noise, InfoNCE over the cosine-similarity
matrix with a temperature), then a Sentence-BERT style fine-tune with CosineEmbeddingLoss on
labelled pairs, evaluated by Spearman correlation (ranks via argsort) and retrieval accuracy."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence

VOCAB, PAD, N_TOPICS = 40, 0, 4


def make_sentences(n, generator):
    """Each sentence mixes words of its topic (4 topics x 8 words) with shared filler words."""
    topics = torch.randint(0, N_TOPICS, (n,), generator=generator)
    sentences = []
    for topic in topics.tolist():
        length = int(torch.randint(4, 10, (1,), generator=generator))
        own = torch.randint(1 + 8 * topic, 9 + 8 * topic, (length,), generator=generator)
        filler = torch.randint(33, VOCAB, (length,), generator=generator)
        pick = torch.rand(length, generator=generator) < 0.6
        sentences.append(torch.where(pick, own, filler))
    return pad_sequence(sentences, batch_first=True, padding_value=PAD), topics


class SentenceEncoder(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d, padding_idx=PAD)
        self.pos = nn.Embedding(16, d)
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, tokens):
        attention_mask = tokens != PAD
        x = self.embed(tokens) + self.pos(torch.arange(tokens.size(1)))
        h = self.encoder(x, src_key_padding_mask=~attention_mask)
        mask = attention_mask.unsqueeze(-1).type_as(h)
        return (h * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)  # mean pooling


def spearman(a, b):
    ra = a.argsort().argsort().float()
    rb = b.argsort().argsort().float()
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return ((ra * rb).sum() / (ra.norm() * rb.norm())).item()


g = torch.Generator().manual_seed(0)
torch.manual_seed(0)
model = SentenceEncoder()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
simcse_losses = []
for step in range(30):
    tokens, _ = make_sentences(32, g)
    model.train()
    z1, z2 = model(tokens), model(tokens)  # two dropout masks
    sim = F.cosine_similarity(z1.unsqueeze(1), z2.unsqueeze(0), dim=-1) / 0.05
    loss = F.cross_entropy(sim, torch.arange(32))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    simcse_losses.append(loss.item())

criterion = nn.CosineEmbeddingLoss(margin=0.2)
sbert_losses = []
for step in range(30):
    a, ta = make_sentences(32, g)
    b, tb = make_sentences(32, g)
    target = torch.where(ta == tb, 1, -1)
    loss = criterion(model(a), model(b), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    sbert_losses.append(loss.item())

model.eval()
with torch.no_grad():
    a, ta = make_sentences(100, g)
    b, tb = make_sentences(100, g)
    cos = F.cosine_similarity(model(a), model(b))
    rho = spearman(cos, (ta == tb).float() + 0.01 * torch.arange(100.0) / 100)
    emb = F.normalize(model(a), dim=-1)
    sims = emb @ emb.t()
    sims.fill_diagonal_(-2.0)
    retrieval = (ta[sims.argmax(1)] == ta).float().mean().item()
    padded_same = (model(a[:1, :5]) - model(F.pad(a[:1, :5], (0, 4)))).abs().max().item()
print(
    f"SimCSE {simcse_losses[0]:.3f} -> {simcse_losses[-1]:.3f}; SBERT {sbert_losses[0]:.3f} -> {sbert_losses[-1]:.3f}"
)
print(f"spearman {rho:.3f}, retrieval accuracy {retrieval:.3f}, padding gap {padded_same:.1e}")
