"""Karpathy's build-nanogpt ``train_gpt2.py`` (the GPT-2 reproduction video), shrunk: the
``GPT`` with a fused ``c_attn`` split by ``qkv.split(n_embd, dim=2)``,
``F.scaled_dot_product_attention(is_causal=True)``, ``nn.GELU(approximate='tanh')``, weight
sharing ``wte.weight = lm_head.weight``, ``_init_weights`` scaling residual projections that
carry a ``NANOGPT_SCALE_INIT`` attribute by ``(2 * n_layer) ** -0.5``;
``configure_optimizers`` splitting ``param_dict`` by ``p.dim() >= 2`` into decay and no-decay
groups and asking ``inspect.signature(torch.optim.AdamW)`` for ``fused``;
``DataLoaderLite`` over a NumPy ``uint16`` token shard (``torch.tensor(npt, dtype=torch.long)``,
``buf[:-1].view(B, T)``); the loop with ``torch.set_float32_matmul_precision('high')``,
gradient accumulation (``loss / grad_accum_steps``, ``loss_accum += loss.detach()``),
``clip_grad_norm_`` returning the norm, the warm-up plus cosine ``get_lr`` written into each
``param_group['lr']``; HellaSwag's ``get_most_likely_row`` (shifted per-token losses masked to
the completion, ``argmin`` of the mean); and top-k sampling with ``torch.topk``,
``torch.multinomial(generator=sample_rng)`` and ``torch.gather``."""

import inspect
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.c_proj.NANOGPT_SCALE_INIT = 1
        self.n_head = config.n_head
        self.n_embd = config.n_embd

    def forward(self, x):
        B, T, C = x.size()
        qkv = self.c_attn(x)
        q, k, v = qkv.split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # flash attention
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.c_proj.NANOGPT_SCALE_INIT = 1

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


@dataclass
class GPTConfig:
    block_size: int = 16
    vocab_size: int = 64
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 16


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd),
        ))  # fmt: skip
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # weight sharing scheme
        self.transformer.wte.weight = self.lm_head.weight
        # init params
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            std = 0.02
            if hasattr(module, "NANOGPT_SCALE_INIT"):
                std *= (2 * self.config.n_layer) ** -0.5
            torch.nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        B, T = idx.size()
        assert T <= self.config.block_size, f"Cannot forward sequence of length {T}"
        pos = torch.arange(0, T, dtype=torch.long, device=idx.device)  # shape (T)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, vocab_size)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, device_type):
        param_dict = {pn: p for pn, p in self.named_parameters()}
        param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        num_decay_params = sum(p.numel() for p in decay_params)
        num_nodecay_params = sum(p.numel() for p in nodecay_params)
        self.group_sizes = (len(decay_params), num_decay_params, len(nodecay_params), num_nodecay_params)  # fmt: skip
        fused_available = "fused" in inspect.signature(torch.optim.AdamW).parameters
        use_fused = fused_available and device_type == "cuda"
        self.fused = (fused_available, use_fused)
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=(0.9, 0.95), eps=1e-8, fused=use_fused)  # fmt: skip


class DataLoaderLite:
    def __init__(self, B, T, tokens):
        self.B, self.T = B, T
        self.tokens = torch.tensor(tokens, dtype=torch.long)
        self.current_position = 0

    def next_batch(self):
        B, T = self.B, self.T
        buf = self.tokens[self.current_position : self.current_position + B * T + 1]
        x = (buf[:-1]).view(B, T)  # inputs
        y = (buf[1:]).view(B, T)  # targets
        self.current_position += B * T
        if self.current_position + (B * T + 1) > len(self.tokens):
            self.current_position = 0
        return x, y


npt = (np.arange(600) * 5 % 61).astype(np.uint16)  # a "shard" of GPT-2 tokens
torch.manual_seed(1337)
precision_before = torch.get_float32_matmul_precision()
torch.set_float32_matmul_precision("high")
device, device_type = "cpu", "cpu"
total_batch_size, B, T = 128, 4, 16
grad_accum_steps = total_batch_size // (B * T)
train_loader = DataLoaderLite(B=B, T=T, tokens=npt)
model = GPT(GPTConfig())
model.to(device)
tied = model.transformer.wte.weight is model.lm_head.weight
proj_std = model.transformer.h[0].attn.c_proj.weight.std().item()

max_lr, min_lr, warmup_steps, max_steps = 6e-3, 6e-4, 2, 6


def get_lr(it):
    if it < warmup_steps:
        return max_lr * (it + 1) / warmup_steps
    if it > max_steps:
        return min_lr
    decay_ratio = (it - warmup_steps) / (max_steps - warmup_steps)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # coeff starts at 1 and goes to 0
    return min_lr + coeff * (max_lr - min_lr)


optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=6e-4, device_type=device_type)  # fmt: skip
losses, norms, lrs = [], [], []
for step in range(max_steps):
    model.train()
    optimizer.zero_grad()
    loss_accum = 0.0
    for micro_step in range(grad_accum_steps):
        x, y = train_loader.next_batch()
        x, y = x.to(device), y.to(device)
        logits, loss = model(x, y)
        loss = loss / grad_accum_steps
        loss_accum += loss.detach()
        loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    lr = get_lr(step)
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr
    optimizer.step()
    losses.append(loss_accum.item())
    norms.append(norm.item())
    lrs.append(lr)
accum_type = type(loss_accum).__name__


def get_most_likely_row(tokens, mask, logits):
    shift_logits = (logits[..., :-1, :]).contiguous()
    shift_tokens = (tokens[..., 1:]).contiguous()
    flat_shift_logits = shift_logits.view(-1, shift_logits.size(-1))
    flat_shift_tokens = shift_tokens.view(-1)
    shift_losses = F.cross_entropy(flat_shift_logits, flat_shift_tokens, reduction="none")
    shift_losses = shift_losses.view(tokens.size(0), -1)
    shift_mask = (
        mask[..., 1:]
    ).contiguous()  # we must shift mask, so we start at the last prompt token
    masked_shift_losses = shift_losses * shift_mask
    sum_loss = masked_shift_losses.sum(dim=1)
    avg_loss = sum_loss / shift_mask.sum(dim=1)
    pred_norm = avg_loss.argmin().item()
    return pred_norm, avg_loss.tolist()


ctx = npt[:6].tolist()
endings = [npt[6:10].tolist(), [3, 9, 1, 40], npt[6:8].tolist() + [0, 0], [7, 7, 7, 7]]
tokens = torch.tensor([ctx + e for e in endings], dtype=torch.long)
mask = torch.tensor([[0] * 6 + [1] * 4] * 4, dtype=torch.long)
model.eval()
with torch.no_grad():
    logits, _ = model(tokens)
hellaswag = get_most_likely_row(tokens, mask, logits)

num_return_sequences, max_length = 2, 12
tokens = torch.tensor(npt[:4].tolist(), dtype=torch.long)
tokens = tokens.unsqueeze(0).repeat(num_return_sequences, 1)
xgen = tokens.to(device)
sample_rng = torch.Generator(device=device)
sample_rng.manual_seed(42)
while xgen.size(1) < max_length:
    with torch.no_grad():
        logits, loss = model(xgen)  # (B, T, vocab_size)
        logits = logits[:, -1, :]  # (B, vocab_size)
        probs = F.softmax(logits, dim=-1)
        topk_probs, topk_indices = torch.topk(probs, 5, dim=-1)
        ix = torch.multinomial(topk_probs, 1, generator=sample_rng)  # (B, 1)
        xcol = torch.gather(topk_indices, -1, ix)  # (B, 1)
        xgen = torch.cat((xgen, xcol), dim=1)
samples = xgen.tolist()
torch.set_float32_matmul_precision(precision_before)  # the programs run after this one
