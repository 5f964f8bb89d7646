"""Entity embeddings for tabular regression (Guo & Berkhahn 2016, the Rossmann Kaggle
solution), as Kaggle notebooks write it in PyTorch: categorical columns label-encoded with
``torch.unique(return_inverse=True)``, a continuous column binned by ``torch.bucketize``,
embedding sizes by the fast.ai rule ``min(50, (n + 1) // 2)``, embedding dropout, a
``BatchNorm1d`` on the continuous inputs, a log1p target, RMSPE as the metric; 3-fold
cross-validation with ``torch.chunk`` of a permutation and ``Subset``, each fold with its own
early stopping on a ``copy.deepcopy`` of the best ``state_dict`` and a ``StepLR``,
out-of-fold predictions, the test prediction averaged over the fold models, and the learned
store embeddings compared with ``F.cosine_similarity``."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset

torch.manual_seed(12)
N, N_TEST = 240, 60
store_ids = torch.randint(100, 130, (N + N_TEST,)) * 7  # raw ids, not 0..n-1
day_of_week = torch.randint(1, 8, (N + N_TEST,))
promo = torch.randint(0, 2, (N + N_TEST,))
distance = torch.rand(N + N_TEST) * 10000
store_codes, store_idx = torch.unique(store_ids, return_inverse=True)
dow_codes, dow_idx = torch.unique(day_of_week, return_inverse=True)
dist_bins = torch.bucketize(distance, torch.tensor([500.0, 2000.0, 5000.0]))
store_effect = torch.randn(len(store_codes)) * 0.3
sales = torch.exp(
    8 + store_effect[store_idx] + 0.2 * promo - 0.1 * (dow_idx == 6).float()
    - 0.00002 * distance + 0.05 * torch.randn(N + N_TEST)
)  # fmt: skip
cats = torch.stack([store_idx, dow_idx, promo, dist_bins], 1)
conts = torch.stack([distance / 1000, promo.float()], 1)
y = torch.log1p(sales)
cardinalities = [len(store_codes), len(dow_codes), 2, 4]
emb_sizes = [(c, min(50, (c + 1) // 2)) for c in cardinalities]


class TabularModel(nn.Module):
    def __init__(self, emb_sizes, n_cont, hidden=(32, 16), emb_drop=0.05, y_range=(7.0, 10.0)):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(n, d) for n, d in emb_sizes])
        self.emb_drop = nn.Dropout(emb_drop)
        self.bn_cont = nn.BatchNorm1d(n_cont)
        n_in = sum(d for _, d in emb_sizes) + n_cont
        layers = []
        for h in hidden:
            layers += [nn.Linear(n_in, h), nn.ReLU(), nn.BatchNorm1d(h)]
            n_in = h
        self.layers = nn.Sequential(*layers, nn.Linear(n_in, 1))
        self.y_range = y_range

    def forward(self, x_cat, x_cont):
        x = torch.cat([e(x_cat[:, i]) for i, e in enumerate(self.embeds)], 1)
        x = torch.cat([self.emb_drop(x), self.bn_cont(x_cont)], 1)
        lo, hi = self.y_range
        return (torch.sigmoid(self.layers(x)) * (hi - lo) + lo).squeeze(1)


def rmspe(pred_log, target_log):
    pred, target = torch.expm1(pred_log), torch.expm1(target_log)
    return torch.sqrt(((target - pred) / target).pow(2).mean()).item()


train_ds = TensorDataset(cats[:N], conts[:N], y[:N])
test_cats, test_conts, test_y = cats[N:], conts[N:], y[N:]
folds = torch.chunk(torch.randperm(N), 3)
oof = torch.zeros(N)
test_preds, fold_scores, fold_epochs = [], [], []
for k, val_idx in enumerate(folds):
    train_idx = torch.cat([f for j, f in enumerate(folds) if j != k])
    train_loader = DataLoader(
        Subset(train_ds, train_idx.tolist()), batch_size=32, shuffle=True, drop_last=True
    )
    model = TabularModel(emb_sizes, n_cont=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    best, best_state, wait = float("inf"), None, 0
    for epoch in range(8):
        model.train()
        for xc, xn, yb in train_loader:
            opt.zero_grad()
            F.mse_loss(model(xc, xn), yb).backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            val_loss = F.mse_loss(model(cats[val_idx], conts[val_idx]), y[val_idx]).item()
        if val_loss < best - 1e-4:
            best, best_state, wait = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            wait += 1
            if wait >= 2:
                break
    fold_epochs.append(epoch)
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        oof[val_idx] = model(cats[val_idx], conts[val_idx])
        test_preds.append(model(test_cats, test_conts))
    fold_scores.append(rmspe(oof[val_idx], y[val_idx]))
    print(f"fold {k}: stopped at epoch {epoch}, val mse {best:.5f}, RMSPE {fold_scores[-1]:.4f}")

oof_rmspe = rmspe(oof, y[:N])
test_rmspe = rmspe(torch.stack(test_preds).mean(0), test_y)
single_rmspe = rmspe(test_preds[0], test_y)
baseline_rmspe = rmspe(torch.full_like(test_y, y[:N].mean().item()), test_y)
store_emb = model.embeds[0].weight.detach()
sim = F.cosine_similarity(store_emb[:, None, :], store_emb[None, :, :], dim=-1)
sim_stats = [sim.diagonal().mean().item(), sim.fill_diagonal_(0).abs().max().item()]
print(f"OOF RMSPE {oof_rmspe:.4f}; test RMSPE ensemble {test_rmspe:.4f} single {single_rmspe:.4f}")
print(f"baseline RMSPE {baseline_rmspe:.4f}; embedding sizes {emb_sizes}")
