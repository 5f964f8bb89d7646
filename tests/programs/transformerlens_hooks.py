"""Mechanistic interpretability in the style of TransformerLens: ``HookPoint`` identity modules
named after their place (``blocks.0.attn.hook_pattern``, ``hook_resid_post``...), a
``run_with_cache`` that registers ``register_forward_hook`` on each of them and stores detached
activations in a dict, forward hooks that *return* a new value (activation patching of the
residual stream from a clean run into a corrupted one, position by position; zero- and
mean-ablation of one attention head's ``hook_z``), attribution patching from gradients
cached by ``register_full_backward_hook`` on the hook points, the logit lens (``ln_final`` and the
unembedding applied to every layer's residual stream), and ``hooks.remove()`` in ``finally``; on
a small transformer trained to copy the token that came two positions earlier."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
D, H, V, T, LAYERS = 16, 2, 8, 6, 2


class HookPoint(nn.Module):
    def forward(self, x):
        return x


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.W_Q = nn.Parameter(torch.randn(H, D, D // H) / D**0.5)
        self.W_K = nn.Parameter(torch.randn(H, D, D // H) / D**0.5)
        self.W_V = nn.Parameter(torch.randn(H, D, D // H) / D**0.5)
        self.W_O = nn.Parameter(torch.randn(H, D // H, D) / D**0.5)
        self.register_buffer("IGNORE", torch.tensor(-1e5))
        self.hook_q, self.hook_k, self.hook_v = HookPoint(), HookPoint(), HookPoint()
        self.hook_pattern, self.hook_z = HookPoint(), HookPoint()

    def forward(self, x):
        q = self.hook_q(torch.einsum("bpd,hde->bphe", x, self.W_Q))
        k = self.hook_k(torch.einsum("bpd,hde->bphe", x, self.W_K))
        v = self.hook_v(torch.einsum("bpd,hde->bphe", x, self.W_V))
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / (D // H) ** 0.5
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        scores.masked_fill_(mask[: x.shape[1], : x.shape[1]], self.IGNORE)
        pattern = self.hook_pattern(scores.softmax(dim=-1))
        z = self.hook_z(torch.einsum("bhqk,bkhe->bqhe", pattern, v))
        return torch.einsum("bqhe,hed->bqd", z, self.W_O)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D)
        self.attn = Attention()
        self.hook_resid_pre, self.hook_attn_out = HookPoint(), HookPoint()
        self.hook_resid_post = HookPoint()

    def forward(self, x):
        x = self.hook_resid_pre(x)
        attn_out = self.hook_attn_out(self.attn(self.ln1(x)))
        return self.hook_resid_post(x + attn_out)


class HookedTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(V, D)
        self.pos_embed = nn.Parameter(torch.randn(T, D) * 0.5)
        self.hook_embed = HookPoint()
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_final = nn.LayerNorm(D)
        self.unembed = nn.Linear(D, V, bias=False)

    def forward(self, tokens):
        x = self.hook_embed(self.embed(tokens) + self.pos_embed[: tokens.shape[1]])
        for block in self.blocks:
            x = block(x)
        return self.unembed(self.ln_final(x))

    def hook_points(self):
        return {name: m for name, m in self.named_modules() if isinstance(m, HookPoint)}

    def run_with_hooks(self, tokens, fwd_hooks, bwd_hooks=()):
        points = self.hook_points()
        handles = [points[name].register_forward_hook(fn) for name, fn in fwd_hooks]
        handles += [points[name].register_full_backward_hook(fn) for name, fn in bwd_hooks]
        try:
            return self(tokens)
        finally:
            for handle in handles:
                handle.remove()

    def run_with_cache(self, tokens):
        cache = {}

        def save(name):
            def hook(module, inputs, output):
                cache[name] = output.detach()

            return hook

        logits = self.run_with_hooks(tokens, [(n, save(n)) for n in self.hook_points()])
        return logits, cache


model = HookedTransformer()
opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
gen = torch.Generator().manual_seed(0)
losses = []
for step in range(60):
    tokens = torch.randint(0, V, (32, T), generator=gen)
    logits = model(tokens)
    loss = F.cross_entropy(logits[:, 2:].reshape(-1, V), tokens[:, :-2].reshape(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())

model.eval()
clean = torch.randint(0, V, (16, T), generator=gen)
corrupted = clean.clone()
corrupted[:, -3] = (clean[:, -3] + 1) % V  # the answer at the last position changes
answer, wrong = clean[:, -3], corrupted[:, -3]


def logit_diff(logits):
    last = logits[:, -1]
    return (last.gather(1, answer[:, None]) - last.gather(1, wrong[:, None])).mean().item()


with torch.no_grad():
    clean_logits, clean_cache = model.run_with_cache(clean)
    corrupted_logits = model(corrupted)
    clean_diff, corrupted_diff = logit_diff(clean_logits), logit_diff(corrupted_logits)
    cache_keys = sorted(clean_cache)[:4]
    pattern_shape = tuple(clean_cache["blocks.0.attn.hook_pattern"].shape)

    patching = []  # restore the clean residual stream at one (layer, position)
    for layer in range(LAYERS):
        row = []
        for pos in range(T):
            name = f"blocks.{layer}.hook_resid_pre"

            def patch(module, inputs, output, pos=pos, name=name):
                output = output.clone()
                output[:, pos] = clean_cache[name][:, pos]
                return output

            patched = model.run_with_hooks(corrupted, [(name, patch)])
            row.append((logit_diff(patched) - corrupted_diff) / (clean_diff - corrupted_diff))
        patching.append(row)

    ablations = {}
    for layer in range(LAYERS):
        for head in range(H):
            name = f"blocks.{layer}.attn.hook_z"

            def zero_head(module, inputs, z, head=head):
                z[:, :, head] = 0.0  # in place: the module's output is changed
                return None

            def mean_head(module, inputs, z, head=head, name=name):
                z = z.clone()
                z[:, :, head] = clean_cache[name][:, :, head].mean(0, keepdim=True)
                return z

            ablations[f"L{layer}H{head}"] = (
                logit_diff(model.run_with_hooks(clean, [(name, zero_head)])),
                logit_diff(model.run_with_hooks(clean, [(name, mean_head)])),
            )

    lens = []  # logit lens: accuracy of decoding every layer's residual stream
    for name in ["hook_embed"] + [f"blocks.{i}.hook_resid_post" for i in range(LAYERS)]:
        lens_logits = model.unembed(model.ln_final(clean_cache[name]))
        acc = (lens_logits[:, 2:].argmax(-1) == clean[:, :-2]).float().mean().item()
        lens.append((name, acc))
    hooks_left = sum(len(m._forward_hooks) for m in model.modules())
    prev_token_score = [
        clean_cache[f"blocks.{i}.attn.hook_pattern"].diagonal(-1, -2, -1).mean((0, 2)).tolist()
        for i in range(LAYERS)
    ]

# attribution patching: a linear estimate of the patching effects from one backward pass, the
# gradients cached by full backward hooks (while a forward hook halves one attention output)
grads = {}


def save_grad(name):
    def hook(module, grad_input, grad_output):
        grads[name] = grad_output[0].detach()

    return hook


names = [f"blocks.{i}.hook_resid_pre" for i in range(LAYERS)] + ["blocks.1.hook_attn_out"]
corr_logits, corr_cache = model.run_with_cache(corrupted)
half = ("blocks.1.hook_attn_out", lambda module, inputs, output: output * 0.5)
scaled_logits = model.run_with_hooks(
    corrupted, [half], bwd_hooks=[(name, save_grad(name)) for name in names]
)
metric = scaled_logits[:, -1].gather(1, answer[:, None]).mean()
metric.backward()
attribution = [
    ((clean_cache[n] - corr_cache[n]) * grads[n]).sum(-1).mean(0).tolist() for n in names[:LAYERS]
]
attn_out_grad = grads["blocks.1.hook_attn_out"].abs().sum().item()
hooks_left_after_backward = sum(len(m._backward_hooks) for m in model.modules())
model.zero_grad()
