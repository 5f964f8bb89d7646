"""Multi-gate mixture-of-experts (MMoE, Ma et al. 2018) for two related tasks on tabular data,
as the census-income reproductions write it in PyTorch: categorical fields through
``nn.Embedding(sparse=True)`` updated by ``torch.optim.SparseAdam`` while the dense weights use
Adam (two optimizers, one ``backward``), numeric fields through ``nn.BatchNorm1d``, shared
experts stacked with ``torch.stack``, one softmax gate per task mixing them with
``torch.einsum``, per-task towers and ``nn.BCEWithLogitsLoss``; a validation AUC from ranks
(``argsort().argsort()``), ``ReduceLROnPlateau(mode='max')`` on it, early stopping with a
patience counter that saves the best ``state_dict`` to a ``tempfile`` directory and reloads
it; and the gates' average expert weights per task."""

import os
import tempfile

import torch
import torch.nn as nn

torch.manual_seed(4)
N, N_CAT, CARD, N_NUM = 512, 3, 10, 4
cats = torch.randint(0, CARD, (N, N_CAT))
nums = torch.randn(N, N_NUM) * torch.tensor([1.0, 5.0, 0.1, 2.0]) + torch.tensor([0.0, 20, 1, -3])
cat_effect = torch.randn(N_CAT, CARD)
score = cat_effect[torch.arange(N_CAT), cats].sum(1)
z = (nums - nums.mean(0)) / nums.std(0)
y1 = (score + z[:, 0] - z[:, 1] + 0.5 * torch.randn(N) > 0).float()
y2 = (score + z[:, 0] + z[:, 2] + 0.5 * torch.randn(N) > 0).float()
idx = torch.randperm(N)
train_idx, val_idx = idx[:384], idx[384:]


class MMoE(nn.Module):
    def __init__(self, n_experts=3, emb_dim=4, expert_dim=16, tower_dim=8, n_tasks=2):
        super().__init__()
        self.embeddings = nn.ModuleList(
            nn.Embedding(CARD, emb_dim, sparse=True) for _ in range(N_CAT)
        )
        self.bn = nn.BatchNorm1d(N_NUM)
        d_in = N_CAT * emb_dim + N_NUM
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(d_in, expert_dim), nn.ReLU()) for _ in range(n_experts)
        )
        self.gates = nn.ModuleList(nn.Linear(d_in, n_experts) for _ in range(n_tasks))
        self.towers = nn.ModuleList(
            nn.Sequential(nn.Linear(expert_dim, tower_dim), nn.ReLU(), nn.Linear(tower_dim, 1))
            for _ in range(n_tasks)
        )

    def forward(self, cats, nums):
        emb = [e(cats[:, i]) for i, e in enumerate(self.embeddings)]
        x = torch.cat(emb + [self.bn(nums)], dim=1)
        expert_out = torch.stack([e(x) for e in self.experts], dim=1)  # (B, E, D)
        outs, gate_weights = [], []
        for gate, tower in zip(self.gates, self.towers):
            g = torch.softmax(gate(x), dim=-1)
            gate_weights.append(g)
            outs.append(tower(torch.einsum("be,bed->bd", g, expert_out)).squeeze(-1))
        return outs, gate_weights


def auc(scores, labels):
    ranks = scores.argsort().argsort().float() + 1
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return ((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)).item()


model = MMoE()
sparse_params = [p for n, p in model.named_parameters() if n.startswith("embeddings")]
dense_params = [p for n, p in model.named_parameters() if not n.startswith("embeddings")]
opt_sparse = torch.optim.SparseAdam(sparse_params, lr=0.03)
opt_dense = torch.optim.Adam(dense_params, lr=0.03, weight_decay=1e-5)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
    opt_dense, mode="max", factor=0.5, patience=1
)
criterion = nn.BCEWithLogitsLoss()
history, lrs, best_auc, bad_epochs, patience = [], [], -1.0, 0, 2
grad_is_sparse = None
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "mmoe_best.pt")
    for epoch in range(12):
        model.train()
        perm = train_idx[torch.randperm(len(train_idx))]
        for batch in perm.split(64):
            (o1, o2), _ = model(cats[batch], nums[batch])
            loss = criterion(o1, y1[batch]) + criterion(o2, y2[batch])
            opt_sparse.zero_grad()
            opt_dense.zero_grad()
            loss.backward()
            grad_is_sparse = model.embeddings[0].weight.grad.is_sparse
            opt_sparse.step()
            opt_dense.step()
        model.eval()
        with torch.no_grad():
            (v1, v2), gates = model(cats[val_idx], nums[val_idx])
        aucs = (auc(v1, y1[val_idx]), auc(v2, y2[val_idx]))
        mean_auc = sum(aucs) / 2
        scheduler.step(mean_auc)
        lrs.append(opt_dense.param_groups[0]["lr"])
        history.append([loss.item(), *aucs])
        print(f"epoch {epoch:2d} loss {loss.item():.4f} AUC1 {aucs[0]:.4f} AUC2 {aucs[1]:.4f}")
        if mean_auc > best_auc:
            best_auc, bad_epochs, best_epoch = mean_auc, 0, epoch
            torch.save(model.state_dict(), path)
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                print(f"early stopping at epoch {epoch}, best {best_epoch}")
                break
    model.load_state_dict(torch.load(path))
stopped_epoch = epoch
model.eval()
with torch.no_grad():
    (v1, v2), gates = model(cats[val_idx], nums[val_idx])
reloaded_auc = (auc(v1, y1[val_idx]) + auc(v2, y2[val_idx])) / 2
gate_means = [g.mean(0).tolist() for g in gates]
