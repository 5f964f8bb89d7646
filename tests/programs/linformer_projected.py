"""Linformer (Wang et al. 2020) as lucidrains/linformer writes it: keys and values projected
along the sequence by learned ``(seq_len, k)`` matrices (``einsum('bnd,nk->bkd')``, sliced for
shorter inputs), ``one_kv_head`` keys expanded over the heads, ``share_kv`` tying the value
projection to the key's, ``init_`` filling the projections with ``uniform_``, pre-norm blocks
with GELU feed-forwards, and a Linformer language-model-free classifier trained with Adam on a
token-counting task; the projected attention is checked against full attention when ``k`` equals
the sequence length and the projections are the identity."""

import math

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)


def default(val, default_val):
    return val if val is not None else default_val


def init_(tensor):
    dim = tensor.shape[-1]
    std = 1 / math.sqrt(dim)
    tensor.uniform_(-std, std)
    return tensor


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.fn = fn
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        x = self.norm(x)
        return self.fn(x)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4, dropout=0.0):
        super().__init__()
        self.w1 = nn.Linear(dim, dim * mult)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.w2 = nn.Linear(dim * mult, dim)

    def forward(self, x, **kwargs):
        x = self.w1(x)
        x = self.act(x)
        x = self.dropout(x)
        x = self.w2(x)
        return x


class LinformerSelfAttention(nn.Module):
    def __init__(
        self,
        dim,
        seq_len,
        k=256,
        heads=8,
        dim_head=None,
        one_kv_head=False,
        share_kv=False,
        dropout=0.0,
    ):
        super().__init__()
        assert (dim % heads) == 0, "dimension must be divisible by the number of heads"
        self.seq_len = seq_len
        self.k = k
        self.heads = heads
        dim_head = default(dim_head, dim // heads)
        self.dim_head = dim_head
        self.to_q = nn.Linear(dim, dim_head * heads, bias=False)
        kv_dim = dim_head if one_kv_head else (dim_head * heads)
        self.to_k = nn.Linear(dim, kv_dim, bias=False)
        self.proj_k = nn.Parameter(init_(torch.zeros(seq_len, k)))
        self.share_kv = share_kv
        if not share_kv:
            self.to_v = nn.Linear(dim, kv_dim, bias=False)
            self.proj_v = nn.Parameter(init_(torch.zeros(seq_len, k)))
        self.dropout = nn.Dropout(dropout)
        self.to_out = nn.Linear(dim_head * heads, dim)

    def forward(self, x, context=None, **kwargs):
        b, n, d, d_h, h, k = *x.shape, self.dim_head, self.heads, self.k  # noqa: F841
        kv_len = n if context is None else context.shape[1]
        assert kv_len <= self.seq_len, (
            f"the sequence length of the key / values must be {self.seq_len} - {kv_len} given"
        )
        queries = self.to_q(x)
        proj_seq_len = lambda args: torch.einsum("bnd,nk->bkd", *args)  # noqa: E731
        kv_input = x if context is None else context
        keys = self.to_k(kv_input)
        values = self.to_v(kv_input) if not self.share_kv else keys
        kv_projs = (self.proj_k, self.proj_v if not self.share_kv else self.proj_k)
        # allow for variable sequence lengths (less than maximum sequence length) by slicing
        if kv_len < self.seq_len:
            kv_projs = map(lambda t: t[:kv_len], kv_projs)
        # project keys and values along the sequence length dimension to k
        keys, values = map(proj_seq_len, zip((keys, values), kv_projs))
        # merge head into batch for queries and key / values
        queries = queries.reshape(b, n, h, -1).transpose(1, 2)
        merge_key_values = lambda t: t.reshape(b, k, -1, d_h).transpose(1, 2).expand(-1, h, -1, -1)  # noqa: E731
        keys, values = map(merge_key_values, (keys, values))
        # attention
        dots = torch.einsum("bhnd,bhkd->bhnk", queries, keys) * (d_h**-0.5)
        attn = dots.softmax(dim=-1)
        attn = self.dropout(attn)
        out = torch.einsum("bhnk,bhkd->bhnd", attn, values)
        # split heads
        out = out.transpose(1, 2).reshape(b, n, -1)
        return self.to_out(out)


class Linformer(nn.Module):
    def __init__(
        self,
        dim,
        seq_len,
        depth,
        k=256,
        heads=8,
        dim_head=None,
        one_kv_head=False,
        share_kv=False,
        dropout=0.0,
    ):
        super().__init__()
        layers = nn.ModuleList([])
        for _ in range(depth):
            attn = LinformerSelfAttention(
                dim,
                seq_len,
                k=k,
                heads=heads,
                dim_head=dim_head,
                one_kv_head=one_kv_head,
                share_kv=share_kv,
                dropout=dropout,
            )
            ff = FeedForward(dim, dropout=dropout)
            layers.append(nn.ModuleList([PreNorm(dim, attn), PreNorm(dim, ff)]))
        self.layers = layers

    def forward(self, x):
        for attn, ff in self.layers:
            x = attn(x) + x
            x = ff(x) + x
        return x


class LinformerClassifier(nn.Module):
    def __init__(self, num_tokens, dim, seq_len, depth, num_classes, **kwargs):
        super().__init__()
        self.token_emb = nn.Embedding(num_tokens, dim)
        self.pos_emb = nn.Embedding(seq_len, dim)
        self.linformer = Linformer(dim, seq_len, depth, **kwargs)
        self.to_logits = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.token_emb(x)
        x = self.pos_emb(torch.arange(x.shape[1], device=x.device)) + x
        x = self.linformer(x)
        return self.to_logits(x.mean(dim=1))


# with k = n and identity projections, Linformer is full softmax attention
attn = LinformerSelfAttention(8, seq_len=6, k=6, heads=2)
with torch.no_grad():
    attn.proj_k.copy_(torch.eye(6))
    attn.proj_v.copy_(torch.eye(6))
x = torch.randn(2, 6, 8)
with torch.no_grad():
    q, k, v = (
        f(x).unflatten(-1, (2, 4)).transpose(1, 2) for f in (attn.to_q, attn.to_k, attn.to_v)
    )
    full = attn.to_out(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2))
identity_gap = (attn(x) - full).abs().max().item()

shared = LinformerSelfAttention(8, seq_len=12, k=4, heads=2, one_kv_head=True, share_kv=True)
short_out = shared(torch.randn(3, 9, 8))  # a shorter sequence slices the projections
short_shape = tuple(short_out.shape)
shared_names = [name for name, _ in shared.named_parameters()]
try:
    shared(torch.randn(1, 13, 8))
    too_long = None
except AssertionError as e:
    too_long = str(e)

# classify: are there more 1s than 2s in the sequence?
n, vocab = 16, 5
tokens = torch.randint(0, vocab, (48, n))
labels = ((tokens == 1).sum(1) > (tokens == 2).sum(1)).long()
model = LinformerClassifier(vocab, 16, n, depth=2, num_classes=2, k=4, heads=2, dropout=0.1)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
losses, accs = [], []
for epoch in range(25):
    model.train()
    loss = F.cross_entropy(model(tokens), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        accs.append((model(tokens).argmax(-1) == labels).float().mean().item())
param_count = sum(p.numel() for p in model.parameters())
