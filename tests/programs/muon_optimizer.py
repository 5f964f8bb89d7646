"""The Muon optimizer (Jordan et al. 2024) as modded-nanogpt writes it and as ``torch.optim.Muon``
ships it: momentum with Nesterov through ``lerp_``, the update orthogonalized by the quintic
Newton-Schulz iteration (``X @ X.mT`` in bfloat16, the Frobenius norm over the last two dims,
a transposed pass for tall matrices), scaled by ``sqrt(max(1, rows / cols))``; used for the
hidden weight matrices only, with AdamW for embeddings, biases and the head, as the speedrun
does. Gradients are clipped with ``nn.utils.get_total_norm`` + ``clip_grads_with_norm_``. The
hand-written optimizer and ``torch.optim.Muon`` are run side by side on copies of one model."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def zeropower_via_newtonschulz5(G, steps=5, dtype=torch.bfloat16):
    assert G.ndim >= 2
    a, b, c = (3.4445, -4.7750, 2.0315)
    X = G.to(dtype)
    if G.size(-2) > G.size(-1):
        X = X.mT
    X = X / (X.norm(dim=(-2, -1), keepdim=True) + 1e-7)
    for _ in range(steps):
        A = X @ X.mT
        B = b * A + c * A @ A
        X = a * X + B @ X
    if G.size(-2) > G.size(-1):
        X = X.mT
    return X


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr=0.02, weight_decay=0.0, momentum=0.95, nesterov=True):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
                buf.lerp_(p.grad, 1 - group["momentum"])
                update = p.grad.lerp(buf, group["momentum"]) if group["nesterov"] else buf
                update = zeropower_via_newtonschulz5(update)
                update = update * max(1, p.size(-2) / p.size(-1)) ** 0.5
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(update.reshape(p.shape).type_as(p), alpha=-group["lr"])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(16, 24)
        self.hidden = nn.Sequential(nn.Linear(24, 48), nn.ReLU(), nn.Linear(48, 24), nn.ReLU())
        self.head = nn.Linear(24, 16)

    def forward(self, ids):
        return self.head(self.hidden(self.embed(ids).mean(1)))


def optimizers(model, muon_cls, **muon_kwargs):
    matrices = [p for n, p in model.hidden.named_parameters() if p.ndim == 2]
    others = [
        p for n, p in model.named_parameters() if not (n.startswith("hidden") and p.ndim == 2)
    ]
    return [muon_cls(matrices, **muon_kwargs), torch.optim.AdamW(others, lr=3e-3, weight_decay=0)]


def train(model, opts, steps=8):
    losses, norms = [], []
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        ids = torch.randint(0, 16, (32, 5), generator=gen)
        target = (ids.sum(1) % 16).long()
        loss = F.cross_entropy(model(ids), target)
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        total = nn.utils.get_total_norm(grads, norm_type=2.0)
        nn.utils.clip_grads_with_norm_(model.parameters(), max_norm=1.0, total_norm=total)
        for opt in opts:
            opt.step()
        losses.append(loss.item())
        norms.append(total.item())
    return losses, norms


# Newton-Schulz drives the singular values towards 1 (roughly: 0.7 .. 1.2 with these constants)
G = torch.randn(12, 20)
ortho32 = zeropower_via_newtonschulz5(G, dtype=torch.float32)
ortho16 = zeropower_via_newtonschulz5(G).float()
svals32 = torch.linalg.svdvals(ortho32).tolist()
svals16 = torch.linalg.svdvals(ortho16).tolist()
tall_shape = list(zeropower_via_newtonschulz5(torch.randn(20, 12)).shape)
bf16_gap = (ortho16 - ortho32).abs().max().item()

base = Net()
ours_model, builtin_model = copy.deepcopy(base), copy.deepcopy(base)
ours_losses, ours_norms = train(ours_model, optimizers(ours_model, Muon, lr=0.02))
builtin_losses, builtin_norms = train(
    builtin_model,
    optimizers(builtin_model, torch.optim.Muon, lr=0.02, weight_decay=0.0, adjust_lr_fn="original"),
)
weight_gap = max(
    (a - b).abs().max().item() for a, b in zip(ours_model.parameters(), builtin_model.parameters())
)
hidden_sample = ours_model.hidden[0].weight[0, :5].tolist()
print(f"muon {ours_losses[0]:.3f} -> {ours_losses[-1]:.3f}; torch.optim.Muon gap {weight_gap:.1e}")
