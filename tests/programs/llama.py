"""A tiny LLaMA-style decoder as people write it for PyTorch: RMSNorm, rotary position
embeddings (the rotate_half form), grouped-query attention with repeat_interleave, SwiGLU
feed-forward, F.scaled_dot_product_attention, a key/value cache for generation, top-p sampling
with sort/cumsum/multinomial/gather, under @torch.inference_mode(). Trained briefly on
synthetic sequences that count upward modulo the vocabulary."""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
device = "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class ModelArgs:
    dim: int = 32
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    vocab_size: int = 16
    multiple_of: int = 16
    norm_eps: float = 1e-5
    max_seq_len: int = 32


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


def precompute_rope(head_dim: int, end: int, theta: float = 10000.0):
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2).float() / head_dim))
    t = torch.arange(end, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)  # (end, head_dim / 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_emb(q, k, cos, sin):
    # q, k: (bs, n_heads, seqlen, head_dim); cos, sin: (seqlen, head_dim)
    cos, sin = cos[None, None], sin[None, None]
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


class Attention(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.n_kv_heads = args.n_heads if args.n_kv_heads is None else args.n_kv_heads
        self.n_heads = args.n_heads
        self.n_rep = self.n_heads // self.n_kv_heads
        self.head_dim = args.dim // args.n_heads
        self.wq = nn.Linear(args.dim, args.n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(args.n_heads * self.head_dim, args.dim, bias=False)
        self.cache_k = None
        self.cache_v = None

    def forward(self, x, start_pos, cos, sin, use_cache=False):
        bsz, seqlen, _ = x.shape
        xq = self.wq(x).view(bsz, seqlen, self.n_heads, self.head_dim).transpose(1, 2)
        xk = self.wk(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim).transpose(1, 2)
        xv = self.wv(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim).transpose(1, 2)
        xq, xk = apply_rotary_emb(xq, xk, cos, sin)

        if use_cache:
            if start_pos == 0:
                self.cache_k, self.cache_v = xk, xv
            else:
                self.cache_k = torch.cat([self.cache_k, xk], dim=2)
                self.cache_v = torch.cat([self.cache_v, xv], dim=2)
            keys, values = self.cache_k, self.cache_v
        else:
            keys, values = xk, xv

        # grouped-query attention: each key/value head serves n_rep query heads
        keys = keys.repeat_interleave(self.n_rep, dim=1)
        values = values.repeat_interleave(self.n_rep, dim=1)
        if seqlen > 1:
            mask = torch.full((seqlen, seqlen), float("-inf"), device=x.device)
            mask = torch.triu(mask, diagonal=1)
            # rows for the new tokens see every cached position before them
            mask = torch.hstack([torch.zeros((seqlen, start_pos), device=x.device), mask])
            output = F.scaled_dot_product_attention(xq, keys, values, attn_mask=mask)
        else:
            output = F.scaled_dot_product_attention(xq, keys, values)
        output = output.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden_dim: int, multiple_of: int):
        super().__init__()
        hidden_dim = int(2 * hidden_dim / 3)
        hidden_dim = multiple_of * ((hidden_dim + multiple_of - 1) // multiple_of)
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, layer_id: int, args: ModelArgs):
        super().__init__()
        self.attention = Attention(args)
        self.feed_forward = FeedForward(args.dim, 4 * args.dim, args.multiple_of)
        self.layer_id = layer_id
        self.attention_norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.ffn_norm = RMSNorm(args.dim, eps=args.norm_eps)

    def forward(self, x, start_pos, cos, sin, use_cache=False):
        h = x + self.attention(self.attention_norm(x), start_pos, cos, sin, use_cache)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, params: ModelArgs):
        super().__init__()
        self.params = params
        self.tok_embeddings = nn.Embedding(params.vocab_size, params.dim)
        self.layers = torch.nn.ModuleList(
            [TransformerBlock(layer_id, params) for layer_id in range(params.n_layers)]
        )
        self.norm = RMSNorm(params.dim, eps=params.norm_eps)
        self.output = nn.Linear(params.dim, params.vocab_size, bias=False)
        self.output.weight = self.tok_embeddings.weight  # weight tying
        cos, sin = precompute_rope(params.dim // params.n_heads, params.max_seq_len * 2)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("wo.weight") or pn.endswith("w2.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * params.n_layers))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, tokens, start_pos=0, targets=None, use_cache=False):
        _bsz, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        cos = self.rope_cos[start_pos : start_pos + seqlen]
        sin = self.rope_sin[start_pos : start_pos + seqlen]
        for layer in self.layers:
            h = layer(h, start_pos, cos, sin, use_cache)
        h = self.norm(h)
        logits = self.output(h).float()
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss


def sample_top_p(probs, p):
    probs_sort, probs_idx = torch.sort(probs, dim=-1, descending=True)
    probs_sum = torch.cumsum(probs_sort, dim=-1)
    mask = probs_sum - probs_sort > p
    probs_sort[mask] = 0.0
    probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
    next_token = torch.multinomial(probs_sort, num_samples=1)
    next_token = torch.gather(probs_idx, -1, next_token)
    return next_token


@torch.inference_mode()
def generate(model, prompt_tokens, max_gen_len, temperature=0.6, top_p=0.9, use_cache=True):
    tokens = prompt_tokens
    logits, _ = model(tokens, 0, use_cache=use_cache)
    for _ in range(max_gen_len):
        if temperature > 0:
            probs = torch.softmax(logits[:, -1] / temperature, dim=-1)
            next_token = sample_top_p(probs, top_p)
        else:
            next_token = torch.argmax(logits[:, -1], dim=-1, keepdim=True)
        start = tokens.shape[1]
        tokens = torch.cat([tokens, next_token], dim=1)
        if use_cache:
            logits, _ = model(next_token, start, use_cache=True)
        else:
            logits, _ = model(tokens, 0)
    return tokens


args = ModelArgs()
model = Transformer(args).to(device)
n_params = sum(p.numel() for p in model.parameters())
print(f"parameters: {n_params}")


def get_batch(batch_size=32, seq_len=16):
    """Sequences that count upward by a per-sequence step (1, 2 or 3), modulo the vocabulary."""
    start = torch.randint(0, args.vocab_size, (batch_size, 1))
    step = torch.randint(1, 4, (batch_size, 1))
    seq = (start + step * torch.arange(seq_len + 1)) % args.vocab_size
    return seq[:, :-1].to(device), seq[:, 1:].to(device)


optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=90)
losses = []
for it in range(90):
    xb, yb = get_batch()
    _, loss = model(xb, targets=yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    if it % 30 == 0 or it == 89:
        print(f"iter {it}: loss {loss.item():.4f}")

model.eval()
prompt = torch.tensor([[3, 5, 7, 9], [0, 1, 2, 3]], device=device)
greedy_cached = generate(model, prompt, 8, temperature=0.0)
greedy_full = generate(model, prompt, 8, temperature=0.0, use_cache=False)
torch.manual_seed(1)
sampled = generate(model, prompt, 8, temperature=0.8, top_p=0.9)
print("greedy:", greedy_cached.tolist())
print("sampled:", sampled.tolist())
with torch.inference_mode():
    full_logits, _ = model(greedy_cached[:, :-1])
    model(greedy_cached[:, :6], 0, use_cache=True)
    step_logits, _ = model(greedy_cached[:, 6:7], 6, use_cache=True)
cache_gap = (full_logits[:, 6] - step_logits[:, 0]).abs().max().item()
