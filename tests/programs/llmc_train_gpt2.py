"""llm.c's ``train_gpt2.py`` reference script, shrunk: the hand-written ``NewGELU``, causal
attention with a ``tril`` mask buffer viewed ``(1, 1, T, T)`` and ``masked_fill`` by
``float('-inf')`` next to the flash path, ``configure_optimizers`` splitting by ``p.dim() >= 2``,
``get_lr`` with warmup and decay to ``learning_rate_decay_frac``, ``clip_grad_norm_``'s
returned norm, ``torch.set_float32_matmul_precision('high')`` and a ``nullcontext`` on CPU;
``write_model`` writing a 256-int32 header (``torch.zeros(256, dtype=torch.int32)``) and the
weights as fp32 bytes and as bf16 bytes through ``t.to(torch.bfloat16).view(torch.int16)``,
``write_state`` with ``x, y, logits, loss`` and the gradients, read back with NumPy; then
``generate`` with ``top_k`` and ``torch.multinomial``."""

import math
import os
import tempfile
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F


class NewGELU(nn.Module):
    def forward(self, input):
        return (
            0.5
            * input
            * (
                1.0
                + torch.tanh(math.sqrt(2.0 / math.pi) * (input + 0.044715 * torch.pow(input, 3.0)))
            )
        )


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size, flash):
        super().__init__()
        self.c_attn, self.c_proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
        self.n_head, self.n_embd, self.flash = n_head, n_embd, flash
        self.register_buffer(
            "bias",
            torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size),
        )

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size, flash):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size, flash)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd), NewGELU(), nn.Linear(4 * n_embd, n_embd)
        )

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size=16, block_size=8, n_layer=2, n_head=2, n_embd=16, flash=False):
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block(n_embd, n_head, block_size, flash) for _ in range(n_layer)]), ln_f=nn.LayerNorm(n_embd)))  # fmt: skip
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets=None):
        pos = torch.arange(0, idx.size(1), dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
            )
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size :]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            idx_next = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def write_fp32(tensor, file):
    file.write(tensor.detach().cpu().to(torch.float32).numpy().tobytes())


def write_bf16(tensor, file):
    file.write(tensor.detach().cpu().to(torch.bfloat16).view(torch.int16).numpy().tobytes())


def write_model(model, filename, dtype):
    header = torch.zeros(256, dtype=torch.int32)
    header[0], header[1], header[2] = (
        20240326,
        {"float32": 3, "bfloat16": 5}[dtype],
        model.block_size,
    )
    params = {name: param.cpu() for name, param in model.named_parameters()}
    with open(filename, "wb") as file:
        file.write(header.numpy().tobytes())
        for name in sorted(params):
            (write_fp32 if dtype == "float32" else write_bf16)(params[name], file)


def write_state(model, x, y, logits, loss, filename):
    header = torch.zeros(256, dtype=torch.int32)
    header[0], header[2], header[3] = 20240327, x.size(0), x.size(1)
    grads = {name: param.grad.cpu() for name, param in model.named_parameters()}
    with open(filename, "wb") as file:
        file.write(header.numpy().tobytes())
        file.write(x.cpu().numpy().astype("int32").tobytes())
        file.write(y.cpu().numpy().astype("int32").tobytes())
        write_fp32(logits.cpu(), file)
        write_fp32(loss.cpu(), file)
        for name in sorted(grads):
            write_fp32(grads[name], file)


torch.set_float32_matmul_precision("high")
ctx = nullcontext()
torch.manual_seed(42)
model = GPT()
data = torch.tensor([(i * 7 + i // 5) % 16 for i in range(200)])
x, y = data[:32].view(4, 8), data[1:33].view(4, 8)
with tempfile.TemporaryDirectory() as tmp:
    logits, loss = model(x, y)
    loss.backward()
    write_model(model, os.path.join(tmp, "gpt2.bin"), "float32")
    write_model(model, os.path.join(tmp, "gpt2_bf16.bin"), "bfloat16")
    write_state(model, x, y, logits, loss, os.path.join(tmp, "gpt2_debug_state.bin"))
    fp32 = np.fromfile(os.path.join(tmp, "gpt2.bin"), dtype=np.float32)
    bf16 = np.fromfile(os.path.join(tmp, "gpt2_bf16.bin"), dtype=np.int16)
    state = np.fromfile(os.path.join(tmp, "gpt2_debug_state.bin"), dtype=np.int32)
header = fp32[:256].view(np.int32)[:3].tolist()
bf16_as_fp32 = (bf16[512:].astype(np.int32) << 16).view(np.float32)
bf16_checksum = int(bf16[512:].astype(np.int64).sum())  # the bf16 bit patterns
bf16_max_err = float(np.abs(bf16_as_fp32 - fp32[256:]).max())
sizes = (fp32.size, bf16.size, state.size)
state_loss = float(state[256 + 64 + 4 * 8 * 16 :].view(np.float32)[0])
weights_checksum = float(fp32[256:].astype(np.float64).sum())
model.zero_grad(set_to_none=True)

optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=1e-2, betas=(0.9, 0.95))
num_iterations, warmup_iters, learning_rate_decay_frac = 12, 3, 0.1


def get_lr(it):
    min_lr = 1e-2 * learning_rate_decay_frac
    if it < warmup_iters:
        return 1e-2 * (it + 1) / warmup_iters
    decay_ratio = (it - warmup_iters) / (num_iterations - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (1e-2 - min_lr)


losses, norms = [], []
for step in range(num_iterations):
    model.train()
    bx, by = (
        data[step * 8 : step * 8 + 64].view(8, 8),
        data[step * 8 + 1 : step * 8 + 65].view(8, 8),
    )
    with ctx:
        _, loss = model(bx, by)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    lr = get_lr(step)
    for param_group in optimizer.param_groups:
        param_group["lr"] = lr
    optimizer.step()
    losses.append(loss.item())
    norms.append(norm.item())
    print(
        f"step {step + 1:4d}/{num_iterations} | train loss {loss.item():.6f} | norm {norm:.4f} | lr {lr:.2e}"
    )
model.eval()
flash_model = GPT(flash=True)
flash_model.load_state_dict(model.state_dict())
with torch.no_grad():
    flash_gap = (flash_model(x)[0] - model(x)[0]).abs().max().item()
torch.manual_seed(1337)
sample = model.generate(torch.tensor([[0]]), max_new_tokens=12, top_k=4)[0].tolist()
print(f"sample {sample}")
