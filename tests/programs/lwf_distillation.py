"""Learning without Forgetting (Li and Hoiem), task-incremental as in the ``FACIL`` /
``Avalanche`` implementations: a shared trunk with one ``nn.Linear`` head per task kept in an
``nn.ModuleList``; before a new task the old model is frozen with ``copy.deepcopy`` +
``eval()`` + ``requires_grad_(False)``, its old-head outputs recorded on the new task's data
under ``torch.no_grad``; the new head warmed up alone (``requires_grad_`` toggled on the trunk),
then joint training with cross-entropy on the new head plus the temperature-scaled
knowledge-distillation term ``-(softmax(old/T) * log_softmax(new/T)).sum(1).mean() * T**2``
for every old head (``F.kl_div(..., reduction="batchmean")`` for the same term, checked equal);
accuracies on every task's head compared with plain fine-tuning."""

import copy

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
T_DISTILL, DIM = 2.0, 8


class MultiHeadNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(DIM, 16), nn.ReLU(), nn.Linear(16, 6), nn.ReLU())
        self.heads = nn.ModuleList()

    def add_head(self, num_outputs):
        self.heads.append(nn.Linear(6, num_outputs))

    def forward(self, x):
        features = self.trunk(x)
        return [head(features) for head in self.heads]


def cross_entropy_kd(outputs, targets, exp=1.0 / T_DISTILL, eps=1e-5):
    out = F.softmax(outputs, dim=1)
    tar = F.softmax(targets, dim=1)
    out = out.pow(exp)
    out = out / out.sum(1).view(-1, 1).expand_as(out)
    tar = tar.pow(exp)
    tar = tar / tar.sum(1).view(-1, 1).expand_as(tar)
    out = out + eps / out.size(1)
    out = out / out.sum(1).view(-1, 1).expand_as(out)
    ce = -(tar * out.log()).sum(1)
    return ce.mean()


def make_task(seed, classes=3, n=60):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, DIM, generator=g)  # the same inputs, a new labelling rule per task
    rule = torch.randn(DIM, classes, generator=g)
    return x, (x @ rule).argmax(1)


tasks = [make_task(10 + t) for t in range(3)]


def evaluate(model):
    model.eval()
    with torch.no_grad():
        accs = [
            (model(x)[t].argmax(1) == y).float().mean().item()
            for t, (x, y) in enumerate(tasks[: len(model.heads)])
        ]
    model.train()
    return accs


def run(lamb):
    torch.manual_seed(1)
    model = MultiHeadNet()
    old_model, matrix, kd_checks = None, [], []
    for t, (x, y) in enumerate(tasks):
        model.add_head(3)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(x, y),
            batch_size=20,
            shuffle=True,
            generator=torch.Generator().manual_seed(t),
        )
        if t > 0:  # warm-up: only the new head learns
            model.trunk.requires_grad_(False)
            warm = torch.optim.SGD(model.heads[-1].parameters(), lr=0.1)
            for xb, yb in loader:
                warm.zero_grad()
                F.cross_entropy(model(xb)[t], yb).backward()
                warm.step()
            model.trunk.requires_grad_(True)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        for epoch in range(10):
            for xb, yb in loader:
                outputs = model(xb)
                loss = F.cross_entropy(outputs[t], yb)
                if old_model is not None and lamb > 0:
                    with torch.no_grad():
                        targets_old = old_model(xb)
                    kd = sum(cross_entropy_kd(outputs[h], targets_old[h]) for h in range(t))
                    loss = loss + lamb * kd
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        if old_model is not None:
            new, old = model(x)[0], old_model(x)[0]
            by_hand = -(F.softmax(old / T_DISTILL, 1) * F.log_softmax(new / T_DISTILL, 1)).sum(1)
            entropy = -(F.softmax(old / T_DISTILL, 1) * F.log_softmax(old / T_DISTILL, 1)).sum(1)
            kl = F.kl_div(
                F.log_softmax(new / T_DISTILL, 1),
                F.softmax(old / T_DISTILL, 1),
                reduction="batchmean",
            )
            kd_checks.append((kl.item(), (by_hand - entropy).mean().item()))
        old_model = copy.deepcopy(model)
        old_model.eval()
        old_model.requires_grad_(False)
        matrix.append(evaluate(model))
    frozen = all(not p.requires_grad for p in old_model.parameters())
    return matrix, kd_checks, frozen, len(model.heads), loss.item()


results = {"lwf": run(lamb=2.0), "finetune": run(lamb=0.0)}
forgetting = {
    name: sum(r[0][-1][i] - r[0][i][i] for i in range(2)) / 2 for name, r in results.items()
}
