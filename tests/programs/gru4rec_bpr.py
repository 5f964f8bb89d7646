"""GRU4Rec (Hidasi et al., 2016; the BPR-max follow-up of 2018), session-based recommendation as
its PyTorch ports write it: session-parallel mini-batches in which each lane of the batch plays
one session and, when that session ends, the next one takes the lane and its GRUCell state is
zeroed by a mask; the other lanes' target items serve as in-batch negatives, scored by a
matrix product, and the TOP1 and BPR-max losses are compared; recall@5 and MRR@5 at the end."""

import torch
import torch.nn as nn
import torch.nn.functional as F

N_ITEMS, HIDDEN, LANES = 30, 24, 16


def make_sessions(n, generator):
    """Each session walks the items with stride 1 or 2 (chosen at its start) for 3-7 clicks."""
    sessions = []
    for _ in range(n):
        start = int(torch.randint(0, N_ITEMS, (1,), generator=generator))
        stride = int(torch.randint(1, 3, (1,), generator=generator))
        length = int(torch.randint(3, 8, (1,), generator=generator))
        sessions.append([(start + stride * k) % N_ITEMS for k in range(length)])
    return sessions


def session_parallel(sessions, lanes):
    """Yields (inputs, targets, reset) across lanes until a lane runs out of sessions."""
    queue = list(range(lanes, len(sessions)))
    current, pos = list(range(lanes)), [0] * lanes
    while True:
        reset = torch.zeros(lanes, dtype=torch.bool)
        for lane in range(lanes):
            if pos[lane] + 1 >= len(sessions[current[lane]]):
                if not queue:
                    return
                current[lane], pos[lane] = queue.pop(0), 0
                reset[lane] = True
        inputs = torch.tensor([sessions[s][p] for s, p in zip(current, pos)])
        targets = torch.tensor([sessions[s][p + 1] for s, p in zip(current, pos)])
        pos = [p + 1 for p in pos]
        yield inputs, targets, reset


class GRU4Rec(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(N_ITEMS, HIDDEN)
        self.cell = nn.GRUCell(HIDDEN, HIDDEN)
        self.out = nn.Embedding(N_ITEMS, HIDDEN)  # output item embeddings, scored by dot
        self.out_bias = nn.Parameter(torch.zeros(N_ITEMS))

    def forward(self, items, hidden, targets=None):
        hidden = self.cell(F.dropout(self.embedding(items), 0.1, self.training), hidden)
        if targets is None:
            return hidden @ self.out.weight.T + self.out_bias, hidden
        return hidden @ self.out(targets).T + self.out_bias[targets], hidden  # (B, B)


def top1_loss(scores):
    pos = scores.diag().unsqueeze(1)
    return (torch.sigmoid(scores - pos) + torch.sigmoid(scores**2)).mean()


def bpr_max_loss(scores, reg=1.0):
    pos = scores.diag().unsqueeze(1)
    eye = torch.eye(scores.size(0), dtype=torch.bool)
    weights = torch.softmax(scores.masked_fill(eye, float("-inf")), dim=1)
    loss = -torch.log((weights * torch.sigmoid(pos - scores)).sum(1) + 1e-24).mean()
    return loss + reg * (weights * scores**2).sum(1).mean()


g = torch.Generator().manual_seed(0)
train, test = make_sessions(120, g), make_sessions(40, g)
results = {}
for name, loss_fn in (("top1", top1_loss), ("bpr_max", bpr_max_loss)):
    torch.manual_seed(0)
    model = GRU4Rec()
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1)
    losses = []
    for epoch in range(2):
        model.train()
        hidden = torch.zeros(LANES, HIDDEN)
        for inputs, targets, reset in session_parallel(train, LANES):
            hidden = hidden.masked_fill(reset.unsqueeze(1), 0.0).detach()
            scores, hidden = model(inputs, hidden, targets)
            loss = loss_fn(scores)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    ranks = []
    with torch.no_grad():
        hidden = torch.zeros(8, HIDDEN)
        for inputs, targets, reset in session_parallel(test, 8):
            hidden = hidden * (~reset).float().unsqueeze(1)
            scores, hidden = model(inputs, hidden)
            ranks.append((scores > scores.gather(1, targets.unsqueeze(1))).sum(1))
    ranks = torch.cat(ranks)
    recall5 = (ranks < 5).float().mean().item()
    mrr5 = torch.where(ranks < 5, 1.0 / (ranks + 1).float(), torch.tensor(0.0)).mean().item()
    results[name] = {"losses": losses, "recall5": recall5, "mrr5": mrr5}
    print(
        f"{name}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, recall@5 {recall5:.3f} MRR {mrr5:.3f}"
    )
n_steps = len(results["top1"]["losses"])
