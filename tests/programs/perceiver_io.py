"""Perceiver IO (Jaegle et al. 2022) as deepmind's reference port and the HuggingFace/
krasserm perceiver-io PyTorch code write it, scaled down: inputs (a byte-level sequence
with learned position embeddings) cross-attended into a small latent array, latent
self-attention blocks shared across repeats, and a decoder whose *output queries* (one
learned position embedding per output) cross-attend to the latents, so the output length
is chosen by the queries, not the inputs; attention written with ``torch.einsum`` and
``nn.Linear`` q/k/v of different widths, a key padding mask turned into
``masked_fill(~mask, -torch.finfo(dtype).max)``, residual query connections, input checks
with ``torch._assert`` as torchvision writes them; trained as a masked-token (MLM-style)
denoiser on variable-length sequences, then asked to decode only the masked positions by
gathering their query embeddings."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, MAX_LEN, MASK, PAD = 12, 16, 10, 11


class CrossAttention(nn.Module):
    def __init__(self, q_dim, kv_dim, heads, head_dim):
        super().__init__()
        self.heads, self.scale = heads, head_dim**-0.5
        inner = heads * head_dim
        self.q_norm, self.kv_norm = nn.LayerNorm(q_dim), nn.LayerNorm(kv_dim)
        self.to_q = nn.Linear(q_dim, inner, bias=False)
        self.to_kv = nn.Linear(kv_dim, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, q_dim)

    def forward(self, x, context, mask=None):
        torch._assert(x.dim() == 3, f"expected (batch, n, dim) queries, got {tuple(x.shape)}")
        h = self.heads
        q = self.to_q(self.q_norm(x))
        k, v = self.to_kv(self.kv_norm(context)).chunk(2, dim=-1)
        q, k, v = (t.reshape(t.shape[0], t.shape[1], h, -1).transpose(1, 2) for t in (q, k, v))
        sim = torch.einsum("bhid,bhjd->bhij", q, k) * self.scale
        if mask is not None:
            sim = sim.masked_fill(~mask[:, None, None, :], -torch.finfo(sim.dtype).max)
        attn = sim.softmax(dim=-1)
        out = torch.einsum("bhij,bhjd->bhid", attn, v)
        return x + self.to_out(out.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1))


class MLP(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim)
        )

    def forward(self, x):
        return x + self.net(x)


class PerceiverIO(nn.Module):
    def __init__(self, in_dim=16, latent_dim=32, num_latents=8, query_dim=16, repeats=2):
        super().__init__()
        self.repeats = repeats
        self.token_emb, self.pos_emb = nn.Embedding(VOCAB, in_dim), nn.Embedding(MAX_LEN, in_dim)
        self.latents = nn.Parameter(torch.randn(num_latents, latent_dim) * 0.02)
        self.encode, self.encode_mlp = CrossAttention(latent_dim, in_dim, 1, 32), MLP(latent_dim)
        self.self_attn = CrossAttention(latent_dim, latent_dim, 4, 8)
        self.self_mlp = MLP(latent_dim)
        self.output_queries = nn.Parameter(torch.randn(MAX_LEN, query_dim) * 0.02)
        self.decode = CrossAttention(query_dim, latent_dim, 1, 32)
        self.to_logits = nn.Linear(query_dim, VOCAB)

    def forward(self, tokens, mask, query_positions=None):
        b, n = tokens.shape
        torch._assert(n <= MAX_LEN, f"sequence of {n} tokens is longer than {MAX_LEN}")
        x = self.token_emb(tokens) + self.pos_emb(torch.arange(n))
        z = self.latents.unsqueeze(0).expand(b, -1, -1)
        z = self.encode_mlp(self.encode(z, x, mask))
        for _ in range(self.repeats):
            z = self.self_mlp(self.self_attn(z, z))
        if query_positions is None:
            queries = self.output_queries[:n].unsqueeze(0).expand(b, -1, -1)
        else:
            queries = self.output_queries[query_positions]
        return self.to_logits(self.decode(queries, z))


def batch(n):
    lengths = torch.randint(6, MAX_LEN + 1, (n,))
    start = torch.randint(0, 10, (n, 1))
    clean = (start + torch.arange(MAX_LEN) % 2) % 10  # c, c + 1, c, c + 1, ...
    valid = torch.arange(MAX_LEN)[None, :] < lengths[:, None]
    clean = clean.masked_fill(~valid, PAD)
    masked = (torch.rand(n, MAX_LEN) < 0.25) & valid
    inputs = clean.masked_fill(masked, MASK)
    return inputs, clean, valid, masked


model = PerceiverIO()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for step in range(20):
    inputs, clean, valid, masked = batch(16)
    logits = model(inputs, valid)
    labels = clean.masked_fill(~masked, -100)
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), labels.reshape(-1), ignore_index=-100)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
latent_grad = model.latents.grad[0, :4].tolist()

with torch.no_grad():
    inputs, clean, valid, masked = batch(6)
    full = model(inputs, valid)
    rows, cols = masked.nonzero(as_tuple=True)
    # decode only the masked positions of each row: one query per position
    picked = torch.stack(
        [
            model(inputs[r : r + 1], valid[r : r + 1], cols[i : i + 1].view(1, 1))[0, 0]
            for i, r in enumerate(rows.tolist())
        ]
    )
    query_gap = (picked - full[rows, cols]).abs().max().item()
    masked_accuracy = (full[rows, cols].argmax(-1) == clean[rows, cols]).float().mean().item()
    predictions = full.argmax(-1)[0].tolist()
try:
    model(
        torch.zeros(1, MAX_LEN + 1, dtype=torch.long), torch.ones(1, MAX_LEN + 1, dtype=torch.bool)
    )
    assert_message = None
except AssertionError as error:
    assert_message = str(error)
print(
    f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, masked acc {masked_accuracy:.2f}, {assert_message}"
)
