"""Multi-token prediction and Medusa heads, as their papers' reference code writes them. A shared
trunk is trained with n = 3 output heads predicting tokens t+1..t+3 (Gloeckle et al. 2024), with
the memory-saving backward from the paper: the trunk's output is detached
(``detach().requires_grad_()``), each head's loss is back-propagated on its own, and the summed
gradient is then pushed through the trunk with ``h.backward(d.grad)``. The optimizer uses muP-style
parameter groups (hidden matrices get ``lr * base_width / width``, the readout a ``1 / width_mult``
multiplier). The trained model is then frozen (``requires_grad_(False)``) and two Medusa heads
(a SiLU residual block and a readout initialised from the LM head's weights) learn to draft
tokens t+2 and t+3; their greedy drafts are checked against the true continuation."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
VOCAB, SEQ, WIDTH, BASE_WIDTH, N_HEADS = 16, 12, 32, 16, 3
WIDTH_MULT = WIDTH / BASE_WIDTH


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH)
        self.layer = nn.TransformerEncoderLayer(
            WIDTH, 4, 2 * WIDTH, dropout=0.0, batch_first=True, norm_first=True
        )
        self.norm = nn.LayerNorm(WIDTH)

    def forward(self, tokens):
        mask = nn.Transformer.generate_square_subsequent_mask(tokens.size(1))
        return self.norm(self.layer(self.embed(tokens), src_mask=mask, is_causal=True))


class MTPModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.heads = nn.ModuleList(nn.Linear(WIDTH, WIDTH) for _ in range(N_HEADS))
        self.unembed = nn.Linear(WIDTH, VOCAB, bias=False)

    def logits(self, h, k):
        return self.unembed(F.gelu(self.heads[k](h))) / WIDTH_MULT


def progressions(n):
    """x[t+1] = x[t] + step (mod VOCAB), a step in 1..3 per sequence: the future is predictable."""
    start, step = torch.randint(0, VOCAB, (n, 1)), torch.randint(1, 4, (n, 1))
    return (start + step * torch.arange(SEQ)) % VOCAB


model = MTPModel()
hidden = [p for n, p in model.named_parameters() if p.dim() == 2 and "embed" not in n]
other = [p for n, p in model.named_parameters() if p.dim() < 2 or "embed" in n]
optimizer = torch.optim.Adam(
    [{"params": other, "lr": 1e-2}, {"params": hidden, "lr": 1e-2 * BASE_WIDTH / WIDTH}]
)
group_lrs = [group["lr"] for group in optimizer.param_groups]
mtp_losses = []
for step in range(14):
    tokens = progressions(16)
    h = model.trunk(tokens)
    d = h.detach().requires_grad_()
    total = 0.0
    for k in range(N_HEADS):
        logits = model.logits(d[:, : SEQ - 1 - k], k)
        loss = F.cross_entropy(logits.flatten(0, 1), tokens[:, 1 + k :].flatten())
        loss.backward()
        total += loss.item()
    h.backward(d.grad)
    optimizer.step()
    optimizer.zero_grad()
    mtp_losses.append(total / N_HEADS)

# the same gradient as one backward of the summed losses
probe = progressions(4)
model.zero_grad()
h = model.trunk(probe)
sum(
    F.cross_entropy(model.logits(h[:, : SEQ - 1 - k], k).flatten(0, 1), probe[:, 1 + k :].flatten())
    for k in range(N_HEADS)
).backward()
joint_grad = model.trunk.embed.weight.grad.clone()
model.zero_grad()
h = model.trunk(probe)
d = h.detach().requires_grad_()
for k in range(N_HEADS):
    F.cross_entropy(
        model.logits(d[:, : SEQ - 1 - k], k).flatten(0, 1), probe[:, 1 + k :].flatten()
    ).backward()
h.backward(d.grad)
detached_grad_gap = (model.trunk.embed.weight.grad - joint_grad).abs().max().item()
model.zero_grad(set_to_none=True)


class MedusaHead(nn.Module):
    def __init__(self, lm_head):
        super().__init__()
        self.block = nn.Linear(WIDTH, WIDTH)
        nn.init.zeros_(self.block.weight)  # the residual block starts as the identity
        self.out = nn.Linear(WIDTH, VOCAB, bias=False)
        self.out.weight.data.copy_(lm_head.weight.data)

    def forward(self, h):
        return self.out(h + F.silu(self.block(h)))


model.requires_grad_(False)
medusa = nn.ModuleList(MedusaHead(model.unembed) for _ in range(2))
medusa_optimizer = torch.optim.AdamW(medusa.parameters(), lr=1e-2)
medusa_losses = []
for step in range(10):
    tokens = progressions(16)
    with torch.no_grad():
        h = model.trunk(tokens)
    loss = sum(
        F.cross_entropy(head(h[:, : SEQ - 2 - i]).flatten(0, 1), tokens[:, 2 + i :].flatten())
        for i, head in enumerate(medusa)
    )
    medusa_optimizer.zero_grad()
    loss.backward()
    medusa_optimizer.step()
    medusa_losses.append(loss.item())
trunk_grads_none = all(p.grad is None for p in model.parameters())

with torch.no_grad():
    tokens = progressions(8)
    h = model.trunk(tokens[:, :6])
    base_next = model.logits(h[:, -1], 0).argmax(-1)
    drafts = torch.stack([head(h[:, -1]).argmax(-1) for head in medusa], dim=1)
    truth = tokens[:, 7:9]
    draft_accuracy = (drafts == truth).float().mean().item()
    next_accuracy = (base_next == tokens[:, 6]).float().mean().item()
    draft_list = drafts.tolist()
