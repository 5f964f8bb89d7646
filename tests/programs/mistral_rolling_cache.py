"""Mistral 7B's sliding-window attention with a rolling-buffer KV cache, as the reference
``mistral-src`` ``one_file_ref.py`` writes it: ``precompute_freqs_cis`` with ``torch.polar``,
``apply_rotary_emb`` through ``view_as_complex``/``view_as_real``, grouped-query attention with
``repeat_kv`` (``repeat_interleave``), the banded causal mask (``torch.full``, ``tril``,
``triu(diagonal=-sliding_window)``, ``log``), RMSNorm computed in float and cast back with
``type_as``, the SwiGLU feed-forward, and the ``RotatingBufferCache`` that stores keys and values
at ``positions % sliding_window`` with ``scatter_``; a small model is trained on a periodic
sequence task, then decoded one token at a time through the rolling cache and checked against
full-sequence forward passes under the banded mask."""

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)


class ModelArgs:
    def __init__(
        self,
        dim=16,
        n_layers=2,
        head_dim=8,
        hidden_dim=32,
        n_heads=2,
        n_kv_heads=1,
        sliding_window=4,
        norm_eps=1e-5,
        vocab_size=12,
        max_batch_size=4,
    ):
        self.dim, self.n_layers, self.head_dim, self.hidden_dim = (
            dim,
            n_layers,
            head_dim,
            hidden_dim,
        )
        self.n_heads, self.n_kv_heads, self.sliding_window = n_heads, n_kv_heads, sliding_window
        self.norm_eps, self.vocab_size, self.max_batch_size = norm_eps, vocab_size, max_batch_size


def repeat_kv(keys: torch.Tensor, values: torch.Tensor, repeats: int):
    keys = torch.repeat_interleave(keys, repeats=repeats, dim=2)
    values = torch.repeat_interleave(values, repeats=repeats, dim=2)
    return keys, values


def _reshape_for_broadcast(freqs_cis: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    ndim = x.ndim
    assert 1 < ndim
    assert freqs_cis.shape == (x.shape[1], x.shape[-1]), (
        freqs_cis.shape,
        (x.shape[1], x.shape[-1]),
    )
    shape = [d if i == 1 or i == ndim - 1 else 1 for i, d in enumerate(x.shape)]
    return freqs_cis.view(*shape)


def apply_rotary_emb(xq, xk, freqs_cis):
    xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    freqs_cis = _reshape_for_broadcast(freqs_cis, xq_)
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


class Attention(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.args = args
        self.n_heads: int = args.n_heads
        self.n_kv_heads: int = args.n_kv_heads
        self.repeats = self.n_heads // self.n_kv_heads
        self.sliding_window = self.args.sliding_window
        self.scale = self.args.head_dim**-0.5
        self.wq = nn.Linear(args.dim, args.n_heads * args.head_dim, bias=False)
        self.wk = nn.Linear(args.dim, args.n_kv_heads * args.head_dim, bias=False)
        self.wv = nn.Linear(args.dim, args.n_kv_heads * args.head_dim, bias=False)
        self.wo = nn.Linear(args.n_heads * args.head_dim, args.dim, bias=False)
        self.cache_k = torch.empty(
            (args.max_batch_size, args.sliding_window, self.n_kv_heads, self.args.head_dim)
        )
        self.cache_v = torch.empty(
            (args.max_batch_size, args.sliding_window, self.n_kv_heads, self.args.head_dim)
        )

    def forward(self, x, freqs_cis, positions, mask, use_cache=False):
        bsz, seqlen, _ = x.shape
        xq, xk, xv = self.wq(x), self.wk(x), self.wv(x)
        xq = xq.view(bsz, seqlen, self.n_heads, self.args.head_dim)
        xk = xk.view(bsz, seqlen, self.n_kv_heads, self.args.head_dim)
        xv = xv.view(bsz, seqlen, self.n_kv_heads, self.args.head_dim)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis=freqs_cis)
        if not use_cache:
            key, value = repeat_kv(xk, xv, self.repeats)
        else:
            # The cache is a rotating buffer
            scatter_pos = (positions[-self.sliding_window :] % self.sliding_window)[
                None, :, None, None
            ]
            scatter_pos = scatter_pos.repeat(bsz, 1, self.n_kv_heads, self.args.head_dim)
            self.cache_k[:bsz].scatter_(dim=1, index=scatter_pos, src=xk[:, -self.sliding_window :])
            self.cache_v[:bsz].scatter_(dim=1, index=scatter_pos, src=xv[:, -self.sliding_window :])
            if positions.shape[0] > 1:
                # prefill
                key, value = repeat_kv(xk, xv, self.repeats)
            else:
                cur_pos = positions[-1].item() + 1
                key, value = repeat_kv(
                    self.cache_k[:bsz, :cur_pos, ...],
                    self.cache_v[:bsz, :cur_pos, ...],
                    self.repeats,
                )
        query = xq.transpose(1, 2)
        key = key.transpose(1, 2)
        value = value.transpose(1, 2)
        # scores : [bsz, n_heads, seqlen | 1, seqlen]
        scores = torch.matmul(query, key.transpose(2, 3)) * self.scale
        if mask is not None:
            scores += mask[None, None, ...]
        scores = scores.float()
        scores = nn.functional.softmax(scores, dim=-1).type_as(query)
        output = torch.matmul(scores, value)  # (bs, n_local_heads, slen, head_dim)
        output = output.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.w1 = nn.Linear(args.dim, args.hidden_dim, bias=False)
        self.w2 = nn.Linear(args.hidden_dim, args.dim, bias=False)
        self.w3 = nn.Linear(args.dim, args.hidden_dim, bias=False)

    def forward(self, x) -> torch.Tensor:
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


class RMSNorm(torch.nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        output = self._norm(x.float()).type_as(x)
        return output * self.weight


class TransformerBlock(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.attention = Attention(args)
        self.feed_forward = FeedForward(args=args)
        self.attention_norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.ffn_norm = RMSNorm(args.dim, eps=args.norm_eps)

    def forward(self, x, freqs_cis, positions, mask, use_cache=False):
        r = self.attention.forward(self.attention_norm(x), freqs_cis, positions, mask, use_cache)
        h = x + r
        r = self.feed_forward.forward(self.ffn_norm(h))
        out = h + r
        return out


def precompute_freqs_cis(dim: int, end: int, theta: float = 10000.0) -> torch.Tensor:
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = torch.arange(end, device=freqs.device)  # type: ignore
    freqs = torch.outer(t, freqs).float()  # type: ignore
    return torch.polar(torch.ones_like(freqs), freqs)  # complex64


class Transformer(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.args = args
        self.vocab_size = args.vocab_size
        self.n_layers = args.n_layers
        self.tok_embeddings = nn.Embedding(args.vocab_size, args.dim)
        self.layers = torch.nn.ModuleList(
            [TransformerBlock(args=args) for _ in range(args.n_layers)]
        )
        self.norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.output = nn.Linear(args.dim, args.vocab_size, bias=False)
        self.freqs_cis = precompute_freqs_cis(self.args.head_dim, 128_000 // 1000)

    def forward(self, input_ids, positions, use_cache=False):
        h = self.tok_embeddings(input_ids)
        freqs_cis = self.freqs_cis[positions]
        mask = None
        if input_ids.shape[1] > 1:
            seqlen = input_ids.shape[1]
            tensor = torch.full((seqlen, seqlen), dtype=h.dtype, fill_value=1, device=h.device)
            mask = torch.tril(tensor, diagonal=0).to(h.dtype)
            # make the mask banded to account for sliding window
            mask = torch.triu(mask, diagonal=-self.args.sliding_window)
            mask = torch.log(mask)
        for layer in self.layers:
            h = layer(h, freqs_cis, positions, mask, use_cache)
        return self.output(self.norm(h)).float()


freqs = precompute_freqs_cis(8, 6)
freqs_summary = [str(freqs.dtype), tuple(freqs.shape), torch.view_as_real(freqs[5]).tolist()]
band = Transformer(ModelArgs(n_layers=1))
with torch.no_grad():
    mask_tensor = torch.tril(torch.full((6, 6), fill_value=1, dtype=torch.float32), diagonal=0)
    band_mask = torch.log(torch.triu(mask_tensor, diagonal=-4))
band_rows = [row.isfinite().sum().item() for row in band_mask]

# learn a sequence whose next token is the one 3 back, plus 1 (needs the window, not beyond)
args = ModelArgs()
model = Transformer(args)
B, L = 4, 11
seed_tokens = torch.randint(0, 12, (B, 3))
data = [seed_tokens[:, i] for i in range(3)]
for t in range(3, L):
    data.append((data[t - 3] + 1) % 12)
data = torch.stack(data, dim=1)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-2, betas=(0.9, 0.95), weight_decay=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-2, total_steps=40)
losses = []
positions = torch.arange(L - 1)
for step in range(40):
    logits = model(data[:, :-1], positions)
    loss = F.cross_entropy(logits.reshape(-1, 12), data[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

# prefill 3 tokens through the rolling cache, then decode past the window (positions >= 4)
model.eval()
with torch.no_grad():
    prompt = data[:, :3]
    logits = model(prompt, torch.arange(3), use_cache=True)
    generated = prompt
    cached_logits = []
    for pos in range(3, 10):
        next_token = logits[:, -1].argmax(-1, keepdim=True)
        generated = torch.cat([generated, next_token], dim=1)
        logits = model(next_token, torch.tensor([pos]), use_cache=True)
        cached_logits.append(logits[:, -1])
    # the reference's band keeps sliding_window + 1 keys and its buffer sliding_window: compare
    # with full passes under a band as wide as the buffer, then under the training band
    args.sliding_window -= 1
    full_logits = model(generated, torch.arange(generated.shape[1]))
    args.sliding_window += 1
    wide_logits = model(generated, torch.arange(generated.shape[1]))
cache_gap = max((c - full_logits[:, i + 3]).abs().max().item() for i, c in enumerate(cached_logits))
wide_gap = max((c - wide_logits[:, i + 3]).abs().max().item() for i, c in enumerate(cached_logits))
generated_tokens = generated.tolist()
continuation_correct = (generated[:, 3:] == data[:, 3:10]).float().mean().item()
cache_slots = model.layers[0].attention.cache_k.shape[1]

# the same banded attention through SDPA: a boolean band (keys at most sliding_window back)
# with is_causal=True for the upper triangle, as newer Mistral ports pass it
attention = model.layers[0].attention
with torch.no_grad():
    x = model.layers[0].attention_norm(model.tok_embeddings(data[:, :8]))
    freqs_cis = model.freqs_cis[torch.arange(8)]
    q = attention.wq(x).view(B, 8, 2, 8)
    k = attention.wk(x).view(B, 8, 1, 8)
    v = attention.wv(x).view(B, 8, 1, 8)
    q, k = apply_rotary_emb(q, k, freqs_cis)
    k, v = repeat_kv(k, v, attention.repeats)
    band = torch.ones(8, 8, dtype=torch.bool).triu(-args.sliding_window)
    sdpa = F.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=band, is_causal=True
    )
    causal_band = band & torch.ones(8, 8, dtype=torch.bool).tril()
    float_band = torch.zeros(8, 8).masked_fill(~causal_band, float("-inf"))
    reference = attention(x, freqs_cis, torch.arange(8), float_band)
    sdpa_gap = (attention.wo(sdpa.transpose(1, 2).reshape(B, 8, -1)) - reference).abs().max().item()
