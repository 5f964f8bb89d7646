"""Gemma 2/3's attention and output details as Hugging Face's ``modeling_gemma2``/``gemma3``
write them: ``Gemma3RMSNorm`` (float32 computation, ``* (1.0 + weight)`` with zero-initialised
weights), QK-norm on each head's queries and keys, ``query_pre_attn_scalar ** -0.5`` scaling,
attention-logit soft-capping (``logits / cap``, ``tanh``, ``* cap``) and final-logit soft-capping
at 30, the embedding scaled by ``torch.tensor(hidden_size**0.5, dtype=...)``, a GeGLU MLP with
``gelu(approximate="tanh")``, alternating sliding-window (local) and global layers built with
``torch.ones(...).tril().triu(-window)`` boolean masks and ``masked_fill``, grouped-query
``repeat_kv`` by ``expand``/``reshape``, and ``lm_head.weight`` tied to ``embed_tokens.weight``;
trained with AdamW and a warmup-cosine ``LambdaLR``, then checked for the tie surviving
``state_dict`` round trips and for logits bounded by the cap."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class Config:
    vocab_size = 16
    hidden_size = 16
    intermediate_size = 32
    num_attention_heads = 2
    num_key_value_heads = 1
    head_dim = 8
    num_hidden_layers = 2
    query_pre_attn_scalar = 8
    attn_logit_softcapping = 50.0
    final_logit_softcapping = 30.0
    sliding_window = 3
    rms_norm_eps = 1e-6
    layer_types = ["sliding_attention", "full_attention"]


class Gemma3RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        output = self._norm(x.float())
        # Llama does x.to(float16) * w whilst Gemma3 is (x * w).to(float16)
        output = output * (1.0 + self.weight.float())
        return output.type_as(x)

    def extra_repr(self):
        return f"{tuple(self.weight.shape)}, eps={self.eps}"


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rotary(seq_len, dim, base=10000.0):
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    freqs = torch.outer(torch.arange(seq_len).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def repeat_kv(hidden_states: torch.Tensor, n_rep: int) -> torch.Tensor:
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(
        batch, num_key_value_heads, n_rep, slen, head_dim
    )
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


class Gemma3Attention(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.config = config
        self.is_sliding = config.layer_types[layer_idx] == "sliding_attention"
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = config.query_pre_attn_scalar**-0.5
        self.q_proj = nn.Linear(
            config.hidden_size, config.num_attention_heads * self.head_dim, bias=False
        )
        self.k_proj = nn.Linear(
            config.hidden_size, config.num_key_value_heads * self.head_dim, bias=False
        )
        self.v_proj = nn.Linear(
            config.hidden_size, config.num_key_value_heads * self.head_dim, bias=False
        )
        self.o_proj = nn.Linear(
            config.num_attention_heads * self.head_dim, config.hidden_size, bias=False
        )
        self.q_norm = Gemma3RMSNorm(dim=config.head_dim, eps=config.rms_norm_eps)
        self.k_norm = Gemma3RMSNorm(dim=config.head_dim, eps=config.rms_norm_eps)

    def forward(self, hidden_states, position_embeddings, attention_mask):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        query_states = self.q_norm(query_states)
        key_states = self.k_norm(key_states)
        cos, sin = position_embeddings
        query_states = query_states * cos + rotate_half(query_states) * sin
        key_states = key_states * cos + rotate_half(key_states) * sin
        key_states = repeat_kv(key_states, self.num_key_value_groups)
        value_states = repeat_kv(value_states, self.num_key_value_groups)
        attn_weights = torch.matmul(query_states, key_states.transpose(2, 3)) * self.scaling
        softcap = self.config.attn_logit_softcapping
        attn_weights = attn_weights / softcap
        attn_weights = torch.tanh(attn_weights)
        attn_weights = attn_weights * softcap
        attn_weights = attn_weights.masked_fill(
            ~attention_mask, torch.finfo(attn_weights.dtype).min
        )
        attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(
            query_states.dtype
        )
        attn_output = torch.matmul(attn_weights, value_states)
        attn_output = attn_output.transpose(1, 2).contiguous()
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()
        return self.o_proj(attn_output), attn_weights


class Gemma3MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.gelu(self.gate_proj(x), approximate="tanh") * self.up_proj(x))


class Gemma3DecoderLayer(nn.Module):
    def __init__(self, config, layer_idx):
        super().__init__()
        self.self_attn = Gemma3Attention(config, layer_idx)
        self.mlp = Gemma3MLP(config)
        self.input_layernorm = Gemma3RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = Gemma3RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.pre_feedforward_layernorm = Gemma3RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_feedforward_layernorm = Gemma3RMSNorm(config.hidden_size, eps=config.rms_norm_eps)

    def forward(self, hidden_states, position_embeddings, masks):
        mask = masks["sliding" if self.self_attn.is_sliding else "full"]
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states, attn = self.self_attn(hidden_states, position_embeddings, mask)
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.pre_feedforward_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        hidden_states = self.post_feedforward_layernorm(hidden_states)
        return residual + hidden_states, attn


class Gemma3ForCausalLM(nn.Module):
    _tied_weights_keys = ["lm_head.weight"]

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            [Gemma3DecoderLayer(config, i) for i in range(config.num_hidden_layers)]
        )
        self.norm = Gemma3RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.apply(self._init_weights)
        self.tie_weights()

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=0.5)

    def tie_weights(self):
        self.lm_head.weight = self.embed_tokens.weight

    def forward(self, input_ids):
        seq_len = input_ids.shape[1]
        inputs_embeds = self.embed_tokens(input_ids)
        normalizer = torch.tensor(self.config.hidden_size**0.5, dtype=inputs_embeds.dtype)
        hidden_states = inputs_embeds * normalizer
        causal = torch.ones(seq_len, seq_len, dtype=torch.bool).tril()
        masks = {"full": causal, "sliding": causal.triu(-(self.config.sliding_window - 1))}
        position_embeddings = rotary(seq_len, self.config.head_dim)
        attentions = []
        for layer in self.layers:
            hidden_states, attn = layer(hidden_states, position_embeddings, masks)
            attentions.append(attn)
        hidden_states = self.norm(hidden_states)
        logits = self.lm_head(hidden_states)
        cap = self.config.final_logit_softcapping
        logits = logits / cap
        logits = torch.tanh(logits)
        logits = logits * cap
        return logits, attentions


config = Config()
model = Gemma3ForCausalLM(config)
tied = model.lm_head.weight is model.embed_tokens.weight
unique_params = len(list(model.parameters()))
state_keys = [k for k in model.state_dict() if "embed" in k or "lm_head" in k]
norm_repr = repr(model.layers[0].self_attn.q_norm)

# sequences where each token is the sum of the two before it (mod 16): the sliding window of 3
# holds both
B, L = 8, 12
seqs = [torch.randint(0, 16, (B,)), torch.randint(0, 16, (B,))]
for _ in range(L - 2):
    seqs.append((seqs[-1] + seqs[-2]) % 16)
data = torch.stack(seqs, 1)


def lr_lambda(step, warmup=5, total=40):
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-2
)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
losses = []
for step in range(40):
    logits, _ = model(data[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, 16), data[:, 1:].reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())

with torch.no_grad():
    logits, attentions = model(data[:, :-1])
accuracy = (logits[:, 2:].argmax(-1) == data[:, 3:]).float().mean().item()
max_logit = logits.abs().max().item()
with torch.no_grad():
    big = model.lm_head.weight * 1000
    capped = torch.tanh((model.norm(model.embed_tokens(data[:, :4]) * 4.0) @ big.T) / 30.0) * 30.0
capped_max = capped.abs().max().item()
sliding_zeros = (attentions[0][0, 0, 5, :2] == 0).tolist()  # outside the window of layer 0
global_nonzero = bool((attentions[1][0, 0, 5, :6] > 0).all())
q_norm_weight = model.layers[0].self_attn.q_norm.weight.detach()[:4].tolist()

reloaded = Gemma3ForCausalLM(config)
reloaded.load_state_dict(model.state_dict())
still_tied = reloaded.lm_head.weight is reloaded.embed_tokens.weight
same_logits = torch.equal(reloaded(data[:, :-1])[0], model(data[:, :-1])[0])
