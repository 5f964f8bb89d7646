"""A byte-pair-encoding tokenizer written in plain Python (minbpe-style: count adjacent pairs,
merge the most frequent, encode by applying merges in rank order) feeding a small causal
language model built from nn.TransformerEncoder (norm_first, GELU, a generated square subsequent
mask, tied input/output embeddings), trained with AdamW and a warmup LambdaLR, then sampled with
temperature, top-k and nucleus (top-p) filtering from a seeded torch.Generator."""

import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT = (
    "the cat sat on the mat. the dog sat on the log. the cat saw the dog. "
    "a cat and a dog sat on a mat and a log. the dog saw the cat on the mat. "
) * 3


def get_stats(ids):
    counts = {}
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids, pair, idx):
    out, i = [], 0
    while i < len(ids):
        if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizer:
    def __init__(self, text, vocab_size):
        ids = list(text.encode("utf-8"))
        self.merges, self.vocab = {}, {i: bytes([i]) for i in range(256)}
        for idx in range(256, vocab_size):
            stats = get_stats(ids)
            pair = max(stats, key=stats.get)
            ids = merge(ids, pair, idx)
            self.merges[pair] = idx
            self.vocab[idx] = self.vocab[pair[0]] + self.vocab[pair[1]]

    def encode(self, text):
        ids = list(text.encode("utf-8"))
        while len(ids) >= 2:
            stats = get_stats(ids)
            pair = min(stats, key=lambda p: self.merges.get(p, float("inf")))
            if pair not in self.merges:
                break
            ids = merge(ids, pair, self.merges[pair])
        return ids

    def decode(self, ids):
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")


class TinyLM(nn.Module):
    def __init__(self, vocab_size, d_model=32, nhead=4, num_layers=2, block_size=24):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.zeros(1, block_size, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model,
            nhead,
            4 * d_model,
            dropout=0.1,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok.weight  # weight tying
        nn.init.normal_(self.tok.weight, std=0.02)

    def forward(self, idx):
        T = idx.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.tok(idx) + self.pos[:, :T]
        return self.head(self.ln_f(self.encoder(x, mask=mask, is_causal=True)))


def top_k_top_p_filtering(logits, top_k=0, top_p=1.0):
    if top_k > 0:
        kth = torch.topk(logits, top_k)[0][..., -1, None]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
        sorted_remove = cumulative > top_p
        sorted_remove[..., 1:] = sorted_remove[..., :-1].clone()
        sorted_remove[..., 0] = False
        remove = sorted_remove.scatter(1, sorted_indices, sorted_remove)
        logits = logits.masked_fill(remove, float("-inf"))
    return logits


@torch.no_grad()
def generate(model, idx, steps, generator, temperature=0.8, top_k=0, top_p=1.0):
    for _ in range(steps):
        logits = model(idx[:, -24:])[:, -1, :] / temperature
        probs = F.softmax(top_k_top_p_filtering(logits, top_k, top_p), dim=-1)
        idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
    return idx


tokenizer = BPETokenizer(TEXT, 256 + 24)
data = torch.tensor(tokenizer.encode(TEXT), dtype=torch.long)
roundtrip_ok = tokenizer.decode(data.tolist()) == TEXT
compression = len(TEXT.encode()) / len(data)
first_merges = [tokenizer.vocab[i].decode() for i in range(256, 262)]

torch.manual_seed(0)
model = TinyLM(len(tokenizer.vocab))
tied = model.head.weight is model.tok.weight
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 10))
windows = data.unfold(0, 25, 3)  # (n, 25) overlapping training windows
losses = []
for step in range(50):
    batch = windows[torch.randint(0, windows.size(0), (8,))]
    logits = model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

model.eval()
prompt = torch.tensor([tokenizer.encode("the cat")])
g = torch.Generator().manual_seed(42)
samples = {
    "top_k": generate(model, prompt, 12, g, top_k=5)[0].tolist(),
    "top_p": generate(model, prompt, 12, g, top_p=0.9)[0].tolist(),
    "greedy_like": generate(model, prompt, 12, g, temperature=1e-3)[0].tolist(),
}
texts = {k: tokenizer.decode(v) for k, v in samples.items()}
filtered = top_k_top_p_filtering(torch.tensor([[3.0, 1.0, 2.0, 0.0, -1.0]]), top_k=3, top_p=0.8)
print(f"{len(data)} tokens (x{compression:.2f}); loss {losses[0]:.3f} -> {losses[-1]:.3f}")
for k, v in texts.items():
    print(k, repr(v))
