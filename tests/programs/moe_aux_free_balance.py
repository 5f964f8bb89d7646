"""DeepSeek-V3's mixture of experts with auxiliary-loss-free load balancing, as its reference
``Gate``/``MoE`` code writes it: sigmoid affinities, a per-expert bias added only for choosing
experts (group-limited routing: ``topk`` over groups, a mask built with ``scatter_``,
``masked_fill``), gate weights gathered from the unbiased scores and renormalised, SwiGLU experts
with a fused ``w13`` split by ``torch.chunk``, dispatch by ``torch.bincount`` and
``torch.where`` and combination with ``index_add_``; a shared expert runs on every token. After
each step the bias moves by ``sign(mean load - load)`` (no gradient), with a tiny sequence-wise
balance loss as in the paper. Trained on a skewed regression task; the loads even out."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
DIM, HIDDEN, EXPERTS, GROUPS, TOPK_GROUPS, TOPK = 16, 24, 8, 4, 2, 2
BIAS_RATE, SEQ_ALPHA = 0.05, 1e-3


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(EXPERTS, DIM))
        nn.init.normal_(self.weight, std=0.3)
        self.register_buffer("bias", torch.zeros(EXPERTS))
        self.route_scale = 2.5

    def forward(self, x):
        scores = F.linear(x, self.weight).sigmoid()
        original_scores = scores
        scores = scores + self.bias
        grouped = scores.view(x.size(0), GROUPS, -1)
        group_scores = grouped.topk(2, dim=-1)[0].sum(dim=-1)
        top_groups = group_scores.topk(TOPK_GROUPS, dim=-1)[1]
        mask = scores.new_ones(x.size(0), GROUPS, dtype=torch.bool).scatter_(1, top_groups, False)
        scores = grouped.masked_fill_(mask.unsqueeze(-1), float("-inf")).flatten(1)
        indices = torch.topk(scores, TOPK, dim=-1)[1]
        weights = original_scores.gather(1, indices)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        return (weights * self.route_scale).type_as(x), indices, original_scores


class Expert(nn.Module):
    def __init__(self, hidden=HIDDEN):
        super().__init__()
        self.w13 = nn.Linear(DIM, 2 * hidden, bias=False)
        self.w2 = nn.Linear(hidden, DIM, bias=False)

    def forward(self, x):
        gate, up = torch.chunk(self.w13(x), 2, dim=-1)
        return self.w2(F.silu(gate) * up)


class MoE(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = Gate()
        self.experts = nn.ModuleList(Expert() for _ in range(EXPERTS))
        self.shared = Expert(HIDDEN // 2)

    def forward(self, x):
        shape = x.size()
        x = x.view(-1, DIM)
        weights, indices, scores = self.gate(x)
        y = torch.zeros_like(x)
        counts = torch.bincount(indices.flatten(), minlength=EXPERTS)
        for i in range(EXPERTS):
            if counts[i] == 0:
                continue
            idx, top = torch.where(indices == i)
            y.index_add_(0, idx, self.experts[i](x[idx]) * weights[idx, top, None])
        return (y + self.shared(x)).view(shape), indices, scores, counts


def sequence_balance_loss(indices, scores, batch, seqlen):
    """The paper's complementary sequence-wise loss: f_i * P_i summed over experts."""
    hits = torch.zeros(batch, EXPERTS).scatter_add_(
        1, indices.view(batch, -1), torch.ones(batch, seqlen * TOPK)
    )
    f = hits * EXPERTS / (TOPK * seqlen)
    p = (scores / scores.sum(-1, keepdim=True)).view(batch, seqlen, EXPERTS).mean(1)
    return (f * p).sum(-1).mean()


moe = MoE()
readout = nn.Linear(DIM, 1)
optimizer = torch.optim.AdamW([*moe.parameters(), *readout.parameters()], lr=3e-3)
skew = torch.linspace(2.0, -2.0, DIM)  # inputs lean one way: the gate starts unbalanced
x = torch.randn(4, 16, DIM) + skew
target = x[..., :4].sin().sum(-1, keepdim=True) + 0.5 * x[..., 4:8].prod(-1, keepdim=True).tanh()

losses, imbalance, first_counts = [], [], None
for step in range(15):
    out, indices, scores, counts = moe(x)
    mse = F.mse_loss(readout(out), target)
    loss = mse + SEQ_ALPHA * sequence_balance_loss(indices, scores, 4, 16)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    with torch.no_grad():  # the auxiliary-loss-free update: no gradient, a sign step
        load = counts.float()
        moe.gate.bias += BIAS_RATE * torch.sign(load.mean() - load)
    if first_counts is None:
        first_counts = counts.tolist()
    losses.append(mse.item())
    imbalance.append((load.max() / load.mean()).item())
last_counts = counts.tolist()
bias = moe.gate.bias.tolist()
bias_requires_grad = moe.gate.bias.requires_grad
counts_dtype = str(counts.dtype)
gate_grad_sample = moe.gate.weight.grad[:2, :4].flatten().tolist()
untouched = [i for i, c in enumerate(last_counts) if c == 0]
try:
    torch.bincount(torch.tensor([0, -1, 2]))
    negative_error = None
except RuntimeError as error:
    negative_error = str(error)
