"""Reformer's LSH attention (Kitaev et al.), as lucidrains/reformer-pytorch writes it: shared
query/key vectors hashed by random rotations (argmax over [xR, -xR]) into buckets for several
hash rounds, tokens sorted by (bucket, position) with argsort, gathered into chunks that attend
to themselves and the previous chunk, self-attention masked out, the results unsorted with
scatter/gather and the rounds combined by their logsumexp weights. Checked against the full
attention it approximates and trained on a task of retrieving the token's twin."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def hash_vectors(x, n_buckets, n_hashes, generator):
    """(B, T, D) -> bucket ids (B, n_hashes * T), offset per hash round."""
    rotations = torch.randn(x.size(-1), n_hashes, n_buckets // 2, generator=generator)
    rotated = torch.einsum("btd,dhr->bhtr", F.normalize(x, dim=-1), rotations)
    buckets = torch.cat([rotated, -rotated], dim=-1).argmax(dim=-1)  # (B, H, T)
    offsets = (torch.arange(n_hashes) * n_buckets).view(1, -1, 1)
    return (buckets + offsets).reshape(x.size(0), -1)


def lsh_attention(qk, v, n_buckets=4, n_hashes=2, chunk=8, generator=None):
    B, T, D = qk.shape
    buckets = hash_vectors(qk, n_buckets, n_hashes, generator)
    ticker = torch.arange(n_hashes * T).unsqueeze(0).expand_as(buckets)
    sticker = torch.argsort(buckets * T + (ticker % T), dim=-1)  # sort by bucket, then position
    undo = torch.argsort(sticker, dim=-1)
    st = sticker % T
    sqk = qk.gather(1, st.unsqueeze(-1).expand(-1, -1, D))
    sv = v.gather(1, st.unsqueeze(-1).expand(-1, -1, D))
    n_chunks = n_hashes * T // chunk
    bq = sqk.reshape(B, n_chunks, chunk, D)
    bk = F.normalize(bq, dim=-1)  # keys are the normalized queries
    bv = sv.reshape(B, n_chunks, chunk, D)
    look_back = lambda x: torch.cat([x, x.roll(1, dims=1)], dim=2)  # noqa: E731
    bk, bv = look_back(bk), look_back(bv)
    t_q = st.reshape(B, n_chunks, chunk)
    t_k = look_back(t_q)
    dots = torch.einsum("bcid,bcjd->bcij", bq, bk) * D**-0.5
    dots = dots.masked_fill(t_q.unsqueeze(-1) == t_k.unsqueeze(-2), -1e5)  # not itself
    lse = torch.logsumexp(dots, dim=-1, keepdim=True)
    out = torch.einsum("bcij,bcjd->bcid", torch.exp(dots - lse), bv).reshape(B, -1, D)
    lse = lse.reshape(B, -1)
    out = out.gather(1, undo.unsqueeze(-1).expand(-1, -1, D)).view(B, n_hashes, T, D)
    lse = lse.gather(1, undo).view(B, n_hashes, T, 1)
    weights = torch.exp(lse - torch.logsumexp(lse, dim=1, keepdim=True))
    return (out * weights).sum(dim=1), buckets


def full_attention(qk, v):
    k = F.normalize(qk, dim=-1)
    dots = qk @ k.transpose(1, 2) * qk.size(-1) ** -0.5
    eye = torch.eye(qk.size(1), dtype=torch.bool)
    return F.softmax(dots.masked_fill(eye, -1e5), dim=-1) @ v


class LSHBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.to_qk, self.to_v, self.out = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x, generator):
        h = self.norm(x)
        attended, _ = lsh_attention(self.to_qk(h), self.to_v(h), generator=generator)
        return x + self.out(attended)


torch.manual_seed(0)
g = torch.Generator().manual_seed(1)
qk = torch.randn(2, 32, 16)
qk[:, 16:] = qk[:, :16] + 0.01 * torch.randn(2, 16, 16)  # near-duplicate pairs share buckets
v = torch.randn(2, 32, 16)
approx, buckets = lsh_attention(qk, v, generator=g)
exact = full_attention(qk, v)
cosine_to_full = F.cosine_similarity(approx, exact, dim=-1).mean().item()
pair_same_bucket = (buckets.view(2, 2, 32)[..., :16] == buckets.view(2, 2, 32)[..., 16:]).float()
pair_same_bucket = pair_same_bucket.mean().item()
bucket_counts = torch.bincount(buckets[0], minlength=8).tolist()

# a token's twin sits 16 positions away: copy the twin's label through attention
model_in = nn.Embedding(16, 32)
block = LSHBlock(32)
head = nn.Linear(32, 2)
params = [*model_in.parameters(), *block.parameters(), *head.parameters()]
optimizer = torch.optim.Adam(params, lr=1e-2)
losses = []
for step in range(50):
    tokens = torch.randint(0, 16, (8, 16))
    tokens = torch.cat([tokens, tokens], dim=1)
    marks = torch.randint(0, 2, (8, 16))
    x = model_in(tokens)
    x = x + torch.cat([F.one_hot(marks, 32).float(), torch.zeros(8, 16, 32)], dim=1)
    logits = head(block(x, g))[:, 16:]
    loss = F.cross_entropy(logits.reshape(-1, 2), marks.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"cosine to full attention {cosine_to_full:.3f}, twins share a bucket {pair_same_bucket:.2f}")
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
