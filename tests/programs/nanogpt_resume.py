"""nanoGPT's ``train.py`` and ``sample.py`` around its model, shrunk: ``get_batch`` reading a
``np.memmap`` of ``uint16`` tokens (``torch.from_numpy((data[i:i+block_size]).astype(np.int64))``
stacked over ``torch.randint`` offsets), ``estimate_loss`` under ``@torch.no_grad()`` with
``model.eval()``/``model.train()`` and a ``nullcontext`` for CPU, ``configure_optimizers``'
decay groups, the checkpoint dict (``model``, ``optimizer``, ``model_args``, ``iter_num``, a
tensor ``best_val_loss``, ``config``) written by ``torch.save`` and resumed with
``init_from='resume'``: ``torch.load(ckpt_path, map_location=device)``, the ``_orig_mod.``
prefix stripped from the keys, ``optimizer.load_state_dict`` and training on to the same losses
as an uninterrupted run; then ``crop_block_size`` (``wpe.weight`` re-wrapped in a new
``nn.Parameter`` of its first rows), ``estimate_mfu`` and ``generate`` with ``temperature`` and
``top_k`` (``logits[logits < v[:, [-1]]] = -float('Inf')``) in ``sample.py``'s ``with
torch.no_grad(): with ctx:`` blocks."""

import math
import os
import shutil
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    block_size: int = 16
    vocab_size: int = 32
    n_layer: int = 1
    n_head: int = 2
    n_embd: int = 16
    dropout: float = 0.0
    bias: bool = True


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias), nn.GELU(), nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias))  # fmt: skip
        self.n_head, self.n_embd = config.n_head, config.n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(self.ln_1(x)).split(self.n_embd, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))  # fmt: skip
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def get_num_params(self, non_embedding=True):
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        assert t <= self.config.block_size, (
            f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        )
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)  # fmt: skip
        else:
            logits = self.lm_head(x[:, [-1], :])  # note: using list [-1] to preserve the time dim
            loss = None
        return logits, loss

    def crop_block_size(self, block_size):
        assert block_size <= self.config.block_size
        self.config.block_size = block_size
        self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size])

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    def estimate_mfu(self, fwdbwd_per_iter, dt):
        N = self.get_num_params()
        cfg = self.config
        L, H, Q, T = cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head, cfg.block_size
        flops_per_token = 6 * N + 12 * L * H * Q * T
        flops_per_fwdbwd = flops_per_token * T
        flops_per_iter = flops_per_fwdbwd * fwdbwd_per_iter
        flops_achieved = flops_per_iter * (1.0 / dt)  # per second
        flops_promised = 312e12  # A100 GPU bfloat16 peak flops is 312 TFLOPS
        return flops_achieved / flops_promised

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size :]  # fmt: skip
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


# --- train.py
out_dir = tempfile.mkdtemp()
data_dir = out_dir
tokens = (np.arange(2000) * 7 % 27 + np.arange(2000) // 400).astype(np.uint16)
tokens[:1800].tofile(os.path.join(data_dir, "train.bin"))
tokens[1800:].tofile(os.path.join(data_dir, "val.bin"))
batch_size, block_size, eval_iters, device, device_type = 4, 16, 2, "cpu", "cpu"
ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=torch.bfloat16)  # fmt: skip


def get_batch(split):
    data = np.memmap(os.path.join(data_dir, f"{split}.bin"), dtype=np.uint16, mode="r")
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([torch.from_numpy((data[i : i + block_size]).astype(np.int64)) for i in ix])
    y = torch.stack([torch.from_numpy((data[i + 1 : i + 1 + block_size]).astype(np.int64)) for i in ix])  # fmt: skip
    return x.to(device), y.to(device)


@torch.no_grad()
def estimate_loss(model):
    out = {}
    model.eval()
    for split in ["train", "val"]:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            with ctx:
                logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


def train(model, optimizer, iter_num, max_iters, best_val_loss, log):
    while iter_num < max_iters:
        if iter_num % 4 == 0:
            losses = estimate_loss(model)
            if losses["val"] < best_val_loss:
                best_val_loss = losses["val"]
        X, Y = get_batch("train")
        with ctx:
            logits, loss = model(X, Y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        log.append(loss.item())
        iter_num += 1
    return iter_num, best_val_loss


model_args = dict(n_layer=1, n_head=2, n_embd=16, block_size=block_size, bias=True, vocab_size=32, dropout=0.0)  # fmt: skip
config = {"learning_rate": 3e-3, "weight_decay": 0.1}
torch.manual_seed(1337)
model = GPT(GPTConfig(**model_args))
optimizer = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95), device_type)
first_log = []
iter_num, best_val_loss = train(model, optimizer, 0, 8, 1e9, first_log)
checkpoint = {
    "model": model.state_dict(),
    "optimizer": optimizer.state_dict(),
    "model_args": model_args,
    "iter_num": iter_num,
    "best_val_loss": best_val_loss,
    "config": config,
}
torch.save(checkpoint, os.path.join(out_dir, "ckpt.pt"))
rng_state = torch.get_rng_state()
straight_log = []
train(model, optimizer, iter_num, 14, best_val_loss, straight_log)

# init_from = 'resume'
ckpt_path = os.path.join(out_dir, "ckpt.pt")
checkpoint = torch.load(ckpt_path, map_location=device)
checkpoint_model_args = checkpoint["model_args"]
for k in ["n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size"]:
    model_args[k] = checkpoint_model_args[k]
model = GPT(GPTConfig(**model_args))
state_dict = checkpoint["model"]
unwanted_prefix = "_orig_mod."
for k, v in list(state_dict.items()):
    if k.startswith(unwanted_prefix):
        state_dict[k[len(unwanted_prefix) :]] = state_dict.pop(k)
model.load_state_dict(state_dict)
iter_num = checkpoint["iter_num"]
best_val_loss = checkpoint["best_val_loss"]
optimizer = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95), device_type)
optimizer.load_state_dict(checkpoint["optimizer"])
checkpoint = None  # free up memory
torch.set_rng_state(rng_state)  # the same batches as the uninterrupted run
resumed_log = []
train(model, optimizer, iter_num, 14, best_val_loss, resumed_log)
resume = [iter_num, type(best_val_loss).__name__, best_val_loss.item(), str(best_val_loss.dtype)]

num_params = model.get_num_params()
mfu = model.estimate_mfu(batch_size * 1, 0.5)
model.crop_block_size(8)
cropped = [tuple(model.transformer.wpe.weight.shape), type(model.transformer.wpe.weight).__name__, model.get_num_params()]  # fmt: skip
try:
    model(torch.zeros(1, 9, dtype=torch.long))
except AssertionError as e:
    too_long = str(e)

# --- sample.py
model.eval()
torch.manual_seed(1337)
start_ids = tokens[:3].astype(np.int64).tolist()
x = torch.tensor(start_ids, dtype=torch.long, device=device)[None, ...]
samples = []
with torch.no_grad():
    with ctx:
        for k in range(2):
            y = model.generate(x, 12, temperature=0.8, top_k=5)
            samples.append(y[0].tolist())
shutil.rmtree(out_dir)
