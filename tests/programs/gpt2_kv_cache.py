"""GPT-2 as HuggingFace's modeling_gpt2.py and the minimal ports write it in plain PyTorch:
``Conv1D`` layers (a transposed weight applied with ``torch.addmm``), the fused ``c_attn``
projection split into heads, a ``past_key_values`` cache concatenated along the sequence with
``torch.cat`` and a causal mask sliced from a ``tril`` buffer by the key length, ``gelu_new``
(the tanh approximation), tied input/output embeddings; generation with temperature, top-k
(``torch.topk`` and ``masked_fill``) and nucleus (top-p) filtering as ``top_k_top_p_filtering``
writes it (``sort``, ``cumsum`` of the softmax, a shifted removal mask put back in vocabulary
order by ``scatter``), HuggingFace's repetition penalty (``gather``/``where``/``scatter``),
typical (``nansum`` of an entropy with ``-inf`` logits) and min-p warpers, and
``torch.multinomial`` with a seeded ``torch.Generator``. The cached
logits must equal the full recomputation; the model is trained briefly first."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, CTX = 16, 32


class Conv1D(nn.Module):
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.dim = heads, dim
        self.c_attn, self.c_proj = Conv1D(3 * dim, dim), Conv1D(dim, dim)
        bias = torch.tril(torch.ones(CTX, CTX, dtype=torch.bool)).view(1, 1, CTX, CTX)
        self.register_buffer("bias", bias, persistent=False)
        self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)

    def _split_heads(self, x):
        new_shape = x.size()[:-1] + (self.heads, self.dim // self.heads)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, x, layer_past=None, use_cache=False):
        query, key, value = self.c_attn(x).split(self.dim, dim=2)
        query, key, value = map(self._split_heads, (query, key, value))
        if layer_past is not None:
            past_key, past_value = layer_past
            key = torch.cat((past_key, key), dim=-2)
            value = torch.cat((past_value, value), dim=-2)
        present = (key, value) if use_cache else None
        w = torch.matmul(query, key.transpose(-1, -2)) / (value.size(-1) ** 0.5)
        q_len, k_len = query.size(-2), key.size(-2)
        causal = self.bias[:, :, k_len - q_len : k_len, :k_len]
        w = torch.where(causal, w, torch.finfo(w.dtype).min)
        w = nn.functional.softmax(w, dim=-1)
        out = torch.matmul(w, value).permute(0, 2, 1, 3).contiguous()
        out = out.view(out.size()[:-2] + (self.dim,))
        return self.c_proj(out), present


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(dim, eps=1e-5), nn.LayerNorm(dim, eps=1e-5)
        self.attn = Attention(dim, heads)
        self.c_fc, self.mlp_proj = Conv1D(4 * dim, dim), Conv1D(dim, 4 * dim)

    def forward(self, x, layer_past=None, use_cache=False):
        a, present = self.attn(self.ln_1(x), layer_past=layer_past, use_cache=use_cache)
        x = x + a
        return x + self.mlp_proj(gelu_new(self.c_fc(self.ln_2(x)))), present


class GPT2(nn.Module):
    def __init__(self, dim=32, layers=2, heads=4):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(VOCAB, dim), nn.Embedding(CTX, dim)
        self.h = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, VOCAB, bias=False)
        self.lm_head.weight = self.wte.weight  # tied
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * layers))

    def forward(self, input_ids, past_key_values=None, use_cache=False):
        past_length = 0 if past_key_values is None else past_key_values[0][0].size(-2)
        if past_key_values is None:
            past_key_values = tuple([None] * len(self.h))
        position_ids = torch.arange(past_length, input_ids.size(-1) + past_length)
        x = self.wte(input_ids) + self.wpe(position_ids.unsqueeze(0))
        presents = ()
        for block, layer_past in zip(self.h, past_key_values):
            x, present = block(x, layer_past=layer_past, use_cache=use_cache)
            presents = presents + (present,)
        return self.lm_head(self.ln_f(x)), presents if use_cache else None


def top_k_top_p_filtering(logits, top_k=0, top_p=1.0, filter_value=-float("Inf")):
    if top_k > 0:
        indices_to_remove = logits < torch.topk(logits, top_k)[0][..., -1, None]
        logits = logits.masked_fill(indices_to_remove, filter_value)
    if top_p < 1.0:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative_probs = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
        sorted_indices_to_remove = cumulative_probs > top_p
        sorted_indices_to_remove[..., 1:] = sorted_indices_to_remove[..., :-1].clone()
        sorted_indices_to_remove[..., 0] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(
            1, sorted_indices, sorted_indices_to_remove
        )
        logits = logits.masked_fill(indices_to_remove, filter_value)
    return logits


def repetition_penalty(input_ids, scores, penalty=1.3):
    score = torch.gather(scores, 1, input_ids)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(1, input_ids, score)


def typical_filter(scores, mass=0.5, filter_value=-float("Inf")):
    normalized = torch.nn.functional.log_softmax(scores, dim=-1)
    p = torch.exp(normalized)
    ent = -(normalized * p).nansum(-1, keepdim=True)
    shifted_scores = torch.abs((-normalized) - ent)
    sorted_scores, sorted_indices = torch.sort(shifted_scores, descending=False)
    sorted_logits = scores.gather(-1, sorted_indices)
    cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    last_ind = (cumulative_probs < mass).sum(dim=1)
    last_ind.clamp_(max=sorted_scores.shape[-1] - 1)
    sorted_indices_to_remove = sorted_scores > sorted_scores.gather(1, last_ind.view(-1, 1))
    sorted_indices_to_remove[..., :1] = 0
    indices_to_remove = sorted_indices_to_remove.scatter(
        1, sorted_indices, sorted_indices_to_remove
    )
    return scores.masked_fill(indices_to_remove, filter_value)


def min_p_filter(scores, min_p=0.1, filter_value=-float("Inf")):
    probs = torch.softmax(scores, dim=-1)
    top_probs, _ = probs.max(dim=-1, keepdim=True)
    tokens_to_remove = probs < (min_p * top_probs)
    sorted_indices = torch.argsort(scores, descending=True, dim=-1)
    sorted_indices_to_remove = torch.gather(tokens_to_remove, dim=-1, index=sorted_indices)
    sorted_indices_to_remove[..., :1] = False
    indices_to_remove = sorted_indices_to_remove.scatter(
        1, sorted_indices, sorted_indices_to_remove
    )
    return scores.masked_fill(indices_to_remove, filter_value)


@torch.no_grad()
def generate(model, prompt, steps, temperature, top_k, top_p, generator):
    past, tokens, next_input, kept = None, prompt, prompt, []
    for _ in range(steps):
        logits, past = model(next_input, past_key_values=past, use_cache=True)
        logits = top_k_top_p_filtering(logits[:, -1, :] / temperature, top_k, top_p)
        kept.append(torch.isfinite(logits).sum(-1).tolist())
        probs = F.softmax(logits, dim=-1)
        next_input = torch.multinomial(probs, num_samples=1, generator=generator)
        tokens = torch.cat([tokens, next_input], dim=1)
    return tokens, kept


model = GPT2()
tied = model.lm_head.weight is model.wte.weight
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
    lr=3e-3,
    betas=(0.9, 0.95),
)
losses = []
for step in range(15):
    start = torch.randint(0, VOCAB, (8, 1))
    seq = (start + torch.arange(17) * torch.randint(1, 4, (8, 1))) % VOCAB
    logits, _ = model(seq[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, VOCAB), seq[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    prompt = torch.tensor([[1, 3, 5], [2, 4, 6]])
    full, _ = model(torch.cat([prompt, torch.tensor([[7], [8]])], dim=1))
    _, past = model(prompt, use_cache=True)
    step_logits, past2 = model(torch.tensor([[7], [8]]), past_key_values=past, use_cache=True)
    cache_gap = (full[:, -1] - step_logits[:, -1]).abs().max().item()
    cache_shape = list(past2[0][0].shape)

generator = torch.Generator().manual_seed(1234)
samples, kept = generate(model, prompt, 10, 0.8, top_k=6, top_p=0.9, generator=generator)
samples = samples.tolist()
greedy_gen = torch.Generator().manual_seed(5)
nucleus, nucleus_kept = generate(model, prompt, 6, 1.3, top_k=0, top_p=0.5, generator=greedy_gen)
nucleus = nucleus.tolist()
filtered = top_k_top_p_filtering(full[:, -1].clone(), top_k=5, top_p=0.8)
filtered_mask = torch.isinf(filtered).tolist()
history = torch.tensor([[1, 3, 5, 7], [2, 4, 6, 8]])
penalized = repetition_penalty(history, full[:, -1])
penalty_changed = (penalized != full[:, -1]).sum(-1).tolist()
warped = [
    torch.isfinite(f(penalized.clone() / t)).sum(-1).tolist()
    for f in (typical_filter, min_p_filter)
    for t in (0.7, 1.5)
]
typical_row = typical_filter(penalized, mass=0.9)[0].tolist()
last_logits = full[0, -1].tolist()
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, cache gap {cache_gap:.1e}, samples {samples}")
