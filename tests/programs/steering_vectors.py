"""Activation steering (ActAdd / contrastive activation addition, Turner et al.; Rimsky et
al.): a small GPT-style language model trained on two "styles" of sequences (even tokens or
odd tokens), a steering vector taken as the difference of the mean residual-stream
activations that a ``register_forward_hook`` records at one block for prompts of each style,
then added back by a forward hook that returns ``output + coeff * vector`` (and, as a second
route, by a ``register_forward_pre_hook`` that rewrites the block's input tuple) during greedy
and sampled generation; a sweep of the coefficient, the handle removed with ``with``-style
``try/finally``, and the unsteered model checked unchanged afterwards."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
V, D, T = 10, 24, 8


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.attn = nn.MultiheadAttention(D, 2, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(D, 4 * D), nn.GELU(approximate="tanh"), nn.Linear(4 * D, D)
        )

    def forward(self, x):
        L = x.size(1)
        causal = torch.triu(torch.full((L, L), float("-inf")), diagonal=1)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=causal, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, n_layer=2):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
        self.h = nn.ModuleList(Block() for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, V, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    @torch.no_grad()
    def generate(self, idx, steps, temperature=1.0, generator=None):
        for _ in range(steps):
            logits = self(idx[:, -T:])[:, -1, :] / temperature
            if generator is None:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                nxt = torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            idx = torch.cat((idx, nxt), dim=1)
        return idx


def batch_of(n, gen):
    style = torch.randint(0, 2, (n, 1), generator=gen)  # 0: even tokens, 1: odd tokens
    return 2 * torch.randint(0, V // 2, (n, T), generator=gen) + style


model = GPT()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
gen = torch.Generator().manual_seed(0)
losses = []
for step in range(40):
    seq = batch_of(32, gen)
    logits = model(seq[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), seq[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    losses.append(loss.item())
model.eval()
tied = model.lm_head.weight is model.wte.weight

LAYER = 1
acts = []
handle = model.h[LAYER].register_forward_hook(lambda m, i, o: acts.append(o[:, -1].detach()))
try:
    with torch.no_grad():
        odd_prompts = 2 * torch.randint(0, V // 2, (16, 3), generator=gen) + 1
        even_prompts = 2 * torch.randint(0, V // 2, (16, 3), generator=gen)
        model(odd_prompts)
        model(even_prompts)
finally:
    handle.remove()
steer = acts[0].mean(0) - acts[1].mean(0)
steer_norm = steer.norm().item()


def odd_fraction(tokens, prompt_len):
    return (tokens[:, prompt_len:] % 2 == 1).float().mean().item()


prompt = 2 * torch.randint(0, V // 2, (8, 3), generator=gen)  # even prompts
sweep = {}
for coeff in (0.0, 1.0, 2.0, 4.0):

    def add_vector(module, inputs, output, coeff=coeff):
        return output + coeff * steer

    handle = model.h[LAYER].register_forward_hook(add_vector)
    try:
        greedy = model.generate(prompt, 4)
        sampled = model.generate(prompt, 4, generator=torch.Generator().manual_seed(7))
    finally:
        handle.remove()
    sweep[coeff] = (odd_fraction(greedy, 3), odd_fraction(sampled, 3), greedy[0].tolist())


def pre_steer(module, args):
    (x,) = args
    return (x + 3.0 * steer,)


handle = model.h[LAYER].register_forward_pre_hook(pre_steer)
pre_hook_generation = model.generate(prompt, 4)
handle.remove()
pre_hook_odd = odd_fraction(pre_hook_generation, 3)
unsteered_again = model.generate(prompt, 4)[0].tolist() == sweep[0.0][2]
hooks_left = len(model.h[LAYER]._forward_hooks) + len(model.h[LAYER]._forward_pre_hooks)

# a hook on nn.MultiheadAttention's out_proj never runs: the attention uses its weight only
out_proj_calls = []
handle = model.h[LAYER].attn.out_proj.register_forward_hook(lambda *args: out_proj_calls.append(1))
model.generate(prompt, 1)
handle.remove()
out_proj_calls = len(out_proj_calls)
