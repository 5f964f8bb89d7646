"""Decoding as pytorch-labs/gpt-fast's model.py, generate.py and quantize.py write it in plain
PyTorch: a preallocated ``KVCache`` updated in place at tensor positions
(``k_out[:, :, input_pos] = k_val``), the causal mask taken as rows of a ``tril`` buffer by
``input_pos``, rotary embeddings from a real ``freqs_cis`` cache (``torch.stack`` of cos/sin,
``x.reshape(..., -1, 2)``), prefill then one token at a time under ``torch.no_grad`` inside
``sdpa_kernel([SDPBackend.MATH])``; sampling with ``logits / max(temperature, 1e-5)``, top-k by
``torch.topk`` and ``torch.where(logits < pivot, -inf, logits)``, and gpt-fast's "no sync"
multinomial (``argmax(probs / empty_like(probs).exponential_(1))``); weight-only int8
quantization (per-channel scales, ``torch.round(...).to(torch.int8)``, a ``WeightOnlyInt8Linear``
module swapped in by ``named_children`` and ``setattr``) compared with the float model."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

torch.manual_seed(0)
VOCAB, MAX_SEQ, DIM, HEADS = 24, 32, 32, 4
HEAD_DIM = DIM // HEADS


class KVCache(nn.Module):
    def __init__(self, max_batch_size, max_seq_length, n_heads, head_dim, dtype=torch.float32):
        super().__init__()
        cache_shape = (max_batch_size, n_heads, max_seq_length, head_dim)
        self.register_buffer("k_cache", torch.zeros(cache_shape, dtype=dtype))
        self.register_buffer("v_cache", torch.zeros(cache_shape, dtype=dtype))

    def update(self, input_pos, k_val, v_val):
        assert input_pos.shape[0] == k_val.shape[2]
        k_out, v_out = self.k_cache, self.v_cache
        k_out[:, :, input_pos] = k_val
        v_out[:, :, input_pos] = v_val
        return k_out, v_out


def precompute_freqs_cis(seq_len, n_elem, base=10000):
    freqs = 1.0 / (base ** (torch.arange(0, n_elem, 2)[: (n_elem // 2)].float() / n_elem))
    t = torch.arange(seq_len, device=freqs.device)
    freqs = torch.outer(t, freqs)
    freqs_cis = torch.polar(torch.ones_like(freqs), freqs)
    return torch.stack([freqs_cis.real, freqs_cis.imag], dim=-1)


def apply_rotary_emb(x, freqs_cis):
    xshaped = x.float().reshape(*x.shape[:-1], -1, 2)
    freqs_cis = freqs_cis.view(1, xshaped.size(1), 1, xshaped.size(3), 2)
    x_out2 = torch.stack(
        [
            xshaped[..., 0] * freqs_cis[..., 0] - xshaped[..., 1] * freqs_cis[..., 1],
            xshaped[..., 1] * freqs_cis[..., 0] + xshaped[..., 0] * freqs_cis[..., 1],
        ],
        -1,
    )
    return x_out2.flatten(3).type_as(x)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.wqkv, self.wo = nn.Linear(DIM, 3 * DIM, bias=False), nn.Linear(DIM, DIM, bias=False)
        self.kv_cache = None

    def forward(self, x, freqs_cis, mask, input_pos=None):
        bsz, seqlen, _ = x.shape
        q, k, v = self.wqkv(x).split([DIM, DIM, DIM], dim=-1)
        q, k, v = (z.view(bsz, seqlen, HEADS, HEAD_DIM) for z in (q, k, v))
        q, k = apply_rotary_emb(q, freqs_cis), apply_rotary_emb(k, freqs_cis)
        q, k, v = map(lambda t: t.transpose(1, 2), (q, k, v))
        if self.kv_cache is not None:
            k, v = self.kv_cache.update(input_pos, k, v)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.0)
        return self.wo(y.transpose(1, 2).contiguous().view(bsz, seqlen, DIM))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = Attention()
        self.w1, self.w3 = nn.Linear(DIM, 64, bias=False), nn.Linear(DIM, 64, bias=False)
        self.w2 = nn.Linear(64, DIM, bias=False)
        self.attention_norm, self.ffn_norm = nn.RMSNorm(DIM, eps=1e-5), nn.RMSNorm(DIM, eps=1e-5)

    def forward(self, x, input_pos, freqs_cis, mask):
        h = x + self.attention(self.attention_norm(x), freqs_cis, mask, input_pos)
        y = self.ffn_norm(h)
        return h + self.w2(F.silu(self.w1(y)) * self.w3(y))


class Transformer(nn.Module):
    def __init__(self, layers=2):
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleList(Block() for _ in range(layers))
        self.norm, self.output = nn.RMSNorm(DIM, eps=1e-5), nn.Linear(DIM, VOCAB, bias=False)
        self.freqs_cis = precompute_freqs_cis(MAX_SEQ, HEAD_DIM)
        self.causal_mask = torch.tril(torch.ones(MAX_SEQ, MAX_SEQ, dtype=torch.bool))

    def setup_caches(self, max_batch_size):
        for b in self.layers:
            b.attention.kv_cache = KVCache(max_batch_size, MAX_SEQ, HEADS, HEAD_DIM)

    def forward(self, idx, input_pos=None):
        if input_pos is None:  # training: plain causal attention over the sequence
            input_pos = torch.arange(idx.shape[1])
            mask = self.causal_mask[None, None, : idx.shape[1], : idx.shape[1]]
        else:
            mask = self.causal_mask[None, None, input_pos]
        freqs_cis = self.freqs_cis[input_pos]
        x = self.tok_embeddings(idx)
        for layer in self.layers:
            x = layer(x, input_pos, freqs_cis, mask)
        return self.output(self.norm(x))


def multinomial_sample_one_no_sync(probs_sort):
    q = torch.empty_like(probs_sort).exponential_(1)
    return torch.argmax(probs_sort / q, dim=-1, keepdim=True).to(dtype=torch.int)


def logits_to_probs(logits, temperature=1.0, top_k=None):
    logits = logits / max(temperature, 1e-5)
    if top_k is not None:
        v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
        pivot = v.select(-1, -1).unsqueeze(-1)
        logits = torch.where(logits < pivot, -float("Inf"), logits)
    return torch.nn.functional.softmax(logits, dim=-1)


def sample(logits, temperature=1.0, top_k=None):
    probs = logits_to_probs(logits[:, -1], temperature, top_k)
    return multinomial_sample_one_no_sync(probs), probs


@torch.no_grad()
def generate(model, prompt, max_new_tokens, **sampling_kwargs):
    T = prompt.size(-1)
    model.setup_caches(max_batch_size=1)
    input_pos = torch.arange(0, T)
    with sdpa_kernel([SDPBackend.MATH]):
        next_token, _ = sample(model(prompt.view(1, -1), input_pos), **sampling_kwargs)
        tokens, input_pos = [next_token.clone()], torch.tensor([T], dtype=torch.int)
        for _ in range(max_new_tokens - 1):
            next_token, _ = sample(model(next_token.view(1, -1), input_pos), **sampling_kwargs)
            input_pos += 1
            tokens.append(next_token.clone())
    return torch.cat([prompt, torch.cat(tokens).view(-1)])


class WeightOnlyInt8Linear(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.register_buffer("weight", torch.empty((out_features, in_features), dtype=torch.int8))
        self.register_buffer("scales", torch.ones(out_features, dtype=torch.bfloat16))

    def forward(self, x):
        return F.linear(x, self.weight.to(dtype=x.dtype)) * self.scales.to(x.dtype)


def dynamically_quantize_per_channel(x, quant_min=-128, quant_max=127):
    eps = torch.finfo(torch.float32).eps
    min_val_neg = torch.min(torch.aminmax(x, dim=1)[0], torch.zeros(x.shape[0]))
    max_val_pos = torch.max(torch.aminmax(x, dim=1)[1], torch.zeros(x.shape[0]))
    max_val_pos = torch.max(-min_val_neg, max_val_pos)
    scales = max_val_pos / (float(quant_max - quant_min) / 2)
    scales = torch.clamp(scales, min=eps).to(x.dtype)
    x_div = x / scales.unsqueeze(-1)
    quant = torch.clamp(torch.round(x_div), quant_min, quant_max).to(torch.int8)
    return quant, scales


def replace_linear_weight_only_int8(module):
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            q = WeightOnlyInt8Linear(child.in_features, child.out_features)
            quant, scales = dynamically_quantize_per_channel(child.weight.float())
            q.weight.copy_(quant)
            q.scales.copy_(scales.to(torch.bfloat16))
            setattr(module, name, q)
        else:
            replace_linear_weight_only_int8(child)


model = Transformer()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
losses = []
for step in range(20):
    start = torch.randint(0, VOCAB, (8, 1))
    seq = (start + torch.arange(17) * torch.randint(1, 3, (8, 1))) % VOCAB
    loss = F.cross_entropy(model(seq[:, :-1]).reshape(-1, VOCAB), seq[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
prompt = torch.tensor([3, 5, 7, 9])
with torch.no_grad():
    model.setup_caches(1)
    prefill = model(prompt.view(1, -1), torch.arange(4))
    step_logits = model(torch.tensor([[11]]), torch.tensor([4], dtype=torch.int))
    cache_filled = (model.layers[0].attention.kv_cache.k_cache.abs().sum((0, 1, 3)) > 0).tolist()
    model.setup_caches(1)
    full = model(torch.cat([prompt, torch.tensor([11])]).view(1, -1), torch.arange(5))
    cache_gap = (step_logits[0, -1] - full[0, -1]).abs().max().item()
torch.manual_seed(42)
greedy = generate(model, prompt, 8, temperature=0.0, top_k=None).tolist()
sampled = generate(model, prompt, 8, temperature=0.8, top_k=5).tolist()
probs = logits_to_probs(full[0, -1], temperature=0.7, top_k=4).tolist()

replace_linear_weight_only_int8(model)
with torch.no_grad():
    model.setup_caches(1)
    quant_full = model(torch.cat([prompt, torch.tensor([11])]).view(1, -1), torch.arange(5))
quant_gap = (quant_full - full).abs().max().item()
int8_dtype = str(model.layers[0].attention.wqkv.weight.dtype).split(".")[-1]
quant_weight = model.layers[0].w1.weight[0, :8].tolist()
quant_scales = model.layers[0].w1.scales[:4].float().tolist()
torch.manual_seed(42)
quant_greedy = generate(model, prompt, 8, temperature=0.0).tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, cache gap {cache_gap:.1e}, {greedy} {sampled}")
